"""Findings: problems raised, their daily review, and whether each report is complete.

* Plan 五(六) 问题复核: every evening a team sums up the day's problems; those
  that need review go to the county and are checked with local departments
  the next day (``plan.review.days_to_review``). :func:`review_status` says
  for each problem whether that happened on time.
* Plan 五 (opening paragraph): each city and county report sums up 3–5
  typical experiences and at least 3 prominent problems, with suggestions
  tied to the problems (``plan.reports``). :func:`completeness` checks it.
* Plan 三 gives the content items (C1..C9 county, M1..M6 city, P1..P6 county
  pairing) a problem is filed under; 七(二) feeds problems back one-to-one to
  each city and county (:func:`feedback_findings`).

Besides the teams' own problems, the system proposes candidates
(:func:`xkaohe.analyse.candidates.candidate_problems`, one function per rule,
raised only on evidence). A candidate is *covered* when a
A candidate is *covered* when a
team problem of the same county and content item exists that review did not
dismiss: it stays in the findings with ``covered_by`` but leaves the reports.

Scope (DOMAIN.md, "Reports"): a finding is *systemic* (共性问题) when its
content item is confirmed, in a report, in at least
``reports.systemic.province_counties`` counties of the province or
``reports.systemic.city_counties`` counties of one city (its own city); otherwise it
is a *case* (个性问题). Counting is by distinct county, so ten problems of one
county make no pattern.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW
from xkaohe.plan import Plan, Systemic
from xkaohe.schemas import PROBLEMS, require_columns

PROBLEM_COLUMNS: tuple[str, ...] = tuple(c.name for c in PROBLEMS.columns)
SOURCES = ("team", "indicator", "cross_check")

# ------------------------------------------------------------------ helpers


def _with_row(df: pl.DataFrame) -> pl.DataFrame:
    if ROW in df.columns:
        return df.with_columns(pl.col(ROW).cast(pl.Int64))
    return df.with_columns(pl.lit(None, pl.Int64).alias(ROW))


def _as_problems(df: pl.DataFrame, table: str = "problems") -> list[Problem]:
    return [
        Problem(table, r, column, expected, found)
        for r, column, expected, found in df.select(
            ROW, "_column", "_expected", "_found"
        ).iter_rows()
    ]


def _blank(text: pl.Expr) -> pl.Expr:
    return text.is_null() | (text.str.strip_chars().str.len_chars() == 0)


PROBLEM_DTYPES: dict[str, type[pl.DataType]] = {
    "problem_id": pl.String,
    "raised_date": pl.Date,
    "team_id": pl.String,
    "level": pl.String,
    "city_name": pl.String,
    "county_code": pl.String,
    "village_code": pl.String,
    "content_item": pl.String,
    "description": pl.String,
    "evidence": pl.String,
    "needs_review": pl.Boolean,
    "review_date": pl.Date,
    "review_outcome": pl.String,
    "suggestion": pl.String,
}


# ------------------------------------------------------------------- review


def review_status(problems: pl.DataFrame, plan: Plan, as_of: dt.date) -> pl.DataFrame:
    """Where each problem stands in the daily review (五(六)).

    Parameters
    ----------
    problems
        Problems with ``raised_date, needs_review, review_date,
        review_outcome`` (null outcome reads as pending; null
        ``needs_review`` as true).
    plan
        The plan; ``review.days_to_review`` sets the due day.
    as_of
        The day the status is taken.

    Returns
    -------
    pl.DataFrame
        ``problems`` plus ``review_due`` (``raised_date + days_to_review`` when
        the problem needs review), ``review_state`` (``not_needed``;
        ``on_time``: confirmed or dismissed on or before the due day;
        ``late``: after it; ``overdue``: not reviewed and ``as_of`` past the
        due day; ``pending``: not reviewed, not yet overdue; ``proposed``:
        with a ``source`` column, a system candidate (source other than
        ``team``) not reviewed — the system's proposal to the team, never
        overdue), ``confirmed`` (confirmed by review, or not needing review
        and not dismissed) and ``in_report`` (false for dismissed problems,
        which stay in the table). Labels: :data:`xkaohe.codes.REVIEW_STATE`;
        :func:`xkaohe.analyse.progress.reviews` takes the states on another day.

    Raises
    ------
    InputError
        For every row with a review outcome but no review date, a review date
        before the raised date, or an unknown outcome; all at once.
    """
    require_columns(
        problems,
        "problems",
        ("problem_id", "raised_date", "needs_review", "review_date", "review_outcome"),
    )
    days = plan.review.days_to_review
    outcome = pl.col("review_outcome").fill_null("pending")
    reviewed = outcome.is_in(["confirmed", "dismissed"])
    df = _with_row(problems).with_columns(pl.col("needs_review").fill_null(True), _outcome=outcome)
    bad = pl.concat(
        [
            df.filter(~pl.col("_outcome").is_in(["pending", "confirmed", "dismissed"])).select(
                ROW,
                _column=pl.lit("review_outcome"),
                _expected=pl.lit("pending, confirmed or dismissed"),
                _found=pl.format("'{}'", "_outcome"),
            ),
            df.filter(reviewed & pl.col("review_date").is_null()).select(
                ROW,
                _column=pl.lit("review_date"),
                _expected=pl.lit("the date of the review that gave the outcome"),
                _found=pl.format("outcome '{}' and no date (problem {})", "_outcome", "problem_id"),
            ),
            df.filter(pl.col("review_date") < pl.col("raised_date")).select(
                ROW,
                _column=pl.lit("review_date"),
                _expected=pl.lit("a date on or after raised_date"),
                _found=pl.format(
                    "{} before {} (problem {})", "review_date", "raised_date", "problem_id"
                ),
            ),
        ]
    ).sort(ROW, nulls_last=True)
    if bad.height:
        raise InputError(_as_problems(bad))
    due = pl.col("review_due")
    # A candidate nobody has reviewed is the system's proposal to the team,
    # not a review the team let slip: it is never "overdue".
    system = (pl.col("source") != "team") if "source" in problems.columns else pl.lit(False)
    state = (
        pl.when(~pl.col("needs_review"))
        .then(pl.lit("not_needed"))
        .when(reviewed & (pl.col("review_date") <= due))
        .then(pl.lit("on_time"))
        .when(reviewed)
        .then(pl.lit("late"))
        .when(system.fill_null(False))
        .then(pl.lit("proposed"))
        .when(pl.lit(as_of, pl.Date) > due)
        .then(pl.lit("overdue"))
        .otherwise(pl.lit("pending"))
    )
    out = df.with_columns(
        review_due=pl.when(pl.col("needs_review")).then(
            pl.col("raised_date") + pl.duration(days=days)
        )
    ).with_columns(
        review_state=state,
        confirmed=(outcome == "confirmed") | (~pl.col("needs_review") & (outcome != "dismissed")),
        in_report=outcome != "dismissed",
    )
    return out.drop("_outcome") if ROW in problems.columns else out.drop("_outcome", ROW)


# ----------------------------------------------------------------- findings


def merge_findings(
    team_problems: pl.DataFrame,
    candidates: pl.DataFrame,
    plan: Plan,
    as_of: dt.date,
    systemic: Systemic | None = None,
) -> pl.DataFrame:
    """The findings table: the teams' problems and the system's candidates.

    Parameters
    ----------
    team_problems
        The problems table as the teams entered it (``_row`` optional).
    candidates
        The output of :func:`candidate_problems`.
    plan
        The plan: content items, ``review.days_to_review``.
    as_of
        The day the review status is taken.
    systemic
        When an item is systemic; by default the plan's ``reports.systemic``.

    Returns
    -------
    pl.DataFrame
        The problems columns plus ``source`` (team | indicator | cross_check),
        ``rule`` (null for team problems), ``covered_by`` (the team problem a
        candidate duplicates), the columns of :func:`review_status`
        (``in_report`` also false for covered candidates), ``scope``
        (systemic | case) and ``_row`` (the team's row; null for candidates).
        Sorted by county (city-level problems first), source, problem id.

    Raises
    ------
    InputError
        For team problems whose content item is not one of the plan's, whose
        id repeats, or whose review fields are inconsistent; all at once.
    """
    rule = systemic or plan.reports.systemic
    require_columns(team_problems, "problems", PROBLEM_COLUMNS)
    team = _with_row(team_problems)
    codes = sorted(plan.content.codes)
    bad = pl.concat(
        [
            team.filter(~pl.col("content_item").is_in(codes)).select(
                ROW,
                _column=pl.lit("content_item [考核内容]"),
                _expected=pl.lit(f"an item code of the plan ({', '.join(codes)})"),
                _found=pl.format("'{}' (problem {})", "content_item", "problem_id"),
            ),
            team.filter(pl.len().over("problem_id") > 1).select(
                ROW,
                _column=pl.lit("problem_id [问题编号]"),
                _expected=pl.lit("a problem id used once"),
                _found=pl.format("'{}' more than once", "problem_id"),
            ),
        ]
    ).sort(ROW, nulls_last=True)
    if bad.height:
        raise InputError(_as_problems(bad))
    cast = [pl.col(c).cast(t) for c, t in PROBLEM_DTYPES.items()]
    team = team.select(
        *cast,
        pl.lit("team").alias("source"),
        pl.lit(None, pl.String).alias("rule"),
        pl.lit(None, pl.String).alias("covered_by"),
        ROW,
    )
    cover = (
        team.filter(
            pl.col("county_code").is_not_null()
            & (pl.col("review_outcome").fill_null("pending") != "dismissed")
        )
        .group_by("county_code", "content_item")
        .agg(covered_by=pl.col("problem_id").min())
    )
    cand = (
        candidates.select(*cast, pl.col("source").cast(pl.String), pl.col("rule").cast(pl.String))
        .join(cover, on=["county_code", "content_item"], how="left")
        .with_columns(pl.lit(None, pl.Int64).alias(ROW))
    )
    merged = review_status(pl.concat([team, cand]), plan, as_of).with_columns(
        in_report=pl.col("in_report") & pl.col("covered_by").is_null()
    )
    counted = (
        merged.filter(
            pl.col("confirmed") & pl.col("in_report") & pl.col("county_code").is_not_null()
        )
        .select("city_name", "county_code", "content_item")
        .unique()
    )
    province = counted.group_by("content_item").agg(_np=pl.col("county_code").n_unique())
    city = counted.group_by("city_name", "content_item").agg(_nc=pl.col("county_code").n_unique())
    src = {s: i for i, s in enumerate(SOURCES)}
    return (
        merged.join(province, on="content_item", how="left")
        .join(city, on=["city_name", "content_item"], how="left", nulls_equal=True)
        .with_columns(
            scope=pl.when(
                (pl.col("_np").fill_null(0) >= rule.province_counties)
                | (pl.col("_nc").fill_null(0) >= rule.city_counties)
            )
            .then(pl.lit("systemic"))
            .otherwise(pl.lit("case")),
            _s=pl.col("source").replace_strict(src, return_dtype=pl.Int64),
        )
        .sort("county_code", "_s", "problem_id", nulls_last=False)
        .drop("_np", "_nc", "_s")
        .select(pl.exclude(ROW), ROW)
    )


# ------------------------------------------------------------- completeness


def completeness(
    findings: pl.DataFrame,
    experiences: pl.DataFrame,
    counties: pl.DataFrame,
    plan: Plan,
    coverage: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Whether each county and city report has what plan 五 asks for.

    A county's report counts the findings and experiences with its
    ``county_code``; a city's report those of its city with no county code
    (its own city-level work). Pairing findings (plan 三(二) items, the
    ``content.pairing`` codes) belong to the separate pairing report and are
    not counted. Only confirmed findings still in the report count.

    Parameters
    ----------
    findings
        The output of :func:`merge_findings`.
    experiences
        The experiences table: ``city_name, county_code``.
    counties
        The frame's counties: ``county_code, county_name, city_name``; the
        units checked are these counties and their cities.
    plan
        The plan; ``plan.reports`` holds the rules.
    coverage
        Optional interview coverage (:func:`xkaohe.analyse.claims.interview_coverage`):
        then ``interviews_planned`` and ``interviews_missing`` (a county: its
        county, village and helper interviews; a city: its city interviews) and
        ``interviews_ok`` (none missing, 五(三)) are added and count in ``ok``.

    Returns
    -------
    pl.DataFrame
        ``unit`` (city | county), ``code`` (county code; the city name for a
        city), ``name``, ``city_name``, ``experiences``, ``problems``
        (confirmed, in report), ``problems_with_suggestion``,
        ``experiences_ok`` (min <= experiences <= max), ``problems_ok``
        (problems >= problems_min), ``suggestions_ok`` (every counted problem
        has a suggestion, when suggestions are required), ``ok`` and
        ``shortfall`` (what is missing, in Chinese; null when ok). Each city
        comes before its counties.
    """
    require_columns(
        findings,
        "findings",
        ("city_name", "county_code", "content_item", "suggestion", "confirmed", "in_report"),
    )
    require_columns(experiences, "experiences", ("city_name", "county_code"))
    require_columns(counties, "counties", ("county_code", "county_name", "city_name"))
    rules = plan.reports
    pairing = [it.code for it in plan.content.pairing]
    counted = findings.filter(
        pl.col("confirmed") & pl.col("in_report") & ~pl.col("content_item").is_in(pairing)
    ).with_columns(_sugg=~_blank(pl.col("suggestion")))
    units = pl.concat(
        [
            counties.select(
                pl.lit("city").alias("unit"),
                pl.col("city_name").alias("code"),
                pl.col("city_name").alias("name"),
                "city_name",
            ).unique(),
            counties.select(
                pl.lit("county").alias("unit"),
                pl.col("county_code").alias("code"),
                pl.col("county_name").alias("name"),
                "city_name",
            ),
        ]
    )

    def key(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(
            unit=pl.when(pl.col("county_code").is_null())
            .then(pl.lit("city"))
            .otherwise(pl.lit("county")),
            code=pl.coalesce("county_code", "city_name"),
        )

    exp = key(experiences).group_by("unit", "code").agg(experiences=pl.len().cast(pl.Int64))
    prob = (
        key(counted)
        .group_by("unit", "code")
        .agg(
            problems=pl.len().cast(pl.Int64),
            problems_with_suggestion=pl.col("_sugg").sum().cast(pl.Int64),
        )
    )
    lo, hi, pmin = rules.experiences.min, rules.experiences.max, rules.problems_min
    n_exp, n_prob = pl.col("experiences"), pl.col("problems")
    missing = n_prob - pl.col("problems_with_suggestion")
    out = (
        units.join(exp, on=["unit", "code"], how="left")
        .join(prob, on=["unit", "code"], how="left")
        .with_columns(
            [
                pl.col(c).fill_null(0)
                for c in ("experiences", "problems", "problems_with_suggestion")
            ]
        )
        .with_columns(
            experiences_ok=(n_exp >= lo) & (n_exp <= hi),
            problems_ok=n_prob >= pmin,
            suggestions_ok=pl.lit(not rules.suggestion_required) | (missing == 0),
        )
        .with_columns(
            ok=pl.col("experiences_ok") & pl.col("problems_ok") & pl.col("suggestions_ok")
        )
    )
    interviews: list[pl.Expr] = []
    if coverage is not None:
        per = (
            pl.concat(
                [
                    coverage.filter(pl.col("level") != "city").select(
                        pl.lit("county").alias("unit"),
                        pl.col("county_code").alias("code"),
                        "planned",
                        "missing",
                    ),
                    coverage.filter(pl.col("level") == "city").select(
                        pl.lit("city").alias("unit"),
                        pl.col("city_name").alias("code"),
                        "planned",
                        "missing",
                    ),
                ]
            )
            .group_by("unit", "code")
            .agg(
                interviews_planned=pl.col("planned").sum().cast(pl.Int64),
                interviews_missing=pl.col("missing").sum().cast(pl.Int64),
            )
        )
        out = (
            out.join(per, on=["unit", "code"], how="left")
            .with_columns(pl.col("interviews_planned", "interviews_missing").fill_null(0))
            .with_columns(interviews_ok=pl.col("interviews_missing") == 0)
            .with_columns(ok=pl.col("ok") & pl.col("interviews_ok"))
        )
        interviews = [
            pl.when(~pl.col("interviews_ok")).then(
                pl.format("计划访谈{}人，缺{}人", "interviews_planned", "interviews_missing")
            )
        ]
    parts = pl.concat_list(
        pl.when(n_exp < lo).then(pl.format(f"典型经验{{}}条，少于{lo}条", n_exp)),
        pl.when(n_exp > hi).then(pl.format(f"典型经验{{}}条，多于{hi}条", n_exp)),
        pl.when(~pl.col("problems_ok")).then(
            pl.format(f"已确认的突出问题{{}}个，少于{pmin}个", n_prob)
        ),
        pl.when(~pl.col("suggestions_ok")).then(pl.format("{}个问题缺少意见建议", missing)),
        *interviews,
    ).list.drop_nulls()
    return (
        out.with_columns(
            shortfall=pl.when(~pl.col("ok")).then(parts.list.join("；")),
            _u=(pl.col("unit") == "county").cast(pl.Int8),
        )
        .sort("city_name", "_u", "code")
        .select(
            "unit",
            "code",
            "name",
            "city_name",
            "experiences",
            "problems",
            "problems_with_suggestion",
            "experiences_ok",
            "problems_ok",
            "suggestions_ok",
            *(["interviews_planned", "interviews_missing", "interviews_ok"] if interviews else []),
            "ok",
            "shortfall",
        )
    )


def feedback_findings(findings: pl.DataFrame, city_name: str) -> pl.DataFrame:
    """What is fed back to one city (七(二)): its and its counties' reported findings.

    Parameters
    ----------
    findings
        The output of :func:`merge_findings`.
    city_name
        The city.

    Returns
    -------
    pl.DataFrame
        The city's findings that are confirmed and in the report, in the
        problems columns plus ``scope``; no other city's rows.
    """
    return findings.filter(
        (pl.col("city_name") == city_name) & pl.col("confirmed") & pl.col("in_report")
    ).select(*PROBLEM_COLUMNS, "scope")


__all__ = [
    "completeness",
    "feedback_findings",
    "merge_findings",
    "review_status",
]
