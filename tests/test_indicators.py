"""Indicators: official ratios exact, statuses by the plan's thresholds, and the
planted truth of the synthetic province recovered end to end."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from xkaohe.analyse.indicators import candidate_share, classify, county_indicators
from xkaohe.cli import main
from xkaohe.io.plan_file import load_plan

PLAN_PATH = Path(__file__).parent.parent / "params" / "plan-2019.yaml"
PLAN = load_plan(PLAN_PATH)
LINE = PLAN.indicators.income_line_yuan


def survey(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Surveyed households with defaults: qualified, approving, registered, exited."""
    base: dict[str, object] = {
        "county_code": "C1", "village_code": "V1", "registered": True, "household_size": 1,
        "income_per_capita_yuan": LINE + 1000.0, "food_clothing_ok": True,
        "education_ok": True, "medical_ok": True, "housing_safe": True, "water_safe": True,
        "ineligible_evidence": False, "knows_helper": True, "approval": "approve",
        "frame_status": "exited_2019", "weight": 1.0,
    }
    full = [base | {"household_id": f"H{i}"} | r for i, r in enumerate(rows)]
    return pl.DataFrame(full).with_columns(pl.col("frame_status").cast(pl.String))


def indicators_of(rows: list[dict[str, object]]) -> dict[str, object]:
    households = classify(survey(rows), PLAN)
    counties = pl.DataFrame({"county_code": ["C1"]})
    return county_indicators(households, counties, PLAN).row(0, named=True)


def test_wrong_exit_rate_counts_persons() -> None:
    # 3 exited households of 2, 3 and 5 persons; the 5-person one is below the line.
    rows = [
        {"household_size": 2, "village_code": "V1"},
        {"household_size": 3, "village_code": "V2"},
        {"household_size": 5, "village_code": "V3", "income_per_capita_yuan": LINE - 1},
        {"registered": False, "frame_status": None, "village_code": "V1"},
    ]
    r = indicators_of(rows)
    assert r["wrong_exit_rate"] == pytest.approx(5 / 10, abs=0)
    assert r["wrong_exit_rate_n"] == 10
    assert r["wrong_exit_rate_status"] == "fail"


@pytest.mark.parametrize(("item", "value"), [
    pytest.param("food_clothing_ok", False, id="food"),
    pytest.param("education_ok", False, id="education"),
    pytest.param("medical_ok", False, id="medical"),
    pytest.param("housing_safe", False, id="housing"),
    pytest.param("water_safe", False, id="water"),
    pytest.param("income_per_capita_yuan", LINE - 0.01, id="income-below-line"),
])
def test_any_failed_item_makes_an_exited_household_a_wrong_exit(item: str, value: object
                                                                 ) -> None:
    rows = [{"village_code": f"V{i}"} for i in range(3)] + [{item: value, "village_code": "V3"}]
    assert indicators_of(rows)["wrong_exit_rate"] == pytest.approx(1 / 4, abs=0)


def test_income_exactly_at_the_line_qualifies() -> None:
    rows = [{"income_per_capita_yuan": LINE, "village_code": f"V{i}"} for i in range(4)]
    assert indicators_of(rows)["wrong_exit_rate"] == 0.0


def test_omission_and_approval_and_wrong_inclusion() -> None:
    rows = [
        {"registered": False, "frame_status": None, "household_size": 4, "village_code": "V1",
         "housing_safe": False, "ineligible_evidence": None, "knows_helper": None},
        {"registered": False, "frame_status": None, "household_size": 6, "village_code": "V2",
         "ineligible_evidence": None, "knows_helper": None, "approval": "disapprove"},
        {"village_code": "V3", "ineligible_evidence": True, "approval": "basic"},
        {"village_code": "V4", "frame_status": "not_exited"},
    ]
    r = indicators_of(rows)
    assert r["omission_rate"] == pytest.approx(4 / 10, abs=0)
    assert r["omission_rate_n"] == 10
    assert r["approval_rate"] == pytest.approx(3 / 4, abs=0)
    assert r["wrong_inclusion_rate"] == pytest.approx(1 / 2, abs=0)
    assert "wrong_inclusion_rate_status" not in r  # no threshold in the plan


def test_a_rate_without_households_is_empty_never_zero() -> None:
    r = indicators_of([{"village_code": "V1"}, {"village_code": "V2"}])  # no general household
    assert r["omission_rate"] is None and r["omission_rate_status"] is None
    assert r["omission_rate_low"] is None


def test_zero_wrong_exits_in_a_small_sample_is_not_found_not_pass() -> None:
    # 0 of 30 exited households: the interval still reaches above 2 %.
    r = indicators_of([{"village_code": f"V{i % 4}"} for i in range(30)])
    assert r["wrong_exit_rate"] == 0.0
    assert 0.02 < r["wrong_exit_rate_high"] < 1
    assert r["wrong_exit_rate_status"] == "not_found"
    assert r["wrong_exit_rate_df"] == 3 and r["wrong_exit_rate_insufficient"] is False
    # 30 households: one hit already exceeds 2 %, so the limit is where P(K >= 1) = 0.8.
    assert r["wrong_exit_rate_detect"] == pytest.approx(1 - 0.2 ** (1 / 30), rel=1e-9)


def test_interval_contains_the_estimate() -> None:
    rows = [{"village_code": f"V{i % 4}", "household_size": 1 + i % 3} for i in range(40)]
    rows[5]["income_per_capita_yuan"] = 0.0
    r = indicators_of(rows)
    for rate in ("wrong_exit_rate", "approval_rate"):
        assert 0 <= r[f"{rate}_low"] <= r[f"{rate}_est"] <= r[f"{rate}_high"] <= 1


# ------------------------------------------------------- the synthetic province


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    out = tmp_path_factory.mktemp("ind")
    assert main(["synth", "--out", str(out), "--seed", "truth-test"]) == 0
    assert main(["sample", "--frame", str(out / "frame"), "--plan", str(PLAN_PATH), "--seed",
                 "truth-test", "--out", str(out / "sample"), "--no-field-lists"]) == 0
    assert main(["indicators", "--frame", str(out / "frame"), "--sample", str(out / "sample"),
                 "--field", str(out / "field"), "--plan", str(PLAN_PATH),
                 "--out", str(out / "results")]) == 0
    tables = {p.stem: pl.read_parquet(p) for p in (out / "results").glob("*.parquet")}
    tables |= {f"truth_{p.stem}": pl.read_csv(p, infer_schema=False)
               for p in (out / "truth").glob("*.csv")}
    return tables


def test_planted_bad_counties_fail_and_clean_ones_never_fail(
        results: dict[str, pl.DataFrame]) -> None:
    truth = results["truth_counties"].with_columns(
        [(pl.col(c) == "true").alias(c) for c in ("wrong_exit", "omission", "low_approval")])
    ind = results["county_indicators"].join(truth, on="county_code")
    for fault, rate in [("wrong_exit", "wrong_exit_rate"), ("omission", "omission_rate"),
                        ("low_approval", "approval_rate")]:
        planted = ind.filter(pl.col(fault))
        assert planted.height > 0, fault
        assert (planted[f"{rate}_status"] == "fail").all(), fault
        clean = ind.filter(~pl.col(fault))
        assert (clean[f"{rate}_status"] != "fail").all(), fault


def test_cross_checks_find_the_planted_discrepancies(results: dict[str, pl.DataFrame]) -> None:
    villages = results["check_villages"].filter(pl.col("flagged"))
    planted = results["truth_overclaim_villages"]
    found = set(villages.select("village_code", "item").iter_rows())
    assert set(planted.select("village_code", "item").iter_rows()) <= found
    projects = results["check_projects"].filter(pl.col("any_discrepancy"))
    assert set(results["truth_project_discrepancies"]["project_id"]) <= set(projects["project_id"])
    flagged = set(results["check_helpers"].filter(pl.col("mismatch_flagged"))["helper_id"])
    interviewed = set(results["truth_helpers_unaware"]["helper_id"]) & set(
        results["check_claims"]["helper_id"])
    assert interviewed and interviewed <= flagged


def test_completeness_boxes_match_the_planted_shortfalls(results: dict[str, pl.DataFrame]
                                                         ) -> None:
    short = results["completeness"].filter((pl.col("unit") == "county") & ~pl.col("ok"))
    planted = results["truth_short_completeness"]
    assert set(planted["code"]) <= set(short["code"])


def test_no_field_row_is_rejected_in_clean_synthetic_returns(results: dict[str, pl.DataFrame]
                                                             ) -> None:
    assert results["rejects"].height == 0



def test_candidate_share_is_the_registered_households_in_drawable_villages() -> None:
    candidates = pl.DataFrame({"village_code": ["V1", "V2"]})
    villages = pl.DataFrame(
        {"village_code": ["V1", "V2", "V3", "W1"], "county_code": ["C1", "C1", "C1", "C2"]}
    )
    households = pl.DataFrame({"village_code": ["V1", "V1", "V3", "V3", "W1"]})
    share = candidate_share(candidates, villages, households)
    assert share.rows() == [("C1", 0.5), ("C2", 0.0)]
    r = county_indicators(
        classify(survey([{"village_code": "V1"}]), PLAN),
        pl.DataFrame({"county_code": ["C1"]}),
        PLAN,
        share,
    )
    assert r.columns[:2] == ["county_code", "candidate_household_share"]
    assert r["candidate_household_share"].to_list() == [0.5]
