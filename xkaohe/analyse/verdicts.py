"""One status rule for the rates and one verdict per county (DESIGN.md, "Indicators").

Decided here once and stored in the results store (``county_indicators``'s
``R_status`` and the ``county_verdicts`` table); every report, the index, the
feedback files and the explorer read the stored codes and none re-decides.

Rate status (per county and rate R with a plan threshold)
    ``fail`` (未达标) when the official ratio R is on the wrong side of the
    threshold — the plan and the exit standard judge the ratio counted as the
    policy counts it, not an estimate; ``pass`` (达标) only when the whole 95%
    interval of ``R_est`` lies on the right side (a limit equal to the
    threshold is on the right side, as the threshold itself passes);
    otherwise ``not_found`` (未发现超标: no breach found, but the sample cannot
    confirm the threshold), shown with the county's detection limit
    ``R_detect``. No status (null, never a zero) when the county surveyed no
    household of the rate's population.

County verdict (``county_verdicts``)
    ``fail`` when any judged rate fails; else ``no_data`` when any judged rate
    has no status; else ``pass`` when all pass; else ``not_found``.
    ``failing`` lists the failing rates in plan order. ``scope`` is
    ``exit_standard`` for the counties of the plan's exit-standard categories
    (三(一)1: 今年拟摘帽的贫困县, 重点考核贫困县退出标准达标情况) — for them the
    thresholds are their exit standard — and ``reference`` for the others,
    for which the thresholds are only a reference line: plan 八(二) forbids
    judging beyond the standard and scope (防止超标准超范围考核), so no wording
    may call such a county 未达标 or 需重点整改 on rates alone.

Detection limit (:func:`detection_limits`)
    The true rate at which the county's sample would give ``fail`` with the
    plan's ``detection_power`` (80%). Computed on the official ratio with a
    binomial model in households: the county's ``n`` surveyed households of
    the rate's population as independent trials with the true rate as
    success probability. This ignores household size (persons-weighted rates
    count people, and a household's members share its status) and the
    clustering of households in villages, both of which make the official
    ratio more variable; the limit is therefore the best the sample could do
    and a reader should take it as "a breach smaller than this could easily
    go unseen". For a ``max`` threshold ``t`` the sample fails at ``k`` or
    more hits, ``k = floor(t n) + 1``, and ``P(K >= k) = I_p(k, n - k + 1)``
    (the regularised incomplete beta; Johnson, Kemp & Kotz 2005, §3.8.2), so
    the limit is ``p = I^{-1}(power; k, n - k + 1)``. For a ``min`` threshold
    the sample fails at ``k' = ceil(t n) - 1`` or fewer, and the limit is the
    true rate below which ``P(K <= k') >= power``:
    ``p = I^{-1}(1 - power; k' + 1, n - k')``.

Exit standard (:func:`exit_standard`, the counties exiting this year)
    综合贫困发生率 = (remaining registered poor persons + estimated omitted
    persons + estimated wrongly exited persons) / rural population (DOMAIN.md).
    Remaining poor: persons of the frame's registered households whose status
    is one of the plan's ``remaining_statuses``. Estimated omitted persons:
    ``omission_rate_est`` times the county's non-registered rural persons
    (rural population minus every registered household's persons); estimated
    wrongly exited: ``wrong_exit_rate_est`` times the persons of the frame's
    households of the ``exited_statuses``. Both estimates are design-weighted
    rates of the candidate villages (poor villages and non-poor villages with
    many poor), applied to the whole county: an assumption, since the other
    villages cannot be drawn; it errs towards a higher incidence, as poverty
    concentrates in the candidate villages. The 95% interval of the incidence
    puts the rates' interval limits in the same formula (both rates at their
    lower, then their upper limit); its status follows the rate rule with the
    estimate in place of an official ratio. 贫困村出列: every poor village of the
    county has ``poor_village_exited`` true (frame field). The exit verdict is
    ``fail`` when the county verdict, the incidence or the villages fail; else
    ``no_data`` when any part is unknown; else ``pass`` when all pass; else
    ``not_found``. The plan's "2%以下" includes 2% (以下 includes the number
    itself in Chinese statutes, e.g. Civil Code art. 1259).

References
----------
Johnson, N. L., Kemp, A. W. & Kotz, S. (2005). Univariate Discrete
Distributions, 3rd ed. Wiley.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import special

from xkaohe.plan import Bound, Plan
from xkaohe.schemas import require_columns

STATUSES = ("pass", "not_found", "fail")
"""A judged rate's status codes (labels: ``xkaohe.codes``)."""
VERDICTS = ("fail", "no_data", "not_found", "pass")
"""A county verdict's codes, in precedence order."""
SCOPES = ("exit_standard", "reference")
"""Whether a county's thresholds are its exit standard or a reference line."""
VERDICT_COLUMNS = ("county_code", "verdict", "scope", "failing")
"""The columns of the ``county_verdicts`` results table."""

_EPS = 1e-9  # t * n within this of an integer counts as that integer (0.02 * 50 = 1)


def wrong_side(value: pl.Expr, bound: Bound) -> pl.Expr:
    """True where ``value`` breaches ``bound`` (above a max, below a min)."""
    limit = pl.lit(bound.value)
    return value > limit if bound.side == "max" else value < limit


def rate_status(ratio: pl.Expr, low: pl.Expr, high: pl.Expr, bound: Bound) -> pl.Expr:
    """The status of a rate: ``fail``, ``pass`` or ``not_found``; null without a ratio.

    Parameters
    ----------
    ratio
        The official (unweighted) ratio.
    low, high
        The 95% interval of the design-weighted estimate.
    bound
        The plan's threshold of the rate.
    """
    right = high <= bound.value if bound.side == "max" else low >= bound.value
    return (
        pl.when(ratio.is_null())
        .then(pl.lit(None, pl.String))
        .when(wrong_side(ratio, bound))
        .then(pl.lit("fail"))
        .when(right.fill_null(False))
        .then(pl.lit("pass"))
        .otherwise(pl.lit("not_found"))
    )


def detection_limits(n: npt.ArrayLike, bound: Bound, power: float) -> npt.NDArray[np.float64]:
    """The true rate the sample flags as ``fail`` with probability ``power`` (binomial).

    Parameters
    ----------
    n
        Surveyed households of the rate's population per county (0: none).
    bound
        The plan's threshold.
    power
        The probability of a ``fail`` at the limit, in (0, 1).

    Returns
    -------
    np.ndarray
        One limit per county; NaN where ``n`` is 0. For a ``max`` threshold the
        limit is above it, for a ``min`` threshold below it. See the module
        docstring for the model.
    """
    m = np.asarray(n, dtype=np.float64)
    t = bound.value
    ok = m >= 1
    safe = np.where(ok, m, 1.0)
    if bound.side == "max":
        k = np.floor(t * safe + _EPS) + 1.0
        # k > n: even all n households hit do not exceed t (t >= 1): never fails.
        valid = ok & (k <= safe)
        p = special.betaincinv(np.where(valid, k, 1.0), np.where(valid, safe - k + 1.0, 1.0), power)
    else:
        k = np.ceil(t * safe - _EPS) - 1.0
        # k < 0: no count is below t (t <= 0): never fails.
        valid = ok & (k >= 0)
        p = special.betaincinv(
            np.where(valid, k + 1.0, 1.0), np.where(valid, safe - k, 1.0), 1.0 - power
        )
    return np.where(valid, p, np.nan).astype(np.float64)


def scope(category: pl.Expr, plan: Plan) -> pl.Expr:
    """``exit_standard`` for a category of the plan's exit standard, else ``reference``."""
    in_scope = list(plan.indicators.exit_standard.categories)
    return (
        pl.when(category.is_in(in_scope).fill_null(False))
        .then(pl.lit("exit_standard"))
        .otherwise(pl.lit("reference"))
    )


def county_verdicts(indicators: pl.DataFrame, counties: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """One verdict per county from the stored rate statuses.

    Parameters
    ----------
    indicators
        ``county_indicators``: ``county_code`` and ``R_status`` for every
        rate with a plan threshold.
    counties
        ``county_code, category`` of every county of the run.
    plan
        The plan: the judged rates (in order) and the exit-standard categories.

    Returns
    -------
    pl.DataFrame
        ``county_code, verdict, scope, failing`` (see the module docstring),
        one row per county of ``counties``, sorted by ``county_code``.
    """
    rates = plan.indicators.judged_rates
    require_columns(
        indicators, "county_indicators", ["county_code", *(f"{r}_status" for r in rates)]
    )
    require_columns(counties, "counties", ["county_code", "category"])
    statuses = [pl.col(f"{r}_status") for r in rates]
    failing = pl.concat_list(
        [pl.when(s == "fail").then(pl.lit(r)) for r, s in zip(rates, statuses, strict=True)]
    ).list.drop_nulls()
    verdict = (
        pl.when(pl.any_horizontal([s == "fail" for s in statuses]).fill_null(False))
        .then(pl.lit("fail"))
        .when(pl.any_horizontal([s.is_null() for s in statuses]))
        .then(pl.lit("no_data"))
        .when(pl.all_horizontal([s == "pass" for s in statuses]))
        .then(pl.lit("pass"))
        .otherwise(pl.lit("not_found"))
    )
    return (
        counties.select("county_code", "category")
        .join(indicators, on="county_code", how="left")
        .select(
            pl.col("county_code").cast(pl.String),
            verdict.alias("verdict"),
            scope(pl.col("category"), plan).alias("scope"),
            failing.list.join(";").alias("failing"),
        )
        .sort("county_code")
    )


EXIT_COLUMNS = (
    "county_code",
    "rural_population",
    "registered_persons",
    "remaining_poor_persons",
    "omitted_persons_est",
    "wrongly_exited_persons_est",
    "poverty_incidence",
    "poverty_incidence_low",
    "poverty_incidence_high",
    "poverty_incidence_status",
    "poor_villages",
    "poor_villages_exited",
    "poor_villages_ok",
    "verdict",
    "failing",
)
"""The columns of the ``exit_standard`` results table."""


def exit_standard(
    counties: pl.DataFrame,
    villages: pl.DataFrame,
    households: pl.DataFrame,
    indicators: pl.DataFrame,
    verdicts: pl.DataFrame,
    plan: Plan,
) -> pl.DataFrame:
    """The exit standard of the counties exiting this year (see the module docstring).

    Parameters
    ----------
    counties
        The frame's counties: ``county_code, category, rural_population``
        (null: not given).
    villages
        The frame's villages: ``village_code, county_code, is_poor_village,
        poor_village_exited`` (null: not given).
    households
        The frame's registered households: ``village_code, status, household_size``.
    indicators
        ``county_indicators`` (``omission_rate_est``/``_low``/``_high`` and the
        same for ``wrong_exit_rate``).
    verdicts
        ``county_verdicts``.
    plan
        The plan: ``indicators.exit_standard``.

    Returns
    -------
    pl.DataFrame
        :data:`EXIT_COLUMNS`, one row per county of the exit-standard
        categories, sorted by ``county_code``; ``failing`` lists the failing
        rates (plan order), then ``poverty_incidence``, then ``poor_villages``.
    """
    rule = plan.indicators.exit_standard
    require_columns(counties, "counties", ["county_code", "category", "rural_population"])
    require_columns(
        villages,
        "villages",
        ["village_code", "county_code", "is_poor_village", "poor_village_exited"],
    )
    require_columns(households, "households", ["village_code", "status", "household_size"])
    size = pl.col("household_size").cast(pl.Int64)
    totals = ("registered_persons", "remaining_poor_persons", "_exited")
    # Villages first: 30 million households have some 128,000 village codes, and
    # joining every household to its county would copy gigabytes (the sums are
    # whole numbers, so summing by village first gives the same totals). The
    # streaming engine groups them in a third of the eager group-by's CPU time.
    persons = (
        households.lazy()
        .group_by("village_code")
        .agg(
            registered_persons=size.sum(),
            remaining_poor_persons=size.filter(
                pl.col("status").is_in(rule.remaining_statuses)
            ).sum(),
            _exited=size.filter(pl.col("status").is_in(rule.exited_statuses)).sum(),
        )
        .collect(engine="streaming")
        .join(villages.select("village_code", "county_code"), on="village_code")
        .group_by("county_code")
        .agg(pl.col(totals).sum())
    )
    poor = pl.col("is_poor_village").fill_null(False)
    village_part = villages.group_by("county_code").agg(
        poor_villages=poor.sum().cast(pl.Int64),
        poor_villages_exited=(poor & pl.col("poor_village_exited").fill_null(False))
        .sum()
        .cast(pl.Int64),
        _unknown=(poor & pl.col("poor_village_exited").is_null()).sum(),
    )
    rural = pl.col("rural_population").cast(pl.Float64)
    general = rural - pl.col("registered_persons")

    def incidence(omission: str, wrong_exit: str) -> pl.Expr:
        omitted = pl.col(omission) * general
        wrongly = pl.col(wrong_exit) * pl.col("_exited")
        return (pl.col("remaining_poor_persons") + omitted + wrongly) / rural

    limit = rule.poverty_incidence_max
    incidence_status = (
        pl.when(pl.col("poverty_incidence").is_null())
        .then(pl.lit(None, pl.String))
        .when(pl.col("poverty_incidence") > limit)
        .then(pl.lit("fail"))
        .when(pl.col("poverty_incidence_high") <= limit)
        .then(pl.lit("pass"))
        .otherwise(pl.lit("not_found"))
    )
    villages_ok = (
        pl.when(pl.col("_unknown") > 0)
        .then(pl.lit(None, pl.Boolean))
        .otherwise(
            pl.lit(not rule.poor_villages_exited)
            | (pl.col("poor_villages_exited") == pl.col("poor_villages"))
        )
    )
    parts = [pl.col("_rates"), pl.col("poverty_incidence_status"), pl.col("_villages")]
    verdict = (
        pl.when(pl.any_horizontal([p == "fail" for p in parts]).fill_null(False))
        .then(pl.lit("fail"))
        .when(pl.any_horizontal([p.is_null() | (p == "no_data") for p in parts]))
        .then(pl.lit("no_data"))
        .when(pl.all_horizontal([p == "pass" for p in parts]))
        .then(pl.lit("pass"))
        .otherwise(pl.lit("not_found"))
    )
    failing = pl.concat_list(
        pl.when(pl.col("failing") != "").then(pl.col("failing")),
        pl.when(pl.col("poverty_incidence_status") == "fail").then(pl.lit("poverty_incidence")),
        pl.when(pl.col("_villages") == "fail").then(pl.lit("poor_villages")),
    ).list.drop_nulls()
    est = [f"{r}_{k}" for r in ("omission_rate", "wrong_exit_rate") for k in ("est", "low", "high")]
    return (
        counties.filter(scope(pl.col("category"), plan) == "exit_standard")
        .select("county_code", pl.col("rural_population").cast(pl.Int64))
        .join(persons, on="county_code", how="left")
        .join(village_part, on="county_code", how="left")
        .join(indicators.select("county_code", *est), on="county_code", how="left")
        .join(
            verdicts.select("county_code", pl.col("verdict").alias("_rates"), "failing"),
            on="county_code",
            how="left",
        )
        .with_columns(
            pl.col("registered_persons", "remaining_poor_persons", "_exited").fill_null(0)
        )
        .with_columns(
            omitted_persons_est=pl.col("omission_rate_est") * general,
            wrongly_exited_persons_est=pl.col("wrong_exit_rate_est") * pl.col("_exited"),
            poverty_incidence=incidence("omission_rate_est", "wrong_exit_rate_est"),
            poverty_incidence_low=incidence("omission_rate_low", "wrong_exit_rate_low"),
            poverty_incidence_high=incidence("omission_rate_high", "wrong_exit_rate_high"),
            poor_villages_ok=villages_ok,
        )
        .with_columns(
            poverty_incidence_status=incidence_status,
            _villages=pl.when(pl.col("poor_villages_ok"))
            .then(pl.lit("pass"))
            .when(~pl.col("poor_villages_ok"))
            .then(pl.lit("fail")),
        )
        .with_columns(verdict=verdict, failing=failing.list.join(";"))
        .select(EXIT_COLUMNS)
        .sort("county_code")
    )


__all__ = [
    "EXIT_COLUMNS",
    "SCOPES",
    "STATUSES",
    "VERDICTS",
    "VERDICT_COLUMNS",
    "county_verdicts",
    "detection_limits",
    "exit_standard",
    "rate_status",
    "scope",
    "wrong_side",
]
