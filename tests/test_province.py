"""The provincial report: shapers on one small synthetic run, and the notebook end to end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path

import polars as pl
import pytest

from xkaohe import codes
from xkaohe.io.results import read_result
from xkaohe.report import kit, province
from xkaohe.report.kit import Results

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
def prov(run: Path) -> Results:
    return kit.load_results(run)


# ------------------------------------------------------------------ loading


def test_loader_reads_the_whole_store_masked(prov: Results, run: Path) -> None:
    assert prov.counties.height == prov.plan.scope.counties
    assert prov.rates.height == 4 * prov.counties.height  # the rates in long form, once
    assert prov.as_of == prov.plan.timeline.field_end  # the demo's run date, in the field week
    assert prov.synthetic
    assert prov.teams is not None and prov.teams.height == prov.plan.teams.count
    assert prov.sample_households["head_name"].drop_nulls().str.contains(r"\*").all()
    order = prov.counties["city_order"].to_list()
    assert order == sorted(order)  # cities stay together, in the province's order
    stored = read_result(run, "county_verdicts").sort("county_code")
    mine = prov.counties.sort("county_code").select(stored.columns)
    assert mine.equals(stored)  # the verdicts are read, not redone


# ------------------------------------------------------------------ 1, 2 sample and rates


def test_sample_achieved_compares_plan_draw_and_survey(prov: Results) -> None:
    rows = {r["项目"]: r for r in province.sample_achieved(prov).iter_rows(named=True)}
    assert rows["县（市、区）"]["计划"] == str(prov.plan.scope.counties)
    assert rows["调查户合计"]["实际调查"] == prov.households.height
    relapsed = prov.sample_households.filter(pl.col("selected_as") == "relapsed").height
    assert rows[codes.SAMPLE_CATEGORY.label("relapsed")]["计划"] == f"全覆盖（{relapsed}户）"
    villages = sum(q.count for q in prov.plan.sampling.villages.quotas) * prov.counties.height
    assert rows["抽样村"]["计划"] == str(villages)  # the 2019 plan: one rule for every county


def test_status_counts_add_up_to_the_counties(prov: Results) -> None:
    counts = province.status_counts(prov)
    words = codes.RATE_STATUS_REFERENCE
    totals = counts.select(
        pl.sum_horizontal(words.label(c) for c in ("fail", "not_found", "pass", "no_data"))
    )
    assert totals.to_series().to_list() == [prov.counties.height] * counts.height


def test_forest_figure_draws_every_county_in_order(prov: Results) -> None:
    fig = province.rate_figure(prov, "wrong_exit_rate")
    cities, counties = fig.data[0].y  # the first trace fixes the row order
    expected = province.judged(prov).filter(pl.col("rate") == "wrong_exit_rate")
    assert list(counties) == expected["county_name"].to_list()
    assert len(cities) == prov.counties.height
    assert list(fig.data[1].x) == expected["ratio"].to_list()  # read, not redone
    with pytest.raises(KeyError, match="wrong_inclusion_rate"):
        province.rate_figure(prov, "wrong_inclusion_rate")  # no threshold, no forest


# ------------------------------------------------------------------ 3 exit standard


def test_exit_table_has_exactly_the_exit_standard_counties(prov: Results) -> None:
    rows = province.exit_rows(prov)
    expected = prov.counties.filter(pl.col("scope") == "exit_standard")["county_code"]
    assert sorted(rows["county_code"]) == sorted(expected) and rows.height > 0
    table = province.exit_table(rows, prov)
    assert table.height == rows.height
    verdicts = [codes.verdict_label(v, "exit_standard") for v in rows["verdict"]]
    assert table["结论"].to_list() == verdicts
    text = province.exit_sentences(rows, prov)
    assert all(f"<b>{name}</b>" in text for name in rows["county_name"])


@pytest.mark.parametrize(
    ("verdicts", "scope", "text"),
    [
        pytest.param(
            ["not_found"] * 3, "exit_standard", "3个县未发现超标（样本不足以确认达标）", id="exit"
        ),
        pytest.param(
            ["fail", "pass"], None, "1个县有指标超出参考线，1个县各项指标优于参考线", id="reference"
        ),
    ],
)
def test_verdict_counts_text(verdicts: list[str], scope: str | None, text: str) -> None:
    assert province.verdict_counts_text(pl.Series(verdicts), scope) == text


def test_key_points_never_call_a_reference_county_failing(prov: Results) -> None:
    text = province.key_points(prov)
    failing = prov.counties.filter((pl.col("verdict") == "fail") & (pl.col("scope") == "reference"))
    assert failing.height and all(name in text for name in failing["county_name"])
    assert "需重点整改" not in text
    assert codes.VERDICT_REFERENCE.label("fail") in text


# ------------------------------------------------------------------ 4, 5 summaries


def test_categories_and_cities_cover_every_county(prov: Results) -> None:
    cats = province.category_rows(prov)
    assert cats["category"].to_list() == [c.code for c in prov.plan.county_categories]
    for cat in prov.plan.county_categories:
        counted = cats.filter(pl.col("category") == cat.code)["counties"].item()
        assert counted == prov.counties.filter(kit.of_type(cat)).height
    cities = province.city_rows(prov)
    assert cities["counties"].sum() == prov.counties.height
    assert cities["city_name"].n_unique() == cities.height == prov.counties["city_name"].n_unique()
    reported = prov.findings.filter(pl.col("in_report"))
    assert cities["problems"].sum() == reported.height
    assert sum(cities[k].sum() for k in codes.VERDICT.order) == prov.counties.height
    failing = cities.filter(pl.col("fail") > 0)
    assert failing.height and failing["failed"].null_count() == 0  # failing counties are named
    by_item = province.category_items(prov)
    assert by_item["考核内容"].str.contains(r"^[CMP]\d ").all()


# ------------------------------------------------------------------ 6 items


def test_problem_counts_by_item_add_up_to_the_findings_in_report(prov: Results) -> None:
    counts = province.item_counts(prov)
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


# ------------------------------------------------------------------ 7, 8, 9


def test_cross_checks_pairing_and_experiences(prov: Results) -> None:
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


# ------------------------------------------------------------------ 10 what the sample tells


def test_what_the_sample_can_tell_is_read_from_the_store(prov: Results) -> None:
    limits = province.sample_limits(prov)
    wrong_exit = limits.row(0, named=True)
    assert wrong_exit["rate"] == "wrong_exit_rate"
    assert wrong_exit["households"] == 32  # 4 villages x (4 + 4) exited households
    assert math.isclose(wrong_exit["one_found"], 1 / 32)  # one wrong exit shows a breach
    assert wrong_exit["one_found"] > wrong_exit["threshold"] == 0.02
    assert wrong_exit["zero_bound"] > wrong_exit["threshold"]  # an all-clear cannot prove a pass
    stored = prov.rates.filter(pl.col("rate") == "wrong_exit_rate")["detect"]
    assert wrong_exit["detect_median"] == stored.median()
    assert wrong_exit["threshold"] < wrong_exit["detect_low"] <= wrong_exit["detect_high"] < 1
    approval = limits.filter(pl.col("rate") == "approval_rate").row(0, named=True)
    assert approval["one_found"] < 1 and approval["detect_high"] < approval["threshold"]
    text = province.limits_text(prov)
    assert kit.percent(wrong_exit["zero_bound"]) in text
    assert province.detection_table(prov)["结论"][0] == "能发现超标，不能确认达标"


def test_widest_intervals_are_widest_first(prov: Results) -> None:
    widest = province.widest_intervals(prov, top=5)
    assert widest.height == 5
    widths = [float(w.rstrip("%")) for w in widest["区间宽度"]]
    assert widths == sorted(widths, reverse=True)


# ------------------------------------------------------------------ 11, 12


def test_deadlines_judged_from_the_stored_review_states(prov: Results) -> None:
    d = province.deadlines(prov)
    f = prov.findings
    overdue = f.filter((pl.col("review_state") == "overdue") & (pl.col("source") == "team"))
    assert d.team_overdue == overdue.height
    proposed = f.filter((pl.col("review_state") == "proposed") & pl.col("in_report"))
    assert d.system_proposed == proposed.height
    table = province.deadline_table(d)
    left = (d.provincial_report_by - d.as_of).days
    assert table["判断"][1].startswith(f"未到截止日（还有{left}天）")
    late = province.deadline_table(dataclasses.replace(d, as_of=dt.date(2019, 12, 22)))
    assert late["判断"].to_list() == ["已逾期21天", "已逾期2天"]
    clean = dataclasses.replace(d, team_overdue=0, system_proposed=0, incomplete_reports=0)
    assert province.deadline_table(clean)["判断"][0] == "按期完成"


def test_rejects_counted_by_table(prov: Results) -> None:
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
