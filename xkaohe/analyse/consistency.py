"""Cross-checks (比对): what cadres say, what households say, what records show.

Why one module of ~950 lines: the five comparisons below read the same
claims, cite the same file rows and apply the plan's tolerances in one place
(``plan.consistency``); :func:`discrepancies` and :func:`mismatch_rates` need
all of them. Claims at every level and from every source (issue 13) are the
newer, general form in :mod:`xkaohe.analyse.claims`.

Plan 五(三) interviews cadres at every level and eight assistance cadres
(帮扶责任人) per village; 五(五) checks projects "并与情况交流、干部访谈、入户调查
了解的情况进行比对"; 五(二) asks that what the documents say "在入户时予以核实".
This module makes those comparisons for all counties at once:

* :func:`helper_claims` — each helper's statement about one surveyed household
  (household size, income, 两不愁三保障 and water) against the household's own
  answers; :func:`helper_summary` per helper;
* :func:`village_claims` — a village cadre's "all our registered households
  meet item X" against the village's surveyed registered households;
* :func:`project_results` — the sampled project's record against the team's
  project check;
* :func:`mismatch_rates` — the rates by village and by county, with the
  households' awareness of their helper;
* :func:`discrepancies` — one list of specific contradictions, each with the
  rows of the user's files that show it.

Rules (the thresholds are ``plan.consistency``):

* A claim is read from text. Boolean items accept the readers' spellings
  (true/false, 1/0, 是/否 ...). Number items accept a plain number with
  optional thousands separators, an optional 万 and an optional unit
  (元, 人, 口): "3", "3人", "4,500元", "0.5万". Anything else is
  ``unreadable`` and neither agrees nor contradicts.
* Integer items (household size) agree only when equal; float items
  (income) agree when ``|claim - answer| <= income_tolerance * answer``, the
  household's answer being the reference; booleans agree when equal.
* A village claim "true" says every registered household of the village meets
  the item; each surveyed registered household answering false contradicts it.
  A claim "false" admits a gap and cannot be contradicted by the survey.
* A project discrepancy is: spending above the recorded funds; money spent on
  a project found not started or abandoned; fewer beneficiaries confirmed than
  drawn. A project with no check is ``not_checked``: a gap in the team's work,
  not a discrepancy of the county. Missing numbers raise no flag.

When a flag becomes a problem is :mod:`xkaohe.analyse.findings`' business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import polars as pl

from xkaohe.codes import CHECK_ITEM, PROJECT_STATUS
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW
from xkaohe.plan import Plan
from xkaohe.schemas import (
    CLAIM_ITEMS,
    FALSE_WORDS,
    HOUSEHOLD_SURVEY,
    TRUE_WORDS,
    require_columns,
)

BOOL_ITEMS: tuple[str, ...] = tuple(
    c for c in CLAIM_ITEMS if HOUSEHOLD_SURVEY.column(c).kind == "bool"
)
"""Claim items a village cadre can assert for all registered households."""
INT_ITEMS: tuple[str, ...] = tuple(
    c for c in CLAIM_ITEMS if HOUSEHOLD_SURVEY.column(c).kind == "int"
)
FLOAT_ITEMS: tuple[str, ...] = tuple(
    c for c in CLAIM_ITEMS if HOUSEHOLD_SURVEY.column(c).kind == "float"
)
ITEM_LABELS: dict[str, str] = CHECK_ITEM.labels()
"""Chinese labels of the compared items (:data:`xkaohe.codes.CHECK_ITEM`)."""

KINDS = ("helper_claim", "village_claim", "project")
PROJECT_FLAGS = (
    "funds_overspent",
    "spent_but_not_started",
    "spent_but_abandoned",
    "beneficiaries_short",
)

SURVEY_COLUMNS = (
    "county_code",
    "village_code",
    "household_id",
    "registered",
    "knows_helper",
    *CLAIM_ITEMS,
)
INTERVIEW_COLUMNS = (
    "interview_id",
    "level",
    "person_id",
    "county_code",
    "village_code",
    "household_id",
    "item",
    "claim",
)
PROJECT_COLUMNS = (
    "county_code",
    "project_id",
    "kind",
    "level",
    "funds_yuan",
    "beneficiaries_drawn",
)
CHECK_COLUMNS = (
    "project_id",
    "date",
    "status",
    "funds_spent_yuan",
    "beneficiaries_confirmed",
    "issue",
)
DEFAULT_SOURCES: dict[str, str] = {
    "interviews": "interviews.csv",
    "household_survey": "household_survey.csv",
    "project_checks": "project_checks.csv",
}


# ------------------------------------------------------------------ helpers


def require_unique(df: pl.DataFrame, table: str, key: str) -> None:
    """Raise :class:`InputError` listing every row that repeats ``key``."""
    rows = _with_row(df)
    dup = rows.filter(pl.len().over(key) > 1).sort(key, ROW)
    if dup.height:
        raise InputError(
            [
                Problem(table, r, key, f"one row per {key}", f"'{k}' more than once")
                for k, r in dup.select(key, ROW).iter_rows()
            ]
        )


def _with_row(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with ``_row`` (null when the caller built the table by hand)."""
    if ROW in df.columns:
        return df.with_columns(pl.col(ROW).cast(pl.Int64))
    return df.with_columns(pl.lit(None, pl.Int64).alias(ROW))


def _with_optional(df: pl.DataFrame, columns: Mapping[str, type[pl.DataType]]) -> pl.DataFrame:
    missing = {c: t for c, t in columns.items() if c not in df.columns}
    return df.with_columns([pl.lit(None, t).alias(c) for c, t in missing.items()])


def number_text(x: pl.Expr) -> pl.Expr:
    """A number as text: integral values without decimals, others to 2 places."""
    r = x.round(2)
    return (
        pl.when(r == r.round(0)).then(r.cast(pl.Int64).cast(pl.String)).otherwise(r.cast(pl.String))
    )


def percent_text(x: pl.Expr) -> pl.Expr:
    """A share as a Chinese-report percentage: 0.025 -> "2.5%"."""
    return pl.concat_str(number_text(x * 100), pl.lit("%"))


def rows_text(rows: pl.Expr) -> pl.Expr:
    """A list of row numbers as "12、15"."""
    return rows.list.eval(pl.element().cast(pl.String)).list.join("、")


def _reference(file: str, rows: pl.Expr) -> pl.Expr:
    return pl.format(f"{file} 第{{}}行", rows)


def _claim_value(item: pl.Expr, claim: pl.Expr) -> pl.Expr:
    """The number a claim states (booleans as 1.0/0.0), or null if unreadable."""
    text = claim.str.strip_chars().str.to_lowercase()
    as_bool = (
        pl.when(text.is_in(list(TRUE_WORDS)))
        .then(pl.lit(1.0))
        .when(text.is_in(list(FALSE_WORDS)))
        .then(pl.lit(0.0))
    )
    compact = text.str.replace_all(r"[\s,，]", "")
    pattern = r"^(\d+(?:\.\d+)?)(万)?(?:元|人|口)?$"
    number = compact.str.extract(pattern, 1).cast(pl.Float64) * pl.when(
        compact.str.extract(pattern, 2).is_not_null()
    ).then(pl.lit(10_000.0)).otherwise(pl.lit(1.0))
    return (
        pl.when(item.is_in(list(BOOL_ITEMS)))
        .then(as_bool)
        .when(item.is_in([*INT_ITEMS, *FLOAT_ITEMS]))
        .then(number)
    )


def _canonical_text(item: pl.Expr, value: pl.Expr) -> pl.Expr:
    """A compared value as canonical text: "true"/"false" or the number."""
    return (
        pl.when(item.is_in(list(BOOL_ITEMS)))
        .then(pl.when(value == 1.0).then(pl.lit("true")).otherwise(pl.lit("false")))
        .otherwise(number_text(value))
    )


def _chinese_text(item: pl.Expr, value: pl.Expr) -> pl.Expr:
    """A compared value as a report shows it: 是/否, "3人", "4500元"."""
    return (
        pl.when(item.is_in(list(BOOL_ITEMS)))
        .then(pl.when(value == 1.0).then(pl.lit("是")).otherwise(pl.lit("否")))
        .when(item.is_in(list(INT_ITEMS)))
        .then(pl.concat_str(number_text(value), pl.lit("人")))
        .otherwise(pl.concat_str(number_text(value), pl.lit("元")))
    )


def _survey_long(survey: pl.DataFrame) -> pl.DataFrame:
    """One row per surveyed household and claim item: ``value`` as Float64."""
    return (
        _with_row(survey)
        .select(
            "village_code",
            "household_id",
            "registered",
            pl.col(ROW).alias("survey_row"),
            *[pl.col(c).cast(pl.Float64) for c in CLAIM_ITEMS],
        )
        .unpivot(
            on=list(CLAIM_ITEMS),
            index=["village_code", "household_id", "registered", "survey_row"],
            variable_name="item",
            value_name="answer_value",
        )
    )


# ------------------------------------------------------------ helper claims


def helper_claims(interviews: pl.DataFrame, survey: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Every assistance cadre's claim about a household, against the household's answer.

    Parameters
    ----------
    interviews
        The interviews table (long form); only ``level == "helper"`` rows are used.
    survey
        The household survey with ``county_code``.
    plan
        The plan; ``plan.consistency.income_tolerance`` is used.

    Returns
    -------
    pl.DataFrame
        One row per helper claim: ``county_code, village_code, helper_id,
        household_id, item, claim, answer, agrees, status, claim_value,
        answer_value, interview_id, interview_row, survey_row``. ``status`` is
        one of ``agrees, contradicts, not_surveyed, unreadable, no_answer,
        other_item``; ``agrees`` is null unless the claim could be compared.
        A helper interview row without ``village_code`` takes the village of
        the surveyed household with that id, when the id is unique.
    """
    require_columns(interviews, "interviews", INTERVIEW_COLUMNS)
    require_columns(survey, "household_survey", SURVEY_COLUMNS)
    tol = plan.consistency.income_tolerance
    s = _with_row(survey)
    keys = s.select("village_code", "household_id", pl.col(ROW).alias("survey_row"))
    unique_ids = keys.filter(pl.len().over("household_id") == 1).select(
        "household_id", pl.col("village_code").alias("_village")
    )
    h = (
        _with_row(interviews)
        .filter(pl.col("level") == "helper")
        .join(unique_ids, on="household_id", how="left")
        .with_columns(village_code=pl.coalesce("village_code", "_village"))
        .join(keys, on=["village_code", "household_id"], how="left")
        .join(
            _survey_long(survey).select("village_code", "household_id", "item", "answer_value"),
            on=["village_code", "household_id", "item"],
            how="left",
        )
        .with_columns(claim_value=_claim_value(pl.col("item"), pl.col("claim")))
    )
    c, a, item = pl.col("claim_value"), pl.col("answer_value"), pl.col("item")
    same = (
        pl.when(item.is_in(list(FLOAT_ITEMS)))
        .then((c - a).abs() <= tol * a.abs())
        .otherwise(c == a)
    )
    status = (
        pl.when(~pl.col("_surveyed"))
        .then(pl.lit("not_surveyed"))
        .when(~item.is_in(list(CLAIM_ITEMS)))
        .then(pl.lit("other_item"))
        .when(c.is_null())
        .then(pl.lit("unreadable"))
        .when(a.is_null())
        .then(pl.lit("no_answer"))
        .when(same)
        .then(pl.lit("agrees"))
        .otherwise(pl.lit("contradicts"))
    )
    surveyed = keys.select("village_code", "household_id").with_columns(_surveyed=pl.lit(True))
    return (
        h.join(surveyed, on=["village_code", "household_id"], how="left")
        .with_columns(pl.col("_surveyed").fill_null(False))
        .with_columns(status=status)
        .select(
            "county_code",
            "village_code",
            pl.col("person_id").alias("helper_id"),
            "household_id",
            "item",
            "claim",
            pl.when(pl.col("_surveyed") & a.is_not_null())
            .then(_canonical_text(item, a))
            .alias("answer"),
            pl.when(pl.col("status") == "agrees")
            .then(pl.lit(True))
            .when(pl.col("status") == "contradicts")
            .then(pl.lit(False))
            .alias("agrees"),
            "status",
            "claim_value",
            "answer_value",
            "interview_id",
            pl.col(ROW).alias("interview_row"),
            "survey_row",
        )
        .sort(
            "county_code",
            "village_code",
            "helper_id",
            "household_id",
            "item",
            "interview_row",
            nulls_last=True,
        )
    )


def helper_summary(
    claims: pl.DataFrame,
    survey: pl.DataFrame,
    plan: Plan,
    assignments: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per assistance cadre: how many claims held, and whether their households know them.

    Parameters
    ----------
    claims
        The output of :func:`helper_claims`.
    survey
        The household survey with ``county_code``.
    plan
        The plan; ``helper_mismatch_max`` is used.
    assignments
        Optional ``helper_id, household_id`` from the registry (the frame's
        households): a surveyed household assigned to a helper counts as theirs
        even when the helper said nothing about it.

    Returns
    -------
    pl.DataFrame
        ``county_code, village_code, helper_id, claims, checked, mismatches,
        mismatch_rate, households, households_not_knowing, mismatch_flagged,
        flagged``. ``checked`` counts the claims that could be compared;
        ``mismatch_rate`` is ``mismatches / checked`` (null when nothing was
        checked); ``households`` are the helper's surveyed households;
        ``mismatch_flagged`` when ``mismatch_rate > helper_mismatch_max``;
        ``flagged`` when that, or any of their households does not know the
        helper.
    """
    require_columns(survey, "household_survey", SURVEY_COLUMNS)
    keys = ["county_code", "village_code", "helper_id"]
    stats = claims.group_by(keys).agg(
        claims=pl.len().cast(pl.Int64),
        checked=pl.col("agrees").count().cast(pl.Int64),
        mismatches=(pl.col("agrees") == False).sum().cast(pl.Int64),  # noqa: E712
    )
    links = claims.filter(pl.col("status") != "not_surveyed").select(
        "helper_id", "village_code", "household_id"
    )
    s = survey.select("county_code", "village_code", "household_id", "knows_helper")
    if assignments is not None:
        require_columns(assignments, "households", ("helper_id", "household_id"))
        assigned = (
            assignments.select("helper_id", "household_id")
            .filter(pl.col("helper_id").is_not_null())
            .join(s.select("household_id", "village_code"), on="household_id")
            .select("helper_id", "village_code", "household_id")
        )
        links = pl.concat([links, assigned])
    households = (
        links.unique()
        .join(s, on=["village_code", "household_id"])
        .group_by(keys)
        .agg(
            households=pl.col("household_id").n_unique().cast(pl.Int64),
            households_not_knowing=(pl.col("knows_helper") == False)  # noqa: E712
            .sum()
            .cast(pl.Int64),
        )
    )
    out = stats.join(households, on=keys, how="full", coalesce=True, nulls_equal=True)
    counts = ["claims", "checked", "mismatches", "households", "households_not_knowing"]
    return (
        out.with_columns([pl.col(c).fill_null(0) for c in counts])
        .with_columns(
            mismatch_rate=pl.when(pl.col("checked") > 0).then(
                pl.col("mismatches") / pl.col("checked")
            )
        )
        .with_columns(
            mismatch_flagged=(
                pl.col("mismatch_rate") > plan.consistency.helper_mismatch_max
            ).fill_null(False)
        )
        .with_columns(flagged=pl.col("mismatch_flagged") | (pl.col("households_not_knowing") > 0))
        .select(
            *keys,
            "claims",
            "checked",
            "mismatches",
            "mismatch_rate",
            "households",
            "households_not_knowing",
            "mismatch_flagged",
            "flagged",
        )
        .sort(keys, nulls_last=True)
    )


# ----------------------------------------------------------- village claims


def village_claims(interviews: pl.DataFrame, survey: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Village cadres' "all registered households meet it" against the survey.

    Parameters
    ----------
    interviews
        The interviews table; rows with ``level == "village"`` and a boolean
        claim item (:data:`BOOL_ITEMS`) are used.
    survey
        The household survey with ``county_code``.
    plan
        The plan; ``village_claim_mismatch_max`` is used.

    Returns
    -------
    pl.DataFrame
        One row per village, item and claim: ``county_code, village_code, item,
        claim`` (bool; null when unreadable), ``claimants`` (interview rows
        saying it), ``households`` (surveyed registered households answering
        the item), ``contradicting``, ``mismatch_rate`` (both null unless the
        claim is true), ``flagged`` (``mismatch_rate >
        village_claim_mismatch_max``), ``interview_rows`` and
        ``contradicting_rows`` (the survey rows that contradict).
    """
    require_columns(interviews, "interviews", INTERVIEW_COLUMNS)
    require_columns(survey, "household_survey", SURVEY_COLUMNS)
    claimed = (
        _with_row(interviews)
        .filter((pl.col("level") == "village") & pl.col("item").is_in(list(BOOL_ITEMS)))
        .with_columns(
            claim=_claim_value(pl.col("item"), pl.col("claim")).cast(pl.Boolean),
        )
        .group_by("county_code", "village_code", "item", "claim")
        .agg(
            claimants=pl.len().cast(pl.Int64),
            interview_rows=pl.col(ROW).drop_nulls().sort(),
        )
    )
    found = (
        _survey_long(survey)
        .filter(pl.col("registered") & pl.col("item").is_in(list(BOOL_ITEMS)))
        .with_columns(no=pl.col("answer_value") == 0.0)
        .group_by("village_code", "item")
        .agg(
            households=pl.col("answer_value").count().cast(pl.Int64),
            contradicting=pl.col("no").sum().cast(pl.Int64),
            contradicting_rows=pl.col("survey_row").filter(pl.col("no")).drop_nulls().sort(),
        )
    )
    true = pl.col("claim").fill_null(False)
    return (
        claimed.join(found, on=["village_code", "item"], how="left")
        .with_columns(
            households=pl.col("households").fill_null(0),
            contradicting=pl.when(true).then(pl.col("contradicting").fill_null(0)),
            contradicting_rows=pl.when(true).then(pl.col("contradicting_rows")),
        )
        .with_columns(
            mismatch_rate=pl.when(true & (pl.col("households") > 0)).then(
                pl.col("contradicting") / pl.col("households")
            )
        )
        .with_columns(
            flagged=(
                pl.col("mismatch_rate") > plan.consistency.village_claim_mismatch_max
            ).fill_null(False)
        )
        .select(
            "county_code",
            "village_code",
            "item",
            "claim",
            "claimants",
            "households",
            "contradicting",
            "mismatch_rate",
            "flagged",
            "interview_rows",
            "contradicting_rows",
        )
        .sort("county_code", "village_code", "item", "claim", nulls_last=True)
    )


# ----------------------------------------------------------------- projects


def project_results(projects: pl.DataFrame, checks: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Each sampled project's record against the team's check (五(五)).

    Parameters
    ----------
    projects
        The sample's projects with the frame's funds: ``county_code,
        project_id, kind, level, funds_yuan, beneficiaries_drawn`` (and
        ``village_code``, ``name`` when known).
    checks
        The project_checks table, at most one row per project. Checks of
        projects outside the sample are ignored.
    plan
        The plan (kept for the common signature; no threshold applies: any
        discrepancy counts).

    Returns
    -------
    pl.DataFrame
        One row per sampled project: the record (``county_code,
        village_code, project_id, kind, level, name, funds_yuan,
        beneficiaries_drawn``), the check (``checked, check_date,
        check_status, funds_spent_yuan, beneficiaries_confirmed, issue,
        check_row``) and the flags ``funds_overspent, spent_but_not_started,
        spent_but_abandoned, beneficiaries_short, not_checked,
        any_discrepancy`` (any of the first four).

    Raises
    ------
    InputError
        When a project id appears twice in ``projects`` or ``checks``.
    """
    del plan  # no plan value steers this comparison (yet)
    require_columns(projects, "projects", PROJECT_COLUMNS)
    require_columns(checks, "project_checks", CHECK_COLUMNS)
    require_unique(projects, "projects", "project_id")
    require_unique(checks, "project_checks", "project_id")
    p = _with_optional(projects, {"village_code": pl.String, "name": pl.String})
    c = _with_row(checks).select(
        "project_id",
        pl.lit(True).alias("checked"),
        pl.col("date").alias("check_date"),
        pl.col("status").alias("check_status"),
        pl.col("funds_spent_yuan").cast(pl.Float64),
        pl.col("beneficiaries_confirmed").cast(pl.Int64),
        "issue",
        pl.col(ROW).alias("check_row"),
    )
    spent = pl.col("funds_spent_yuan").fill_null(0.0)
    level_order = {"county": 0, "village": 1, "paired": 2}
    out = (
        p.select(
            "county_code",
            "village_code",
            "project_id",
            "kind",
            "level",
            "name",
            pl.col("funds_yuan").cast(pl.Float64),
            pl.col("beneficiaries_drawn").cast(pl.Int64),
        )
        .join(c, on="project_id", how="left")
        .with_columns(pl.col("checked").fill_null(False))
        .with_columns(
            funds_overspent=(spent > pl.col("funds_yuan")).fill_null(False),
            spent_but_not_started=(
                (pl.col("check_status") == "not_started") & (spent > 0)
            ).fill_null(False),
            spent_but_abandoned=((pl.col("check_status") == "abandoned") & (spent > 0)).fill_null(
                False
            ),
            beneficiaries_short=(
                pl.col("beneficiaries_confirmed") < pl.col("beneficiaries_drawn")
            ).fill_null(False),
            not_checked=~pl.col("checked"),
        )
        .with_columns(any_discrepancy=pl.any_horizontal(*PROJECT_FLAGS))
    )
    return (
        out.with_columns(
            _lvl=pl.col("level").replace_strict(level_order, default=9, return_dtype=pl.Int64)
        )
        .sort("county_code", "_lvl", "village_code", "project_id", nulls_last=False)
        .drop("_lvl")
    )


# -------------------------------------------------------------------- rates


def mismatch_rates(
    claims: pl.DataFrame,
    villages: pl.DataFrame,
    projects: pl.DataFrame,
    survey: pl.DataFrame,
    plan: Plan,
) -> pl.DataFrame:
    """The cross-check rates by village and by county.

    Parameters
    ----------
    claims, villages, projects
        The outputs of :func:`helper_claims`, :func:`village_claims` and
        :func:`project_results`.
    survey
        The household survey with ``county_code``.
    plan
        The plan; ``plan.consistency`` thresholds are used.

    Returns
    -------
    pl.DataFrame
        ``unit`` (village | county), ``county_code``, ``village_code`` (null on
        county rows), then ``helper_claims_checked, helper_mismatches,
        helper_mismatch_rate, helper_mismatch_flagged``;
        ``village_claim_households, village_claim_contradicting,
        village_claim_mismatch_rate, village_claim_flagged`` (over true
        claims); ``projects_sampled, projects_checked,
        projects_with_discrepancy, project_discrepancy_rate`` (over checked
        projects; county-level projects count on county rows only);
        ``registered_asked, knows_helper, helper_awareness, awareness_ok``
        (registered households that answered whether they know their helper;
        ``awareness_ok`` is ``helper_awareness >= helper_awareness_min``).
        Rates are null when their denominator is zero.
    """
    require_columns(survey, "household_survey", SURVEY_COLUMNS)
    rules = plan.consistency

    def by(keys: list[str]) -> pl.DataFrame:
        hc = (
            claims.filter(pl.col("agrees").is_not_null())
            .group_by(keys)
            .agg(
                helper_claims_checked=pl.len().cast(pl.Int64),
                helper_mismatches=(~pl.col("agrees")).sum().cast(pl.Int64),
            )
        )
        vc = (
            villages.filter(pl.col("claim").fill_null(False))
            .group_by(keys)
            .agg(
                village_claim_households=pl.col("households").sum().cast(pl.Int64),
                village_claim_contradicting=pl.col("contradicting").sum().cast(pl.Int64),
            )
        )
        pr = (
            projects.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in keys]))
            .group_by(keys)
            .agg(
                projects_sampled=pl.len().cast(pl.Int64),
                projects_checked=pl.col("checked").sum().cast(pl.Int64),
                projects_with_discrepancy=pl.col("any_discrepancy").sum().cast(pl.Int64),
            )
        )
        aw = (
            survey.filter(pl.col("registered") & pl.col("knows_helper").is_not_null())
            .group_by(keys)
            .agg(
                registered_asked=pl.len().cast(pl.Int64),
                knows_helper=pl.col("knows_helper").sum().cast(pl.Int64),
            )
        )
        parts = [hc, vc, pr, aw]
        units = pl.concat([p.select(keys) for p in parts]).unique()
        for p in parts:
            units = units.join(p, on=keys, how="left", nulls_equal=True)
        return units

    village = by(["county_code", "village_code"]).with_columns(unit=pl.lit("village"))
    county = by(["county_code"]).with_columns(
        unit=pl.lit("county"), village_code=pl.lit(None, pl.String)
    )
    counts = [
        "helper_claims_checked",
        "helper_mismatches",
        "village_claim_households",
        "village_claim_contradicting",
        "projects_sampled",
        "projects_checked",
        "projects_with_discrepancy",
        "registered_asked",
        "knows_helper",
    ]

    def rate(num: str, den: str) -> pl.Expr:
        return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))

    return (
        pl.concat([village, county], how="diagonal")
        .with_columns([pl.col(c).fill_null(0) for c in counts])
        .with_columns(
            helper_mismatch_rate=rate("helper_mismatches", "helper_claims_checked"),
            village_claim_mismatch_rate=rate(
                "village_claim_contradicting", "village_claim_households"
            ),
            project_discrepancy_rate=rate("projects_with_discrepancy", "projects_checked"),
            helper_awareness=rate("knows_helper", "registered_asked"),
        )
        .with_columns(
            helper_mismatch_flagged=(
                pl.col("helper_mismatch_rate") > rules.helper_mismatch_max
            ).fill_null(False),
            village_claim_flagged=(
                pl.col("village_claim_mismatch_rate") > rules.village_claim_mismatch_max
            ).fill_null(False),
            awareness_ok=pl.col("helper_awareness") >= rules.helper_awareness_min,
        )
        .select(
            "unit",
            "county_code",
            "village_code",
            "helper_claims_checked",
            "helper_mismatches",
            "helper_mismatch_rate",
            "helper_mismatch_flagged",
            "village_claim_households",
            "village_claim_contradicting",
            "village_claim_mismatch_rate",
            "village_claim_flagged",
            "projects_sampled",
            "projects_checked",
            "projects_with_discrepancy",
            "project_discrepancy_rate",
            "registered_asked",
            "knows_helper",
            "helper_awareness",
            "awareness_ok",
        )
        .with_columns(_u=(pl.col("unit") == "village").cast(pl.Int8))
        .sort("county_code", "_u", "village_code", nulls_last=True)
        .drop("_u")
    )


# ------------------------------------------------------------ discrepancies

DISCREPANCY_SCHEMA: dict[str, type[pl.DataType]] = {
    "county_code": pl.String,
    "village_code": pl.String,
    "kind": pl.String,
    "subject": pl.String,
    "household_id": pl.String,
    "item": pl.String,
    "item_label": pl.String,
    "recorded": pl.String,
    "found": pl.String,
    "reference": pl.String,
}


def _join_refs(*parts: pl.Expr) -> pl.Expr:
    return pl.concat_list(*parts).list.drop_nulls().list.join("; ")


def discrepancies(
    claims: pl.DataFrame,
    villages: pl.DataFrame,
    projects: pl.DataFrame,
    sources: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Every specific contradiction found by the cross-checks, with its rows.

    Parameters
    ----------
    claims, villages, projects
        The outputs of :func:`helper_claims`, :func:`village_claims` and
        :func:`project_results`.
    sources
        File names to cite, by table (``interviews``, ``household_survey``,
        ``project_checks``); defaults to ``<table>.csv``.

    Returns
    -------
    pl.DataFrame
        ``county_code, village_code, kind`` (helper_claim | village_claim |
        project), ``subject`` (helper id, village code or project id),
        ``household_id`` (helper claims only), ``item, item_label``,
        ``recorded`` (what was claimed or recorded), ``found`` (what the
        household said or the check found), ``reference`` (the rows that show
        it, e.g. "interviews.csv 第17行; household_survey.csv 第203行").
        Every contradiction is listed, below a threshold or not; sorted by
        county, village, kind, subject, household, item.
    """
    files = DEFAULT_SOURCES | dict(sources or {})
    iv, sv, pc = files["interviews"], files["household_survey"], files["project_checks"]
    label = pl.col("item").replace_strict(ITEM_LABELS, default=pl.col("item"))
    helper = claims.filter(pl.col("agrees") == False).select(  # noqa: E712
        "county_code",
        "village_code",
        pl.lit("helper_claim").alias("kind"),
        pl.col("helper_id").alias("subject"),
        "household_id",
        "item",
        label.alias("item_label"),
        _chinese_text(pl.col("item"), pl.col("claim_value")).alias("recorded"),
        _chinese_text(pl.col("item"), pl.col("answer_value")).alias("found"),
        _join_refs(
            _reference(iv, pl.col("interview_row")), _reference(sv, pl.col("survey_row"))
        ).alias("reference"),
    )
    village = villages.filter(pl.col("contradicting") > 0).select(
        "county_code",
        "village_code",
        pl.lit("village_claim").alias("kind"),
        pl.col("village_code").alias("subject"),
        pl.lit(None, pl.String).alias("household_id"),
        "item",
        label.alias("item_label"),
        pl.lit("全部建档立卡户均为“是”").alias("recorded"),
        pl.format("入户调查{}户中{}户为“否”", "households", "contradicting").alias("found"),
        _join_refs(
            pl.when(pl.col("interview_rows").list.len() > 0).then(
                _reference(iv, rows_text(pl.col("interview_rows")))
            ),
            pl.when(pl.col("contradicting_rows").list.len() > 0).then(
                _reference(sv, rows_text(pl.col("contradicting_rows")))
            ),
        ).alias("reference"),
    )
    spent = pl.concat_str(pl.lit("已支出"), number_text(pl.col("funds_spent_yuan")), pl.lit("元"))
    issue = (
        pl.when(pl.col("issue").is_not_null())
        .then(pl.format("（{}）", "issue"))
        .otherwise(pl.lit(""))
    )

    def status_found(status: str) -> pl.Expr:
        return pl.concat_str(pl.lit(f"项目{PROJECT_STATUS.label(status)}"), issue)

    project_rules: list[tuple[str, str, pl.Expr, pl.Expr]] = [
        (
            "funds_overspent",
            "funds_spent_yuan",
            pl.concat_str(pl.lit("资金规模"), number_text(pl.col("funds_yuan")), pl.lit("元")),
            pl.concat_str(spent, issue),
        ),
        ("spent_but_not_started", "status", spent, status_found("not_started")),
        ("spent_but_abandoned", "status", spent, status_found("abandoned")),
        (
            "beneficiaries_short",
            "beneficiaries_confirmed",
            pl.format("抽查受益户{}户", "beneficiaries_drawn"),
            pl.concat_str(
                pl.format("核实受益{}户", "beneficiaries_confirmed"),
                issue,
            ),
        ),
    ]
    project = [
        projects.filter(pl.col(flag)).select(
            "county_code",
            "village_code",
            pl.lit("project").alias("kind"),
            pl.col("project_id").alias("subject"),
            pl.lit(None, pl.String).alias("household_id"),
            pl.lit(item).alias("item"),
            pl.lit(ITEM_LABELS[item]).alias("item_label"),
            recorded.alias("recorded"),
            found.alias("found"),
            _join_refs(_reference(pc, pl.col("check_row"))).alias("reference"),
        )
        for flag, item, recorded, found in project_rules
    ]
    cast = [pl.col(c).cast(t) for c, t in DISCREPANCY_SCHEMA.items()]
    out = pl.concat([f.select(cast) for f in [helper, village, *project]])
    return (
        out.with_columns(
            _k=pl.col("kind").replace_strict(
                {k: i for i, k in enumerate(KINDS)}, return_dtype=pl.Int64
            )
        )
        .sort(
            "county_code", "village_code", "_k", "subject", "household_id", "item", nulls_last=True
        )
        .drop("_k")
    )


# ------------------------------------------------------------------- bundle


@dataclass(frozen=True)
class CrossChecks:
    """All cross-check tables of a run (the ``consistency`` results)."""

    claims: pl.DataFrame
    helpers: pl.DataFrame
    villages: pl.DataFrame
    projects: pl.DataFrame
    rates: pl.DataFrame
    discrepancies: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """Name -> table, for the results store."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def cross_check(
    survey: pl.DataFrame,
    interviews: pl.DataFrame,
    projects: pl.DataFrame,
    checks: pl.DataFrame,
    plan: Plan,
    assignments: pl.DataFrame | None = None,
    sources: Mapping[str, str] | None = None,
) -> CrossChecks:
    """Run every cross-check for all counties at once.

    Parameters are those of the functions it calls: :func:`helper_claims`,
    :func:`helper_summary`, :func:`village_claims`, :func:`project_results`,
    :func:`mismatch_rates` and :func:`discrepancies`.
    """
    claims = helper_claims(interviews, survey, plan)
    villages = village_claims(interviews, survey, plan)
    results = project_results(projects, checks, plan)
    return CrossChecks(
        claims=claims,
        helpers=helper_summary(claims, survey, plan, assignments),
        villages=villages,
        projects=results,
        rates=mismatch_rates(claims, villages, results, survey, plan),
        discrepancies=discrepancies(claims, villages, results, sources),
    )


__all__ = [
    "BOOL_ITEMS",
    "CrossChecks",
    "cross_check",
    "discrepancies",
    "helper_claims",
    "helper_summary",
    "mismatch_rates",
    "project_results",
    "village_claims",
]
