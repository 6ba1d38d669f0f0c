"""Team formation and the team -> city draw (plan 四, 五, 六(一)): protocol "lottery-prn-v1".

Why one module of ~1,100 lines: it is the protocol, numbered step by step
below, and its steps share one look-ahead state (the pools, teams and people
of a draw in progress, and the backtracking of step 2) that no other module
should see. The rules it must satisfy — stated once, checked again on the
finished draw — are :mod:`xkaohe.draw.lottery_rules`; its tables and figures
are :mod:`xkaohe.report.lottery`.

Plan 四 fixes who sits in a team: 13 teams for 16 cities; the team size
follows the number of counties of the assessed city; county, township and
village cadres are at least 60% of each team; the leader is a city
poverty-office director (市扶贫办主任), the deputy a provincial division-level
cadre (处级干部); a contact person (联系人); democratic-party observers.
Plan 五 says teams and targets are drawn by lot at training (抽签), and 六(一)
that the province then picks as many people from the talent pool (人才库) as
the assessed city's counties require. This module turns a roster
(:class:`~xkaohe.inputs.Roster`) and the plan's ``teams:`` rules into
teams, members and household-visit pairs, every choice re-derivable from the
seed. Files are read and written by :mod:`xkaohe.io.lottery_files`.

Definitions
-----------
* **Target group**: the cities sharing a ``target_group`` in cities.csv; one
  team per group. Team ids ``T01, T02, ...`` number the groups in natural
  order of their names (``G2`` before ``G10``).
* **Size**: ``teams.size.base + teams.size.per_county * counties``, counties
  summed over the group's cities. It counts everyone: leader, deputy,
  observers, contact and members.
* **Grassroots**: a person whose level is in ``teams.grassroots_levels``.
  Every team has at least ``ceil(teams.grassroots_share_min * size)`` of them
  ("60%以上" read as >= 60%).
* **Excluded**: with ``teams.exclude_home_city``, nobody sits in a team whose
  target cities include their home city. Provincial people (empty home city)
  may sit anywhere. A city is in exactly one group, so a person is excluded
  from at most one team.
* **Source city**: the home city of a team's leader ("the leader's city
  assesses the target"). With ``teams.no_mutual_assessment`` there are no two
  teams t, u such that source(t) is a target city of u *and* source(u) is a
  target city of t. Members' home cities do not enter this rule.
* **Roles**: leader (kind ``teams.leader_kind``), deputy
  (``teams.deputy_kind``), observers (``teams.observer_kind``,
  ``teams.observers_per_team`` per team), members (every other kind, i.e.
  staff), and ``teams.contacts_per_team`` contacts chosen among the members.
  Directors and division cadres not drawn as leader or deputy are not used.

Protocol "lottery-prn-v1"
-------------------------
``prn(S, T, K)`` is the permanent random number of :mod:`xkaohe.draw.prn`
(DESIGN.md, "prn-order-v1"); "in prn order" means ascending prn, ties broken by
the key ascending. S is the seed text.

1. *Team order.* Teams are walked in prn order of
   ``prn(S, "lottery-target", target_group)`` in steps 2-5.
2. *Leaders.* Directors in prn order of ``prn(S, "lottery-leader", person_id)``.
   Each team takes the first director who is unused, not excluded, and would
   not make two cities assess each other with a team already led. If taking
   that director would leave a later team without any valid leader (tested
   exactly by a depth-first look-ahead), the team passes over them and takes
   the next. The result is the first valid assignment in this lexicographic
   order; ``leader_rejections`` counts the pass-overs (0 means the plain walk
   reproduces the draw).
3. *Deputies.* One per team, same walk over the deputy kind in prn order of
   ``prn(S, "lottery-deputy", person_id)``: the first unused, not excluded.
4. *Observers.* ``observers_per_team`` per team, same walk over the observer
   kind in prn order of ``prn(S, "lottery-observer", person_id)``.
5. *Members.* Each team has ``m = size - 2 - observers_per_team`` member
   places, of which at least ``q`` must go to grassroots people (q = the
   grassroots minimum less the grassroots among its leader, deputy and
   observers). Staff in prn order of ``prn(S, "lottery-member", person_id)``:
   the team takes the first unused, not excluded people, passing over
   non-grassroots people once it holds ``m - q`` of them.
   In steps 3-5 a candidate is also passed over when taking them would leave
   the remaining places impossible to fill (an exact count test, Hall's
   theorem; see :class:`_Pool`). ``pool_skips`` counts these; it is 0 for any
   roster with a reasonable margin.
6. *Contacts.* Within each team, the ``contacts_per_team`` members with the
   smallest ``prn(S, "lottery-contact", person_id)`` get the role ``contact``.
7. *Pairs* (五(四), 2 people per household visit). The team's contacts and
   members in prn order of ``prn(S, "lottery-pair", person_id)``. If their
   number is odd, the first contact (contact order of step 6) stays off the
   pairs and keeps the link with the assessed city (四(二)); with no contact,
   the person left at the end of the walk stays off. Walk the order: each
   person not yet paired takes as partner the first later unpaired person who
   is of the other class (grassroots / not grassroots); failing that, of a
   different level; failing that, the next one. Pairs are numbered in walk
   order. Leaders, deputies and observers lead, supervise and observe; they
   are not in fixed pairs.

Selection ``office_list`` (六(一): 择优选调 … 确定参与实地核查的人数及名单)
-----------------------------------------------------------------------
With the plan's ``teams.selection: office_list`` the office names every
team's people in ``office_members.csv`` (``team``: the office's name for the
team, e.g. its source city; ``person_id``; ``role``) and the lot only decides
which team assesses which target group. Step 1 as above; step 2 walks the
office's teams in prn order of ``prn(S, "lottery-team", team)`` instead of
the directors, a team's city being its leader's home city (the same
look-ahead and rules: not its own target, no two cities assessing each
other). Only the team names and their leaders enter the walk, so the office
may name the other members after the lot (:func:`office_assignment` tells
each list its target and size) and the assignment does not move. Then each
list must fit its target: the plan's size, the grassroots share, nobody from
a target city, the kinds of leader, deputy and observers, the number of
contacts; a misfit is a RuleError naming every list, with the assignment.
Steps 3-6 are skipped (members' ``prn`` is their team's ``lottery-team``
prn); step 7 pairs as above, the first contact in ``lottery-contact`` order.

Roster rules (四(二), 六(一); :func:`roster_violations`, before any walk)
-----------------------------------------------------------------------
Each city of cities.csv sends exactly ``teams.assessors_per_city`` people;
with ``teams.one_cadre_per_unit`` no provincial member unit sends two
division cadres; with ``teams.department_required`` every assessor has a
department (``assessors.department`` [部门]); a ``liaisons.csv`` has one
city liaison per city (empty ``county_code``) and one per county assessed;
``office_members.csv`` is given exactly when the selection is
``office_list``. The share of members from the plan's
``teams.priority_departments`` (以 … 部门为主) is shown in the team lists,
not enforced.

Rosters that make a rule impossible raise :class:`~xkaohe.errors.RuleError`
naming the rule (with its plan key) and the team or city: count rules before
any walk; the mutual-assessment rule after step 2 has searched every
arrangement (directors of one city are interchangeable, so the search is
small), or after ``LEADER_SEARCH_LIMIT`` steps, which the message then says.

Outputs (DESIGN.md columns first; see ``SCHEMAS``)
--------------------------------------------------
* teams: ``team_id, leader_id, deputy_id, target_group, target_cities``
  (sorted, joined by ``;``), ``size``, then ``source_city, counties,
  grassroots, grassroots_min, grassroots_share``.
* members: ``team_id, person_id, role, level, home_city``, then ``name, unit,
  kind, prn`` (the prn of the stage that drew the person into the team;
  contacts keep their ``lottery-member`` prn). Rows by team, role in the
  order leader, deputy, contact, member, observer, then prn.
* pairs: ``team_id, person_a, person_b``, then ``pair_no, level_a, level_b``;
  person_a is the one whose turn it was in the walk of step 7.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from xkaohe import __version__
from xkaohe.draw.lottery_rules import (
    RULE_CONTACT,
    RULE_DEPUTY,
    RULE_HOME,
    RULE_LEADER,
    RULE_MUTUAL,
    RULE_OBSERVER,
    RULE_OFFICE,
    RULE_SIZE,
    RULE_TEAMS,
    grassroots_minimum,
    listed,
    roster_violations,
    rule_share,
    rule_violations,
)
from xkaohe.draw.prn import PROTOCOL as PRN_PROTOCOL
from xkaohe.draw.prn import prn_series
from xkaohe.errors import RuleError
from xkaohe.inputs import CITY_SEP, LOTTERY_PROTOCOL, LOTTERY_SCHEMAS, Lottery, Roster
from xkaohe.plan import Plan, Teams

if TYPE_CHECKING:
    pass

PROTOCOL = LOTTERY_PROTOCOL
STAGE_TARGET = "lottery-target"
STAGE_LEADER = "lottery-leader"
STAGE_DEPUTY = "lottery-deputy"
STAGE_OBSERVER = "lottery-observer"
STAGE_MEMBER = "lottery-member"
STAGE_CONTACT = "lottery-contact"
STAGE_PAIR = "lottery-pair"
STAGE_TEAM = "lottery-team"
STAGES = (
    STAGE_TARGET,
    STAGE_LEADER,
    STAGE_DEPUTY,
    STAGE_OBSERVER,
    STAGE_MEMBER,
    STAGE_CONTACT,
    STAGE_PAIR,
    STAGE_TEAM,
)

ROLES = ("leader", "deputy", "contact", "member", "observer")
LEADER_SEARCH_LIMIT = 100_000  # look-ahead steps before step 2 gives up


# --------------------------------------------------------------------------- helpers


def _natural_key(text: str) -> tuple[tuple[tuple[int, int | str], ...], str]:
    parts = tuple(
        (0, int(p)) if re.fullmatch(r"[0-9]+", p) else (1, p)
        for p in re.split(r"([0-9]+)", text)
        if p
    )
    return parts, text


def _prn_order(seed: str, stage: str, keys: Iterable[str]) -> list[tuple[str, float]]:
    """``(key, prn)`` in prn order: ascending prn, ties by key."""
    ks = sorted(set(keys))
    values = prn_series(seed, stage, pl.Series("key", ks, dtype=pl.String)).to_list()
    return sorted(zip(ks, values, strict=True), key=lambda kv: (kv[1], kv[0]))


@dataclass(frozen=True)
class _Team:
    team_id: str
    group: str
    cities: tuple[str, ...]
    counties: int
    size: int
    grassroots_min: int

    def describe(self) -> str:
        return f"team {self.team_id} (target group {self.group}: {'、'.join(self.cities)})"


@dataclass(frozen=True)
class _Person:
    person_id: str
    home_city: str | None
    level: str
    kind: str
    name: str
    unit: str


def _teams_of(roster: Roster, plan: Plan) -> list[_Team]:
    """The teams, one per target group, in team-id order; RuleError if the count is off."""
    rules = plan.teams
    groups = (
        roster.cities.group_by("target_group")
        .agg(pl.col("city_name").sort(), pl.col("counties_assessed").sum())
        .to_dicts()
    )
    groups.sort(key=lambda g: _natural_key(str(g["target_group"])))
    if len(groups) != rules.count:
        names = ", ".join(str(g["target_group"]) for g in groups)
        raise RuleError(
            f"rule '{RULE_TEAMS}': the plan has {rules.count} teams but cities.csv "
            f"has {len(groups)} target groups ({names}); give the cities "
            f"{rules.count} distinct target_group values"
        )
    width = max(2, len(str(len(groups))))
    out = []
    for i, g in enumerate(groups, start=1):
        size = rules.size.for_counties(int(g["counties_assessed"]))
        out.append(
            _Team(
                f"T{i:0{width}d}",
                str(g["target_group"]),
                tuple(g["city_name"]),
                int(g["counties_assessed"]),
                size,
                grassroots_minimum(size, rules.grassroots_share_min),
            )
        )
    return out


def _people(roster: Roster) -> dict[str, _Person]:
    return {
        r["person_id"]: _Person(
            r["person_id"], r["home_city"], r["level"], r["kind"], r["name"], r["unit"]
        )
        for r in roster.assessors.select(
            "person_id", "home_city", "level", "kind", "name", "unit"
        ).iter_rows(named=True)
    }


# --------------------------------------------------------------------------- step 2: leaders


def _max_matching(teams: Sequence[str], domain: dict[str, list[str]]) -> dict[str, str]:
    """A maximum matching team -> person (Kuhn's augmenting paths), deterministic."""
    owner: dict[str, str] = {}

    def augment(t: str, seen: set[str]) -> bool:
        for p in domain[t]:
            if p in seen:
                continue
            seen.add(p)
            if p not in owner or augment(owner[p], seen):
                owner[p] = t
                return True
        return False

    for t in teams:
        augment(t, set())
    return {t: p for p, t in owner.items()}


def _tightest(
    teams: list[_Team], domain: dict[str, list[str]], home: dict[str, str | None], what: str
) -> str:
    """The teams whose possible leaders come from the fewest cities, for error messages."""
    sources = {t.team_id: sorted({home[d] or "省直" for d in domain[t.team_id]}) for t in teams}
    fewest = min(len(v) for v in sources.values())
    tight = [t for t in teams if len(sources[t.team_id]) == fewest][:4]
    return "; ".join(
        f"{t.describe()} can only be led by {what} from {'、'.join(sources[t.team_id])}"
        for t in tight
    )


_Chosen = dict[str, list[tuple[tuple[str, float], str]]]  # team -> ((person, prn), role)
_Taken = dict[str, list[tuple[str, float]]]  # team -> (member, prn)


class _SearchLimit(Exception):
    pass


def _assign_leaders(
    seed: str, teams: list[_Team], order: list[_Team], people: dict[str, _Person], rules: Teams
) -> tuple[dict[str, tuple[str, float]], int]:
    """Protocol step 2: team_id -> (director, prn), and the number of look-ahead rejections."""
    ranked = _prn_order(
        seed, STAGE_LEADER, (p.person_id for p in people.values() if p.kind == rules.leader_kind)
    )
    if len(ranked) < len(teams):
        raise RuleError(
            f"rule '{RULE_LEADER}': the {len(teams)} teams need {len(teams)} "
            f"leaders of kind '{rules.leader_kind}'; assessors.csv has {len(ranked)}; "
            "add the missing city poverty-office directors to the pool"
        )
    home = {d: people[d].home_city for d, _ in ranked}
    return _assign(teams, order, ranked, home, rules, "directors")


def _assign(
    teams: list[_Team],
    order: list[_Team],
    ranked: list[tuple[str, float]],
    home: dict[str, str | None],
    rules: Teams,
    what: str,
) -> tuple[dict[str, tuple[str, float]], int]:
    """Step 2's walk: each team in ``order`` takes the first valid candidate of ``ranked``.

    A candidate is a director (selection ``drawn``) or one of the office's
    teams (``office_list``); ``home`` is the city it comes from: it may not
    lead the team assessing that city, and two teams may not assess each
    other's source city. Returns team_id -> (candidate, prn) and the
    look-ahead rejections.
    """
    prn_of = dict(ranked)
    by_id = {t.team_id: t for t in teams}
    domain = {
        t.team_id: [d for d, _ in ranked if not (rules.exclude_home_city and home[d] in t.cities)]
        for t in teams
    }
    for t in teams:
        if not domain[t.team_id]:
            raise RuleError(
                f"rule '{RULE_HOME}': {t.describe()} has no possible leader: every "
                f"one of the {what} is from {'、'.join(t.cities)}; add {what} from another city"
            )
    # A candidate is excluded from at most one team, so any two teams together can be led
    # by every candidate: with enough candidates, a team without any is the only way the
    # home-city rule alone can fail (Hall's theorem).
    chosen: dict[str, str] = {}
    steps = 0
    rejections = 0

    def conflicts(d: str, t: _Team) -> bool:
        if not rules.no_mutual_assessment or home[d] is None:
            return False
        for u_id, e in chosen.items():
            u = by_id[u_id]
            if home[d] in u.cities and home[e] in t.cities:
                return True
        return False

    def completable(rest: list[_Team]) -> bool:
        used = set(chosen.values())
        dom = {
            t.team_id: [d for d in domain[t.team_id] if d not in used and not conflicts(d, t)]
            for t in rest
        }
        if any(not v for v in dom.values()):
            return False
        return len(_max_matching([t.team_id for t in rest], dom)) == len(rest)

    def place(i: int) -> bool:
        nonlocal steps, rejections
        if i == len(order):
            return True
        t = order[i]
        used = set(chosen.values())
        failed: set[str | None] = set()  # candidates of one city are interchangeable here
        for d in domain[t.team_id]:
            if d in used or conflicts(d, t):
                continue
            rejections += 1  # undone below unless the candidate is kept
            if home[d] in failed:
                continue
            steps += 1
            if steps > LEADER_SEARCH_LIMIT:
                raise _SearchLimit
            chosen[t.team_id] = d
            if completable(order[i + 1 :]) and place(i + 1):
                rejections -= 1
                return True
            del chosen[t.team_id]
            failed.add(home[d])
        return False

    try:
        found = place(0)
        how = "searched every arrangement"
    except _SearchLimit:
        found = False
        how = f"stopped after {LEADER_SEARCH_LIMIT} search steps"
    if not found:
        raise RuleError(
            f"rule '{RULE_MUTUAL}': no way to give each of the {len(teams)} teams one of the "
            f"{what} from outside its target cities without two cities assessing each other "
            f"({how}); the tightest: {_tightest(teams, domain, home, what)}; add {what} from "
            "other cities or regroup the target cities"
        )
    return {t: (d, prn_of[d]) for t, d in chosen.items()}, rejections


# --------------------------------------------------------------------------- steps 3-5: pools


@dataclass
class _Pool:
    """Places still to fill and candidates still free, by class and excluded team.

    Class ``g`` = grassroots, ``n`` = the rest. Each candidate is excluded from
    at most one team, so Hall's theorem for filling the places (``need[t]``
    places, ``need_g[t]`` of them grassroots-only) reduces to six count
    conditions, checked by :meth:`shortfall`; they are necessary and
    sufficient, so a walk that keeps them true never gets stuck.
    """

    teams: tuple[str, ...]
    need: dict[str, int]
    need_g: dict[str, int]
    total: dict[str, int] = field(default_factory=lambda: {"g": 0, "n": 0})
    excl: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, cls: str, excluded: str | None, k: int = 1) -> None:
        self.total[cls] += k
        if excluded is not None:
            row = self.excl.setdefault(excluded, {"g": 0, "n": 0})
            row[cls] += k

    def _ex(self, t: str, cls: str) -> int:
        return self.excl.get(t, {}).get(cls, 0)

    def shortfall(self) -> tuple[str, str | None, int, int] | None:
        """The first violated condition as (kind, team, needed, available), or None."""
        g, n = self.total["g"], self.total["n"]
        sum_m, sum_q = sum(self.need.values()), sum(self.need_g.values())
        if sum_m > g + n:
            return "all", None, sum_m, g + n
        if sum_q > g:
            return "grassroots_all", None, sum_q, g
        for t in self.teams:
            m, q = self.need[t], self.need_g[t]
            g_ok, n_ok = g - self._ex(t, "g"), n - self._ex(t, "n")
            if q > m:
                return "places", t, q, m
            if m > g_ok + n_ok:
                return "team", t, m, g_ok + n_ok
            if q > g_ok:
                return "grassroots_team", t, q, g_ok
            if sum_q + m - q > g + n_ok:
                return "grassroots_other", t, sum_q + m - q, g + n_ok
        return None

    def take(self, t: str, cls: str, excluded: str | None) -> int:
        """Give one candidate to team ``t``; returns what :meth:`untake` needs."""
        self.add(cls, excluded, -1)
        self.need[t] -= 1
        before = self.need_g[t]
        if cls == "g" and before > 0:
            self.need_g[t] = before - 1
        return before

    def untake(self, t: str, cls: str, excluded: str | None, before: int) -> None:
        self.add(cls, excluded, 1)
        self.need[t] += 1
        self.need_g[t] = before


@dataclass(frozen=True)
class _Fill:
    """What one walk of steps 3-5 fills, and how to word its errors."""

    stage: str
    candidates: tuple[str, ...]
    need: dict[str, int]
    need_g: dict[str, int]
    rule: str
    what: str
    pool: str


def _fill(
    seed: str,
    spec: _Fill,
    teams: list[_Team],
    order: list[_Team],
    people: dict[str, _Person],
    rules: Teams,
) -> tuple[dict[str, list[tuple[str, float]]], int]:
    """Protocol steps 3-5: team_id -> [(person, prn)] in take order, and the pool skips."""
    by_id = {t.team_id: t for t in teams}
    team_of_city = {c: t.team_id for t in teams for c in t.cities}

    def excluded(p: str) -> str | None:
        home = people[p].home_city
        return team_of_city.get(home) if rules.exclude_home_city and home else None

    def cls(p: str) -> str:
        return "g" if people[p].level in rules.grassroots_levels else "n"

    pool = _Pool(tuple(t.team_id for t in teams), dict(spec.need), dict(spec.need_g))
    for p in spec.candidates:
        pool.add(cls(p), excluded(p))
    short = pool.shortfall()
    if short is not None:
        raise RuleError(_shortfall_message(short, spec, by_id, pool, rules))
    ranked = _prn_order(seed, spec.stage, spec.candidates)
    used: set[str] = set()
    taken: dict[str, list[tuple[str, float]]] = {t.team_id: [] for t in teams}
    skips = 0
    for t in order:
        tid = t.team_id
        for p, value in ranked:
            if pool.need[tid] == 0:
                break
            if p in used or excluded(p) == tid:
                continue
            c, e = cls(p), excluded(p)
            before = pool.take(tid, c, e)
            if pool.shortfall() is None:
                used.add(p)
                taken[tid].append((p, value))
                continue
            pool.untake(tid, c, e, before)
            own = pool.need[tid] - 1 < pool.need_g[tid] and c == "n"
            skips += 0 if own else 1  # passing over a non-grassroots person is the rule itself
        if pool.need[tid]:
            raise RuntimeError(f"bug: {spec.stage} walk left {t.describe()} short")
    return taken, skips


def _shortfall_message(
    short: tuple[str, str | None, int, int],
    spec: _Fill,
    by_id: dict[str, _Team],
    pool: _Pool,
    rules: Teams,
) -> str:
    kind, tid, needed, available = short
    share_rule = rule_share(rules)
    grass = "grassroots (" + "/".join(rules.grassroots_levels) + ")"
    if tid is None:
        if kind == "all":
            return (
                f"rule '{spec.rule}': the {len(by_id)} teams need {needed} {spec.what} in "
                f"all; the pool has {available} {spec.pool}"
            )
        return (
            f"rule '{share_rule}': the {len(by_id)} teams need {needed} {grass} "
            f"{spec.what} in all; the pool has {available} among {spec.pool}"
        )
    team = by_id[tid]
    outside = f"from outside {'、'.join(team.cities)}"
    where = team.describe()
    if kind == "team":
        return (
            f"rule '{spec.rule}': {where} needs {needed} {spec.what} {outside} (nobody "
            f"assesses their home city); the pool has {available} {spec.pool} {outside}"
        )
    if kind == "places":
        return (
            f"rule '{share_rule}': {where} has size {team.size} and {available} member "
            f"place(s), but needs {needed} {grass} members among them to reach "
            f"{team.grassroots_min}; change teams.size or teams.grassroots_share_min"
        )
    if kind == "grassroots_team":
        return (
            f"rule '{share_rule}': {where} needs {needed} {grass} {spec.what} {outside}; "
            f"the pool has {available}"
        )
    sum_q = sum(pool.need_g.values())
    return (
        f"rule '{share_rule}': the teams need {sum_q} {grass} {spec.what} in all, and "
        f"{where} needs {needed - sum_q} more {spec.what} {outside}; the pool has "
        f"{available} people for these places ({grass} or {outside})"
    )


# --------------------------------------------------------------------------- office_list


def _office_lists(
    roster: Roster, people: dict[str, _Person], rules: Teams, full: bool = True
) -> dict[str, dict[str, list[str]]]:
    """The office's teams: label -> role -> person ids (sorted); RuleError if a list is off.

    ``full``: check every role; otherwise only the leaders (all the lot needs).
    """
    office = roster.office_members
    if office is None:  # excluded by roster_violations
        raise RuleError(f"rule '{RULE_OFFICE}': no office_members.csv")
    lists: dict[str, dict[str, list[str]]] = {}
    for label, pid, role in (
        office.select("team", "person_id", "role").sort("person_id").iter_rows()
    ):
        lists.setdefault(label, {r: [] for r in ROLES})[role].append(pid)
    wrong: list[str] = []
    if len(lists) != rules.count:
        wrong.append(
            f"the plan has {rules.count} teams; office_members.csv names {len(lists)} "
            f"({'、'.join(sorted(lists, key=_natural_key))})"
        )
    special = {rules.leader_kind, rules.deputy_kind, rules.observer_kind}
    for label in sorted(lists, key=_natural_key):
        roles = lists[label]
        for role, want, kind in (
            ("leader", 1, rules.leader_kind),
            ("deputy", 1, rules.deputy_kind),
            ("observer", rules.observers_per_team, rules.observer_kind),
        )[: 3 if full else 1]:
            got = roles[role]
            off_kind = [p for p in got if people[p].kind != kind]
            if len(got) != want or off_kind:
                wrong.append(
                    f"team '{label}' has {len(got)} {role}(s) {', '.join(got) or '-'}; the "
                    f"plan wants {want} of kind '{kind}'"
                    + (f" ({', '.join(off_kind)} are not)" if off_kind else "")
                )
        if full and len(roles["contact"]) != rules.contacts_per_team:
            wrong.append(
                f"team '{label}' has {len(roles['contact'])} contact(s); rule '{RULE_CONTACT}' "
                f"wants {rules.contacts_per_team}"
            )
        reserved = [p for p in roles["contact"] + roles["member"] if people[p].kind in special]
        if reserved:
            wrong.append(
                f"team '{label}' lists {', '.join(reserved)} as member or contact, but their "
                f"kind is reserved for leaders, deputies and observers"
            )
    if wrong:
        raise RuleError(f"rule '{RULE_OFFICE}': {listed(wrong)}")
    return lists


def _office_assign(
    seed: str,
    teams: list[_Team],
    order: list[_Team],
    lists: dict[str, dict[str, list[str]]],
    people: dict[str, _Person],
    rules: Teams,
) -> tuple[dict[str, tuple[str, float]], int]:
    """Office step 2: team_id -> (office label, prn); the source of a list is its leader's city.

    Only the labels and their leaders enter the walk, so the office can name
    the other members after the lot (六(一): 抽签确定被考核市后 … 确定参与实地
    核查的人数及名单) and the assignment stays the same.
    """
    ranked = _prn_order(seed, STAGE_TEAM, lists)
    home = {label: people[lists[label]["leader"][0]].home_city for label in lists}
    return _assign(teams, order, ranked, home, rules, "the office's teams")


def office_assignment(roster: Roster, plan: Plan, seed: str) -> dict[str, str]:
    """With ``teams.selection: office_list``: the office's team label -> the drawn team id.

    Protocol steps 1-2 only (they read the labels and their leaders), so the
    office can learn each list's target, and the size it must have, before
    naming the other members.
    """
    teams = _teams_of(roster, plan)
    people = _people(roster)
    lists = _office_lists(roster, people, plan.teams, full=False)
    order = _walk_order(seed, teams)
    drawn, _ = _office_assign(seed, teams, order, lists, people, plan.teams)
    return {label: tid for tid, (label, _) in sorted(drawn.items())}


def _office_draw(
    seed: str,
    rules: Teams,
    roster: Roster,
    teams: list[_Team],
    order: list[_Team],
    people: dict[str, _Person],
) -> tuple[_Chosen, _Taken, dict[str, list[str]], int]:
    """The office's lists placed on the drawn targets; RuleError naming every list that misfits."""
    lists = _office_lists(roster, people, rules)
    drawn, rejections = _office_assign(seed, teams, order, lists, people, rules)
    by_id = {t.team_id: t for t in teams}
    wrong: list[str] = []
    chosen: _Chosen = {}
    taken: _Taken = {}
    contacts: dict[str, list[str]] = {}
    for tid, (label, value) in sorted(drawn.items()):
        t, roles = by_id[tid], lists[label]
        everyone = [p for role in ROLES for p in roles[role]]
        where = (
            f"the office's team '{label}' (drawn to assess {t.describe()}, {t.counties} counties)"
        )
        if len(everyone) != t.size:
            wrong.append(f"{where} lists {len(everyone)} people; rule '{RULE_SIZE}' wants {t.size}")
        n_g = sum(people[p].level in rules.grassroots_levels for p in everyone)
        if n_g < t.grassroots_min:
            wrong.append(
                f"{where} has {n_g} grassroots; rule '{rule_share(rules)}' wants {t.grassroots_min}"
            )
        own = [p for p in everyone if rules.exclude_home_city and people[p].home_city in t.cities]
        if own:
            wrong.append(f"{where} lists {', '.join(own)}; rule '{RULE_HOME}'")
        chosen[tid] = [
            ((roles["leader"][0], value), "leader"),
            ((roles["deputy"][0], value), "deputy"),
            *(((o, value), "observer") for o in roles["observer"]),
        ]
        taken[tid] = [(p, value) for p in sorted(roles["contact"] + roles["member"])]
        contacts[tid] = [p for p, _ in _prn_order(seed, STAGE_CONTACT, roles["contact"])]
    if wrong:
        drawn_text = "; ".join(
            f"'{label}' -> {tid} ({'、'.join(by_id[tid].cities)})"
            for tid, (label, _) in sorted(drawn.items())
        )
        raise RuleError(
            f"the lot assigned the office's teams ({drawn_text}), but:\n" + "\n".join(wrong)
        )
    return chosen, taken, contacts, rejections


# --------------------------------------------------------------------------- step 7: pairs


def _pair_up(
    field_people: list[tuple[str, str]], grassroots: Sequence[str]
) -> list[tuple[str, str]]:
    """Protocol step 7 on (person_id, level) already in pair order."""
    rest = list(field_people)
    out: list[tuple[str, str]] = []
    while len(rest) >= 2:
        a_id, a_level = rest.pop(0)

        def rank(i: int, a_level: str = a_level) -> tuple[int, int]:
            level = rest[i][1]
            if (level in grassroots) != (a_level in grassroots):
                return 0, i
            return (1 if level != a_level else 2), i

        b_id, _ = rest.pop(min(range(len(rest)), key=rank))
        out.append((a_id, b_id))
    return out


# --------------------------------------------------------------------------- the draw


def _walk_order(seed: str, teams: list[_Team]) -> list[_Team]:
    """Protocol step 1: the teams in prn order of their target group."""
    by_group = {t.group: t for t in teams}
    return [by_group[g] for g, _ in _prn_order(seed, STAGE_TARGET, (t.group for t in teams))]


def draw_lottery(roster: Roster, plan: Plan, seed: str) -> Lottery:
    """Form the teams, assign their targets and pair their members (protocol lottery-prn-v1).

    Parameters
    ----------
    roster : the cities and the assessor pool (:func:`xkaohe.io.roster.load_roster`).
    plan : the year's plan; only its ``teams:`` section is used.
    seed : the seed text announced at the draw.

    Raises
    ------
    RuleError
        The roster makes a hard rule impossible; the message names the rule and team.
    """
    rules = plan.teams
    teams = _teams_of(roster, plan)
    broken = roster_violations(roster, rules)
    if broken:
        raise RuleError("the roster breaks the plan's rules:\n" + "\n".join(broken))
    people = _people(roster)
    order = _walk_order(seed, teams)

    fixed_roles = 2 + rules.observers_per_team
    for t in teams:
        if t.size < fixed_roles + rules.contacts_per_team:
            raise RuleError(
                f"rule '{RULE_SIZE}': {t.describe()} has size {t.size} ({t.counties} counties), "
                f"too small for a leader, a deputy, {rules.observers_per_team} observer(s) and "
                f"{rules.contacts_per_team} contact(s); rule '{RULE_CONTACT}'"
            )

    if rules.selection == "office_list":
        chosen, members, contacts, rejections = _office_draw(
            seed, rules, roster, teams, order, people
        )
        return _finish(seed, roster, plan, teams, (chosen, members, contacts), (rejections, 0))
    leaders, rejections = _assign_leaders(seed, teams, order, people, rules)
    kinds_of = {
        k: sorted(p for p, v in people.items() if v.kind == k)
        for k in (rules.deputy_kind, rules.observer_kind)
    }
    one = {t.team_id: 1 for t in teams}
    zero = {t.team_id: 0 for t in teams}
    deputies, skips_d = _fill(
        seed,
        _Fill(
            STAGE_DEPUTY,
            tuple(kinds_of[rules.deputy_kind]),
            one,
            zero,
            RULE_DEPUTY,
            "deputies",
            f"people of kind '{rules.deputy_kind}'",
        ),
        teams,
        order,
        people,
        rules,
    )
    obs_need = {t.team_id: rules.observers_per_team for t in teams}
    observers, skips_o = _fill(
        seed,
        _Fill(
            STAGE_OBSERVER,
            tuple(kinds_of[rules.observer_kind]),
            obs_need,
            zero,
            RULE_OBSERVER,
            "observers",
            f"people of kind '{rules.observer_kind}'",
        ),
        teams,
        order,
        people,
        rules,
    )

    def is_g(p: str) -> bool:
        return people[p].level in rules.grassroots_levels

    fixed = {
        t.team_id: [
            leaders[t.team_id][0],
            deputies[t.team_id][0][0],
            *(p for p, _ in observers[t.team_id]),
        ]
        for t in teams
    }
    need = {t.team_id: t.size - fixed_roles for t in teams}
    need_g = {t.team_id: max(0, t.grassroots_min - sum(map(is_g, fixed[t.team_id]))) for t in teams}
    special = {rules.leader_kind, rules.deputy_kind, rules.observer_kind}
    staff = tuple(sorted(p for p, v in people.items() if v.kind not in special))
    members, skips_m = _fill(
        seed,
        _Fill(
            STAGE_MEMBER,
            staff,
            need,
            need_g,
            RULE_SIZE,
            "members",
            "people of kinds other than " + ", ".join(sorted(special)),
        ),
        teams,
        order,
        people,
        rules,
    )

    chosen = {
        t.team_id: [
            (leaders[t.team_id], "leader"),
            (deputies[t.team_id][0], "deputy"),
            *((o, "observer") for o in observers[t.team_id]),
        ]
        for t in teams
    }
    return _finish(
        seed,
        roster,
        plan,
        teams,
        (chosen, members, None),
        (rejections, skips_d + skips_o + skips_m),
    )


def _finish(
    seed: str,
    roster: Roster,
    plan: Plan,
    teams: list[_Team],
    picked: tuple[_Chosen, _Taken, dict[str, list[str]] | None],
    counts: tuple[int, int],
) -> Lottery:
    """Steps 6-7, the output frames, and every hard rule checked on them."""
    chosen, members, contacts = picked
    people = _people(roster)
    teams_df, members_df, pairs_df = _assemble(
        seed, teams, chosen, members, people, plan.teams, contacts
    )
    lottery = Lottery(
        teams=teams_df,
        members=members_df,
        pairs=pairs_df,
        seed=seed,
        rules=plan.teams,
        leader_rejections=counts[0],
        pool_skips=counts[1],
    )
    broken = rule_violations(lottery, roster, plan)
    if broken:  # the protocol guarantees the rules; reaching here is a bug
        raise RuntimeError("bug: the draw broke hard rules:\n" + "\n".join(broken))
    return lottery


def _assemble(
    seed: str,
    teams: list[_Team],
    chosen: dict[str, list[tuple[tuple[str, float], str]]],
    members: dict[str, list[tuple[str, float]]],
    people: dict[str, _Person],
    rules: Teams,
    named_contacts: dict[str, list[str]] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Protocol steps 6-7 and the three output frames.

    ``named_contacts``: the contacts the office named (``office_list``), each
    team's in contact order; otherwise step 6 chooses them.
    """
    member_rows: list[dict[str, Any]] = []
    pair_rows: list[dict[str, Any]] = []
    team_rows: list[dict[str, Any]] = []

    def row(tid: str, p: str, role: str, value: float) -> dict[str, Any]:
        v = people[p]
        return {
            "team_id": tid,
            "person_id": p,
            "role": role,
            "level": v.level,
            "home_city": v.home_city,
            "name": v.name,
            "unit": v.unit,
            "kind": v.kind,
            "prn": value,
        }

    for t in teams:
        tid = t.team_id
        ids = [p for p, _ in members[tid]]
        if named_contacts is not None:
            contacts = named_contacts[tid]
        else:
            contacts = [p for p, _ in _prn_order(seed, STAGE_CONTACT, ids)][
                : rules.contacts_per_team
            ]
        member_rows += [row(tid, p, role, v) for (p, v), role in chosen[tid]]
        member_rows += [
            row(tid, p, "contact" if p in contacts else "member", v) for p, v in members[tid]
        ]
        field_ids = [p for p, _ in _prn_order(seed, STAGE_PAIR, ids)]
        if len(field_ids) % 2 and contacts:
            field_ids.remove(contacts[0])
        pairs = _pair_up([(p, people[p].level) for p in field_ids], rules.grassroots_levels)
        pair_rows += [
            {
                "team_id": tid,
                "person_a": a,
                "person_b": b,
                "pair_no": i,
                "level_a": people[a].level,
                "level_b": people[b].level,
            }
            for i, (a, b) in enumerate(pairs, start=1)
        ]
        everyone = [p for (p, _), _ in chosen[tid]] + ids
        n_g = sum(people[p].level in rules.grassroots_levels for p in everyone)
        leader = chosen[tid][0][0][0]
        team_rows.append(
            {
                "team_id": tid,
                "leader_id": leader,
                "deputy_id": chosen[tid][1][0][0],
                "target_group": t.group,
                "target_cities": CITY_SEP.join(t.cities),
                "size": t.size,
                "source_city": people[leader].home_city,
                "counties": t.counties,
                "grassroots": n_g,
                "grassroots_min": t.grassroots_min,
                "grassroots_share": round(n_g / len(everyone), 4),
            }
        )

    role_rank = {r: i for i, r in enumerate(ROLES)}
    members_df = (
        pl.DataFrame(member_rows, schema=LOTTERY_SCHEMAS["members"])
        .with_columns(
            pl.col("role").replace_strict(role_rank, return_dtype=pl.Int64).alias("_rank")
        )
        .sort("team_id", "_rank", "prn", "person_id")
        .drop("_rank")
    )
    return (
        pl.DataFrame(team_rows, schema=LOTTERY_SCHEMAS["teams"]).sort("team_id"),
        members_df,
        pl.DataFrame(pair_rows, schema=LOTTERY_SCHEMAS["pairs"]).sort("team_id", "pair_no"),
    )


# --------------------------------------------------------------------------- certificate


def build_certificate(
    lottery: Lottery,
    roster: Roster,
    roster_dir: str | Path,
    plan_path: str | Path,
    plan_sha256: str,
) -> dict[str, Any]:
    """What certificate.json records: protocol, seed, input hashes and paths, rules, counts."""
    return {
        "protocol": lottery.protocol,
        "prn": PRN_PROTOCOL,
        "stages": list(STAGES),
        "seed": lottery.seed,
        "package_version": __version__,
        "plan": {
            "path": str(plan_path),
            "resolved": str(Path(plan_path).resolve()),
            "sha256": plan_sha256,
        },
        "roster": {
            "dir": str(roster_dir),
            "resolved": str(Path(roster_dir).resolve()),
            "files": {f.name: {"file": f.path.name, "sha256": f.sha256} for f in roster.files},
        },
        "row_counts": {
            **lottery.row_counts,
            "cities": roster.cities.height,
            "assessors": roster.assessors.height,
        },
        "rules": lottery.rules.model_dump(mode="json"),
        "search": {
            "leader_rejections": lottery.leader_rejections,
            "pool_skips": lottery.pool_skips,
        },
        **(
            {"office_teams": _office_labels(lottery, roster)}
            if roster.office_members is not None
            else {}
        ),
    }


def _office_labels(lottery: Lottery, roster: Roster) -> dict[str, str]:
    """With ``office_list``: the office's team names and the team id each was drawn to."""
    if roster.office_members is None:
        return {}
    leaders = dict(lottery.teams.select("leader_id", "team_id").iter_rows())
    return {
        str(label): leaders[pid]
        for label, pid in roster.office_members.filter(pl.col("role") == "leader")
        .select("team", "person_id")
        .iter_rows()
        if pid in leaders
    }


__all__ = [
    "PROTOCOL",
    "ROLES",
    "STAGES",
    "build_certificate",
    "draw_lottery",
    "office_assignment",
]
