"""What a report's output depends on, as digests of files and of result slices.

``xkaohe run`` executes a report again only when its fingerprint changes
(:mod:`xkaohe.run.stages`); this module reads what the fingerprints are made of
and keeps the last successful ones in ``reports/.fingerprints.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
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


def folder_digest(folder: Path, pattern: str, recursive: bool = True) -> str:
    """Digest of the files of ``folder`` (and below, if ``recursive``) matching ``pattern``."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob(pattern) if recursive else folder.glob(pattern)):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def code_digest(package: Path) -> str:
    """Digest of the package's source: a code change re-renders every report."""
    return folder_digest(package, "*.py")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


TEAM_REPORT_INPUTS = ("results", "sample", "lottery")
"""The folders of tables a team report reads (what a signature's results digest covers)."""


def input_tables(run: Path, folders: tuple[str, ...] | None = None) -> list[Path]:
    """The tables reports read: the results store, the sample package, the lottery, the
    returned rectification registers and the feedback manifest (``folders``: only these)."""
    found = [
        *(run / "results").glob("*.parquet"),
        *(run / "sample").glob("*.csv"),
        *(run / "lottery").glob("*.csv"),
        *(run / "rectification").glob("*.parquet"),
        *(run / "feedback").glob("packages.json"),
    ]
    return sorted(p for p in found if folders is None or p.parent.name in folders)


@dataclass(frozen=True)
class CanonicalTable:
    """A table in canonical text form: its column names, and one line per row beside its keys."""

    header: str
    rows: pl.DataFrame  # county_code and city_name where the table has them, and ``_line``


def slice_digest(
    path: Path,
    codes: tuple[str, ...] | None,
    city: str | None,
    cache: dict[Path, Any] | None = None,
) -> str:
    """Digest of the rows a report reads from one table (the whole file for the province).

    The slice is hashed in a canonical text form (:func:`canonical_lines`):
    the column names, then one line per row, sorted; SHA-256 of those lines
    joined by newlines. It depends on the values only, never on how a polars
    version hashes or orders rows, so the signatures that record it
    (:mod:`xkaohe.io.signatures`) and the batch fingerprints survive a library
    upgrade. ``"-"`` for a table without ``county_code``.

    ``cache``: tables already read (as :class:`CanonicalTable`), shared across
    the fingerprints of one run: each table is read and converted once. Without
    it only the slice is read and converted (one report's digest). Both give
    the same digest.
    """
    if codes is None:
        return file_digest(path)
    if cache is None:  # one report: read and convert only its rows
        return _slice_digest_lazy(path, codes, city)
    table = cache.get(path)
    if not isinstance(table, CanonicalTable):
        table = cache[path] = canonical_table(path)
    if "county_code" not in table.rows.columns:
        return "-"
    lines = table.rows.filter(_keep(codes, city, table.rows.columns))[_LINE].sort().to_list()
    return _digest(table.header, lines)


def _keep(codes: tuple[str, ...], city: str | None, columns: list[str]) -> pl.Expr:
    keep = pl.col("county_code").is_in(list(codes))
    if city is not None and "city_name" in columns:
        keep = keep | (pl.col("county_code").is_null() & (pl.col("city_name") == city))
    return keep


def _digest(header: str, lines: list[str]) -> str:
    return hashlib.sha256("\n".join([header, *lines]).encode("utf-8")).hexdigest()


def _slice_digest_lazy(path: Path, codes: tuple[str, ...], city: str | None) -> str:
    try:
        lazy = _scan(path)
        schema = lazy.collect_schema()
        if "county_code" not in schema:
            return "-"
        keep = _keep(codes, city, schema.names())
        lines = lazy.filter(keep).select(canonical_expr(schema)).collect()[_LINE]
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _damaged(path, exc) from None
    return _digest(_header(schema.names()), lines.sort().to_list())


def _damaged(path: Path, exc: BaseException) -> InputError:
    """A damaged table names itself and the stage that writes it."""
    lines = str(exc).strip().splitlines()
    why = lines[0][:120] if lines else type(exc).__name__
    return InputError(
        Problem(str(path), None, None, _WRITERS.get(path.parent.name, "a table"), why)
    )


def _header(names: list[str]) -> str:
    return "\t".join(_escape_text(c) for c in sorted(names))


_LINE = "_line"
FLOAT_FORMAT = "%.12g"
"""Floats in canonical form: 12 significant digits, so a last-bit difference in how a
library sums (a new version, another number of threads) does not change a digest."""
_NULL = "\\N"


def canonical_table(path: Path) -> CanonicalTable:
    """Read a results parquet or a CSV table into canonical form; a damaged one names itself."""
    try:
        df = _scan(path).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _damaged(path, exc) from None
    keys = [c for c in ("county_code", "city_name") if c in df.columns]
    return CanonicalTable(
        _header(df.columns),
        pl.DataFrame([*(df[k] for k in keys), canonical_lines(df).alias(_LINE)]),
    )


def canonical_lines(df: pl.DataFrame) -> pl.Series:
    """Each row as one line of text: columns in name order, tab-separated, escaped.

    Text as is (backslash, tab, newline and carriage return escaped),
    integers in decimal, booleans ``true``/``false``, dates ISO, floats with
    :data:`FLOAT_FORMAT` (``-0`` as ``0``; ``nan``, ``inf``), null as ``\\N``;
    lists and structs element by element with the same rules; other types as
    polars casts them to text. The order of the lines is the caller's (sort them).
    """
    return df.select(canonical_expr(df.schema))[_LINE]


def canonical_expr(schema: pl.Schema) -> pl.Expr:
    """The expression :func:`canonical_lines` evaluates (one pass over a frame of ``schema``)."""
    parts = [_canonical_column(name, dtype) for name, dtype in sorted(schema.items())]
    if not parts:
        return pl.repeat(pl.lit(""), pl.len()).alias(_LINE)
    return pl.concat_str(parts, separator="\t").alias(_LINE)


def _escape_text(text: str) -> str:
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def _nested_text(value: Any) -> str:
    """A nested value as canonical text (JSON-like, floats as :data:`FLOAT_FORMAT`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return FLOAT_FORMAT % (value + 0.0)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_nested_text(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(str(k))}:{_nested_text(v)}" for k, v in items) + "}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)  # int, date (ISO)


def _floats(s: pl.Series) -> pl.Series:
    values = s.cast(pl.Float64).fill_null(0.0).to_numpy() + 0.0  # -0.0 + 0.0 is 0.0
    return pl.Series(s.name, np.char.mod(FLOAT_FORMAT, values).tolist(), dtype=pl.String)


def _nested(s: pl.Series) -> pl.Series:
    return pl.Series(s.name, [_nested_text(v) for v in s.to_list()], dtype=pl.String)


def _escaped(text: pl.Expr) -> pl.Expr:
    for raw, escaped in _ESCAPES:
        text = text.str.replace_all(raw, escaped, literal=True)
    return text


def _canonical_column(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype.is_float():
        text = col.map_batches(_floats, return_dtype=pl.String)
    elif dtype == pl.Boolean:
        text = pl.when(col).then(pl.lit("true")).otherwise(pl.lit("false"))
    elif dtype == pl.Date:
        text = col.dt.strftime("%Y-%m-%d")
    elif dtype.is_nested():  # lists and structs: element by element, the same rules
        text = _escaped(col.map_batches(_nested, return_dtype=pl.String))
    else:  # text, integers (decimal), anything else polars can write as text
        text = _escaped(col.cast(pl.String))
    return pl.when(col.is_null()).then(pl.lit(_NULL)).otherwise(text)


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
