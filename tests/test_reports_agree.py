"""Every report shows the same verdict, review state and label for the same county and problem.

The small demo is rendered in a temporary folder — one city's reports (the
city, its counties), the provincial report, the index and the feedback
packages — and the HTML is parsed: a county's stored verdict must read the
same, in its scope's wording, wherever it appears, and a problem fed back to
a county must carry the review state, content item and scope its county
report gives it. A county whose thresholds are only a reference line is
never called 未达标 (plan 八(二)).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import polars as pl
import pytest
from htmlkit import table_with, text

from xkaohe import codes
from xkaohe.io.paths import report_stem
from xkaohe.io.results import read_result
from xkaohe.results_spec import Result
from xkaohe.run.batch import Job, run_jobs
from xkaohe.run.feedback_files import county_dir, write_feedback
from xkaohe.run.stages import prepare_demo_run, refresh_index, render_reports


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo with one city's reports, the provincial report, the index and feedback."""
    run = tmp_path_factory.mktemp("agree") / "run"
    prepare_demo_run(run, field_lists=False)
    counties = read_result(run, Result.COUNTIES).join(
        read_result(run, Result.COUNTY_VERDICTS), on="county_code"
    )
    cities = (
        counties.group_by("city_name")
        .agg(
            fail=(pl.col("verdict") == "fail").any(),
            exit_standard=(pl.col("scope") == "exit_standard").any(),
            n=pl.len(),
        )
        .sort(
            "fail", "exit_standard", pl.col("n"), "city_name", descending=[True, True, False, False]
        )
    )
    city = str(cities["city_name"][0])
    results = render_reports(run, workers=2, timeout=600, only=city, progress=False)
    provincial = Job("provincial_report.ipynb", "provincial", "全省交叉考核总报告", {}, "全省")
    results += run_jobs([provincial], run, workers=1, timeout=600, progress=False)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    refresh_index(run)
    write_feedback(run)
    return run, city


def _counties(run: Path, city: str) -> pl.DataFrame:
    return (
        read_result(run, Result.COUNTIES, city_name=city)
        .join(read_result(run, Result.COUNTY_VERDICTS), on="county_code")
        .sort("county_code")
    )


def test_a_countys_verdict_reads_the_same_in_every_report(rendered: tuple[Path, str]) -> None:
    run, city = rendered
    reports = run / "reports"
    counties = _counties(run, city)
    assert counties.filter(pl.col("verdict") == "fail").height > 0
    city_page = reports / f"{report_stem('city', city)}.html"
    city_rows = {r["县（市、区）"]: r for r in table_with(city_page, "县（市、区）", "结论")}
    index = (reports / "index.html").read_text(encoding="utf-8")
    provincial = text(reports / "provincial.html")
    exit_table = table_with(reports / "provincial.html", "县（市、区）", "结论")
    exit_rows = {r["县（市、区）"]: r for r in exit_table}
    for c in counties.iter_rows(named=True):
        verdict, scope, name = c["verdict"], c["scope"], c["county_name"]
        long, short = codes.verdict_label(verdict, scope), codes.verdict_label(verdict, scope, True)
        page = (reports / f"{report_stem('county', c['county_code'])}.html").read_text("utf-8")
        assert f'data-verdict="{verdict}"' in page and long in html.unescape(page)
        assert city_rows[name]["结论"] == short
        row = re.search(rf">{re.escape(name)}</a>.*?</tr>", index, re.S)
        assert row and long in html.unescape(row.group(0)), name
        if scope == "exit_standard":
            assert exit_rows[name]["结论"] == long
        if verdict == "fail":
            assert name in provincial
        if scope != "exit_standard":
            shown = [city_rows[name][k] for k in city_rows[name] if k != "县（市、区）"]
            assert not any("未达标" in v for v in shown), name
            verdict_line = re.search(r'class="xk-verdict".*?</p>', page, re.S)
            assert verdict_line and "未达标" not in html.unescape(verdict_line.group(0))


def test_a_problem_reads_the_same_in_its_county_report_and_feedback(
    rendered: tuple[Path, str],
) -> None:
    run, city = rendered
    compared = 0
    for c in _counties(run, city).iter_rows(named=True):
        code = c["county_code"]
        shown = {}
        for kind in ("county", "paired"):  # pairing items are in the pairing report
            report = run / "reports" / f"{report_stem(kind, code)}.html"
            if report.exists():
                shown |= {r["编号"]: r for r in table_with(report, "编号", "复核")}
        fed = table_with(county_dir(run, city, code) / "反馈.html", "问题编号", "复核情况")
        for row in fed:
            mine = shown[row["问题编号"]]  # everything fed back is in the county's reports
            assert row["复核情况"] == mine["复核"]
            assert row["考核内容"] == mine["考核内容"]
            assert row["问题性质"] == mine["性质"]
            assert mine["来源"].startswith(row["问题来源"])
            assert mine["层级"].startswith(row["问题层级"])
            compared += 1
    assert compared > 0
    states = {codes.REVIEW_STATE.label(s) for s in codes.REVIEW_STATE.order}
    for c in _counties(run, city)["county_code"]:
        report = run / "reports" / f"{report_stem('county', c)}.html"
        assert {r["复核"].split("（")[0] for r in table_with(report, "编号", "复核")} <= states


def test_a_contradicted_claim_reads_the_same_in_the_comparison_and_the_county_report(
    rendered: tuple[Path, str],
) -> None:
    run, city = rendered
    reports = run / "reports"
    stem = report_stem("compare", city)
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f'<a href="{stem}.html">比对核查：陈述与考核核实情况</a>' in index
    compare_rows = table_with(reports / f"{stem}.html", "核实结果", "不符的户或项目（出处）")
    checks = read_result(run, Result.CLAIM_CHECKS).filter(
        (pl.col("city_name") == city) & (pl.col("verdict") == "contradicted")
    )
    assert checks.height > 0
    contradicted = [r for r in compare_rows if r["核实结果"] == "不符"]
    assert len(contradicted) == checks.height
    county_claims = checks.filter(pl.col("county_code").is_not_null())
    for code, references in county_claims.select("county_code", "references").iter_rows():
        county_rows = table_with(
            reports / f"{report_stem('county', code)}.html", "核实结果", "不符的户或项目（出处）"
        )
        shown = {r["不符的户或项目（出处）"] for r in county_rows}
        assert references in shown and references in {
            r["不符的户或项目（出处）"] for r in contradicted
        }
