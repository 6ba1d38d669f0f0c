"""The lottery's hard rules, stated once and checked independently of the draw (四(二), 六(一)).

Every rule has one text (``RULE_*``, naming the plan key it comes from) that
both the draw's refusals and these checks print. :func:`roster_violations`
checks the roster before any draw; :func:`rule_violations` re-checks a
finished draw from its tables alone, so a fault in the walk of
:mod:`xkaohe.draw.lottery` cannot hide a broken rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import polars as pl

from xkaohe.inputs import Lottery, Roster
from xkaohe.plan import Plan, Teams

RULE_TEAMS = "one team per target group (teams.count)"
RULE_LEADER = "the leader is a city poverty-office director (teams.leader_kind)"
RULE_DEPUTY = "the deputy is a provincial division cadre (teams.deputy_kind)"
RULE_OBSERVER = "observers in every team (teams.observers_per_team)"
RULE_HOME = "nobody assesses their home city (teams.exclude_home_city)"
RULE_MUTUAL = "no two cities assess each other (teams.no_mutual_assessment)"
RULE_SIZE = "team size follows the counties assessed (teams.size)"
RULE_CONTACT = "a contact person in every team (teams.contacts_per_team)"
RULE_UNIT = "one division-level cadre per provincial member unit (teams.one_cadre_per_unit)"
RULE_DEPARTMENT = "every member's department is recorded (teams.department_required)"
RULE_LIAISON = "the assessed city and each assessed county name a liaison (liaisons.csv)"
RULE_OFFICE = "the office names every team's members (teams.selection: office_list)"
_MAX_LISTED = 8  # cities, units or rows named in one rule's message


def rule_per_city(rules: Teams) -> str:
    return f"each city sends {rules.assessors_per_city} people (teams.assessors_per_city)"


def rule_share(rules: Teams) -> str:
    levels = "+".join(rules.grassroots_levels)
    return (
        f"{levels} cadres >= {rules.grassroots_share_min:.0%} of every team "
        "(teams.grassroots_share_min)"
    )


def grassroots_minimum(size: int, share: float) -> int:
    """Smallest head count that is at least ``share`` of ``size`` (exact decimal arithmetic)."""
    return math.ceil(Fraction(str(share)) * size)


# --------------------------------------------------------------------------- roster rules


def listed(items: Sequence[str]) -> str:
    shown = "; ".join(items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


def roster_violations(roster: Roster, rules: Teams) -> list[str]:
    """The plan's rules on the roster itself (四(二), 六(一)); an empty list if all hold.

    * every city of cities.csv sends exactly ``assessors_per_city`` people
      (assessors whose home city it is: 每市抽调34人);
    * with ``one_cadre_per_unit``, no provincial member unit sends two
      division cadres (省扶贫开发领导小组有关成员单位各抽调1名处级干部);
    * with ``department_required``, every assessor's department is recorded;
    * when ``liaisons.csv`` is given: each city one city liaison (empty
      county_code) and one liaison per county it has assessed;
    * ``office_members.csv`` is given exactly when ``selection`` is ``office_list``.

    Each message names the rule (with its plan key) and the cities, units or rows.
    """
    out: list[str] = []
    a = roster.assessors
    cities = roster.cities.sort("city_name")
    sent = dict(a.filter(pl.col("home_city").is_not_null()).group_by("home_city").len().iter_rows())
    wrong = [
        f"{c} sends {sent.get(c, 0)}"
        for c in cities["city_name"].to_list()
        if sent.get(c, 0) != rules.assessors_per_city
    ]
    if wrong:
        out.append(f"rule '{rule_per_city(rules)}': {listed(wrong)} (assessors.csv home_city)")
    if rules.one_cadre_per_unit:
        twice = (
            a.filter(pl.col("kind") == rules.deputy_kind)
            .group_by("unit")
            .agg(pl.col("person_id").sort())
            .filter(pl.col("person_id").list.len() > 1)
            .sort("unit")
        )
        found = [f"{u} sends {len(ids)} ({', '.join(ids)})" for u, ids in twice.iter_rows()]
        if found:
            out.append(f"rule '{RULE_UNIT}': {listed(found)}")
    if rules.department_required:
        if "department" not in a.columns:
            out.append(
                f"rule '{RULE_DEPARTMENT}': assessors.csv has no column department [部门]; "
                "add each person's department (or set teams.department_required: false)"
            )
        else:
            blank = a.filter(
                pl.col("department").is_null() | (pl.col("department").str.strip_chars() == "")
            ).sort("_row" if "_row" in a.columns else "person_id")
            rows = [
                f"row {r} ({p})" if r is not None else p
                for r, p in blank.select(
                    pl.col("_row") if "_row" in a.columns else pl.lit(None), "person_id"
                ).iter_rows()
            ]
            if rows:
                out.append(
                    f"rule '{RULE_DEPARTMENT}': assessors.csv has no department [部门] in "
                    f"{len(rows)} of {a.height} rows: {listed(rows)}"
                )
    if roster.liaisons is not None:
        out += _liaison_violations(roster.liaisons, cities)
    if (roster.office_members is not None) != (rules.selection == "office_list"):
        given = "gives" if roster.office_members is not None else "has no"
        out.append(
            f"rule '{RULE_OFFICE}': the plan's teams.selection is {rules.selection} but the "
            f"roster {given} office_members.csv; "
            + (
                "remove it, or set teams.selection: office_list"
                if roster.office_members is not None
                else "add it (team, person_id, role), or set teams.selection: drawn"
            )
        )
    return out


def _liaison_violations(liaisons: pl.DataFrame, cities: pl.DataFrame) -> list[str]:
    per_city = liaisons.group_by("city_name").agg(
        pl.col("county_code").is_null().sum().alias("city"),
        pl.col("county_code").drop_nulls().n_unique().alias("counties"),
    )
    got = {c: (int(n_city), int(n_county)) for c, n_city, n_county in per_city.iter_rows()}
    wrong = []
    for city, assessed in cities.select("city_name", "counties_assessed").iter_rows():
        n_city, n_county = got.get(city, (0, 0))
        if n_city != 1:
            wrong.append(f"{city} has {n_city} city liaisons (rows with an empty county_code)")
        if n_county != assessed:
            wrong.append(f"{city} has {n_county} county liaisons for {assessed} counties assessed")
    return [f"rule '{RULE_LIAISON}': {listed(wrong)}"] if wrong else []


# --------------------------------------------------------------------------- checks


def rule_violations(lottery: Lottery, roster: Roster, plan: Plan) -> list[str]:
    """Every hard rule of DESIGN.md checked on the output frames; an empty list if all hold.

    Independent of how the draw was made, so it also serves reviewers and tests.
    """
    rules = plan.teams
    out: list[str] = roster_violations(roster, rules)
    teams, members = lottery.teams, lottery.members
    cities = roster.cities
    groups = cities["target_group"].unique().sort().to_list()
    if sorted(teams["target_group"].to_list()) != groups or teams.height != rules.count:
        out.append(
            f"{RULE_TEAMS}: target groups {groups}, teams for "
            f"{sorted(teams['target_group'].to_list())}"
        )
    kind = dict(roster.assessors.select("person_id", "kind").iter_rows())
    home = dict(roster.assessors.select("person_id", "home_city").iter_rows())
    group_of = dict(cities.select("city_name", "target_group").iter_rows())
    counties = dict(
        cities.group_by("target_group").agg(pl.col("counties_assessed").sum()).iter_rows()
    )
    dup = members.filter(pl.col("person_id").is_duplicated())["person_id"].unique().sort()
    if dup.len():
        out.append(f"nobody sits in two teams: {dup.to_list()}")
    unknown = members.filter(~pl.col("person_id").is_in(list(kind)))["person_id"].to_list()
    if unknown:
        out.append(f"members not in the roster: {unknown}")
        return out
    team_group = dict(teams.select("team_id", "target_group").iter_rows())
    for tid, grp in team_group.items():
        m = members.filter(pl.col("team_id") == tid)
        roles = m["role"].to_list()
        ids = m["person_id"].to_list()
        t = teams.row(by_predicate=pl.col("team_id") == tid, named=True)
        for role, want, k in (
            ("leader", 1, rules.leader_kind),
            ("deputy", 1, rules.deputy_kind),
            ("observer", rules.observers_per_team, rules.observer_kind),
        ):
            got = m.filter(pl.col("role") == role)["person_id"].to_list()
            if len(got) != want or any(kind[p] != k for p in got):
                out.append(f"{tid}: {role}s {got}, expected {want} of kind '{k}'")
        if roles.count("contact") != rules.contacts_per_team:
            out.append(f"{tid}: {roles.count('contact')} contacts")
        if m.filter(pl.col("role") == "leader")["person_id"].to_list() != [t["leader_id"]]:
            out.append(f"{tid}: leader_id differs from members.csv")
        if m.filter(pl.col("role") == "deputy")["person_id"].to_list() != [t["deputy_id"]]:
            out.append(f"{tid}: deputy_id differs from members.csv")
        special = {rules.leader_kind, rules.deputy_kind, rules.observer_kind}
        bad_kind = [
            p
            for p, r in zip(ids, roles, strict=True)
            if r in ("member", "contact") and kind[p] in special
        ]
        if bad_kind:
            out.append(f"{tid}: members of a reserved kind {bad_kind}")
        size = rules.size.for_counties(counties[grp])
        if len(ids) != size or t["size"] != size:
            out.append(f"{tid}: {len(ids)} people, size column {t['size']}, plan size {size}")
        n_g = m.filter(pl.col("level").is_in(list(rules.grassroots_levels))).height
        if n_g < grassroots_minimum(size, rules.grassroots_share_min):
            out.append(f"{tid}: {n_g} grassroots of {size}")
        if rules.exclude_home_city:
            own = [p for p in ids if home[p] is not None and group_of[home[p]] == grp]
            if own:
                out.append(f"{tid}: {own} assess their home city")
    if rules.no_mutual_assessment:
        src = dict(teams.select("team_id", "source_city").iter_rows())
        for a, ga in team_group.items():
            for b, gb in team_group.items():
                sa, sb = src[a], src[b]
                if a < b and sa and sb and group_of[sa] == gb and group_of[sb] == ga:
                    out.append(f"{a} and {b}: {sa} and {sb} assess each other")
    return out
