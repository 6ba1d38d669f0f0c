"""Tests for the team lottery (xkaohe.draw.lottery, xkaohe.io.lottery_files).

Rosters are built inline: 16 Anhui cities in 13 target groups (three groups of
two cities), 34 assessors per city (1 director + 33 staff), 15 division cadres
and 15 party observers with an empty home city. The hard rules are checked by
code written here, independently of :func:`xkaohe.lottery.rule_violations`.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xkaohe.draw.lottery import _Pool, draw_lottery, office_assignment
from xkaohe.draw.lottery_rules import roster_violations, rule_violations
from xkaohe.draw.prn import prn
from xkaohe.errors import InputError, RuleError, VerificationError
from xkaohe.inputs import CITY_SEP, Lottery, Roster
from xkaohe.io.lottery_files import XLSX, output_table, read_certificate, read_lottery
from xkaohe.io.plan_file import load_plan
from xkaohe.io.roster import load_roster
from xkaohe.plan import Plan
from xkaohe.report.lottery import (
    assignment_table,
    certificate_table,
    city_flows,
    composition,
    figure_city_flows,
    figure_composition,
    pairs_summary,
    pairs_table,
    summary_table,
)
from xkaohe.run.commands import run_lottery, verify_lottery

PLAN_PATH = Path(__file__).parent.parent / "params" / "plan-2019.yaml"
PLAN = load_plan(PLAN_PATH)

CITIES = ("合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山", "阜阳",
          "宿州", "滁州", "六安", "宣城", "池州", "亳州")
COUNTIES = (4, 4, 4, 3, 3, 3, 3, 7, 4, 8, 5, 6, 6, 4, 4, 4)  # 72 in all
GROUP = {c: f"G{i + 1:02d}" for i, c in enumerate(CITIES[:13])} | {
    "宣城": "G02", "池州": "G07", "亳州": "G06"}
# 34 places: a city with one director sends the first 33 as staff (六(一) 每市抽调34人)
STAFF_LEVELS = ("city",) * 10 + ("county",) * 10 + ("township",) * 8 + ("village",) * 5 + (
    "county",)
PEOPLE_SCHEMA = {c: pl.String for c in ("person_id", "name", "home_city", "unit", "level", "kind",
                                        "department")}

Rows = list[dict[str, Any]]


def person(pid: str, home: str | None, level: str, kind: str) -> dict[str, Any]:
    """One assessor; provincial people each from a unit of their own (one cadre per unit)."""
    return {"person_id": pid, "name": f"姓名{pid}", "home_city": home,
            "unit": f"{home}单位" if home else f"省直单位{pid}", "level": level, "kind": kind,
            "department": "扶贫" if level != "province" else "教育"}


def roster_rows(*, directors: dict[str, int] | None = None,
                staff_levels: dict[str, tuple[str, ...]] | None = None,
                division: int = 15, observers: int = 15, per_city: int = 34) -> tuple[Rows, Rows]:
    """cities.csv and assessors.csv rows; ``directors`` maps city -> number of directors.

    Each city sends ``per_city`` people: its directors, then staff with the first
    levels of its ``staff_levels``.
    """
    cities = [{"city_name": c, "target_group": GROUP[c], "counties_assessed": n}
              for c, n in zip(CITIES, COUNTIES, strict=True)]
    directors = {c: 1 for c in CITIES} if directors is None else directors
    staff_levels = staff_levels or {}
    people = []
    for i, c in enumerate(CITIES):
        n_dir = directors.get(c, 0)
        levels = staff_levels.get(c, STAFF_LEVELS)[: per_city - n_dir]
        assert len(levels) == per_city - n_dir, f"{c}: give {per_city - n_dir} staff levels"
        people += [person(f"C{i:02d}D{k}", c, "city", "director") for k in range(n_dir)]
        people += [person(f"C{i:02d}S{j:02d}", c, level, "staff")
                   for j, level in enumerate(levels)]
    people += [person(f"PD{j:02d}", None, "province", "division_cadre") for j in range(division)]
    people += [person(f"PO{j:02d}", None, "province", "party_observer") for j in range(observers)]
    return cities, people


def as_roster(cities: Rows, people: Rows) -> Roster:
    c = pl.DataFrame(cities, schema={"city_name": pl.String, "target_group": pl.String,
                                     "counties_assessed": pl.Int64})
    a = pl.DataFrame(people, schema=PEOPLE_SCHEMA)
    return Roster(c.with_row_index("_row", offset=2), a.with_row_index("_row", offset=2))


def write_roster(directory: Path, cities: Rows, people: Rows) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(cities).write_csv(directory / "cities.csv")
    pl.DataFrame(people, schema=PEOPLE_SCHEMA).write_csv(directory / "assessors.csv")
    return directory


def with_teams(plan: Plan, **changes: Any) -> Plan:
    return plan.model_copy(update={"teams": plan.teams.model_copy(update=changes)})


ROSTER = as_roster(*roster_rows())


def check_rules(lot: Lottery, cities: Rows, people: Rows, plan: Plan,
                roster: Roster | None = None) -> None:
    """Every hard rule of DESIGN.md, checked from scratch (``roster``: the one drawn from)."""
    rules = plan.teams
    by_id = {p["person_id"]: p for p in people}
    group_of = {c["city_name"]: c["target_group"] for c in cities}
    teams = lot.teams.to_dicts()
    members = lot.members.to_dicts()
    # one team per target group
    assert sorted(t["target_group"] for t in teams) == sorted(set(group_of.values()))
    assert len(teams) == rules.count
    # no person in two teams
    ids = [m["person_id"] for m in members]
    assert len(ids) == len(set(ids))
    for t in teams:
        mine = [m for m in members if m["team_id"] == t["team_id"]]
        cities_t = sorted(c for c, g in group_of.items() if g == t["target_group"])
        assert t["target_cities"].split(CITY_SEP) == cities_t
        counties = sum(c["counties_assessed"] for c in cities if c["city_name"] in cities_t)
        size = rules.size.base + rules.size.per_county * counties
        assert len(mine) == size == t["size"]
        roles = [m["role"] for m in mine]
        assert roles.count("leader") == 1 and roles.count("deputy") == 1
        assert roles.count("observer") == rules.observers_per_team
        assert roles.count("contact") == rules.contacts_per_team
        for m in mine:
            p = by_id[m["person_id"]]
            want = {"leader": rules.leader_kind, "deputy": rules.deputy_kind,
                    "observer": rules.observer_kind}.get(m["role"], "staff")
            assert p["kind"] == want, m
            assert (m["level"], m["home_city"]) == (p["level"], p["home_city"])
            assert p["home_city"] not in cities_t  # nobody assesses their home city
            if m["role"] == "leader":
                assert m["person_id"] == t["leader_id"] and p["home_city"] == t["source_city"]
            if m["role"] == "deputy":
                assert m["person_id"] == t["deputy_id"]
        grassroots = sum(m["level"] in rules.grassroots_levels for m in mine)
        assert grassroots >= math.ceil(rules.grassroots_share_min * size - 1e-9)
        assert grassroots == t["grassroots"]
    if rules.no_mutual_assessment:
        for a, b in itertools.combinations(teams, 2):
            if a["source_city"] is None or b["source_city"] is None:
                continue  # a provincial director's team has no source city
            assert not (group_of[a["source_city"]] == b["target_group"]
                        and group_of[b["source_city"]] == a["target_group"]), (a, b)
    check_pairs(lot, plan)
    assert rule_violations(lot, roster or as_roster(cities, people), plan) == []


def check_pairs(lot: Lottery, plan: Plan) -> None:
    levels = plan.teams.grassroots_levels
    members = lot.members
    for tid in lot.teams["team_id"]:
        mine = members.filter(pl.col("team_id") == tid)
        field = set(mine.filter(pl.col("role").is_in(["contact", "member"]))["person_id"])
        pairs = lot.pairs.filter(pl.col("team_id") == tid)
        paired = pairs["person_a"].to_list() + pairs["person_b"].to_list()
        assert len(paired) == len(set(paired)) and set(paired) <= field
        assert len(field) - len(paired) == len(field) % 2  # at most one person stays off
        assert pairs["pair_no"].to_list() == list(range(1, pairs.height + 1))
        level = dict(mine.select("person_id", "level").iter_rows())
        g = sum(level[p] in levels for p in paired)
        cross = sum((level[a] in levels) != (level[b] in levels)
                    for a, b in pairs.select("person_a", "person_b").iter_rows())
        assert cross == min(g, len(paired) - g)  # as many mixed pairs as the levels allow


# --------------------------------------------------------------------------- rules hold


@settings(max_examples=25, deadline=None)
@given(seed=st.text(max_size=24))
def test_every_hard_rule_holds_for_any_seed(seed: str) -> None:
    cities, people = roster_rows()
    check_rules(draw_lottery(ROSTER, PLAN, seed), cities, people, PLAN)


SCARCE_GRASSROOTS = ("city",) * 15 + ("county",) * 10 + ("township",) * 8


@pytest.mark.parametrize(("plan", "rows"), [
    pytest.param(PLAN, roster_rows(), id="plan-2019"),
    pytest.param(with_teams(PLAN, no_mutual_assessment=False), roster_rows(), id="mutual-allowed"),
    pytest.param(with_teams(PLAN, observers_per_team=0, contacts_per_team=0), roster_rows(),
                 id="no-observer-no-contact"),
    pytest.param(with_teams(PLAN, contacts_per_team=2, observers_per_team=2),
                 roster_rows(observers=30),
                 id="two-contacts-two-observers"),
    pytest.param(PLAN, roster_rows(staff_levels={c: SCARCE_GRASSROOTS for c in CITIES}),
                 id="scarce-grassroots"),
    pytest.param(PLAN, roster_rows(directors={c: 1 for c in CITIES[:13]}), id="13-directors"),
])
@pytest.mark.parametrize("seed", ["demo", "2019-11-23", "交叉考核"])
def test_rules_hold_across_plans_and_rosters(plan: Plan, rows: tuple[Rows, Rows],
                                             seed: str) -> None:
    check_rules(draw_lottery(as_roster(*rows), plan, seed), *rows, plan)


def test_a_reviewer_can_rederive_the_draw_by_hand() -> None:
    """Steps 1, 2 and 5 recomputed with the scalar prn, from the protocol text."""
    seed = "demo"
    lot = draw_lottery(ROSTER, PLAN, seed)
    _, people = roster_rows()
    first_group = min(set(GROUP.values()), key=lambda g: (prn(seed, "lottery-target", g), g))
    team = lot.teams.row(by_predicate=pl.col("target_group") == first_group, named=True)
    targets = {c for c, g in GROUP.items() if g == first_group}
    directors = sorted((p for p in people if p["kind"] == "director"),
                       key=lambda p: (prn(seed, "lottery-leader", p["person_id"]), p["person_id"]))
    first = next(p for p in directors if p["home_city"] not in targets)
    assert team["leader_id"] == first["person_id"]  # the plain walk: leader_rejections == 0
    assert lot.leader_rejections == 0 and lot.pool_skips == 0
    stage = {"leader": "lottery-leader", "deputy": "lottery-deputy", "observer": "lottery-observer",
             "member": "lottery-member", "contact": "lottery-member"}
    for m in lot.members.head(40).iter_rows(named=True):
        assert m["prn"] == prn(seed, stage[m["role"]], m["person_id"])
    # step 5 for the first team: the first eligible staff in prn order, non-grassroots capped
    staff = sorted((p for p in people if p["kind"] == "staff" and p["home_city"] not in targets),
                   key=lambda p: (prn(seed, "lottery-member", p["person_id"]), p["person_id"]))
    places = team["size"] - 3
    cap = places - team["grassroots_min"]  # leader, deputy, observer are not grassroots
    expected: list[str] = []
    others = 0
    for p in staff:
        if len(expected) == places:
            break
        grass = p["level"] in PLAN.teams.grassroots_levels
        if grass or others < cap:
            expected.append(p["person_id"])
            others += not grass
    got = lot.members.filter((pl.col("team_id") == team["team_id"])
                             & pl.col("role").is_in(["member", "contact"]))
    assert set(got["person_id"]) == set(expected)


def test_the_draw_ignores_row_order() -> None:
    cities, people = roster_rows()
    rng = random.Random(7)
    rng.shuffle(cities)
    rng.shuffle(people)
    shuffled = draw_lottery(as_roster(cities, people), PLAN, "demo")
    plain = draw_lottery(ROSTER, PLAN, "demo")
    for name in ("teams", "members", "pairs"):
        assert getattr(shuffled, name).equals(getattr(plain, name)), name


def test_same_seed_same_draw_other_seed_other_draw() -> None:
    a, b = draw_lottery(ROSTER, PLAN, "s1"), draw_lottery(ROSTER, PLAN, "s1")
    c = draw_lottery(ROSTER, PLAN, "s2")
    assert a.teams.equals(b.teams) and a.members.equals(b.members) and a.pairs.equals(b.pairs)
    assert not a.teams.equals(c.teams)
    assert not a.members.equals(c.members)


def test_backtracking_finds_leaders_when_the_plain_walk_would_not() -> None:
    """Only 13 directors, two of them from one group: some seeds need the look-ahead."""
    directors = {c: 1 for c in CITIES[:12]} | {"宣城": 1}  # 芜湖 and 宣城 are one group (G02)
    rows = roster_rows(directors=directors)
    roster = as_roster(*rows)
    rejected = 0
    for i in range(40):
        lot = draw_lottery(roster, PLAN, f"seed-{i}")
        check_rules(lot, *rows, PLAN)
        rejected += lot.leader_rejections > 0
    assert rejected > 0


# --------------------------------------------------------------------------- impossible rosters


def _drop_directors(keep: dict[str, int]) -> tuple[Rows, Rows]:
    return roster_rows(directors=keep)


@pytest.mark.parametrize(("plan", "rows", "match"), [
    pytest.param(PLAN, _drop_directors({c: 1 for c in CITIES[:12]}),
                 r"leader is a city poverty-office director.*13 teams need 13 leaders.* has 12",
                 id="too-few-directors"),
    pytest.param(PLAN, _drop_directors({"芜湖": 7, "宣城": 6}),
                 r"nobody assesses their home city.*team T02 \(target group G02: 宣城、芜湖\) "
                 r"has no possible leader", id="only-own-directors"),
    pytest.param(PLAN, _drop_directors({"合肥": 12, "芜湖": 1}),
                 r"no two cities assess each other.*team T01 \(target group G01: 合肥\) can only "
                 r"be led by directors from 芜湖", id="mutual-assessment-unavoidable"),
    pytest.param(PLAN, roster_rows(division=12),
                 r"deputy is a provincial division cadre.*13 teams need 13 deputies.*has 12",
                 id="too-few-division-cadres"),
    pytest.param(PLAN, roster_rows(observers=10),
                 r"observers in every team.*need 13 observers.*has 10", id="too-few-observers"),
    pytest.param(PLAN, roster_rows(staff_levels={c: ("city",) * 28 + ("county",) * 5
                                                 for c in CITIES}),
                 r"county\+township\+village cadres >= 60% of every team.*teams need \d+ "
                 r"grassroots \(county/township/village\) members in all; the pool has 80",
                 id="too-few-grassroots"),
    pytest.param(with_teams(PLAN, assessors_per_city=201),
                 roster_rows(staff_levels={c: ("city",) * 200 for c in CITIES}
                             | {"阜阳": ("county",) * 200}, per_city=201),
                 r"60% of every team.*team T10 \(target group G10: 阜阳\) needs 18 grassroots "
                 r".*members from outside 阜阳; the pool has 0", id="grassroots-only-at-home"),
    pytest.param(with_teams(PLAN, assessors_per_city=11),
                 roster_rows(staff_levels={c: ("county",) * 10 for c in CITIES}, per_city=11),
                 r"team size follows the counties assessed.*13 teams need 2\d\d members in all; "
                 r"the pool has 160", id="too-few-members"),
    pytest.param(with_teams(PLAN, count=12), roster_rows(),
                 r"one team per target group.*plan has 12 teams but cities.csv has 13",
                 id="group-count"),
    pytest.param(with_teams(PLAN, size=PLAN.teams.size.model_copy(update={"base": 3,
                                                                           "per_county": 0})),
                 roster_rows(), r"team size follows.*team T01 .*has size 3", id="size-too-small"),
    pytest.param(with_teams(PLAN, size=PLAN.teams.size.model_copy(update={"base": 4,
                                                                           "per_county": 0})),
                 roster_rows(), r"60% of every team.*team T01 .*has size 4 and 1 member "
                 r"place\(s\), but needs 3 grassroots", id="size-below-share"),
])
def test_impossible_rosters_raise_rule_error(plan: Plan, rows: tuple[Rows, Rows],
                                             match: str) -> None:
    with pytest.raises(RuleError, match=match):
        draw_lottery(as_roster(*rows), plan, "demo")


def test_mutual_rule_off_makes_that_roster_possible() -> None:
    rows = _drop_directors({"合肥": 12, "芜湖": 1})
    plan = with_teams(PLAN, no_mutual_assessment=False)
    check_rules(draw_lottery(as_roster(*rows), plan, "demo"), *rows, plan)


# --------------------------------------------------------------------------- exactness


SMALL_CITIES = ("甲", "乙", "丙", "丁", "戊")
SMALL_GROUP = {"甲": "A", "乙": "B", "丙": "C", "丁": "D", "戊": "D"}


def _mutual(home_a: str | None, home_b: str | None, group_a: str, group_b: str) -> bool:
    if home_a is None or home_b is None:
        return False
    return SMALL_GROUP[home_a] == group_b and SMALL_GROUP[home_b] == group_a


def _leaders_possible(homes: list[str | None]) -> bool:
    """Brute force: some director per group, none at home, no two cities assessing each other."""
    groups = sorted(set(SMALL_GROUP.values()))
    for chosen in itertools.permutations(range(len(homes)), len(groups)):
        src = {g: homes[d] for g, d in zip(groups, chosen, strict=True)}
        if any(h is not None and SMALL_GROUP[h] == g for g, h in src.items()):
            continue
        if not any(_mutual(src[a], src[b], a, b) for a, b in itertools.combinations(groups, 2)):
            return True
    return False


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(homes=st.lists(st.one_of(st.none(), st.sampled_from(SMALL_CITIES)), min_size=4,
                     max_size=6),
       seed=st.sampled_from(["a", "b", "c"]))
def test_leader_search_is_exact_on_small_provinces(homes: list[str | None], seed: str) -> None:
    cities = [{"city_name": c, "target_group": SMALL_GROUP[c], "counties_assessed": 1}
              for c in SMALL_CITIES]
    people = [person(f"D{i}", h, "city", "director") for i, h in enumerate(homes)]
    per_city = 12 + len(homes)  # every city sends as many: staff fill up after its directors
    people += [person(f"{c}{j:02d}", c, "county", "staff")
               for c in SMALL_CITIES for j in range(per_city - homes.count(c))]
    people += [person(f"P{k[0]}{j}", None, "province", k) for j in range(4)
               for k in ("division_cadre", "party_observer")]
    plan = with_teams(PLAN, count=4, assessors_per_city=per_city)
    roster = as_roster(cities, people)
    if _leaders_possible(homes):
        check_rules(draw_lottery(roster, plan, seed), cities, people, plan)
    else:
        with pytest.raises(RuleError, match=r"nobody assesses|no two cities"):
            draw_lottery(roster, plan, seed)


def _slots_fillable(pool: list[tuple[bool, int | None]], need: list[int],
                    need_g: list[int]) -> bool:
    """Brute-force bipartite matching (Kuhn) of people to grassroots-only and open places."""
    slots = [(t, True) for t, q in enumerate(need_g) for _ in range(q)]
    slots += [(t, False) for t, (m, q) in enumerate(zip(need, need_g, strict=True))
              for _ in range(m - q)]
    owner: dict[int, int] = {}

    def fits(p: int, s: int) -> bool:
        grass, excl = pool[p]
        team, g_only = slots[s]
        return excl != team and (grass or not g_only)

    def augment(s: int, seen: set[int]) -> bool:
        for p in range(len(pool)):
            if p not in seen and fits(p, s):
                seen.add(p)
                if p not in owner or augment(owner[p], seen):
                    owner[p] = s
                    return True
        return False

    return all(augment(s, set()) for s in range(len(slots)))


@settings(max_examples=150, deadline=None)
@given(pool=st.lists(st.tuples(st.booleans(), st.sampled_from([None, 0, 1, 2])), max_size=9),
       needs=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=3, max_size=3))
def test_pool_count_test_is_exact(pool: list[tuple[bool, int | None]],
                                  needs: list[tuple[int, int]]) -> None:
    """The six count conditions of _Pool agree with an exhaustive matching."""
    need = [max(m, q) for m, q in needs]
    need_g = [q for _, q in needs]
    teams = ("0", "1", "2")
    p = _Pool(teams, dict(zip(teams, need, strict=True)), dict(zip(teams, need_g, strict=True)))
    for grass, excl in pool:
        p.add("g" if grass else "n", None if excl is None else str(excl))
    assert (p.shortfall() is None) == _slots_fillable(pool, need, need_g)


# --------------------------------------------------------------------------- files


def test_run_and_verify_round_trip(tmp_path: Path) -> None:
    roster_dir = write_roster(tmp_path / "roster", *roster_rows())
    out = tmp_path / "lottery"
    lot = run_lottery(roster_dir, PLAN_PATH, "2019-11-23", out)
    verify_lottery(out)
    cert = read_certificate(out)
    assert cert["protocol"] == "lottery-prn-v1" and cert["seed"] == "2019-11-23"
    assert cert["row_counts"]["teams"] == 13 and cert["row_counts"]["assessors"] == 16 * 34 + 30
    assert set(cert["roster"]["files"]) == {"cities", "assessors"}
    back = read_lottery(out)
    for name in ("teams", "members", "pairs"):
        assert getattr(back, name).equals(getattr(lot, name)), name
    assert back.rules == PLAN.teams


def test_verify_catches_a_changed_roster_file(tmp_path: Path) -> None:
    roster_dir = write_roster(tmp_path / "roster", *roster_rows())
    out = tmp_path / "lottery"
    run_lottery(roster_dir, PLAN_PATH, "demo", out)
    path = roster_dir / "assessors.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("姓名C00S00", "改名"),
                    encoding="utf-8")
    with pytest.raises(VerificationError, match=r"assessors.csv: expected sha256 .*changed"):
        verify_lottery(out)


def test_verify_catches_an_edited_teams_row(tmp_path: Path) -> None:
    roster_dir = write_roster(tmp_path / "roster", *roster_rows())
    out = tmp_path / "lottery"
    run_lottery(roster_dir, PLAN_PATH, "demo", out)
    lines = (out / "teams.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",PD", ",XX", 1)
    (out / "teams.csv").write_text("".join(lines), encoding="utf-8")
    with pytest.raises(VerificationError, match=r"teams.csv, row 4: expected re-derived"):
        verify_lottery(out)


def test_verify_catches_a_missing_pairs_file_and_a_missing_certificate(tmp_path: Path) -> None:
    roster_dir = write_roster(tmp_path / "roster", *roster_rows())
    out = tmp_path / "lottery"
    run_lottery(roster_dir, PLAN_PATH, "demo", out)
    (out / "pairs.csv").unlink()
    with pytest.raises(VerificationError, match=r"pairs.csv: expected the lottery's pairs.csv"):
        verify_lottery(out)
    with pytest.raises(InputError, match=r"elsewhere: expected a lottery directory"):
        verify_lottery(tmp_path / "elsewhere")
    (out / "certificate.json").unlink()
    with pytest.raises(InputError, match=r"certificate\.json: file not found"):
        verify_lottery(out)


def test_verify_finds_inputs_by_their_resolved_path(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    write_roster(tmp_path / "roster", *roster_rows())
    monkeypatch.chdir(tmp_path)
    run_lottery(Path("roster"), PLAN_PATH, "demo", Path("lottery"))
    monkeypatch.chdir(Path(__file__).parent)
    verify_lottery(tmp_path / "lottery")


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    roster_dir = write_roster(tmp_path / "roster", *roster_rows())
    for name, seed in (("a", "demo"), ("b", "demo"), ("c", "other")):
        run_lottery(roster_dir, PLAN_PATH, seed, tmp_path / name)
    for f in ("teams.csv", "members.csv", "pairs.csv", "certificate.json", XLSX):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    teams_a, teams_c = (tmp_path / name / "teams.csv" for name in ("a", "c"))
    assert teams_a.read_bytes() != teams_c.read_bytes()


def test_team_lists_xlsx_is_readable(tmp_path: Path) -> None:
    roster_dir = write_roster(tmp_path / "roster", *roster_rows())
    lot = run_lottery(roster_dir, PLAN_PATH, "demo", tmp_path / "out")
    sheets = pl.read_excel(tmp_path / "out" / XLSX, sheet_id=0)
    assert next(iter(sheets)) == "总表" and len(sheets) == 14
    assert sheets["总表"]["考核组"].to_list() == lot.teams["team_id"].to_list()
    for team in lot.teams.iter_rows(named=True):
        name = next(s for s in sheets if s.startswith(team["team_id"] + " "))
        sheet = sheets[name]
        assert {"姓名", "单位", "层级", "角色"} <= set(sheet.columns)
        assert sheet.height == team["size"]
        assert sheet["角色"].to_list()[:2] == ["组长", "副组长"]


def test_roster_files_on_disk_load_and_draw(tmp_path: Path) -> None:
    """The inline roster passes the real reader, so the in-memory tests see what users see."""
    rows = roster_rows()
    roster = load_roster(write_roster(tmp_path / "roster", *rows))
    assert draw_lottery(roster, PLAN, "demo").members.equals(
        draw_lottery(ROSTER, PLAN, "demo").members)


# --------------------------------------------------------------------------- notebook helpers


def test_notebook_tables_and_figures() -> None:
    lot = draw_lottery(ROSTER, PLAN, "demo")
    table = assignment_table(lot)
    assert table.columns[:5] == ["考核组", "组长", "组长所在市", "副组长", "被考核市"]
    assert table.height == 13 and table["组长"].null_count() == 0
    flows = city_flows(lot)
    assert flows.height == 16 and set(flows["target_city"]) == set(CITIES)
    comp = composition(lot)
    sizes = comp.group_by("team_id").agg(pl.col("count").sum()).sort("team_id")
    assert sizes["count"].to_list() == lot.teams["size"].to_list()
    assert pairs_table(lot).height == lot.pairs.height
    summary = pairs_summary(lot)
    assert summary["入户小组数"].sum() == lot.pairs.height
    assert set(summary["未编入小组人数"].to_list()) <= {0, 1}
    assert dict(summary_table(lot).iter_rows())["抽签种子"] == "demo"
    assert len(figure_city_flows(lot).data) == 1
    assert [t.name for t in figure_composition(lot).data][:3] == ["县级", "乡镇级", "村级"]


def test_certificate_and_output_tables(tmp_path: Path) -> None:
    roster_dir = write_roster(tmp_path / "roster", *roster_rows())
    run_lottery(roster_dir, PLAN_PATH, "demo", tmp_path / "out")
    facts = dict(certificate_table(read_certificate(tmp_path / "out")).iter_rows())
    assert facts["抽签规程"] == "lottery-prn-v1" and facts["随机种子"] == "demo"
    assert "名单 assessors.csv SHA-256" in facts
    assert output_table(tmp_path / "out")["文件"].to_list() == [
        XLSX, "teams.csv", "members.csv", "pairs.csv", "certificate.json"]


def test_notebook_is_thin_parameterised_and_without_outputs() -> None:
    nb = json.loads((Path(__file__).parent.parent / "notebooks" / "lottery.ipynb")
                    .read_text(encoding="utf-8"))
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    params = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1
    assert re.fullmatch(r'run_dir: str = ""  # .+', "".join(params[0]["source"]))
    for c in cells:
        if c["cell_type"] == "code":
            assert c["outputs"] == [] and c["execution_count"] is None
            code = "".join(c["source"])
            assert not re.search(r"^\s*(def|class|for|while) ", code, re.MULTILINE), code


def test_verify_reports_a_missing_roster(tmp_path: Path) -> None:
    """Deleting a run's roster makes verification fail with a clear input error."""
    roster_dir = write_roster(tmp_path / "roster", *roster_rows())
    run_lottery(roster_dir, PLAN_PATH, "demo", tmp_path / "out")
    shutil.rmtree(roster_dir)
    with pytest.raises(InputError, match="roster directory"):
        verify_lottery(tmp_path / "out")


# --------------------------------------------------------------------------- roster rules


def _edit(rows: tuple[Rows, Rows], change: Any) -> tuple[Rows, Rows]:
    cities, people = rows
    return cities, change([dict(p) for p in people])


def _drop_one(people: Rows) -> Rows:
    return [p for p in people if p["person_id"] != "C00S32"]


def _one_unit(people: Rows) -> Rows:
    for p in people:
        if p["person_id"] in ("PD00", "PD01"):
            p["unit"] = "省教育厅"
    return people


def _blank_department(people: Rows) -> Rows:
    for p in people:
        if p["person_id"] in ("C03S05", "PO02"):
            p["department"] = None
    return people


@pytest.mark.parametrize(("plan", "rows", "match"), [
    pytest.param(PLAN, _edit(roster_rows(), _drop_one),
                 r"rule 'each city sends 34 people \(teams.assessors_per_city\)': 合肥 sends 33",
                 id="a-city-sends-33"),
    pytest.param(PLAN, _edit(roster_rows(), lambda p: [*p, person("X1", "淮南", "city", "staff")]),
                 r"each city sends 34 people.*淮南 sends 35", id="a-city-sends-35"),
    pytest.param(PLAN, _edit(roster_rows(), _one_unit),
                 r"rule 'one division-level cadre per provincial member unit "
                 r"\(teams.one_cadre_per_unit\)': 省教育厅 sends 2 \(PD00, PD01\)",
                 id="two-cadres-of-one-unit"),
    pytest.param(PLAN, _edit(roster_rows(), _blank_department),
                 r"rule 'every member's department is recorded \(teams.department_required\)': "
                 r"assessors.csv has no department \[部门\] in 2 of 574 rows: row \d+ \(C03S05\); "
                 r"row \d+ \(PO02\)", id="departments-missing"),
    pytest.param(PLAN, _edit(roster_rows(), lambda ps: [
        {k: v for k, v in p.items() if k != "department"} for p in ps]),
                 r"assessors.csv has no column department \[部门\]", id="no-department-column"),
])
def test_rosters_breaking_the_roster_rules_are_refused(plan: Plan, rows: tuple[Rows, Rows],
                                                       match: str) -> None:
    cities, people = rows
    columns = {c for p in people for c in p}
    schema = {c: pl.String for c in PEOPLE_SCHEMA if c in columns}
    roster = Roster(
        pl.DataFrame(cities, schema={"city_name": pl.String, "target_group": pl.String,
                                     "counties_assessed": pl.Int64}),
        pl.DataFrame(people, schema=schema).with_row_index("_row", offset=2),
    )
    with pytest.raises(RuleError, match=match):
        draw_lottery(roster, plan, "demo")


def test_roster_rules_off_in_the_plan_let_the_draw_go_on() -> None:
    rows = _edit(roster_rows(), lambda ps: _one_unit(_blank_department(ps)))
    plan = with_teams(PLAN, one_cadre_per_unit=False, department_required=False)
    check_rules(draw_lottery(as_roster(*rows), plan, "demo"), *rows, plan)


def test_the_synthetic_roster_keeps_every_roster_rule() -> None:
    from xkaohe.synth.frame import synthesize_frame, synthesize_roster

    frame = synthesize_frame("small", "demo")
    tables = synthesize_roster(frame["counties"], "demo")
    roster = Roster(tables["cities"], tables["assessors"], liaisons=tables["liaisons"])
    assert roster_violations(roster, PLAN.teams) == []
    assert tables["assessors"]["department"].null_count() == 0
    draw_lottery(roster, PLAN, "demo")


# --------------------------------------------------------------------------- liaisons


def liaison_rows(cities: Rows) -> Rows:
    """One city liaison and one per county assessed, as the plan asks (四(二))."""
    rows: Rows = []
    for i, c in enumerate(cities):
        rows.append({"city_name": c["city_name"], "county_code": None, "name": f"市联络员{i}",
                     "phone": f"1390000{i:04d}"})
        rows += [{"city_name": c["city_name"], "county_code": f"34{i:02d}{k:02d}",
                  "name": f"县联络员{i}-{k}", "phone": f"1380000{i:02d}{k:02d}"}
                 for k in range(c["counties_assessed"])]
    return rows


LIAISON_SCHEMA = {"city_name": pl.String, "county_code": pl.String, "name": pl.String,
                  "phone": pl.String}


def test_liaisons_are_checked_and_printed_in_the_team_lists(tmp_path: Path) -> None:
    cities, people = roster_rows()
    liaisons = liaison_rows(cities)
    broken = [r for r in liaisons if r["name"] not in ("市联络员0", "县联络员3-0")]
    roster = Roster(as_roster(cities, people).cities, as_roster(cities, people).assessors,
                    liaisons=pl.DataFrame(broken, schema=LIAISON_SCHEMA))
    with pytest.raises(RuleError, match=r"rule 'the assessed city and each assessed county name a "
                       r"liaison \(liaisons.csv\)': 合肥 has 0 city liaisons.*淮南 has 2 county "
                       r"liaisons for 3 counties assessed"):
        draw_lottery(roster, PLAN, "demo")
    roster_dir = write_roster(tmp_path / "roster", cities, people)
    pl.DataFrame(liaisons, schema=LIAISON_SCHEMA).write_csv(roster_dir / "liaisons.csv")
    lot = run_lottery(roster_dir, PLAN_PATH, "demo", tmp_path / "out")
    assert "liaisons" in read_certificate(tmp_path / "out")["roster"]["files"]
    sheets = pl.read_excel(tmp_path / "out" / XLSX, sheet_id=0)
    assert list(sheets)[:2] == ["总表", "联络员"] and len(sheets) == 15
    table = sheets["联络员"]
    assert table.height == len(liaisons)
    hefei = lot.teams.filter(pl.col("target_cities") == "合肥")["team_id"].item()
    first = table.filter(pl.col("被考核市") == "合肥").row(0, named=True)
    assert (first["考核组"], first["层级"], first["联络员"], str(first["联系电话"])) == (
        hefei, "市", "市联络员0", "13900000000")  # the teams' own papers: phones in full
    assert set(sheets["总表"]["重点部门人数"]) <= set(range(40))
    team_sheet = next(v for k, v in sheets.items() if k.startswith("T01 "))
    assert "部门" in team_sheet.columns and team_sheet["部门"].null_count() == 0


def test_liaisons_reading_names_file_row_and_column(tmp_path: Path) -> None:
    cities, people = roster_rows()
    roster_dir = write_roster(tmp_path / "roster", cities, people)
    rows = liaison_rows(cities)
    rows[3]["city_name"] = "火星"
    pl.DataFrame(rows, schema=LIAISON_SCHEMA).write_csv(roster_dir / "liaisons.csv")
    with pytest.raises(InputError, match=r"liaisons.csv, row 5, column 'city_name': expected a "
                       r"city listed in cities; found '火星'"):
        load_roster(roster_dir)


def test_a_report_masks_liaison_phones() -> None:
    from xkaohe.report.lottery import liaison_table

    cities, _ = roster_rows()
    lot = draw_lottery(ROSTER, PLAN, "demo")
    shown = liaison_table(lot, pl.DataFrame(liaison_rows(cities), schema=LIAISON_SCHEMA),
                          mask=True)
    assert not shown["联系电话"].str.contains(r"\d{11}").any()


# --------------------------------------------------------------------------- office_list


OFFICE = with_teams(PLAN, selection="office_list")
OFFICE_SCHEMA = {"team": pl.String, "person_id": pl.String, "role": pl.String}


def office_rows(plan: Plan = OFFICE, seed: str = "demo", drop: int = 0) -> tuple[Rows, Rows, Rows]:
    """A roster and an office list that fits the lot: leaders first, then the rest by target.

    The office names its 13 leaders (the directors of the first 13 cities) and
    learns each list's target with office_assignment; then it fills each list
    from the pool, as 六(一) has it. ``drop``: people left off the first list.
    """
    cities, people = roster_rows()
    leaders = [{"team": f"{c}组", "person_id": f"C{i:02d}D0", "role": "leader"}
               for i, c in enumerate(CITIES[:13])]
    roster = Roster(as_roster(cities, people).cities, as_roster(cities, people).assessors,
                    office_members=pl.DataFrame(leaders, schema=OFFICE_SCHEMA))
    target = office_assignment(roster, plan, seed)
    lot_teams = {t["team_id"]: t for t in draw_targets(cities, plan)}
    rows = list(leaders)
    used = {r["person_id"] for r in rows}
    free = {k: [p for p in people if p["kind"] == k] for k in ("division_cadre", "party_observer")}
    for n, lead in enumerate(leaders):
        team = lot_teams[target[lead["team"]]]
        rows.append({"team": lead["team"], "person_id": free["division_cadre"].pop()["person_id"],
                     "role": "deputy"})
        rows.append({"team": lead["team"], "person_id": free["party_observer"].pop()["person_id"],
                     "role": "observer"})
        ok = [p for p in people if p["kind"] == "staff" and p["person_id"] not in used
              and p["home_city"] not in team["cities"]]
        ok.sort(key=lambda p: (p["level"] == "city", p["person_id"]))  # grassroots first
        places = team["size"] - 3 - (drop if n == 0 else 0)
        for k, p in enumerate(ok[:places]):
            used.add(p["person_id"])
            rows.append({"team": lead["team"], "person_id": p["person_id"],
                         "role": "contact" if k == 0 else "member"})
    return cities, people, rows


def draw_targets(cities: Rows, plan: Plan) -> list[dict[str, Any]]:
    """Team id, target cities and plan size per target group, as the draw numbers them."""
    groups = sorted({c["target_group"] for c in cities}, key=lambda g: int(g[1:]))
    out = []
    for i, g in enumerate(groups, start=1):
        mine = [c for c in cities if c["target_group"] == g]
        n = sum(c["counties_assessed"] for c in mine)
        out.append({"team_id": f"T{i:02d}", "cities": {c["city_name"] for c in mine},
                    "size": plan.teams.size.for_counties(n)})
    return out


def office_roster(cities: Rows, people: Rows, rows: Rows) -> Roster:
    base = as_roster(cities, people)
    return Roster(base.cities, base.assessors,
                  office_members=pl.DataFrame(rows, schema=OFFICE_SCHEMA)
                  .with_row_index("_row", offset=2))


@pytest.mark.parametrize("seed", ["demo", "2019-11-23", "交叉考核"])
def test_office_lists_keep_every_rule_and_only_the_assignment_is_drawn(seed: str) -> None:
    cities, people, rows = office_rows(seed=seed)
    roster = office_roster(cities, people, rows)
    lot = draw_lottery(roster, OFFICE, seed)
    check_rules(lot, cities, people, OFFICE, roster)
    for team in lot.teams.iter_rows(named=True):  # the office's people, as it named them
        label = next(r["team"] for r in rows if r["person_id"] == team["leader_id"])
        named = {(r["person_id"], r["role"]) for r in rows if r["team"] == label}
        got = lot.members.filter(pl.col("team_id") == team["team_id"])
        assert set(got.select("person_id", "role").iter_rows()) == named
    # the assignment: target groups in prn order take the office's teams in prn order
    label_of = {r["person_id"]: r["team"] for r in rows if r["role"] == "leader"}
    drawn = {label_of[t["leader_id"]]: t["team_id"] for t in lot.teams.iter_rows(named=True)}
    assert drawn == office_assignment(office_roster(cities, people, rows), OFFICE, seed)


def test_office_assignment_by_hand() -> None:
    """Protocol: target groups in lottery-target order, office teams in lottery-team order."""
    cities, people, rows = office_rows()
    lot = draw_lottery(office_roster(cities, people, rows), OFFICE, "demo")
    group_of = {c["city_name"]: c["target_group"] for c in cities}
    home = {r["team"]: next(p["home_city"] for p in people if p["person_id"] == r["person_id"])
            for r in rows if r["role"] == "leader"}
    groups = sorted(set(group_of.values()), key=lambda g: (prn("demo", "lottery-target", g), g))
    labels = sorted(home, key=lambda t: (prn("demo", "lottery-team", t), t))
    first = next(t for t in labels if group_of[home[t]] != groups[0])
    team = lot.teams.row(by_predicate=pl.col("target_group") == groups[0], named=True)
    leader = next(r["person_id"] for r in rows if r["team"] == first and r["role"] == "leader")
    assert team["leader_id"] == leader and lot.leader_rejections == 0


def test_a_list_that_misfits_its_target_is_refused_with_the_assignment() -> None:
    cities, people, rows = office_rows(drop=1)
    with pytest.raises(RuleError, match=r"the lot assigned the office's teams \('.*组' -> T\d\d "
                       r"\(.*\).*\n.*the office's team '合肥组' \(drawn to assess team T\d\d .*\) "
                       r"lists \d+ people; rule 'team size follows the counties assessed "
                       r"\(teams.size\)' wants \d+"):
        draw_lottery(office_roster(cities, people, rows), OFFICE, "demo")


@pytest.mark.parametrize(("change", "match"), [
    pytest.param(lambda rows: [*rows, {"team": "合肥组", "person_id": "C13D0", "role": "leader"}],
                 r"team '合肥组' has 2 leader\(s\) C00D0, C13D0", id="two-leaders"),
    pytest.param(lambda rows: [r for r in rows if r["team"] != "黄山组"],
                 r"the plan has 13 teams; office_members.csv names 12", id="a-team-missing"),
    pytest.param(lambda rows: [{**r, "role": "member"} if r["role"] == "contact" else r
                               for r in rows],
                 r"team '.*' has 0 contact\(s\)", id="no-contact"),
    pytest.param(lambda rows: [{**r, "role": "member"} if r["role"] == "deputy" else r
                               for r in rows],
                 r"has 0 deputy\(s\) .*lists PD\d\d as member or contact", id="deputy-as-member"),
])
def test_broken_office_lists_are_refused(change: Any, match: str) -> None:
    cities, people, rows = office_rows()
    roster = office_roster(cities, people, change(rows))
    with pytest.raises(RuleError, match=r"rule 'the office names every team's members "
                       r"\(teams.selection: office_list\)': .*" + match):
        draw_lottery(roster, OFFICE, "demo")


def test_office_list_and_selection_must_agree() -> None:
    cities, people, rows = office_rows()
    with pytest.raises(RuleError, match=r"teams.selection is drawn but the roster gives "
                       r"office_members.csv"):
        draw_lottery(office_roster(cities, people, rows), PLAN, "demo")
    with pytest.raises(RuleError, match=r"teams.selection is office_list but the roster has no "
                       r"office_members.csv"):
        draw_lottery(ROSTER, OFFICE, "demo")


def test_office_list_run_and_verify_round_trip(tmp_path: Path) -> None:
    cities, people, rows = office_rows()
    roster_dir = write_roster(tmp_path / "roster", cities, people)
    pl.DataFrame(rows, schema=OFFICE_SCHEMA).write_csv(roster_dir / "office_members.csv")
    plan_path = tmp_path / "plan.yaml"
    plan_path.write_text(PLAN_PATH.read_text(encoding="utf-8").replace(
        "selection: drawn", "selection: office_list"), encoding="utf-8")
    out = tmp_path / "lottery"
    lot = run_lottery(roster_dir, plan_path, "demo", out)
    verify_lottery(out)
    cert = read_certificate(out)
    assert cert["rules"]["selection"] == "office_list"
    assert set(cert["office_teams"]) == {r["team"] for r in rows}
    assert set(cert["office_teams"].values()) == set(lot.teams["team_id"])
    path = roster_dir / "office_members.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([lines[0], *reversed(lines[1:])]), encoding="utf-8")
    with pytest.raises(VerificationError, match=r"office_members.csv: expected sha256 .*changed"):
        verify_lottery(out)


def test_office_list_reading_names_file_row_and_column(tmp_path: Path) -> None:
    from xkaohe.cli import main

    cities, people, rows = office_rows()
    roster_dir = write_roster(tmp_path / "roster", cities, people)
    rows[4] = {**rows[4], "person_id": "NOBODY"}
    rows[5] = {**rows[5], "role": "captain"}
    pl.DataFrame(rows, schema=OFFICE_SCHEMA).write_csv(roster_dir / "office_members.csv")
    with pytest.raises(InputError, match=r"office_members.csv, row 7, column 'role': "
                       r"expected one of .*组长.*; found 'captain'"):
        load_roster(roster_dir)
    rows[5] = {**rows[5], "role": "member"}
    pl.DataFrame(rows, schema=OFFICE_SCHEMA).write_csv(roster_dir / "office_members.csv")
    with pytest.raises(InputError, match=r"office_members.csv, row 6, column 'person_id': expected "
                       r"a person_id of assessors; found 'NOBODY'"):
        load_roster(roster_dir)
    args = ["lottery", "--roster", str(roster_dir), "--plan", str(PLAN_PATH), "--seed", "demo",
            "--out", str(tmp_path / "out")]
    assert main(args) == 2
