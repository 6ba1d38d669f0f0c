"""Feedback packages on disk, one-to-one (plan 七(二), 八(三); DESIGN.md "Results store").

Layout (what goes in and how it is masked: :mod:`xkaohe.report.feedback`)::

    feedback/
      DRAFT.txt                    every package is a draft until its release is recorded
      packages.json                the office's manifest: package id, recipient, folder
      releases.jsonl               the release record (xkaohe release-feedback)
      <city>/                      the city's own package (city-level problems only)
        反馈问题清单.xlsx           the problems, Chinese headers
        整改台账.xlsx               the rectification register to fill in and return
        反馈.html                   the same as one offline page (no script, no link)
        README.txt                  what the package is, that it is confidential
        <county_code>/             one county's package, the same four files

Folder names pass :func:`xkaohe.io.paths.safe_name`. Every file carries its
recipient and package id in its header and footer. ``DRAFT.txt``,
``packages.json`` and ``releases.jsonl`` are the office's and belong to no
package. The same results give the same bytes: no clock in any file.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.io.files import read_json, write_json, write_text
from xkaohe.io.paths import inside, run_relative, safe_name
from xkaohe.io.render import footer_html
from xkaohe.io.results import read_result, run_plan
from xkaohe.io.run import is_synthetic
from xkaohe.io.tables import read_table
from xkaohe.io.xlsx import Sheet, write_workbook
from xkaohe.plan import Plan
from xkaohe.privacy import KnownNames
from xkaohe.report.feedback import (
    Package,
    build_packages,
    findings_table,
    protected_words,
    register_template,
)
from xkaohe.report.kit import synthetic_banner, table_html
from xkaohe.results_spec import Result

FEEDBACK = "feedback"
XLSX_NAME = "反馈问题清单.xlsx"
REGISTER_NAME = "整改台账.xlsx"
HTML_NAME = "反馈.html"
README_NAME = "README.txt"
PACKAGE_FILES = (XLSX_NAME, REGISTER_NAME, HTML_NAME, README_NAME)
MANIFEST = "packages.json"
DRAFT = "DRAFT.txt"
REGISTER_SHEET = "整改台账"

_STYLE = (
    "body{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif;"
    "margin:24px;color:#222;line-height:1.5}"
    "h1{font-size:24px}h2{font-size:19px;margin-top:28px;border-bottom:2px solid #c9d3dd}"
    ".secret{border:2px solid #b00020;color:#b00020;padding:8px 12px;margin:12px 0;"
    "font-weight:bold}.note{color:#555;font-size:13px}.pkg{color:#555;font-size:13px}"
    ".xk-table td{vertical-align:top}"
)


def feedback_dir(run: Path) -> Path:
    """Where a run's feedback packages go."""
    return run / FEEDBACK


def city_dir(run: Path, city_name: str) -> Path:
    """The folder of a city's package (and its counties' packages below it)."""
    return inside(run, feedback_dir(run) / safe_name(city_name))


def county_dir(run: Path, city_name: str, county_code: str) -> Path:
    return inside(run, city_dir(run, city_name) / safe_name(county_code))


def package_dir(run: Path, package: Package) -> Path:
    if package.kind == "city":
        return city_dir(run, package.city_name)
    return county_dir(run, package.city_name, package.code)


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
        run / "frame", schemas.VILLAGES, frozenset({"village_name", "township_name", "county_code"})
    )
    if villages is not None:
        villages = villages.select("village_code", "village_name", "township_name", "county_code")
    return names, villages


# ------------------------------------------------------------------ writers


def _title(package: Package, plan: Plan) -> str:
    if package.kind == "city" or not package.category:
        return package.recipient
    try:
        return f"{package.recipient}，{plan.category(package.category).label}"
    except KeyError:
        return package.recipient


def _mark(package: Package) -> str:
    """Recipient and package id, as every file's header and footer print them."""
    return f"反馈对象：{package.recipient}　反馈包编号：{package.package_id}"


def workbook_sheets(package: Package, plan: Plan, villages: pl.DataFrame | None) -> list[Sheet]:
    """The problems workbook: one sheet of the recipient's own problems."""
    return [
        Sheet(
            title="反馈问题",
            table=findings_table(package.findings, plan, villages),
            heading=f"交叉考核发现问题反馈（内部资料 注意保密） {_mark(package)}",
            footer=_mark(package),
        )
    ]


def register_sheets(package: Package) -> list[Sheet]:
    """The rectification register template (整改台账) to fill in and return."""
    return [
        Sheet(
            title=REGISTER_SHEET,
            table=register_template(package),
            heading=f"整改台账 {_mark(package)}",
            footer=_mark(package),
        )
    ]


def feedback_html(
    package: Package, plan: Plan, villages: pl.DataFrame | None, synthetic: bool, footer: str
) -> str:
    """The package as one offline HTML page in Chinese (no script, no external link)."""
    who = html.escape(package.recipient)
    mark = html.escape(_mark(package))
    title = f"{html.escape(package.name)}交叉考核发现问题反馈"
    secret = (
        f"<div class='secret'>内部资料　注意保密：本反馈由省扶贫办一对一反馈给{who}，"
        f"仅供{who}对照整改使用，不得转发其他单位，不得公开。"
        "问题描述、佐证材料和意见建议中的个人信息（姓名、身份证号码、手机号码）已作脱敏处理。</div>"
    )
    level = "市本级" if package.kind == "city" else "本县（市、区）"
    scope = (
        f"<p class='note'>反馈范围：{level}经复核属实（或无需复核）并列入考核报告的问题，"
        "不含其他市、县的任何问题。户编号、村代码、项目编号等登记编码保留，便于对照整改。"
        f"请对每个问题填写附带的《{REGISTER_NAME.removesuffix('.xlsx')}》（整改措施、责任单位、"
        "完成时限、整改状态、整改佐证材料）并按要求报送省扶贫办。</p>"
    )
    if package.findings.height:
        table = findings_table(package.findings, plan, villages)
        body = f"<p>经复核确认、列入考核报告的问题 {package.findings.height} 个：</p>" + table_html(
            table, max_rows=table.height + 1
        )
    else:
        body = "<p>本次交叉考核未向本单位反馈经复核确认的问题。</p>"
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f"<header class='pkg'>{mark}</header>"
        f"{synthetic_banner(synthetic)}<h1>{title}</h1>"
        f"<p>{html.escape(plan.title)}　{html.escape(_title(package, plan))}</p>"
        f"{secret}{scope}<h2>反馈问题</h2>{body}"
        f"<footer class='pkg'>{mark}</footer>{footer}</body></html>\n"
    )


def readme_text(package: Package, run: Path, synthetic: bool) -> str:
    """README.txt: what the package is, what it holds, that it is confidential."""
    mark = _mark(package)
    lines = [
        mark,
        "",
        f"{package.recipient} 交叉考核发现问题反馈包",
        "",
        "【内部资料 注意保密】",
        f"本反馈包由省扶贫办根据市际交叉考核结果一对一反馈给{package.recipient}（考核方案七（二）），",
        "仅供本单位对照整改使用。请勿转发其他单位，请勿公开或上传互联网。",
        "本反馈包以省扶贫办发布记录为准；未记录发布的为草稿，不得对外提供。",
        "",
        "内容：",
        f"  {XLSX_NAME}  本单位经复核确认的问题。",
        f"  {REGISTER_NAME}  整改台账：逐项填写整改措施、责任单位、完成时限（年-月-日）、",
        "                   整改状态和整改佐证材料后报送省扶贫办；请勿改动前四列。",
        f"  {HTML_NAME}  问题清单的网页版，可离线打开，适合阅读和打印。",
        f"  {README_NAME}  本说明。",
        "",
        "脱敏：身份证号码只保留前6位和后2位；手机号码只保留前3位和后4位；",
        "      已知的户主和考核人员姓名只保留姓氏。户编号、村代码、项目编号等登记编码保留。",
        "",
        f"问题数：{package.findings.height} 个。",
        f"运行编号：{run.name}",
    ]
    if synthetic:
        lines += ["", "注意：本反馈包由合成的演示数据生成，不反映任何真实地区的情况。"]
    lines += ["", mark]
    return "\n".join(lines) + "\n"


def write_package(
    out: Path,
    package: Package,
    plan: Plan,
    villages: pl.DataFrame | None,
    synthetic: bool,
    footer: str,
    run: Path,
) -> Path:
    """Write one package's four files into ``out`` (created if missing); return ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    write_workbook(out / XLSX_NAME, workbook_sheets(package, plan, villages), title=_mark(package))
    write_workbook(out / REGISTER_NAME, register_sheets(package), title=_mark(package))
    write_text(out / HTML_NAME, feedback_html(package, plan, villages, synthetic, footer))
    # BOM and CRLF: opens cleanly in the Notepad of an older Windows intranet PC
    write_text(out / README_NAME, readme_text(package, run, synthetic), "utf-8-sig", newline="\r\n")
    return out


def _draft_text() -> str:
    return (
        "本目录下的反馈包均为草稿，由省扶贫办内部核对使用。\r\n"
        "按考核方案八（三），实地核查期间不得向被考核市、县反馈考核结果；\r\n"
        "某市的反馈包只有在实地核查结束、该市全部考核组报告经组长和副组长签字后，\r\n"
        "由 xkaohe release-feedback 记录发布（releases.jsonl）后方可送达。\r\n"
        "packages.json、releases.jsonl 和本文件为省扶贫办内部材料，不随反馈包送出。\r\n"
    )


def write_feedback(run: Path) -> list[Path]:
    """Write every package of ``run`` (drafts) and the manifest; return the package folders.

    Reads the results store (``findings``, ``counties``), the plan the
    results were computed with, and the names to mask from the run's
    ``frame/`` and ``roster/``.

    Returns
    -------
    list[Path]
        One folder per city and per county, cities in county-code order,
        each city's folder before its counties'.
    """
    findings = read_result(run, Result.FINDINGS)
    counties = read_result(run, Result.COUNTIES)
    plan = run_plan(run)
    names, villages = read_mask_sources(run)
    keep = protected_words(plan, counties, *([] if villages is None else [villages]))
    known = KnownNames.build(names, keep)
    synthetic = is_synthetic(run)
    footer = footer_html(run)
    packages = build_packages(findings, counties, plan, run.name, known)
    written: list[Path] = []
    manifest: dict[str, Any] = {}
    for package in packages:
        own = None
        if villages is not None and package.kind == "county":
            own = villages.filter(pl.col("county_code") == package.code)
        elif villages is not None:
            own = villages.head(0)  # a city package names no village
        folder = write_package(
            package_dir(run, package), package, plan, own, synthetic, footer, run
        )
        written.append(folder)
        manifest[package.package_id] = {
            "kind": package.kind,
            "city": package.city_name,
            "code": package.code,
            "recipient": package.recipient,
            "folder": run_relative(run, folder),
            "problems": package.findings["problem_id"].to_list(),
        }
    write_json(feedback_dir(run) / MANIFEST, manifest)
    write_text(feedback_dir(run) / DRAFT, _draft_text(), "utf-8-sig")
    return written


def read_manifest(run: Path) -> dict[str, dict[str, Any]]:
    """``feedback/packages.json``: package id -> kind, city, code, recipient, folder, problems."""
    path = feedback_dir(run) / MANIFEST
    if not path.exists():
        raise InputError(
            Problem(str(path), None, None, "the feedback manifest (run the feedback stage)", "none")
        )
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(Problem(str(path), None, None, "a JSON object", type(data).__name__))
    return {str(k): dict(v) for k, v in data.items()}


def package_folders(run: Path) -> dict[str, list[str]]:
    """City -> the ids of its packages (the city's own first), from the manifest."""
    if not (feedback_dir(run) / MANIFEST).exists():
        return {}
    out: dict[str, list[str]] = {}
    for pid, info in read_manifest(run).items():
        out.setdefault(str(info["city"]), []).append(pid)
    return out


__all__ = [
    "DRAFT",
    "HTML_NAME",
    "MANIFEST",
    "PACKAGE_FILES",
    "README_NAME",
    "REGISTER_NAME",
    "REGISTER_SHEET",
    "XLSX_NAME",
    "city_dir",
    "county_dir",
    "feedback_dir",
    "feedback_html",
    "package_dir",
    "package_folders",
    "read_manifest",
    "read_mask_sources",
    "write_feedback",
    "write_package",
]
