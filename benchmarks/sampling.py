"""Benchmark: ``xkaohe sample`` and ``xkaohe indicators`` end to end, province and national.

Usage: python benchmarks/sampling.py [--scales province national] [--no-indicators] [--phases]
       [--only sample|indicators] [--sample DIR] [--results DIR]

For each scale a synthetic frame, roster and field week are written under
benchmarks/out/<scale>/ (once; reused when present). Then, each as its own
process, timed from process start to exit with its peak memory (max RSS):

1. ``xkaohe sample`` with every county's field list and the Monte Carlo
   inclusion probabilities (the whole command, as a user runs it);
2. ``xkaohe indicators`` on that sample and the synthetic field week
   (unless ``--no-indicators``);
3. ``--phases``: the sample again in one process, timed by phase (imports,
   plan, reading the frame, drawing with the inclusion probabilities, the
   output contract, writing the package, the field lists), wall and CPU.

``--only indicators`` skips the sample and times ``xkaohe indicators`` on the
sample package a previous run wrote (``--only sample``: the reverse). The sample
package and the results store go to benchmarks/out/<scale>/bench-sample and
bench-results unless ``--sample``/``--results`` name other folders (with several
scales, each scale's name is appended).

Also printed: the CPU seconds of each command (a busy shared machine inflates
wall time, not CPU time) and the load average. Asserts nothing. Targets
(issue 16): province sample under 5 s; national sample under 30 s and 4 GB;
national indicators under 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLAN = HERE.parent / "params" / "plan-2019.yaml"
SEED = "benchmark"  # the synthetic field week was drawn with it
BIN = Path(sys.executable).parent


def ensure_frame(scale: str) -> Path:
    """benchmarks/out/<scale>/: frame, roster, field (written once)."""
    out = HERE / "out" / scale
    if not (out / "field" / "household_survey.csv").exists():
        from xkaohe.run.commands import run_synth

        t = time.perf_counter()
        run_synth(out, scale, SEED)
        print(
            f"[{scale}] synthetic frame and field week written in {time.perf_counter() - t:.0f} s"
        )
    return out


def timed(*args: str) -> dict[str, float]:
    """Run a command; wall seconds, CPU seconds and peak MB of it (and what it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {proc.returncode}:\n{err[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def phases(frame: str, out: str) -> None:
    """Child process: the sample command's steps, one after another, timed."""
    t00, c00 = time.perf_counter(), time.process_time()
    from xkaohe.io.columns import NO_MAP
    from xkaohe.io.frame import SAMPLING_COLUMNS, load_frame
    from xkaohe.io.plan_file import load_plan
    from xkaohe.run import sample as commands  # what ``xkaohe sample`` imports
    from xkaohe.schemas import check_sample_package

    steps: dict[str, tuple[float, float]] = {
        "imports": (time.perf_counter() - t00, time.process_time() - c00)
    }

    def step(name: str, t: float, c: float) -> None:
        steps[name] = (time.perf_counter() - t, time.process_time() - c)

    t, c = time.perf_counter(), time.process_time()
    plan = load_plan(PLAN)
    step("plan", t, c)
    t, c = time.perf_counter(), time.process_time()
    draw = commands.Draw(plan, SEED, None)
    loaded = load_frame(frame, SAMPLING_COLUMNS, NO_MAP, draw.households_wanted)
    step("read frame (step 6 begun beside it)", t, c)
    t, c = time.perf_counter(), time.process_time()
    package = draw.sample(loaded)
    step("draw + rest of step 6", t, c)
    t, c = time.perf_counter(), time.process_time()
    check_sample_package(package.tables())
    step("output contract", t, c)
    t, c = time.perf_counter(), time.process_time()
    cert = commands.sample_certificate(
        loaded, PLAN, SEED, None, package, Path(frame), Path(out), plan
    )
    commands.write_package(Path(out), package.tables(), cert)
    step("certificate + package", t, c)
    t, c = time.perf_counter(), time.process_time()
    commands.write_field_lists(Path(out), loaded, package)
    step("field lists", t, c)
    step("total", t00, c00)
    print(json.dumps(steps))


def sample_command(xkaohe: str, scale: str, frame: Path, sample: Path, size: float) -> None:
    """Time ``xkaohe sample`` with the field lists, and print it."""
    s = timed(
        xkaohe,
        "sample",
        "--frame",
        str(frame),
        "--plan",
        str(PLAN),
        "--seed",
        SEED,
        "--out",
        str(sample),
    )
    lists = len(list((sample / "field_lists").glob("*.xlsx")))
    print(
        f"[{scale}] frame {size:,.0f} MB CSV; xkaohe sample end to end with {lists} field "
        f"lists: {s['wall']:.1f} s (CPU {s['cpu']:.1f} s), peak {s['peak_mb']:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["province", "national"])
    parser.add_argument("--no-indicators", action="store_true")
    parser.add_argument("--phases", action="store_true")
    parser.add_argument("--only", choices=("sample", "indicators"), default=None)
    parser.add_argument("--sample", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()

    def folder(given: Path | None, base: Path, default: str, scale: str) -> Path:
        if given is None:
            return base / default
        return given if len(args.scales) == 1 else given / scale

    xkaohe = str(BIN / "xkaohe")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    for scale in args.scales:
        base = ensure_frame(scale)
        frame = base / "frame"
        sample = folder(args.sample, base, "bench-sample", scale)
        results = folder(args.results, base, "bench-results", scale)
        size = sum(p.stat().st_size for p in frame.glob("*.csv")) / 2**20
        if args.only != "indicators":
            sample_command(xkaohe, scale, frame, sample, size)
        elif not (sample / "certificate.json").is_file():
            sys.exit(f"{sample} holds no sample package: run without --only indicators first")
        if not args.no_indicators and args.only != "sample":
            i = timed(
                xkaohe,
                "indicators",
                "--frame",
                str(frame),
                "--sample",
                str(sample),
                "--field",
                str(base / "field"),
                "--plan",
                str(PLAN),
                "--out",
                str(results),
            )
            print(
                f"[{scale}] xkaohe indicators end to end: {i['wall']:.1f} s "
                f"(CPU {i['cpu']:.1f} s), peak {i['peak_mb']:,.0f} MB"
            )
        if args.phases and args.only != "indicators":
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(frame), str(base / "bench-phases")],
                capture_output=True,
                text=True,
                check=True,
            )
            steps = json.loads(done.stdout.strip().splitlines()[-1])
            for name, (wall, cpu) in steps.items():
                print(f"[{scale}]   {name:<32} wall {wall:7.2f} s   CPU {cpu:7.2f} s")
    print(
        f"load average {os.getloadavg()[0]:.1f} at the end (2 cores: above 2, wall times "
        "include waiting for others' work)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        phases(sys.argv[2], sys.argv[3])
    else:
        main()
