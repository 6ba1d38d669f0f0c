"""The county, pairing, city and sample report modules on one small run, and their notebooks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

from xkaohe import codes
from xkaohe.errors import InputError
from xkaohe.io.plan_file import load_plan
from xkaohe.io.results import read_result
from xkaohe.report import city, compare, county, county_sample, kit, paired, province

REPO = Path(__file__).resolve().parent.parent
PLAN = REPO / "params" / "plan-2019.yaml"
NOTEBOOKS = REPO / "notebooks"


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


# ------------------------------------------------------------------ the kit


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(0.0246, "2.5%", id="one-decimal"),
        pytest.param(0.02, "2%", id="whole"),
        pytest.param(0.9, "90%", id="ninety"),
        pytest.param(None, "—", id="missing"),
    ],
)
def test_one_precision_rule_for_shares(value: float | None, text: str) -> None:
    assert kit.percent(value) == text


def test_intervals_and_tables() -> None:
    assert kit.interval(0.01, 0.06) == "1%—6%"
    assert kit.interval(None, 0.06) == "—"
    assert kit.standard_text("max", 0.02) == "≤2%" and kit.standard_text(None, None) == "不设标准"
    html = kit.table_html(pl.DataFrame({"甲": ["<b>"]}), highlight=[0])
    assert "&lt;b&gt;" in html and "xk-hl" in html
    assert kit.table_html(pl.DataFrame({"甲": []}), empty="没有。") == "<p>没有。</p>"


def test_rate_rows_without_a_sample_say_so_and_never_zero() -> None:
    plan = load_plan(PLAN)
    row: dict[str, object] = {"county_code": "000001"}
    for rate in ("wrong_exit_rate", "omission_rate", "approval_rate", "wrong_inclusion_rate"):
        row |= {rate: None, f"{rate}_est": None, f"{rate}_low": None, f"{rate}_high": None}
        row |= {f"{rate}_n": None}
        if rate != "wrong_inclusion_rate":
            row[f"{rate}_status"] = None
    floats = {k: pl.Float64 for k in row if k != "county_code"}
    indicators = pl.DataFrame([row], schema_overrides=floats)
    indicators = indicators.with_columns(pl.col("^.*_status$").cast(pl.String))
    counties = pl.DataFrame({"county_code": ["000001"], "scope": ["exit_standard"]})
    rates = kit.rate_rows(indicators, counties, plan)
    assert rates["status"].to_list() == ["no_data"] * 4
    table = county.rate_table(rates, plan)
    assert table["状态"].to_list() == ["无样本"] * 4
    assert set(table["抽样比率（官方口径）"]) == {"—"}


# ------------------------------------------------------------------ county


def test_rate_table_reads_the_stored_statuses_in_the_countys_wording(run: Path) -> None:
    r = kit.load_results(run, county_code=_planted(run, "wrong_exit"))
    table = county.rate_table(r.rates, r.plan)
    assert table["指标"].to_list() == ["错退率", "漏评率", "群众认可度", "错评率"]
    stored = read_result(run, "county_indicators", county_code=r.county["county_code"])
    assert stored["wrong_exit_rate_status"].item() == "fail"  # the planted wrong exits
    words = codes.status_set(r.county["scope"])
    assert table["状态"][0] == words.label("fail")
    assert table["状态"][3] == "不设标准"
    assert all(cell.endswith(("人", "户")) for cell in table["分母"])
    assert r.county["verdict"] == "fail"
    heading = county.county_heading(r)
    assert 'data-verdict="fail"' in heading
    assert codes.verdict_label("fail", r.county["scope"]) in heading


def test_a_reference_county_is_never_called_failing_on_rates_alone(run: Path) -> None:
    stored = read_result(run, "county_verdicts")
    failing = stored.filter((pl.col("verdict") == "fail") & (pl.col("scope") == "reference"))
    assert failing.height > 0
    r = kit.load_results(run, county_code=str(failing["county_code"][0]))
    shown = county.category_focus(r) + county.status_note(r) + county.county_heading(r)
    shown += " ".join(county.rate_table(r.rates, r.plan)["状态"].to_list())
    assert "未达标" not in shown and "需重点整改" not in shown
    assert "超出参考线" in shown


def test_completeness_box_is_red_with_the_shortfall_for_a_short_county(run: Path) -> None:
    short = _truth(run, "short_completeness").filter(pl.col("unit") == "county")
    r = kit.load_results(run, county_code=str(short["code"][0]))
    box = county.completeness_box(r.completeness, r.plan)
    assert "#c62828" in box and "报告要素不全" in box
    assert str(r.completeness["shortfall"][0]) in box


@pytest.mark.parametrize(
    ("row", "colour"),
    [
        pytest.param({"ok": True, "shortfall": None}, "#2e7d32", id="complete"),
        pytest.param({"ok": False, "shortfall": "典型经验2条，少于3条"}, "#c62828", id="short"),
    ],
)
def test_completeness_box_colour(row: dict[str, object], colour: str) -> None:
    counts = {"experiences": 2, "problems": 3, "problems_with_suggestion": 3}
    box = county.completeness_box(pl.DataFrame([counts | row]), load_plan(PLAN))
    assert colour in box
    if row["shortfall"]:
        assert str(row["shortfall"]) in box


def test_masked_lists_hold_no_full_names_or_phones(run: Path) -> None:
    raw = pl.read_csv(run / "sample" / "households.csv", infer_schema=False)
    names = {n for n in raw["head_name"].drop_nulls() if len(n) >= 2}
    phones = set(raw["phone"].drop_nulls())
    r = kit.load_results(run, county_code=_planted(run, "wrong_exit"))
    listed = county.flagged_households(r.households)
    assert listed.height > 0 and "错退" in listed["类别"].str.join("").item()
    pr = paired.load_paired(run)
    beneficiaries = paired.beneficiary_table(pr)
    cs = kit.load_county_sample(run, r.county["county_code"])
    sampled = county_sample.household_table(cs)
    assert beneficiaries.height > 0 and sampled.height > 0
    for table in (listed, beneficiaries, sampled):
        cells = {str(v) for col in table.columns for v in table[col].to_list()}
        assert not cells & names
        assert not any(phone in cell for cell in cells for phone in phones)
        assert all(v == "—" or "*" in v for v in table["户主"])
    registered = listed.filter(pl.col("户类型") != "一般农户")
    assert all("****" in v for v in registered["联系电话"])


def test_problem_table_reports_only_findings_in_the_report(run: Path) -> None:
    r = kit.load_results(run, county_code=_planted(run, "omission"))
    findings = county.county_findings(r)
    table = county.problem_table(findings, r.plan, r.village_names)
    assert table.height == findings.filter(pl.col("in_report")).height
    assert set(table["性质"]) <= set(codes.FINDING_SCOPE.labels().values())
    assert all(c[:1] == "C" for c in table["考核内容"])  # pairing items go to their own report
    states = {codes.REVIEW_STATE.label(s) for s in codes.REVIEW_STATE.order}
    assert all(v.split("（")[0] in states for v in table["复核"])
    assert "不属实" in county.problem_summary(findings)


def test_category_focus_judges_the_exit_standard(run: Path) -> None:
    code = read_result(run, "county_verdicts").filter(pl.col("scope") == "exit_standard")
    r = kit.load_results(run, county_code=str(code["county_code"][0]))
    text = county.category_focus(r)
    assert "贫困县退出标准" in text and 'class="xk-verdict"' in text
    assert county.focus_table(r).height >= 2


def _county_with(run: Path, flag: str) -> str:
    """The first county of a category (or with the ``deep_poverty`` flag)."""
    counties = read_result(run, "counties")
    hit = counties.filter(
        pl.col("deep_poverty") if flag == "deep_poverty" else pl.col("category") == flag
    )
    return str(hit["county_code"].sort()[0])


def test_category_focus_shows_the_deep_poverty_facts_with_claim_evidence_and_verdict(
    run: Path,
) -> None:
    r = kit.load_results(run, county_code=_county_with(run, "deep_poverty"))
    table = county.focus_table(r)
    rows = {p: (said, found, verdict) for p, said, found, verdict in table.rows()}
    focus = r.county_focus.row(0, named=True)
    said, found, verdict = rows["年度减贫进度"]
    assert f"年度减贫目标{focus['target_persons']:.0f}人" in said
    assert f"本年度脱贫{focus['achieved_persons']}人" in found
    assert verdict in ("完成年度减贫目标", "未完成年度减贫目标")
    assert rows["能否如期完成"][2] == codes.REDUCTION_PACE.label(focus["on_time"])
    for item in ("funds_invested", "projects_done", "villages_exited", "reduction_achieved"):
        said, found, verdict = rows[codes.CLAIM_ITEM.label(item)]
        assert "县脱贫攻坚年度工作总结" in said and verdict in ("一致", "不符"), item
    assert "（项目库）" in rows[codes.CLAIM_ITEM.label("projects_done")][1]


def test_category_focus_of_an_exited_county_shows_the_four_keeps_not_a_proxy(run: Path) -> None:
    planted = _truth(run, "claims").filter(pl.col("planted") == "keep_help")
    code = str(planted["county_code"].item())
    r = kit.load_results(run, county_code=code)
    assert "exited" in [t.code for t in kit.county_types(r.plan, r.county)]
    rows = {p: (said, found, verdict) for p, said, found, verdict in county.focus_table(r).rows()}
    keeps = [codes.CLAIM_ITEM.label(i) for i in county.FOUR_KEEPS]
    assert all(k in rows for k in keeps)
    said, found, verdict = rows[codes.CLAIM_ITEM.label("keep_help")]
    assert said.startswith("是（") and verdict == "不符"
    for household in planted["contradicting"].item().split(";"):
        assert f"（{household}）" in found  # the household's file and row
    assert rows[codes.CLAIM_ITEM.label("keep_supervision")][2].startswith("无法核实")
    assert not any("知晓帮扶责任人" in p for p in rows)  # the old stand-in is gone


def test_category_focus_says_no_data_without_documents(run: Path) -> None:
    r = kit.load_results(run, county_code=_county_with(run, "exited"))
    bare = dataclasses.replace(
        r, claim_checks=r.claim_checks.clear(), county_focus=r.county_focus.clear()
    )
    table = county.focus_table(bare)
    keeps = table.filter(
        pl.col("考察要点").is_in([codes.CLAIM_ITEM.label(i) for i in county.FOUR_KEEPS])
    )
    assert keeps.height == 4 and (keeps["陈述（资料）"] == county.NO_DATA).all()
    assert (keeps["核实结果"] == county.NO_DATA).all()


def test_cross_check_section_reads_claim_checks_like_the_comparison(run: Path) -> None:
    planted = _truth(run, "claims").filter(pl.col("planted") == "county")
    code = str(planted["county_code"].item())
    r = kit.load_results(run, county_code=code)
    c = compare.load_comparison(run, code)
    text = county.cross_check_summary(r, c)
    n = c.checks.height
    bad = c.checks.filter(pl.col("verdict") == "contradicted").height
    assert f"陈述共{n}项" in text and f"不符{bad}项" in text
    assert "知晓本户帮扶责任人" in text
    assert compare.summary(c).select(pl.exclude("层级")).sum_horizontal().sum() == n
    table = compare.claim_table(c, verdict="contradicted")
    assert planted["claim_id"].item() in set(
        c.checks.filter(pl.col("verdict") == "contradicted")["claim_id"]
    )
    assert table.height == bad and table["不符的户或项目（出处）"].str.contains("第").all()


def test_provincial_category_focus_summarises_the_stored_facts(run: Path) -> None:
    r = kit.load_results(run)
    text = province.category_focus(r)
    planted = _truth(run, "claims").filter(pl.col("planted") == "keep_help")
    name = r.county_name(str(planted["county_code"].item()))
    assert f"（不符：{name}）" in text  # 摘帽不摘帮扶 contradicted in that county
    assert text.count("资料中的县级数字") == len(r.plan.county_categories)
    at_risk = r.county_focus.filter(pl.col("on_time") == "at_risk").join(
        r.counties.filter(pl.col("deep_poverty")), on="county_code"
    )
    assert f"{codes.REDUCTION_PACE.label('at_risk')}的{at_risk.height}个县" in text


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
    assert county.reject_table(rejects).row(0) == (
        "household_survey.csv",
        7,
        "income_per_capita_yuan [人均纯收入元]",
        "a number",
        "'abc'",
    )


def test_an_unknown_county_or_city_names_the_ones_there(run: Path) -> None:
    with pytest.raises(InputError, match=r"county_code.*340121.*'999999'"):
        kit.load_results(run, county_code="999999")
    with pytest.raises(InputError, match=r"city_name.*'火星市'"):
        kit.load_results(run, city="火星市")


def test_the_figures_draw_from_the_stored_statuses(run: Path) -> None:
    r = kit.load_results(run, county_code=_planted(run, "wrong_exit"))
    fig = county.rates_figure(r)
    fail_colour = codes.RATE_STATUS.colour("fail")
    assert fail_colour in fig.data[0].marker.color  # the first rate's estimate, coloured by status
    assert len(county.items_figure(r).data) >= 2


# ------------------------------------------------------------------ pairing, city, sample


def test_paired_view_lists_the_six_pairing_items(run: Path) -> None:
    pr = paired.load_paired(run)
    overview = county.content_overview(
        paired.pairing_findings(pr), pr.plan.content.pairing, with_text=True
    )
    assert overview["编号"].to_list() == ["P1", "P2", "P3", "P4", "P5", "P6"]
    projects, _ = paired.paired_projects(pr)
    assert projects.height > 0 and set(projects["level"]) == {"paired"}
    assert paired.interview_table(pr).height == 2


def test_a_county_without_a_helper_has_no_pairing_report(run: Path) -> None:
    counties = read_result(run, "counties")
    alone = counties.filter(pl.col("paired_helper_county").is_null())["county_code"][0]
    with pytest.raises(InputError, match="paired helper county"):
        paired.load_paired(run, str(alone))


def test_city_table_has_one_row_per_county_with_the_stored_verdict(run: Path) -> None:
    name = str(_truth(run, "counties").filter(pl.col("planted") != "clean")["city_name"][0])
    r = kit.load_results(run, city=name)
    expected = read_result(run, "counties", city_name=name).sort("county_code")
    table = city.county_table(r)
    assert table["县（市、区）"].to_list() == expected["county_name"].to_list()
    verdicts = r.counties.sort("county_code")
    words = [
        codes.verdict_label(v, s, short=True) for v, s in verdicts.select("verdict", "scope").rows()
    ]
    assert table["结论"].to_list() == words
    overview = county.content_overview(city.city_findings(r), r.plan.content.city)
    assert overview["编号"].to_list() == [f"M{i}" for i in range(1, 7)]
    assert city.completeness_table(r.completeness).height == expected.height + 1


def test_county_sample_tables(run: Path) -> None:
    cs = kit.load_county_sample(run)
    villages = county_sample.village_table(cs)
    assert villages.height == sum(q.count for q in cs.plan.sampling.villages.quotas)
    assert set(villages["村类型"]) <= set(codes.VILLAGE_TYPE.labels().values())
    summary = county_sample.household_summary(cs)
    assert set(summary["抽样类别"]) <= set(codes.SAMPLE_CATEGORY.labels().values())
    assert "抽取村" in county_sample.sample_counts(cs)


# ------------------------------------------------------------------ notebooks


def _parameter(run: Path, report: str) -> dict[str, str]:
    """A real value for each report: a short county, a helped county, a planted city."""
    counties = read_result(run, "counties")
    if report == "county":
        short = _truth(run, "short_completeness").filter(pl.col("unit") == "county")
        return {"county_code": str(short["code"][0])}
    if report == "paired":
        helped = counties.filter(pl.col("paired_helper_county").is_not_null())
        return {"county_code": str(helped["county_code"][-1])}
    if report == "sample":
        return {"county_code": str(counties["county_code"][-1])}
    truth = _truth(run, "counties").filter(pl.col("planted") != "clean")
    return {"city_name": str(truth["city_name"][0])}


@pytest.mark.parametrize(
    ("notebook", "report", "text"),
    [
        pytest.param("county_report.ipynb", "county", "报告要素不全", id="county"),
        pytest.param("paired_report.ipynb", "paired", "结对合作项目", id="paired"),
        pytest.param("city_report.ipynb", "city", "指标比较", id="city"),
        pytest.param("county_sample.ipynb", "sample", "抽样证书", id="sample"),
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
