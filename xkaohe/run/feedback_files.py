"""Feedback packages on disk: ``runs/<run>/feedback/<city>/`` (plan 七(二); DESIGN.md).

One folder per city of the run, each holding only that city's and its
counties' own findings, masked (what goes in and how it is masked:
:mod:`xkaohe.report.feedback`)::

    feedback/<city>/
      反馈问题清单.xlsx   a sheet for the city's own findings, one per county,
                          and the report-completeness sheet; Chinese headers
      反馈.html           the same, as one self-contained offline page (no
                          script, no external link), with the synthetic banner
      README.txt          what the package is, that it is confidential

The same results give the same bytes: the workbook's metadata date is fixed
(:mod:`xkaohe.io.xlsx`) and nothing carries a clock.
"""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError
from xkaohe.io.render import footer_html
from xkaohe.io.results import read_result, run_plan
from xkaohe.io.run import is_synthetic
from xkaohe.io.tables import read_table
from xkaohe.io.xlsx import Sheet, write_workbook
from xkaohe.plan import Plan
from xkaohe.report.feedback import (
    CityFeedback,
    NameMask,
    UnitFeedback,
    build_feedback,
    completeness_table,
    findings_table,
    protected_words,
)
from xkaohe.report.kit import synthetic_banner, table_html
from xkaohe.results_spec import Result

FEEDBACK = "feedback"
XLSX_NAME = "反馈问题清单.xlsx"
HTML_NAME = "反馈.html"
README_NAME = "README.txt"
_UNSAFE = str.maketrans(dict.fromkeys('/\\:*?"<>|', "_"))

_STYLE = (
    "body{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif;"
    "margin:24px;color:#222;line-height:1.5}"
    "h1{font-size:24px}h2{font-size:19px;margin-top:28px;border-bottom:2px solid #c9d3dd}"
    ".secret{border:2px solid #b00020;color:#b00020;padding:8px 12px;margin:12px 0;"
    "font-weight:bold}.note{color:#555;font-size:13px}.short{color:#b00020}"
    ".xk-table td{vertical-align:top}"
    "@media print{h2{page-break-before:always}h2.first{page-break-before:avoid}}"
)


def feedback_dir(run: Path) -> Path:
    """Where a run's feedback packages go."""
    return run / FEEDBACK


def city_dir(run: Path, city_name: str) -> Path:
    """The folder of one city's package (unsafe path characters replaced)."""
    return feedback_dir(run) / (city_name.translate(_UNSAFE) or "_")


# ------------------------------------------------------------------ inputs


def _optional_table(
    directory: Path, spec: schemas.TableSpec, columns: frozenset[str]
) -> pl.DataFrame | None:
    if not directory.is_dir():
        return None
    df, _, problems = read_table(directory, spec, required=False, only=columns)
    if problems:
        raise InputError(problems)
    return df


def read_mask_sources(run: Path) -> tuple[list[str], pl.DataFrame | None]:
    """The names the run knows (household heads, assessors) and its villages.

    Both come from the run's own ``frame/`` and ``roster/`` when present; a
    run without them masks numbers only.
    """
    names: list[str] = []
    households = _optional_table(run / "frame", schemas.HOUSEHOLDS, frozenset({"head_name"}))
    if households is not None:
        names += households["head_name"].drop_nulls().unique().to_list()
    assessors = _optional_table(run / "roster", schemas.ASSESSORS, frozenset({"name"}))
    if assessors is not None:
        names += assessors["name"].drop_nulls().unique().to_list()
    villages = _optional_table(
        run / "frame", schemas.VILLAGES, frozenset({"village_name", "township_name"})
    )
    if villages is not None:
        villages = villages.select("village_code", "village_name", "township_name")
    return names, villages


# ------------------------------------------------------------------ writers


def _unit_title(unit: UnitFeedback, plan: Plan) -> str:
    if unit.unit == "city":
        return f"{unit.name}（市级）"
    try:
        category = f"，{plan.category(unit.category).label}" if unit.category else ""
    except KeyError:
        category = ""
    return f"{unit.name}（{unit.code}{category}）"


def workbook_sheets(
    package: CityFeedback, plan: Plan, villages: pl.DataFrame | None
) -> list[Sheet]:
    """The workbook: the city's own findings, one sheet per county, then completeness."""
    head = f"{package.city_name}交叉考核发现问题反馈（内部资料 注意保密）"
    sheets = [
        Sheet(
            title=unit.name if unit.unit == "county" else f"{unit.name}（市级）",
            table=findings_table(unit.findings, plan, villages),
            heading=f"{head} — {_unit_title(unit, plan)}",
        )
        for unit in package.units
    ]
    sheets.append(
        Sheet(
            title="考核报告完整性",
            table=completeness_table(package),
            heading=f"{head} — 考核报告完整性",
            landscape=False,
        )
    )
    return sheets


def _unit_section(unit: UnitFeedback, plan: Plan, villages: pl.DataFrame | None) -> str:
    title = html.escape(_unit_title(unit, plan))
    shortfall = unit.shortfall
    done = (
        "<p>考核报告完整性：符合要求（典型经验和突出问题数量、意见建议齐全）。</p>"
        if shortfall is None
        else f"<p class='short'>考核报告完整性：{html.escape(shortfall)}。</p>"
    )
    if unit.completeness.height == 0:
        done = "<p class='note'>考核报告完整性：本次结果中无该单位的完整性记录。</p>"
    if unit.findings.height:
        table = findings_table(unit.findings, plan, villages)
        body = f"<p>经复核确认、列入考核报告的问题 {unit.findings.height} 个：</p>" + table_html(
            table, max_rows=table.height + 1
        )
    else:
        body = "<p>本单位无经复核确认、列入考核报告的问题。</p>"
    return f"<h2>{title}</h2>{done}{body}"


def feedback_html(
    package: CityFeedback,
    plan: Plan,
    villages: pl.DataFrame | None,
    synthetic: bool,
    footer: str,
) -> str:
    """The package as one offline HTML page in Chinese (no script, no external link)."""
    city = html.escape(package.city_name)
    title = f"{city}交叉考核发现问题反馈"
    secret = (
        f"<div class='secret'>内部资料　注意保密：本反馈由省扶贫办一对一反馈给{city}，"
        f"仅供{city}及所辖县（市、区）对照整改使用，不得转发其他单位，不得公开。"
        "问题描述、佐证材料和意见建议中的个人信息（姓名、身份证号码、手机号码）已作脱敏处理。</div>"
    )
    scope = (
        "<p class='note'>反馈范围：本市及所辖县（市、区）经复核属实（或无需复核）"
        "并列入考核报告的问题；"
        "复核不属实的问题、尚待复核的问题及已由考核组问题覆盖的系统线索不在其中。"
        "户编号、村代码、项目编号等登记编码保留，便于对照整改。</p>"
    )
    summary = "<h2 class='first'>概况</h2>" + table_html(completeness_table(package))
    sections = "".join(_unit_section(unit, plan, villages) for unit in package.units)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f"{synthetic_banner(synthetic)}<h1>{title}</h1>"
        f"<p>{html.escape(plan.title)}</p>{secret}{scope}{summary}{sections}"
        f"{footer}</body></html>\n"
    )


def readme_text(package: CityFeedback, run: Path, synthetic: bool) -> str:
    """README.txt: what the package is, what it holds, that it is confidential."""
    lines = [
        f"{package.city_name} 交叉考核发现问题反馈包",
        "",
        "【内部资料 注意保密】",
        f"本反馈包由省扶贫办根据市际交叉考核结果一对一反馈给{package.city_name}（考核方案七（二）），",
        f"仅供{package.city_name}及所辖县（市、区）对照整改使用。",
        "请勿转发其他单位，请勿公开或上传互联网。",
        "",
        "内容：",
        f"  {XLSX_NAME}  本市市级问题一张工作表，所辖每个县（市、区）一张工作表，",
        "                     另附考核报告完整性。",
        f"  {HTML_NAME}  同样内容的网页版，可离线打开，适合阅读和打印。",
        f"  {README_NAME}  本说明。",
        "",
        "范围：只含本市及所辖县（市、区）经复核属实（或无需复核）并列入考核报告的问题；",
        "      复核不属实、尚待复核的问题不在其中，不含其他市、县的任何问题。",
        "脱敏：身份证号码只保留前6位和后2位；手机号码只保留前3位和后4位；",
        "      已知的户主和考核人员姓名只保留姓氏。户编号、村代码、项目编号等登记编码保留。",
        "",
        f"问题数：{package.city.name}（市级）{package.city.findings.height} 个；"
        + "；".join(f"{u.name} {u.findings.height} 个" for u in package.counties)
        + "。",
        f"运行编号：{run.name}",
    ]
    if synthetic:
        lines += ["", "注意：本反馈包由合成的演示数据生成，不反映任何真实地区的情况。"]
    return "\n".join(lines) + "\n"


def write_city_package(
    out: Path,
    package: CityFeedback,
    plan: Plan,
    villages: pl.DataFrame | None,
    synthetic: bool,
    footer: str,
    run: Path,
) -> Path:
    """Write one city's package into ``out`` (created if missing); return ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    write_workbook(
        out / XLSX_NAME,
        workbook_sheets(package, plan, villages),
        title=f"{package.city_name}交叉考核发现问题反馈",
    )
    (out / HTML_NAME).write_text(
        feedback_html(package, plan, villages, synthetic, footer), encoding="utf-8"
    )
    # BOM and CRLF: opens cleanly in the Notepad of an older Windows intranet PC
    (out / README_NAME).write_text(
        readme_text(package, run, synthetic), encoding="utf-8-sig", newline="\r\n"
    )
    return out


def write_feedback(run: Path) -> list[Path]:
    """Write every city's feedback package of ``run``; return the city folders.

    Reads the results store (``findings``, ``counties``, ``completeness``),
    the plan the results were computed with, and the names to mask from the
    run's ``frame/`` and ``roster/``.

    Parameters
    ----------
    run
        The run folder.

    Returns
    -------
    list[Path]
        ``runs/<run>/feedback/<city>/``, one per city of the run's counties,
        in county-code order.

    Raises
    ------
    InputError
        When a results table or the plan is missing.
    """
    findings = read_result(run, Result.FINDINGS)
    counties = read_result(run, Result.COUNTIES)
    completeness = read_result(run, Result.COMPLETENESS)
    plan = run_plan(run)
    names, villages = read_mask_sources(run)
    keep = protected_words(plan, counties, *([] if villages is None else [villages]))
    mask = NameMask.build(names, keep)
    synthetic = is_synthetic(run)
    footer = footer_html(run)
    return [
        write_city_package(
            city_dir(run, package.city_name), package, plan, villages, synthetic, footer, run
        )
        for package in build_feedback(findings, counties, completeness, plan, mask)
    ]


__all__ = [
    "HTML_NAME",
    "README_NAME",
    "XLSX_NAME",
    "city_dir",
    "feedback_dir",
    "feedback_html",
    "read_mask_sources",
    "write_city_package",
    "write_feedback",
]
