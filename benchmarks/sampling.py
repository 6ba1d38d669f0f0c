"""Benchmark: reading the frame, and reading plus drawing every county's sample.

Usage: python benchmarks/sampling.py [--scales province national] [--keep]

For each scale it writes a synthetic frame under benchmarks/out/<scale>/ (once;
reused when present), then runs each measurement in a fresh process so that
peak memory (max RSS) belongs to that measurement alone. Prints a table.
Targets (issue 2): province under 5 s; national under 60 s and 8 GB; drawing
adds at most as much time again as reading. "sample s" includes the villages'
inclusion probabilities (step 6, "pi-mc-v1": R replicate walks per county);
benchmarks/inclusion.py times them alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLAN = HERE.parent / "params" / "plan-2019.yaml"


def measure(what: str, frame: str) -> None:
    """Child process: one measurement, printed as JSON."""
    from xkaohe.draw.sampling import draw_sample
    from xkaohe.io.frame import SAMPLING_COLUMNS, load_frame
    from xkaohe.io.plan_file import load_plan

    plan = load_plan(PLAN)
    start = time.perf_counter()
    loaded = load_frame(frame, SAMPLING_COLUMNS)
    read_s = time.perf_counter() - start
    draw_s = 0.0
    households = 0
    if what == "read+sample":
        t = time.perf_counter()
        package = draw_sample(loaded, plan, "benchmark")
        draw_s = time.perf_counter() - t
        households = package.households.height
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "read_s": read_s,
                "draw_s": draw_s,
                "peak_mb": peak_mb,
                "villages": loaded.villages.height,
                "households": loaded.households.height,
                "counties": loaded.counties.height,
                "sampled_households": households,
            }
        )
    )


def ensure_frame(scale: str) -> Path:
    out = HERE / "out" / scale
    if not (out / "frame" / "households.csv").exists():
        from xkaohe.run.commands import run_synth

        t = time.perf_counter()
        run_synth(out, scale, "benchmark")
        print(f"[{scale}] synthetic frame written in {time.perf_counter() - t:.1f} s", flush=True)
    return out / "frame"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["province", "national"])
    args = parser.parse_args()
    rows = []
    for scale in args.scales:
        frame = ensure_frame(scale)
        size_mb = sum(p.stat().st_size for p in frame.glob("*.csv")) / 2**20
        results = {}
        for what in ("read", "read+sample"):
            done = subprocess.run(
                [sys.executable, __file__, "--child", what, str(frame)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[what] = json.loads(done.stdout.strip().splitlines()[-1])
        r, s = results["read"], results["read+sample"]
        rows.append(
            (
                scale,
                s["counties"],
                s["villages"],
                s["households"],
                size_mb,
                r["read_s"],
                s["read_s"] + s["draw_s"],
                s["draw_s"],
                s["draw_s"] / s["read_s"],
                s["peak_mb"],
                s["sampled_households"],
            )
        )
    header = (
        "scale",
        "counties",
        "villages",
        "households",
        "csv MB",
        "read s",
        "read+sample s",
        "sample s",
        "sample/read",
        "peak MB",
        "sampled hh",
    )
    print(" | ".join(header))
    for row in rows:
        print(
            " | ".join(
                f"{v:,.2f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
                for v in row
            )
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        measure(sys.argv[2], sys.argv[3])
    else:
        main()
