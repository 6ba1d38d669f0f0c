"""Benchmark: county reports of the national run, locally and on Dask with 1 and 2 workers.

Usage: python benchmarks/national_reports.py [--reports 200] [--no-local] [--no-dask]

Builds (once) a national run under benchmarks/out/national-run/: the national
synthetic frame and field week of benchmarks/sampling.py (linked, not copied),
its sample (without field lists) and its results store. Then renders the
same ``--reports`` county reports, spread over the country (every k-th county):

1. locally: ``run_jobs`` with 2 warm-kernel workers;
2. on Dask: a ``dask scheduler`` and one ``dask worker --nthreads 1`` on
   127.0.0.1, then a second worker joins and the batch runs again.

A Dask worker keeps its kernels (and what they read) between batches, so
each Dask batch is timed after a few untimed notebooks; a local batch starts
its kernels afresh (as ``xkaohe run`` does), so it is timed cold, and also
shown at its steady rate (workers / median seconds a notebook). Printed:
notebooks per second, per second per worker, and the scaling from 1 to 2 Dask
workers (rate with 2 / rate with 1 / 2; 1.0 is linear). Prints figures; asserts
nothing. Target (issue 16): at least 0.75 of linear from 1 to 2 workers. On a
2-core machine that others share, the second worker competes with them for the
cores; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLAN = HERE.parent / "params" / "plan-2019.yaml"
NATIONAL = HERE / "out" / "national"
RUN = HERE / "out" / "national-run"
SEED = "benchmark"  # the seed the synthetic national field week was drawn with


def prepare() -> Path:
    """The national run: frame and field linked from benchmarks/out/national, sample, results."""
    from xkaohe.run.commands import run_indicators, run_synth
    from xkaohe.run.sample import run_sample

    if not (NATIONAL / "field" / "household_survey.csv").exists():
        t = time.perf_counter()
        run_synth(NATIONAL, "national", SEED)
        print(f"(national frame and field week written in {time.perf_counter() - t:.0f} s)")
    RUN.mkdir(parents=True, exist_ok=True)
    for name in ("frame", "field", "roster"):
        if not (RUN / name).exists():
            (RUN / name).symlink_to(NATIONAL / name, target_is_directory=True)
    shutil.copyfile(NATIONAL / "SYNTHETIC", RUN / "SYNTHETIC")
    if not (RUN / "results" / "manifest.json").exists():
        t = time.perf_counter()
        run_sample(RUN / "frame", PLAN, SEED, RUN / "sample", field_lists=False)
        run_indicators(RUN / "frame", RUN / "sample", RUN / "field", PLAN, RUN / "results")
        print(f"(national sample and results computed in {time.perf_counter() - t:.0f} s)")
    return RUN


def county_jobs(n: int) -> list[object]:
    from xkaohe.run.stages import report_jobs

    jobs = [s.job for s in report_jobs(RUN) if s.job.notebook == "county_report.ipynb"]
    step = max(1, len(jobs) // n)
    return jobs[::step][:n]


def _clean() -> None:
    for folder in ("reports", "notebooks"):
        shutil.rmtree(RUN / folder, ignore_errors=True)


def timed_batch(runner: object, jobs: list[object], workers: int, warm: bool = True) -> float:
    """Seconds for ``jobs`` (after ``4 * workers`` untimed notebooks, if ``warm``)."""
    from xkaohe.run.batch import JobResult

    if warm:
        runner(jobs[: 4 * workers], RUN, workers=workers, progress=False)  # type: ignore[operator]
        _clean()
    start = time.perf_counter()
    results: list[JobResult] = runner(jobs, RUN, workers=workers, progress=False)  # type: ignore[operator]
    took = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"  {len(failed)} failed, e.g. {failed[0].job.stem}: {failed[0].error[:200]}")
    median = statistics.median(r.seconds for r in results)
    print(f"  median {median:.2f} s a notebook: steady {workers / median:.2f} notebooks/s")
    return took


def _line(what: str, n: int, seconds: float, workers: int) -> float:
    rate = n / seconds
    print(
        f"{what}: {n} county reports in {seconds:.1f} s: {rate:.2f} notebooks/s, "
        f"{rate / workers:.2f} per worker"
    )
    return rate


def _cluster(folder: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    dask = [sys.executable, "-m", "dask"]
    local = ["--host", "127.0.0.1", "--no-dashboard"]
    address_file = folder / "scheduler.json"
    log = (folder / "cluster.log").open("wb")
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", *local, "--port", "0", "--scheduler-file", str(address_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ]
    deadline = time.monotonic() + 60
    while True:
        try:
            address = str(json.loads(address_file.read_text(encoding="utf-8"))["address"])
            break
        except (OSError, ValueError, KeyError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return address, procs


def _worker(address: str, folder: Path) -> subprocess.Popen[bytes]:
    log = (folder / "cluster.log").open("ab")
    cmd = [sys.executable, "-m", "dask", "worker", address, "--host", "127.0.0.1"]
    cmd += ["--no-dashboard", "--nthreads", "1", "--no-nanny"]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in reversed(procs):  # workers first, then the scheduler
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--no-local", action="store_true")
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()

    prepare()
    from distributed import Client

    from xkaohe.run.batch import run_jobs
    from xkaohe.run.dask_executor import DaskRunner

    jobs = county_jobs(args.reports)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    if not args.no_local:
        _clean()
        took = timed_batch(run_jobs, jobs, 2, warm=False)
        _line("local, 2 workers, kernels started cold", len(jobs), took, 2)
    if not args.no_dask:
        folder = Path(tempfile.mkdtemp(prefix="dask-bench-"))
        address, procs = _cluster(folder)
        try:
            procs.append(_worker(address, folder))
            with Client(address, timeout=60, set_as_default=False) as client:
                client.wait_for_workers(1, timeout=120)
            _clean()
            one = _line("Dask, 1 worker", len(jobs), timed_batch(DaskRunner(address), jobs, 1), 1)
            procs.append(_worker(address, folder))
            with Client(address, timeout=60, set_as_default=False) as client:
                client.wait_for_workers(2, timeout=120)
            _clean()
            two = _line("Dask, 2 workers", len(jobs), timed_batch(DaskRunner(address), jobs, 2), 2)
            print(f"scaling 1 -> 2 Dask workers: {two / one / 2:.2f} of linear")
        finally:
            _stop(procs)
            shutil.rmtree(folder, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
