"""Household classification and the county rates (三率一度, 错评, 两不愁三保障).

Definitions are DESIGN.md's ("Indicators"), from the public exit standard
(DOMAIN.md): a surveyed household is *qualified* iff its income per head is at
least the plan's income line and all of 不愁吃、不愁穿、义务教育、基本医疗、住房安全
and 饮水安全 hold.

* wrong-exit rate (错退率): persons in surveyed exited households that are not
  qualified / persons in all surveyed exited households;
* omission rate (漏评率): persons in surveyed non-registered households that
  are not qualified / persons in all surveyed non-registered households;
* approval (群众认可度): households answering 认可 or 基本认可 / all surveyed;
* wrong inclusion (错评): registered households with evidence of ineligibility
  / all surveyed registered households.

Each rate has its official ratio ``R`` (unweighted, as the policy counts it),
a design-weighted estimate ``R_est`` with a 95% interval (:mod:`xkaohe.analyse.estimate`;
``R_df`` its degrees of freedom, ``R_insufficient`` when they are below 1 and
the interval is (0, 1), 样本不足) and, for the rates with a plan threshold, a
status and a detection limit ``R_detect`` decided by
:mod:`xkaohe.analyse.verdicts` (``fail`` / ``not_found`` / ``pass``). A county
without surveyed households for a rate has no value and no status — never a
zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from xkaohe.analyse.estimate import design_weights, ratio_intervals
from xkaohe.analyse.verdicts import detection_limits, rate_status
from xkaohe.codes import SURVEY_ITEM
from xkaohe.plan import Plan

ITEMS = ("food_clothing_ok", "education_ok", "medical_ok", "housing_safe", "water_safe")
ITEM_LABELS = SURVEY_ITEM.labels()
"""The items' Chinese labels (:data:`xkaohe.codes.SURVEY_ITEM`), stored with ``county_items``."""


@dataclass(frozen=True)
class Rate:
    """One rate: which households count, and what counts against it."""

    name: str
    label: str
    population: pl.Expr  # rows in the denominator
    hit: pl.Expr  # rows counted in the numerator
    persons: bool  # weighted by household size (persons) or by households


RATES = (
    Rate("wrong_exit_rate", "错退率", pl.col("is_exited"), pl.col("wrong_exit"), True),
    Rate("omission_rate", "漏评率", ~pl.col("registered"), pl.col("omission"), True),
    Rate("approval_rate", "群众认可度", pl.lit(True), pl.col("approves"), False),
    Rate(
        "wrong_inclusion_rate",
        "错评率",
        pl.col("registered"),
        pl.col("wrong_inclusion"),
        False,
    ),
)


def classify(survey: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Each surveyed household with its qualification and classification.

    ``survey`` is the usable household questionnaires with ``county_code`` and
    ``frame_status`` (null for general households), as :mod:`xkaohe.field.checks`
    gives them. A relapsed household (``frame_status`` relapsed) keeps its
    ``relapse_cause`` (a code of the plan's relapse causes; null: not recorded)
    and gets ``relapse_plan_named``: whether the plan names that cause (三(一)1(8);
    null when the cause is not recorded or the household has not relapsed).
    """
    line = plan.indicators.income_line_yuan
    income_ok = pl.col("income_per_capita_yuan") >= line
    qualified = income_ok & pl.all_horizontal([pl.col(i) for i in ITEMS])
    if "relapse_cause" not in survey.columns:
        survey = survey.with_columns(relapse_cause=pl.lit(None, pl.String))
    relapsed = (pl.col("frame_status") == "relapsed").fill_null(False)
    out = survey.with_columns(
        relapse_plan_named=pl.when(relapsed).then(
            pl.col("relapse_cause").is_in(list(plan.plan_named_relapse_causes))
        ),
        income_ok=income_ok,
        qualified=qualified,
        is_exited=pl.col("frame_status")
        .is_in(list(plan.indicators.exit_standard.exited_statuses))
        .fill_null(False),
        approves=pl.col("approval").is_in(["approve", "basic"]),
    ).with_columns(
        wrong_exit=pl.col("is_exited") & ~pl.col("qualified"),
        omission=~pl.col("registered") & ~pl.col("qualified"),
        wrong_inclusion=pl.col("registered") & pl.col("ineligible_evidence").fill_null(False),
        relapse=(pl.col("frame_status") == "relapsed").fill_null(False) & ~pl.col("qualified"),
    )
    label = (
        pl.when(pl.col("wrong_exit"))
        .then(pl.lit("wrong_exit"))
        .when(pl.col("omission"))
        .then(pl.lit("omission"))
        .when(pl.col("wrong_inclusion"))
        .then(pl.lit("wrong_inclusion"))
        .when(pl.col("relapse"))
        .then(pl.lit("relapse"))
        .when(pl.col("qualified"))
        .then(pl.lit("qualified"))
        .when(pl.col("registered"))
        .then(pl.lit("not_qualified_registered"))
        .otherwise(pl.lit("not_qualified_general"))
    )
    return out.with_columns(classification=label)


def weighted(
    households: pl.DataFrame, villages: pl.DataFrame, frame_counts: pl.DataFrame
) -> pl.DataFrame:
    """Households with their design weight (see :func:`xkaohe.estimate.design_weights`)."""
    base = households.with_columns(status=pl.col("frame_status"))
    return design_weights(base, villages, frame_counts).drop("status")


def _judged(out: pl.DataFrame, rate: str, plan: Plan) -> pl.DataFrame:
    """``out`` with ``rate``'s status and detection limit, when the plan judges it."""
    bound = plan.threshold(rate)
    if bound is None:
        return out
    r = rate
    limit = detection_limits(
        out[f"_{r}_units"].fill_null(0).to_numpy(), bound, plan.indicators.detection_power
    )
    return out.with_columns(
        rate_status(pl.col(r), pl.col(f"{r}_low"), pl.col(f"{r}_high"), bound).alias(f"{r}_status"),
        pl.Series(f"{r}_detect", limit, dtype=pl.Float64, nan_to_null=True),
    )


def candidate_share(
    candidates: pl.DataFrame, villages: pl.DataFrame, households: pl.DataFrame
) -> pl.DataFrame:
    """Per county: the share of its registered households living in candidate villages.

    Only poor villages and non-poor villages with many poor people can be
    drawn (五(七)1), so ``R_est`` estimates a rate among the households of
    those villages, not of the whole county (issue 10, item 2). This is the
    share of the county's registered (建档立卡) households they hold.

    Parameters
    ----------
    candidates
        The sample's ``village_candidates`` (``village_code``).
    villages
        The frame's villages: ``village_code, county_code``.
    households
        The frame's registered households: ``village_code``.

    Returns
    -------
    pl.DataFrame
        ``county_code, candidate_household_share`` (Float64), one row per
        county with registered households.
    """
    drawable = candidates["village_code"].unique().implode()
    # Counted by village first (streaming: a third of the eager group-by's CPU
    # time): a join of 30 million households to their counties would copy
    # gigabytes; the share is the same ratio of whole counts.
    n = pl.col("_n")
    return (
        households.lazy()
        .group_by("village_code")
        .agg(_n=pl.len())
        .collect(engine="streaming")
        .join(villages.select("village_code", "county_code"), on="village_code")
        .group_by("county_code")
        .agg(
            candidate_household_share=n.filter(pl.col("village_code").is_in(drawable)).sum()
            / n.sum()
        )
        .sort("county_code")
    )


def county_indicators(
    households: pl.DataFrame,
    counties: pl.DataFrame,
    plan: Plan,
    coverage: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per county: R, R_est, R_low, R_high, R_n, R_df, R_insufficient per rate.

    For the rates with a plan threshold also ``R_status`` and ``R_detect``
    (:mod:`xkaohe.analyse.verdicts`). Every value is null for a county with
    no surveyed household of the rate's population. With ``coverage``
    (:func:`candidate_share`), ``candidate_household_share`` follows
    ``county_code``: the population ``R_est`` speaks for.
    """
    out = counties.select("county_code").sort("county_code")
    for rate in RATES:
        size = pl.col("household_size") if rate.persons else pl.lit(1)
        # Domain estimation: every surveyed household stays in the design, with
        # y = x = 0 outside the rate's population (Lohr 2010, 4.5), so a village
        # without, say, general households still counts as a cluster.
        inside = rate.population.fill_null(False)
        units = households.with_columns(
            _y=pl.when(inside)
            .then(size * rate.hit.fill_null(False).cast(pl.Int64))
            .otherwise(0)
            .cast(pl.Float64),
            _x=pl.when(inside).then(size).otherwise(0).cast(pl.Float64),
            # A column, not the expression: polars 2.1 mis-sizes a literal filter
            # predicate (approval's population is every row) on large frames.
            _in=inside,
        )
        official = (
            units.filter(pl.col("_in"))
            .group_by("county_code")
            .agg(
                (pl.col("_y").sum() / pl.col("_x").sum()).alias(rate.name),
                pl.col("_x").sum().cast(pl.Int64).alias(f"{rate.name}_n"),
            )
        )
        interval = ratio_intervals(
            units,
            numerator="_y",
            denominator="_x",
            weight="weight",
            confidence=plan.indicators.confidence,
        ).select(
            "county_code",
            pl.col("est").alias(f"{rate.name}_est"),
            pl.col("low").alias(f"{rate.name}_low"),
            pl.col("high").alias(f"{rate.name}_high"),
            pl.col("df").alias(f"{rate.name}_df"),
            pl.col("insufficient").alias(f"{rate.name}_insufficient"),
            pl.col("n").alias(f"_{rate.name}_units"),
        )
        out = out.join(official, on="county_code", how="left").join(
            interval, on="county_code", how="left"
        )
        out = _judged(out, rate.name, plan)
    columns = ["county_code"]
    if coverage is not None:
        out = out.join(
            coverage.select("county_code", "candidate_household_share"),
            on="county_code",
            how="left",
        )
        columns.append("candidate_household_share")
    for rate in RATES:
        r = rate.name
        columns += [r, f"{r}_est", f"{r}_low", f"{r}_high", f"{r}_n", f"{r}_df"]
        columns.append(f"{r}_insufficient")
        if plan.threshold(r) is not None:
            columns += [f"{r}_status", f"{r}_detect"]
    return out.select(columns)


def item_rates(households: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """两不愁三保障 items one by one, income, helper awareness and approval, per county.

    Shares of surveyed registered households (approval: all surveyed), with
    the same design-based intervals as the rates.
    """
    pieces = []
    for item in (*ITEMS, "income_ok", "knows_helper", "approves"):
        population = pl.lit(True) if item == "approves" else pl.col("registered")
        inside = (population & pl.col(item).is_not_null()).fill_null(False)
        units = households.with_columns(
            _y=pl.when(inside).then(pl.col(item).cast(pl.Float64)).otherwise(0.0),
            _x=pl.when(inside).then(1.0).otherwise(0.0),
            _in=inside,
        )
        share = (
            units.filter(pl.col("_in"))
            .group_by("county_code")
            .agg(rate=pl.col("_y").mean(), n=pl.len().cast(pl.Int64))
        )
        ci = ratio_intervals(
            units,
            numerator="_y",
            denominator="_x",
            weight="weight",
            confidence=plan.indicators.confidence,
        )
        pieces.append(
            share.join(
                ci.select("county_code", "est", "low", "high"), on="county_code"
            ).with_columns(item=pl.lit(item), label=pl.lit(ITEM_LABELS[item]))
        )
    return (
        pl.concat(pieces)
        .select("county_code", "item", "label", "rate", "est", "low", "high", "n")
        .sort("county_code", "item")
    )
