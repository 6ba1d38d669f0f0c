"""The provincial report: shapers on one small synthetic run, and the notebook end to end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path

import polars as pl
import pytest

from xkaohe.analyse.estimate import clopper_pearson
from xkaohe.io.results import read_result
from xkaohe.report import province
from xkaohe.report.province import Province
from xkaohe.results_spec import Result

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK = NOTEBOOKS / "provincial_report.ipynb"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small synthetic run for this module, read-only."""
    from xkaohe.run.stages import prepare_demo_run

    out = tmp_path_factory.mktemp("province")
    prepare_demo_run(out, field_lists=False)
    return out


@pytest.fixture(scope="module")
def prov(run: Path) -> Province:
    return province.load_province(run)


def _rates(p: Province) -> list[str]:
    return [name for name, _, _ in province.judged_rates(p.plan)]


# ------------------------------------------------------------------ loading


def test_loader_reads_the_whole_store_without_personal_data(prov: Province) -> None:
    assert prov.counties.height == prov.indicators.height == prov.plan.scope.counties
    assert prov.as_of == prov.plan.timeline.field_end  # the demo's run date, in the field week
    assert prov.synthetic
    assert prov.teams is not None and prov.teams.height == prov.plan.teams.count
    assert not {"head_name", "phone", "head_id_number"} & set(prov.sample_households.columns)
    order = prov.counties["city_order"].to_list()
    assert order == sorted(order)  # cities stay together, in the province's order


# -------------------------------------------------------------- 1 the sample


def test_sample_achieved_compares_plan_draw_and_survey(prov: Province) -> None:
    table = province.sample_achieved(prov)
    rows = {r["项目"]: r for r in table.iter_rows(named=True)}
    assert rows["县（市、区）"]["计划"] == str(prov.plan.scope.counties)
    assert rows["调查户合计"]["实际调查"] == prov.households.height
    assert rows["返贫户（全覆盖）"]["计划"] == "全覆盖"


# --------------------------------------------------------------- 2 the rates


def test_forest_data_has_one_row_per_county(prov: Province) -> None:
    for rate in _rates(prov):
        rows = province.forest_rows(prov, rate)
        assert rows.height == prov.counties.height
        assert rows["county_code"].n_unique() == rows.height
        assert set(rows["status"]) <= {"fail", "not_found", "pass", "no_data"}
        indicators = prov.indicators.select("county_code", pl.col(rate).alias("from_store"))
        joined = rows.join(indicators, on="county_code")
        assert (
            joined.filter(pl.col("ratio") != pl.col("from_store")).height == 0
        )  # read, not redone


def test_forest_figure_draws_every_county_in_order(prov: Province) -> None:
    fig = province.rate_figure(prov, "wrong_exit_rate")
    cities, counties = fig.data[0].y  # the first trace fixes the row order
    assert list(counties) == province.forest_rows(prov, "wrong_exit_rate")["county_name"].to_list()
    assert len(cities) == prov.counties.height
    with pytest.raises(KeyError, match="wrong_inclusion_rate"):
        province.rate_figure(prov, "wrong_inclusion_rate")  # no threshold, no forest


def test_status_counts_add_up_to_the_counties(prov: Province) -> None:
    counts = province.status_counts(prov)
    totals = counts.select(pl.sum_horizontal("未达标", "未发现超标", "达标", "无样本"))
    assert totals.to_series().to_list() == [prov.counties.height] * counts.height


# ------------------------------------------------------ 3 exit_2019 counties


def test_exit_table_has_exactly_the_exit_2019_counties(prov: Province) -> None:
    rows = province.exit_rows(prov)
    expected = prov.counties.filter(pl.col("category") == "exit_2019")["county_code"]
    assert sorted(rows["county_code"]) == sorted(expected)
    assert province.exit_table(rows, prov.plan).height == rows.height
    text = province.exit_sentences(rows, prov.plan)
    assert all(f"<b>{name}</b>" in text for name in rows["county_name"])


def test_county_verdicts_are_the_stored_ones(prov: Province) -> None:
    # The rule itself is tested in tests/test_verdicts.py; the report only reads it.
    stored = read_result(prov.run, Result.COUNTY_VERDICTS).select("county_code", "verdict")
    shown = province.county_verdicts(prov).select("county_code", "verdict")
    assert shown.sort("county_code").equals(stored.sort("county_code"))


@pytest.mark.parametrize(
    ("verdicts", "text"),
    [
        pytest.param(
            ["not_found"] * 3,
            "3个县未发现超标（样本不足以确认达标）；没有指标未达标或能确认达标的县",
            id="all-not-found",
        ),
        pytest.param(
            ["fail", "pass"], "1个县有指标未达标，1个县确认达标；没有未发现超标的县", id="mixed"
        ),
    ],
)
def test_verdict_counts_text(verdicts: list[str], text: str) -> None:
    assert province.verdict_counts_text(pl.Series(verdicts)) == text


# ------------------------------------------------------------ 4, 5 summaries


def test_categories_and_cities_cover_every_county(prov: Province) -> None:
    cats = province.category_rows(prov)
    assert cats["category"].to_list() == [c.code for c in prov.plan.county_categories]
    flags = [c.code for c in prov.plan.county_categories if c.flag]  # 深度贫困县, beside
    assert cats.filter(~pl.col("category").is_in(flags))["counties"].sum() == prov.counties.height
    for flag in flags:
        flagged = cats.filter(pl.col("category") == flag)["counties"].item()
        assert flagged == prov.counties[flag].sum() > 0
    cities = province.city_rows(prov)
    assert cities["counties"].sum() == prov.counties.height
    assert cities["city_name"].n_unique() == cities.height == prov.counties["city_name"].n_unique()
    reported = prov.findings.filter(pl.col("in_report"))
    assert cities["problems"].sum() == reported.height
    failing = cities.filter(pl.col("fail") > 0)
    assert failing["failed"].null_count() == 0  # failing counties are named
    by_item = province.category_items(prov)
    county_rows = reported.filter(pl.col("county_code").is_not_null()).height
    assert by_item["合计"].sum() == county_rows


# ------------------------------------------------------------- 6 the items


def test_problem_counts_by_item_add_up_to_the_findings_in_report(prov: Province) -> None:
    counts = province.item_counts(prov.findings, prov.plan)
    content = prov.plan.content
    assert counts["code"].to_list() == [
        it.code for it in (*content.county, *content.city, *content.pairing)
    ]
    in_report = prov.findings.filter(pl.col("in_report")).height
    assert counts["in_report"].sum() == in_report
    assert counts["raised"].sum() == prov.findings.height
    assert (counts["confirmed"] + counts["awaiting"]).to_list() == counts["in_report"].to_list()
    assert (counts["systemic"] + counts["case"]).to_list() == counts["in_report"].to_list()
    total = province.item_table(counts).filter(pl.col("层级") == "合计")
    assert total["列入报告"].item() == in_report


# -------------------------------------------------- 7, 8, 9 checks, pairing


def test_cross_checks_pairing_and_experiences(prov: Province) -> None:
    checks = province.cross_check_table(prov)
    assert checks.height == 4
    assert (checks["不一致"] <= checks["核查数"]).all()
    helped = prov.counties.filter(
        pl.col("national_poverty_county") & pl.col("paired_helper_county").is_not_null()
    )
    assert province.pairing_rows(prov).height == helped.height
    chosen = province.experience_selection(prov, per_city=2)
    assert chosen.group_by("市").len()["len"].max() == 2
    assert chosen["市"].n_unique() == prov.experiences["city_name"].n_unique()


# ------------------------------------------------- 10 what the sample tells


def test_detectable_rate_of_the_plan_sample(prov: Province) -> None:
    limits = province.detection_limits(prov.plan)
    wrong_exit = limits.limit("wrong_exit_rate")
    assert wrong_exit.households == 32 and wrong_exit.villages == 4  # 4 villages x (4 + 4)
    assert 0.0 < wrong_exit.bound < 1.0
    assert wrong_exit.bound > wrong_exit.threshold == 0.02  # cannot prove a pass at 2%
    assert wrong_exit.one_found > wrong_exit.threshold  # one wrong exit shows a fail
    approval = limits.limit("approval_rate")
    assert 0.0 < approval.bound < 1.0
    # Clopper-Pearson: 0 of n is below 2% at 95% once 1 - 0.025**(1/n) < 0.02, i.e.
    # n > ln(0.025) / ln(0.98) = 182.6 (Clopper & Pearson 1934).
    assert limits.srs_households_to_prove == math.ceil(math.log(0.025) / math.log(0.98)) == 183
    _, high = clopper_pearson(0, limits.srs_households_to_prove)
    assert float(high) < 0.02
    assert limits.design_households_to_prove is not None
    assert limits.design_households_to_prove > limits.srs_households_to_prove
    assert math.isclose(limits.miss_at_threshold, 0.98**32)
    assert "24." in province.limits_text(limits, prov)


def test_widest_intervals_are_widest_first(prov: Province) -> None:
    widest = province.widest_intervals(prov, top=5)
    assert widest.height == 5
    widths = [float(w.rstrip("%")) for w in widest["区间宽度"]]
    assert widths == sorted(widths, reverse=True)


# ----------------------------------------------------- 11, 12 deadlines


def test_deadlines_judged_from_the_manifest_date(prov: Province) -> None:
    d = province.deadlines(prov)
    assert d.team_overdue == prov.findings.filter(pl.col("review_state") == "overdue").height
    assert d.system_overdue == prov.findings.filter(
        (pl.col("review_state") == "proposed") & pl.col("in_report")
    ).height
    table = province.deadline_table(d)
    left = (prov.plan.timeline.provincial_report_by - prov.as_of).days
    assert table["判断"][1].startswith(f"未到截止日（还有{left}天）")
    late = province.deadline_table(dataclasses.replace(d, as_of=dt.date(2019, 12, 22)))
    assert late["判断"].to_list() == ["已逾期21天", "已逾期2天"]
    clean = dataclasses.replace(d, team_overdue=0, system_overdue=0, incomplete_reports=0)
    assert province.deadline_table(clean)["判断"][0] == "按期完成"


def test_rejects_counted_by_table(prov: Province) -> None:
    assert "没有被退回" in province.rejects_html(prov)  # the demo's returns are clean
    rejects = pl.DataFrame(
        {
            "table": ["household_survey", "household_survey", "problems"],
            "file": ["household_survey.csv", "household_survey.csv", "problems.csv"],
            "row": [5, 5, 9],
            "column": ["approval", "income_per_capita_yuan", "content_item"],
            "expected": ["x", "y", "z"],
            "found": ["a", "b", "c"],
            "county_code": ["340121", "340121", None],
        }
    )
    counts = province.reject_counts(dataclasses.replace(prov, rejects=rejects))
    assert counts.rows() == [
        ("household_survey", "household_survey.csv", 1, 2, 1),
        ("problems", "problems.csv", 1, 1, 0),
    ]


# ------------------------------------------------------------------ notebook


def test_notebook_is_thin_parameterised_and_without_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    params = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1
    assert "".join(params[0]["source"]).startswith('run_dir: str = ""  # ')
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None
        text = "".join(cell["source"])
        assert not any(w in text for w in ("def ", "class ", "for ", "while "))


def test_notebook_runs_against_the_run(run: Path, tmp_path: Path) -> None:
    import papermill

    out = tmp_path / "provincial_report.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"run_dir": str(run)},
        kernel_name="python3",
        cwd=str(NOTEBOOKS),
        progress_bar=False,
    )
    nb = json.loads(out.read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    shown = json.dumps(outputs, ensure_ascii=False)
    assert "演示数据" in shown and "拟摘帽县" in shown
