"""Step 6 of the protocol, "pi-mc-v1": inclusion probabilities by Monte Carlo over the walk.

Checked three ways: (1) the vectorised walk equals a plain-Python reading of
steps 3-5 written here (sharing no code with :mod:`xkaohe.draw.walk`), and the
real draw uses it; (2) over 5,000 seed texts, the frequencies with which the
package's real walk (real prn) selects each candidate agree with the written
``inclusion_prob``; (3) the probabilities re-derive by hand from DESIGN.md's
recipe (sha256 seed, PCG64, one (R, C) array, ascending village_code,
Fattorini's (k + 1) / (R + 1)), byte for byte, and verify-sample catches an
edited one.
"""

from __future__ import annotations

import hashlib
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from framekit import make_frame, shuffled

from xkaohe.draw import walk as walk_module
from xkaohe.draw.prn import pi_seed, prn
from xkaohe.draw.sampling import (
    candidate_blocks,
    draw_sample,
    inclusion_probabilities,
    village_candidates,
    walk_rules,
)
from xkaohe.draw.walk import County, Rules, walk
from xkaohe.errors import VerificationError
from xkaohe.inputs import Frame
from xkaohe.io.plan_file import load_plan
from xkaohe.plan import Plan, parse_plan
from xkaohe.run.sample import run_sample, verify_sample

PLAN_PATH = Path(__file__).parent.parent / "params" / "plan-2019.yaml"
PLAN = load_plan(PLAN_PATH)
SEED = "pi-test"
ORDER = ("poor", "nonpoor_many_poor")
N_SEEDS = 5_000


def plan_with_replicates(r: int) -> Plan:
    text = PLAN_PATH.read_text(encoding="utf-8")
    old = f"inclusion_replicates: {PLAN.sampling.villages.inclusion_replicates}"
    assert old in text
    return parse_plan(text.replace(old, f"inclusion_replicates: {r}", 1))


def _village(
    code: str,
    county: str,
    town: str,
    poor: bool,
    people: int = 50,
    gap: float = 0.0,
    dist: float = 1.0,
) -> dict[str, Any]:
    return {
        "village_code": code,
        "county_code": county,
        "township_code": town,
        "is_poor_village": poor,
        "registered_poor_people": people,
        "infrastructure_gap": gap,
        "distance_to_township_km": dist,
    }


def pi_frame() -> Frame:
    """Four small counties with the situations the first-order formula got wrong."""
    vs = []
    # A: a poor village alone in its township, five in one crowded township.
    vs.append(_village("A-P0", "A", "A-T0", True, gap=0.2))
    vs += [_village(f"A-P{i}", "A", "A-T1", True, gap=0.1 * i, dist=float(i)) for i in range(1, 6)]
    vs += [
        _village(f"A-N{i}", "A", t, False, gap=g)
        for i, (t, g) in enumerate([("A-T2", 0.0), ("A-T3", 0.9), ("A-T1", 0.5), ("A-T1", 0.0)])
    ]
    vs += [_village(f"A-X{i}", "A", "A-T2", False, people=1) for i in range(4)]
    # B: one poor candidate: a nonpoor_many_poor village substitutes for poor.
    vs.append(_village("B-P0", "B", "B-T0", True))
    vs += [
        _village(f"B-N{i}", "B", f"B-T{i % 3}", False, gap=0.3 * i, dist=float(i)) for i in range(4)
    ]
    vs += [_village(f"B-X{i}", "B", "B-T0", False, people=2) for i in range(4)]
    # C: every nonpoor_many_poor candidate in one township: the second is relaxed.
    vs += [_village(f"C-P{i}", "C", f"C-T{i}", True, gap=0.4 * i) for i in range(3)]
    vs += [
        _village(f"C-N{i}", "C", "C-T9", False, gap=0.25 * i, dist=float(5 - i)) for i in range(4)
    ]
    vs += [_village(f"C-X{i}", "C", "C-T0", False, people=1) for i in range(4)]
    # D: a mixed county of 30 villages in 6 townships, tilted.
    vs += [
        _village(
            f"D-V{i:02d}",
            "D",
            f"D-T{(i * 7) % 6}",
            i % 3 == 0,
            people=i % 11,
            gap=(i % 5) / 4,
            dist=float(i % 8),
        )
        for i in range(30)
    ]
    return make_frame(villages=vs)


# ----------------------------------------------------------- a plain reading


def reference_walk(
    types: list[str], towns: list[str], keys: list[float], quota: dict[str, int]
) -> dict[int, tuple[int, bool, str | None]]:
    """Steps 3-5 read literally; candidate index -> (order, relaxed, substituted_for)."""
    walk_order = sorted(range(len(keys)), key=lambda i: (keys[i], i))
    filled = dict.fromkeys(ORDER, 0)
    used: set[str] = set()
    got: dict[int, tuple[int, bool, str | None]] = {}

    def take(i: int, slot: str, relaxed: bool, sub: str | None) -> None:
        got[i] = (len(got) + 1, relaxed, sub)
        filled[slot] += 1
        used.add(towns[i])

    for i in walk_order:  # step 3
        if all(filled[t] >= quota[t] for t in ORDER):
            break
        if filled[types[i]] < quota[types[i]] and towns[i] not in used:
            take(i, types[i], False, None)
    for t in ORDER:  # step 4
        for i in walk_order:
            if filled[t] < quota[t] and types[i] == t and i not in got:
                take(i, t, True, None)
    for t in ORDER:  # step 5
        for other in (o for o in ORDER if o != t):
            for relaxed in (False, True):
                for i in walk_order:
                    if (
                        filled[t] < quota[t]
                        and types[i] == other
                        and i not in got
                        and (relaxed or towns[i] not in used)
                    ):
                        take(i, t, relaxed, t)
    return got


def county_candidates(frame: Frame, county: str) -> pl.DataFrame:
    return (
        village_candidates(frame, PLAN, SEED)
        .filter(pl.col("village_type").is_not_null() & (pl.col("county_code") == county))
        .sort("village_code")
    )


def as_county(c: pl.DataFrame) -> tuple[County, Rules]:
    order, rules = walk_rules(PLAN)
    ((_, _, county),) = candidate_blocks(c, order)
    return county, rules


def seed_prns(codes: list[str], seeds: range) -> np.ndarray:
    """Real prn of every candidate (columns) under the seed texts ``mc-{s}`` (rows)."""
    return np.array([[prn(f"mc-{s}", "village", code) for code in codes] for s in seeds])


QUOTA: dict[str, int] = {q.type: q.count for q in PLAN.sampling.villages.quotas}


@pytest.mark.parametrize("county", ["A", "B", "C", "D"])
def test_vectorised_walk_is_the_protocol(county: str) -> None:
    """Every one of 5,000 real-prn walks equals the plain reading, order and flags included."""
    c = county_candidates(pi_frame(), county)
    cty, rules = as_county(c)
    u = seed_prns(c["village_code"].to_list(), range(N_SEEDS))
    got = walk(u, cty, rules)
    types, towns = c["village_type"].to_list(), c["township_code"].to_list()
    w = c["tilt_weight"].to_list()
    for r in range(N_SEEDS):
        expected = reference_walk(types, towns, [u[r, i] / w[i] for i in range(len(w))], QUOTA)
        mine = {
            int(i): (
                int(got.rank[r, i]),
                bool(got.relaxed[r, i]),
                None if ORDER[got.slot[r, i]] == types[i] else ORDER[got.slot[r, i]],
            )
            for i in np.flatnonzero(got.rank[r])
        }
        assert mine == expected, r


def test_vectorised_walk_with_ties_and_long_walks() -> None:
    """Random counties up to 150 candidates, keys with many ties: every round of the walk."""
    rng = np.random.default_rng(7)
    for trial in range(60):
        n = int(rng.integers(1, 150))
        types = rng.integers(0, 2, n).astype(np.int8)
        towns = rng.integers(0, int(rng.integers(1, 9)), n).astype(np.int32)
        quota = {ORDER[0]: int(rng.integers(0, 4)), ORDER[1]: int(rng.integers(0, 4))}
        rules = Rules(np.array([quota[ORDER[0]], quota[ORDER[1]], 0], np.int16), True)
        w = 1 + rng.random(n) * (0.0, 1.0, 9.0)[trial % 3]  # 9: cut where some q w >= 1
        u = rng.random((40, n))
        if trial % 3 == 0:
            u = np.ceil(u * 8) / 8  # ties everywhere
        got = walk(u, County(w, types, towns), rules)
        for r in range(u.shape[0]):
            expected = reference_walk(
                [ORDER[t] for t in types], [str(t) for t in towns], list(u[r] / w), quota
            )
            assert {int(i): int(got.rank[r, i]) for i in np.flatnonzero(got.rank[r])} == {
                i: e[0] for i, e in expected.items()
            }, (trial, r)


@pytest.mark.parametrize("seed", [f"mc-{s}" for s in range(0, N_SEEDS, 250)])
def test_the_draw_is_the_walk_with_real_prn(seed: str) -> None:
    """draw_sample's villages are walk()'s selection with the real prn (here 20 seed texts)."""
    frame = pi_frame()
    drawn = draw_sample(frame, plan_with_replicates(10), seed).villages
    s = int(seed.split("-")[1])
    for county in ("A", "B", "C", "D"):
        c = county_candidates(frame, county)
        codes = c["village_code"].to_list()
        got = walk(seed_prns(codes, range(s, s + 1)), *as_county(c))
        mine = {codes[i]: int(got.rank[0, i]) for i in np.flatnonzero(got.rank[0])}
        assert (
            dict(
                drawn.filter(pl.col("county_code") == county)
                .select("village_code", "walk_order")
                .iter_rows()
            )
            == mine
        )


# ------------------------------------------------------- against frequencies


def test_probabilities_agree_with_the_real_walk_over_5000_seeds() -> None:
    """Frequencies of the real walk over 5,000 seed texts vs the written probabilities."""
    frame = pi_frame()
    pkg = draw_sample(frame, PLAN, SEED)
    written = dict(
        pkg.village_candidates.select(
            "village_code", pl.struct("inclusion_prob", "inclusion_prob_se")
        ).iter_rows()
    )
    z: dict[str, float] = {}
    for county in ("A", "B", "C", "D"):
        c = county_candidates(frame, county)
        codes = c["village_code"].to_list()
        freq = np.count_nonzero(walk(seed_prns(codes, range(N_SEEDS)), *as_county(c)).rank, axis=0)
        for code, f in zip(codes, freq / N_SEEDS, strict=True):
            p, se = written[code]["inclusion_prob"], written[code]["inclusion_prob_se"]
            sd = math.sqrt(p * (1 - p) / N_SEEDS + se**2)
            z[code] = abs(f - p) / sd if sd > 0 else (0.0 if f == p else math.inf)
    assert len(z) == pkg.village_candidates.height == 10 + 5 + 7 + 20
    assert sum(v <= 4 for v in z.values()) >= 0.99 * len(z), {k: v for k, v in z.items() if v > 4}

    # the cases the first-order formula got wrong
    def total(*codes: str) -> float:
        return float(sum(written[c]["inclusion_prob"] for c in codes))

    # alone in its township: always drawn; the crowded township gives exactly one poor village
    assert written["A-P0"]["inclusion_prob"] == 1.0
    assert total(*(f"A-P{i}" for i in range(1, 6))) == pytest.approx(1, abs=0.01)
    # substitution: the one poor village always, three of four nonpoor_many_poor
    assert written["B-P0"]["inclusion_prob"] == 1.0
    assert total(*(f"B-N{i}" for i in range(4))) == pytest.approx(3, abs=0.01)
    # relaxed township: two of the four nonpoor_many_poor of one township
    assert total(*(f"C-N{i}" for i in range(4))) == pytest.approx(2, abs=0.01)
    assert pkg.villages.filter(pl.col("county_code") == "C")["relaxed_township"].sum() == 1


def test_probabilities_sum_to_the_villages_drawn() -> None:
    frame = pi_frame()
    pkg = draw_sample(frame, PLAN, SEED)
    sums = pkg.village_candidates.group_by("county_code").agg(pl.col("inclusion_prob").sum())
    drawn = pkg.villages.group_by("county_code").len()
    both = sums.join(drawn, on="county_code")
    assert both.height == 4
    for county, total, n in both.iter_rows():
        assert n == 4, county
        assert abs(total - n) < 0.05, county


def test_written_probabilities_and_contract() -> None:
    pkg = draw_sample(pi_frame(), PLAN, SEED)
    cands = pkg.village_candidates
    assert cands["inclusion_prob"].is_between(0, 1, closed="right").all()
    r = PLAN.sampling.villages.inclusion_replicates
    p = cands["inclusion_prob"].to_numpy()
    # (k + 1) / (R + 1) with k an integer; se = sqrt(p (1 - p) / R)
    k = p * (r + 1) - 1
    assert np.allclose(k, np.round(k), atol=1e-6)
    assert np.array_equal(cands["inclusion_prob_se"].to_numpy(), np.sqrt(p * (1 - p) / r))
    # villages.csv carries the same numbers as village_candidates.csv
    joined = pkg.villages.join(cands, on="village_code", suffix="_c")
    assert joined.height == pkg.villages.height
    assert (joined["inclusion_prob"] == joined["inclusion_prob_c"]).all()
    assert (joined["inclusion_prob_se"] == joined["inclusion_prob_se_c"]).all()
    # non-candidates are not in the package (probability 0)
    assert not any(code.split("-")[1].startswith("X") for code in cands["village_code"])


# ------------------------------------------------------------ re-derivation


def test_rederived_by_hand_from_design() -> None:
    """DESIGN.md step 6 followed literally gives the written numbers exactly."""
    r = 3_000
    plan = plan_with_replicates(r)
    frame = pi_frame()
    got = dict(
        inclusion_probabilities(village_candidates(frame, plan, SEED), plan, SEED)
        .select("village_code", pl.struct("inclusion_prob", "inclusion_prob_se"))
        .iter_rows()
    )
    for county in ("A", "C"):
        c = county_candidates(frame, county)  # ascending village_code
        digest = hashlib.sha256(f"{SEED}:pi:{county}".encode()).digest()
        seed = int.from_bytes(digest[:8], "big")
        assert seed == pi_seed(SEED, county)
        u = np.random.Generator(np.random.PCG64(seed)).random((r, c.height))
        types, towns = c["village_type"].to_list(), c["township_code"].to_list()
        w = c["tilt_weight"].to_list()
        times = [0] * c.height
        for row in u:
            for i in reference_walk(types, towns, [row[i] / w[i] for i in range(c.height)], QUOTA):
                times[i] += 1
        for code, k in zip(c["village_code"], times, strict=True):
            p = (k + 1) / (r + 1)
            assert got[code]["inclusion_prob"] == p
            assert got[code]["inclusion_prob_se"] == math.sqrt(p * (1 - p) / r)


def test_blocks_of_replicates_are_the_one_array(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replicates are walked in blocks to bound memory; the numbers are those of one array."""
    cands = village_candidates(pi_frame(), PLAN, SEED)
    whole = inclusion_probabilities(cands, PLAN, SEED)
    monkeypatch.setattr(walk_module, "_BLOCK", 97)
    assert inclusion_probabilities(cands, PLAN, SEED).equals(whole)


def test_a_threads_buffer_carries_nothing_from_one_county_to_the_next() -> None:
    """Step 6 draws each county's uniforms into one buffer per thread, reused."""
    frame = pi_frame()
    a, d = (as_county(county_candidates(frame, c)) for c in ("A", "D"))
    with ThreadPoolExecutor(max_workers=1) as pool:  # a new thread: a new buffer
        alone = pool.submit(walk_module.inclusion, *a, 500, SEED, "A").result()
    walk_module.inclusion(*d, 500, SEED, "D")  # a larger county first, in this thread
    after = walk_module.inclusion(*a, 500, SEED, "A")
    assert np.array_equal(alone[0], after[0])
    assert np.array_equal(alone[1], after[1])


def test_probabilities_do_not_depend_on_row_order_or_other_counties() -> None:
    frame = pi_frame()
    whole = draw_sample(frame, PLAN, SEED).village_candidates
    again = draw_sample(shuffled(frame, 3), PLAN, SEED).village_candidates
    alone = draw_sample(frame, PLAN, SEED, county_codes=["C"]).village_candidates
    assert whole.equals(again)
    assert alone.equals(whole.filter(pl.col("county_code") == "C"))


def write_frame(frame: Frame, out: Path) -> Path:
    out.mkdir(parents=True)
    for name in ("counties", "villages", "households", "projects", "project_beneficiaries"):
        df: pl.DataFrame = getattr(frame, name)
        df.drop("_row", strict=False).write_csv(out / f"{name}.csv")
    return out


def test_package_is_reproducible_byte_for_byte(tmp_path: Path) -> None:
    frame_dir = write_frame(pi_frame(), tmp_path / "frame")
    for out in ("a", "b"):
        run_sample(frame_dir, PLAN_PATH, SEED, tmp_path / out, field_lists=False)
    for name in ("villages.csv", "village_candidates.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    cert = json.loads((tmp_path / "a" / "certificate.json").read_text(encoding="utf-8"))
    assert cert["inclusion"]["method"] == "pi-mc-v1"
    assert cert["inclusion"]["replicates"] == PLAN.sampling.villages.inclusion_replicates
    assert cert["inclusion"]["generator"] == "numpy PCG64"
    assert cert["inclusion"]["numpy"] == np.__version__


def test_verify_sample_catches_an_edited_probability(tmp_path: Path) -> None:
    frame_dir = write_frame(pi_frame(), tmp_path / "frame")
    out = tmp_path / "sample"
    run_sample(frame_dir, PLAN_PATH, SEED, out, field_lists=False)
    lines = verify_sample(out)
    assert any("pi-mc-v1" in line and "R = 20000" in line for line in lines)

    path = out / "villages.csv"
    original = path.read_text(encoding="utf-8")
    header, *rows = original.splitlines(keepends=True)
    col = header.rstrip("\n").split(",").index("inclusion_prob")
    cells = rows[0].rstrip("\n").split(",")
    cells[col] = repr(float(cells[col]) * 0.999)
    path.write_text(header + ",".join(cells) + "\n" + "".join(rows[1:]), encoding="utf-8")
    with pytest.raises(VerificationError, match=r"villages\.csv differs from the re-derived draw"):
        verify_sample(out)
    path.write_text(original, encoding="utf-8")
    verify_sample(out)

    cert_path = out / "certificate.json"
    cert = json.loads(cert_path.read_text(encoding="utf-8"))
    cert["inclusion"]["replicates"] = 1000
    cert_path.write_text(json.dumps(cert), encoding="utf-8")
    wrong_r = r"inclusion\.replicates: expected 20000; found 1000"
    with pytest.raises(VerificationError, match=wrong_r):
        verify_sample(out)
