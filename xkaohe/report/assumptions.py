"""The plan's assumptions a report relies on (issue 15, item 7).

A value the plan text (安徽省2019年脱贫攻坚市际交叉考核方案) does not state is
marked in the plan file under ``assumptions`` (:class:`xkaohe.plan.Assumption`).
A report whose numbers or wording depend on such a value says so: each report
kind lists here the plan sections it reads, and :func:`assumptions_table` gives
the notes on them, for a notebook to show in its method section
(``kit.show(assumptions_table(plan, "county"))``).
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel

from xkaohe.plan import Assumption, Plan

RELIES_ON: dict[str, tuple[str, ...]] = {
    # sample, weights and intervals (五(七), DESIGN "Indicators"), verdicts and problems
    "county": (
        "sampling.villages",
        "sampling.households",
        "sampling.projects",
        "indicators",
        "consistency",
        "claims",
        "relapse_causes",
        "reports.candidates",
    ),
    "city": (
        "sampling.villages",
        "sampling.households",
        "indicators",
        "consistency",
        "claims",
        "reports.candidates",
        "reports.systemic",
    ),
    "paired": ("sampling.projects", "indicators.confidence", "claims", "reports.candidates"),
    "province": (
        "sampling",
        "indicators",
        "consistency",
        "claims",
        "relapse_causes",
        "reports",
        "teams",
    ),
    "county_sample": ("sampling",),
    "lottery": ("teams",),
    "field_progress": ("field_week",),
    "rectification": ("rectification",),
}
"""Per report kind, the plan sections (dotted keys) its numbers and wording read."""


def value_text(value: object) -> str:
    """A plan value as a short line (mappings as ``key: value``, lists joined by 、)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, BaseModel):
        return "; ".join(
            f"{k}: {value_text(v)}" for k, v in value.model_dump(exclude_defaults=True).items()
        )
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    if isinstance(value, tuple | list):
        return "、".join(value_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def assumptions_for(plan: Plan, kind: str) -> tuple[Assumption, ...]:
    """The notes report ``kind`` (a key of :data:`RELIES_ON`) relies on, in plan order.

    An unknown kind raises KeyError naming the known ones.
    """
    if kind not in RELIES_ON:
        raise KeyError(f"unknown report kind '{kind}' (known: {', '.join(RELIES_ON)})")
    return plan.assumptions_under(*RELIES_ON[kind])


def assumptions_table(plan: Plan, kind: str) -> pl.DataFrame:
    """:func:`assumptions_for` as a table: 参数 (plan key), 取值 (its value), 说明 (the note)."""
    notes = assumptions_for(plan, kind)
    return pl.DataFrame(
        {
            "参数": [a.key for a in notes],
            "取值": [value_text(plan.value_at(a.key)) for a in notes],
            "说明": [a.note for a in notes],
        },
        schema={"参数": pl.String, "取值": pl.String, "说明": pl.String},
    )


__all__ = ["RELIES_ON", "assumptions_for", "assumptions_table", "value_text"]
