"""The results store: ``runs/<run>/results/*.parquet``, written once per run.

Every table carries its county/city keys, so a notebook loads only its slice
(``read_result(run, name, county_code=...)``) instead of recomputing.
``manifest.json`` records what the results were computed from.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from xkaohe.errors import InputError, Problem
from xkaohe.io.files import atomic_path, read_json, write_bytes, write_json
from xkaohe.io.memo import remembered
from xkaohe.io.plan_file import load_plan
from xkaohe.io.sample_package import write_csv
from xkaohe.results_spec import Result, check_results

if TYPE_CHECKING:
    from xkaohe.plan import Plan

MANIFEST = "manifest.json"
PLAN_COPY = "plan.yaml"  # the plan the results were computed with: a run can move
CSV_COPIES = (Result.COUNTY_INDICATORS, Result.REJECTS)  # the contract's CSV; what teams fix
WRITER = (
    "a results table written by the indicators stage "
    "(xkaohe indicators, or xkaohe run --stage indicators: run it again)"
)


def write_results(
    out: Path, tables: dict[str, pl.DataFrame], manifest: dict[str, Any], plan_file: Path
) -> None:
    tables = check_results(tables)  # every table as declared in xkaohe/results_spec.py
    out.mkdir(parents=True, exist_ok=True)
    write_bytes(out / PLAN_COPY, plan_file.read_bytes())
    for name, df in tables.items():
        with atomic_path(out / f"{name}.parquet") as tmp:  # a reader never sees half a table
            df.write_parquet(tmp, statistics=False)
        if name in CSV_COPIES:
            write_csv(df, out / f"{name}.csv")
    write_json(out / MANIFEST, manifest | {"tables": {k: v.height for k, v in tables.items()}})


def results_dir(run: Path) -> Path:
    return run / "results"


def read_result(run: Path, name: Result, **equal: str) -> pl.DataFrame:
    """One results table, filtered on the given columns.

    The whole table is read once while its file is unchanged (io.memo: a warm
    report kernel serves every notebook's slice from memory); each caller gets
    its own copy.
    """
    path = results_dir(run) / f"{name}.parquet"
    if not path.exists():
        raise InputError(Problem(str(path), None, None, WRITER, "no such file"))
    table = remembered("result", [path], lambda: _read_parquet(path))
    for column, value in equal.items():
        table = table.filter(pl.col(column) == value)
    return table.clone()


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:  # truncated, overwritten, not parquet
        lines = str(exc).strip().splitlines()
        why = lines[0][:120] if lines else type(exc).__name__
        raise InputError(
            Problem(str(path), None, None, WRITER, f"a damaged file ({why})")
        ) from None


def read_rejects(run: Path) -> pl.DataFrame | None:
    """The field rows the indicators stage rejected, or None when the run has no results yet."""
    if not (results_dir(run) / f"{Result.REJECTS}.parquet").exists():
        return None
    return read_result(run, Result.REJECTS)


def read_manifest(run: Path) -> dict[str, Any]:
    data = read_json(results_dir(run) / MANIFEST)
    if not isinstance(data, dict):
        raise InputError(
            Problem(
                str(results_dir(run) / MANIFEST), None, None, "a JSON object", type(data).__name__
            )
        )
    return data


def run_plan(run: Path) -> Plan:
    """The plan a run's results were computed with (its copy in the results store)."""
    copy = results_dir(run) / PLAN_COPY
    return load_plan(copy if copy.exists() else read_manifest(run)["plan"]["path"])
