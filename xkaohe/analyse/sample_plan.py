"""What the plan asks of each county's sample: the planned counts every report shows (五(七)).

A county's village quotas come from the plan's per-county rule
(``sampling.villages.by_county``: the first rule its ``counties`` row
matches, else the default ``quotas``); a sampled village's household quota of
a status is a fixed ``count`` or a share of its frame households within
``[min, count]``; every household of a full-coverage status is planned; and
``general_per_village`` general households are visited at random. Reports
said "planned" with the default quotas even where a county's rule differs;
here the planned counts are decided once, by the same functions the draw
uses (:func:`xkaohe.draw.sampling.county_quota_rules`,
:func:`~xkaohe.draw.sampling.household_targets`), and stored as the results
table ``sample_plan`` that reports read.

Household plans exist for the villages actually drawn: a share quota needs a
village's households, so a county that drew fewer villages than planned (too
few candidates) plans households for the villages it has, and its village
row says how many it lacks.
"""

from __future__ import annotations

import polars as pl

from xkaohe.draw.sampling import county_quota_rules, household_targets
from xkaohe.plan import Plan

__all__ = ["KINDS", "sample_plan"]

KINDS = ("villages", "households", "general")
"""``kind`` of a ``sample_plan`` row: a village type's quota of the county, a household
status's quota of a sampled village, the general households of a sampled village."""

_SCHEMA = pl.Schema(
    {
        "county_code": pl.String(),
        "village_code": pl.String(),
        "kind": pl.String(),
        "category": pl.String(),
        "basis": pl.String(),
        "rule": pl.Int64(),
        "planned": pl.Int64(),
        "_order": pl.Int64(),
    }
)


def sample_plan(
    counties: pl.DataFrame, villages: pl.DataFrame, households: pl.DataFrame, plan: Plan
) -> pl.DataFrame:
    """The planned counts of every county's sample.

    Parameters
    ----------
    counties
        The frame's ``counties`` (the columns the ``by_county`` rules name).
    villages
        The sample's villages: ``county_code, village_code``.
    households
        The frame's households of (at least) the sampled villages:
        ``village_code, status``.
    plan
        The plan.

    Returns
    -------
    pl.DataFrame
        ``county_code``, ``village_code`` (null on a county's village rows),
        ``kind`` (:data:`KINDS`), ``category`` (the village type, the
        household status, or ``general``), ``basis`` (``by_county`` or
        ``quotas`` for villages; ``count``, ``share`` or ``full_coverage``
        for households; ``per_village`` for general households), ``rule``
        (the county's ``by_county`` rule, -1 for the default quotas) and
        ``planned``. Sorted by county, village (county rows first), kind,
        and plan order.
    """
    rules = plan.sampling.villages
    rule_of = county_quota_rules(counties, plan)
    codes = counties["county_code"].sort().to_list()
    village_rows = [
        (
            code,
            None,
            "villages",
            q.type,
            "quotas" if rule_of.get(code, -1) < 0 else "by_county",
            rule_of.get(code, -1),
            q.count,
            order,
        )
        for code in codes
        for order, q in enumerate(rules.quotas_of(rule_of.get(code, -1)))
    ]
    parts = [pl.DataFrame(village_rows, schema=_SCHEMA, orient="row")]
    drawn = villages.select("county_code", "village_code").filter(
        pl.col("county_code").is_in(codes)
    )
    rule = pl.col("county_code").replace_strict(rule_of, default=-1, return_dtype=pl.Int64)
    hh = households.join(drawn.select("village_code"), on="village_code", how="semi")
    counted = plan.sampling.households
    for order, q in enumerate(counted.quotas):
        parts.append(
            household_targets(hh, drawn, q)
            .join(drawn, on="village_code")
            .select(
                "county_code",
                "village_code",
                kind=pl.lit("households"),
                category=pl.lit(q.status),
                basis=pl.lit("count" if q.share is None else "share"),
                rule=rule,
                planned=pl.col("_want"),
                _order=pl.lit(order, pl.Int64),
            )
        )
    for order, status in enumerate(counted.full_coverage, start=len(counted.quotas)):
        every = hh.filter(pl.col("status") == status).group_by("village_code").len()
        parts.append(
            drawn.join(every, on="village_code", how="left").select(
                "county_code",
                "village_code",
                kind=pl.lit("households"),
                category=pl.lit(status),
                basis=pl.lit("full_coverage"),
                rule=rule,
                planned=pl.col("len").fill_null(0).cast(pl.Int64),
                _order=pl.lit(order, pl.Int64),
            )
        )
    parts.append(
        drawn.select(
            "county_code",
            "village_code",
            kind=pl.lit("general"),
            category=pl.lit("general"),
            basis=pl.lit("per_village"),
            rule=rule,
            planned=pl.lit(counted.general_per_village, pl.Int64),
            _order=pl.lit(0, pl.Int64),
        )
    )
    kind_rank = pl.col("kind").replace_strict(
        {k: i for i, k in enumerate(KINDS)}, return_dtype=pl.Int64
    )
    return (
        pl.concat([p.cast(_SCHEMA) for p in parts], how="vertical")
        .sort(
            pl.col("county_code"),
            pl.col("village_code"),
            kind_rank,
            pl.col("_order"),
            nulls_last=False,
        )
        .drop("_order")
    )
