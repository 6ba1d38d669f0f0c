"""Team formation and the team -> city draw (plan 四, 五, 六(一)): protocol "lottery-prn-v1".

Plan 四 fixes who sits in a team: 13 teams for 16 cities; the team size
follows the number of counties of the assessed city; county, township and
village cadres are at least 60% of each team; the leader is a city
poverty-office director (市扶贫办主任), the deputy a provincial division-level
cadre (处级干部); a contact person (联系人); democratic-party observers.
Plan 五 says teams and targets are drawn by lot at training (抽签), and 六(一)
that the province then picks as many people from the talent pool (人才库) as
the assessed city's counties require. This module turns a roster
(:class:`~xkaohe.io.roster.Roster`) and the plan's ``teams:`` rules into
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
``prn(S, T, K)`` is the permanent random number of :mod:`xkaohe.draw`
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

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from xkaohe.draw import PROTOCOL as PRN_PROTOCOL
from xkaohe.draw import prn_series
from xkaohe.errors import Problem, RuleError, VerificationError, XkaoheError
from xkaohe.io.roster import Roster
from xkaohe.plan import Plan, Teams
from xkaohe.schemas import LEVEL

if TYPE_CHECKING:
    import plotly.graph_objects as go

PROTOCOL = "lottery-prn-v1"
STAGE_TARGET = "lottery-target"
STAGE_LEADER = "lottery-leader"
STAGE_DEPUTY = "lottery-deputy"
STAGE_OBSERVER = "lottery-observer"
STAGE_MEMBER = "lottery-member"
STAGE_CONTACT = "lottery-contact"
STAGE_PAIR = "lottery-pair"
STAGES = (
    STAGE_TARGET,
    STAGE_LEADER,
    STAGE_DEPUTY,
    STAGE_OBSERVER,
    STAGE_MEMBER,
    STAGE_CONTACT,
    STAGE_PAIR,
)

ROLES = ("leader", "deputy", "contact", "member", "observer")
ROLE_LABELS = {
    "leader": "组长",
    "deputy": "副组长",
    "contact": "联系人",
    "member": "组员",
    "observer": "民主党派观察员",
}
LEVEL_LABELS = dict(LEVEL)
CITY_SEP = ";"  # separates the cities of ``teams.target_cities``
LEADER_SEARCH_LIMIT = 100_000  # look-ahead steps before step 2 gives up

_S, _I, _F = pl.String(), pl.Int64(), pl.Float64()
SCHEMAS: Mapping[str, Mapping[str, pl.DataType]] = {
    "teams": {
        "team_id": _S,
        "leader_id": _S,
        "deputy_id": _S,
        "target_group": _S,
        "target_cities": _S,
        "size": _I,
        "source_city": _S,
        "counties": _I,
        "grassroots": _I,
        "grassroots_min": _I,
        "grassroots_share": _F,
    },
    "members": {
        "team_id": _S,
        "person_id": _S,
        "role": _S,
        "level": _S,
        "home_city": _S,
        "name": _S,
        "unit": _S,
        "kind": _S,
        "prn": _F,
    },
    "pairs": {
        "team_id": _S,
        "person_a": _S,
        "person_b": _S,
        "pair_no": _I,
        "level_a": _S,
        "level_b": _S,
    },
}

_RULE_TEAMS = "one team per target group (teams.count)"
_RULE_LEADER = "the leader is a city poverty-office director (teams.leader_kind)"
_RULE_DEPUTY = "the deputy is a provincial division cadre (teams.deputy_kind)"
_RULE_OBSERVER = "observers in every team (teams.observers_per_team)"
_RULE_HOME = "nobody assesses their home city (teams.exclude_home_city)"
_RULE_MUTUAL = "no two cities assess each other (teams.no_mutual_assessment)"
_RULE_SIZE = "team size follows the counties assessed (teams.size)"
_RULE_CONTACT = "a contact person in every team (teams.contacts_per_team)"


def _rule_share(rules: Teams) -> str:
    levels = "+".join(rules.grassroots_levels)
    return (
        f"{levels} cadres >= {rules.grassroots_share_min:.0%} of every team "
        "(teams.grassroots_share_min)"
    )


@dataclass(frozen=True, eq=False)
class Lottery:
    """The drawn teams, their members and household-visit pairs.

    ``rules`` is the plan's ``teams:`` section the draw applied;
    ``leader_rejections`` and ``pool_skips`` count the look-ahead pass-overs
    of protocol steps 2 and 3-5 (both 0 when the plain walk reproduces the draw).
    """

    teams: pl.DataFrame
    members: pl.DataFrame
    pairs: pl.DataFrame
    seed: str
    rules: Teams
    leader_rejections: int = 0
    pool_skips: int = 0
    protocol: str = PROTOCOL

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows of each output table."""
        return {
            "teams": self.teams.height,
            "members": self.members.height,
            "pairs": self.pairs.height,
        }


# --------------------------------------------------------------------------- helpers


def _natural_key(text: str) -> tuple[tuple[tuple[int, int | str], ...], str]:
    parts = tuple(
        (0, int(p)) if re.fullmatch(r"[0-9]+", p) else (1, p)
        for p in re.split(r"([0-9]+)", text)
        if p
    )
    return parts, text


def grassroots_minimum(size: int, share: float) -> int:
    """Smallest head count that is at least ``share`` of ``size`` (exact decimal arithmetic)."""
    return math.ceil(Fraction(str(share)) * size)


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
            f"rule '{_RULE_TEAMS}': the plan has {rules.count} teams but cities.csv "
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


def _tightest(teams: list[_Team], domain: dict[str, list[str]], home: dict[str, str | None]) -> str:
    """The teams whose possible leaders come from the fewest cities, for error messages."""
    sources = {t.team_id: sorted({home[d] or "省直" for d in domain[t.team_id]}) for t in teams}
    fewest = min(len(v) for v in sources.values())
    tight = [t for t in teams if len(sources[t.team_id]) == fewest][:4]
    return "; ".join(
        f"{t.describe()} can only be led by directors from {'、'.join(sources[t.team_id])}"
        for t in tight
    )


class _SearchLimit(Exception):
    pass


def _assign_leaders(
    seed: str, teams: list[_Team], order: list[_Team], people: dict[str, _Person], rules: Teams
) -> tuple[dict[str, tuple[str, float]], int]:
    """Protocol step 2: team_id -> (director, prn), and the number of look-ahead rejections."""
    ranked = _prn_order(
        seed, STAGE_LEADER, (p.person_id for p in people.values() if p.kind == rules.leader_kind)
    )
    prn_of = dict(ranked)
    if len(ranked) < len(teams):
        raise RuleError(
            f"rule '{_RULE_LEADER}': the {len(teams)} teams need {len(teams)} "
            f"leaders of kind '{rules.leader_kind}'; assessors.csv has {len(ranked)}; "
            "add the missing city poverty-office directors to the pool"
        )
    by_id = {t.team_id: t for t in teams}
    home = {d: people[d].home_city for d, _ in ranked}
    domain = {
        t.team_id: [d for d, _ in ranked if not (rules.exclude_home_city and home[d] in t.cities)]
        for t in teams
    }
    for t in teams:
        if not domain[t.team_id]:
            raise RuleError(
                f"rule '{_RULE_HOME}': {t.describe()} has no possible leader: every "
                f"director (kind '{rules.leader_kind}') in the pool is from "
                f"{'、'.join(t.cities)}; add a director from another city"
            )
    # A director is excluded from at most one team, so any two teams together can be led
    # by every director: with enough directors, a team without candidates is the only
    # way the home-city rule alone can fail (Hall's theorem).
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
        failed: set[str | None] = set()  # directors of one city are interchangeable here
        for d in domain[t.team_id]:
            if d in used or conflicts(d, t):
                continue
            rejections += 1  # undone below unless the director is kept
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
            f"rule '{_RULE_MUTUAL}': no way to give each of the {len(teams)} teams a director "
            f"from outside its target cities without two cities assessing each other ({how}); "
            f"the tightest: {_tightest(teams, domain, home)}; add directors from other cities "
            "or regroup the target cities"
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
    share_rule = _rule_share(rules)
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
    people = _people(roster)
    order_keys = [g for g, _ in _prn_order(seed, STAGE_TARGET, (t.group for t in teams))]
    by_group = {t.group: t for t in teams}
    order = [by_group[g] for g in order_keys]

    fixed_roles = 2 + rules.observers_per_team
    for t in teams:
        if t.size < fixed_roles + rules.contacts_per_team:
            raise RuleError(
                f"rule '{_RULE_SIZE}': {t.describe()} has size {t.size} ({t.counties} counties), "
                f"too small for a leader, a deputy, {rules.observers_per_team} observer(s) and "
                f"{rules.contacts_per_team} contact(s); rule '{_RULE_CONTACT}'"
            )

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
            _RULE_DEPUTY,
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
            _RULE_OBSERVER,
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
            _RULE_SIZE,
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
    teams_df, members_df, pairs_df = _assemble(seed, teams, chosen, members, people, rules)
    lottery = Lottery(
        teams=teams_df,
        members=members_df,
        pairs=pairs_df,
        seed=seed,
        rules=rules,
        leader_rejections=rejections,
        pool_skips=skips_d + skips_o + skips_m,
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
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Protocol steps 6-7 and the three output frames."""
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
        contacts = [p for p, _ in _prn_order(seed, STAGE_CONTACT, ids)][: rules.contacts_per_team]
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
        pl.DataFrame(member_rows, schema=SCHEMAS["members"])
        .with_columns(
            pl.col("role").replace_strict(role_rank, return_dtype=pl.Int64).alias("_rank")
        )
        .sort("team_id", "_rank", "prn", "person_id")
        .drop("_rank")
    )
    return (
        pl.DataFrame(team_rows, schema=SCHEMAS["teams"]).sort("team_id"),
        members_df,
        pl.DataFrame(pair_rows, schema=SCHEMAS["pairs"]).sort("team_id", "pair_no"),
    )


# --------------------------------------------------------------------------- checks


def rule_violations(lottery: Lottery, roster: Roster, plan: Plan) -> list[str]:
    """Every hard rule of DESIGN.md checked on the output frames; an empty list if all hold.

    Independent of how the draw was made, so it also serves reviewers and tests.
    """
    rules = plan.teams
    out: list[str] = []
    teams, members = lottery.teams, lottery.members
    cities = roster.cities
    groups = cities["target_group"].unique().sort().to_list()
    if sorted(teams["target_group"].to_list()) != groups or teams.height != rules.count:
        out.append(
            f"{_RULE_TEAMS}: target groups {groups}, teams for "
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


# --------------------------------------------------------------------------- certificate


def build_certificate(
    lottery: Lottery,
    roster: Roster,
    roster_dir: str | Path,
    plan_path: str | Path,
    plan_sha256: str,
) -> dict[str, Any]:
    """What certificate.json records: protocol, seed, input hashes and paths, rules, counts."""
    from xkaohe import __version__

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
    }


# --------------------------------------------------------------------------- entry points


def run_lottery(roster_dir: Path, plan_path: Path, seed: str, out_dir: Path) -> Lottery:
    """Load the roster and plan, draw, and write teams/members/pairs, the xlsx and the certificate.

    Raises
    ------
    InputError
        A roster file or the plan cannot be read.
    RuleError
        The roster makes a hard rule impossible.
    """
    from xkaohe.io.lottery_files import write_lottery
    from xkaohe.io.roster import load_roster
    from xkaohe.plan import load_plan, plan_hash

    plan = load_plan(plan_path)
    roster = load_roster(roster_dir)
    lottery = draw_lottery(roster, plan, seed)
    cert = build_certificate(lottery, roster, roster_dir, plan_path, plan_hash(plan_path))
    write_lottery(out_dir, lottery, cert)
    return lottery


def verify_lottery(out_dir: Path) -> None:
    """Re-derive the draw recorded in ``out_dir/certificate.json`` and compare with the files.

    Re-loads the roster and plan from the recorded paths (as given, else as
    resolved at the draw), checks their SHA-256, re-draws with the recorded
    seed and compares every CSV row with the one on disk.

    Raises
    ------
    VerificationError
        Listing each difference: a changed input file, a changed or missing row.
    """
    from xkaohe.io.files import sha256_file
    from xkaohe.io.lottery_files import (
        CERTIFICATE,
        compare_outputs,
        locate_input,
        read_certificate,
    )
    from xkaohe.io.roster import load_roster
    from xkaohe.plan import load_plan

    out_dir = Path(out_dir)
    cert = read_certificate(out_dir)
    cert_path = str(out_dir / CERTIFICATE)
    problems: list[Problem] = []
    try:
        protocol, seed = str(cert["protocol"]), str(cert["seed"])
        plan_path = locate_input(cert["plan"]["path"], cert["plan"]["resolved"])
        roster_dir = locate_input(cert["roster"]["dir"], cert["roster"]["resolved"])
        plan_sha, files = str(cert["plan"]["sha256"]), dict(cert["roster"]["files"])
    except (KeyError, TypeError) as exc:
        raise VerificationError(
            Problem(cert_path, None, None, "a lottery certificate", f"no entry {exc}")
        ) from None
    if protocol != PROTOCOL:
        raise VerificationError(Problem(cert_path, None, "protocol", PROTOCOL, repr(protocol)))
    if not plan_path.is_file():
        raise VerificationError(
            Problem(str(plan_path), None, None, "the plan file of the draw", "no such file")
        )
    now = sha256_file(plan_path)
    if now != plan_sha:
        problems.append(
            Problem(
                str(plan_path),
                None,
                None,
                f"sha256 {plan_sha} (certified)",
                f"sha256 {now}: the plan changed since the draw",
            )
        )
    roster = load_roster(roster_dir)
    present = {f.name: f for f in roster.files}
    for name, rec in sorted(files.items()):
        f = present.get(name)
        if f is None or f.path.name != rec["file"]:
            problems.append(
                Problem(
                    str(roster_dir),
                    None,
                    None,
                    f"table {name} in {rec['file']}",
                    f.path.name if f else "no such table",
                )
            )
        elif f.sha256 != rec["sha256"]:
            problems.append(
                Problem(
                    str(f.path),
                    None,
                    None,
                    f"sha256 {rec['sha256']} (certified)",
                    f"sha256 {f.sha256}: the file changed since the draw",
                )
            )
    try:
        lottery = draw_lottery(roster, load_plan(plan_path), seed)
    except XkaoheError as exc:
        problems.append(
            Problem(
                str(roster_dir),
                None,
                None,
                "a roster the draw can use",
                f"the re-draw failed: {exc}",
            )
        )
    else:
        problems += compare_outputs(out_dir, lottery, cert)
    if problems:
        raise VerificationError(problems)


# --------------------------------------------------------------------------- notebook tables


def summary_table(lottery: Lottery) -> pl.DataFrame:
    """Key facts of a draw as ``项目, 值`` rows (seed, protocol, counts, look-ahead counts)."""
    rules = lottery.rules
    facts = [
        ("抽签种子", lottery.seed),
        ("抽签规程", f"{lottery.protocol}（永久随机数 {PRN_PROTOCOL}）"),
        ("考核组数", str(lottery.teams.height)),
        ("考核人员总数", str(lottery.members.height)),
        ("入户走访小组数", str(lottery.pairs.height)),
        ("县乡村干部占比下限", f"{rules.grassroots_share_min:.0%}"),
        ("考核组人数公式", f"{rules.size.base} + {rules.size.per_county} × 被考核县数"),
        ("禁止两市互考", "是" if rules.no_mutual_assessment else "否"),
        ("组长回溯次数", str(lottery.leader_rejections)),
        ("人员余量跳过次数", str(lottery.pool_skips)),
    ]
    return pl.DataFrame(facts, schema={"项目": pl.String, "值": pl.String}, orient="row")


def pairs_summary(lottery: Lottery) -> pl.DataFrame:
    """Per team: pairs, pairs mixing grassroots with other levels, people left off the pairs."""
    grass = list(lottery.rules.grassroots_levels)
    mixed = pl.col("level_a").is_in(grass) != pl.col("level_b").is_in(grass)
    field = (
        lottery.members.filter(pl.col("role").is_in(["contact", "member"]))
        .group_by("team_id")
        .len("field")
    )
    return (
        lottery.pairs.group_by("team_id")
        .agg(pl.len().alias("pairs"), mixed.sum().alias("mixed"))
        .join(field, on="team_id", how="right")
        .with_columns(pl.col("pairs", "mixed").fill_null(0))
        .sort("team_id")
        .select(
            pl.col("team_id").alias("考核组"),
            pl.col("pairs").alias("入户小组数"),
            pl.col("mixed").alias("县乡村与其他层级混编"),
            (pl.col("field") - 2 * pl.col("pairs")).alias("未编入小组人数"),
        )
    )


def certificate_table(certificate: Mapping[str, Any]) -> pl.DataFrame:
    """A lottery certificate as ``项目, 值`` rows a reviewer can check."""
    rows = [
        ("抽签规程", str(certificate.get("protocol"))),
        ("随机种子", str(certificate.get("seed"))),
        ("方案文件", str(certificate["plan"]["path"])),
        ("方案文件 SHA-256", str(certificate["plan"]["sha256"])),
        ("名单目录", str(certificate["roster"]["dir"])),
    ]
    rows += [
        (f"名单 {v['file']} SHA-256", str(v["sha256"]))
        for _, v in sorted(certificate["roster"]["files"].items())
    ]
    rows += [
        (f"结果 {k} SHA-256", str(v)) for k, v in sorted(certificate.get("outputs", {}).items())
    ]
    rows.append(("软件版本", str(certificate.get("package_version"))))
    return pl.DataFrame(rows, schema={"项目": pl.String, "值": pl.String}, orient="row")


def assignment_table(lottery: Lottery, *, share_as_number: bool = False) -> pl.DataFrame:
    """One row per team, Chinese headers: leader, deputy, source city, targets, size, grassroots.

    ``share_as_number``: the grassroots share as a number (for the xlsx, which
    formats it as a percentage) instead of text like "61.9%".
    """
    names = lottery.members.select("person_id", "name")
    share = pl.col("grassroots_share")
    return (
        lottery.teams.join(
            names.rename({"person_id": "leader_id", "name": "leader"}), on="leader_id", how="left"
        )
        .join(
            names.rename({"person_id": "deputy_id", "name": "deputy"}), on="deputy_id", how="left"
        )
        .sort("team_id")
        .select(
            pl.col("team_id").alias("考核组"),
            pl.col("leader").alias("组长"),
            pl.col("source_city").alias("组长所在市"),
            pl.col("deputy").alias("副组长"),
            pl.col("target_cities").str.replace_all(CITY_SEP, "、", literal=True).alias("被考核市"),
            pl.col("counties").alias("被考核县数"),
            pl.col("size").alias("人数"),
            pl.col("grassroots").alias("县乡村干部人数"),
            (share if share_as_number else (share * 100).round(1).cast(pl.String) + "%").alias(
                "县乡村干部占比"
            ),
        )
    )


def city_flows(lottery: Lottery) -> pl.DataFrame:
    """``team_id, source_city, target_city``: which city's team assesses which city."""
    return (
        lottery.teams.select(
            "team_id",
            pl.col("source_city").fill_null("省直"),
            pl.col("target_cities").str.split(CITY_SEP).alias("target_city"),
        )
        .explode("target_city")
        .sort("team_id", "target_city")
    )


def composition(lottery: Lottery) -> pl.DataFrame:
    """Per team and level: head count and share of the team; ``grassroots`` flags the levels."""
    levels = list(LEVEL_LABELS)
    return (
        lottery.members.group_by("team_id", "level")
        .len("count")
        .join(lottery.teams.select("team_id", "size"), on="team_id")
        .with_columns(
            (pl.col("count") / pl.col("size")).alias("share"),
            pl.col("level").is_in(list(lottery.rules.grassroots_levels)).alias("grassroots"),
            pl.col("level").replace_strict(LEVEL_LABELS).alias("level_label"),
            pl.col("level")
            .replace_strict({v: i for i, v in enumerate(levels)}, return_dtype=pl.Int64)
            .alias("_o"),
        )
        .sort("team_id", "_o")
        .drop("_o", "size")
    )


def pairs_table(lottery: Lottery) -> pl.DataFrame:
    """The household-visit pairs with names and levels, Chinese headers."""
    names = lottery.members.select("person_id", "name")
    level = pl.col("level_a").replace_strict(LEVEL_LABELS)
    return (
        lottery.pairs.join(names.rename({"person_id": "person_a", "name": "name_a"}), on="person_a")
        .join(names.rename({"person_id": "person_b", "name": "name_b"}), on="person_b")
        .sort("team_id", "pair_no")
        .select(
            pl.col("team_id").alias("考核组"),
            pl.col("pair_no").alias("组号"),
            pl.col("name_a").alias("成员甲"),
            level.alias("成员甲层级"),
            pl.col("name_b").alias("成员乙"),
            pl.col("level_b").replace_strict(LEVEL_LABELS).alias("成员乙层级"),
        )
    )


def figure_city_flows(lottery: Lottery) -> go.Figure:
    """Sankey diagram: the leader's city (left) to the cities its team assesses (right)."""
    import plotly.graph_objects as go

    flows = city_flows(lottery)
    left = sorted(set(flows["source_city"].to_list()))
    right = sorted(set(flows["target_city"].to_list()))
    labels = [f"{c}（派出）" for c in left] + [f"{c}（被考核）" for c in right]
    index = {("s", c): i for i, c in enumerate(left)} | {
        ("t", c): len(left) + i for i, c in enumerate(right)
    }
    fig = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 12, "thickness": 14},
            link={
                "source": [index[("s", c)] for c in flows["source_city"]],
                "target": [index[("t", c)] for c in flows["target_city"]],
                "value": [1] * flows.height,
                "customdata": flows["team_id"].to_list(),
                "hovertemplate": "%{customdata}: %{source.label} → %{target.label}<extra></extra>",
            },
        )
    )
    fig.update_layout(title="考核组派出市与被考核市", font={"size": 12}, height=600)
    return fig


def figure_composition(lottery: Lottery) -> go.Figure:
    """Stacked bars of each team's levels as shares, with the grassroots minimum as a line.

    The grassroots levels are stacked first, so the top of their segments is each
    team's grassroots share, read against the dashed minimum.
    """
    import plotly.graph_objects as go

    comp = composition(lottery)
    fig = go.Figure()
    grass = lottery.rules.grassroots_levels
    stacked = [*grass, *(v for v in reversed(LEVEL_LABELS) if v not in grass)]
    for level in stacked:  # grassroots at the bottom, so their top edge meets the line
        label = LEVEL_LABELS.get(level, level)
        part = comp.filter(pl.col("level") == level)
        if part.height:
            fig.add_bar(
                x=part["team_id"].to_list(),
                y=part["share"].to_list(),
                name=label,
                customdata=part["count"].to_list(),
                hovertemplate=f"%{{x}} {label}: %{{customdata}}人（%{{y:.0%}}）<extra></extra>",
            )
    share = lottery.rules.grassroots_share_min
    fig.add_hline(
        y=share,
        line_dash="dash",
        line_color="black",
        annotation_text=f"县乡村干部下限 {share:.0%}",
        annotation_position="top left",
    )
    fig.update_layout(
        barmode="stack",
        title="各考核组人员层级构成",
        yaxis_tickformat=".0%",
        yaxis_title="占考核组人数",
        xaxis_title="考核组",
        legend_title="层级",
    )
    return fig


__all__ = [
    "CITY_SEP",
    "PROTOCOL",
    "ROLES",
    "ROLE_LABELS",
    "STAGES",
    "Lottery",
    "assignment_table",
    "build_certificate",
    "certificate_table",
    "city_flows",
    "composition",
    "draw_lottery",
    "figure_city_flows",
    "figure_composition",
    "grassroots_minimum",
    "pairs_summary",
    "pairs_table",
    "rule_violations",
    "run_lottery",
    "summary_table",
    "verify_lottery",
]
