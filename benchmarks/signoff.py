"""Benchmark: the results-slice digest that signatures and the batch fingerprints record.

Usage: python benchmarks/signoff.py [--run DIR]

With ``--run`` a run folder that has its results (``xkaohe demo`` leaves one);
otherwise a small synthetic run is prepared in a temporary folder (synthesis,
sample, lottery, indicators). Prints, for the run's team reports:

1. the canonical digest per report without a cache (``xkaohe sign``: one report,
   only its slice read and converted);
2. all team reports with one shared cache (``verify-signatures``, the index: each
   table read and converted once);
3. the former digest (polars row hashes of the slice), for comparison;
4. the batch fingerprints of every report (``plan_reports``).

Prints figures; asserts nothing but that the two canonical ways agree.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe.io.fingerprints import TEAM_REPORT_INPUTS, input_tables
from xkaohe.io.signatures import results_digest
from xkaohe.run.stages import plan_reports, prepare_demo_run, report_jobs


def _former(path: Path, codes: tuple[str, ...], city: str | None) -> str:
    """The digest before the canonical form: polars row hashes (version-dependent)."""
    lazy = (
        pl.scan_parquet(path)
        if path.suffix == ".parquet"
        else pl.scan_csv(path, infer_schema=False)
    )
    names = lazy.collect_schema().names()
    if "county_code" not in names:
        return "-"
    keep = pl.col("county_code").is_in(list(codes))
    if city is not None and "city_name" in names:
        keep = keep | (pl.col("county_code").is_null() & (pl.col("city_name") == city))
    rows = lazy.filter(keep).collect()
    return str(rows.hash_rows(seed=0).sort().implode().hash(seed=0).item()) + f":{rows.height}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a run folder with results (default: a fresh small run)")
    args = parser.parse_args()
    if args.run:
        run = Path(args.run)
    else:
        run = Path(tempfile.mkdtemp(prefix="xkaohe-bench-signoff-")) / "run"
        t = time.perf_counter()
        prepare_demo_run(run, field_lists=False)
        print(f"prepared a small run in {time.perf_counter() - t:.1f} s: {run}")
    jobs = report_jobs(run)
    team = [
        s for s in jobs if s.county_codes is not None and s.job.notebook != "county_sample.ipynb"
    ]
    tables = input_tables(run, TEAM_REPORT_INPUTS)
    print(f"{len(team)} team reports, {len(tables)} tables each")

    sample = team[:10]
    t = time.perf_counter()
    alone = [results_digest(run, list(s.county_codes or ()), s.city) for s in sample]
    per = (time.perf_counter() - t) / len(sample)
    print(f"1. one report, no cache:          {per * 1000:7.0f} ms a report")

    cache: dict[Path, Any] = {}
    t = time.perf_counter()
    shared = [results_digest(run, list(s.county_codes or ()), s.city, cache) for s in team]
    whole = time.perf_counter() - t
    each = whole / len(team) * 1000
    print(f"2. all {len(team)} with one cache:      {whole:7.2f} s ({each:.0f} ms a report)")
    if shared[: len(alone)] != alone:
        raise SystemExit("the cached and uncached digests differ")

    t = time.perf_counter()
    for s in sample:
        for path in tables:
            _former(path, tuple(s.county_codes or ()), s.city)
    former = (time.perf_counter() - t) / len(sample)
    print(f"3. former row-hash digest:        {former * 1000:7.0f} ms a report")

    t = time.perf_counter()
    plan_reports(run, jobs)
    print(f"4. fingerprints of {len(jobs)} reports: {time.perf_counter() - t:7.2f} s")


if __name__ == "__main__":
    main()
