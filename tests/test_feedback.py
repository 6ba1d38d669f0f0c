"""Feedback packages (plan 七(二); DOMAIN.md 八): own findings only, masked, reproducible."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from xkaohe.io.plan_file import load_plan
from xkaohe.io.results import read_result
from xkaohe.report import feedback as fb
from xkaohe.run.feedback_files import (
    HTML_NAME,
    README_NAME,
    XLSX_NAME,
    feedback_dir,
    feedback_html,
    read_mask_sources,
    write_feedback,
)

PLAN = load_plan(Path(__file__).parent.parent / "params" / "plan-2019.yaml")
ID_NUMBER = re.compile(r"\d{17}[\dXx]")
# a mobile number standing alone: 16-digit household ids and helper ids contain
# 11-digit runs starting with 1 that are registry codes, not phones
PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*https?://""", re.I)
COMPLETENESS_SHEET = "考核报告完整性"

Written = tuple[Path, list[Path]]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    from xkaohe.run.stages import prepare_demo_run

    run = tmp_path_factory.mktemp("feedback") / "run"
    prepare_demo_run(run, field_lists=False)
    return run, write_feedback(run)


def sheets(folder: Path) -> dict[str, pl.DataFrame]:
    """Every sheet of a package's workbook, all cells as text."""
    return pl.read_excel(folder / XLSX_NAME, sheet_id=0, infer_schema_length=0)


def finding_ids(folder: Path) -> dict[str, set[str]]:
    """Problem ids per findings sheet of a package's workbook."""
    return {
        name: set(df["问题编号"].to_list())
        for name, df in sheets(folder).items()
        if name != COMPLETENESS_SHEET
    }


def html_ids(folder: Path) -> set[str]:
    page = (folder / HTML_NAME).read_text(encoding="utf-8")
    return set(re.findall(r"<td>([A-Z][A-Z0-9-]*\d)</td>", page))


def texts(folder: Path) -> list[str]:
    """Every cell of every sheet, the HTML and the README of a package."""
    out = [v for df in sheets(folder).values() for col in df.columns for v in df[col].drop_nulls()]
    out += [str(c) for df in sheets(folder).values() for c in df.columns]
    out.append((folder / HTML_NAME).read_text(encoding="utf-8"))
    out.append((folder / README_NAME).read_text(encoding="utf-8-sig"))
    return out


def unmasked(folder: Path) -> list[str]:
    return [m for t in texts(folder) for m in ID_NUMBER.findall(t) + PHONE.findall(t)]


def expected_ids(findings: pl.DataFrame, counties: pl.DataFrame, city: str) -> set[str]:
    mine = counties.filter(pl.col("city_name") == city)["county_code"].implode()
    return set(
        findings.filter(
            (pl.col("city_name") == city)
            & pl.col("confirmed")
            & pl.col("in_report")
            & (pl.col("county_code").is_null() | pl.col("county_code").is_in(mine))
        )["problem_id"].to_list()
    )


# ---------------------------------------------------------------- packages


def test_every_city_gets_a_folder_with_a_sheet_per_county(written: Written) -> None:
    run, folders = written
    counties = read_result(run, "counties")
    cities = counties["city_name"].unique().to_list()
    assert sorted(p.name for p in folders) == sorted(cities)
    assert all(p.parent == feedback_dir(run) for p in folders)
    for folder in folders:
        assert {p.name for p in folder.iterdir()} == {XLSX_NAME, HTML_NAME, README_NAME}
        names = counties.filter(pl.col("city_name") == folder.name)["county_name"].to_list()
        assert list(sheets(folder)) == [f"{folder.name}（市级）", *names, COMPLETENESS_SHEET]
        readme = (folder / README_NAME).read_text(encoding="utf-8-sig")
        assert "注意保密" in readme and folder.name in readme


def test_each_package_holds_exactly_its_own_reported_findings(written: Written) -> None:
    run, folders = written
    findings = read_result(run, "findings")
    counties = read_result(run, "counties")
    owner = dict(findings.select("problem_id", "city_name").iter_rows())
    county_of = dict(findings.select("problem_id", "county_code").iter_rows())
    name_of = dict(counties.select("county_code", "county_name").iter_rows())
    for folder in folders:
        city = folder.name
        per_sheet = finding_ids(folder)
        found = set().union(*per_sheet.values())
        assert found == expected_ids(findings, counties, city)
        assert html_ids(folder) == found
        assert {owner[i] for i in found} <= {city}
        for sheet, ids in per_sheet.items():  # each county's findings on its own sheet
            assert {name_of.get(county_of[i] or "", f"{city}（市级）") for i in ids} <= {sheet}
        others = set(findings.filter(pl.col("city_name") != city)["problem_id"].to_list())
        assert not others & (found | html_ids(folder))


def test_dismissed_pending_and_covered_findings_are_absent(written: Written) -> None:
    run, folders = written
    findings = read_result(run, "findings")
    left_out = findings.filter(~(pl.col("confirmed") & pl.col("in_report")))
    assert left_out.filter(pl.col("review_outcome") == "dismissed").height > 0
    assert left_out.filter(pl.col("covered_by").is_not_null()).height > 0
    shown = set().union(*(html_ids(f) for f in folders))
    shown |= {i for f in folders for ids in finding_ids(f).values() for i in ids}
    assert not shown & set(left_out["problem_id"].to_list())


def test_a_finding_filed_under_another_citys_county_is_in_no_package(written: Written) -> None:
    run, _ = written
    findings = read_result(run, "findings")
    counties = read_result(run, "counties")
    completeness = read_result(run, "completeness")
    row = findings.filter(pl.col("confirmed") & pl.col("county_code").is_not_null()).row(
        0, named=True
    )
    foreign = counties.filter(pl.col("city_name") != row["city_name"])["county_code"][0]
    moved = findings.with_columns(
        county_code=pl.when(pl.col("problem_id") == row["problem_id"])
        .then(pl.lit(foreign))
        .otherwise(pl.col("county_code"))
    )
    packages = fb.build_feedback(moved, counties, completeness, PLAN)
    shown = set().union(*(set(p.findings["problem_id"].to_list()) for p in packages))
    assert row["problem_id"] not in shown
    for city in (
        row["city_name"],
        counties.filter(pl.col("county_code") == foreign)["city_name"][0],
    ):
        assert row["problem_id"] not in fb.city_findings(moved, counties, city, PLAN)["problem_id"]
    assert fb.misfiled_findings(moved, counties)["problem_id"].to_list() == [row["problem_id"]]
    assert fb.misfiled_findings(findings, counties).height == 0
    assert len(packages) == counties["city_name"].n_unique()


# ----------------------------------------------------------------- masking


def test_no_unmasked_id_or_phone_in_any_package(written: Written) -> None:
    _, folders = written
    assert [(f.name, m) for f in folders for m in unmasked(f)] == []


PLANTED_ID, PLANTED_PHONE, HOUSEHOLD = "34012119630917894X", "13812345678", "3401210010010001"


def test_planted_personal_data_is_masked_in_every_file(written: Written, tmp_path: Path) -> None:
    source, _ = written
    run = tmp_path / "run"
    shutil.copytree(source, run, ignore=shutil.ignore_patterns("feedback"))
    names, _ = read_mask_sources(run)
    person = sorted(n for n in names if len(n) == 3)[0]
    findings = read_result(run, "findings")
    target = findings.filter(pl.col("confirmed") & pl.col("in_report"))["problem_id"][0]
    city = findings.filter(pl.col("problem_id") == target)["city_name"][0]
    planted = {
        "description": f"户主{person}，身份证{PLANTED_ID}，电话{PLANTED_PHONE}",
        "evidence": f"户编号{HOUSEHOLD}；联系电话 +86 138-1234-5678；{PLANTED_ID.lower()}",
        "suggestion": f"请联系{person}（{PLANTED_PHONE}）",
    }
    findings.with_columns(
        pl.when(pl.col("problem_id") == target).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
        for c, v in planted.items()
    ).write_parquet(run / "results" / "findings.parquet")
    folders = write_feedback(run)
    assert [(f.name, m) for f in folders for m in unmasked(f)] == []
    everything = "\n".join(t for f in folders for t in texts(f))
    for raw in (PLANTED_ID, PLANTED_ID.lower(), PLANTED_PHONE, "138-1234-5678", person):
        assert raw not in everything
    mine = "\n".join(texts(next(f for f in folders if f.name == city)))
    assert "340121**********4X" in mine and "340121**********4x" in mine
    assert "138****5678" in mine and "138-****-5678" in mine
    assert f"户主{person[0]}**" in mine
    assert f"户编号{HOUSEHOLD}" in mine  # registry codes stay


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("身份证34012119630917894X。", "身份证340121**********4X。", id="id-X"),
        pytest.param("340121196309178943", "340121**********43", id="id-digits"),
        pytest.param("电话13812345678", "电话138****5678", id="phone"),
        pytest.param("13812345678,13912345678", "138****5678,139****5678", id="two-phones"),
        pytest.param("+8613812345678", "+86138****5678", id="phone-86"),
        pytest.param("138 1234 5678", "138 **** 5678", id="phone-spaced"),
        pytest.param("户3401210010010001", "户3401210010010001", id="household-id-kept"),
        pytest.param("H340121001001001", "H340121001001001", id="helper-id-kept"),
        pytest.param("村340121001001", "村340121001001", id="village-code-kept"),
        pytest.param("资金94500元", "资金94500元", id="amount-kept"),
    ],
)
def test_mask_text(text: str, expected: str) -> None:
    out = pl.DataFrame({"t": [text, None]}).select(fb.mask_text(pl.col("t")))["t"]
    assert out.to_list() == [expected, None]


def test_name_mask_keeps_surnames_and_spares_place_names() -> None:
    mask = fb.NameMask.build(
        ["张三", "张三丰", "黄山", "刘林", "王", None], keep=["黄山市", "刘林村"]
    )
    text = pl.DataFrame({"t": ["张三丰和张三在黄山市刘林村见到黄山和刘林；王"]})
    out = text.select(mask.apply(pl.col("t"))).item()
    assert out == "张**和张*在黄山市刘林村见到黄*和刘*；王"
    spared = fb.NameMask.build(["张三"], keep=["张三"])
    assert pl.DataFrame({"t": ["张三"]}).select(spared.apply(pl.col("t"))).item() == "张三"
    assert text.select(fb.NameMask().apply(pl.col("t"))).equals(text)


def test_every_text_column_is_masked_and_names_only_in_free_text() -> None:
    df = pl.DataFrame(
        {
            "team_id": [PLANTED_PHONE],
            "village_code": [PLANTED_ID],
            "city_name": ["黄山市"],
            "description": ["黄山说"],
            "raised_date": [None],
        }
    )
    out = fb.mask_findings(df, fb.NameMask.build(["黄山"])).row(0, named=True)
    assert out["team_id"] == "138****5678"
    assert out["village_code"] == "340121**********4X"
    assert out["city_name"] == "黄山市"  # names are masked only in the free text
    assert out["description"] == "黄*说"


# ------------------------------------------------------------ html, bytes


def test_html_is_offline_chinese_and_marked_synthetic(written: Written) -> None:
    run, folders = written
    for folder in folders:
        page = (folder / HTML_NAME).read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
        assert not EXTERNAL.search(page)
        assert "<script" not in page.lower() and "<link" not in page.lower()
        assert "演示数据" in page and "注意保密" in page
        assert f"运行编号：{run.name}" in page


def test_html_has_items_review_outcomes_and_shortfalls(written: Written) -> None:
    run, folders = written
    short = read_result(run, "completeness").filter(pl.col("shortfall").is_not_null())
    assert short.height > 0
    for unit in short.iter_rows(named=True):
        page = (feedback_dir(run) / unit["city_name"] / HTML_NAME).read_text(encoding="utf-8")
        assert unit["shortfall"] in page
    page = (folders[0] / HTML_NAME).read_text(encoding="utf-8")
    assert "经复核属实" in page and "意见建议" in page and "佐证材料" in page
    assert f"C1 {PLAN.content.item('C1').label}" in page


def test_no_banner_when_not_synthetic(written: Written) -> None:
    run, _ = written
    packages = fb.build_feedback(
        read_result(run, "findings"),
        read_result(run, "counties"),
        read_result(run, "completeness"),
        PLAN,
    )
    page = feedback_html(packages[0], PLAN, None, synthetic=False, footer="")
    assert "演示数据" not in page and packages[0].city_name in page


def test_same_results_give_the_same_bytes(written: Written) -> None:
    run, folders = written
    before = {p: p.read_bytes() for f in folders for p in sorted(f.iterdir())}
    again = write_feedback(run)
    assert again == folders
    assert {p: p.read_bytes() for f in again for p in sorted(f.iterdir())} == before


def test_all_is_honest() -> None:
    import xkaohe.run.feedback_files as files

    for module in (fb, files):
        assert all(hasattr(module, name) for name in module.__all__)
