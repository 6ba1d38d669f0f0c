"""County facts of the year against the frame, and the pace of poverty reduction (三(一)1).

The 分类考核 of plan 三(一)1 asks for county facts a household survey cannot
give: the year's poverty-reduction target and what was achieved, the funds
invested and the projects done, the poor villages exited, and whether
responsibility, policy, help and supervision were kept after exit (四个不摘).
Document review (五(二) 查阅资料) delivers them as claims of the claims table;
:func:`xkaohe.analyse.claims.check_claims` checks them like every other claim.

This module gives the two things that need the frame rather than the
questionnaires:

* :func:`register_evidence` — one evidence row per county and
  ``county_register`` item of the plan: the persons of the registry's
  households of the item's statuses (年度实际减贫人数 against the registry's
  exits of the year), the project register's funds, the register's projects
  less the sampled ones the teams found unfinished (the most that can have
  been completed), and the poor villages the registry marks as exited. Each
  row's ``reference`` names the frame file and the figures, and for projects
  the file and row of each unfinished project's check.
* :func:`reduction_pace` — per county: the documented target, the persons
  the registry shows exited this year, the pace (achieved / target) and
  whether the remaining poor can exit by ``plan.claims.finish_year`` at this
  year's pace (:data:`xkaohe.codes.REDUCTION_PACE`), stored as the results
  table ``county_focus`` for the reports to read.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from xkaohe.analyse.claims import EVIDENCE_SCHEMA, as_number
from xkaohe.codes import HOUSEHOLD_STATUS, PROJECT_STATUS
from xkaohe.inputs import ROW
from xkaohe.plan import Plan
from xkaohe.schemas import require_columns

_DONE = "completed"  # the project-check status of a finished project (codes.PROJECT_STATUS)

FOCUS_COLUMNS: dict[str, type[pl.DataType]] = {
    "county_code": pl.String,
    "city_name": pl.String,
    "target_persons": pl.Float64,
    "target_claim_id": pl.String,
    "achieved_persons": pl.Int64,
    "achieved_claimed": pl.Float64,
    "pace": pl.Float64,
    "target_met": pl.Boolean,
    "remaining_persons": pl.Int64,
    "year": pl.Int64,
    "finish_year": pl.Int64,
    "years_left": pl.Int64,
    "on_time": pl.String,
}
"""The columns of ``county_focus``."""


def _register_households(households: pl.DataFrame, villages: pl.DataFrame) -> pl.DataFrame:
    """Per village and status: ``households`` and ``persons`` of the registry, with the
    village's ``county_code``. Counted first and joined after: 30 million households
    become some 600,000 rows before the join copies anything."""
    require_columns(households, "households", ("village_code", "status", "household_size"))
    require_columns(villages, "villages", ("village_code", "county_code"))
    # The streaming engine counts in bounded memory (an eager group-by of 30 million
    # rows by two text keys held gigabytes).
    return (
        households.lazy()
        .group_by("village_code", "status")
        .agg(
            households=pl.len().cast(pl.Int64),
            persons=pl.col("household_size").cast(pl.Int64).sum(),
        )
        .collect(engine="streaming")
        .join(villages.select("village_code", "county_code"), on="village_code", how="inner")
    )


def register_evidence(
    households: pl.DataFrame,
    villages: pl.DataFrame,
    projects: pl.DataFrame,
    checked_projects: pl.DataFrame,
    counties: pl.DataFrame,
    plan: Plan,
    files: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """One evidence row per county and ``county_register`` item (columns of ``evidence_rows``).

    Parameters
    ----------
    households, villages, projects
        The frame's tables (``village_code, status, household_size``;
        ``village_code, county_code, is_poor_village, poor_village_exited``;
        ``project_id, county_code, funds_yuan``).
    checked_projects
        The sampled projects with the team's check: ``project_id,
        county_code, status, _row`` (``status`` null where not checked).
    counties
        ``county_code, city_name``.
    plan
        ``plan.claims.items`` (the ``county_register`` items and their statuses).
    files
        Table name -> file name (frame ``households``, ``villages``,
        ``projects``; field ``project_checks``) for the references.
    """
    names = {
        "households": "households.csv",
        "villages": "villages.csv",
        "projects": "projects.csv",
        "project_checks": "project_checks.csv",
    } | dict(files or {})
    hh = _register_households(households, villages)
    require_columns(projects, "projects", ("project_id", "county_code", "funds_yuan"))
    require_columns(checked_projects, "project_checks", ("project_id", "county_code", "status"))
    pc = checked_projects
    if ROW not in pc.columns:
        pc = pc.with_columns(pl.lit(None, pl.Int64).alias(ROW))
    base = counties.select("county_code", "city_name")
    parts = []
    for item, rule in plan.claims.items.items():
        if rule.table != "county_register":
            continue
        if rule.column == "persons":
            label = "、".join(HOUSEHOLD_STATUS.label(x) for x in rule.statuses)
            per = _county_total(
                hh.filter(pl.col("status").is_in(list(rule.statuses))),
                pl.col("persons").sum().cast(pl.Float64),
                pl.col("households").sum(),
                f"{names['households']}（建档立卡数据）{label}共{{}}户{{}}人",
            )
        elif rule.column == "funds_yuan":
            per = _county_total(
                projects,
                pl.col("funds_yuan").cast(pl.Float64).sum(),
                pl.len(),
                f"{names['projects']}（项目库）登记项目{{}}个，资金合计{{}}元",
            )
        elif rule.column == "projects_done":
            per = _projects_done(projects, pc, names)
        else:  # poor_villages_exited
            poor = pl.col("is_poor_village").fill_null(False)
            per = _county_total(
                villages,
                (poor & pl.col("poor_village_exited").fill_null(False)).sum().cast(pl.Float64),
                poor.sum(),
                f"{names['villages']}（建档立卡数据）贫困村{{}}个，已出列{{}}个",
            )
        parts.append(
            base.join(per, on="county_code", how="left").select(
                pl.lit(item).alias("item"),
                pl.lit("county_register").alias("evidence"),
                "city_name",
                "county_code",
                pl.lit(None, pl.String).alias("village_code"),
                pl.lit(None, pl.String).alias("household_id"),
                pl.lit(None, pl.String).alias("project_id"),
                pl.lit(None, pl.String).alias("helper_id"),
                pl.lit(None, pl.Boolean).alias("meets"),
                pl.col("number").fill_null(0.0),
                pl.col("unit_id").fill_null(pl.col("county_code")),
                pl.col("reference").fill_null("建档立卡数据中本县没有相应记录"),
            )
        )
    empty = pl.DataFrame(schema=EVIDENCE_SCHEMA)
    return pl.concat([empty, *[p.cast(EVIDENCE_SCHEMA) for p in parts]])  # type: ignore[arg-type]


def _county_total(
    df: pl.DataFrame, number: pl.Expr, count: pl.Expr, reference: str
) -> pl.DataFrame:
    """Per county: a register figure (``number``) and the reference that cites it.

    ``reference`` has two places: ``count`` (the rows behind it), then the figure as
    a whole number.
    """
    return (
        df.group_by("county_code")
        .agg(number=number, _n=count)
        .select(
            "county_code",
            "number",
            pl.format(reference, "_n", pl.col("number").round(0).cast(pl.Int64)).alias("reference"),
            pl.col("county_code").alias("unit_id"),
        )
    )


def _projects_done(
    projects: pl.DataFrame, checks: pl.DataFrame, names: Mapping[str, str]
) -> pl.DataFrame:
    """Per county: the register's projects less the sampled ones found unfinished."""
    unfinished = (
        checks.filter(pl.col("status").is_not_null() & (pl.col("status") != _DONE))
        .sort("county_code", "project_id")
        .group_by("county_code", maintain_order=True)
        .agg(
            _k=pl.len(),
            _ids=pl.col("project_id").str.join(";"),
            _refs=pl.format(
                f"{names['project_checks']} 第{{}}行（项目{{}}，{{}}）",
                pl.col(ROW).cast(pl.String).fill_null("?"),
                "project_id",
                PROJECT_STATUS.expr(pl.col("status")),
            ).str.join("；"),
        )
    )
    return (
        projects.group_by("county_code")
        .agg(_m=pl.len())
        .join(unfinished, on="county_code", how="left")
        .with_columns(pl.col("_k").fill_null(0))
        .select(
            "county_code",
            (pl.col("_m") - pl.col("_k")).cast(pl.Float64).alias("number"),
            pl.when(pl.col("_k") > 0)
            .then(
                pl.format(
                    f"{names['projects']}（项目库）登记项目{{}}个，抽查发现未完工{{}}个，"
                    "最多完成{}个：{}",
                    "_m",
                    "_k",
                    pl.col("_m") - pl.col("_k"),
                    "_refs",
                )
            )
            .otherwise(
                pl.format(
                    f"{names['projects']}（项目库）登记项目{{}}个，抽查项目均已完工或未核查",
                    "_m",
                )
            )
            .alias("reference"),
            pl.coalesce("_ids", "county_code").alias("unit_id"),
        )
    )


def reduction_pace(
    checks: pl.DataFrame,
    households: pl.DataFrame,
    villages: pl.DataFrame,
    counties: pl.DataFrame,
    plan: Plan,
) -> pl.DataFrame:
    """Per county: target, achieved, pace, and whether it can finish by the plan's year.

    Parameters
    ----------
    checks
        ``claim_checks``: the county-level ``reduction_target`` and
        ``reduction_achieved`` claims (the first by date and claim id, where a
        county's documents give several).
    households, villages
        The frame's registry: achieved = persons of the ``reduction_achieved``
        item's statuses; remaining = persons of
        ``indicators.exit_standard.remaining_statuses``.
    counties
        ``county_code, city_name``.
    plan
        ``claims.finish_year``; the assessment year is the field week's.

    Returns
    -------
    pl.DataFrame
        :data:`FOCUS_COLUMNS`, one row per county: ``pace`` = achieved /
        target (null without a documented target), ``target_met`` = achieved
        >= target, ``on_time`` = ``on_track`` when the remaining poor persons
        do not exceed this year's achieved persons times the years left to
        ``finish_year`` (none left: no one may remain), else ``at_risk``.
    """
    year = plan.timeline.field_start.year
    left = max(plan.claims.finish_year - year, 0)
    achieved_rule = plan.claims.items.get("reduction_achieved")
    exited = list(achieved_rule.statuses) if achieved_rule is not None else []
    remaining = list(plan.indicators.exit_standard.remaining_statuses)
    hh = _register_households(households, villages)
    persons = hh.group_by("county_code").agg(
        achieved_persons=pl.col("persons").filter(pl.col("status").is_in(exited)).sum(),
        remaining_persons=pl.col("persons").filter(pl.col("status").is_in(remaining)).sum(),
    )
    county_claims = checks.filter(
        (pl.col("level") == "county") & pl.col("household_id").is_null()
    ).sort("county_code", "date", "claim_id", nulls_last=True)

    def first(item: str, value: str, claim_id: str | None = None) -> pl.DataFrame:
        c = county_claims.filter(pl.col("item") == item).with_columns(_n=as_number(pl.col("value")))
        cols = [pl.col("_n").alias(value)]
        if claim_id:
            cols.append(pl.col("claim_id").alias(claim_id))
        return (
            c.filter(pl.col("_n").is_not_null())
            .group_by("county_code", maintain_order=True)
            .first()
            .select("county_code", *cols)
        )

    target = first("reduction_target", "target_persons", "target_claim_id")
    claimed = first("reduction_achieved", "achieved_claimed")
    out = (
        counties.select("county_code", "city_name")
        .join(persons, on="county_code", how="left")
        .join(target, on="county_code", how="left")
        .join(claimed, on="county_code", how="left")
        .with_columns(pl.col("achieved_persons", "remaining_persons").fill_null(0))
    )
    pace = pl.when(pl.col("target_persons") > 0).then(
        pl.col("achieved_persons") / pl.col("target_persons")
    )
    return (
        out.with_columns(
            pace=pace,
            target_met=pl.when(pl.col("target_persons").is_not_null()).then(
                pl.col("achieved_persons") >= pl.col("target_persons")
            ),
            year=pl.lit(year, pl.Int64),
            finish_year=pl.lit(plan.claims.finish_year, pl.Int64),
            years_left=pl.lit(left, pl.Int64),
            on_time=pl.when(pl.col("remaining_persons") <= pl.col("achieved_persons") * left)
            .then(pl.lit("on_track"))
            .otherwise(pl.lit("at_risk")),
        )
        .select(list(FOCUS_COLUMNS))
        .cast(FOCUS_COLUMNS)  # type: ignore[arg-type]
        .sort("county_code")
    )


__all__ = ["FOCUS_COLUMNS", "reduction_pace", "register_evidence"]
