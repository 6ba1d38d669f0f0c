"""Design weights and design-based intervals (:mod:`xkaohe.analyse.estimate`).

Reference values and where they come from:

- Simple random sampling with replacement, one unit per PSU: the linearised
  variance of a proportion is ``p(1-p)/(n-1)`` (Lohr 2010, §2.3, without the
  finite population correction).
- Two cluster samples worked by hand below from Lohr's with-replacement
  linearisation formula (Lohr 2010, ch. 6 and §9.1).
- Clopper-Pearson bounds: 0 of 60 has upper bound ``1 - 0.025**(1/60) =
  0.059629`` (the closed form at zero successes, Clopper & Pearson 1934); 1 of 10
  has ``(0.002529, 0.445016)``, as printed by R's ``binom.test(1, 10)``.
- For proportions the Korn-Graubard interval agrees with svy's independent
  implementation of the NCHS rules (``prop(ci_method="korn-graubard")``).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import polars as pl
import pytest
import svy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy import special

from xkaohe.analyse import estimate
from xkaohe.analyse.estimate import (
    METHODS,
    clopper_pearson,
    count_frame,
    design_weights,
    ratio_intervals,
)
from xkaohe.errors import InputError

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def frame(rows: list[tuple[str, str, float, float, float]], census: list[bool] | None = None):
    """A ``ratio_intervals`` input from (county, village, weight, y, x) rows."""
    df = pl.DataFrame(
        rows,
        schema={
            "county_code": pl.String,
            "village_code": pl.String,
            "w": pl.Float64,
            "y": pl.Float64,
            "x": pl.Float64,
        },
        orient="row",
    )
    return df if census is None else df.with_columns(census=pl.Series(census))


def intervals(df: pl.DataFrame, method: str = "korn_graubard") -> pl.DataFrame:
    return ratio_intervals(df, numerator="y", denominator="x", weight="w", method=method)


def one(df: pl.DataFrame, method: str = "korn_graubard") -> dict[str, float]:
    out = intervals(df, method)
    assert out.height == 1
    return out.row(0, named=True)


def srs(successes: int, n: int, weight: float = 1.0) -> pl.DataFrame:
    """n units, one per PSU, ``successes`` of them positive."""
    return frame([("c", f"v{i}", weight, float(i < successes), 1.0) for i in range(n)])


# ------------------------------------------------------------- variance


@pytest.mark.parametrize("weight", [1.0, 3.7])
def test_srs_variance_is_textbook(weight: float) -> None:
    r = one(srs(8, 40, weight))
    p, n = 0.2, 40
    assert r["est"] == pytest.approx(p, rel=1e-12)
    assert r["se"] ** 2 == pytest.approx(p * (1 - p) / (n - 1), rel=1e-12)
    assert r["deff"] == pytest.approx(n / (n - 1), rel=1e-12)
    assert (r["n"], r["n_psu"]) == (40, 40)


# Four villages, equal weights, persons-weighted (x = household size):
#   R = 3/10 = 0.3, sum(w x) = 10,
#   village totals of z = w (y - R x) / 10:
#   v1 (2-0.6 ... ): (0 - 0.6) + 0 = -0.6 -> -0.06;  v2: (3 - 0.9) + (0 - 0.3) = 1.8 -> 0.18;
#   v3: 0;  v4: (0 - 0.6) + (0 - 0.6) = -1.2 -> -0.12;  mean 0,
#   v = 4/3 * (0.0036 + 0.0324 + 0 + 0.0144) = 0.0672.
HAND_PERSONS = (
    [
        ("c", "v1", 1.0, 0.0, 2.0),
        ("c", "v1", 1.0, 0.0, 0.0),
        ("c", "v2", 1.0, 3.0, 3.0),
        ("c", "v2", 1.0, 0.0, 1.0),
        ("c", "v3", 1.0, 0.0, 0.0),
        ("c", "v3", 1.0, 0.0, 0.0),
        ("c", "v4", 1.0, 0.0, 2.0),
        ("c", "v4", 1.0, 0.0, 2.0),
    ],
    0.3,
    0.0672,
    5,
)
# Three villages, unequal weights, a proportion (x = 1):
#   R = (2 + 1) / 5 = 0.6; z: v1 = (1(0-0.6) + 2(1-0.6)) / 5 = 0.04, v2 = 0.4/5 = 0.08,
#   v3 = -0.6/5 = -0.12; v = 3/2 * (0.0016 + 0.0064 + 0.0144) = 0.0336.
HAND_WEIGHTED = (
    [
        ("c", "v1", 1.0, 0.0, 1.0),
        ("c", "v1", 2.0, 1.0, 1.0),
        ("c", "v2", 1.0, 1.0, 1.0),
        ("c", "v3", 1.0, 0.0, 1.0),
    ],
    0.6,
    0.0336,
    4,
)


@pytest.mark.parametrize(
    "case",
    [pytest.param(HAND_PERSONS, id="persons"), pytest.param(HAND_WEIGHTED, id="weighted")],
)
def test_variance_matches_lohr_by_hand(case: tuple[list, float, float, int]) -> None:
    rows, est, var, n = case
    r = one(frame(rows))
    assert r["est"] == pytest.approx(est, rel=1e-12)
    assert r["se"] ** 2 == pytest.approx(var, rel=1e-12)
    assert r["n"] == n  # units with x != 0
    assert r["n_psu"] == len({row[1] for row in rows})


def reference(rows: list[tuple[str, str, float, float, float]]) -> dict[str, tuple[float, float]]:
    """Plain-Python ratio and with-replacement linearised variance per county."""
    out = {}
    for county in {r[0] for r in rows}:
        mine = [r for r in rows if r[0] == county]
        wy = sum(w * y for _, _, w, y, _ in mine)
        wx = sum(w * x for _, _, w, _, x in mine)
        if wx == 0:
            continue
        ratio = wy / wx
        z: dict[str, float] = defaultdict(float)
        for _, village, w, y, x in mine:
            z[village] += w * (y - ratio * x) / wx
        k = len(z)
        mean = sum(z.values()) / k
        var = k / (k - 1) * sum((v - mean) ** 2 for v in z.values()) if k > 1 else math.nan
        out[county] = (ratio, var)
    return out


@st.composite
def designs(draw: st.DrawFn, max_counties: int = 3) -> list[tuple[str, str, float, float, float]]:
    """Counties of 1-6 villages of 1-6 households: weight, bad persons, persons."""
    rows = []
    for c in range(draw(st.integers(1, max_counties))):
        for v in range(draw(st.integers(1, 6))):
            for _ in range(draw(st.integers(1, 6))):
                size = draw(st.integers(0, 6))
                bad = draw(st.integers(0, size))
                weight = draw(st.floats(0.5, 20.0))
                rows.append((f"c{c}", f"c{c}v{v}", weight, float(bad), float(size)))
    return rows


@PROPERTY
@given(designs())
def test_variance_matches_plain_reference(rows: list) -> None:
    expected = reference(rows)
    out = intervals(frame(rows))
    assert sorted(out["county_code"].to_list()) == sorted(expected)
    for r in out.iter_rows(named=True):
        ratio, var = expected[r["county_code"]]
        assert r["est"] == pytest.approx(ratio, rel=1e-12, abs=1e-15)
        if r["n_psu"] > 1:
            assert r["se"] ** 2 == pytest.approx(var, rel=1e-9, abs=1e-15)
        else:
            assert r["se"] is None


# ------------------------------------------------------------- intervals


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        pytest.param(0, 60, 0.0, 0.059629, id="0-of-60-closed-form"),
        pytest.param(1, 10, 0.002529, 0.445016, id="1-of-10-R-binom.test"),
        pytest.param(10, 10, 0.691503, 1.0, id="10-of-10-closed-form"),
    ],
)
def test_clopper_pearson_reference(successes: int, n: int, low: float, high: float) -> None:
    lo, hi = clopper_pearson(successes, n)
    assert float(lo) == pytest.approx(low, abs=1e-6)
    assert float(hi) == pytest.approx(high, abs=1e-6)


def test_zero_of_sixty_srs_is_clopper_pearson() -> None:
    r = one(srs(0, 60))
    assert (r["est"], r["low"]) == (0.0, 0.0)
    assert r["high"] == pytest.approx(1 - 0.025 ** (1 / 60), rel=1e-9)
    assert r["high"] == pytest.approx(0.0596, abs=5e-5)
    assert r["n_eff"] == pytest.approx(60.0)


def test_zero_in_four_villages_is_adjusted_for_degrees_of_freedom() -> None:
    r = one(frame([("c", f"v{i % 4}", 1.0, 0.0, 1.0) for i in range(60)]))
    adjust = (special.stdtrit(59, 0.975) / special.stdtrit(3, 0.975)) ** 2
    assert r["n_eff"] == pytest.approx(60 * adjust, rel=1e-12)
    assert r["high"] == pytest.approx(1 - 0.025 ** (1 / (60 * adjust)), rel=1e-9)
    assert r["high"] == pytest.approx(0.144, abs=5e-4)


def test_korn_graubard_by_hand() -> None:
    # HAND_PERSONS: R = 0.3, v = 0.0672, n = 5 units, 4 villages of which 3 have
    # a member (v3 has x = 0): df = 2, and n* = 3.125 < n needs no cap.
    r = one(frame(HAND_PERSONS[0]))
    assert (r["df"], r["n_psu"], r["insufficient"]) == (2, 4, False)
    n_star = 0.3 * 0.7 / 0.0672 * (special.stdtrit(4, 0.975) / special.stdtrit(2, 0.975)) ** 2
    lo, hi = clopper_pearson(0.3 * n_star, n_star)
    assert r["n_eff"] == pytest.approx(n_star, rel=1e-12)
    assert (r["low"], r["high"]) == pytest.approx((float(lo), float(hi)), rel=1e-12)
    assert r["deff"] == pytest.approx(5 * 0.0672 / 0.21, rel=1e-12)


def test_logit_by_hand() -> None:
    # t_{n-1} / sqrt(n*_df R(1-R)) with n*_df = n* (t_{n-1}/t_df)^2 is t_df * se / (R(1-R)).
    r = one(frame(HAND_PERSONS[0]), "logit")
    half = special.stdtrit(2, 0.975) * math.sqrt(0.0672) / 0.21
    logit = math.log(0.3 / 0.7)
    assert r["low"] == pytest.approx(1 / (1 + math.exp(-(logit - half))), rel=1e-12)
    assert r["high"] == pytest.approx(1 / (1 + math.exp(-(logit + half))), rel=1e-12)


def test_logit_uses_korn_graubard_at_zero_and_one() -> None:
    for rows in (srs(0, 30).rows(), srs(30, 30).rows()):
        df = frame(rows)
        assert one(df, "logit") == one(df, "korn_graubard")


def test_capped_at_the_number_of_units_before_the_df_adjustment() -> None:
    # Every village has the same ratio: the variance is 0, the interval is not.
    # The design effect is capped at 1 (n* = n = 20) and then adjusted for the
    # 3 degrees of freedom, so the df penalty does not vanish (issue 10).
    rows = [("c", f"v{v}", 1.0, float(i == 0), 1.0) for v in range(4) for i in range(5)]
    adjust = (special.stdtrit(19, 0.975) / special.stdtrit(3, 0.975)) ** 2
    for method in METHODS:
        r = one(frame(rows), method)
        assert r["se"] == pytest.approx(0.0, abs=1e-15)
        assert r["n_eff"] == pytest.approx(20.0 * adjust, rel=1e-12)
        assert r["low"] < 0.2 < r["high"]


def test_small_design_effect_keeps_the_df_penalty() -> None:
    # A design effect of 0.2 (< (t_19/t_3)^2 = 0.41): capping after the
    # adjustment would give n_eff = n and drop the penalty; capping before keeps it.
    rows = [("c", f"v{v}", 1.0, float(i < 2 + (v % 2)), 1.0) for v in range(4) for i in range(5)]
    r = one(frame(rows))
    adjust = (special.stdtrit(19, 0.975) / special.stdtrit(3, 0.975)) ** 2
    assert r["deff"] < adjust
    assert r["n_eff"] == pytest.approx(20.0 * adjust, rel=1e-12)


def test_three_of_ten_in_one_village_is_insufficient() -> None:
    # 10 villages, 3 exited households all in v0: df = 0, interval (0, 1), 样本不足.
    rows = [("c", "v0", 1.0, float(i == 0), 1.0) for i in range(3)]
    rows += [("c", f"v{v}", 1.0, 0.0, 0.0) for v in range(1, 10) for _ in range(4)]
    r = one(frame(rows))
    assert (r["n"], r["n_psu"], r["df"], r["insufficient"]) == (3, 10, 0, True)
    assert (r["low"], r["high"]) == (0.0, 1.0)
    assert r["n_eff"] is None and r["deff"] is None


def test_two_villages_with_members_give_one_df() -> None:
    rows = [
        ("c", f"v{v}", 1.0, float(v == 0 and i == 0), float(v < 2))
        for v in range(6)
        for i in range(4)
    ]
    r = one(frame(rows))
    assert (r["df"], r["insufficient"]) == (1, False)
    assert 0.0 <= r["low"] < r["high"] < 1.0


@st.composite
def proportions(draw: st.DrawFn) -> list[tuple[str, str, float, float, float]]:
    rows = draw(designs())
    return [(c, v, w, float(y > 0), 1.0) for c, v, w, y, _ in rows]


@PROPERTY
@given(proportions())
def test_korn_graubard_matches_svy_for_proportions(rows: list) -> None:
    # svy caps the effective sample size after the df adjustment; we cap the
    # design effect before it (NCHS, Parker et al. 2017). The two agree when
    # the estimated design effect is at least 1 or the estimate is 0 or 1.
    df = frame(rows)
    ours = intervals(df).filter(
        (pl.col("df") >= 1) & (pl.col("deff").is_null() | (pl.col("deff") >= 1))
    )
    multi = df.join(ours.select("county_code"), on="county_code", how="semi")
    if multi.height == 0:
        return
    design = svy.Design(stratum="county_code", psu="village_code", wgt="w", wr=True)
    theirs = (
        svy.Sample(multi.with_columns(pl.col("y").cast(pl.Int64)), design)
        .estimation.prop("y", by="county_code", ci_method="korn-graubard")
        .to_polars()
    )
    # svy reports one row per level; the interval of level 0 is 1 - ours, reversed.
    for r in ours.iter_rows(named=True):
        mine = theirs.filter(pl.col("county_code") == r["county_code"])
        level1 = mine.filter(pl.col("y") == 1)
        if level1.height:
            low, high = level1["lci"][0], level1["uci"][0]
        else:
            low, high = 1 - mine["uci"][0], 1 - mine["lci"][0]
        assert (r["low"], r["high"]) == pytest.approx((low, high), abs=1e-9)


# ------------------------------------------------------------ properties


@PROPERTY
@given(designs(), st.sampled_from(METHODS))
def test_interval_is_ordered_and_within_unit(rows: list, method: str) -> None:
    out = intervals(frame(rows), method)
    for r in out.iter_rows(named=True):
        assert 0.0 <= r["low"] <= r["est"] <= r["high"] <= 1.0


@PROPERTY
@given(designs(max_counties=1), st.sampled_from(METHODS))
def test_width_shrinks_with_more_villages(rows: list, method: str) -> None:
    # The same villages twice over: same estimate, twice the villages and households.
    twice = rows + [(c, v + "-copy", w, y, x) for c, v, w, y, x in rows]
    one_ = intervals(frame(rows), method)
    two = intervals(frame(twice), method)
    if one_.height == 0:
        assert two.height == 0
        return
    a, b = one_.row(0, named=True), two.row(0, named=True)
    assert b["est"] == pytest.approx(a["est"], rel=1e-9, abs=1e-15)
    assert b["high"] - b["low"] < a["high"] - a["low"]


@PROPERTY
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=60).filter(lambda s: sum(s) <= 60),
    st.integers(2, 8),
    st.randoms(use_true_random=False),
)
def test_zero_of_sixty_persons_does_not_collapse(sizes: list, villages: int, rnd) -> None:
    sizes = [*sizes, 60 - sum(sizes)] if sum(sizes) < 60 else sizes
    rows = [
        ("c", f"v{i % villages}", rnd.uniform(1.0, 30.0), 0.0, float(s))
        for i, s in enumerate(sizes)
    ]
    rows += [("c", f"v{i}", 1.0, 0.0, 0.0) for i in range(villages)]  # every village is a PSU
    for method in METHODS:
        r = one(frame(rows), method)
        assert r["est"] == 0.0
        assert r["high"] > 0.03


@PROPERTY
@given(designs(), st.data())
def test_zero_width_only_for_a_census(rows: list, data: st.DataObject) -> None:
    counties = sorted({r[0] for r in rows})
    full = set(data.draw(st.sets(st.sampled_from(counties))))
    partial = {c for c in counties if c not in full and data.draw(st.booleans())}
    census = [r[0] in full or (r[0] in partial and i % 2 == 0) for i, r in enumerate(rows)]
    out = intervals(frame(rows, census))
    for r in out.iter_rows(named=True):
        all_true = all(c for row, c in zip(rows, census, strict=True) if row[0] == r["county_code"])
        assert (r["high"] - r["low"] == 0.0) == all_true
        if all_true:
            assert r["low"] == r["est"] == r["high"]


@PROPERTY
@given(designs(), designs())
def test_a_county_does_not_depend_on_the_others(rows: list, others: list) -> None:
    others = [("z" + c, "z" + v, w, y, x) for c, v, w, y, x in others]
    alone = intervals(frame(rows))
    together = intervals(frame(rows + others)).filter(pl.col("county_code").str.starts_with("c"))
    assert_frame_equal(alone, together, rel_tol=1e-9, abs_tol=1e-15)


# ------------------------------------------------------------ edge cases


def test_single_village_gets_the_whole_unit_interval() -> None:
    r = one(frame([("c", "v1", 1.0, 1.0, 2.0), ("c", "v1", 1.0, 0.0, 3.0)]))
    assert (r["low"], r["high"], r["n_psu"]) == (0.0, 1.0, 1)
    assert r["se"] is None and r["deff"] is None and r["n_eff"] is None


def test_census_is_the_point() -> None:
    rows = HAND_PERSONS[0]
    r = one(frame(rows, [True] * len(rows)))
    assert r["low"] == r["est"] == r["high"] == pytest.approx(0.3)
    assert r["se"] == 0.0 and r["n_eff"] is None


def test_counties_without_units_are_absent() -> None:
    rows = [*HAND_PERSONS[0], ("empty", "e1", 1.0, 0.0, 0.0), ("empty", "e2", 2.0, 0.0, 0.0)]
    assert intervals(frame(rows))["county_code"].to_list() == ["c"]


def test_output_columns_and_types() -> None:
    out = intervals(frame(HAND_PERSONS[0]))
    assert out.schema == pl.Schema(
        {
            "county_code": pl.String,
            "est": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
            "se": pl.Float64,
            "n": pl.Int64,
            "n_psu": pl.Int64,
            "df": pl.Int64,
            "insufficient": pl.Boolean,
            "deff": pl.Float64,
            "n_eff": pl.Float64,
        }
    )


def test_confidence_level_widens_the_interval() -> None:
    df = frame(HAND_PERSONS[0])
    narrow = ratio_intervals(df, numerator="y", denominator="x", weight="w", confidence=0.8)
    wide = intervals(df)
    assert narrow["high"][0] - narrow["low"][0] < wide["high"][0] - wide["low"][0]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param((pl.col("w") * 0).alias("w"), "positive weight", id="zero-weight"),
        pytest.param((pl.col("x") + 1).alias("y"), "0 <= y <= x", id="y-above-x"),
        pytest.param(pl.lit(None, pl.Float64).alias("x"), "no missing values", id="null"),
    ],
)
def test_bad_rows_are_named(change: pl.Expr, match: str) -> None:
    df = frame(HAND_PERSONS[0]).with_columns(change)
    with pytest.raises(InputError, match=match):
        intervals(df)


def test_missing_column_is_named() -> None:
    with pytest.raises(InputError, match=r"column 'w'.*found only county_code"):
        intervals(frame(HAND_PERSONS[0]).drop("w"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"method": "wald"}, "method must be one of", id="method"),
        pytest.param({"confidence": 95.0}, "confidence must be in", id="confidence"),
        pytest.param({"domain": "est"}, "output column", id="domain-name"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    df = frame(HAND_PERSONS[0]).with_columns(est=pl.col("county_code"))
    with pytest.raises(ValueError, match=match):
        ratio_intervals(df, numerator="y", denominator="x", weight="w", **kwargs)


def test_clopper_pearson_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="0 <= successes <= n"):
        clopper_pearson(3, 2)


# --------------------------------------------------------------- weights

# Village V1 (inclusion probability 0.5): frame 10 exited_2019, 6 not_exited and
# 30 general households; surveyed 4, 2 and 3 of them. Village V2 (probability
# 0.25): frame 8 exited_2019, 4 general; surveyed 2 and 1.
#   V1 exited_2019: 2 * 10/4 = 5;  not_exited: 2 * 6/2 = 6;  general: 2 * 30/3 = 20
#   V2 exited_2019: 4 * 8/2 = 16;  general: 4 * 4/1 = 16
SURVEYED = pl.DataFrame(
    {
        "county_code": ["C"] * 12,
        "village_code": ["V1"] * 9 + ["V2"] * 3,
        "household_id": [f"h{i}" for i in range(12)],
        "status": ["exited_2019"] * 4
        + ["not_exited"] * 2
        + [None] * 3
        + ["exited_2019"] * 2
        + [None],
        "registered": [True] * 6 + [False] * 3 + [True] * 2 + [False],
    }
)
VILLAGES = pl.DataFrame({"village_code": ["V1", "V2"], "inclusion_prob": [0.5, 0.25]})
FRAME_VILLAGES = pl.DataFrame({"village_code": ["V1", "V2"], "households_total": [46, 12]})
FRAME_HOUSEHOLDS = pl.DataFrame(
    {
        "village_code": ["V1"] * 16 + ["V2"] * 8,
        "status": ["exited_2019"] * 10 + ["not_exited"] * 6 + ["exited_2019"] * 8,
    }
)


def test_count_frame_by_hand() -> None:
    counts = count_frame(FRAME_VILLAGES, FRAME_HOUSEHOLDS)
    assert counts.rows() == [
        ("V1", "exited_2019", 10),
        ("V1", "not_exited", 6),
        ("V1", None, 30),
        ("V2", "exited_2019", 8),
        ("V2", None, 4),
    ]


def test_design_weights_by_hand() -> None:
    counts = count_frame(FRAME_VILLAGES, FRAME_HOUSEHOLDS)
    shuffled = SURVEYED.sample(fraction=1.0, shuffle=True, seed=3)
    out = design_weights(shuffled, VILLAGES, counts)
    assert out.drop("weight").equals(shuffled)
    expected = {"V1exited_2019": 5.0, "V1not_exited": 6.0, "V1None": 20.0}
    expected |= {"V2exited_2019": 16.0, "V2None": 16.0}
    for r in out.iter_rows(named=True):
        assert r["weight"] == pytest.approx(expected[f"{r['village_code']}{r['status']}"])
    # The weights of a village add up to its frame households over its probability.
    assert out.group_by("village_code").agg(pl.col("weight").sum()).sort("village_code").rows() == [
        ("V1", pytest.approx(46 / 0.5)),
        ("V2", pytest.approx(12 / 0.25)),
    ]


def test_design_weights_name_every_problem() -> None:
    counts = count_frame(FRAME_VILLAGES, FRAME_HOUSEHOLDS).filter(
        ~((pl.col("village_code") == "V2") & pl.col("status").is_null())
    )
    bad = SURVEYED.with_columns(
        registered=pl.when(pl.col("household_id") == "h0").then(False).otherwise("registered")
    )
    with pytest.raises(InputError) as info:
        design_weights(bad, VILLAGES.with_columns(inclusion_prob=pl.lit(1.5)), counts)
    message = str(info.value)
    assert "2 problem(s)" in message
    assert "'h0'" in message and "inclusion_prob" in message and "frame count" not in message


def test_design_weights_missing_cells_and_small_counts() -> None:
    counts = count_frame(FRAME_VILLAGES, FRAME_HOUSEHOLDS)
    counts = counts.filter(~((pl.col("village_code") == "V2") & pl.col("status").is_null()))
    counts = counts.with_columns(N=pl.when(pl.col("status") == "not_exited").then(1).otherwise("N"))
    with pytest.raises(InputError) as info:
        design_weights(SURVEYED, VILLAGES, counts)
    message = str(info.value)
    assert "a frame count for every village and status" in message and "'h11'" in message
    assert "at least the number of households surveyed" in message and "'h4'" in message


def test_count_frame_rejects_more_registered_than_total() -> None:
    with pytest.raises(InputError, match="households_total"):
        count_frame(FRAME_VILLAGES.with_columns(households_total=pl.lit(5)), FRAME_HOUSEHOLDS)


def test_weights_feed_the_intervals() -> None:
    counts = count_frame(FRAME_VILLAGES, FRAME_HOUSEHOLDS)
    weighted = design_weights(SURVEYED, VILLAGES, counts).with_columns(
        y=pl.col("household_id").is_in(["h0", "h9"]).cast(pl.Float64), x=pl.lit(1.0)
    )
    r = ratio_intervals(weighted, numerator="y", denominator="x", weight="weight").row(
        0, named=True
    )
    assert r["est"] == pytest.approx((5 + 16) / (46 / 0.5 + 12 / 0.25))
    assert np.isfinite(r["se"]) and r["n_psu"] == 2


def test_batched_variance_is_bitwise_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # svy is called for a batch of domains at a time (its covariance of every pair of
    # domains is quadratic in their number); each domain is its own stratum, so the
    # batches must give exactly the bits of one call over all domains.
    rng = np.random.default_rng(16)
    rows = 6000
    df = pl.DataFrame(
        {
            "county_code": [f"c{i:03d}" for i in rng.integers(0, 150, rows)],
            "village_code": [f"v{i}" for i in rng.integers(0, 6, rows)],
            "w": rng.uniform(1.0, 90.0, rows),
            "x": rng.integers(0, 6, rows).astype(float),
        }
    ).with_columns(y=(pl.col("x") * pl.Series(rng.uniform(0, 1, rows))).floor())
    kwargs = {"numerator": "y", "denominator": "x", "weight": "w"}
    batched = ratio_intervals(df, **kwargs)
    assert batched.height > 2 * estimate._DOMAINS_PER_CALL  # several batches
    monkeypatch.setattr(estimate, "_DOMAINS_PER_CALL", 10**9)
    whole = ratio_intervals(df, **kwargs)
    assert batched.equals(whole, null_equal=True)
