"""Benchmark: indicators, intervals, cross-checks and findings for every county.

Usage: python benchmarks/indicators.py [--scale province] [--run DIR] [--phases]

Builds (once) a synthetic run under benchmarks/out/run-<scale>/ — frame, field
returns and the sample — then times, in a fresh process, `xkaohe indicators`
end to end (reading the frame, sample and field returns, computing, writing
the results store) and the computation alone. Target (issue 3): under 10 s
at province scale. Prints figures; asserts nothing. ``--run``: another run
folder with ``frame/``, ``sample/`` and ``field/`` (its ``results/`` is written).
``--phases``: ``xkaohe indicators`` once more in a fresh process, timed step by
step (reading the frame, the sample, the field returns, each computation,
writing the store): wall and CPU seconds and the resident memory after each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PLAN = HERE.parent / "params" / "plan-2019.yaml"


def child(run: str) -> None:
    from xkaohe.io.field import load_field
    from xkaohe.io.frame import SAMPLING_COLUMNS, load_frame
    from xkaohe.io.plan_file import load_plan
    from xkaohe.io.sample_package import read_package
    from xkaohe.run.commands import compute_results, run_indicators

    r = Path(run)
    start = time.perf_counter()
    results = run_indicators(r / "frame", r / "sample", r / "field", PLAN, r / "results")
    total = time.perf_counter() - start
    plan = load_plan(PLAN)
    frame = load_frame(r / "frame", SAMPLING_COLUMNS)
    sample, field = read_package(r / "sample"), load_field(r / "field")
    t = time.perf_counter()
    compute_results(frame, sample, field, plan, plan.timeline.team_reports_by)
    compute = time.perf_counter() - t
    print(json.dumps({
        "end_to_end_s": total, "compute_s": compute,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "counties": results["county_indicators"].height,
        "surveyed": results["households"].height,
        "claims": results["check_claims"].height,
        "findings": results["findings"].height,
    }))


STEPS = (
    "load_frame", "read_package", "field_returns", "check_field", "classify", "count_frame",
    "weighted", "candidate_share", "county_indicators", "county_verdicts", "item_rates",
    "cross_check", "all_claims", "evidence_rows", "check_claims", "identification",
    "candidate_problems", "merge_findings", "interview_coverage", "exit_standard",
    "relapse_counts", "paired_visit_table", "completeness", "write_results",
)  # fmt: skip
"""What ``run_indicators`` calls, by the names it calls them (timed by ``--phases``)."""


def phases_child(run: str) -> None:
    """Child process: ``run_indicators`` with each step of :data:`STEPS` timed as it is called."""
    from xkaohe.run import commands

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rows: list[tuple[str, float, float, float]] = []

    def timed(name: str, step: Any) -> Any:
        def run_step(*args: Any, **kwargs: Any) -> Any:
            t, c = time.perf_counter(), time.process_time()
            out = step(*args, **kwargs)
            rows.append((name, time.perf_counter() - t, time.process_time() - c, rss_mb()))
            return out

        return run_step

    for name in STEPS:  # the names run_indicators and compute_results look up when called
        setattr(commands, name, timed(name, getattr(commands, name)))
    r = Path(run)
    t, c = time.perf_counter(), time.process_time()
    commands.run_indicators(r / "frame", r / "sample", r / "field", PLAN, r / "results")
    rows.append(("total", time.perf_counter() - t, time.process_time() - c, rss_mb()))
    print(json.dumps(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="province")
    parser.add_argument("--run", type=Path, default=None)
    parser.add_argument("--phases", action="store_true")
    args = parser.parse_args()
    run = args.run or HERE / "out" / f"run-{args.scale}"
    if not (run / "sample" / "certificate.json").exists():
        from xkaohe.run.commands import run_synth
        from xkaohe.run.sample import run_sample

        t = time.perf_counter()
        run_synth(run, args.scale, "benchmark")
        run_sample(run / "frame", PLAN, "benchmark", run / "sample", field_lists=False)
        print(f"[{args.scale}] run prepared in {time.perf_counter() - t:.1f} s", flush=True)
    done = subprocess.run([sys.executable, __file__, "--child", str(run)], capture_output=True,
                          text=True, check=True)
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"scale {args.scale}: {r['counties']} counties, {r['surveyed']:,} surveyed households, "
          f"{r['claims']:,} helper claims, {r['findings']:,} findings")
    print(f"xkaohe indicators end to end: {r['end_to_end_s']:.2f} s; "
          f"computation alone: {r['compute_s']:.2f} s; peak memory {r['peak_mb']:,.0f} MB")
    if args.phases:
        done = subprocess.run([sys.executable, __file__, "--phases-child", str(run)],
                              capture_output=True, text=True, check=True)
        for name, wall, cpu, peak in json.loads(done.stdout.strip().splitlines()[-1]):
            print(f"  {name:<20} wall {wall:6.2f} s   CPU {cpu:6.2f} s   peak {peak:7,.0f} MB")
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores: above 2, wall times include waiting)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "--phases-child":
        phases_child(sys.argv[2])
    else:
        main()
