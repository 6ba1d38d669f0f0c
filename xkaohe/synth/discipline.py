"""A handful of synthetic discipline incidents for the demo (plan 八(二)(三); marked synthetic).

The register (:data:`xkaohe.schemas.INCIDENTS`) the demo's teams and 督查组
would have kept during the field week: breaches by the assessed places and by
the teams, reported by both, one with the field work terminated, one without
evidence, one whose description quotes a phone number (reports mask it). The
evidence files are short text notes that say they are synthetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from xkaohe.draw.prn import seeded_rng
from xkaohe.inputs import CITY_SEP, Lottery
from xkaohe.plan import Plan

DEMO_NOTE = "（演示数据：合成的模拟材料，不反映任何真实情况）"


@dataclass(frozen=True)
class _Case:
    rule: str  # plan code
    reporter: str  # plan code
    actions: tuple[str, ...]
    county_level: bool
    description: str
    outcome: str
    evidence: tuple[str, ...]  # file stems; empty: no evidence kept


_CASES = (
    _Case(
        "coaching",
        "team",
        ("stop", "report"),
        True,
        "入户走访时村干部在场提示农户如何回答收入和帮扶措施问题。",
        "已当场制止，考核组更换走访时间重新入户；县扶贫办作出书面说明。",
        ("现场情况说明", "走访录音摘要"),
    ),
    _Case(
        "over_reception",
        "supervision",
        ("report",),
        True,
        "督查组暗访发现考核组驻地由县里安排宴请。",
        "已通报被考核市扶贫办，考核组按标准自行结算食宿。",
        ("督查组暗访记录",),
    ),
    _Case(
        "surveillance",
        "team",
        ("stop", "report"),
        True,
        "县扶贫办一名工作人员（电话13912345678）多次打电话打探考核进展和初步结果。",
        "已制止并报告督查组，督查组约谈该县扶贫办负责人。",
        ("通话记录截图说明",),
    ),
    _Case(
        "interference",
        "team",
        ("stop", "report", "terminate"),
        True,
        "乡镇干部阻拦考核组进入抽中的村，并要求更换走访对象。",
        "经督查组核实，省扶贫办决定终止在该乡镇的实地考核，情况纳入该县综合评价。",
        ("现场照片说明", "考核组报告"),
    ),
    _Case(
        "drinking",
        "supervision",
        ("report",),
        False,
        "督查组接群众反映，考核组个别成员晚餐时饮酒。",
        "已约谈考核组组长，当事人作出书面检查。",
        (),
    ),
    _Case(
        "gifts",
        "supervision",
        ("stop", "report"),
        True,
        "被考核县向考核组赠送土特产。",
        "礼品已退回，考核组向督查组作出说明。",
        ("退回礼品签收单说明",),
    ),
)


def synthesize_incidents(
    counties: pl.DataFrame, lottery: Lottery, plan: Plan, seed: str
) -> tuple[pl.DataFrame, dict[str, bytes]]:
    """The demo's incidents table (Chinese labels, as an office would type them) and files.

    Each case takes a different city (those with a county first), a county of it
    and the team that assessed it; dates fall in the field week. A case whose rule,
    reporter or action the plan lacks is left out.

    Returns
    -------
    tuple
        ``incidents`` (the register's canonical columns) and evidence file name ->
        content (paths relative to the register's folder).
    """
    d = plan.discipline
    rules = {r.code: r for r in d.rules}
    actions = {a.code: a.label for a in d.actions}
    reporters = {r.code: r.label for r in d.reporters}
    rng = seeded_rng(seed, "synth/discipline")
    team_of = {
        city: tid
        for tid, targets in lottery.teams.select("team_id", "target_cities").iter_rows()
        for city in str(targets).split(CITY_SEP)
    }
    places = counties.select("city_name", "county_code").sort("city_name", "county_code")
    cities = [c for c in places["city_name"].unique().sort().to_list() if c in team_of]
    chosen = [cities[i] for i in rng.permutation(len(cities))]
    days = (plan.timeline.field_end - plan.timeline.field_start).days + 1
    rows = []
    files: dict[str, bytes] = {}
    cases = [
        c
        for c in _CASES
        if c.rule in rules and c.reporter in reporters and all(a in actions for a in c.actions)
    ]
    for n, (case, city) in enumerate(zip(cases, chosen, strict=False), start=1):
        mine = places.filter(pl.col("city_name") == city)["county_code"].to_list()
        county = mine[int(rng.integers(len(mine)))] if case.county_level and mine else None
        when = plan.timeline.field_start + dt.timedelta(days=int(rng.integers(days)))
        incident = f"D{n:03d}"
        names = [f"evidence/{incident}/{stem}.txt" for stem in case.evidence]
        for name, stem in zip(names, case.evidence, strict=True):
            text = f"{stem}\n编号 {incident}，{city} {county or '市本级'}，{when.isoformat()}\n"
            files[name] = (text + case.description + "\n" + DEMO_NOTE + "\n").encode("utf-8")
        rule = rules[case.rule]
        rows.append(
            {
                "incident_id": incident,
                "date": when,
                "city_name": city,
                "county_code": county,
                "team_id": team_of[city],
                "reporter": reporters[case.reporter],
                "rule": rule.aliases[0] if rule.aliases else rule.label,
                "description": case.description,
                "evidence": ";".join(names) or None,
                "action": "、".join(actions[a] for a in case.actions),
                "outcome": case.outcome,
            }
        )
    schema = {
        "incident_id": pl.String,
        "date": pl.Date,
        "city_name": pl.String,
        "county_code": pl.String,
        "team_id": pl.String,
        "reporter": pl.String,
        "rule": pl.String,
        "description": pl.String,
        "evidence": pl.String,
        "action": pl.String,
        "outcome": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row"), files


__all__ = ["DEMO_NOTE", "synthesize_incidents"]
