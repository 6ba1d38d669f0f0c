"""The sample draw against the normative protocol "prn-order-v1" (DESIGN.md).

Expected selections are derived here from the protocol text: by ranking
``prn`` values computed in the test, by frames built so that the answer is
forced, and (for the property tests) by a plain-Python reading of the
protocol's steps (``reference_villages``, ``reference_households``) that
shares no code with :mod:`xkaohe.draw.sampling`.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from framekit import households_of, make_frame, shuffled, with_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from xkaohe.draw.prn import prn
from xkaohe.draw.sampling import (
    SamplePackage,
    draw_sample,
    draw_villages,
    village_candidates,
)
from xkaohe.inputs import Frame
from xkaohe.io.plan_file import load_plan
from xkaohe.plan import Plan, parse_plan

PLAN_PATH = Path(__file__).parent.parent / "params" / "plan-2019.yaml"
PLAN = load_plan(PLAN_PATH)
SEED = "xk-test"
QUOTA_STATUSES = ("exited_2019", "exited_2016_2018", "new_2018_2019", "not_exited")
STATUSES = (*QUOTA_STATUSES, "relapsed")
PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def ranked(keys: list[str], stage: str, seed: str = SEED) -> list[str]:
    """``keys`` in the protocol's order: ascending prn, ties by key."""
    return sorted(keys, key=lambda k: (prn(seed, stage, k), k))


def plan_with(old: str, new: str) -> Plan:
    """The 2019 plan with one line of its YAML changed."""
    text = PLAN_PATH.read_text(encoding="utf-8")
    assert old in text
    return parse_plan(text.replace(old, new, 1))


def rows(df: pl.DataFrame, *cols: str) -> set[tuple[Any, ...]]:
    return set(df.select(cols).iter_rows())


def four_village_county(county: str = "C1", **county_cols: Any) -> dict[str, list[dict[str, Any]]]:
    """2 poor + 2 nonpoor_many_poor candidates in 4 townships (all sampled) and 2 others.

    Villages ``{county}P1, P2`` (poor), ``N1, N2`` (non-poor, many poor: the top
    half of the 4 non-poor), ``X1, X2`` (non-poor, few poor: never sampled).
    """
    vs = [{"village_code": f"{county}P{i}", "county_code": county, "is_poor_village": True}
          for i in (1, 2)]
    vs += [{"village_code": f"{county}N{i}", "county_code": county,
            "registered_poor_people": 100} for i in (1, 2)]
    vs += [{"village_code": f"{county}X{i}", "county_code": county,
            "registered_poor_people": 1} for i in (1, 2)]
    return {"villages": vs, "counties": [{"county_code": county, **county_cols}]}


# ------------------------------------------------------- reference readings


def reference_villages(frame: Frame, plan: Plan, seed: str) -> dict[str, dict[str, Any]]:
    """Village protocol steps 1-5, read literally; code -> row of the expected sample."""
    rules = plan.sampling.villages
    quota = {q.type: q.count for q in rules.quotas}
    order = [q.type for q in rules.quotas]
    out: dict[str, dict[str, Any]] = {}
    by_county: dict[str, list[dict[str, Any]]] = {}
    for v in frame.villages.iter_rows(named=True):
        by_county.setdefault(v["county_code"], []).append(v)
    for vs in by_county.values():
        n = len(vs)
        for v in vs:
            smaller = sum(u["distance_to_township_km"] < v["distance_to_township_km"] for u in vs)
            pct = smaller / (n - 1) if n > 1 else 0.0
            r = (pct + v["infrastructure_gap"] + v["public_service_gap"]) / 3
            v["w"] = 1 + rules.remoteness_tilt * r
            v["xi"] = prn(seed, "village", v["village_code"]) / v["w"]
            v["type"] = "poor" if v["is_poor_village"] else None
        nonpoor = sorted((v for v in vs if not v["is_poor_village"]),
                         key=lambda v: (-v["registered_poor_people"], v["village_code"]))
        for v in nonpoor[: math.ceil(len(nonpoor) * rules.many_poor_share)]:
            v["type"] = "nonpoor_many_poor"
        walk = sorted((v for v in vs if v["type"]), key=lambda v: (v["xi"], v["village_code"]))
        filled = dict.fromkeys(order, 0)
        used: set[str] = set()
        chosen: dict[str, dict[str, Any]] = {}

        def accept(v: dict[str, Any], slot: str, relaxed: bool, sub: str | None,
                   chosen: dict[str, dict[str, Any]] = chosen,
                   filled: dict[str, int] = filled, used: set[str] = used) -> None:
            chosen[v["village_code"]] = {**v, "relaxed_township": relaxed,
                                         "substituted_for": sub}
            filled[slot] += 1
            used.add(v["township_code"])

        for v in walk:  # step 3
            if all(filled[t] >= quota[t] for t in order):
                break
            if filled[v["type"]] < quota[v["type"]] and v["township_code"] not in used:
                accept(v, v["type"], False, None)
        for t in order:  # step 4
            for v in walk:
                if filled[t] < quota[t] and v["type"] == t and v["village_code"] not in chosen:
                    accept(v, t, True, None)
        for t in order:  # step 5
            for other in (o for o in order if o != t):
                for relaxed in (False, True):
                    for v in walk:
                        if (filled[t] < quota[t] and v["type"] == other
                                and v["village_code"] not in chosen
                                and (relaxed or v["township_code"] not in used)):
                            accept(v, t, relaxed, t)
        out.update(chosen)  # step 6 (inclusion probabilities): tests/test_inclusion.py
    return out


def reference_households(households: list[dict[str, Any]], plan: Plan,
                         seed: str) -> dict[str, str]:
    """Household protocol steps 1-3 for one village; household_id -> selected_as."""
    rules = plan.sampling.households

    def order(hs: list[dict[str, Any]]) -> list[str]:
        return ranked([h["household_id"] for h in hs], "household", seed)

    of = {s: order([h for h in households if h["status"] == s]) for s in STATUSES}
    picked: dict[str, str] = {}
    for q in rules.quotas:  # step 1
        for hid in of[q.status][: q.count]:
            picked[hid] = q.status
    for q in rules.quotas:  # step 2
        for sub in rules.substitutes.get(q.status, ()):
            for hid in of[sub]:
                if sum(s == q.status for s in picked.values()) >= q.count:
                    break
                if hid not in picked:
                    picked[hid] = q.status
    for status in rules.full_coverage:  # step 3
        for hid in of[status]:
            picked[hid] = status
    return picked


# --------------------------------------------------- villages: candidates


@pytest.mark.parametrize(
    ("poor_people", "expected"),
    [
        pytest.param([7], ["A"], id="m=1 takes 1"),
        pytest.param([7, 9], ["B"], id="m=2 takes 1"),
        pytest.param([7, 9, 8], ["B", "C"], id="m=3 takes 2"),
        pytest.param([1, 4, 3, 2], ["B", "C"], id="m=4 takes 2"),
        pytest.param([5, 5, 5, 5, 5], ["A", "B", "C"], id="all tied: code ascending"),
        pytest.param([50, 40, 30, 30, 10], ["A", "B", "C"], id="tie at the cut: code"),
        pytest.param([10, 30, 30, 40, 50], ["E", "D", "B"], id="tie at the cut reversed"),
    ],
)
def test_nonpoor_many_poor_candidates(poor_people: list[int], expected: list[str]) -> None:
    codes = "ABCDE"[: len(poor_people)]
    frame = make_frame(villages=[
        *({"village_code": c, "registered_poor_people": p} for c, p in zip(codes, poor_people,
                                                                           strict=True)),
        {"village_code": "P", "is_poor_village": True, "registered_poor_people": 1000},
        {"village_code": "Z", "county_code": "C2", "registered_poor_people": 1},
    ])
    cands = village_candidates(frame, PLAN, SEED)
    types = dict(cands.select("village_code", "village_type").iter_rows())
    assert types["P"] == "poor"  # poor = is_poor_village, whatever its poor people
    assert sorted(c for c, t in types.items() if t == "nonpoor_many_poor") == sorted(
        [*expected, "Z"])  # Z: the only non-poor village of its own county
    assert all(types[c] is None for c in codes if c not in expected)


def test_poor_candidates_are_the_poor_villages() -> None:
    frame = make_frame(villages=[
        {"village_code": "P1", "is_poor_village": True, "registered_poor_people": 0},
        {"village_code": "P2", "is_poor_village": True, "registered_poor_people": 500},
        {"village_code": "N1", "registered_poor_people": 900},
    ])
    types = dict(village_candidates(frame, PLAN, SEED)
                 .select("village_code", "village_type").iter_rows())
    assert types == {"P1": "poor", "P2": "poor", "N1": "nonpoor_many_poor"}


@pytest.mark.parametrize(
    ("villages", "expected_pct"),
    [
        pytest.param([(5.0, 0, 0), (1.0, 0, 0), (3.0, 0, 0), (3.0, 0, 0), (0.0, 0, 0)],
                     [1.0, 0.25, 0.5, 0.5, 0.0], id="ties share the strictly-smaller count"),
        pytest.param([(2.0, 0.6, 0.3)], [0.0], id="single village: 0"),
        pytest.param([(4.0, 0.0, 1.0), (4.0, 1.0, 0.0)], [0.0, 0.0], id="all equal: 0"),
        pytest.param([(9.0, 0.2, 0.4), (1.0, 1.0, 1.0), (2.5, 0.5, 0.0)], [1.0, 0.0, 0.5],
                     id="with gaps"),
    ],
)
@pytest.mark.parametrize("tilt", [0.0, 1.0, 2.5])
def test_remoteness_and_tilt_weight(villages: list[tuple[float, float, float]],
                                   expected_pct: list[float], tilt: float) -> None:
    plan = plan_with("remoteness_tilt: 1.0", f"remoteness_tilt: {tilt}")
    frame = make_frame(villages=[
        *({"village_code": f"V{i}", "distance_to_township_km": d, "infrastructure_gap": a,
           "public_service_gap": b, "is_poor_village": i % 2 == 0}
          for i, (d, a, b) in enumerate(villages)),
        # another county's villages never enter this county's percentile
        *({"village_code": f"Y{i}", "county_code": "C2", "distance_to_township_km": d}
          for i, d in enumerate([0.5, 3.0, 100.0])),
    ])
    cands = village_candidates(frame, plan, SEED)
    got = dict(cands.select("village_code", "tilt_weight").iter_rows())
    for i, ((_, a, b), pct) in enumerate(zip(villages, expected_pct, strict=True)):
        assert got[f"V{i}"] == pytest.approx(1 + tilt * (pct + a + b) / 3, rel=1e-12, abs=0)
    assert [got[f"Y{i}"] for i in range(3)] == pytest.approx(
        [1 + tilt * p / 3 for p in (0.0, 0.5, 1.0)], rel=1e-12)
    keys = cands.select("village_code", "prn", "xi").iter_rows()
    for code, p, xi in keys:
        assert p == prn(SEED, "village", code)
        assert xi == pytest.approx(p / got[code], rel=1e-12)


# --------------------------------------------------------- villages: walk


def sampled(frame: Frame, plan: Plan = PLAN, seed: str = SEED) -> dict[str, dict[str, Any]]:
    pkg = draw_sample(frame, plan, seed)
    return {r["village_code"]: r for r in pkg.villages.iter_rows(named=True)}


def test_walk_by_prn_with_distinct_townships() -> None:
    """Equal weights, so xi = prn: the walk goes down the prn ranking."""
    v = ranked([f"V{i}" for i in range(8)], "village")
    roles = [("poor", "T1"), ("poor", "T1"), ("np", "T2"), ("np", "T1"),
             ("poor", "T3"), ("np", "T4"), ("poor", "T5"), ("np", "T6")]
    frame = make_frame(villages=[
        *({"village_code": code, "township_code": town, "is_poor_village": kind == "poor",
           "registered_poor_people": 100} for code, (kind, town) in zip(v, roles, strict=True)),
        *({"village_code": f"X{i}", "registered_poor_people": 1} for i in range(4)),
    ])
    got = sampled(frame)
    # v1 (poor) and v3 (np) are skipped: township T1 is taken by v0.
    assert set(got) == {v[0], v[2], v[4], v[5]}
    assert {c: r["village_type"] for c, r in got.items()} == {
        v[0]: "poor", v[2]: "nonpoor_many_poor", v[4]: "poor", v[5]: "nonpoor_many_poor"}
    assert all(r["relaxed_township"] is False for r in got.values())
    assert all(r["substituted_for"] in (None, "") for r in got.values())
    assert all(r["prn"] == prn(SEED, "village", c) for c, r in got.items())


TILTED = [  # code, distance, infrastructure gap, public service gap
    ("W3", 0.0, 0.0, 0.0), ("W8", 0.0, 0.0, 0.0),
    ("W2", 9.0, 1.0, 1.0), ("W5", 0.0, 0.5, 0.5), ("W6", 0.0, 1.0, 1.0),
]


def tilted_frame() -> Frame:
    return make_frame(villages=[
        {"village_code": c, "is_poor_village": True, "distance_to_township_km": d,
         "infrastructure_gap": a, "public_service_gap": b} for c, d, a, b in TILTED])


@pytest.mark.parametrize("tilt", [0.0, 1.0, 3.0])
def test_walk_by_tilted_key(tilt: float) -> None:
    """The two poor villages with smallest xi = prn / (1 + tilt * r)."""
    plan = plan_with("remoteness_tilt: 1.0", f"remoteness_tilt: {tilt}")
    n = len(TILTED)

    def xi(code: str, d: float, a: float, b: float) -> float:
        pct = sum(d2 < d for _, d2, _, _ in TILTED) / (n - 1)
        return prn(SEED, "village", code) / (1 + tilt * (pct + a + b) / 3)

    order = sorted(TILTED, key=lambda t: (xi(*t), t[0]))
    got = sampled(tilted_frame(), plan)
    poor_rows = {c for c, r in got.items() if r["substituted_for"] in (None, "")}
    assert poor_rows == {order[0][0], order[1][0]}
    # no non-poor villages: the next two by xi substitute for nonpoor_many_poor
    subs = {c for c, r in got.items() if r["substituted_for"] == "nonpoor_many_poor"}
    assert subs == {order[2][0], order[3][0]}


def test_tilt_changes_the_choice_in_this_fixture() -> None:
    """Guard for the test above: with tilt the key is not just prn."""
    flat = sampled(tilted_frame(), plan_with("remoteness_tilt: 1.0", "remoteness_tilt: 0.0"))
    tilted = sampled(tilted_frame())
    first = {c for c, r in flat.items() if not r["substituted_for"]}
    assert first != {c for c, r in tilted.items() if not r["substituted_for"]}


def test_relaxed_township_when_a_type_shares_one_township() -> None:
    v = ranked(["A", "B", "C"], "village")
    frame = make_frame(villages=[
        *({"village_code": c, "is_poor_village": True, "township_code": "T1"} for c in v),
        {"village_code": "N1", "registered_poor_people": 9, "township_code": "T2"},
        {"village_code": "N2", "registered_poor_people": 9, "township_code": "T3"},
        {"village_code": "X1", "registered_poor_people": 1, "township_code": "T1"},
        {"village_code": "X2", "registered_poor_people": 1, "township_code": "T4"},
    ])
    got = sampled(frame)
    assert set(got) == {v[0], v[1], "N1", "N2"}
    assert {c: r["relaxed_township"] for c, r in got.items()} == {
        v[0]: False, v[1]: True, "N1": False, "N2": False}
    assert got[v[1]]["village_type"] == "poor"
    assert all(r["substituted_for"] in (None, "") for r in got.values())


def test_relaxed_township_across_types() -> None:
    """Each township holds one poor and one nonpoor candidate: the later one by prn
    finds its township taken in step 3 and is accepted by the relaxed walk of step 4."""
    pairs = {"T1": ("P1", "N1"), "T2": ("P2", "N2")}
    frame = make_frame(villages=[
        *({"village_code": p, "is_poor_village": True, "township_code": t}
          for t, (p, _) in pairs.items()),
        *({"village_code": n, "registered_poor_people": 9, "township_code": t}
          for t, (_, n) in pairs.items()),
        {"village_code": "X1", "registered_poor_people": 1},
        {"village_code": "X2", "registered_poor_people": 1},
    ])
    got = sampled(frame)
    later = {ranked(list(pair), "village")[1] for pair in pairs.values()}
    assert {c: r["relaxed_township"] for c, r in got.items()} == {
        c: c in later for c in ("P1", "P2", "N1", "N2")}
    assert {c: r["village_type"] for c, r in got.items()} == {
        "P1": "poor", "P2": "poor", "N1": "nonpoor_many_poor", "N2": "nonpoor_many_poor"}


def test_county_without_poor_villages_substitutes() -> None:
    n = ranked([f"N{i}" for i in range(5)], "village")
    frame = make_frame(villages=[
        *({"village_code": c, "registered_poor_people": 50} for c in n),
        *({"village_code": f"X{i}", "registered_poor_people": 1} for i in range(5)),
    ])
    got = sampled(frame)
    assert set(got) == set(n[:4])
    assert all(got[c]["village_type"] == "nonpoor_many_poor" for c in n[:4])
    assert [got[c]["substituted_for"] in (None, "") for c in n[:2]] == [True, True]
    assert [got[c]["substituted_for"] for c in n[2:4]] == ["poor", "poor"]
    assert not any(r["relaxed_township"] for r in got.values())


def test_substitute_with_shared_township_is_relaxed() -> None:
    """Step 5 walks distinct townships first, then relaxed."""
    n = ranked([f"N{i}" for i in range(4)], "village")
    towns = {n[0]: "T1", n[1]: "T2", n[2]: "T1", n[3]: "T3"}
    frame = make_frame(villages=[
        *({"village_code": c, "registered_poor_people": 50, "township_code": towns[c]}
          for c in n),
        *({"village_code": f"X{i}", "registered_poor_people": 1} for i in range(4)),
    ])
    got = sampled(frame)
    assert set(got) == set(n)
    # step 3 takes n0, n1; step 5 distinct walk takes n3 (T3), relaxed walk takes n2 (T1)
    assert {c: (r["substituted_for"] or None, r["relaxed_township"]) for c, r in got.items()} == {
        n[0]: (None, False), n[1]: (None, False), n[3]: ("poor", False), n[2]: ("poor", True)}


def test_poor_county_substitutes_for_nonpoor_many_poor() -> None:
    p = ranked([f"P{i}" for i in range(5)], "village")
    frame = make_frame(villages=[{"village_code": c, "is_poor_village": True} for c in p])
    got = sampled(frame)
    assert set(got) == set(p[:4])
    assert all(got[c]["village_type"] == "poor" for c in p[:4])
    assert [got[c]["substituted_for"] or None for c in p[:4]] == [
        None, None, "nonpoor_many_poor", "nonpoor_many_poor"]


@pytest.mark.parametrize(
    ("n_poor", "n_nonpoor", "expected"),
    [
        pytest.param(1, 2, {"poor": 1, "nonpoor_many_poor": 1}, id="1 poor, 1 candidate"),
        pytest.param(1, 0, {"poor": 1}, id="1 poor only"),
        pytest.param(0, 1, {"nonpoor_many_poor": 1}, id="1 non-poor only"),
        pytest.param(1, 6, {"poor": 1, "nonpoor_many_poor": 3}, id="1 poor, 3 candidates"),
        pytest.param(0, 0, {}, id="no villages"),
    ],
)
def test_too_few_candidates(n_poor: int, n_nonpoor: int, expected: dict[str, int]) -> None:
    frame = make_frame(
        villages=[
            *({"village_code": f"P{i}", "is_poor_village": True} for i in range(n_poor)),
            *({"village_code": f"N{i}", "registered_poor_people": 10 + i}
              for i in range(n_nonpoor)),
            {"village_code": "Z1", "county_code": "C2", "is_poor_village": True},
        ],
        counties=[{"county_code": "C1"}, {"county_code": "C2"}],
    )
    got = draw_sample(frame, PLAN, SEED).villages.filter(pl.col("county_code") == "C1")
    assert dict(Counter(got["village_type"].to_list())) == expected
    # substitutes fill the short type from the other one, never beyond 2 + 2
    if n_poor == 1 and n_nonpoor == 6:
        subs = got.filter(pl.col("substituted_for") == "poor")
        assert subs.height == 1
        assert subs["village_type"].to_list() == ["nonpoor_many_poor"]


def test_single_village_county() -> None:
    frame = make_frame(villages=[{"village_code": "V", "is_poor_village": True,
                                  "infrastructure_gap": 0.9, "distance_to_township_km": 7.0}])
    got = sampled(frame)
    assert list(got) == ["V"]
    row = got["V"]
    assert row["tilt_weight"] == pytest.approx(1 + (0.0 + 0.9 + 0.0) / 3, rel=1e-12)
    assert row["inclusion_prob"] == 1.0
    assert row["relaxed_township"] is False
    assert row["substituted_for"] in (None, "")


def test_inclusion_probability() -> None:
    """Known answers: without tilt, 2 of 4 poor villages in 4 townships (by symmetry 1/2 each);
    both nonpoor_many_poor candidates always; the few-poor villages never (not candidates)."""
    frame = make_frame(villages=[
        *({"village_code": f"P{i}", "is_poor_village": True} for i in range(4)),
        *({"village_code": f"N{i}", "registered_poor_people": 9} for i in range(2)),
        *({"village_code": f"X{i}", "registered_poor_people": 1} for i in range(2)),
    ])
    got = sampled(frame, plan_with("remoteness_tilt: 1.0", "remoteness_tilt: 0.0"))
    assert len(got) == 4
    replicates = PLAN.sampling.villages.inclusion_replicates
    for code, r in got.items():
        if code.startswith("N"):
            assert r["inclusion_prob"] == 1.0
            assert r["inclusion_prob_se"] == 0.0
        else:
            assert r["inclusion_prob_se"] == pytest.approx(
                math.sqrt(r["inclusion_prob"] * (1 - r["inclusion_prob"]) / replicates))
            assert abs(r["inclusion_prob"] - 0.5) < 4 * r["inclusion_prob_se"]


ONE_TYPE_COUNTY = [  # only poor candidates, one remote: 4 of 6 drawn (2 as substitutes)
    *({"village_code": f"V{i}", "is_poor_village": True} for i in range(5)),
    {"village_code": "V5", "is_poor_village": True, "infrastructure_gap": 1.0,
     "public_service_gap": 0.25},
]


@pytest.mark.parametrize(
    "other",
    [
        pytest.param("village added to an empty county", id="village added elsewhere"),
        pytest.param("county drawn alone", id="drawn alone with county_codes"),
    ],
)
def test_inclusion_prob_does_not_depend_on_other_counties(other: str) -> None:
    """Step 6 is per county: another county's villages cannot change C1's numbers."""
    frame = make_frame(villages=ONE_TYPE_COUNTY,
                       counties=[{"county_code": "C1"}, {"county_code": "C2"}])
    alone = draw_sample(frame, PLAN, SEED).villages
    if other == "county drawn alone":
        frame = make_frame(villages=[*ONE_TYPE_COUNTY,
                                     {"village_code": "W0", "county_code": "C2"}])
        with_other = draw_sample(frame, PLAN, SEED).villages
        alone = draw_sample(frame, PLAN, SEED, county_codes=["C1"]).villages
    else:
        with_other = draw_sample(with_rows(frame, villages=[
            {"village_code": "W0", "county_code": "C2"}]), PLAN, SEED).villages
    with_other = with_other.filter(pl.col("county_code") == "C1")
    assert alone.height == 4
    assert alone["inclusion_prob"].max() < 1  # not trivial: 4 of 6
    assert_frame_equal(alone, with_other, check_exact=True)  # bit for bit


def test_tilt_weight_does_not_depend_on_other_counties() -> None:
    frame = make_frame(villages=[
        {"village_code": "A", "infrastructure_gap": 1.0, "public_service_gap": 0.25},
        {"village_code": "B", "county_code": "C2"},
    ])
    alone = draw_sample(frame, PLAN, SEED, county_codes=["C1"]).villages
    whole = draw_sample(frame, PLAN, SEED).villages.filter(pl.col("county_code") == "C1")
    for df in (alone, whole):
        assert df["tilt_weight"][0] == pytest.approx(1 + (0 + 1.0 + 0.25) / 3, rel=1e-15)
    assert alone["tilt_weight"][0] == whole["tilt_weight"][0]  # bit for bit


def test_villages_of_each_county_are_drawn_separately() -> None:
    tables: dict[str, list[dict[str, Any]]] = {"villages": [], "counties": []}
    for county in ("C1", "C2", "C3"):
        part = four_village_county(county)
        tables["villages"] += part["villages"]
        tables["counties"] += part["counties"]
    got = draw_sample(make_frame(**tables), PLAN, SEED).villages
    for county in ("C1", "C2", "C3"):
        assert set(got.filter(pl.col("county_code") == county)["village_code"]) == {
            f"{county}{x}" for x in ("P1", "P2", "N1", "N2")}


def test_draw_villages_step_function_agrees_with_reference() -> None:
    frame = make_frame(villages=[
        {"village_code": f"V{i:02d}", "is_poor_village": i % 3 == 0,
         "registered_poor_people": i % 5, "township_code": f"T{i % 4}",
         "distance_to_township_km": float(i % 6), "infrastructure_gap": (i % 4) / 4,
         "public_service_gap": (i % 3) / 3} for i in range(20)])
    got = draw_villages(village_candidates(frame, PLAN, SEED), PLAN, SEED)
    assert_matches_reference_villages(got, frame)


# -------------------------------------------------------------- households


def one_village(households: list[dict[str, Any]]) -> Frame:
    return make_frame(villages=[{"village_code": "V", "is_poor_village": True}],
                      households=households)


def quota_rows(pkg: SamplePackage) -> set[tuple[str, str, str]]:
    """(household_id, status, selected_as) of every row that is not group census."""
    return rows(pkg.households.filter(pl.col("selected_as") != "group_census"),
                "household_id", "status", "selected_as")


def test_household_quotas_take_smallest_prn() -> None:
    counts = {"exited_2019": 7, "exited_2016_2018": 6, "new_2018_2019": 3, "not_exited": 5,
              "relapsed": 2}
    hh = [h for s, n in counts.items() for h in households_of("V", s, n)]
    pkg = draw_sample(one_village(hh), PLAN, SEED)
    expected = set()
    for status, k in [("exited_2019", 4), ("exited_2016_2018", 4), ("new_2018_2019", 2),
                      ("not_exited", 2), ("relapsed", 2)]:
        ids = ranked([h["household_id"] for h in hh if h["status"] == status], "household")
        expected |= {(i, status, status) for i in ids[:k]}
    assert quota_rows(pkg) == expected
    for hid, p in pkg.households.select("household_id", "prn").iter_rows():
        assert p == prn(SEED, "household", hid)


E19, E1618, NEW, NOT, REL = STATUSES


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        pytest.param(
            {E19: 4, E1618: 6, NEW: 0, NOT: 3},
            {NEW: [(NOT, 2), (E1618, 4)]},
            id="no new_2018_2019: not_exited then exited_2016_2018"),
        pytest.param(
            {E19: 4, E1618: 6, NEW: 3, NOT: 0},
            {NOT: [(NEW, 2), (E1618, 4)]},
            id="no not_exited: new_2018_2019 then exited_2016_2018"),
        pytest.param(
            {E19: 1, E1618: 7, NEW: 2, NOT: 2},
            {E19: [(E1618, 4), (E1618, 5), (E1618, 6)]},
            id="few exited_2019: exited_2016_2018"),
        pytest.param(
            {E19: 0, E1618: 9, NEW: 0, NOT: 0},
            {E19: [(E1618, 4), (E1618, 5), (E1618, 6), (E1618, 7)], NEW: [(E1618, 8)]},
            id="plan order: exited_2019 first, then new_2018_2019, not_exited last"),
        pytest.param(
            {E19: 4, E1618: 5, NEW: 0, NOT: 0},
            {NEW: [(E1618, 4)]},
            id="plan order: new_2018_2019 before not_exited"),
        pytest.param(
            {E19: 4, E1618: 4, NEW: 5, NOT: 0},
            {NOT: [(NEW, 2), (NEW, 3)]},
            id="first substitute suffices"),
        pytest.param(
            {E19: 4, E1618: 4, NEW: 0, NOT: 1},
            {},
            id="nothing left to substitute"),
        pytest.param(
            {E19: 0, E1618: 0, NEW: 0, NOT: 0, REL: 3},
            {},
            id="only relapsed"),
    ],
)
def test_household_substitutions(counts: dict[str, int],
                                 expected: dict[str, list[tuple[str, int]]]) -> None:
    """``expected``: per quota, the substitutes as (own status, rank by prn within it)."""
    hh = [h for s, n in counts.items() for h in households_of("V", s, n)]
    order = {s: ranked([h["household_id"] for h in hh if h["status"] == s], "household")
             for s in STATUSES}
    own_quota = {E19: 4, E1618: 4, NEW: 2, NOT: 2}
    want = {(i, s, s) for s, k in own_quota.items() for i in order[s][:k]}
    want |= {(i, REL, REL) for i in order[REL]}
    want |= {(order[own][rank], own, quota) for quota, subs in expected.items()
             for own, rank in subs}
    pkg = draw_sample(one_village(hh), PLAN, SEED)
    assert quota_rows(pkg) == want
    assert pkg.households["household_id"].is_unique().all()


def test_every_relapsed_household_once() -> None:
    """Relapsed households are covered in full and never serve as substitutes."""
    hh = [*households_of("V", REL, 9), *households_of("V", E19, 2)]
    pkg = draw_sample(one_village(hh), PLAN, SEED)
    got = pkg.households.filter(pl.col("status") == REL)
    assert sorted(got["household_id"]) == sorted(h["household_id"] for h in hh
                                                 if h["status"] == REL)
    assert set(got["selected_as"]) == {REL}
    assert pkg.households["household_id"].is_unique().all()


def test_households_drawn_per_village() -> None:
    part = four_village_county()
    hh = [h for v in part["villages"] for s in QUOTA_STATUSES
          for h in households_of(v["village_code"], s, 5)]
    pkg = draw_sample(make_frame(households=hh, **part), PLAN, SEED)
    quota = {E19: 4, E1618: 4, NEW: 2, NOT: 2}
    for v in ("C1P1", "C1P2", "C1N1", "C1N2"):
        got = pkg.households.filter((pl.col("village_code") == v)
                                    & (pl.col("selected_as") != "group_census"))
        for s, k in quota.items():
            ids = ranked([h["household_id"] for h in hh
                          if h["village_code"] == v and h["status"] == s], "household")
            assert set(got.filter(pl.col("selected_as") == s)["household_id"]) == set(ids[:k])
    assert pkg.households.filter(pl.col("village_code").str.contains("X")).height == 0


# ---------------------------------------------------------- villager groups


def group_village_county(villages: list[dict[str, Any]]) -> tuple[Frame, dict[str, list[str]]]:
    """Each village gets 6 exited_2019 households: ranks 0,1,4 in group 1, ranks 2,3,5 in 2.

    Ranks 0-3 fill the exited_2019 quota; ranks 4 and 5 are selected only by a census.
    """
    hh: list[dict[str, Any]] = []
    ranks: dict[str, list[str]] = {}
    for v in villages:
        code = v["village_code"]
        mine = households_of(code, E19, 6)
        ranks[code] = ranked([h["household_id"] for h in mine], "household")
        group = dict(zip(ranks[code], ["1", "1", "2", "2", "1", "2"], strict=True))
        hh += [{**h, "villager_group": group[h["household_id"]]} for h in mine]
    return make_frame(villages=villages, households=hh), ranks


@pytest.mark.parametrize(
    ("villages", "kinds"),
    [
        pytest.param(four_village_county()["villages"], {True: ["C1P1", "C1P2"],
                                                         False: ["C1N1", "C1N2"]},
                     id="two poor, two non-poor"),
        pytest.param([{"village_code": f"P{i}", "is_poor_village": True} for i in range(5)],
                     {True: None}, id="only poor villages sampled"),
        pytest.param([{"village_code": "P0", "is_poor_village": True},
                      *({"village_code": f"N{i}", "registered_poor_people": 9} for i in range(3)),
                      *({"village_code": f"X{i}", "registered_poor_people": 1}
                        for i in range(3))],
                     {True: ["P0"], False: ["N0", "N1", "N2"]},
                     id="a substitute counts by is_poor_village"),
    ],
)
def test_villager_group_census(villages: list[dict[str, Any]],
                               kinds: dict[bool, list[str] | None]) -> None:
    frame, ranks = group_village_county(villages)
    pkg = draw_sample(frame, PLAN, SEED)
    sampled_codes = pkg.villages["village_code"].to_list()
    poor_of = dict(frame.villages.select("village_code", "is_poor_village").iter_rows())
    expected_groups = set()
    for is_poor, among in kinds.items():
        among = among or [c for c in sampled_codes if poor_of[c] == is_poor]
        assert set(among) <= set(sampled_codes)
        village = ranked(among, "group-village")[0]
        group = min(["1", "2"], key=lambda g: (prn(SEED, "group", f"{village}/{g}"), g))
        expected_groups.add((village, group))
    assert rows(pkg.villager_groups, "village_code", "villager_group") == expected_groups
    vtype = dict(pkg.villages.select("village_code", "village_type").iter_rows())
    for v, _ in expected_groups:
        row = pkg.villager_groups.filter(pl.col("village_code") == v).row(0, named=True)
        assert row["village_type"] == vtype[v]
        assert row["county_code"] == "C1"

    got = dict(pkg.households.select("household_id", "selected_as").iter_rows())
    assert pkg.households["household_id"].is_unique().all()
    for code in sampled_codes:
        r = ranks[code]
        census = [g for v, g in expected_groups if v == code]
        assert all(got[h] == E19 for h in r[:4])  # quota rows keep their selected_as
        in_census = {"1": [r[4]], "2": [r[5]]}[census[0]] if census else []
        assert {h for h in r[4:] if h in got} == set(in_census)
        assert all(got[h] == "group_census" for h in in_census)


# ---------------------------------------------------------------- projects


def project_frame(**county_cols: Any) -> tuple[Frame, dict[str, list[str]]]:
    part = four_village_county(**county_cols)
    ids: dict[str, list[str]] = {"county": [f"CP{i}" for i in range(6)]}
    projects = [{"project_id": p, "county_code": "C1", "kind": "county"} for p in ids["county"]]
    layout = {"C1P1": (3, 2), "C1P2": (0, 3), "C1N1": (3, 0), "C1N2": (1, 1), "C1X1": (2, 2)}
    for v, (n_village, n_policy) in layout.items():
        for kind, n in (("village", n_village), ("household_policy", n_policy)):
            ids[f"{v}/{kind}"] = [f"{v}-{kind[:3]}{i}" for i in range(n)]
            projects += [{"project_id": p, "county_code": "C1", "village_code": v, "kind": kind}
                         for p in ids[f"{v}/{kind}"]]
    ids["paired"] = [f"PC{i}" for i in range(6)]
    projects += [{"project_id": p, "county_code": "C1", "kind": "paired_cooperation"}
                 for p in ids["paired"]]
    return make_frame(projects=projects, **part), ids


def test_county_and_village_projects() -> None:
    frame, ids = project_frame()
    pkg = draw_sample(frame, PLAN, SEED)

    def smallest(key: str, k: int) -> list[str]:
        return ranked(ids[key], "project")[:k]

    expected = {
        *smallest("county", 4),
        *smallest("C1P1/village", 1), *smallest("C1P1/household_policy", 1),
        *smallest("C1P2/household_policy", 2),  # no village project: 2 household_policy
        *smallest("C1N1/village", 2),  # no household_policy project: 2 village
        *ids["C1N2/village"], *ids["C1N2/household_policy"],
    }  # C1X1 is not sampled: none of its projects
    assert set(pkg.projects["project_id"]) == expected
    assert pkg.projects["project_id"].is_unique().all()
    for pid, kind, p in pkg.projects.select("project_id", "kind", "prn").iter_rows():
        assert p == prn(SEED, "project", pid)
        assert kind == ("county" if pid.startswith("CP") else
                        "village" if "-vil" in pid else "household_policy")
    assert set(pkg.projects["county_code"]) == {"C1"}
    assert pkg.project_households.height == 0


@pytest.mark.parametrize(
    ("national", "helper", "paired"),
    [
        pytest.param(True, "H01", True, id="national poverty county with a helper county"),
        pytest.param(True, None, False, id="national poverty county, not paired"),
        pytest.param(False, "H01", False, id="helper named but not a national poverty county"),
        pytest.param(False, None, False, id="neither"),
    ],
)
def test_paired_cooperation_projects(national: bool, helper: str | None, paired: bool) -> None:
    frame, ids = project_frame(national_poverty_county=national, paired_helper_county=helper)
    got = draw_sample(frame, PLAN, SEED).projects.filter(pl.col("kind") == "paired_cooperation")
    expected = set(ranked(ids["paired"], "project")[:4]) if paired else set()
    assert set(got["project_id"]) == expected


def test_beneficiaries_to_visit() -> None:
    """3 smallest prn('beneficiary', project/household), all if fewer; flag fewer than 2."""
    sizes = {"C1": [5, 2, 1, 0], "C2": [3, 4, 7, 2]}
    tables: dict[str, list[dict[str, Any]]] = {"villages": [], "counties": [], "households": [],
                                               "projects": [], "beneficiaries": []}
    for county, ns in sizes.items():
        part = four_village_county(county, national_poverty_county=True,
                                   paired_helper_county="H")
        tables["villages"] += part["villages"]
        tables["counties"] += part["counties"]
        hh = households_of(f"{county}X1", E19, 10)  # a village that is never sampled
        tables["households"] += hh
        for i, n in enumerate(ns):
            pid = f"{county}-PC{i}"
            tables["projects"].append({"project_id": pid, "county_code": county,
                                       "kind": "paired_cooperation"})
            tables["beneficiaries"] += [{"project_id": pid, "household_id": h["household_id"]}
                                        for h in hh[i: i + n]]
    pkg = draw_sample(make_frame(**tables), PLAN, SEED)
    by_project: dict[str, list[str]] = {}
    for b in tables["beneficiaries"]:
        by_project.setdefault(b["project_id"], []).append(b["household_id"])
    expected = set()
    for pid, hids in by_project.items():
        chosen = sorted(hids, key=lambda h, pid=pid: (prn(SEED, "beneficiary", f"{pid}/{h}"), h))
        expected |= {(pid, h) for h in chosen[:3]}
    assert rows(pkg.project_households, "project_id", "household_id") == expected
    for pid, hid, p in pkg.project_households.select("project_id", "household_id",
                                                     "prn").iter_rows():
        assert p == prn(SEED, "beneficiary", f"{pid}/{hid}")
    flags = dict(pkg.projects.filter(pl.col("kind") == "paired_cooperation")
                 .select("project_id", "few_beneficiaries").iter_rows())
    assert flags == {f"{c}-PC{i}": n < 2 for c, ns in sizes.items() for i, n in enumerate(ns)}


# --------------------------------------------------------- assistance cadres


def helper_village(sampled_helpers: list[str | None],
                   other_helpers: list[str | None]) -> Frame:
    """One village; 12 quota households (helpers cycled from ``sampled_helpers``)
    and 4 unsampled exited_2016_2018 households (helpers from ``other_helpers``),
    the unsampled ones alone in the group that is not censused."""
    groups = ranked(["V/1", "V/2"], "group")
    census, other = groups[0][2:], groups[1][2:]
    hh = [*households_of("V", E19, 4), *households_of("V", E1618, 8),
          *households_of("V", NEW, 2), *households_of("V", NOT, 2)]
    e1618 = ranked([h["household_id"] for h in hh if h["status"] == E1618], "household")
    unsampled = set(e1618[4:])
    i_s = i_o = 0
    for h in hh:
        if h["household_id"] in unsampled:
            h.update(villager_group=other, helper_id=other_helpers[i_o % len(other_helpers)])
            i_o += 1
        else:
            h.update(villager_group=census,
                     helper_id=sampled_helpers[i_s % len(sampled_helpers)])
            i_s += 1
    return one_village(hh)


def drawn_helpers(frame: Frame) -> list[str]:
    pkg = draw_sample(frame, PLAN, SEED)
    assert pkg.households.height == 12  # the fixture's premise
    got = pkg.interviewees.filter(pl.col("helper_id").is_not_null())
    assert set(got["village_code"]) <= {"V"}
    assert set(got["county_code"]) <= {"C1"}
    return got["helper_id"].to_list()


@pytest.mark.parametrize(
    ("sampled_helpers", "other_helpers", "expected"),
    [
        pytest.param([f"S{i:02d}" for i in range(12)], ["O0", "O1", "O2", "O3"],
                     lambda s, o: ranked(s, "helper")[:8], id="8 of the sampled households'"),
        pytest.param(["S0", "S1", "S2", "S3", "S4", None], ["O0", "O1", "O2", "O3"],
                     lambda s, o: [*s, *ranked(o, "helper")[:3]],
                     id="5 from the sample, 3 others added by prn"),
        pytest.param(["S0", "S1", "S2"], ["O0", None, "O1"],
                     lambda s, o: [*s, *o], id="fewer than 8 in all: all"),
        pytest.param(["S0", "O0"], ["O0", "O1", "O2"],
                     lambda s, o: ["S0", "O0", "O1", "O2"], id="a helper in both tiers"),
    ],
)
def test_assistance_cadres(sampled_helpers: list[str | None], other_helpers: list[str | None],
                           expected: Any) -> None:
    s = [h for h in dict.fromkeys(sampled_helpers) if h]
    o = [h for h in dict.fromkeys(other_helpers) if h and h not in s]
    got = drawn_helpers(helper_village(sampled_helpers, other_helpers))
    want = expected(s, o)
    assert sorted(got) == sorted(want)
    assert len(got) == len(set(got))


def test_helpers_of_census_households_count_as_sampled() -> None:
    """Helpers come from households.csv after the census; an unsampled household's don't."""
    census = min(["1", "2"], key=lambda g: (prn(SEED, "group", f"V/{g}"), g))
    e19 = ranked([h["household_id"] for h in households_of("V", E19, 6)], "household")
    census_hh, left_out = (e19[4], e19[5]) if census == "1" else (e19[5], e19[4])
    quota_hh = [*e19[:4], *(h["household_id"] for s in (E1618, NEW, NOT)
                            for h in households_of("V", s, {E1618: 4}.get(s, 2)))]
    assert len(quota_hh) == 12
    pool = ranked([f"H{i:02d}" for i in range(14)], "helper")
    helper = {left_out: pool[0], census_hh: pool[1],
              **dict(zip(quota_hh, pool[2:], strict=True))}
    status = {h: h.rsplit("-", 1)[0].removeprefix("V-") for h in helper}
    group = {h: census for h in helper} | {left_out: "2" if census == "1" else "1"}
    frame = one_village([{"household_id": h, "village_code": "V", "status": status[h],
                          "villager_group": group[h], "helper_id": helper[h]} for h in helper])
    pkg = draw_sample(frame, PLAN, SEED)
    assert set(pkg.households["household_id"]) == {*quota_hh, census_hh}
    got = pkg.interviewees.filter(pl.col("helper_id").is_not_null())["helper_id"]
    # 13 helpers in the sample: the 8 smallest of them; pool[0] (smallest of all) is out
    assert sorted(got) == sorted(pool[1:9])


# ------------------------------------------------------------ general quota


def test_general_quota_per_sampled_village() -> None:
    tables: dict[str, list[dict[str, Any]]] = {"villages": [], "counties": []}
    for county in ("C1", "C2"):
        part = four_village_county(county)
        tables["villages"] += part["villages"]
        tables["counties"] += part["counties"]
    pkg = draw_sample(make_frame(**tables), PLAN, SEED)
    got = pkg.general_quota
    assert sorted(got["village_code"]) == sorted(pkg.villages["village_code"])
    assert got["village_code"].is_unique().all()
    assert set(got["count"]) == {PLAN.sampling.households.general_per_village} == {4}


def test_interview_quotas_follow_the_plan() -> None:
    pkg = draw_sample(make_frame(**four_village_county(national_poverty_county=True,
                                                       paired_helper_county="H")), PLAN, SEED)
    iv = pkg.interviewees.filter(pl.col("helper_id").is_null())
    rules = PLAN.sampling.interviews
    for v in pkg.villages["village_code"]:
        got = iv.filter(pl.col("village_code") == v)
        assert rows(got, "role", "count") == {(q.role, q.count) for q in rules.village}
    county = iv.filter(pl.col("village_code").is_null() & (pl.col("county_code") == "C1"))
    assert rows(county, "role", "count") == {
        (q.role, q.count) for q in (*rules.county, *rules.county_paired)}


# ------------------------------------------------------------------ properties


def assert_matches_reference_villages(got: pl.DataFrame, frame: Frame) -> None:
    expected = reference_villages(frame, PLAN, SEED)
    assert set(got["village_code"]) == set(expected)
    for r in got.iter_rows(named=True):
        e = expected[r["village_code"]]
        assert r["village_type"] == e["type"]
        assert r["relaxed_township"] == e["relaxed_township"]
        assert (r["substituted_for"] or None) == e["substituted_for"]
        assert r["tilt_weight"] == pytest.approx(e["w"], rel=1e-12)
        assert 0 < r["inclusion_prob"] <= 1
        assert r["xi"] == r["prn"] / r["tilt_weight"]


@st.composite
def frames(draw: st.DrawFn, min_counties: int = 1) -> Frame:
    """Small random frames: ties in distances and poor counts, shared townships."""
    villages: list[dict[str, Any]] = []
    households: list[dict[str, Any]] = []
    projects: list[dict[str, Any]] = []
    beneficiaries: list[dict[str, Any]] = []
    counties = []
    for c in range(draw(st.integers(min_counties, 3))):
        county = f"34{c:02d}"
        counties.append({"county_code": county,
                         "national_poverty_county": draw(st.booleans()),
                         "paired_helper_county": draw(st.sampled_from([None, "H9"]))})
        county_hh: list[str] = []
        for v in range(draw(st.integers(1, 7))):
            code = f"{county}{v:03d}"
            villages.append({
                "village_code": code, "county_code": county,
                "township_code": f"{county}T{draw(st.integers(0, 2))}",
                "is_poor_village": draw(st.booleans()),
                "registered_poor_people": draw(st.integers(0, 3)),
                "distance_to_township_km": draw(st.sampled_from([0.0, 1.0, 2.5, 9.0])),
                "infrastructure_gap": draw(st.sampled_from([0.0, 0.5, 1.0])),
                "public_service_gap": draw(st.sampled_from([0.0, 0.25, 1.0])),
            })
            for h in range(draw(st.integers(0, 16))):
                hid = f"{code}{h:03d}"
                county_hh.append(hid)
                households.append({
                    "household_id": hid, "village_code": code,
                    "status": draw(st.sampled_from(STATUSES)),
                    "villager_group": draw(st.sampled_from(["1", "2", "3"])),
                    "helper_id": draw(st.sampled_from([None, *(f"{county}H{i}"
                                                               for i in range(10))])),
                })
            for p in range(draw(st.integers(0, 3))):
                projects.append({"project_id": f"{code}P{p}", "county_code": county,
                                 "village_code": code,
                                 "kind": draw(st.sampled_from(["village", "household_policy"]))})
        for p in range(draw(st.integers(0, 6))):
            kind = draw(st.sampled_from(["county", "paired_cooperation"]))
            pid = f"{county}P{p}"
            projects.append({"project_id": pid, "county_code": county, "kind": kind})
            if county_hh:
                for hid in draw(st.lists(st.sampled_from(county_hh), max_size=5, unique=True)):
                    beneficiaries.append({"project_id": pid, "household_id": hid})
    return make_frame(counties=counties, villages=villages, households=households,
                      projects=projects, beneficiaries=beneficiaries)


def assert_same_package(a: SamplePackage, b: SamplePackage) -> None:
    """Identical tables, to the last bit."""
    for name, df in a.tables().items():
        assert_frame_equal(df, b.tables()[name], check_exact=True)


@PROPERTY
@given(frames())
def test_property_quotas_and_uniqueness(frame: Frame) -> None:
    pkg = draw_sample(frame, PLAN, SEED)
    v = pkg.villages
    quota = {q.type: q.count for q in PLAN.sampling.villages.quotas}
    assert v["village_code"].is_unique().all()
    for county, n in Counter(v["county_code"]).items():
        assert n <= sum(quota.values()), county
    slots = Counter((r["county_code"], r["substituted_for"] or r["village_type"])
                    for r in v.iter_rows(named=True))
    assert all(n <= quota[slot] for (_, slot), n in slots.items())
    hh = pkg.households
    assert hh["household_id"].is_unique().all()
    assert set(hh["village_code"]) <= set(v["village_code"])
    hq = {q.status: q.count for q in PLAN.sampling.households.quotas}
    per = Counter((r["village_code"], r["selected_as"]) for r in hh.iter_rows(named=True))
    assert all(n <= hq[s] for (_, s), n in per.items() if s in hq)
    assert set(hh["selected_as"]) <= {*STATUSES, "group_census"}
    helpers = pkg.interviewees.filter(pl.col("helper_id").is_not_null())
    assert all(n <= 8 for n in Counter(helpers["village_code"]).values())
    assert sorted(pkg.general_quota["village_code"]) == sorted(v["village_code"])


@PROPERTY
@given(frames())
def test_property_matches_protocol_reading(frame: Frame) -> None:
    pkg = draw_sample(frame, PLAN, SEED)
    assert_matches_reference_villages(pkg.villages, frame)
    selected = dict(pkg.households.filter(pl.col("selected_as") != "group_census")
                    .select("household_id", "selected_as").iter_rows())
    expected: dict[str, str] = {}
    all_hh = list(frame.households.iter_rows(named=True))
    for code in pkg.villages["village_code"]:
        expected |= reference_households([h for h in all_hh if h["village_code"] == code],
                                         PLAN, SEED)
    census = pkg.households.filter(pl.col("selected_as") == "group_census")
    # the quota rows are exactly the protocol's; a census row is never a quota household
    assert selected == expected
    assert not set(census["household_id"]) & set(expected)

    # villager groups: per county and is_poor_village, smallest group-village prn, then group
    poor_of = dict(frame.villages.select("village_code", "is_poor_village").iter_rows())
    groups_of: dict[str, set[str]] = {}
    for h in all_hh:
        groups_of.setdefault(h["village_code"], set()).add(h["villager_group"])
    want_groups = set()
    for codes in _group_by(pkg.villages, poor_of).values():
        village = ranked(codes, "group-village")[0]
        if village in groups_of:
            group = min(groups_of[village], key=lambda g, v=village: (
                prn(SEED, "group", f"{v}/{g}"), g))
            want_groups.add((village, group))
    assert rows(pkg.villager_groups, "village_code", "villager_group") == want_groups
    census_ids = {h["household_id"] for h in all_hh
                  if (h["village_code"], h["villager_group"]) in want_groups}
    assert set(pkg.households["household_id"]) == set(expected) | census_ids

    # assistance cadres: sampled households' helpers first, then the village's others
    in_sample = set(pkg.households["household_id"])
    want_helpers = set()
    for code in pkg.villages["village_code"]:
        mine = [h for h in all_hh if h["village_code"] == code and h["helper_id"]]
        first = {h["helper_id"] for h in mine if h["household_id"] in in_sample}
        rest = {h["helper_id"] for h in mine} - first
        top = [*ranked(sorted(first), "helper"), *ranked(sorted(rest), "helper")][:8]
        want_helpers |= {(code, x) for x in top}
    got = pkg.interviewees.filter(pl.col("helper_id").is_not_null())
    assert got.height == len(want_helpers)
    assert rows(got, "village_code", "helper_id") == want_helpers


def _group_by(villages: pl.DataFrame, poor_of: dict[str, bool]) -> dict[tuple[str, bool],
                                                                         list[str]]:
    out: dict[tuple[str, bool], list[str]] = {}
    for county, code in villages.select("county_code", "village_code").iter_rows():
        out.setdefault((county, poor_of[code]), []).append(code)
    return out


@PROPERTY
@given(frames(), st.integers(0, 2**32 - 1))
def test_property_row_order_independent(frame: Frame, shuffle_seed: int) -> None:
    assert_same_package(draw_sample(frame, PLAN, SEED),
                        draw_sample(shuffled(frame, shuffle_seed), PLAN, SEED))


@PROPERTY
@given(frames())
def test_property_reproducible(frame: Frame) -> None:
    assert_same_package(draw_sample(frame, PLAN, SEED), draw_sample(frame, PLAN, SEED))


@PROPERTY
@given(frames(min_counties=2), st.booleans(), st.integers(0, 12),
       st.sampled_from([0.0, 1.0, 2.5, 9.0]))
def test_property_adding_a_village_leaves_other_counties_alone(
    frame: Frame, poor: bool, n_households: int, distance: float
) -> None:
    before = draw_sample(frame, PLAN, SEED)
    county = frame.counties["county_code"][0]
    new = f"{county}999"
    after = draw_sample(with_rows(
        frame,
        villages=[{"village_code": new, "county_code": county, "is_poor_village": poor,
                   "registered_poor_people": 3, "township_code": f"{county}T0",
                   "distance_to_township_km": distance}],
        households=[{"household_id": f"{new}{i:03d}", "village_code": new,
                     "status": STATUSES[i % 5], "helper_id": f"{county}H{i % 3}"}
                    for i in range(n_households)],
    ), PLAN, SEED)
    for other in frame.counties["county_code"][1:]:
        assert_same_package(before.for_county(other), after.for_county(other))


@PROPERTY
@given(frames(min_counties=2))
def test_property_by_county_is_for_county_of_each(frame: Frame) -> None:
    """The one-pass split the field lists use gives each county's slice, rows in order."""
    pkg = draw_sample(frame, PLAN, SEED)
    codes = [*frame.counties["county_code"].to_list(), "no-such-county"]
    parts = pkg.by_county(codes)
    assert list(parts) == codes
    for code in codes:
        assert_same_package(parts[code], pkg.for_county(code))


def test_different_seeds_differ() -> None:
    villages, hh = [], []
    for c in range(3):
        for v in range(10):
            code = f"C{c}V{v:02d}"
            villages.append({"village_code": code, "county_code": f"C{c}",
                             "is_poor_village": v < 5, "registered_poor_people": v,
                             "township_code": f"C{c}T{v}"})
            hh += [h for s in STATUSES for h in households_of(code, s, 6)]
    frame = make_frame(villages=villages, households=hh)
    a, b = draw_sample(frame, PLAN, "seed-a"), draw_sample(frame, PLAN, "seed-b")
    assert set(a.villages["village_code"]) != set(b.villages["village_code"])
    assert set(a.households["household_id"]) != set(b.households["household_id"])
    assert a.villages["prn"].to_list() != b.villages["prn"].to_list()


@PROPERTY
@given(frames(min_counties=2), st.data())
def test_property_drawing_some_counties_gives_their_part_of_the_whole(
    frame: Frame, data: st.DataObject
) -> None:
    codes = frame.counties["county_code"].to_list()
    chosen = data.draw(st.lists(st.sampled_from(codes), min_size=1, unique=True))
    whole = draw_sample(frame, PLAN, SEED)
    part = draw_sample(frame, PLAN, SEED, county_codes=chosen)
    for code in chosen:
        assert_same_package(whole.for_county(code), part.for_county(code))
    assert set(part.villages["county_code"]) <= set(chosen)
