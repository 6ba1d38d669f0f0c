"""What a report's output depends on, as digests of files and of result slices.

``xkaohe run`` executes a report again only when its fingerprint changes
(:mod:`xkaohe.run.stages`); this module reads what the fingerprints are made of
and keeps the last successful ones in ``reports/.fingerprints.json``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl

from xkaohe.errors import InputError, Problem
from xkaohe.io.files import write_text

STORE = ".fingerprints.json"
_WRITERS = {
    "results": "a results table written by the indicators stage (run it again)",
    "sample": "a sample package table written by the sample stage (run it again)",
    "lottery": "a lottery table written by the lottery stage (run it again)",
}
"""What writes each folder of input tables, for the message about a damaged one."""


def code_digest(package: Path) -> str:
    """Digest of the package's source: a code change re-renders every report."""
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_tables(run: Path) -> list[Path]:
    """The tables reports read: the results store, the sample package, the lottery."""
    return sorted(
        [
            *(run / "results").glob("*.parquet"),
            *(run / "sample").glob("*.csv"),
            *(run / "lottery").glob("*.csv"),
        ]
    )


def slice_digest(
    path: Path,
    codes: tuple[str, ...] | None,
    city: str | None,
    cache: dict[Path, pl.DataFrame] | None = None,
) -> str:
    """Digest of the rows a report reads from one table (the whole file for the province).

    ``cache``: tables already read, shared across the fingerprints of one run
    (each table is then read once, not once per report).
    """
    if codes is None:
        return file_digest(path)
    try:
        if cache is not None:
            if path not in cache:
                cache[path] = _scan(path).collect()
            lazy = cache[path].lazy()
        else:
            lazy = _scan(path)
        names = lazy.collect_schema().names()
        if "county_code" not in names:
            return "-"
        keep = pl.col("county_code").is_in(list(codes))
        if city is not None and "city_name" in names:
            keep = keep | (pl.col("county_code").is_null() & (pl.col("city_name") == city))
        rows = lazy.filter(keep).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:  # a damaged table names itself
        lines = str(exc).strip().splitlines()
        why = lines[0][:120] if lines else type(exc).__name__
        raise InputError(
            Problem(str(path), None, None, _WRITERS.get(path.parent.name, "a table"), why)
        ) from None
    return str(rows.hash_rows(seed=0).sort().implode().hash(seed=0).item()) + f":{rows.height}"


def _scan(path: Path) -> pl.LazyFrame:
    if path.suffix == ".parquet":
        return pl.scan_parquet(path)
    return pl.scan_csv(path, infer_schema=False)


def read_store(reports: Path) -> dict[str, str]:
    store = reports / STORE
    try:
        data = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    except (ValueError, OSError):  # damaged: forget it, every report is rendered again
        data = {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_store(reports: Path, known: dict[str, str]) -> None:
    write_text(reports / STORE, json.dumps(known, indent=1, sort_keys=True))
