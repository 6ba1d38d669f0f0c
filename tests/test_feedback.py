"""Feedback packages, one-to-one (plan 七(二); 八(三)): own findings only, masked, traceable."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from xkaohe.io.plan_file import load_plan
from xkaohe.io.results import read_result
from xkaohe.report import feedback as fb
from xkaohe.results_spec import Result
from xkaohe.run.feedback_files import (
    DRAFT,
    HTML_NAME,
    MANIFEST,
    PACKAGE_FILES,
    README_NAME,
    REGISTER_NAME,
    XLSX_NAME,
    feedback_dir,
    feedback_html,
    read_manifest,
    read_mask_sources,
    write_feedback,
)

PLAN = load_plan(Path(__file__).parent.parent / "params" / "plan-2019.yaml")
ID_NUMBER = re.compile(r"\d{17}[\dXx]")
# a mobile number standing alone: 16-digit household ids and helper ids contain
# 11-digit runs starting with 1 that are registry codes, not phones
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*https?://""", re.I)

Written = tuple[Path, list[Path]]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    from xkaohe.run.stages import prepare_demo_run

    run = tmp_path_factory.mktemp("feedback") / "run"
    prepare_demo_run(run, field_lists=False)
    return run, write_feedback(run)


def sheets(path: Path) -> dict[str, pl.DataFrame]:
    """Every sheet of a workbook, all cells as text."""
    return pl.read_excel(path, sheet_id=0, infer_schema_length=0)


def package_ids(folder: Path) -> set[str]:
    """Problem ids in a package's problems workbook."""
    return {i for df in sheets(folder / XLSX_NAME).values() for i in df["问题编号"].to_list()}


def html_ids(folder: Path) -> set[str]:
    page = (folder / HTML_NAME).read_text(encoding="utf-8")
    return set(re.findall(r"<td>([A-Z][A-Z0-9-]*\d)</td>", page))


def texts(folder: Path) -> list[str]:
    """Every cell and header of both workbooks, the HTML and the README of one package."""
    out: list[str] = []
    for name in (XLSX_NAME, REGISTER_NAME):
        for df in sheets(folder / name).values():
            out += [str(c) for c in df.columns]
            out += [v for col in df.columns for v in df[col].drop_nulls()]
    out.append((folder / HTML_NAME).read_text(encoding="utf-8"))
    out.append((folder / README_NAME).read_text(encoding="utf-8-sig"))
    return out


def unmasked(folder: Path) -> list[str]:
    return [m for t in texts(folder) for m in ID_NUMBER.findall(t) + PHONE.findall(t)]


def manifest(run: Path) -> dict[str, dict[str, object]]:
    return read_manifest(run)


def expected_ids(findings: pl.DataFrame, kind: str, city: str, code: str) -> set[str]:
    ok = pl.col("confirmed") & pl.col("in_report") & (pl.col("city_name") == city)
    own = pl.col("county_code").is_null() if kind == "city" else pl.col("county_code") == code
    return set(findings.filter(ok & own)["problem_id"].to_list())


# ---------------------------------------------------------------- packages


def test_one_package_per_city_and_per_county(written: Written) -> None:
    run, folders = written
    counties = read_result(run, Result.COUNTIES)
    pkgs = manifest(run)
    assert len(folders) == counties.height + counties["city_name"].n_unique() == len(pkgs)
    for pid, info in pkgs.items():
        folder = run / str(info["folder"])
        assert {p.name for p in folder.iterdir() if p.is_file()} == set(PACKAGE_FILES)
        page = (folder / HTML_NAME).read_text(encoding="utf-8")
        head = re.search(r"<header class='pkg'>(.*?)</header>", page)
        foot = re.search(r"<footer class='pkg'>(.*?)</footer>", page)
        assert head and foot and pid in head.group(1) and pid in foot.group(1)
        assert str(info["recipient"]) in head.group(1)
        lines = (folder / README_NAME).read_text(encoding="utf-8-sig").strip().splitlines()
        assert pid in lines[0] and pid in lines[-1] and str(info["recipient"]) in lines[0]
    assert (feedback_dir(run) / DRAFT).is_file() and (feedback_dir(run) / MANIFEST).is_file()


def test_workbook_page_header_and_footer_carry_recipient_and_id(written: Written) -> None:
    import zipfile

    run, _ = written
    pid, info = next(iter(manifest(run).items()))
    folder = run / str(info["folder"])
    for name in (XLSX_NAME, REGISTER_NAME):
        with zipfile.ZipFile(folder / name) as z:
            sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
        assert sheet.count(pid) >= 2 and "oddHeader" in sheet and "oddFooter" in sheet


def test_each_package_holds_exactly_its_own_reported_findings(written: Written) -> None:
    run, _ = written
    findings = read_result(run, Result.FINDINGS)
    for pid, info in manifest(run).items():
        folder = run / str(info["folder"])
        want = expected_ids(findings, str(info["kind"]), str(info["city"]), str(info["code"]))
        assert package_ids(folder) == want == html_ids(folder) == set(info["problems"])  # type: ignore[arg-type]
        register = next(iter(sheets(folder / REGISTER_NAME).values()))
        assert set(register["问题编号"].to_list()) == want
        assert set(register["反馈包编号"].to_list()) <= {pid}


def test_no_package_holds_another_places_names_villages_or_households(written: Written) -> None:
    """The one-to-one test: open every package; nothing of any other place is in it."""
    run, _ = written
    counties = read_result(run, Result.COUNTIES)
    households = read_result(run, Result.HOUSEHOLDS).select("household_id", "county_code")
    _, villages = read_mask_sources(run)
    assert villages is not None
    village_of = villages.select("village_code", "county_code")
    for info in manifest(run).values():
        folder = run / str(info["folder"])
        text = "\n".join(texts(folder))
        city = str(info["city"])
        own = {str(info["code"])} if info["kind"] == "county" else set()
        mine = counties.filter(pl.col("county_code").is_in(list(own)))
        # a helped county's own findings may name its helper county (三(二) 县域结对帮扶)
        allowed = (
            mine["county_name"].to_list() + mine["paired_helper_county"].drop_nulls().to_list()
        )
        foreign_names = [
            n
            for n in counties.filter(~pl.col("county_code").is_in(list(own)))["county_name"]
            if not any(n in a for a in allowed)
        ]
        assert [n for n in foreign_names if n in text] == [], folder
        foreign_cities = [c for c in counties["city_name"].unique().to_list() if c != city]
        assert [c for c in foreign_cities if c in text] == [], folder
        codes = set(re.findall(r"\d{12,}", text))
        villages_here = village_of.filter(pl.col("village_code").is_in(list(codes)))
        assert set(villages_here["county_code"].to_list()) <= own, folder
        hh_here = households.filter(pl.col("household_id").is_in(list(codes)))
        assert set(hh_here["county_code"].to_list()) <= own, folder


def test_dismissed_pending_and_covered_findings_are_absent(written: Written) -> None:
    run, folders = written
    findings = read_result(run, Result.FINDINGS)
    left_out = findings.filter(~(pl.col("confirmed") & pl.col("in_report")))
    assert left_out.filter(pl.col("review_outcome") == "dismissed").height > 0
    shown = set().union(*(package_ids(f) | html_ids(f) for f in folders))
    assert not shown & set(left_out["problem_id"].to_list())


def test_no_internal_material_in_any_package(written: Written) -> None:
    _, folders = written
    for folder in folders:
        text = "\n".join(texts(folder))
        assert "考核报告完整性" not in text and "完整性" not in text


def test_a_finding_filed_under_another_citys_county_is_in_no_package(written: Written) -> None:
    run, _ = written
    findings = read_result(run, Result.FINDINGS)
    counties = read_result(run, Result.COUNTIES)
    row = findings.filter(pl.col("confirmed") & pl.col("county_code").is_not_null()).row(
        0, named=True
    )
    foreign = counties.filter(pl.col("city_name") != row["city_name"])["county_code"][0]
    moved = findings.with_columns(
        county_code=pl.when(pl.col("problem_id") == row["problem_id"])
        .then(pl.lit(foreign))
        .otherwise(pl.col("county_code"))
    )
    packages = fb.build_packages(moved, counties, PLAN, "run")
    shown = set().union(*(set(p.findings["problem_id"].to_list()) for p in packages))
    assert row["problem_id"] not in shown
    assert fb.misfiled_findings(moved, counties)["problem_id"].to_list() == [row["problem_id"]]
    assert fb.misfiled_findings(findings, counties).height == 0
    assert len(packages) == counties.height + counties["city_name"].n_unique()


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
    findings = read_result(run, Result.FINDINGS)
    target_row = findings.filter(
        pl.col("confirmed") & pl.col("in_report") & pl.col("county_code").is_not_null()
    ).row(0, named=True)
    target = target_row["problem_id"]
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
    mine = "\n".join(texts(next(f for f in folders if f.name == target_row["county_code"])))
    assert "340121**********4X" in mine and "340121**********4x" in mine
    assert "138****5678" in mine and "138-****-5678" in mine
    assert f"户主{person[0]}**" in mine
    assert f"户编号{HOUSEHOLD}" in mine  # registry codes stay


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


def test_html_has_items_review_outcomes_and_the_register(written: Written) -> None:
    _, folders = written
    pages = [(f / HTML_NAME).read_text(encoding="utf-8") for f in folders]
    page = next(p for p in pages if "经复核属实" in p)
    assert "意见建议" in page and "佐证材料" in page and "整改台账" in page
    assert any(f"C1 {PLAN.content.item('C1').label}" in p for p in pages)


def test_no_banner_when_not_synthetic(written: Written) -> None:
    run, _ = written
    packages = fb.build_packages(
        read_result(run, Result.FINDINGS), read_result(run, Result.COUNTIES), PLAN, "run"
    )
    page = feedback_html(packages[0], PLAN, None, synthetic=False, footer="")
    assert "演示数据" not in page and packages[0].package_id in page


def test_same_results_give_the_same_bytes(written: Written) -> None:
    run, folders = written
    before = {p: p.read_bytes() for f in folders for p in sorted(f.iterdir()) if p.is_file()}
    again = write_feedback(run)
    assert again == folders
    after = {p: p.read_bytes() for f in again for p in sorted(f.iterdir()) if p.is_file()}
    assert after == before


def test_all_is_honest() -> None:
    import xkaohe.run.feedback_files as files

    for module in (fb, files):
        assert all(hasattr(module, name) for name in module.__all__)
