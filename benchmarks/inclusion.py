"""Benchmark: inclusion probabilities "pi-mc-v1" (DESIGN.md, protocol step 6).

Usage: python benchmarks/inclusion.py [--scales province national] [--seeds 5000] [--no-sample]

Prints, per scale, the seconds and peak memory (max RSS, each measurement in
a fresh process) of every county's probabilities (R replicate walks per
county, R from the plan), and for the province the seconds of ``xkaohe sample``
end to end (read, draw, probabilities, write the package and field lists).
Then the agreement of the written probabilities with the package's own real
walk over ``--seeds`` seed texts on the small synthetic province: the share of
candidates within 4 standard errors, the largest |z|, and the per-county sums
against the villages drawn -- beside the same figures for the old first-order
formula ``min(1, quota * w / sum w)``.

Frames are those of benchmarks/sampling.py (benchmarks/out/<scale>/frame,
written once with ``xkaohe synth`` and reused). Targets (issue 10): province
under 10 s on 2 cores, national under 2 minutes; issue 16: ``xkaohe sample``
on the province under 5 s.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xkaohe.inputs import Frame

HERE = Path(__file__).resolve().parent
PLAN = HERE.parent / "params" / "plan-2019.yaml"
SEED = "benchmark"


def _frame_tables(frame_dir: str) -> Frame:
    """The villages only (step 6 needs nothing else), read straight from the synthetic CSV."""
    import polars as pl

    from xkaohe.inputs import Frame

    codes = {c: pl.String for c in ("village_code", "township_code", "county_code")}
    villages = pl.read_csv(Path(frame_dir) / "villages.csv", schema_overrides=codes)
    empty = villages.head(0)
    return Frame(empty, villages, empty, empty, empty)


def child_pi(frame_dir: str) -> dict[str, object]:
    import polars as pl

    from xkaohe.draw.sampling import inclusion_probabilities, inclusion_threads, village_candidates
    from xkaohe.io.plan_file import load_plan

    plan = load_plan(PLAN)
    frame = _frame_tables(frame_dir)
    start = time.perf_counter()
    cpu = time.process_time()
    cands = village_candidates(frame, plan, SEED)
    probs = inclusion_probabilities(cands, plan, SEED)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "counties": cands["county_code"].n_unique(),
        "candidates": probs.height,
        "max_candidates": cands.filter(pl.col("village_type").is_not_null())
        .group_by("county_code")
        .len()["len"]
        .max(),
        "replicates": plan.sampling.villages.inclusion_replicates,
        "workers": inclusion_threads(),
    }


def child_sample(frame_dir: str) -> dict[str, object]:
    from xkaohe.run.sample import run_sample

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run_sample(Path(frame_dir), PLAN, SEED, Path(out) / "sample")
        return {"seconds": time.perf_counter() - start}


def child_agree(frame_dir: str, n_seeds: int) -> dict[str, object]:
    """The written probabilities against the real walk over ``n_seeds`` seed texts."""
    import numpy as np
    import polars as pl

    from xkaohe.draw.prn import prn_series
    from xkaohe.draw.sampling import candidate_blocks, draw_sample, walk_rules
    from xkaohe.draw.walk import walk
    from xkaohe.io.frame import SAMPLING_COLUMNS, load_frame
    from xkaohe.io.plan_file import load_plan

    plan = load_plan(PLAN)
    frame = load_frame(frame_dir, SAMPLING_COLUMNS)
    start = time.perf_counter()
    pkg = draw_sample(frame, plan, SEED)
    draw_s = time.perf_counter() - start
    cands = pkg.village_candidates.sort("county_code", "village_code")
    codes = cands["village_code"]
    # Real prn of every candidate under seed texts "agree-0" ... : the draw's own numbers.
    prns = np.stack([prn_series(f"agree-{s}", "village", codes).to_numpy() for s in range(n_seeds)])
    prn_s = time.perf_counter() - start - draw_s
    order, rules = walk_rules(plan)
    times = np.zeros(cands.height, np.int64)
    for _, part, county in candidate_blocks(cands, order):
        times[part] = np.count_nonzero(walk(prns[:, part], county, rules).rank, axis=0)
    freq = times / n_seeds
    quota = plan.sampling.villages.quota
    w_sum = cands.group_by("county_code", "village_type").agg(_w=pl.col("tilt_weight").sum())
    old = (
        cands.join(w_sum, on=["county_code", "village_type"], how="left")
        .select(
            pl.min_horizontal(
                pl.lit(1.0),
                pl.col("village_type").replace_strict(quota, return_dtype=pl.Float64)
                * pl.col("tilt_weight")
                / pl.col("_w"),
            )
        )
        .to_series()
        .to_numpy()
    )

    def agreement(p: np.ndarray, se: np.ndarray) -> dict[str, float]:
        sd = np.sqrt(p * (1 - p) / n_seeds + se**2)
        diff = np.abs(freq - p)
        z = np.where(sd > 0, diff / np.where(sd > 0, sd, 1), np.where(diff > 0, np.inf, 0))
        rel = diff / np.maximum(freq, 1 / n_seeds)
        sums = pl.DataFrame({"c": cands["county_code"], "p": p}).group_by("c").agg(pl.sum("p"))
        drawn = pkg.villages.group_by("county_code").len().rename({"county_code": "c"})
        off = sums.join(drawn, on="c")["p"] - sums.join(drawn, on="c")["len"]
        return {
            "within_4se": float(np.mean(z <= 4)),
            "max_abs_z": float(np.max(z)),
            "mean_rel_error": float(np.mean(rel)),
            "sum_minus_drawn_min": float(off.min()),  # type: ignore[arg-type]
            "sum_minus_drawn_max": float(off.max()),  # type: ignore[arg-type]
        }

    p = cands["inclusion_prob"].to_numpy()
    return {
        "candidates": cands.height,
        "counties": cands["county_code"].n_unique(),
        "draw_seconds": draw_s,
        "prn_seconds": prn_s,
        "pi_mc_v1": agreement(p, cands["inclusion_prob_se"].to_numpy()),
        "first_order": agreement(old, np.zeros_like(old)),
    }


def run_child(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"measurement {args[0]} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["province", "national"])
    parser.add_argument("--seeds", type=int, default=5000)
    parser.add_argument("--no-sample", action="store_true", help="skip xkaohe sample end to end")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from sampling import ensure_frame  # benchmarks/sampling.py: the same frames

    print("scale | counties | candidates | max per county | R | threads | s | cpu s | peak MB")
    for scale in args.scales:
        r = run_child("pi", str(ensure_frame(scale) / "frame"))
        print(
            f"{scale} | {r['counties']} | {r['candidates']:,} | {r['max_candidates']} | "
            f"{r['replicates']:,} | {r['workers']} | {r['seconds']:.2f} | "
            f"{r['cpu_seconds']:.2f} | {r['peak_mb']:,.0f}"
        )
    if not args.no_sample and "province" in args.scales:
        r = run_child("sample", str(ensure_frame("province") / "frame"))
        print(f"xkaohe sample, province, end to end: {r['seconds']:.2f} s, {r['peak_mb']:,.0f} MB")
    if args.seeds:
        r = run_child("agree", str(ensure_frame("small") / "frame"), str(args.seeds))
        print(
            f"agreement with the real walk over {args.seeds:,} seeds, small province "
            f"({r['counties']} counties, {r['candidates']} candidates):"
        )
        print("method | within 4 SE | max |z| | mean rel. error | sum - drawn (min, max)")
        for name in ("pi_mc_v1", "first_order"):
            a = r[name]
            assert isinstance(a, dict)
            print(
                f"{name} | {a['within_4se']:.2%} | {a['max_abs_z']:.1f} | "
                f"{a['mean_rel_error']:.1%} | {a['sum_minus_drawn_min']:+.3f}, "
                f"{a['sum_minus_drawn_max']:+.3f}"
            )


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        what, frame = sys.argv[2], sys.argv[3]
        if what == "pi":
            out = child_pi(frame)
        elif what == "sample":
            out = child_sample(frame)
        else:
            out = child_agree(frame, int(sys.argv[4]))
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}
            )
        )
    else:
        main()
