"""Benchmark: the demo report batch with `xkaohe run` against the naive way.

Usage: python benchmarks/batch.py [--naive N | --naive-all] [--workers 2]

Prepares (once) a small synthetic run under benchmarks/out/batch-run, then:
1. `xkaohe run --stage reports` with warm-kernel workers, from a cold start
   (fingerprints removed, so every report is executed);
2. the naive way for the same notebooks and parameters: one `papermill`
   process and one `jupyter nbconvert --to html` process per notebook, one
   after another. By default only the first N notebooks run the naive way and
   its total is extrapolated from their mean (say --naive-all for all).
Prints both times and the ratio; asserts nothing. Targets (issue 4): at least
5x faster than the naive way, and the whole province rendered in under 2 min.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive", type=int, default=12, help="notebooks to run the naive way")
    parser.add_argument("--naive-all", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from xkaohe.run.stages import (
        DEFAULT_PLAN,
        RunParams,
        prepare_demo_run,
        report_jobs,
        write_run_params,
    )

    run = HERE / "out" / "batch-run"
    if not (run / "results" / "manifest.json").exists():
        prepare_demo_run(run, field_lists=False)
    params = run / "run.yaml"
    write_run_params(params, RunParams(run=run, plan=DEFAULT_PLAN, seed="demo",
                                       workers=args.workers))
    shutil.rmtree(run / "reports", ignore_errors=True)

    start = time.perf_counter()
    subprocess.run([str(BIN / "xkaohe"), "run", "--params", str(params), "--stage", "reports"],
                   check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    fast = time.perf_counter() - start
    jobs = [s.job for s in report_jobs(run)]

    chosen = jobs if args.naive_all else jobs[: args.naive]
    out = Path(tempfile.mkdtemp(prefix="naive-"))
    start = time.perf_counter()
    for job in chosen:
        executed = out / f"{job.stem}.ipynb"
        cmd = [str(BIN / "papermill"), job.notebook, str(executed), "-r", "run_dir", str(run),
               "--no-progress-bar"]
        for key, value in job.parameters.items():
            cmd += ["-r", key, str(value)]
        subprocess.run(cmd, check=True, cwd=REPO / "notebooks", capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                        str(executed)], check=True, capture_output=True)
    naive_part = time.perf_counter() - start
    naive = naive_part / len(chosen) * len(jobs)
    shutil.rmtree(out, ignore_errors=True)

    how = "measured" if args.naive_all else f"extrapolated from {len(chosen)} notebooks"
    print(f"notebooks: {len(jobs)}; workers: {args.workers}")
    print(f"xkaohe run (warm kernels, in-process HTML): {fast:.1f} s "
          f"({fast / len(jobs):.2f} s a notebook)")
    print(f"naive papermill + nbconvert, one after another: {naive:.1f} s ({how}; "
          f"{naive_part / len(chosen):.2f} s a notebook)")
    print(f"speed-up: {naive / fast:.1f}x")


if __name__ == "__main__":
    main()
