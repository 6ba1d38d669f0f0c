"""Tests for :mod:`xkaohe.synth.field`: simulated field returns and their planted truth.

All on the ``small`` synthetic province. The rates are recomputed here from the
survey by DESIGN.md's definitions ("Indicators"), independently of the module;
the thresholds come from the plan (DOMAIN.md, "Indicators and thresholds").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xkaohe import schemas
from xkaohe.draw.sampling import SamplePackage, draw_sample
from xkaohe.inputs import Frame
from xkaohe.io.field import load_field
from xkaohe.io.plan_file import load_plan
from xkaohe.io.sample_package import write_tables
from xkaohe.plan import Plan
from xkaohe.synth.field import ITEMS, synthesize_field
from xkaohe.synth.frame import synthesize_frame

PLAN_PATH = Path(__file__).parent.parent / "params" / "plan-2019.yaml"
SEED = "test-field"
EXITED = ["exited_2019", "exited_2016_2018"]
DTYPES = {"text": pl.String, "bool": pl.Boolean, "int": pl.Int64, "float": pl.Float64,
          "enum": pl.String, "date": pl.Date}

Tables = dict[str, pl.DataFrame]


def build(seed: str) -> tuple[Tables, SamplePackage, Plan, Tables, Tables]:
    plan = load_plan(PLAN_PATH)
    frame = synthesize_frame("small", seed)
    sample = draw_sample(Frame.from_tables(frame), plan, seed)
    field, truth = synthesize_field(frame, sample, plan, seed)
    return frame, sample, plan, field, truth


@pytest.fixture(scope="module")
def run() -> tuple[Tables, SamplePackage, Plan, Tables, Tables]:
    """One small province with its field returns (tables are immutable; read only)."""
    return build(SEED)


def county_rates(frame: Tables, plan: Plan, survey: pl.DataFrame) -> pl.DataFrame:
    """Official sample ratios per county, by DESIGN.md's definitions."""
    line = plan.indicators.income_line_yuan
    qualified = (pl.col("income_per_capita_yuan") >= line) & pl.all_horizontal(*ITEMS)
    exited = pl.col("status").is_in(EXITED).fill_null(False)
    general = ~pl.col("registered")
    size = pl.col("household_size")
    return (
        survey.join(frame["households"].select("household_id", "status"), on="household_id",
                    how="left")
        .join(frame["villages"].select("village_code", "county_code"), on="village_code")
        .group_by("county_code")
        .agg(wrong_exit_rate=size.filter(exited & ~qualified).sum() / size.filter(exited).sum(),
             omission_rate=size.filter(general & ~qualified).sum() / size.filter(general).sum(),
             approval_rate=pl.col("approval").is_in(["approve", "basic"]).mean())
    )


def sample_visits(field: Tables, truth: Tables) -> pl.DataFrame:
    """The household survey without the paired-project visits (outside the village sample)."""
    paired = truth["paired_visits"].select("village_code", "household_id")
    return field["household_survey"].join(paired, on=["village_code", "household_id"],
                                          how="anti")


# --- shape --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in schemas.FIELD_TABLES])
def test_columns_types_values_and_keys(run: Any, spec: schemas.TableSpec) -> None:
    df = run[3][spec.name]
    assert df.height > 0
    assert df.schema == {c.name: DTYPES[c.kind] for c in spec.columns}
    for col in spec.columns:
        if not col.nullable:
            assert df[col.name].null_count() == 0, col.name
        if col.kind == "enum":
            assert set(df[col.name].drop_nulls()) <= set(col.values.values()), col.name
        if col.low is not None:
            assert (df[col.name].drop_nulls() >= col.low).all(), col.name
    unique = spec.key or spec.unique  # field tables name their key "unique"
    assert unique
    assert not df.select(pl.struct(list(unique)).is_duplicated().any()).item()


def test_every_sampled_household_surveyed_once(run: Any) -> None:
    frame, sample, _, field, truth = run
    survey = sample_visits(field, truth)
    registered = survey.filter(pl.col("registered"))
    assert registered["household_id"].sort().equals(sample.households["household_id"].sort())
    sizes = registered.join(frame["households"].select("household_id", "household_size"),
                            on="household_id", suffix="_frame")
    assert ((sizes["household_size"] - sizes["household_size_frame"]).abs() <= 1).all()
    general = survey.filter(~pl.col("registered"))
    assert not general["household_id"].is_in(frame["households"]["household_id"].implode()).any()
    assert general["ineligible_evidence"].is_null().all()
    assert general["knows_helper"].is_null().all()
    assert registered["ineligible_evidence"].null_count() == 0
    assert registered["knows_helper"].null_count() == 0


def test_general_households_meet_quota_and_census_groups(run: Any) -> None:
    _, sample, _, field, truth = run
    general = field["household_survey"].filter(~pl.col("registered"))
    assert general["household_id"].str.contains(r"^\d{12}G\d{3}$").all()
    assert (general["household_id"].str.slice(0, 12) == general["village_code"]).all()
    per = general.group_by("village_code").len()
    quota = sample.general_quota.join(per, on="village_code", how="left")
    assert (quota["len"].fill_null(0) >= quota["count"]).all()
    census = truth["general_households"].filter(pl.col("source") == "group_census")
    groups = census.select("village_code", "villager_group").unique()
    expected = sample.villager_groups.select("village_code", "villager_group")
    assert groups.sort(pl.all()).equals(expected.sort(pl.all()))
    assert census.group_by("village_code", "villager_group").len()["len"].min() >= 3


def test_dates_fall_in_the_field_week(run: Any) -> None:
    plan, field = run[2], run[3]
    start, end = plan.timeline.field_start, plan.timeline.field_end
    for table, col in (("household_survey", "visit_date"), ("interviews", "date"),
                       ("project_checks", "date"), ("problems", "raised_date")):
        dates = field[table][col]
        assert dates.min() >= start and dates.max() <= end, table
    problems = field["problems"].filter(pl.col("review_date").is_not_null())
    lag = (problems["review_date"] - problems["raised_date"]).dt.total_days()
    assert lag.min() == plan.review.days_to_review
    assert lag.max() <= plan.review.days_to_review + 2
    # A village is visited on one or two days.
    days = field["household_survey"].group_by("village_code").agg(
        pl.col("visit_date").n_unique())
    assert days["visit_date"].max() <= 2


# --- planted counties ---------------------------------------------------------------------


def test_bad_counties_fail_and_clean_counties_are_exactly_zero(run: Any) -> None:
    frame, _, plan, field, truth = run
    limits = plan.indicators.thresholds
    rates = county_rates(frame, plan, sample_visits(field, truth)).join(
        truth["counties"], on="county_code")
    assert rates.height == truth["counties"].height == 70
    bad = truth["counties"].filter(pl.col("planted") != "clean")
    assert 3 <= bad.height <= 5
    assert all(bad[f].any() for f in ("wrong_exit", "omission", "low_approval"))
    wrong = rates.filter(pl.col("wrong_exit"))
    assert (wrong["wrong_exit_rate"] > limits["wrong_exit_rate"].max).all()
    assert (wrong["wrong_exit_households"] >= 4).all()
    omitted = rates.filter(pl.col("omission"))
    assert (omitted["omission_rate"] > limits["omission_rate"].max).all()
    low = rates.filter(pl.col("low_approval"))
    assert (low["approval_rate"] < limits["approval_rate"].min).all()
    clean = rates.filter(pl.col("planted") == "clean")
    assert (clean["wrong_exit_rate"] == 0).all() and (clean["omission_rate"] == 0).all()
    assert (clean["approval_rate"] >= 0.92).all()
    # Faults not planted in a bad county stay clean too.
    assert (rates.filter(~pl.col("wrong_exit"))["wrong_exit_rate"] == 0).all()
    assert (rates.filter(~pl.col("omission"))["omission_rate"] == 0).all()
    assert (rates.filter(~pl.col("low_approval"))["approval_rate"] >= 0.92).all()
    # The truth table carries the same ratios.
    for fault in ("wrong_exit", "omission", "approval"):
        diff = rates.select((pl.col(f"{fault}_rate") - pl.col(f"{fault}_ratio")).abs().max())
        assert diff.item() < 1e-12, fault


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8))
def test_planted_counties_hold_for_any_seed(seed: str) -> None:
    frame, _, plan, field, truth = build(seed)
    rates = county_rates(frame, plan, sample_visits(field, truth)).join(
        truth["counties"], on="county_code")
    clean = rates.filter(pl.col("planted") == "clean")
    assert (clean["wrong_exit_rate"] == 0).all() and (clean["omission_rate"] == 0).all()
    assert (clean["approval_rate"] >= 0.92).all()
    assert (rates.filter(pl.col("wrong_exit"))["wrong_exit_rate"] > 0.02).all()
    assert (rates.filter(pl.col("omission"))["omission_rate"] > 0.02).all()
    assert (rates.filter(pl.col("low_approval"))["approval_rate"] < 0.9).all()


# --- relapse and paired-project visits (issue 10, items 8 and 9) ------------------------------


def test_relapsed_households_carry_a_cause_and_every_cause_is_planted(run: Any) -> None:
    _, _, plan, field, truth = run
    relapses = truth["relapses"]
    causes = [c.code for c in plan.relapse_causes]
    assert relapses.height >= len(causes)
    assert set(relapses["relapse_cause"]) == set(causes)  # some of each
    assert relapses["exit_year"].is_between(plan.year - 3, plan.year - 1).all()
    survey = sample_visits(field, truth).join(
        relapses.select("village_code", "household_id", pl.lit(True).alias("_relapsed")),
        on=["village_code", "household_id"], how="left")
    others = survey.filter(pl.col("_relapsed").is_null())
    assert others["relapse_cause"].is_null().all()
    assert survey.filter(~pl.col("registered"))["exit_year"].is_null().all()
    years = survey.filter(pl.col("exit_year").is_not_null())["exit_year"]
    assert years.max() == plan.year and years.min() >= plan.year - 3


def test_paired_project_beneficiaries_are_visited_outside_the_village_sample(run: Any) -> None:
    _, sample, plan, field, truth = run
    drawn = sample.project_households.select("village_code", "household_id").unique()
    in_sample = drawn.join(sample.households, on=["village_code", "household_id"], how="semi")
    paired = truth["paired_visits"]
    assert paired.height > 0
    assert paired.height == drawn.height - in_sample.height
    visits = field["household_survey"].join(paired, on=["village_code", "household_id"],
                                            how="semi")
    assert visits.height == paired.height  # each visited once
    assert visits["registered"].all()
    start, end = plan.timeline.field_start, plan.timeline.field_end
    assert visits["visit_date"].is_between(start, end).all()
    teams = (paired.join(visits, on=["village_code", "household_id"])
             .join(field["problems"].select("county_code", pl.col("team_id").alias("t"))
                   .drop_nulls().unique(), on="county_code"))
    assert (teams["team_id"] == teams["t"]).all()  # the county's own team


# --- interviews ---------------------------------------------------------------------------


def helper_claims(field: Tables) -> pl.DataFrame:
    """Helper claims side by side with the survey answers."""
    claims = field["interviews"].filter(pl.col("level") == "helper").pivot(
        "item", index=["person_id", "household_id"], values="claim")
    return claims.join(field["household_survey"], on="household_id", suffix="_survey")


def test_helper_interviews_cover_drawn_cadres(run: Any) -> None:
    frame, sample, _, field, truth = run
    helpers = field["interviews"].filter(pl.col("level") == "helper")
    assert (helpers["role"] == "assistance_cadre").all()
    assert set(helpers["item"]) == set(schemas.CLAIM_ITEMS)
    drawn = sample.interviewees.filter(pl.col("level") == "helper")["helper_id"]
    assert helpers["person_id"].is_in(drawn.implode()).all()
    links = helpers.select("person_id", "household_id").unique().join(
        frame["households"].select("household_id", "helper_id"), on="household_id")
    assert (links["person_id"] == links["helper_id"]).all()
    with_households = (
        sample_visits(field, truth).filter(pl.col("registered"))
        .join(frame["households"].select("household_id", "helper_id"), on="household_id")
        .filter(pl.col("helper_id").is_in(drawn.implode()))
    )
    assert set(with_households["helper_id"]) == set(helpers["person_id"])


def test_unaware_helpers_are_contradicted_and_others_agree(run: Any) -> None:
    field, truth = run[3], run[4]
    unaware = truth["helpers_unaware"]
    assert unaware["helper_id"].n_unique() >= 3
    both = helper_claims(field).join(
        unaware.select(pl.col("helper_id").alias("person_id"), "household_id",
                       planted=pl.lit(True)),
        on=["person_id", "household_id"], how="left").with_columns(
        pl.col("planted").fill_null(False),
        off=(pl.col("income_per_capita_yuan").cast(pl.Float64)
             / pl.col("income_per_capita_yuan_survey") - 1).abs())
    planted = both.filter("planted")
    assert planted.height == unaware.height
    assert (planted["household_size"].cast(pl.Int64) != planted["household_size_survey"]).all()
    assert (planted["off"] > 0.5).all()
    assert (~planted["knows_helper"]).all()
    aware = both.filter(~pl.col("planted"))
    assert (aware["off"] <= 0.1).all()
    agree = aware.select(
        (pl.col("household_size").cast(pl.Int64) == pl.col("household_size_survey")).mean())
    assert agree.item() > 0.95
    for item in ITEMS:
        assert (aware[item] == aware[f"{item}_survey"].cast(pl.String)).all(), item


def test_overclaiming_villages_are_contradicted_and_no_others(run: Any) -> None:
    _, _, plan, field, truth = run
    village = field["interviews"].filter(pl.col("level") == "village")
    assert set(village["role"]) == {q.role for q in plan.sampling.interviews.village}
    assert village["household_id"].is_null().all() and (village["claim"] == "true").all()
    share = (
        sample_visits(field, truth).filter(pl.col("registered"))
        .unpivot(list(ITEMS), index="village_code", variable_name="item", value_name="ok")
        .group_by("village_code", "item").agg(share=(~pl.col("ok")).mean())
    )
    over = share.filter(pl.col("share") > plan.consistency.village_claim_mismatch_max)
    planted = truth["overclaim_villages"]
    assert planted.height >= 3
    assert over.select("village_code", "item").sort(pl.all()).equals(
        planted.select("village_code", "item").sort(pl.all()))
    claimed = village.select("village_code", "item").unique()
    assert planted.join(claimed, on=["village_code", "item"], how="anti").height == 0


def test_county_and_city_interviews(run: Any) -> None:
    frame, sample, _, field, truth = run
    upper = field["interviews"].filter(pl.col("level").is_in(["city", "county"]))
    per = upper.group_by("interview_id").len()
    assert (per["len"] == 2).all()
    quota = sample.interviewees.filter(pl.col("level").is_in(["city", "county"]))["count"].sum()
    skipped = truth["skipped_interviews"].filter(pl.col("level").is_in(["city", "county"]))
    assert per.height == quota - skipped["skipped"].sum()  # planted skips (issue 13)
    # county_code is required: a city interview carries its city's first county.
    first = frame["counties"].group_by("city_name").agg(pl.col("county_code").min())
    assert set(upper.filter(pl.col("level") == "city")["county_code"]) == set(
        first["county_code"])


# --- projects, problems, experiences ------------------------------------------------------


def test_project_checks_and_planted_discrepancies(run: Any) -> None:
    frame, sample, _, field, truth = run
    checks = (field["project_checks"]
              .join(frame["projects"].select("project_id", "kind", "funds_yuan"), on="project_id")
              .join(sample.project_households.group_by("project_id").len(), on="project_id",
                    how="left")
              .join(truth["project_discrepancies"], on="project_id", how="left",
                    suffix="_planted"))
    assert checks["project_id"].sort().equals(sample.projects["project_id"].sort())
    planted = checks.filter(pl.col("kind_planted").is_not_null())
    assert planted.height >= 3 and planted["issue"].null_count() == 0
    assert set(planted["kind_planted"]) == {"overspent", "abandoned_spent", "beneficiaries_short"}
    over = planted.filter(pl.col("kind_planted") == "overspent")
    assert (over["funds_spent_yuan"] > over["funds_yuan"]).all()
    stopped = planted.filter(pl.col("kind_planted") == "abandoned_spent")
    assert ((stopped["status"] == "abandoned") & (stopped["funds_spent_yuan"] > 0)).all()
    short = planted.filter(pl.col("kind_planted") == "beneficiaries_short")
    assert (short["beneficiaries_confirmed"] < short["len"]).all()
    clean = checks.filter(pl.col("kind_planted").is_null())
    assert clean["issue"].is_null().all()
    assert (clean["funds_spent_yuan"] <= clean["funds_yuan"]).all()
    assert (clean["status"] != "abandoned").all()
    paired = clean.filter(pl.col("kind") == "paired_cooperation")
    assert (paired["beneficiaries_confirmed"] == paired["len"].fill_null(0)).all()


def test_problems_follow_the_plan_and_the_planted_faults(run: Any) -> None:
    _, _, plan, field, truth = run
    problems = field["problems"]
    county_items = {it.code for it in plan.content.county}
    city_items = {it.code for it in plan.content.city}
    pairing = {it.code for it in plan.content.pairing}
    city = problems.filter(pl.col("level") == "city")
    assert set(city["content_item"]) <= city_items and city["county_code"].is_null().all()
    lower = problems.filter(pl.col("level") != "city")
    assert set(lower["content_item"]) <= county_items | pairing
    assert lower["county_code"].null_count() == 0
    assert (problems.filter(pl.col("level").is_in(["village", "household"]))["village_code"]
            .null_count() == 0)
    # Review: pending exactly when a problem awaits review without a date.
    review = problems.filter("needs_review")
    assert ((review["review_outcome"] == "pending") == review["review_date"].is_null()).all()
    assert problems.filter(~pl.col("needs_review"))["review_outcome"].is_null().all()
    assert 0.3 < problems["needs_review"].mean() < 0.8
    assert problems["suggestion"].null_count() > 0
    # Planted faults are reported with their content item.
    counties = truth["counties"]
    aware_min = plan.consistency.helper_awareness_min
    expected = {
        "C8": counties.filter(pl.col("wrong_exit")),
        "C7": counties.filter(pl.col("omission") | (pl.col("wrong_inclusion_households") > 0)),
        "C9": counties.filter(pl.col("low_approval") | (pl.col("helper_awareness") < aware_min)),
    }
    for code, bad in expected.items():
        found = problems.filter(pl.col("content_item") == code)["county_code"]
        assert set(bad["county_code"]) == set(found), code


def test_helper_awareness_low_only_where_planted(run: Any) -> None:
    plan, truth = run[2], run[4]
    counties = truth["counties"]
    planted = counties.filter(pl.col("unaware_helpers") > 0)
    assert planted.height >= 3 and planted["unaware_helpers"].min() >= 2
    others = counties.filter(pl.col("unaware_helpers") == 0)
    assert (others["helper_awareness"] >= plan.consistency.helper_awareness_min).all()
    assert set(truth["helpers_unaware"]["county_code"]) == set(planted["county_code"])


def test_completeness_short_only_where_planted(run: Any) -> None:
    _, _, plan, field, truth = run
    rules = plan.reports
    pairing = [it.code for it in plan.content.pairing]
    outcome = pl.col("review_outcome").fill_null("pending")
    kept = field["problems"].filter(  # what a report keeps (findings.completeness)
        ~pl.col("content_item").is_in(pairing) & (outcome != "dismissed")
        & ((outcome == "confirmed") | ~pl.col("needs_review")))
    code = pl.coalesce("county_code", "city_name").alias("code")
    problems = kept.group_by(code).agg(n=pl.len(), with_suggestion=pl.col("suggestion").count())
    experiences = field["experiences"].group_by(code).agg(n=pl.len())
    units = pl.concat([truth["counties"].select(code=pl.col("county_code")),
                       truth["counties"].select(code=pl.col("city_name")).unique()])
    problems = units.join(problems, on="code", how="left").fill_null(0)
    experiences = units.join(experiences, on="code", how="left").fill_null(0)
    short = truth["short_completeness"]

    def planted(kind: str) -> set[str]:
        return set(short.filter(pl.col("kind") == kind)["code"])

    assert all(planted(kind) for kind in ("problems", "experiences", "suggestions"))
    assert set(short["unit"]) == {"county"}
    assert set(problems.filter(pl.col("n") < rules.problems_min)["code"]) == planted("problems")
    assert set(problems.filter(pl.col("with_suggestion") < pl.col("n"))["code"]) == planted(
        "suggestions")
    assert set(experiences.filter(pl.col("n") < rules.experiences.min)["code"]) == planted(
        "experiences")
    assert (experiences["n"] <= rules.experiences.max).all()
    titles = field["experiences"].group_by("city_name", "county_code").agg(
        pl.col("title").is_unique().all())
    assert titles["title"].all()


# --- determinism, teams, round trip -------------------------------------------------------


def test_same_inputs_same_tables(run: Any) -> None:
    frame, sample, plan, field, truth = run
    again, truth_again = synthesize_field(frame, sample, plan, SEED)
    for name in field:
        assert field[name].equals(again[name]), name
    for name in truth:
        assert truth[name].equals(truth_again[name]), name
    other, _ = synthesize_field(frame, sample, plan, SEED + "x")
    assert not other["household_survey"].equals(field["household_survey"])


def test_team_ids_from_the_lottery(run: Any) -> None:
    frame, sample, plan, field, _ = run
    assert set(field["household_survey"]["team_id"]) <= {f"T{i:02d}" for i in range(1, 14)}
    cities = frame["counties"]["city_name"].unique().sort().to_list()
    teams = pl.DataFrame({"team_id": ["A", "B"],
                          "target_cities": [";".join(cities[:8]), ";".join(cities[8:])]})
    got, _ = synthesize_field(frame, sample, plan, SEED, lottery_teams=teams)
    by_city = got["problems"].select("city_name", "team_id").unique()
    assert by_city.height == len(cities)
    assert all((t == "A") == (c in cities[:8]) for c, t in by_city.iter_rows())
    with pytest.raises(ValueError, match="assigns no team to"):
        synthesize_field(frame, sample, plan, SEED, lottery_teams=teams.head(1))


def test_round_trip_through_csv(run: Any, tmp_path: Path) -> None:
    field = run[3]
    write_tables(tmp_path, field)
    loaded = load_field(tmp_path)
    for name, df in loaded.tables().items():
        assert df.drop("_row").equals(field[name]), name


def test_field_week_from_the_plan(run: Any) -> None:
    frame, sample, plan, _, _ = run
    start = dt.date(2019, 12, 2)
    timeline = plan.timeline.model_copy(update={"field_start": start, "field_end": start})
    moved = plan.model_copy(update={"timeline": timeline})
    field, _ = synthesize_field(frame, sample, moved, SEED)
    assert set(field["household_survey"]["visit_date"]) == {start}
