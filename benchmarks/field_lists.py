"""Benchmark: the field lists phase of ``xkaohe sample`` (one xlsx per county), alone.

Usage: python benchmarks/field_lists.py [--scales national province] [--repeat N]
       [--out DIR]

For each scale the sample package already written under
benchmarks/out/<scale>/bench-sample (``python benchmarks/sampling.py --only sample``
writes it) is read back with :func:`xkaohe.io.sample_package.read_package`, and
the frame's two small tables (counties.csv, villages.csv; never households.csv)
with the columns the field lists print. Then
:func:`xkaohe.run.sample.write_field_lists` writes every county's list into
``DIR/<scale>`` (default /tmp/xl-field-lists), ``--repeat`` times, each timed:
wall seconds, CPU seconds of this process and CPU seconds of the writer
processes it started (``RUSAGE_CHILDREN``, counted when they have exited).

The machine may be shared: wall time includes waiting for others' work, CPU
time does not; the load average is printed. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path

import polars as pl

from xkaohe.draw.sampling import SamplePackage
from xkaohe.inputs import Frame
from xkaohe.io.sample_package import read_package
from xkaohe.run.sample import write_field_lists

HERE = Path(__file__).resolve().parent


def load(scale: str) -> tuple[Frame, SamplePackage]:
    """The scale's sample package and the frame tables the field lists read."""
    base = HERE / "out" / scale
    package = SamplePackage(**read_package(base / "bench-sample"))
    small = {
        name: pl.read_csv(base / "frame" / f"{name}.csv", columns=columns, infer_schema=False)
        for name, columns in (
            ("counties", ["county_code", "county_name"]),
            ("villages", ["village_code", "village_name"]),
        )
    }
    empty = pl.DataFrame()
    frame = Frame(small["counties"], small["villages"], empty, empty, empty)
    return frame, package


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(out: Path, frame: Frame, package: SamplePackage) -> tuple[int, float, float, float]:
    """Books written; wall, own CPU and children's CPU seconds of one write_field_lists."""
    t, c, k = time.perf_counter(), time.process_time(), children_cpu()
    paths = write_field_lists(out, frame, package)
    return (
        len(paths),
        time.perf_counter() - t,
        time.process_time() - c,
        children_cpu() - k,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["national", "province"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/xl-field-lists"))
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    for scale in args.scales:
        t = time.perf_counter()
        frame, package = load(scale)
        print(f"[{scale}] package and frame tables read in {time.perf_counter() - t:.1f} s")
        out = args.out / scale
        for i in range(args.repeat):
            shutil.rmtree(out / "field_lists", ignore_errors=True)
            n, wall, own, kids = timed(out, frame, package)
            print(
                f"[{scale}] run {i + 1}: {n} field lists in {wall:.2f} s wall; CPU "
                f"{own + kids:.2f} s ({own:.2f} s here + {kids:.2f} s in writer processes); "
                f"load {os.getloadavg()[0]:.1f}"
            )
    print(f"load average {os.getloadavg()[0]:.1f} at the end (2 cores: above 2 means waiting)")


if __name__ == "__main__":  # the writers are spawned processes: they import this module
    main()
