"""Returned rectification registers on disk (plan 七(二)): read an xlsx, keep the store.

A returned register is the package's ``整改台账.xlsx`` filled in. The store is
``runs/<run>/rectification/registers.parquet`` (one row per package and
problem, the latest return winning) plus each imported file kept under
``rectification/returns/<sha256>.xlsx``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW
from xkaohe.io.files import read_json, sha256_file

STORE = "rectification"
REGISTERS = "registers.parquet"


def read_register(path: Path, headers: dict[str, str]) -> pl.DataFrame:
    """The first sheet of a returned register as text, canonical columns and ``_row``.

    ``headers``: canonical name -> Chinese header. Either may head a column.
    """
    if not path.is_file():
        raise InputError(Problem(str(path), None, None, "a returned register (.xlsx)", "no file"))
    try:
        df = pl.read_excel(path, sheet_id=1, infer_schema_length=0)
    except Exception as exc:  # a damaged or foreign file: say so, do not crash
        raise InputError(
            Problem(str(path), None, None, "an xlsx register", str(exc).splitlines()[0][:120])
        ) from None
    by_header = {v: k for k, v in headers.items()} | {k: k for k in headers}
    df = df.rename({c: by_header[c] for c in df.columns if c in by_header})
    missing = [headers[c] for c in headers if c not in df.columns]
    if missing:
        raise InputError(
            Problem(str(path), 1, "、".join(missing), "these columns", "、".join(df.columns))
        )
    return (
        df.select(list(headers))
        .with_row_index(ROW, offset=2)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )


def read_packages(run: Path) -> dict[str, dict[str, Any]] | None:
    """The feedback manifest (``feedback/packages.json``, written by
    :func:`xkaohe.run.feedback_files.write_feedback`), or None before the feedback stage."""
    path = run / "feedback" / "packages.json"
    if not path.exists():
        return None
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(Problem(str(path), None, None, "a JSON object", type(data).__name__))
    return {str(k): dict(v) for k, v in data.items()}


def store_dir(run: Path) -> Path:
    return run / STORE


def read_registers(run: Path) -> pl.DataFrame | None:
    path = store_dir(run) / REGISTERS
    return pl.read_parquet(path) if path.exists() else None


def write_registers(run: Path, rows: pl.DataFrame, files: list[Path]) -> Path:
    """Keep the imported files and replace the store in one rename (never half written)."""
    out = store_dir(run)
    (out / "returns").mkdir(parents=True, exist_ok=True)
    for f in files:
        target = out / "returns" / f"{sha256_file(f)}.xlsx"
        if not target.exists():
            shutil.copyfile(f, target)
    path = out / REGISTERS
    tmp = out / f".{REGISTERS}.{os.getpid()}.tmp"
    rows.write_parquet(tmp)
    os.replace(tmp, path)
    return path


__all__ = ["read_packages", "read_register", "read_registers", "store_dir", "write_registers"]
