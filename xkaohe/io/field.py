"""Load the field returns (what teams enter each day) with the frame's reading rules.

A missing table reads as empty (a team may have raised no problem yet); a
bad cell is a problem reported with file, row and column. Rows that read but
cannot be used (unknown household, a visit outside the field week, ...) are
not dropped here: :mod:`xkaohe.field.checks` lists them as rejects.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW, Field, TableFile
from xkaohe.io.columns import NO_MAP, ColumnMap
from xkaohe.io.tables import read_table


def empty_table(spec: schemas.TableSpec) -> pl.DataFrame:
    """A table with the spec's columns and no rows."""
    schema = {ROW: pl.Int64} | {c.name: schemas.KIND_DTYPES[c.kind] for c in spec.columns}
    return pl.DataFrame(schema=schema)


def load_field(directory: str | Path, columns: ColumnMap = NO_MAP) -> Field:
    """Read the field returns of ``directory``; all problems at once.

    ``columns``: the user's header map (:mod:`xkaohe.io.columns`).
    """
    d = Path(directory)
    if not d.is_dir():
        raise InputError(
            Problem(str(d), None, None, "a field-returns directory", "no such directory")
        )
    tables: dict[str, pl.DataFrame] = {}
    files: list[TableFile] = []
    problems: list[Problem] = []
    for spec in schemas.FIELD_TABLES:
        df, info, found = read_table(d, spec, required=False, columns=columns)
        problems += found
        tables[spec.name] = df if df is not None else empty_table(spec)
        if info is not None:
            files.append(info)
    if problems:
        raise InputError(problems)
    return Field(**tables, files=tuple(files))
