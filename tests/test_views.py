"""The report views: shapers on one small synthetic run, and the three notebooks executed."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from xkaohe.errors import InputError
from xkaohe.io.plan_file import load_plan
from xkaohe.io.results import read_result
from xkaohe.report import figures, views

REPO = Path(__file__).resolve().parent.parent
PLAN = REPO / "params" / "plan-2019.yaml"
NOTEBOOKS = REPO / "notebooks"
STATUS_TEXT = {"未达标", "未发现超标", "达标", "不设标准", "无样本"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small synthetic run (frame, sample, field, truth, results), read-only."""
    from xkaohe.run.stages import prepare_demo_run

    out = tmp_path_factory.mktemp("views_run")
    prepare_demo_run(out, field_lists=False)
    return out


def _truth(run: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(run / "truth" / f"{name}.csv", infer_schema=False)


def _planted(run: Path, kind: str) -> str:
    """A county the synthesis planted ``kind`` in (truth/counties.csv)."""
    truth = _truth(run, "counties")
    return str(truth.filter(pl.col("planted").str.contains(kind))["county_code"][0])


# ------------------------------------------------------------------ county


def test_rate_table_has_one_row_per_rate_with_chinese_status(run: Path) -> None:
    cr = views.load_county_report(run, _planted(run, "wrong_exit"))
    table = views.rate_table(cr.rates, cr.plan)
    assert table["指标"].to_list() == ["错退率", "漏评率", "群众认可度", "错评率"]
    assert set(table["状态"]) <= STATUS_TEXT
    assert table["状态"][0] == "未达标"  # the planted wrong exits fail the 2% line
    assert table["状态"][3] == "不设标准"
    assert all(cell.endswith(("人", "户")) for cell in table["分母"])


def test_rate_rows_without_a_sample_say_so_and_never_zero() -> None:
    plan = load_plan(PLAN)
    row: dict[str, object] = {"county_code": "000001"}
    for rate in ("wrong_exit_rate", "omission_rate", "approval_rate", "wrong_inclusion_rate"):
        row |= {rate: None, f"{rate}_est": None, f"{rate}_low": None, f"{rate}_high": None}
        row |= {f"{rate}_n": None}
        if rate != "wrong_inclusion_rate":
            row[f"{rate}_status"] = None
    indicators = pl.DataFrame([row], schema_overrides={k: pl.Float64 for k in row if "_" in k})
    indicators = indicators.with_columns(pl.col("^.*_status$").cast(pl.String))
    table = views.rate_table(views.rate_rows(indicators, plan), plan)
    assert table["状态"].to_list() == ["无样本"] * 4
    assert set(table["抽样比率（官方口径）"]) == {"—"}


def test_completeness_box_is_red_with_the_shortfall_for_a_short_county(run: Path) -> None:
    short = _truth(run, "short_completeness").filter(pl.col("unit") == "county")
    cr = views.load_county_report(run, str(short["code"][0]))
    box = views.completeness_box(cr.completeness, cr.plan)
    assert "#c62828" in box and "报告要素不全" in box
    assert str(cr.completeness["shortfall"][0]) in box


def test_completeness_box_is_green_for_a_complete_county(run: Path) -> None:
    short = _truth(run, "short_completeness")["code"].to_list()
    ok = read_result(run, "completeness", unit="county").filter(
        pl.col("ok") & ~pl.col("code").is_in(short)
    )
    cr = views.load_county_report(run, str(ok["code"][0]))
    box = views.completeness_box(cr.completeness, cr.plan)
    assert "#2e7d32" in box and "报告要素齐全" in box and "不全" not in box


@pytest.mark.parametrize(
    ("row", "colour"),
    [
        pytest.param({"ok": True, "shortfall": None}, "#2e7d32", id="complete"),
        pytest.param({"ok": False, "shortfall": "典型经验2条，少于3条"}, "#c62828", id="short"),
    ],
)
def test_completeness_box_colour(row: dict[str, object], colour: str) -> None:
    counts = {"experiences": 2, "problems": 3, "problems_with_suggestion": 3}
    box = views.completeness_box(pl.DataFrame([counts | row]), load_plan(PLAN))
    assert colour in box
    if row["shortfall"]:
        assert str(row["shortfall"]) in box


def test_masked_household_lists_hold_no_full_names_or_phones(run: Path) -> None:
    raw = pl.read_csv(run / "sample" / "households.csv", infer_schema=False)
    names = set(raw["head_name"].drop_nulls())
    phones = set(raw["phone"].drop_nulls())
    cr = views.load_county_report(run, _planted(run, "wrong_exit"))
    listed = views.flagged_households(cr.households)
    assert listed.height > 0 and "错退" in listed["类别"].str.join("").item()
    pr = views.load_paired_report(run)
    beneficiaries = views.beneficiary_table(pr)
    assert beneficiaries.height > 0
    for table in (listed, beneficiaries):
        cells = {str(v) for col in table.columns for v in table[col].to_list()}
        assert not cells & names
        assert not any(phone in cell for cell in cells for phone in phones)
        assert all(v == "—" or v.endswith("*") for v in table["户主"])
    registered = listed.filter(pl.col("户类型") != "一般农户")
    assert all("****" in v for v in registered["联系电话"])


def test_problem_table_reports_only_findings_in_the_report(run: Path) -> None:
    cr = views.load_county_report(run, _planted(run, "omission"))
    table = views.problem_table(cr.findings, cr.plan, cr.village_names)
    assert table.height == cr.findings.filter(pl.col("in_report")).height
    assert set(table["性质"]) <= {"共性问题", "个性问题"}
    assert all(c[:1] == "C" for c in table["考核内容"])  # pairing items go to their own report
    assert "不属实" in views.problem_summary(cr.findings)


def test_category_focus_judges_the_exit_standard(run: Path) -> None:
    code = read_result(run, "counties").filter(pl.col("category") == "exit_2019")["county_code"]
    cr = views.load_county_report(run, str(code[0]))
    text = views.category_focus(cr)
    assert "贫困县退出标准" in text and "结论" in text
    assert views.focus_table(cr).height >= 2


def test_reject_table_shows_file_row_column_expected_found() -> None:
    rejects = pl.DataFrame(
        {
            "table": ["household_survey"],
            "file": ["household_survey.csv"],
            "row": [7],
            "column": ["income_per_capita_yuan [人均纯收入元]"],
            "expected": ["a number"],
            "found": ["'abc'"],
            "county_code": ["340121"],
        }
    )
    assert views.reject_table(rejects).row(0) == (
        "household_survey.csv",
        7,
        "income_per_capita_yuan [人均纯收入元]",
        "a number",
        "'abc'",
    )


def test_an_unknown_county_names_the_ones_there(run: Path) -> None:
    with pytest.raises(InputError, match=r"county_code.*340121.*'999999'"):
        views.load_county_report(run, "999999")


def test_the_figures_draw(run: Path) -> None:
    cr = views.load_county_report(run, "")
    assert len(figures.rate_intervals(cr.rates).data) >= 4
    assert len(figures.item_intervals(views.sorted_items(cr.items)).data) == 2


# ------------------------------------------------------------- pairing, city


def test_paired_view_lists_the_six_pairing_items(run: Path) -> None:
    pr = views.load_paired_report(run)
    overview = views.content_overview(pr.findings, pr.plan.content.pairing, with_text=True)
    assert overview["编号"].to_list() == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert pr.projects.height > 0 and set(pr.projects["level"]) == {"paired"}
    assert views.paired_interview_table(pr).height == 2


def test_a_county_without_a_helper_has_no_pairing_report(run: Path) -> None:
    counties = read_result(run, "counties")
    alone = counties.filter(pl.col("paired_helper_county").is_null())["county_code"][0]
    with pytest.raises(InputError, match="paired helper county"):
        views.load_paired_report(run, str(alone))


def test_city_table_has_one_row_per_county_of_the_city(run: Path) -> None:
    city = _truth(run, "counties").filter(pl.col("planted") != "clean")["city_name"][0]
    cr = views.load_city_report(run, city)
    expected = read_result(run, "counties", city_name=city).sort("county_code")
    table = views.city_county_table(cr)
    assert table["县（市、区）"].to_list() == expected["county_name"].to_list()
    assert views.city_rows_to_watch(table)  # a planted county fails a rate
    overview = views.content_overview(cr.findings, cr.plan.content.city)
    assert overview["编号"].to_list() == [f"M{i}" for i in range(1, 7)]
    assert views.completeness_table(cr.completeness).height == expected.height + 1
    assert len(figures.county_rates(cr.rates).data) >= 3


# -------------------------------------------------------------- notebooks


def _parameter(run: Path, report: str) -> dict[str, str]:
    """A real value for each report: a short county, a helped county, a planted city."""
    counties = read_result(run, "counties")
    if report == "county":
        short = _truth(run, "short_completeness").filter(pl.col("unit") == "county")
        return {"county_code": str(short["code"][0])}
    if report == "paired":
        helped = counties.filter(pl.col("paired_helper_county").is_not_null())
        return {"county_code": str(helped["county_code"][-1])}
    return {
        "city_name": str(
            _truth(run, "counties").filter(pl.col("planted") != "clean")["city_name"][0]
        )
    }


@pytest.mark.parametrize(
    ("notebook", "report", "text"),
    [
        pytest.param("county_report.ipynb", "county", "报告要素不全", id="county"),
        pytest.param("paired_report.ipynb", "paired", "结对合作项目", id="paired"),
        pytest.param("city_report.ipynb", "city", "指标比较", id="city"),
    ],
)
def test_the_report_notebooks_run(
    run: Path, tmp_path: Path, notebook: str, report: str, text: str
) -> None:
    import papermill as pm

    out = tmp_path / notebook
    pm.execute_notebook(
        str(NOTEBOOKS / notebook),
        str(out),
        parameters={**_parameter(run, report), "run_dir": str(run)},
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    page = out.read_text(encoding="utf-8")
    assert "演示数据" in page and text in page
    assert '"output_type": "error"' not in page
