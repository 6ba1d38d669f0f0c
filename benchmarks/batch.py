"""Benchmark: the province's report batch, re-runs, and where a notebook's time goes.

Usage: python benchmarks/batch.py [--workers 2] [--naive 12] [--no-naive] [--profile 4] [--fresh]

Prepares (once; ``--fresh`` again) the demo province under benchmarks/out/batch-run
(70 counties, 179 reports), then measures, each as its own ``xkaohe`` process:

1. **cold batch**: ``xkaohe run --stage reports index`` with no reports yet: wall
   time, and the CPU seconds of every process it started (driver, workers,
   kernels), which a busy shared machine does not inflate the way it does wall time;
2. **unchanged re-run**: the same command again (every report skipped);
3. **a correction**: one household's return in one county corrected (approval),
   ``xkaohe run --stage indicators``, then ``--stage reports index``: which
   reports rendered again and how long it took (the correction is undone after);
4. **the naive way** (unless ``--no-naive``): one ``papermill`` process and one
   ``jupyter nbconvert --to html`` process per notebook, for ``--naive`` notebooks
   spread evenly over the batch (every k-th, so every kind of report is in
   it), extrapolated to the whole batch from their mean;
5. ``--profile N``: N notebooks of each kind in one warm kernel in this process,
   timed by phase (parameterise, the reset cell, the notebook's cells,
   nbclient's messaging, writing the executed notebook, nbconvert, writing HTML),
   with the slowest cells of each kind.

Prints figures; asserts nothing. Targets (issue 16): the batch in at most 60 s
on 2 cores and at least 20x the naive way; an unchanged re-run a few seconds;
a correction's re-render under 10 s.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
RUN = HERE / "out" / "batch-run"


def _cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)  # finished descendants, waited for
    return use.ru_utime + use.ru_stime


def xkaohe(*args: str) -> tuple[float, float, str]:
    """Run ``xkaohe ARGS``: (wall seconds, CPU seconds of it and its children, stdout)."""
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(
        [str(BIN / "xkaohe"), *args], cwd=REPO, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: a report failed, reported below
        sys.exit(f"xkaohe {' '.join(args)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    if done.returncode == 1:
        print(done.stderr[-2000:], file=sys.stderr)
    return wall, _cpu() - cpu, done.stdout


def prepare(fresh: bool, workers: int) -> Path:
    from xkaohe.run.stages import DEFAULT_PLAN, RunParams, prepare_demo_run, write_run_params

    if fresh:
        shutil.rmtree(RUN, ignore_errors=True)
    if not (RUN / "results" / "manifest.json").exists():
        t = time.perf_counter()
        prepare_demo_run(RUN, field_lists=False)
        print(f"(demo province prepared in {time.perf_counter() - t:.0f} s)")
    params = RUN / "run.yaml"
    write_run_params(params, RunParams(run=RUN, plan=DEFAULT_PLAN, seed="demo", workers=workers))
    return params


def summary(stdout: str) -> str:
    found = re.search(r"reports: \d+ rendered, \d+ unchanged \(skipped\), \d+ failed", stdout)
    return found.group(0) if found else "(no summary)"


def correct_one_county() -> tuple[Path, bytes, str]:
    """Flip one approving household to disapproving in the first paired county."""
    import polars as pl

    from xkaohe.io.run import read_counties

    counties = read_counties(RUN / "frame").sort("county_code")
    county = str(
        counties.filter(
            pl.col("national_poverty_county") & pl.col("paired_helper_county").is_not_null()
        )["county_code"][0]
    )
    survey = RUN / "field" / "household_survey.csv"
    original = survey.read_bytes()
    lines = original.decode("utf-8").splitlines(keepends=True)
    row = next(
        i
        for i, line in enumerate(lines)
        if line.split(",")[1].startswith(county) and ",approve," in line
    )
    lines[row] = lines[row].replace(",approve,", ",disapprove,", 1)
    survey.write_text("".join(lines), encoding="utf-8")
    return survey, original, county


def naive(jobs: list[Any], n: int) -> tuple[float, float, int]:
    """Papermill + nbconvert processes for ``n`` jobs spread over the batch: (wall, CPU, n)."""
    if n >= len(jobs):
        chosen = jobs
    else:
        chosen = [jobs[round(i * (len(jobs) - 1) / max(1, n - 1))] for i in range(n)]
    out = Path(tempfile.mkdtemp(prefix="naive-"))
    cpu, start = _cpu(), time.perf_counter()
    try:
        for job in chosen:
            executed = out / f"{job.stem}.ipynb"
            cmd = [str(BIN / "papermill"), job.notebook, str(executed), "--no-progress-bar"]
            for key, value in {**job.parameters, "run_dir": str(RUN)}.items():
                cmd += ["-r", key, str(value)]
            subprocess.run(cmd, check=True, cwd=REPO / "notebooks", capture_output=True)
            subprocess.run(
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
                check=True,
                capture_output=True,
            )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return time.perf_counter() - start, _cpu() - cpu, len(chosen)


def profile(n_each: int) -> None:
    """Phases of N notebooks of each kind in one warm kernel, and their slowest cells."""
    import nbformat
    from nbclient import NotebookClient
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from xkaohe.io.files import write_text
    from xkaohe.io.render import report_html
    from xkaohe.run import batch
    from xkaohe.run.stages import report_jobs

    batch.kernel_environment(str(RUN))
    footer = batch.prepare_reports(RUN)
    warm = batch.WarmKernel()
    start = time.perf_counter()
    km, kc = warm.ready()
    print(f"\nprofile: kernel start and warm-up {time.perf_counter() - start:.2f} s (once)")
    kinds: dict[str, list[Any]] = collections.defaultdict(list)
    for scoped in report_jobs(RUN):
        kinds[scoped.job.notebook].append(scoped.job)
    phases: dict[str, dict[str, float]] = collections.defaultdict(
        lambda: collections.defaultdict(float)
    )
    cells: dict[tuple[str, str], float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()
    try:
        for name, jobs in kinds.items():
            step = max(1, len(jobs) // n_each)
            for job in jobs[::step][:n_each]:
                t0 = time.perf_counter()
                nb = load_notebook_node(str(batch.NOTEBOOKS / job.notebook))
                nb = parameterize_notebook(
                    nb, {**job.parameters, "run_dir": str(RUN)}, language="python"
                )
                reset = nbformat.v4.new_code_cell(batch._RESET)
                nb.cells.insert(0, reset)
                t1 = time.perf_counter()
                client = NotebookClient(nb, km=km, timeout=600, kernel_name=batch.KERNEL)
                client.kc = kc
                client.execute()
                t2 = time.perf_counter()
                in_cells = reset_s = 0.0
                for i, cell in enumerate(nb.cells):
                    ex = cell.metadata.get("execution")
                    if not ex:
                        continue
                    took = (
                        dt.datetime.fromisoformat(ex["shell.execute_reply"])
                        - dt.datetime.fromisoformat(ex["iopub.execute_input"])
                    ).total_seconds()
                    if i == 0:
                        reset_s = took
                        continue
                    in_cells += took
                    cells[(name, cell.source.splitlines()[0][:70])] += took
                nb.cells.remove(reset)
                t3 = time.perf_counter()
                nbformat.write(nb, str(RUN / "notebooks" / f"{job.stem}.ipynb"))
                t4 = time.perf_counter()
                page = report_html(nb, job.title, footer)
                t5 = time.perf_counter()
                write_text(RUN / "reports" / f"{job.stem}.html", page)
                t6 = time.perf_counter()
                for phase, seconds in (
                    ("parameterise", t1 - t0),
                    ("reset cell", reset_s),
                    ("notebook cells", in_cells),
                    ("nbclient messaging", (t2 - t1) - in_cells - reset_s),
                    ("write ipynb", t4 - t3),
                    ("nbconvert", t5 - t4),
                    ("write html", t6 - t5),
                    ("total", t6 - t0),
                ):
                    phases[name][phase] += seconds
                counts[name] += 1
    finally:
        warm.stop()
    order = [
        "parameterise",
        "reset cell",
        "notebook cells",
        "nbclient messaging",
        "write ipynb",
        "nbconvert",
        "write html",
        "total",
    ]
    print("mean seconds a notebook, by phase:")
    print(f"{'notebook':<26}{'n':>3}" + "".join(f"{p:>19}" for p in order))
    for name in phases:
        k = counts[name]
        print(f"{name:<26}{k:>3}" + "".join(f"{phases[name][p] / k:>19.3f}" for p in order))
    print("slowest cells (mean seconds):")
    for name in phases:
        top = sorted(
            ((s / counts[name], label) for (n, label), s in cells.items() if n == name),
            reverse=True,
        )[:3]
        print(f"  {name}: " + "; ".join(f"{s:.3f} {label}" for s, label in top))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--naive", type=int, default=12, help="notebooks run the naive way")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="N of each kind")
    parser.add_argument("--fresh", action="store_true", help="prepare the demo province again")
    args = parser.parse_args()

    from xkaohe.run.commands import run_indicators
    from xkaohe.run.stages import DEFAULT_PLAN, report_jobs

    params = str(prepare(args.fresh, args.workers))
    jobs = [s.job for s in report_jobs(RUN)]
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    for folder in ("reports", "notebooks"):
        shutil.rmtree(RUN / folder, ignore_errors=True)

    wall, cpu, out = xkaohe("run", "--params", params, "--stage", "reports", "index")
    print(
        f"1. cold batch, {len(jobs)} notebooks, {args.workers} workers: {wall:.1f} s "
        f"({wall / len(jobs):.2f} s a notebook; CPU {cpu:.1f} s, "
        f"{cpu / len(jobs):.2f} s a notebook) — {summary(out)}"
    )
    wall2, _, out2 = xkaohe("run", "--params", params, "--stage", "reports", "index")
    print(f"2. unchanged re-run: {wall2:.1f} s — {summary(out2)}")

    survey, original, county = correct_one_county()
    try:
        wall3, _, _ = xkaohe("run", "--params", params, "--stage", "indicators")
        wall4, _, out4 = xkaohe("run", "--params", params, "--stage", "reports", "index")
        print(
            f"3. a correction in county {county}: indicators {wall3:.1f} s, then reports "
            f"and index {wall4:.1f} s — {summary(out4)}"
        )
    finally:
        survey.write_bytes(original)  # undone: the next run starts from the demo again
        run_indicators(RUN / "frame", RUN / "sample", RUN / "field", DEFAULT_PLAN, RUN / "results")

    if not args.no_naive:
        naive_wall, naive_cpu, n = naive(jobs, args.naive)
        total = naive_wall / n * len(jobs)
        print(
            f"4. naive papermill + nbconvert, one after another ({n} notebooks spread over "
            f"the batch, extrapolated): {total:.1f} s ({naive_wall / n:.2f} s a notebook; "
            f"CPU {naive_cpu / n:.2f} s a notebook)"
        )
        print(f"   speed-up: {total / wall:.1f}x wall, {naive_cpu / n * len(jobs) / cpu:.1f}x CPU")
    print(
        f"load average {os.getloadavg()[0]:.1f} at the end (2 cores: above 2, others' work "
        "slowed the wall times)"
    )
    if args.profile:
        profile(args.profile)


if __name__ == "__main__":
    main()
