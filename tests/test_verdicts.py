"""One status rule and one county verdict (:mod:`xkaohe.analyse.verdicts`).

Reference values: the detection limit at zero allowed hits is the closed form
``1 - (1 - power)^(1/n)`` (P(K >= 1) = 1 - (1-p)^n); the others are checked
against binomial draws from a seeded generator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from xkaohe.analyse.indicators import classify, county_indicators
from xkaohe.analyse.verdicts import (
    EXIT_COLUMNS,
    VERDICT_COLUMNS,
    county_verdicts,
    detection_limits,
    exit_standard,
    rate_status,
)
from xkaohe.io.plan_file import load_plan
from xkaohe.io.results import read_result
from xkaohe.plan import Bound
from xkaohe.results_spec import Result
from xkaohe.run.stages import prepare_demo_run

PLAN = load_plan(Path(__file__).parent.parent / "params" / "plan-2019.yaml")
MAX2 = Bound(max=0.02)
MIN90 = Bound(min=0.90)
JUDGED = PLAN.indicators.judged_rates
CASE_RATES = ("wrong_exit_rate", "omission_rate", "wrong_inclusion_rate")


def status(ratio: float | None, low: float | None, high: float | None, bound: Bound) -> str | None:
    df = pl.DataFrame(
        {"r": [ratio], "lo": [low], "hi": [high]},
        schema={"r": pl.Float64, "lo": pl.Float64, "hi": pl.Float64},
    )
    out = df.select(rate_status(pl.col("r"), pl.col("lo"), pl.col("hi"), bound).alias("s"))
    value = out["s"][0]
    return None if value is None else str(value)


@pytest.mark.parametrize(
    ("ratio", "low", "high", "bound", "expected"),
    [
        pytest.param(0.05, 0.01, 0.10, MAX2, "fail", id="max-ratio-above"),
        pytest.param(0.0, 0.0, 0.015, MAX2, "pass", id="max-interval-below"),
        pytest.param(0.0, 0.0, 0.02, MAX2, "pass", id="max-limit-on-the-line-passes"),
        pytest.param(0.02, 0.0, 0.15, MAX2, "not_found", id="max-ratio-on-the-line"),
        pytest.param(0.0, 0.0, 0.20, MAX2, "not_found", id="max-zero-of-a-small-sample"),
        pytest.param(0.0, 0.0, 1.0, MAX2, "not_found", id="max-insufficient-interval"),
        pytest.param(0.85, 0.70, 0.95, MIN90, "fail", id="min-ratio-below"),
        pytest.param(0.97, 0.92, 0.99, MIN90, "pass", id="min-interval-above"),
        pytest.param(0.95, 0.85, 0.99, MIN90, "not_found", id="min-interval-across"),
        pytest.param(None, None, None, MAX2, None, id="no-households-no-status"),
        pytest.param(0.05, None, None, MAX2, "fail", id="fail-needs-no-interval"),
        pytest.param(0.0, None, None, MAX2, "not_found", id="no-interval-never-passes"),
    ],
)
def test_rate_status(
    ratio: float | None, low: float | None, high: float | None, bound: Bound, expected: str | None
) -> None:
    assert status(ratio, low, high, bound) == expected


# ------------------------------------------------------------------ verdict


def verdict_of(statuses: list[str | None], category: str = "non_key") -> dict[str, str]:
    ind = pl.DataFrame(
        {
            "county_code": ["C1"],
            **{f"{r}_status": [s] for r, s in zip(JUDGED, statuses, strict=True)},
        },
        schema={"county_code": pl.String, **{f"{r}_status": pl.String for r in JUDGED}},
    )
    counties = pl.DataFrame({"county_code": ["C1"], "category": [category]})
    out = county_verdicts(ind, counties, PLAN)
    assert out.columns == list(VERDICT_COLUMNS)
    return out.row(0, named=True)


@pytest.mark.parametrize(
    ("statuses", "verdict", "failing"),
    [
        pytest.param(["pass", "fail", "not_found"], "fail", "omission_rate", id="any-fail"),
        pytest.param(
            [None, "not_found", "fail"], "fail", "approval_rate", id="fail-before-no-data"
        ),
        pytest.param(
            ["fail", "pass", "fail"], "fail", "wrong_exit_rate;approval_rate", id="plan-order"
        ),
        pytest.param(["pass", None, "pass"], "no_data", "", id="no-data-before-pass"),
        pytest.param([None, "not_found", "pass"], "no_data", "", id="no-data-before-not-found"),
        pytest.param(["pass", "pass", "pass"], "pass", "", id="all-pass"),
        pytest.param(["pass", "not_found", "pass"], "not_found", "", id="one-not-found"),
    ],
)
def test_verdict_precedence(statuses: list[str | None], verdict: str, failing: str) -> None:
    row = verdict_of(statuses)
    assert (row["verdict"], row["failing"]) == (verdict, failing)


@pytest.mark.parametrize(
    ("category", "scope"),
    [
        pytest.param("exit_2019", "exit_standard", id="exiting-this-year"),
        pytest.param("exited", "reference", id="exited"),
        pytest.param("deep_poverty", "reference", id="deep-poverty"),
        pytest.param("non_key", "reference", id="non-key"),
    ],
)
def test_scope_follows_the_plans_exit_standard_categories(category: str, scope: str) -> None:
    assert verdict_of(["fail", "pass", "pass"], category)["scope"] == scope


def test_a_county_without_indicators_has_no_data() -> None:
    ind = pl.DataFrame(
        schema={"county_code": pl.String, **{f"{r}_status": pl.String for r in JUDGED}}
    )
    counties = pl.DataFrame({"county_code": ["C2", "C1"], "category": ["non_key", "exit_2019"]})
    out = county_verdicts(ind, counties, PLAN)
    assert out.rows() == [
        ("C1", "no_data", "exit_standard", ""),
        ("C2", "no_data", "reference", ""),
    ]


# ---------------------------------------------------------- detection limit


@pytest.mark.parametrize("n", [10, 30, 49])
def test_detection_limit_closed_form_when_one_hit_fails(n: int) -> None:
    # n < 50: a single hit already exceeds 2%, so P(fail) = 1 - (1 - p)^n.
    limit = detection_limits([n], MAX2, 0.8)[0]
    assert limit == pytest.approx(1 - 0.2 ** (1 / n), rel=1e-10)


@pytest.mark.parametrize(
    ("n", "bound"),
    [
        pytest.param(50, MAX2, id="max-one-hit-on-the-line"),
        pytest.param(137, MAX2, id="max-137"),
        pytest.param(40, MIN90, id="min-40"),
        pytest.param(113, MIN90, id="min-113"),
    ],
)
def test_detection_limit_flags_with_the_plans_power(n: int, bound: Bound) -> None:
    p = float(detection_limits([n], bound, 0.8)[0])
    rng = np.random.default_rng(20191129)
    ratio = rng.binomial(n, p, size=200_000) / n
    flagged = ratio > bound.value if bound.side == "max" else ratio < bound.value
    assert flagged.mean() == pytest.approx(0.8, abs=0.005)
    # Just inside the limit the power is lower: the limit is the smallest such rate.
    step = -0.002 if bound.side == "max" else 0.002
    closer = rng.binomial(n, p + step, size=200_000) / n
    fewer = closer > bound.value if bound.side == "max" else closer < bound.value
    assert fewer.mean() < 0.8


def test_detection_limit_shrinks_towards_the_threshold_with_more_households() -> None:
    limits = detection_limits([20, 100, 1000, 10000], MAX2, 0.8)
    assert np.all(np.diff(limits) < 0) and limits[-1] > 0.02
    approval = detection_limits([20, 100, 1000, 10000], MIN90, 0.8)
    assert np.all(np.diff(approval) > 0) and approval[-1] < 0.90


def test_no_households_no_detection_limit() -> None:
    assert np.isnan(detection_limits([0], MAX2, 0.8)[0])


# ------------------------------------------------------------ exit standard


def exit_row(rural: int | None, v2_exited: bool | None, rates: str = "not_found") -> dict:
    """County C1 (exiting this year) worked by hand, C2 (not exiting) left out.

    Registered persons: V1 not_exited 5, exited_2019 10, exited_2016_2018 10;
    V2 relapsed 3, new_2018_2019 2 -> 30 registered, 10 remaining, 20 exited.
    """
    counties = pl.DataFrame(
        {
            "county_code": ["C1", "C2"],
            "category": ["exit_2019", "non_key"],
            "rural_population": [rural, 500],
        },
        schema={"county_code": pl.String, "category": pl.String, "rural_population": pl.Int64},
    )
    villages = pl.DataFrame(
        {
            "village_code": ["V1", "V2", "V3"],
            "county_code": ["C1", "C1", "C2"],
            "is_poor_village": [True, True, False],
            "poor_village_exited": [True, v2_exited, None],
        },
        schema={
            "village_code": pl.String,
            "county_code": pl.String,
            "is_poor_village": pl.Boolean,
            "poor_village_exited": pl.Boolean,
        },
    )
    households = pl.DataFrame(
        {
            "village_code": ["V1", "V1", "V1", "V2", "V2", "V3"],
            "status": [
                "not_exited",
                "exited_2019",
                "exited_2016_2018",
                "relapsed",
                "new_2018_2019",
                "not_exited",
            ],
            "household_size": [5, 10, 10, 3, 2, 4],
        }
    )
    rate_cols = {
        "omission_rate_est": 0.01,
        "omission_rate_low": 0.0,
        "omission_rate_high": 0.05,
        "wrong_exit_rate_est": 0.1,
        "wrong_exit_rate_low": 0.0,
        "wrong_exit_rate_high": 0.3,
    }
    indicators = pl.DataFrame(
        {"county_code": ["C1", "C2"], **{k: [v, v] for k, v in rate_cols.items()}}
    )
    verdicts = pl.DataFrame(
        {"county_code": ["C1", "C2"], "verdict": [rates, "pass"], "failing": ["", ""]}
    )
    out = exit_standard(counties, villages, households, indicators, verdicts, PLAN)
    assert out.columns == list(EXIT_COLUMNS) and out["county_code"].to_list() == ["C1"]
    return out.row(0, named=True)


def test_exit_standard_worked_by_hand() -> None:
    # general persons 1000 - 30 = 970: omitted 9.7; wrongly exited 0.1 * 20 = 2.
    row = exit_row(1000, False)
    assert (row["registered_persons"], row["remaining_poor_persons"]) == (30, 10)
    assert row["omitted_persons_est"] == pytest.approx(9.7)
    assert row["wrongly_exited_persons_est"] == pytest.approx(2.0)
    assert row["poverty_incidence"] == pytest.approx(21.7 / 1000)
    assert row["poverty_incidence_low"] == pytest.approx(10 / 1000)
    assert row["poverty_incidence_high"] == pytest.approx((10 + 48.5 + 6) / 1000)
    assert row["poverty_incidence_status"] == "fail"  # 2.17% is above 2%
    assert (row["poor_villages"], row["poor_villages_exited"], row["poor_villages_ok"]) == (
        2,
        1,
        False,
    )
    assert (row["verdict"], row["failing"]) == ("fail", "poverty_incidence;poor_villages")


@pytest.mark.parametrize(
    ("rural", "v2", "rates", "incidence", "verdict"),
    [
        pytest.param(5000, True, "not_found", "not_found", "not_found", id="nothing-fails"),
        pytest.param(5000, True, "fail", "not_found", "fail", id="a-rate-fails"),
        pytest.param(None, True, "not_found", None, "no_data", id="no-rural-population"),
        pytest.param(5000, None, "not_found", "not_found", "no_data", id="village-exit-unknown"),
    ],
)
def test_exit_verdict(
    rural: int | None, v2: bool | None, rates: str, incidence: str | None, verdict: str
) -> None:
    row = exit_row(rural, v2, rates)
    assert (row["poverty_incidence_status"], row["verdict"]) == (incidence, verdict)


# -------------------------------------------------- statuses against simulation


def _simulated_counties(rate: float, counties: int, households: int, seed: int) -> pl.DataFrame:
    """Exited households, one per village, size 1: the official ratio is binomial."""
    rng = np.random.default_rng(seed)
    wrong = rng.random((counties, households)) < rate
    line = PLAN.indicators.income_line_yuan
    return pl.DataFrame(
        {
            "county_code": np.repeat([f"C{i:04d}" for i in range(counties)], households),
            "village_code": np.tile([f"V{j:03d}" for j in range(households)], counties),
            "household_id": [f"H{k}" for k in range(counties * households)],
            "registered": True,
            "household_size": 1,
            "income_per_capita_yuan": np.where(wrong.ravel(), line - 1.0, line + 1.0),
            "food_clothing_ok": True,
            "education_ok": True,
            "medical_ok": True,
            "housing_safe": True,
            "water_safe": True,
            "ineligible_evidence": False,
            "knows_helper": True,
            "approval": "approve",
            "frame_status": "exited_2019",
            "weight": 1.0,
        }
    )


def test_statuses_against_simulation_at_the_detection_limit_and_at_zero() -> None:
    n = 40
    limit = float(detection_limits([n], MAX2, 0.8)[0])
    at_limit = _simulated_counties(limit, 800, n, seed=1)
    ind = county_indicators(classify(at_limit, PLAN), at_limit.select("county_code").unique(), PLAN)
    share_fail = (ind["wrong_exit_rate_status"] == "fail").mean()
    assert share_fail == pytest.approx(0.8, abs=0.045)  # 3 standard errors of 800 counties
    assert ind["wrong_exit_rate_detect"].unique().to_list() == [pytest.approx(limit)]
    clean = _simulated_counties(0.0, 200, n, seed=2)
    ind0 = county_indicators(classify(clean, PLAN), clean.select("county_code").unique(), PLAN)
    # Zero of 40 never fails and cannot pass a 2% line: not_found, every time.
    assert set(ind0["wrong_exit_rate_status"]) == {"not_found"}


# ------------------------------------------------------------ the demo run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small synthetic demo's results, read-only."""
    out = tmp_path_factory.mktemp("verdicts")
    prepare_demo_run(out, field_lists=False)
    return out


def test_no_rate_problem_in_the_demo_without_a_failing_rate_or_a_found_case(demo: Path) -> None:
    ind = read_result(demo, Result.COUNTY_INDICATORS)
    proposed = read_result(demo, Result.FINDINGS).filter(pl.col("source") == "indicator")
    assert proposed.height > 0
    for rate, group in proposed.group_by("rule"):
        name = str(rate[0])
        status = f"{name}_status"
        evidence = pl.col(name) > 0
        if status in ind.columns:
            evidence = evidence | (pl.col(status) == "fail")
        if name == "approval_rate":  # no cases: only a failing rate proposes a problem
            evidence = pl.col(status) == "fail"
        backed = ind.filter(evidence)["county_code"]
        assert group["county_code"].is_in(backed.implode()).all(), name
    # Counties where no rate fails and the sample found no case of any kind.
    no_case = [(pl.col(r) == 0).fill_null(True) for r in CASE_RATES]
    no_fail = [(pl.col(f"{r}_status") != "fail").fill_null(True) for r in JUDGED]
    quiet = ind.filter(pl.all_horizontal(no_case + no_fail))["county_code"]
    silent = proposed.filter(pl.col("county_code").is_in(quiet.implode()))
    assert quiet.len() > 0 and silent.height == 0


def test_the_demo_stores_one_verdict_per_county_from_its_statuses(demo: Path) -> None:
    verdicts = read_result(demo, Result.COUNTY_VERDICTS)
    counties = read_result(demo, Result.COUNTIES)
    assert verdicts.columns == list(VERDICT_COLUMNS)
    assert sorted(verdicts["county_code"]) == sorted(counties["county_code"])
    ind = read_result(demo, Result.COUNTY_INDICATORS)
    both = verdicts.join(ind, on="county_code")
    failing = both.filter(pl.col("verdict") == "fail")
    assert failing.height > 0 and (failing["failing"] != "").all()
    for r in JUDGED:
        assert (both.filter(pl.col(f"{r}_status") == "fail")["verdict"] == "fail").all()
    exiting = counties.filter(pl.col("category") == "exit_2019")["county_code"]
    scope = verdicts.filter(pl.col("scope") == "exit_standard")["county_code"]
    assert sorted(scope) == sorted(exiting)
    exit_table = read_result(demo, Result.EXIT_STANDARD)
    assert sorted(exit_table["county_code"]) == sorted(exiting)
    assert exit_table["poverty_incidence"].is_not_null().all()
    share = ind["candidate_household_share"]
    assert share.is_not_null().all() and ((share > 0) & (share <= 1)).all()
