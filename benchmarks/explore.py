"""Benchmark: the explorer (notebooks/explore.ipynb) on a national run, a change of county.

Usage: python benchmarks/explore.py [--run DIR] [--counties 20] [--profile]

Builds the explorer's state as the notebook does (``Explorer.from_run``: the
results store read once, personal data masked, the widgets built) and then
selects ``--counties`` counties spread over the country, each as a user
would: the city, then the county. ``Explorer.select`` sets the widgets'
values, so the ipywidgets callbacks run exactly as in JupyterLab, without a
browser (the front end's drawing is not timed). A fresh county in another
city is always chosen, so every selection changes both dropdowns.

``--run``: a run folder with ``frame/``, ``sample/`` and ``results/``. By
default one is assembled (links, in a temporary folder) from
benchmarks/out/national: its frame, ``bench-sample`` and ``bench-results``
(written by ``benchmarks/sampling.py --scales national``). ``--profile``
prints where the selections' time goes (cProfile, cumulative).

Prints the build time, the median and max seconds of a selection, and CPU
seconds with the load average. Asserts nothing. Target (issue 16): a change
of county under 0.3 s on the national run.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from xkaohe.report.explore import Explorer

HERE = Path(__file__).resolve().parent
NATIONAL = HERE / "out" / "national"


def assemble(folder: Path) -> Path:
    """A run folder linking the national frame, benchmark sample and benchmark results."""
    parts = {"frame": "frame", "sample": "bench-sample", "results": "bench-results"}
    for name, source in parts.items():
        if not (NATIONAL / source).is_dir():
            raise SystemExit(
                f"{NATIONAL / source} is missing: run benchmarks/sampling.py --scales national"
            )
        (folder / name).symlink_to(NATIONAL / source, target_is_directory=True)
    if (NATIONAL / "SYNTHETIC").exists():
        (folder / "SYNTHETIC").write_bytes((NATIONAL / "SYNTHETIC").read_bytes())
    return folder


def spread(explorer: Explorer, count: int) -> list[str]:
    """``count`` counties spread over the country, consecutive ones in different cities."""
    counties = explorer.data.counties.sort("county_code")
    step = max(1, counties.height // count)
    picked: list[str] = []
    last_city = explorer.city.value
    for code, city in counties.select("county_code", "city_name").iter_rows():
        if len(picked) == count:
            break
        if city != last_city and (not picked or counties["county_code"].index_of(code) % step == 0):
            picked.append(code)
            last_city = city
    return picked


def run(folder: Path, count: int, profile: bool) -> None:
    print(f"load average {os.getloadavg()[0]:.1f} at start; run {folder}")
    t, c = time.perf_counter(), time.process_time()
    explorer = Explorer.from_run(folder)
    print(
        f"explorer built (results read, widgets made): {time.perf_counter() - t:.2f} s "
        f"(CPU {time.process_time() - c:.2f} s); {explorer.data.counties.height} counties, "
        f"{explorer.data.households.height:,} surveyed households, "
        f"{explorer.data.findings.height:,} findings"
    )
    codes = spread(explorer, count)
    prof = cProfile.Profile() if profile else None
    c = time.process_time()
    if prof is not None:
        prof.enable()
    seconds = [explorer.select(code) for code in codes]
    if prof is not None:
        prof.disable()
    cpu = time.process_time() - c
    shown = explorer.timings[-len(codes) :]
    print(
        f"change of county ({len(codes)} counties, city then county): median "
        f"{statistics.median(seconds):.3f} s, max {max(seconds):.3f} s "
        f"(the county callback alone: median {statistics.median(shown):.3f} s, "
        f"max {max(shown):.3f} s); CPU {cpu / len(codes):.3f} s a change"
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end (2 cores: above 2, others wait)")
    if prof is not None:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=None)
    parser.add_argument("--counties", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.run is not None:
        run(args.run, args.counties, args.profile)
        return
    with tempfile.TemporaryDirectory(prefix="xkaohe-explore-") as tmp:
        run(assemble(Path(tmp)), args.counties, args.profile)


if __name__ == "__main__":
    main()
