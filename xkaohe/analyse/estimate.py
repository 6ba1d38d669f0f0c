"""Design weights and design-based 95% intervals for a county's rates (DESIGN.md, "Indicators").

Just over ~600 lines, a hundred of them this docstring: weights, variance and the
interval are one method, stated and referenced here once and tested together.

Each county is a stratum and its own estimation domain; villages are the primary
sampling units (PSUs), drawn with the approximate inclusion probabilities of
the protocol (``inclusion_prob``); households are drawn within villages. Every
rate is a ratio ``R = sum(w*y) / sum(w*x)``: the wrong-exit rate has ``y`` =
persons in not-qualified exited households and ``x`` = persons in exited
households; the approval rate has ``y`` = approving households and ``x`` = 1.

Weights (:func:`design_weights`)
    ``w = 1/pi_v * N_vs / n_vs``: the village's inclusion probability times a
    post-stratification of the households to the frame count of their status
    within the village (N_vs frame households of status s, n_vs surveyed);
    general households form one more cell with N = households_total minus the
    registered households (:func:`count_frame`). This is an approximation: the
    within-village draw is a quota draw with substitution, relapsed households
    are taken in full and one villager group is a census, so the cell weights
    stand in for inclusion probabilities that are not known exactly (Lohr 2010,
    ch. 4 and 8, post-stratification and weighting classes).

Variance (:func:`ratio_intervals`)
    Taylor linearisation of the ratio with villages as clusters and the
    with-replacement approximation within the county (Lohr 2010, ch. 6 and
    §9.1; Wolter 2007, ch. 6): ``z_i = w_i (y_i - R x_i) / sum(w x)``, ``z_c`` the
    village totals, ``v(R) = k/(k-1) * sum_c (z_c - mean z)^2`` over the ``k``
    villages of the county. No finite population correction, so the variance
    is conservative. For a subpopulation (e.g. exited households) pass all
    surveyed households with ``y`` and ``x`` zero outside it: villages without
    a member then still count as PSUs, which is the textbook domain variance;
    rows filtered out beforehand reduce ``n_psu``.

    Degrees of freedom: ``df = k_x - 1``, ``k_x`` the villages with a non-zero
    denominator (a member of the rate's population). A village without a
    member adds a zero to the variance sum but no information about the
    spread of the rate between villages, so it must not add a degree of
    freedom: 3 exited households of 10 villages, all three in one village,
    have ``df = 0`` (Korn & Graubard 1999, §5.2, domain degrees of freedom).

    The variance is computed by svy (``Sample.estimation.ratio`` with
    ``Design(stratum=domain, psu=psu, wgt=weight, wr=True)``, svy 0.35.0). It
    passed the check asked of it before use: it reproduces Lohr's
    with-replacement formula worked by hand (``tests/test_estimate.py``:
    ``test_variance_matches_lohr_by_hand``, four villages, ``v = 0.0672``;
    ``test_srs_variance_is_textbook``, ``p(1-p)/(n-1)``; and a property test
    against a plain-Python reading of the formula, all to 1e-12). svy's own
    Korn-Graubard interval covers proportions of a categorical variable only,
    not ratios, so the interval step is ours; for a proportion it agrees with
    svy's (``test_korn_graubard_matches_svy_for_proportions``).

Interval, ``method="korn_graubard"`` (the default)
    Korn & Graubard (1998) with the rules of the NCHS standards for
    proportions (Parker et al. 2017): a Clopper-Pearson interval (Clopper &
    Pearson 1934) evaluated at the effective sample size
    ``n* = R(1-R) / v(R)``, first capped at ``n``, the number of units
    (households) with a non-zero denominator (a design effect of at least 1:
    a variance that is small by chance with three degrees of freedom cannot
    make the interval narrower than simple random sampling of the same
    households would), then adjusted for the design's degrees of freedom,
    ``n*_df = min(n*, n) (t_{n-1} / t_{df})^2`` (two-sided t quantiles). The
    cap comes before the adjustment so the degrees-of-freedom penalty always
    applies; capping after it would cancel the penalty whenever the
    estimated design effect is below ``(t_{n-1} / t_{df})^2`` (about 0.41 at
    three degrees of freedom), which the old order did in 5-14% of simulated
    counties. For a persons-weighted rate the unit is still the household:
    its members share its status and are not independent trials.

    When ``R`` is 0 or 1 the variance is 0 and says nothing about the design:
    then ``n* = n`` (a design effect of 1), still adjusted for the degrees of
    freedom, as in the NCHS standards — the same rule as the cap above, so
    the interval is continuous as ``R`` leaves 0. The interval does not
    collapse: 0 of 60 households in 60 villages gives (0, 0.0596); in 4
    villages (3 degrees of freedom) (0, 0.144). Adjusting at the boundary too
    keeps the upper bound continuous: a county with no finding does not get a
    much narrower interval than one with a single finding.

Interval, ``method="logit"``
    The Wald interval on the logit scale,
    ``logit(R) +- t_{k-1} * se / (R(1-R))``, back-transformed (the default of
    Stata's ``svy: proportion`` and of R's ``svyciprop(method="logit")``).
    Written as ``logit(R) +- t_{n-1} / sqrt(n*_df R(1-R))`` it shares the
    effective sample size and its truncation at ``n`` with the Korn-Graubard
    interval, so a chance zero variance does not give a zero width. At ``R`` =
    0 or 1 the logit is infinite and the Korn-Graubard interval is used.

Special cases: a domain whose every row has ``census`` true (when the column
is present) was observed in full, so its interval is the point; a domain with
``df < 1`` (its population in a single PSU) has no variance estimate and gets
``(0, 1)``, the limit of the Korn-Graubard interval as the degrees of freedom
go to zero, flagged ``insufficient`` (样本不足). The design
effect ``deff = v(R) / (R(1-R)/n)`` is Kish's (1965), against simple random
sampling of ``n`` units with replacement. ``benchmarks/coverage.py`` measures
the coverage of both methods on synthetic counties with a known truth.

References
----------
Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial
limits illustrated in the case of the binomial. Biometrika 26(4), 404-413.
Kish, L. (1965). Survey Sampling. Wiley.
Korn, E. L. & Graubard, B. I. (1998). Confidence intervals for proportions
with small expected number of positive counts estimated from survey data.
Survey Methodology 24(2), 193-201.
Korn, E. L. & Graubard, B. I. (1999). Analysis of Health Surveys. Wiley.
Lohr, S. L. (2010). Sampling: Design and Analysis, 2nd ed. Brooks/Cole.
Parker, J. D. et al. (2017). National Center for Health Statistics data
presentation standards for proportions. Vital Health Stat 2(175).
Wolter, K. M. (2007). Introduction to Variance Estimation, 2nd ed. Springer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import svy
from scipy import special

from xkaohe.errors import InputError, Problem
from xkaohe.schemas import require_columns

METHODS = ("korn_graubard", "logit")
"""Interval methods accepted by :func:`ratio_intervals`."""

OUTPUT_COLUMNS = (
    "est",
    "low",
    "high",
    "se",
    "n",
    "n_psu",
    "df",
    "insufficient",
    "deff",
    "n_eff",
)
"""Columns of :func:`ratio_intervals` after the domain column."""

_TOL = 1e-12  # an estimate this close to 0 or 1 is treated as exactly 0 or 1
_SHOW = 5  # offending values quoted per problem
# Domains per svy call. svy's ratio also builds the covariance of every pair of
# domains, so one call over 832 counties costs ~1.3 s where 26 calls of 32 cost
# ~0.13 s (fewer, larger calls cost more again). Each domain is its own stratum,
# so its variance sums only its own villages (the other strata add exact zeros):
# a batch gives the same bits (tests/test_estimate.py,
# test_batched_variance_is_bitwise_the_same).
_DOMAINS_PER_CALL = 32

FloatArray = npt.NDArray[np.float64]


# ------------------------------------------------------------------ checks


def _bad_rows(
    df: pl.DataFrame, table: str, column: str, bad: pl.Expr, expected: str, keys: Sequence[str]
) -> list[Problem]:
    """One problem naming the rows of ``df`` where ``bad`` holds (nothing if none)."""
    rows = df.with_row_index("_position").filter(bad)
    if rows.height == 0:
        return []
    shown = [
        f"{r[column]!r} (row {r['_position'] + 1}, "
        + ", ".join(f"{k}={r[k]!r}" for k in keys)
        + ")"
        for r in rows.head(_SHOW).iter_rows(named=True)
    ]
    more = f" and {rows.height - _SHOW} more" if rows.height > _SHOW else ""
    return [Problem(table, None, column, expected, "; ".join(shown) + more)]


# ----------------------------------------------------------------- weights


def count_frame(villages: pl.DataFrame, households: pl.DataFrame) -> pl.DataFrame:
    """Frame households per village and status, the ``N`` of :func:`design_weights`.

    Parameters
    ----------
    villages : pl.DataFrame
        The frame's villages: ``village_code``, ``households_total``.
    households : pl.DataFrame
        The frame's registered households: ``village_code``, ``status``.

    Returns
    -------
    pl.DataFrame
        ``village_code, status, N``: one row per status present in the village,
        and one row with a null status for the general (non-registered)
        households, ``N = households_total - registered households``.
    """
    require_columns(villages, "villages", ["village_code", "households_total"])
    require_columns(households, "households", ["village_code", "status"])
    registered = households.group_by("village_code", "status").agg(N=pl.len().cast(pl.Int64))
    general = villages.select("village_code", "households_total").join(
        registered.group_by("village_code").agg(_reg=pl.col("N").sum()),
        on="village_code",
        how="left",
    )
    general = general.with_columns(
        status=pl.lit(None, pl.String),
        N=(pl.col("households_total") - pl.col("_reg").fill_null(0)).cast(pl.Int64),
    )
    problems = _bad_rows(
        general,
        "villages",
        "households_total",
        pl.col("N") < 0,
        "at least the number of registered households of the village",
        ["village_code", "_reg"],
    )
    if problems:
        raise InputError(problems)
    out = pl.concat(
        [
            registered.select("village_code", pl.col("status").cast(pl.String), "N"),
            general.select("village_code", "status", "N"),
        ]
    )
    return out.sort("village_code", "status", nulls_last=True)


def design_weights(
    households: pl.DataFrame, villages: pl.DataFrame, frame_counts: pl.DataFrame
) -> pl.DataFrame:
    """Design weights of surveyed households, post-stratified by status within village.

    ``weight = 1 / inclusion_prob(v) * N_vs / n_vs``, where ``N_vs`` is the number
    of frame households of status ``s`` in village ``v`` and ``n_vs`` the number
    surveyed; general households (``registered`` false, ``status`` null) form
    one cell whose ``N`` is the null-status row of ``frame_counts``. An
    approximation: see the module docstring.

    Parameters
    ----------
    households : pl.DataFrame
        Surveyed households: ``county_code, village_code, household_id,
        status`` (frame status, null for general households), ``registered``.
    villages : pl.DataFrame
        Sampled villages: ``village_code, inclusion_prob`` in (0, 1].
    frame_counts : pl.DataFrame
        ``village_code, status, N`` as made by :func:`count_frame`.

    Returns
    -------
    pl.DataFrame
        ``households`` in its row order with a ``weight`` column (Float64).

    Raises
    ------
    InputError
        A column is missing, a household's status disagrees with
        ``registered``, a village has no inclusion probability or one outside
        (0, 1], a cell has no frame count, or a frame count is smaller than
        the number surveyed. All problems are listed at once.
    """
    require_columns(
        households,
        "households",
        ["county_code", "village_code", "household_id", "status", "registered"],
    )
    require_columns(villages, "villages", ["village_code", "inclusion_prob"])
    require_columns(frame_counts, "frame_counts", ["village_code", "status", "N"])
    keys = ["village_code", "household_id"]
    problems = _bad_rows(
        households,
        "households",
        "status",
        pl.col("registered").is_null() | (pl.col("registered") == pl.col("status").is_null()),
        "a status for registered households and none for general ones",
        [*keys, "registered"],
    )
    problems += _bad_rows(
        villages,
        "villages",
        "inclusion_prob",
        pl.col("inclusion_prob").is_null()
        | (pl.col("inclusion_prob") <= 0)
        | (pl.col("inclusion_prob") > 1),
        "a probability in (0, 1]",
        ["village_code"],
    )
    dupes = frame_counts.filter(pl.struct("village_code", "status").is_duplicated())
    problems += _bad_rows(
        dupes,
        "frame_counts",
        "N",
        pl.lit(True),
        "one row per village and status",
        ["village_code", "status"],
    )
    problems += _bad_rows(
        villages,
        "villages",
        "village_code",
        pl.col("village_code").is_duplicated(),
        "one row per village",
        [],
    )
    if problems:
        raise InputError(problems)

    cells = ["village_code", "status"]
    surveyed = households.group_by(cells).agg(_n=pl.len().cast(pl.Int64))
    joined = (
        households.select(*keys, pl.col("status").cast(pl.String))
        .join(surveyed, on=cells, how="left", nulls_equal=True, maintain_order="left")
        .join(
            frame_counts.select("village_code", pl.col("status").cast(pl.String), "N"),
            on=cells,
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        .join(
            villages.select("village_code", "inclusion_prob"),
            on="village_code",
            how="left",
            maintain_order="left",
        )
    )
    problems = _bad_rows(
        joined,
        "villages",
        "inclusion_prob",
        pl.col("inclusion_prob").is_null(),
        "a row for every village of the surveyed households",
        keys,
    )
    problems += _bad_rows(
        joined,
        "frame_counts",
        "N",
        pl.col("N").is_null(),
        "a frame count for every village and status surveyed (null status: general households)",
        [*keys, "status"],
    )
    problems += _bad_rows(
        joined,
        "frame_counts",
        "N",
        pl.col("N") < pl.col("_n"),
        "at least the number of households surveyed in the cell",
        [*keys, "status", "_n"],
    )
    if problems:
        raise InputError(problems)
    weight = (1.0 / pl.col("inclusion_prob")) * (pl.col("N") / pl.col("_n"))
    return households.with_columns(joined.select(weight.cast(pl.Float64).alias("weight")))


# --------------------------------------------------------------- intervals


def clopper_pearson(
    successes: npt.ArrayLike, n: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Clopper-Pearson ("exact") interval, vectorised, for real-valued counts.

    ``low = B^{-1}(alpha/2; x, n-x+1)`` (0 when x = 0) and
    ``high = B^{-1}(1-alpha/2; x+1, n-x)`` (1 when x = n), ``B^{-1}`` the beta
    quantile (Clopper & Pearson 1934). ``x`` and ``n`` need not be integers,
    as in Korn & Graubard (1998).

    Parameters
    ----------
    successes, n : array_like
        Counts with ``0 <= successes <= n`` and ``n > 0``.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    tuple of np.ndarray
        The lower and upper bounds.
    """
    x = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    alpha = 1.0 - _check_confidence(confidence)
    x, m = np.broadcast_arrays(x, m)
    if np.any(m <= 0) or np.any(x < 0) or np.any(x > m):
        raise ValueError("clopper_pearson needs 0 <= successes <= n and n > 0")
    zero, full = x <= 0, x >= m
    low = special.betaincinv(np.where(zero, 1.0, x), m - x + 1.0, alpha / 2)
    high = special.betaincinv(x + 1.0, np.where(full, 1.0, m - x), 1.0 - alpha / 2)
    return (
        np.where(zero, 0.0, low).astype(np.float64),
        np.where(full, 1.0, high).astype(np.float64),
    )


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); found {confidence!r}")
    return float(confidence)


def _t_quantile(df: FloatArray, q: float) -> FloatArray:
    """Student t quantile at ``q``; NaN where ``df < 1``."""
    ok = df >= 1
    return np.where(ok, special.stdtrit(np.where(ok, df, 1.0), q), np.nan).astype(np.float64)


def _linearised_se(units: pl.DataFrame) -> pl.DataFrame:
    """Standard error of each domain's ratio by svy: Taylor, clusters ``_p``, with replacement.

    ``units`` has ``_d`` (domain index), ``_p`` (PSU key unique across domains),
    ``_w``, ``_y``, ``_x``; every domain has at least two PSUs and a positive
    ``sum(_w * _x)``. Returns ``_d, se``.
    """
    batch = (pl.col("_d") - 1) // _DOMAINS_PER_CALL  # _d is a dense rank from 1
    tables = []
    for part in units.with_columns(_b=batch).partition_by("_b", maintain_order=True):
        sample = svy.Sample(
            part.drop("_b"), svy.Design(stratum="_d", psu="_p", wgt="_w", wr=True)
        )
        result: Any = sample.estimation.ratio("_y", "_x", by="_d")
        table: pl.DataFrame = result.to_polars()
        tables.append(table.select(pl.col("_d").cast(pl.Int64), pl.col("se").cast(pl.Float64)))
    return pl.concat(tables).sort("_d")


def _interval_arrays(
    est: FloatArray,
    var: FloatArray,
    n: FloatArray,
    dof: FloatArray,
    census: npt.NDArray[np.bool_],
    confidence: float,
    method: str,
) -> dict[str, FloatArray]:
    """Bounds, design effect and effective sample size for every domain at once."""
    alpha = 1.0 - confidence
    q = 1.0 - alpha / 2
    p = np.clip(est, 0.0, 1.0)
    at0, at1 = p <= _TOL, p >= 1.0 - _TOL
    p = np.where(at0, 0.0, np.where(at1, 1.0, p))
    edge = at0 | at1
    pq = p * (1.0 - p)
    has_df = (dof >= 1) & ~census

    t_df = _t_quantile(dof, q)
    t_n = _t_quantile(n - 1.0, q)
    adjust = np.where(n > 1, (t_n / np.where(has_df, t_df, 1.0)) ** 2, 1.0)
    positive = var > 0
    raw = np.where(edge, n, np.divide(pq, var, out=np.full_like(pq, np.inf), where=positive))
    # Design effect capped at 1 (n* <= n) before the df adjustment: see the module docstring.
    n_eff = np.where(has_df, np.minimum(n, raw) * adjust, np.nan)

    safe_n = np.where(has_df, n_eff, 1.0)
    low, high = clopper_pearson(np.where(has_df, safe_n * p, 0.0), safe_n, confidence)
    if method == "logit":
        crit = np.where(n > 1, t_n, t_df)
        inner = has_df & ~edge
        half = crit / np.sqrt(np.where(inner, safe_n * pq, 1.0))
        centre = special.logit(np.where(inner, p, 0.5))
        low = np.where(inner, special.expit(centre - half), low)
        high = np.where(inner, special.expit(centre + half), high)
    low = np.where(census, est, np.where(has_df, low, 0.0))
    high = np.where(census, est, np.where(has_df, high, 1.0))
    # Rounding can leave a bound a hair on the wrong side of the estimate.
    low = np.minimum(np.clip(low, 0.0, 1.0), est)
    high = np.maximum(np.clip(high, 0.0, 1.0), est)
    deff = np.where(
        has_df & ~edge, n * np.divide(var, pq, out=np.zeros_like(pq), where=pq > 0), np.nan
    )
    return {"low": low, "high": high, "deff": deff, "n_eff": n_eff}


def ratio_intervals(
    df: pl.DataFrame,
    *,
    numerator: str,
    denominator: str,
    weight: str,
    domain: str = "county_code",
    psu: str = "village_code",
    confidence: float = 0.95,
    method: str = "korn_graubard",
) -> pl.DataFrame:
    """Design-weighted ratio of every domain with a design-based interval.

    Parameters
    ----------
    df : pl.DataFrame
        One row per surveyed unit (household) with columns ``domain``, ``psu``,
        ``weight`` (> 0), ``numerator`` (y) and ``denominator`` (x), with
        ``0 <= y <= x``; optionally a boolean ``census`` column (true: the
        unit's domain was observed in full).
    numerator, denominator, weight, domain, psu : str
        Column names. PSU codes need only be unique within a domain.
    confidence : float
        Two-sided confidence level.
    method : {"korn_graubard", "logit"}
        The interval; see the module docstring.

    Returns
    -------
    pl.DataFrame
        One row per domain with units, sorted by domain: ``domain``, ``est``
        (``sum(w y) / sum(w x)``), ``low``, ``high``, ``se`` (linearised
        standard error), ``n`` (units with ``x != 0``), ``n_psu`` (PSUs of the
        domain, all rows), ``df`` (PSUs with a non-zero ``sum x``, minus 1),
        ``insufficient`` (``df < 1`` and not a census: the interval is
        (0, 1)), ``deff`` (``v / (R(1-R)/n)``; null at 0 or 1, for a census
        or ``df < 1``), ``n_eff`` (the effective sample size of the interval;
        null for a census or ``df < 1``). Domains without a unit with
        ``x != 0`` are absent.

    Raises
    ------
    InputError
        A column is missing or has nulls, a weight is not positive, or a row
        has ``y < 0`` or ``y > x``.
    ValueError
        ``method`` or ``confidence`` is not valid.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; found {method!r}")
    if domain in OUTPUT_COLUMNS:
        raise ValueError(f"domain column may not be named like an output column: {domain!r}")
    confidence = _check_confidence(confidence)
    table = "ratio_intervals(df)"
    columns = [domain, psu, weight, numerator, denominator]
    require_columns(df, table, columns)
    y, x, w = (pl.col(c).cast(pl.Float64) for c in (numerator, denominator, weight))
    problems: list[Problem] = []
    for c in columns:
        problems += _bad_rows(df, table, c, pl.col(c).is_null(), "no missing values", [domain, psu])
    if not problems:
        problems += _bad_rows(df, table, weight, w <= 0, "a positive weight", [domain, psu])
        problems += _bad_rows(
            df,
            table,
            numerator,
            (y < 0) | (y > x),
            f"0 <= {numerator} <= {denominator}",
            [domain, psu, denominator],
        )
    if problems:
        raise InputError(problems)

    census = pl.col("census").fill_null(False) if "census" in df.columns else pl.lit(False)
    units = df.select(
        pl.col(domain).alias("__key"),
        pl.col(domain).rank("dense").cast(pl.Int64).alias("_d"),
        pl.struct(domain, psu).rank("dense").cast(pl.Int64).alias("_p"),
        w.alias("_w"),
        y.alias("_y"),
        x.alias("_x"),
        census.cast(pl.Boolean).alias("_census"),
    )
    wx = pl.col("_w") * pl.col("_x")
    members = (
        units.group_by("_d", "_p")
        .agg(_sx=pl.col("_x").sum())
        .group_by("_d")
        .agg(_kx=(pl.col("_sx") != 0).sum().cast(pl.Int64))
    )
    totals = (
        units.group_by("_d")
        .agg(
            pl.col("__key").first(),
            est=(pl.col("_w") * pl.col("_y")).sum() / wx.sum(),
            _wx=wx.sum(),
            n=(pl.col("_x") != 0).sum().cast(pl.Int64),
            n_psu=pl.col("_p").n_unique().cast(pl.Int64),
            _census=pl.col("_census").all(),
        )
        .filter(pl.col("_wx") > 0)
        .join(members, on="_d", how="left")
        .with_columns(df=(pl.col("_kx") - 1).cast(pl.Int64))
        .with_columns(insufficient=(pl.col("df") < 1) & ~pl.col("_census"))
        .sort("_d")
    )
    varied = totals.filter(pl.col("n_psu") >= 2).select("_d")
    se = (
        _linearised_se(
            units.join(varied, on="_d", how="semi").select(
                "_d", pl.col("_p").cast(pl.String), "_w", "_y", "_x"
            )
        )
        if varied.height
        else pl.DataFrame(schema={"_d": pl.Int64, "se": pl.Float64})
    )
    totals = totals.join(se, on="_d", how="left", maintain_order="left").with_columns(
        se=pl.when(pl.col("_census")).then(0.0).otherwise(pl.col("se"))
    )

    def arr(name: str) -> FloatArray:
        return totals[name].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(np.float64)

    se_arr = arr("se")
    parts = _interval_arrays(
        est=arr("est"),
        var=np.where(np.isnan(se_arr), 0.0, se_arr) ** 2,
        n=arr("n"),
        dof=arr("df"),
        census=totals["_census"].to_numpy().astype(np.bool_),
        confidence=confidence,
        method=method,
    )
    out = totals.with_columns(
        pl.Series(name, values, dtype=pl.Float64, nan_to_null=True)
        for name, values in parts.items()
    )
    return out.select(pl.col("__key").alias(domain), *OUTPUT_COLUMNS)
