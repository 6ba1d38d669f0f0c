"""Relapsed households by county and cause (plan 三(一)1(8), 精准退出: 返贫).

Every relapsed household of a sampled village is surveyed (五(七)2: 返贫户实行
全覆盖调查). The survey records why it fell back (``relapse_cause``, a code of
the plan's ``relapse_causes``) and the year it had exited (``exit_year``). The
plan asks in particular about relapse *caused by poor exit quality or weak
help* (因脱贫质量不高和帮扶工作不实导致的返贫): those causes are marked
``plan_named`` in the plan and singled out here. A relapsed household whose
cause was not recorded is counted under a null cause and judged on nothing:
no report may call it a risk of anything without its cause.

The population is the households the registry lists as relapsed
(``frame_status`` relapsed) among the village sample's visits; a cause given
for any other household stays in the households table but is not counted.
"""

from __future__ import annotations

import polars as pl

from xkaohe.plan import Plan

__all__ = ["relapse_counts"]


def relapse_counts(households: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Surveyed relapsed households per county and cause.

    Parameters
    ----------
    households
        Classified household visits of the village sample
        (:func:`xkaohe.analyse.indicators.classify`): ``county_code,
        frame_status, relapse_cause, household_size, qualified, exit_year``.
    plan
        The plan: its relapse causes (order, which are plan-named).

    Returns
    -------
    pl.DataFrame
        One row per county and cause found: ``county_code``,
        ``relapse_cause`` (null: not recorded), ``plan_named`` (null when not
        recorded), ``households``, ``persons``, ``still_poor`` (households
        still below the income line or 两不愁三保障), ``exit_year_min``,
        ``exit_year_max`` (null when no year was recorded). Sorted by county,
        then the plan's order of causes, unrecorded last.
    """
    order = {c.code: i for i, c in enumerate(plan.relapse_causes)}
    named = list(plan.plan_named_relapse_causes)
    relapsed = households.filter((pl.col("frame_status") == "relapsed").fill_null(False))
    return (
        relapsed.group_by("county_code", "relapse_cause")
        .agg(
            households=pl.len().cast(pl.Int64),
            persons=pl.col("household_size").sum().cast(pl.Int64),
            still_poor=(~pl.col("qualified")).sum().cast(pl.Int64),
            exit_year_min=pl.col("exit_year").min().cast(pl.Int64),
            exit_year_max=pl.col("exit_year").max().cast(pl.Int64),
        )
        .with_columns(
            plan_named=pl.when(pl.col("relapse_cause").is_not_null()).then(
                pl.col("relapse_cause").is_in(named)
            ),
            _k=pl.col("relapse_cause").replace_strict(
                order, default=len(order), return_dtype=pl.Int64
            ),
        )
        .sort("county_code", "_k", "relapse_cause", nulls_last=True)
        .select(
            "county_code",
            "relapse_cause",
            "plan_named",
            "households",
            "persons",
            "still_poor",
            "exit_year_min",
            "exit_year_max",
        )
    )
