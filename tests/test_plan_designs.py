"""Other years' plans as a YAML edit, and assumptions marked (issue 15, items 6 and 7).

Both plan files (the 2019 plan and the example 2020 design) run the cycle on
the small synthetic province: synthesis, sample, lottery, indicators; then
``verify-sample``, the intervals, and the inclusion probabilities, which must
follow each county's own design (per county they sum to the villages drawn).
R is kept small through a plan override, so the sums hold within 0.05.

The example plan's reports are rendered by the real batch (every report of
the run): each renders, its "planned" counts follow the county's own rule, and
each shows the assumptions it relies on.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import polars as pl
import pytest
from htmlkit import table_with, text

from xkaohe import codes
from xkaohe.draw.sampling import county_quota_rules, village_candidates
from xkaohe.errors import InputError, PlanError
from xkaohe.inputs import Frame
from xkaohe.io.frame import load_frame
from xkaohe.io.paths import report_stem
from xkaohe.io.plan_file import load_plan
from xkaohe.io.results import read_result
from xkaohe.io.sample_package import read_package
from xkaohe.plan import Plan, parse_plan
from xkaohe.report.assumptions import RELIES_ON, assumptions_table
from xkaohe.report.design import rule_text
from xkaohe.report.kit import load_county_sample
from xkaohe.results_spec import Result
from xkaohe.run.batch import JobResult
from xkaohe.run.sample import verify_sample
from xkaohe.run.stages import prepare_demo_run, render_reports, report_jobs

PARAMS = Path(__file__).resolve().parent.parent / "params"
PLANS = {"2019": PARAMS / "plan-2019.yaml", "example-2020": PARAMS / "plan-example-2020.yaml"}
REPLICATES = 400  # sum of probabilities = drawn + (candidates - drawn) / (R + 1): within 0.05


def fast_plan(source: Path, into: Path) -> Path:
    """``source`` with ``inclusion_replicates`` set to :data:`REPLICATES`, written to ``into``."""
    text = source.read_text(encoding="utf-8")
    old = "    inclusion_replicates: 20000"
    assert text.count(old) == 1
    path = into / source.name
    path.write_text(text.replace(old, f"    inclusion_replicates: {REPLICATES}"), "utf-8")
    return path


@pytest.fixture(scope="module", params=list(PLANS))
def cycle(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Plan]:
    """A run of the whole cycle under one plan file: (run folder, the plan)."""
    base = tmp_path_factory.mktemp(f"design-{request.param}")
    plan_path = fast_plan(PLANS[request.param], base)
    run = base / "run"
    prepare_demo_run(run, plan_path=plan_path, field_lists=False)
    return run, load_plan(plan_path)


def test_verify_sample_re_derives_the_draw(cycle: tuple[Path, Plan]) -> None:
    run, _ = cycle
    lines = verify_sample(run / "sample")
    assert "re-derived and identical" in lines[0]


def test_villages_follow_each_countys_quotas(cycle: tuple[Path, Plan]) -> None:
    run, plan = cycle
    frame = load_frame(run / "frame")
    rule_of = county_quota_rules(frame.counties, plan)
    cands = read_package(run / "sample")["village_candidates"]
    per_county = (
        cands.filter(pl.col("village_type").is_not_null())
        .group_by("county_code")
        .agg(candidates=pl.len(), drawn=pl.col("drawn").cast(pl.Boolean).sum())
    )
    used = set()
    for code, n_cand, drawn in per_county.iter_rows():
        rule = rule_of.get(code, -1)
        used.add(rule)
        planned = sum(q.count for q in plan.sampling.villages.quotas_of(rule))
        assert drawn == min(planned, n_cand), code
    # the example's rules all apply somewhere (else this test would not test them)
    assert used == {-1, *range(len(plan.sampling.villages.by_county))}


def test_inclusion_probabilities_sum_to_the_villages_drawn(cycle: tuple[Path, Plan]) -> None:
    run, _ = cycle
    cands = read_package(run / "sample")["village_candidates"]
    sums = (
        cands.filter(pl.col("village_type").is_not_null())
        .group_by("county_code")
        .agg(
            p=pl.col("inclusion_prob").cast(pl.Float64).sum(),
            drawn=pl.col("drawn").cast(pl.Boolean).sum(),
        )
    )
    assert sums.height == 70
    worst = sums.select((pl.col("p") - pl.col("drawn")).abs().max()).item()
    assert worst <= 0.05


def test_intervals_are_present(cycle: tuple[Path, Plan]) -> None:
    run, plan = cycle
    ind = read_result(run, Result.COUNTY_INDICATORS)
    for rate in plan.indicators.judged_rates:
        with_data = ind.filter(pl.col(f"{rate}_n") > 0)
        assert with_data.height > 0, rate
        low, est, high = (with_data[f"{rate}_{s}"] for s in ("low", "est", "high"))
        assert low.null_count() == est.null_count() == high.null_count() == 0, rate
        assert ((low <= est + 1e-12) & (est <= high + 1e-12)).all(), rate


def test_households_follow_the_example_design(cycle: tuple[Path, Plan]) -> None:
    run, plan = cycle
    if plan.year != 2020:
        pytest.skip("the example design's household rules")
    rules = plan.sampling.households
    (share,) = (q for q in rules.quotas if q.share is not None)
    frame = load_frame(run / "frame")
    hh = read_package(run / "sample")["households"]
    in_villages = frame.households.join(
        read_package(run / "sample")["villages"].select("village_code"), on="village_code"
    )
    n = in_villages.filter(pl.col("status") == share.status).group_by("village_code").len()
    got = (
        hh.filter((pl.col("selected_as") == share.status) & (pl.col("status") == share.status))
        .group_by("village_code")
        .len()
    )
    both = n.join(got, on="village_code", how="left", suffix="_got").fill_null(0)
    checked = 0
    for _, n_status, n_got in both.iter_rows():
        want = min(share.count, max(share.min, math.ceil(share.share * n_status - 1e-9)))
        assert n_got == min(want, n_status)
        checked += n_got < share.count and n_status > share.count  # a share below the cap
    assert checked > 0
    # full coverage: every household of these statuses in a sampled village is surveyed
    for status in rules.full_coverage:
        every = set(in_villages.filter(pl.col("status") == status)["household_id"])
        taken = set(hh.filter(pl.col("selected_as") == status)["household_id"])
        assert every and every == taken, status


def test_the_stored_plan_follows_each_countys_rule(cycle: tuple[Path, Plan]) -> None:
    """``sample_plan`` (what reports call planned) is each county's own rule, not the default."""
    run, plan = cycle
    stored = read_result(run, Result.SAMPLE_PLAN)
    counties = load_frame(run / "frame").counties
    for row in counties.iter_rows(named=True):
        mine = stored.filter(
            (pl.col("county_code") == row["county_code"]) & (pl.col("kind") == "villages")
        )
        quotas = plan.sampling.villages.quotas_for(row)
        assert mine.select("category", "planned").rows() == [(q.type, q.count) for q in quotas]
    # households: per sampled village, a fixed count, or the share within [min, cap]
    frame_hh = load_frame(run / "frame").households
    villages = read_package(run / "sample")["villages"]
    for q in plan.sampling.households.quotas:
        planned = stored.filter((pl.col("kind") == "households") & (pl.col("category") == q.status))
        assert set(planned["village_code"]) == set(villages["village_code"])
        if q.share is None:
            assert set(planned["planned"]) == {q.count}
            continue
        of_status = frame_hh.filter(pl.col("status") == q.status)
        n = dict(of_status.group_by("village_code").len().rows())
        for code, got in planned.select("village_code", "planned").iter_rows():
            want = min(q.count, max(q.min, math.ceil(q.share * n.get(code, 0) - 1e-9)))
            assert got == want, code
    general = stored.filter(pl.col("kind") == "general")
    assert set(general["planned"]) == {plan.sampling.households.general_per_village}


def test_the_sampling_report_reads_the_plan_before_any_results(
    cycle: tuple[Path, Plan], tmp_path: Path
) -> None:
    """Before the field week there is no results store; the county sampling report's
    planned counts are then the rule applied to the county, the same rows
    ``xkaohe indicators`` stores later."""
    run, _ = cycle
    early = tmp_path / "run"
    for part in ("frame", "sample"):
        shutil.copytree(run / part, early / part)
    for row in read_package(run / "sample")["villages"].unique("county_code").iter_rows(named=True):
        code = row["county_code"]
        stored = load_county_sample(run, code).planned
        assert stored.height > 0
        assert load_county_sample(early, code).planned.equals(stored), code


# -------------------------------------------------------------- the plan model


def _edited(old: str, new: str) -> str:
    text = PLANS["2019"].read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_example_says_it_is_an_example() -> None:
    first = PLANS["example-2020"].read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# EXAMPLE ONLY - NOT A REAL PLAN")
    assert "示例" in load_plan(PLANS["example-2020"]).title


@pytest.mark.parametrize(
    "key",
    [
        "teams.no_mutual_assessment",
        "sampling.households.substitutes.not_exited",
        "teams.selection",
        "teams.observers_per_team",
        "indicators.thresholds.omission_rate",
        "reports.candidates.wrong_inclusion_rate",
        "indicators.confidence",
    ],
)
def test_the_2019_plan_marks_what_its_text_does_not_state(key: str) -> None:
    note = load_plan(PLANS["2019"]).assumption(key)
    assert note is not None and note.note


def test_what_the_plan_text_states_carries_no_note() -> None:
    plan = load_plan(PLANS["2019"])
    for key in ("teams.count", "sampling.villages.quotas", "timeline.field_start"):
        assert plan.assumption(key) is None, key


def test_a_report_lists_the_assumptions_it_relies_on() -> None:
    plan = load_plan(PLANS["2019"])
    county = assumptions_table(plan, "county")
    assert county.columns == ["参数", "取值", "说明"]
    row = county.filter(pl.col("参数") == "indicators.confidence")
    assert row["取值"].to_list() == ["0.95"]
    assert "sampling.households.substitutes.not_exited" in county["参数"].to_list()
    assert "teams.selection" not in county["参数"].to_list()
    assert "teams.selection" in assumptions_table(plan, "lottery")["参数"].to_list()
    assert set(RELIES_ON) >= {"county", "city", "paired", "province"}
    with pytest.raises(KeyError, match="unknown report kind"):
        assumptions_table(plan, "weekly")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "  - {key: indicators.confidence, note:",
            "  - {key: indicators.confidence_level, note:",
            r"assumption key 'indicators.confidence_level' names nothing",
            id="assumption-unknown-key",
        ),
        pytest.param(
            "  - {key: teams.size, note:",
            "  - {key: teams.selection, note: twice}\n  - {key: teams.size, note:",
            r"assumptions name a key twice \(teams.selection\)",
            id="assumption-twice",
        ),
        pytest.param(
            "      - {status: not_exited, count: 2}\n",
            "      - {status: not_exited, count: 2, min: 1}\n",
            r"'min' and 'share_of' go with a 'share'",
            id="min-without-share",
        ),
        pytest.param(
            "      - {status: not_exited, count: 2}\n",
            "      - {status: not_exited, share: 0.2, count: 2, min: 3}\n",
            r"'min' is above 'count'",
            id="min-above-cap",
        ),
        pytest.param(
            "      exited_2019: [exited_2016_2018]\n",
            "      exited_2019: [exited_2016_2018, relapsed]\n",
            r"relapsed.*both substitute and have full coverage",
            id="substitute-in-full",
        ),
        pytest.param(
            "    inclusion_replicates: 20000",
            "    inclusion_replicates: 20000\n    by_county:\n"
            "      - {when: {rural_population: {}}, quotas: [{type: poor, count: 3}]}",
            r"a range needs 'min', 'max' or both",
            id="empty-range",
        ),
        pytest.param(
            "    inclusion_replicates: 20000",
            "    inclusion_replicates: 20000\n    by_county:\n"
            "      - {when: {category: exit_2019},"
            " quotas: [{type: poor, count: 3}, {type: poor, count: 1}]}",
            r"a village type appears twice",
            id="type-twice",
        ),
    ],
)
def test_a_bad_design_is_named(old: str, new: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        parse_plan(_edited(old, new), "plan.yaml")


def _small_frame(run: Path) -> Frame:
    return load_frame(run / "frame")


def test_a_rule_on_a_column_the_frame_lacks_is_a_user_error(small_run: Path) -> None:
    plan = parse_plan(
        _edited(
            "    inclusion_replicates: 20000",
            "    inclusion_replicates: 20000\n    by_county:\n"
            "      - {when: {exit_households: {max: 500}}, quotas: [{type: poor, count: 5}]}",
        )
    )
    with pytest.raises(InputError, match="exit_households"):
        village_candidates(_small_frame(small_run), plan, "demo")


def test_conditions_match_values_lists_ranges_and_flags() -> None:
    plan = parse_plan(
        _edited(
            "    inclusion_replicates: 20000",
            "    inclusion_replicates: 20000\n    by_county:\n"
            "      - {when: {deep_poverty: true}, quotas: [{type: poor, count: 4}]}\n"
            "      - {when: {category: [exited, non_key], rural_population: {min: 5000,"
            " max: 9000}}, quotas: [{type: poor, count: 1}]}\n"
            "      - {when: {rural_population: {max: 1000}}, quotas: [{type: poor, count: 2}]}",
        )
    )
    rules = plan.sampling.villages
    county = {"category": "exited", "deep_poverty": False, "rural_population": 7000}
    assert rules.rule_for(county) == 1
    assert rules.quotas_for(county) == rules.by_county[1].quotas
    assert rules.quotas_for({"category": "exit_2019"}) == rules.quotas
    assert rules.rule_for(county | {"deep_poverty": True}) == 0  # first match wins
    assert rules.rule_for(county | {"rural_population": 9001}) == -1
    assert rules.rule_for(county | {"rural_population": None}) == -1  # null matches nothing
    assert rules.rule_for(county | {"category": "exit_2019"}) == -1
    assert rules.rule_for({"category": "non_key", "rural_population": 800}) == 2
    assert rules.rule_for({"deep_poverty": 1}) == -1  # a flag is not the number 1


# ------------------------------------------- the example plan's reports, rendered

ExampleReports = tuple[Path, Plan, list[JobResult]]


def _rules_of(run: Path, plan: Plan) -> pl.DataFrame:
    """Each county of the run with its ``by_county`` rule (-1: the default quotas)."""
    counties = load_frame(run / "frame").counties
    rule_of = county_quota_rules(counties, plan)
    return counties.select(
        "county_code",
        rule=pl.col("county_code").replace_strict(rule_of, default=-1, return_dtype=pl.Int64),
    ).sort("county_code")


@pytest.fixture(scope="module")
def example_reports(tmp_path_factory: pytest.TempPathFactory) -> ExampleReports:
    """The example plan's cycle with the real report batch: every report of the run, as
    ``xkaohe run --stage reports`` renders them (about a minute on the small province)."""
    base = tmp_path_factory.mktemp("example-reports")
    plan_path = fast_plan(PLANS["example-2020"], base)
    run = base / "run"
    prepare_demo_run(run, plan_path=plan_path, field_lists=False)
    results = render_reports(run, workers=2, timeout=600, progress=False)
    return run, load_plan(plan_path), results


def test_every_report_renders_under_the_example_plan(example_reports: ExampleReports) -> None:
    run, plan, results = example_reports
    assert [r.error for r in results if not r.ok] == []
    assert {r.job.stem for r in results} == {s.job.stem for s in report_jobs(run)}
    rendered = {r.job.notebook for r in results}
    assert rendered >= {
        "lottery.ipynb",
        "city_report.ipynb",
        "county_report.ipynb",
        "paired_report.ipynb",
        "county_sample.ipynb",
        "field_progress.ipynb",
        "supervision.ipynb",
        "provincial_report.ipynb",
    }
    for r in results:
        page = text(Path(r.html))
        assert f"方案：{plan.title}（plan-example-2020.yaml）" in page, r.job.stem  # the footer
        assert "2019年脱贫攻坚市际交叉考核方案" not in page, r.job.stem


def test_planned_counts_follow_the_example_rule(example_reports: ExampleReports) -> None:
    run, plan, _ = example_reports
    reports = run / "reports"
    counties = load_frame(run / "frame").counties
    ruled = _rules_of(run, plan).filter(pl.col("rule") >= 0)
    assert set(ruled["rule"]) == set(range(len(plan.sampling.villages.by_county)))
    for code, rule in ruled.select("county_code", "rule").iter_rows():
        quotas = plan.sampling.villages.quotas_for(
            counties.filter(pl.col("county_code") == code).row(0, named=True)
        )
        assert quotas != plan.sampling.villages.quotas  # a county the default would misstate
        want = sum(q.count for q in quotas)
        types = [f"{codes.VILLAGE_TYPE.label(q.type, short=True)}{q.count}个" for q in quotas]
        county_page = reports / f"{report_stem('county', code)}.html"
        row = {r["类别"]: r for r in table_with(county_page, "类别", "计划")}["抽样村"]
        assert row["计划"] == f"{want}（{'、'.join(types)}）"
        design = text(county_page)
        assert f"本县抽取{want}个村（按方案分县规则：{rule_text(plan, rule)}）" in design
        sample_page = text(reports / f"{report_stem('sample', code)}.html")
        assert f"计划 {want}（{'、'.join(types)}）" in sample_page
        # the example's household design in words: a share with floor and cap, its coverage
        assert "未脱贫户按本村该类户的20%抽取（至少1户、至多5户）" in sample_page
        assert "返贫户、2018—2019年新识别贫困户全覆盖" in sample_page
    # the province: every county by its own rule
    total = sum(
        sum(q.count for q in plan.sampling.villages.quotas_for(row))
        for row in counties.iter_rows(named=True)
    )
    assert total != plan.scope.counties * sum(q.count for q in plan.sampling.villages.quotas)
    province = {r["项目"]: r for r in table_with(reports / "provincial.html", "项目", "计划")}
    assert province["抽样村"]["计划"] == str(total)
    method = text(reports / "provincial.html")  # and says how each rule's counties are planned
    for i, rule in enumerate(plan.sampling.villages.by_county):
        assert f"{rule_text(plan, i)}：每县抽{sum(q.count for q in rule.quotas)}个村" in method


def test_the_reports_show_the_assumptions_they_rely_on(example_reports: ExampleReports) -> None:
    _, plan, results = example_reports
    kinds = {
        "county_report.ipynb": "county",
        "city_report.ipynb": "city",
        "paired_report.ipynb": "paired",
        "provincial_report.ipynb": "province",
        "county_sample.ipynb": "county_sample",
        "lottery.ipynb": "lottery",
        "field_progress.ipynb": "field_progress",
    }
    seen = set()
    for r in results:
        kind = kinds.get(r.job.notebook)
        if kind is None:
            continue
        seen.add(kind)
        notes = assumptions_table(plan, kind)
        shown = {row["参数"]: row for row in table_with(Path(r.html), "参数", "取值", "说明")}
        assert set(shown) == set(notes["参数"]), r.job.stem
        # the example's own design notes reach the sampling reports
        if kind in ("county", "county_sample", "province"):
            assert "sampling.villages.by_county" in shown, r.job.stem
            assert "虚构" in shown["sampling.villages.by_county"]["说明"]
    assert seen == set(kinds.values())
