"""The field week's progress as of one day (plan 六, 五(六)).

Plan 六: field work 24–29 November, team reports by 1 December; plan 五(六):
problems are reviewed the day after they are raised. During the week the
provincial office asks, each day: how many of the drawn households have been
visited, how many households each team visits a day, where each problem's
review stands, and which counties may miss the report deadline. This module
answers from the results store's tables as they stand on a chosen day; the
field-progress notebook (:mod:`xkaohe.report.field_progress`) only presents.

Review states come from the one rule, :func:`xkaohe.analyse.findings.review_status`,
taken on the chosen day. On the run's own date (or later) that is the rule
on the stored findings, so the states are exactly the stored ones; on an
earlier day the field week is replayed: a problem raised later does not exist
yet and a review dated later has not happened yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from xkaohe.analyse.findings import review_status
from xkaohe.errors import InputError, Problem
from xkaohe.plan import Plan

REVIEW_COUNTED = ("on_time", "late", "pending", "overdue", "proposed")
"""The review states counted per unit (those of problems that need review)."""


def visits(
    households: pl.DataFrame,
    sample_households: pl.DataFrame,
    general_quota: pl.DataFrame,
    counties: pl.DataFrame,
    as_of: dt.date,
    rejects: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Households visited by ``as_of`` against the sample, one row per county.

    Returns
    -------
    pl.DataFrame
        ``county_code, county_name, city_name, sampled`` (registered
        households drawn), ``visited`` (of those, with a usable questionnaire
        visited on or before ``as_of``), ``missing``, ``share`` (visited /
        sampled; null without a sample), ``general_quota`` (general
        households to visit at random), ``general_visited``, ``last_visit``,
        ``rejected`` (household questionnaires sent back for correction).
    """
    seen = households.filter(pl.col("visit_date") <= as_of)
    drawn = sample_households.join(
        seen.filter(pl.col("registered")).select("household_id", _v=pl.lit(True)),
        on="household_id",
        how="left",
    )
    parts = [
        drawn.group_by("county_code").agg(
            sampled=pl.len().cast(pl.Int64),
            visited=pl.col("_v").fill_null(False).sum().cast(pl.Int64),
        ),
        general_quota.group_by("county_code").agg(
            general_quota=pl.col("count").sum().cast(pl.Int64)
        ),
        seen.filter(~pl.col("registered"))
        .group_by("county_code")
        .agg(general_visited=pl.len().cast(pl.Int64)),
        seen.group_by("county_code").agg(last_visit=pl.col("visit_date").max()),
    ]
    if rejects is not None and "table" in rejects.columns:
        parts.append(
            rejects.filter(pl.col("table") == "household_survey")
            .group_by("county_code")
            .agg(rejected=pl.len().cast(pl.Int64))
        )
    out = counties.select("county_code", "county_name", "city_name")
    for part in parts:
        out = out.join(part, on="county_code", how="left")
    if "rejected" not in out.columns:
        out = out.with_columns(rejected=pl.lit(0, pl.Int64))
    counts = ("sampled", "visited", "general_quota", "general_visited", "rejected")
    return (
        out.with_columns(pl.col(counts).fill_null(0))
        .with_columns(missing=pl.col("sampled") - pl.col("visited"))
        .with_columns(
            share=pl.when(pl.col("sampled") > 0).then(pl.col("visited") / pl.col("sampled"))
        )
        .select(
            "county_code",
            "county_name",
            "city_name",
            "sampled",
            "visited",
            "missing",
            "share",
            "general_quota",
            "general_visited",
            "last_visit",
            "rejected",
        )
        .sort("county_code")
    )


def daily(households: pl.DataFrame, as_of: dt.date, by: str = "team_id") -> pl.DataFrame:
    """Households visited per ``by`` (``team_id`` or ``county_code``) and day, by ``as_of``.

    Returns
    -------
    pl.DataFrame
        ``<by>, visit_date, households, cumulative`` (running total of ``by``).
    """
    return (
        households.filter(pl.col("visit_date") <= as_of)
        .group_by(by, "visit_date")
        .agg(households=pl.len().cast(pl.Int64))
        .sort(by, "visit_date")
        .with_columns(cumulative=pl.col("households").cum_sum().over(by))
    )


def reviews(findings: pl.DataFrame, plan: Plan, as_of: dt.date, run_as_of: dt.date) -> pl.DataFrame:
    """The findings that need review, with their state on ``as_of``.

    The state is :func:`~xkaohe.analyse.findings.review_status` taken on
    ``as_of``; before ``run_as_of`` (the results' date) the findings are
    first replayed as they stood on ``as_of``. System candidates that
    duplicate a team problem (``covered_by``) are left out: the team's
    problem is the one reviewed.
    """
    known = findings
    if as_of < run_as_of:
        later = pl.col("review_date") > as_of
        known = findings.filter(pl.col("raised_date") <= as_of).with_columns(
            pl.when(later).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("review_date", "review_outcome")
        )
    if "covered_by" in known.columns:
        known = known.filter(pl.col("covered_by").is_null())
    stored = [c for c in ("review_due", "review_state", "confirmed", "in_report") if c in known]
    taken = review_status(known.drop(stored), plan, as_of)
    return taken.filter(pl.col("review_state") != "not_needed")


def review_counts(reviewed: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    """:func:`reviews` counted per county; a city's own problems in a row of their own.

    Returns
    -------
    pl.DataFrame
        ``unit`` (county | city), ``code``, ``name``, ``city_name``,
        ``needs_review`` and one count per state of :data:`REVIEW_COUNTED`,
        cities in the order of their first county, each city before its
        counties.
    """
    keyed = reviewed.with_columns(
        unit=pl.when(pl.col("county_code").is_null())
        .then(pl.lit("city"))
        .otherwise(pl.lit("county")),
        code=pl.coalesce("county_code", "city_name"),
    )
    counts = keyed.group_by("unit", "code").agg(
        pl.len().cast(pl.Int64).alias("needs_review"),
        *[(pl.col("review_state") == s).sum().cast(pl.Int64).alias(s) for s in REVIEW_COUNTED],
    )
    cities = (
        counties.group_by("city_name")
        .agg(_o=pl.col("county_code").min())
        .select(
            pl.lit("city").alias("unit"),
            pl.col("city_name").alias("code"),
            (pl.col("city_name") + "（市级）").alias("name"),
            "city_name",
            "_o",
        )
    )
    units = pl.concat(
        [
            cities,
            counties.select(
                pl.lit("county").alias("unit"),
                pl.col("county_code").alias("code"),
                pl.col("county_name").alias("name"),
                "city_name",
                pl.col("county_code").alias("_o"),
            ),
        ]
    )
    cols = ("needs_review", *REVIEW_COUNTED)
    return (
        units.join(counts, on=["unit", "code"], how="left")
        .with_columns(pl.col(cols).fill_null(0))
        .sort("_o", "unit", "code")
        .drop("_o")
    )


def deadline_risk(
    visited: pl.DataFrame,
    counts: pl.DataFrame,
    completeness: pl.DataFrame,
    deadline: dt.date,
    as_of: dt.date,
) -> pl.DataFrame:
    """Each county's risk of missing the report deadline, with the reasons in Chinese.

    A county is behind when sampled households are still unvisited,
    questionnaires were sent back, reviews are overdue, system proposals
    await the team, or its report lacks what plan 五 asks for
    (``completeness``).

    Returns
    -------
    pl.DataFrame
        ``county_code, county_name, city_name, missing, rejected, overdue,
        proposed, completeness_ok, days_left, behind, reasons``.
    """
    county_reviews = counts.filter(pl.col("unit") == "county").select(
        pl.col("code").alias("county_code"), "overdue", "proposed"
    )
    report = completeness.filter(pl.col("unit") == "county").select(
        pl.col("code").alias("county_code"), pl.col("ok").alias("completeness_ok"), "shortfall"
    )
    df = (
        visited.select("county_code", "county_name", "city_name", "missing", "rejected")
        .join(county_reviews, on="county_code", how="left")
        .join(report, on="county_code", how="left")
        .with_columns(
            pl.col("overdue", "proposed").fill_null(0), pl.col("completeness_ok").fill_null(True)
        )
    )
    reasons = pl.concat_list(
        pl.when(pl.col("missing") > 0).then(pl.format("尚有{}户抽样户未走访", "missing")),
        pl.when(pl.col("rejected") > 0).then(pl.format("{}份入户调查表退回待更正", "rejected")),
        pl.when(pl.col("overdue") > 0).then(pl.format("{}个问题逾期未复核", "overdue")),
        pl.when(pl.col("proposed") > 0).then(pl.format("{}条系统提示待考核组核实", "proposed")),
        pl.when(~pl.col("completeness_ok")).then(
            pl.concat_str(pl.lit("报告内容不全："), pl.col("shortfall").fill_null(""))
        ),
    ).list.drop_nulls()
    return (
        df.with_columns(_r=reasons, days_left=pl.lit((deadline - as_of).days, pl.Int64))
        .with_columns(behind=pl.col("_r").list.len() > 0, reasons=pl.col("_r").list.join("；"))
        .select(
            "county_code",
            "county_name",
            "city_name",
            "missing",
            "rejected",
            "overdue",
            "proposed",
            "completeness_ok",
            "days_left",
            "behind",
            "reasons",
        )
        .sort("county_code")
    )


@dataclass(frozen=True)
class FieldProgress:
    """Every progress table of one day (and optionally one city)."""

    as_of: dt.date
    deadline: dt.date
    city: str
    visits: pl.DataFrame
    daily_team: pl.DataFrame
    daily_county: pl.DataFrame
    reviews: pl.DataFrame
    review_counts: pl.DataFrame
    risk: pl.DataFrame

    @property
    def behind(self) -> pl.DataFrame:
        """The counties that may miss the report deadline."""
        return self.risk.filter(pl.col("behind"))


def parse_day(text: str, default: dt.date) -> dt.date:
    """A notebook's day parameter: ``YYYY-MM-DD``, or empty for ``default``.

    Raises
    ------
    InputError
        When the text is not such a date.
    """
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            Problem("as_of", None, None, "a date YYYY-MM-DD or empty", repr(text))
        ) from None


def field_progress(
    counties: pl.DataFrame,
    households: pl.DataFrame,
    findings: pl.DataFrame,
    sample_households: pl.DataFrame,
    general_quota: pl.DataFrame,
    completeness: pl.DataFrame,
    rejects: pl.DataFrame,
    plan: Plan,
    as_of: dt.date,
    run_as_of: dt.date,
    city: str = "",
) -> FieldProgress:
    """Every progress table for ``as_of`` (``run_as_of``: the results' date), province or ``city``.

    Raises
    ------
    InputError
        When ``city`` is not a city of ``counties``.
    """
    if city:
        if city not in set(counties["city_name"].to_list()):
            raise InputError(Problem("city", None, None, "a city of the run or empty", repr(city)))
        counties = counties.filter(pl.col("city_name") == city)
        households = households.filter(pl.col("city_name") == city)
        findings = findings.filter(pl.col("city_name") == city)
    seen = visits(households, sample_households, general_quota, counties, as_of, rejects)
    taken = reviews(findings, plan, as_of, run_as_of)
    counts = review_counts(taken, counties)
    deadline = plan.timeline.team_reports_by
    return FieldProgress(
        as_of=as_of,
        deadline=deadline,
        city=city,
        visits=seen,
        daily_team=daily(households, as_of, "team_id"),
        daily_county=daily(households, as_of, "county_code"),
        reviews=taken,
        review_counts=counts,
        risk=deadline_risk(seen, counts, completeness, deadline, as_of),
    )


__all__ = [
    "REVIEW_COUNTED",
    "FieldProgress",
    "daily",
    "deadline_risk",
    "field_progress",
    "parse_day",
    "review_counts",
    "reviews",
    "visits",
]
