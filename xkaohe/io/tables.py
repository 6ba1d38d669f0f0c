"""Read one input table (CSV or XLSX) into canonical, typed columns.

The rules are DESIGN.md's "Frame directory" reading rules, shared by the
frame, the roster and the field returns:

* one file per table, ``<name>.csv`` or ``<name>.xlsx``;
* CSV in UTF-8, UTF-8 with BOM or GB18030 (UTF-8 tried first);
* headers canonical or Chinese; extra columns kept;
* codes and ids stay text, so leading zeros survive;
* every problem is collected, never just the first.

Each returned frame carries ``_row``: the line number a spreadsheet shows
(header = 1), so later checks can point at the user's row.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW, TableFile
from xkaohe.io.files import sha256_file
from xkaohe.schemas import FALSE_WORDS, TRUE_WORDS, Column, TableSpec
from xkaohe.yamltext import excerpt

EXTENSIONS = (".csv", ".xlsx")
_DASHES = {"—": "-", "–": "-", "－": "-", "~": "-", "～": "-", "至": "-"}
_MAX_PER_COLUMN = 20  # problems listed per column before "... and N more"
_MAX_HEADERS_SHOWN = 30  # headers quoted when a column is missing
_EXCERPT = 40  # characters of a header or cell quoted in a message


def find_table(directory: Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``directory``, or None."""
    found = [
        directory / f"{name}{ext}" for ext in EXTENSIONS if (directory / f"{name}{ext}").is_file()
    ]
    if len(found) > 1:
        raise InputError(
            Problem(
                str(directory),
                None,
                None,
                f"one file for table '{name}'",
                f"both {found[0].name} and {found[1].name}; keep one",
            )
        )
    return found[0] if found else None


def read_csv_text(path: Path, keep: frozenset[str] | None = None) -> pl.DataFrame:
    """All cells as text: UTF-8 (with or without BOM) tried first, then GB18030.

    UTF-8 files are read by polars straight from disk (it rejects invalid
    UTF-8 in values; the header line is checked here), so a 3 GB extract is
    never held as a Python string.
    """
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise InputError(Problem(str(path), None, None, "a header row", "an empty file"))
    header = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    try:
        header.decode("utf-8")
        lazy = pl.scan_csv(path, infer_schema=False)
        if keep is not None:
            names = lazy.collect_schema().names()
            lazy = lazy.select([n for n in names if n.strip().lstrip("\ufeff") in keep])
        return lazy.collect(engine="streaming")
    except UnicodeDecodeError:
        pass
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc).lower():
            raise
    try:
        text = path.read_bytes().decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(
            Problem(
                str(path),
                None,
                None,
                "text in UTF-8, UTF-8 with BOM or GB18030",
                f"undecodable bytes at byte {exc.start}",
            )
        ) from None
    return pl.read_csv(text.encode("utf-8"), infer_schema=False)


def read_raw(path: Path, keep: frozenset[str] | None = None) -> pl.DataFrame:
    """All cells as text (null for empty), headers stripped, plus ``_row``.

    ``keep``: headers to read (others are skipped while reading); None keeps all.
    """
    try:
        if path.suffix == ".xlsx":
            df = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        else:
            df = read_csv_text(path, keep)
    except InputError:
        raise
    except Exception as exc:  # a malformed file: report it, don't crash
        text = str(exc).strip()
        first = text.splitlines()[0][:200] if text else type(exc).__name__
        raise InputError(Problem(str(path), None, None, "a readable table", first)) from None
    df = df.rename({c: c.strip().lstrip("\ufeff") for c in df.columns})
    # Strip only the columns that have padding: a copy of a 30-million-row
    # column costs seconds and gigabytes.
    padded = df.select([pl.col(c).str.contains(r"^\s|\s$").any().alias(c) for c in df.columns]).row(
        0
    )
    stripped = [
        _blank_to_null(pl.col(c).str.strip_chars()).alias(c)
        for c, pad in zip(df.columns, padded, strict=True)
        if pad
    ]
    return (
        df.with_columns(stripped)
        .with_row_index(ROW, offset=2)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )


def _blank_to_null(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.len_bytes() == 0).then(None).otherwise(text)


def _shown_headers(headers: list[str]) -> str:
    """The headers of a file for a message: each cut to an excerpt, at most a few."""
    cut = [excerpt(h, _EXCERPT) for h in headers[:_MAX_HEADERS_SHOWN]]
    more = len(headers) - _MAX_HEADERS_SHOWN
    return ", ".join(cut) + (f" and {more} more" if more > 0 else "")


def _resolve_headers(
    df: pl.DataFrame, spec: TableSpec, path: Path
) -> tuple[pl.DataFrame, dict[str, str], list[Problem]]:
    """Rename Chinese headers to canonical; return how to name each column to the user."""
    problems: list[Problem] = []
    renames: dict[str, str] = {}
    shown = _shown_headers([c for c in df.columns if c != ROW])
    for col in spec.columns:
        present = [h for h in (col.name, col.alias) if h in df.columns]
        if len(present) == 2:
            problems.append(
                Problem(
                    str(path),
                    1,
                    col.alias,
                    f"one header for {col.label}",
                    f"both '{col.name}' and '{col.alias}'",
                )
            )
        elif present and present[0] != col.name:
            renames[present[0]] = col.name
        elif not present and col.required:
            problems.append(
                Problem(
                    str(path),
                    1,
                    col.label,
                    f"a column '{col.name}' or '{col.alias}'",
                    # the headers once: a garbage header must not fill the message
                    f"columns: {shown}" if not problems else "no such column (headers above)",
                )
            )
    df = df.rename(renames)
    written = {v: f"{k} ({v})" for k, v in renames.items()}
    for col in spec.columns:  # an optional column that is absent reads as empty
        if col.name not in df.columns and not col.required:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(col.name))
    return df, written, problems


def _parse(col: Column) -> tuple[pl.Expr, str]:
    """Expression turning the text column into its type, and what we expected."""
    text = pl.col(col.name)
    if col.kind == "bool":
        low = text.str.to_lowercase()
        expr = pl.when(low.is_in(TRUE_WORDS)).then(True).when(low.is_in(FALSE_WORDS)).then(False)
        return expr.otherwise(None), "true/false, 1/0 or 是/否"
    if col.kind == "int":
        as_float = text.cast(pl.Float64, strict=False)
        whole = pl.when(as_float == as_float.round(0)).then(as_float)
        return whole.cast(pl.Int64, strict=False), "a whole number"
    if col.kind == "float":
        return text.cast(pl.Float64, strict=False), "a number"
    if col.kind == "date":
        normal = text.str.replace_all(r"[/.]", "-").str.replace(r"\s.*$", "")
        return normal.str.to_date("%Y-%m-%d", strict=False), "a date like 2019-11-24"
    if col.kind == "enum":
        normal = text
        for dash, plain in _DASHES.items():
            normal = normal.str.replace_all(dash, plain, literal=True)
        canonical = sorted(set(col.values.values()))
        lowered = {k.lower(): v for k, v in col.values.items()}
        as_enum = normal.str.to_lowercase().replace_strict(
            lowered, default=None, return_dtype=pl.String
        )
        chinese = ", ".join(k for k in col.values if k not in canonical)
        return as_enum, f"one of {', '.join(canonical)} (or the Chinese: {chinese})"
    return text, "text"


def _problem_rows(
    df: pl.DataFrame, mask: pl.Expr, column: str, path: Path, label: str, expected: str
) -> list[Problem]:
    bad = df.filter(mask).select(ROW, pl.col(column).alias("_found"))
    out = [
        Problem(str(path), int(r), label, expected, "empty" if v is None else excerpt(v, _EXCERPT))
        for r, v in bad.head(_MAX_PER_COLUMN).iter_rows()
    ]
    if bad.height > _MAX_PER_COLUMN:
        out.append(
            Problem(
                str(path),
                None,
                label,
                expected,
                f"{bad.height - _MAX_PER_COLUMN} more rows like these",
            )
        )
    return out


def _typed_column(df: pl.DataFrame, col: Column) -> pl.Series:
    """The column in its type; canonical text skips the mapping (fast path for big extracts)."""
    raw = df[col.name]
    present = raw.drop_nulls()
    if col.kind == "text":
        return raw
    if col.kind == "enum" and present.is_in(sorted(set(col.values.values()))).all():
        return raw
    if col.kind == "bool" and present.is_in(["true", "false"]).all():
        return raw == "true"
    return df.select(_parse(col)[0].alias(col.name)).to_series()


def parse_table(
    df: pl.DataFrame, spec: TableSpec, path: Path
) -> tuple[pl.DataFrame, list[Problem]]:
    """Type the spec's columns of a raw table; report bad cells and duplicate keys."""
    df, written, problems = _resolve_headers(df, spec, path)
    if problems:
        return df, problems
    typed_columns = []
    for col in spec.columns:
        typed = _typed_column(df, col)
        typed_columns.append(typed)
        _, expected = _parse(col)
        label = written.get(col.name, col.name)
        cells = pl.DataFrame({ROW: df[ROW], col.name: df[col.name], "_typed": typed})
        value, raw = pl.col("_typed"), pl.col(col.name)
        checks = [(raw.is_not_null() & value.is_null(), expected)]
        if not col.nullable:
            checks.insert(0, (raw.is_null(), f"a value ({expected})"))
        if col.low is not None:
            checks.append((value < col.low, f"a value >= {col.low:g}"))
        if col.high is not None:
            checks.append((value > col.high, f"a value <= {col.high:g}"))
        if col.pattern is not None:
            code = f"a code matching {col.pattern} (it becomes part of file names)"
            checks.append((raw.is_not_null() & ~raw.str.contains(col.pattern), code))
        # One pass to learn which checks fail; rows are listed only for those.
        failing = cells.select([mask.any().alias(str(i)) for i, (mask, _) in enumerate(checks)])
        for (mask, wanted), bad in zip(checks, failing.row(0), strict=True):
            if bad:
                problems += _problem_rows(cells, mask, col.name, path, label, wanted)
    out = df.with_columns(typed_columns)
    if spec.key and not problems:
        key = pl.col(spec.key[0]) if len(spec.key) == 1 else pl.struct(list(spec.key))
        key_label = " + ".join(written.get(k, k) for k in spec.key)
        # Sorted 64-bit hashes first (cheap on 30 million ids); exact only if two collide.
        hashes = out.select(key.hash().sort()).to_series()
        dups = out.head(0)
        if hashes.len() > 1 and (hashes.slice(1) == hashes.slice(0, hashes.len() - 1)).any():
            dups = out.filter(key.is_duplicated()).sort([*spec.key, ROW])
        for row in dups.head(_MAX_PER_COLUMN).iter_rows(named=True):
            value_text = "/".join(str(row[k]) for k in spec.key)
            problems.append(
                Problem(
                    str(path),
                    row[ROW],
                    key_label,
                    "a unique key",
                    f"{excerpt(value_text, _EXCERPT)}, which appears more than once",
                )
            )
    return out, problems


def read_table(
    directory: Path, spec: TableSpec, *, required: bool = True, only: frozenset[str] | None = None
) -> tuple[pl.DataFrame | None, TableFile | None, list[Problem]]:
    """Find, read and type one table; problems are returned, not raised.

    ``only``: the canonical columns a caller needs; the others (and extra
    columns) are neither read nor checked — a national extract then fits in memory.
    """
    if only is not None:
        spec = spec.narrowed(only)
    path = find_table(directory, spec.name)
    if path is None:
        if not required:
            return None, None, []
        return (
            None,
            None,
            [
                Problem(
                    str(directory),
                    None,
                    None,
                    f"a file {spec.name}.csv or {spec.name}.xlsx",
                    "no such file",
                )
            ],
        )
    try:
        keep = (
            None if only is None else frozenset(h for c in spec.columns for h in (c.name, c.alias))
        )
        raw = read_raw(path, keep)
    except InputError as exc:
        return (
            None,
            None,
            exc.problems or [Problem(str(path), None, None, "a readable table", str(exc))],
        )
    df, problems = parse_table(raw, spec, path)
    return df, TableFile(spec.name, path, sha256_file(path)), problems


def read_tables(
    directory: str | Path,
    specs: tuple[TableSpec, ...],
    what: str,
    only: dict[str, frozenset[str]] | None = None,
) -> tuple[dict[str, pl.DataFrame], tuple[TableFile, ...]]:
    """Read every table of ``specs`` from ``directory``; raise all problems together."""
    d = Path(directory)
    if not d.is_dir():
        raise InputError(Problem(str(d), None, None, f"a {what} directory", "no such directory"))
    tables: dict[str, pl.DataFrame] = {}
    files: list[TableFile] = []
    problems: list[Problem] = []
    for spec in specs:
        df, info, found = read_table(d, spec, only=(only or {}).get(spec.name))
        problems += found
        if df is not None and info is not None:
            tables[spec.name] = df
            files.append(info)
    if problems:
        raise InputError(problems)
    return tables, tuple(files)
