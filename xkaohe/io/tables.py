"""Read one input table (CSV, XLSX or XLS) into canonical, typed columns.

Why one module of ~880 lines: headers, values and tables are one reading rule set,
and the streaming checks that :mod:`xkaohe.io.frame` runs over 30 million households
(:func:`may_be_refused`) must stay beside the rules they mirror, or the two drift;
spreadsheet layout is :mod:`xkaohe.io.workbooks`.

The rules are DESIGN.md's "Frame directory" reading rules, shared by the
frame, the roster and the field returns, widened for exports as offices
really send them (issue 15):

* one file per table, ``<name>.csv``, ``<name>.xlsx`` or ``<name>.xls``;
* CSV in UTF-8, UTF-8 with BOM or GB18030 (UTF-8 tried first);
* headers canonical, Chinese, or mapped by the user's column map
  (:mod:`xkaohe.io.columns`), compared ignoring full/half width, spaces and
  trailing units; a unit in a header (``（万元）``) scales the values;
* spreadsheets: title rows above the header are skipped (the header row is
  found), two-row headers are joined, every sheet holding the table is read
  (one per township, say), empty rows and columns are dropped, totals rows
  (合计, 总计, 小计) are skipped with a note;
* values as offices write them: thousand separators, 万 amounts, dates as
  ``2019年11月24日``, ``2019/11/24``, ``20191124`` or Excel serials,
  booleans 是/否, √/×, 1/0, Y/N;
* codes and ids stay text, so leading zeros survive; an id a spreadsheet has
  turned into a number (scientific notation, more than 15 digits, leading
  zeros gone) is refused: the export lost data — a whole column of numbers or
  one number cell among text ids alike;
* only the columns the command needs are read and checked (``only``); a
  missing optional column is a note, not an error;
* every problem is collected, never just the first.

Each returned frame carries ``_row``: the line number a spreadsheet shows
(header = 1 for a CSV; the sheet's own row number for a workbook), and
``_sheet`` when a workbook's table spans several sheets.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW, TableFile
from xkaohe.io.columns import (
    ALL_TABLES,
    NO_MAP,
    ColumnMap,
    closest_headers,
    header_key,
    unit_scale,
)
from xkaohe.io.files import sha256_file
from xkaohe.io.notes import note
from xkaohe.io.workbooks import EXCERPT, NUMBER_HEADER, SHEET, RawTable, read_workbook
from xkaohe.schemas import FALSE_WORDS, TRUE_WORDS, Column, TableSpec
from xkaohe.yamltext import excerpt

EXTENSIONS = (".csv", ".xlsx", ".xls")
"""The column naming a row's sheet when a workbook's table spans several sheets."""
TOTAL_WORDS = ("合计", "总计", "小计", "共计")
"""A row one of whose first cells is one of these words (alone) is a totals row, not data."""
# Spreadsheet tick marks, read as booleans beside schemas' words (offices tick boxes).
TICKS_TRUE = ("√", "✓", "✔")
TICKS_FALSE = ("×", "✗", "✘")
_DASHES = {"—": "-", "–": "-", "－": "-", "~": "-", "～": "-", "至": "-"}
_MAX_PER_COLUMN = 20  # problems listed per column before "... and N more"
_MAX_HEADERS_SHOWN = 30  # headers quoted when a column is missing
_MEANT = 0.6  # how alike a stray header and an absent optional column are to name it
_TOTAL_COLUMNS = 3  # leading columns looked at for a totals label
_TOTALS = r"^\s*({})\s*[:：]?\s*$".format("|".join(r"\s*".join(w) for w in TOTAL_WORDS))
_EXCEL_DIGITS = 15  # a spreadsheet number keeps this many significant digits
_WIDTH_SHARE = 0.9  # share of ids of one width for a shorter digit-only id to be refused
_WIDTH_SAMPLE = 10_000  # ids looked at to learn whether a column's ids are digits
_REPEATS = 50  # how often the first rows must repeat each value, on average, for a cell
# check to run over the column's distinct values (see _any_cell)
_ID_SUFFIXES = ("_code", "_id", "id_number")  # text columns holding codes and ids
_SCIENTIFIC = r"^[+-]?\d+(\.\d+)?[eE][+]?\d+$"
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000  # Excel day numbers 1954-10-03 .. 2119-01-08


@dataclass
class TableRead:
    """One table read for a command or for ``check-inputs``: data, problems and how it mapped.

    ``mapped``: canonical column -> the file's header for it (``scales``: its unit factor);
    ``ignored``: the file's headers no needed column uses; ``notes``: what was
    skipped or left empty without blocking anything.
    """

    spec: TableSpec
    path: Path | None
    df: pl.DataFrame | None = None
    info: TableFile | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mapped: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    numeric: set[str] = field(default_factory=set)  # canonical columns stored as numbers
    scales: dict[str, float] = field(default_factory=dict)  # unit factor per canonical column


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


def read_csv_text(
    path: Path, keep: Callable[[str], bool] | None = None
) -> tuple[pl.DataFrame, list[str]]:
    """All cells as text: UTF-8 (with or without BOM) tried first, then GB18030; and every
    header of the file (read or not).

    UTF-8 files are read by polars straight from disk (it rejects invalid
    UTF-8 in values; the header line is checked here), so a 3 GB extract is
    never held as a Python string. ``keep``: which headers to read (None: all).
    """
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise InputError(Problem(str(path), None, None, "a header row", "an empty file"))
    header = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    try:
        header.decode("utf-8")
        lazy = pl.scan_csv(path, infer_schema=False)
        names = [n.strip().lstrip("\ufeff") for n in lazy.collect_schema().names()]
        if keep is not None:
            lazy = lazy.select(
                [n for n, h in zip(lazy.collect_schema().names(), names, strict=True) if keep(h)]
            )
        return lazy.collect(engine="streaming"), names
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
    df = pl.read_csv(text.encode("utf-8"), infer_schema=False)
    names = [c.strip().lstrip("\ufeff") for c in df.columns]
    return df, names


# ---------------------------------------------------------------- raw reading


def read_source(
    path: Path,
    known: Callable[[str], bool] | None = None,
    keep: Callable[[str], bool] | None = None,
    probe: Callable[[str], bool] | None = None,
) -> RawTable:
    """All cells as text (null for empty), headers stripped, plus ``_row``; empty and totals
    rows dropped (totals with a note).

    ``known``: which headers belong to the table (finds a workbook's header row
    and sheets); ``keep``: headers to read from a CSV (others are skipped while reading);
    ``probe``: a workbook's headers whose cells stored as numbers are listed (ids).
    """
    try:
        if path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
            raw = read_workbook(path, known, probe)
        else:
            df, names = read_csv_text(path, keep)
            df = df.rename({c: c.strip().lstrip("\ufeff") for c in df.columns})
            df = df.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
            raw = RawTable(df, headers=tuple(names))
    except InputError:
        raise
    except Exception as exc:  # a malformed file: report it, don't crash
        text = str(exc).strip()
        first = text.splitlines()[0][:200] if text else type(exc).__name__
        raise InputError(Problem(str(path), None, None, "a readable table", first)) from None
    return tidy_raw(raw, path)


def tidy_raw(raw: RawTable, path: Path) -> RawTable:
    """``raw`` with padded cells stripped (blank ones null), and empty and totals rows dropped
    (totals with a note)."""
    df = raw.df
    cells = [c for c in df.columns if c not in (ROW, SHEET)]
    # Strip only the columns that have padding: a copy of a 30-million-row
    # column costs seconds and gigabytes.
    padded = _any_cell(df, {c: pl.col(c).str.contains(r"^\s|\s$") for c in cells})
    stripped = [_blank_to_null(pl.col(c).str.strip_chars()).alias(c) for c in cells if padded[c]]
    df = df.with_columns(stripped)
    notes = list(raw.notes)
    if cells:
        # Masks first, copies only when a row goes: a 30-million-row extract has none.
        empty = pl.all_horizontal([pl.col(c).is_null() for c in cells])
        label = totals_labels(cells)
        totals = pl.any_horizontal(list(label.values())).fill_null(False)
        any_empty = bool(df.select(empty.any()).item())
        any_totals = any(_any_cell(df, label).values())  # a totals row has such a cell
        if any_empty:
            df = df.filter(~empty)
        skipped = df.filter(totals) if any_totals else df.head(0)
        if skipped.height:
            where = ", ".join(_where(path, r) for r in skipped.head(10).iter_rows(named=True))
            notes.append(f"{where}: a totals row ({'/'.join(TOTAL_WORDS)}); skipped")
            df = df.filter(~totals)
    return RawTable(df, tuple(notes), raw.numeric, raw.headers, raw.number_cells)


def in_sheet(file: str, sheet: object) -> str:
    """A file as a message names it: with the sheet when its table spans several sheets."""
    return file if sheet is None else f"{file}, sheet '{sheet}'"


def sheet_of(df: pl.DataFrame) -> pl.Expr:
    """The ``_sheet`` of each row (null when the table came from one sheet or a CSV)."""
    return pl.col(SHEET) if SHEET in df.columns else pl.lit(None, pl.String).alias(SHEET)


def totals_labels(cells: list[str]) -> dict[str, pl.Expr]:
    """Per leading cell column (file order): whether its cell is a totals label (合计...)."""
    return {c: pl.col(c).str.contains(_TOTALS) for c in cells[:_TOTAL_COLUMNS]}


def is_totals_row(cells: list[str]) -> pl.Expr:
    """Whether a row is a totals row: one of its leading cells is a totals label."""
    return pl.any_horizontal(list(totals_labels(cells).values())).fill_null(False)


def _any_cell(df: pl.DataFrame, checks: dict[str, pl.Expr]) -> dict[str, bool]:
    """Per column: whether any of its cells meets its check (a function of the cell alone).

    A column that repeats its values (a code, a status, a size: 30 million
    households have 128,000 village codes) is checked over its distinct values,
    at a fraction of the cost; one whose first rows hardly repeat (an id, a name)
    row by row, since finding millions of distinct values costs more than that.
    """
    out = {}
    for c, check in checks.items():
        values = df[c]
        head = values.head(_WIDTH_SAMPLE)
        if values.len() > _WIDTH_SAMPLE and head.n_unique() * _REPEATS <= head.len():
            values = values.unique()
        out[c] = bool(values.to_frame().select(check.any()).item())
    return out


def _where(path: Path, row: dict[str, object]) -> str:
    sheet = f", sheet '{row[SHEET]}'" if row.get(SHEET) is not None else ""
    return f"{path}{sheet}, row {row[ROW]}"


def read_raw(path: Path, keep: frozenset[str] | None = None) -> pl.DataFrame:
    """All cells as text (null for empty), headers stripped, plus ``_row``.

    ``keep``: headers to read (others are skipped while reading); None keeps all.
    """
    return read_source(path, None, None if keep is None else keep.__contains__).df


def _blank_to_null(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.len_bytes() == 0).then(None).otherwise(text)


# ---------------------------------------------------------------- headers


def _shown_headers(headers: list[str]) -> str:
    """The headers of a file for a message: each cut to an excerpt, at most a few."""
    cut = [excerpt(h, EXCERPT) for h in headers[:_MAX_HEADERS_SHOWN]]
    more = len(headers) - _MAX_HEADERS_SHOWN
    return ", ".join(cut) + (f" and {more} more" if more > 0 else "")


def header_keys(spec: TableSpec, columns: ColumnMap = NO_MAP) -> dict[str, str]:
    """Header key -> canonical column, for every header the table accepts."""
    keys: dict[str, str] = {}
    for col in spec.columns:
        for h in (col.alias, col.name, *columns.headers(spec.name, col.name)):
            keys[header_key(h)[0]] = col.name
    return keys


def _yaml_key(text: str) -> str:
    """A header as a YAML mapping key (quoted when YAML would misread it)."""
    plain = re.fullmatch(r"[^\s:#{}\[\],&*?|<>=!%@`'\"-][^:#{}\[\],]*", text)
    return text if plain and text == text.strip() else json.dumps(text, ensure_ascii=False)


def missing_column_problem(
    spec: TableSpec, col: Column, headers: list[str], path: Path, columns: ColumnMap
) -> Problem:
    """A required column is absent: name the closest headers and the map line that fixes it."""
    close = closest_headers([col.alias, col.name, *columns.headers(spec.name, col.name)], headers)
    pick = close[0] if close else "<your header>"
    where = columns.source or "params/columns.yaml, given with --columns"
    found = "no such column"
    found += (
        f"; closest headers: {', '.join(excerpt(h, EXCERPT) for h in close)}"
        if close
        else (f"; columns: {_shown_headers(headers)}")
    )
    return Problem(
        str(path),
        1,
        col.label,
        f"a column '{col.name}' or '{col.alias}' (if the file heads it otherwise, add the line "
        f"'{_yaml_key(pick)}: {col.name}' under '{spec.name}:' in the column map {where})",
        found,
    )


def _absent_note(
    spec: TableSpec, col: Column, headers: list[str], path: Path, columns: ColumnMap
) -> str:
    """An optional column is absent: say so, and name a header no column claims that looks
    like it (the user may have meant it) with the column-map line that would read it."""
    text = f"{path}: column {col.label} is absent; it reads as empty"
    claimed = header_keys(ALL_TABLES.get(spec.name, spec), columns)
    free = [h for h in headers if header_key(h)[0] not in claimed]
    close = closest_headers(
        [col.alias, col.name, *columns.headers(spec.name, col.name)], free, n=1, cutoff=_MEANT
    )
    if close:
        where = columns.source or "params/columns.yaml, given with --columns"
        text += (
            f"; the file has a header {excerpt(close[0], EXCERPT)} that no column reads: if it is "
            f"this column, add the line '{_yaml_key(close[0])}: {col.name}' under "
            f"'{spec.name}:' in the column map {where}"
        )
    return text


def _resolve_headers(
    raw: RawTable, spec: TableSpec, path: Path, columns: ColumnMap
) -> tuple[pl.DataFrame, TableRead]:
    """Rename the file's headers to canonical names; what was mapped, ignored, missing."""
    df = raw.df
    out = TableRead(spec, path)
    headers = (
        list(raw.headers)
        if raw.headers is not None
        else [c for c in df.columns if c not in (ROW, SHEET)]
    )
    by_key: dict[str, list[str]] = {}
    for h in headers:
        by_key.setdefault(header_key(h)[0], []).append(h)
    renames: dict[str, str] = {}
    used: set[str] = set()
    for col in spec.columns:
        wanted = {
            header_key(h)[0] for h in (col.name, col.alias, *columns.headers(spec.name, col.name))
        }
        present = sorted({h for k in wanted for h in by_key.get(k, [])}, key=headers.index)
        if len(present) > 1:
            out.problems.append(
                Problem(
                    str(path),
                    1,
                    col.label,
                    f"one header for {col.label}",
                    f"{len(present)}: {', '.join(repr(excerpt(h, EXCERPT)) for h in present)}",
                )
            )
        elif present:
            header = present[0]
            if header in used:
                out.problems.append(
                    Problem(str(path), 1, header, "a header for one column", "two columns use it")
                )
                continue
            used.add(header)
            _, wrong = unit_scale(col, header)
            if wrong is not None:
                out.problems.append(
                    Problem(str(path), 1, header, wrong, f"'{header_key(header)[1]}'")
                )
            renames[header] = col.name
            out.mapped[col.name] = header
        elif col.required and not col.nullable:
            # suggest only headers no column of the table claims already
            full = ALL_TABLES.get(spec.name, spec)
            claimed = header_keys(full, columns)
            free = [h for h in headers if header_key(h)[0] not in claimed]
            out.problems.append(missing_column_problem(spec, col, free or headers, path, columns))
        else:
            out.notes.append(_absent_note(spec, col, headers, path, columns))
    out.ignored = [h for h in headers if h not in used]
    numeric = {renames.get(h, h) for h in raw.numeric}
    df = df.rename(renames)
    # An optional column that is absent reads as empty; so does one whose cells may all be
    # empty (absent and all-empty mean the same; the note above says which it was).
    for col in spec.columns:
        if col.name not in df.columns and (not col.required or col.nullable):
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(col.name))
    scales = {renames[h]: unit_scale(spec.column(renames[h]), h)[0] for h in renames}
    out.numeric, out.scales = numeric, scales
    return df, out


# ---------------------------------------------------------------- values


EXCEL_EPOCH = dt.date(1899, 12, 30)
"""Day 0 of Excel's serial dates (1900 system, after its 1900-02-29 bug)."""


def _number(text: pl.Expr) -> pl.Expr:
    """A number as offices write it: ``1,234.5``, ``12.5万``, ``3亿元``, ``800元``."""
    clean = text.str.replace_all(r"[,，\s]", "")
    factor = (
        pl.when(clean.str.contains(r"万元?$"))
        .then(1e4)
        .when(clean.str.contains(r"亿元?$"))
        .then(1e8)
        .otherwise(1.0)
    )
    return clean.str.replace(r"(万|亿)?元?$", "").cast(pl.Float64, strict=False) * factor


def _date(text: pl.Expr) -> pl.Expr:
    """A date as offices write it: 2019-11-24, 2019/11/24, 2019.11.24, 2019年11月24日,
    20191124, an Excel day number (43793), with or without a time after it."""
    day = text.str.replace(r"[\sT].*$", "")
    dashed = day.str.replace_all(r"[/.年月]", "-").str.replace(r"日$", "")
    serial = day.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
    as_serial = pl.when(serial.is_between(_SERIAL_MIN, _SERIAL_MAX)).then(
        pl.lit(EXCEL_EPOCH) + pl.duration(days=serial)
    )
    compact = pl.when(day.str.contains(r"^\d{8}$")).then(day.str.to_date("%Y%m%d", strict=False))
    return pl.coalesce(
        pl.when(dashed.str.contains(r"^\d{4}-\d{1,2}-\d{1,2}$")).then(
            dashed.str.to_date("%Y-%m-%d", strict=False)
        ),
        compact,
        as_serial.cast(pl.Date),
    )


def _parse(col: Column, scale: float = 1.0) -> tuple[pl.Expr, str]:
    """Expression turning the text column into its type, and what we expected."""
    text = pl.col(col.name)
    if col.kind == "bool":
        low = text.str.to_lowercase().str.replace(r"\.0+$", "")
        yes, no = [*TRUE_WORDS, *TICKS_TRUE], [*FALSE_WORDS, *TICKS_FALSE]
        expr = pl.when(low.is_in(yes)).then(True).when(low.is_in(no)).then(False)
        return expr.otherwise(None), "true/false, 1/0 or 是/否 (also √/×, Y/N)"
    if col.kind == "int":
        as_float = _number(text)
        whole = pl.when(as_float == as_float.round(0)).then(as_float)
        return whole.cast(pl.Int64, strict=False), "a whole number"
    if col.kind == "float":
        return _number(text) * scale, "a number"
    if col.kind == "date":
        return _date(text), "a date like 2019-11-24"
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
    sheet = pl.col(SHEET) if SHEET in df.columns else pl.lit(None, pl.String)
    bad = df.filter(mask).select(ROW, sheet.alias(SHEET), pl.col(column).alias("_found"))
    out = [
        Problem(
            f"{path}, sheet '{s}'" if s is not None else str(path),
            int(r),
            label,
            expected,
            "empty" if v is None else excerpt(v, EXCERPT),
        )
        for r, s, v in bad.head(_MAX_PER_COLUMN).iter_rows()
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


def _typed_column(df: pl.DataFrame, col: Column, scale: float = 1.0) -> pl.Series:
    """The column in its type; canonical text skips the mapping (fast path for big extracts)."""
    raw = df[col.name]
    present = raw.drop_nulls()
    if col.kind == "text":
        return raw
    if col.kind == "enum" and present.is_in(sorted(set(col.values.values()))).all():
        return raw
    if col.kind == "bool" and present.is_in(["true", "false"]).all():
        return raw == "true"
    if col.kind in ("int", "float") and scale == 1.0:
        plain = raw.cast(pl.Float64 if col.kind == "float" else pl.Int64, strict=False)
        if plain.null_count() == raw.null_count():
            return plain
    if col.kind == "date":
        plain = raw.str.to_date("%Y-%m-%d", strict=False)
        if plain.null_count() == raw.null_count():
            return plain
    return df.select(_parse(col, scale)[0].alias(col.name)).to_series()


def never_refused(col: Column) -> bool:
    """Whether no cell of ``col`` can be refused: free text that may be empty (no type,
    range, pattern or id check applies to it)."""
    return (
        col.kind == "text"
        and col.nullable
        and col.pattern is None
        and col.low is None
        and col.high is None
        and not is_id_column(col)
    )


def may_be_refused(col: Column, name: str) -> pl.Expr | None:
    """Per row, whether :func:`parse_raw` may refuse the cell of the CSV text column ``name``
    (as read, before stripping) as ``col``; None for kinds not covered here.

    Stricter than :func:`parse_raw` (true does not mean the cell is refused), never
    looser: an enum must be canonical, a whole number must cast as it is, an id
    must be unpadded (its widths: :func:`shorter_ids`), other text must not start
    with a space. One boolean per row: 30 million cells are checked while streaming
    through the file, without being held.
    """
    raw = pl.col(name)
    flags = [] if col.nullable else [raw.is_null()]
    if col.kind == "enum":
        flags.append(raw.is_not_null() & ~raw.is_in(sorted(set(col.values.values()))))
    elif col.kind == "int":  # as the fast path of _typed_column reads it, or refused
        value = raw.cast(pl.Int64, strict=False)
        flags.append(raw.is_not_null() & value.is_null())
        if col.low is not None:
            flags.append(value < col.low)
        if col.high is not None:
            flags.append(value > col.high)
    elif col.kind != "text":
        return None
    if is_id_column(col):  # padded (checked once stripped) or in scientific notation
        flags.append(raw.str.contains(rf"^\s|\s$|{_SCIENTIFIC}"))
    elif col.kind == "text" and not col.nullable:  # blank once stripped
        flags.append(raw.str.contains(r"^\s"))
    if col.pattern is not None:
        flags.append(raw.is_not_null() & ~raw.str.contains(col.pattern))
    return pl.any_horizontal(flags).fill_null(False) if flags else pl.lit(False)


def is_id_column(col: Column) -> bool:
    """Whether ``col`` holds codes or ids (checked for damage a spreadsheet does)."""
    return col.kind == "text" and col.name.endswith(_ID_SUFFIXES)


def shorter_ids(name: str) -> pl.Expr:
    """Whether some digit-only id of the CSV text column ``name`` is shorter than its
    longest id (an aggregation); when not, :func:`_id_checks` refuses no id by its width
    (and neither when all ids are of one length: no need to look then)."""
    raw = pl.col(name)
    size = raw.str.len_bytes()
    return (size.filter(raw.str.contains(r"^\d+$")).min() < size.max()).fill_null(False)


def _number_mask(df: pl.DataFrame, raw: RawTable, header: str | None) -> pl.Series | None:
    """Which rows of ``df`` hold, under ``header``, a cell the spreadsheet stored as a number
    among text cells (None: no such cell)."""
    if raw.number_cells is None or header is None:
        return None
    mine = raw.number_cells.filter(pl.col(NUMBER_HEADER) == header)
    if mine.height == 0:
        return None
    keys = [SHEET, ROW] if SHEET in df.columns else [ROW]
    flagged = mine.select(keys).unique().with_columns(_number=pl.lit(True))
    joined = df.select(keys).join(flagged, on=keys, how="left", maintain_order="left")
    return joined["_number"].fill_null(False)


def _id_checks(
    df: pl.DataFrame, col: Column, numeric: bool, number_cells: bool = False
) -> list[tuple[pl.Expr, str]]:
    """Ids a spreadsheet damaged: refused, never accepted (the digits are gone).

    ``numeric``: the whole column was stored as numbers; ``number_cells``: some of its
    cells were, among text ones (``_number`` marks them).
    """
    if not is_id_column(col):
        return []
    raw = pl.col(col.name)
    fix = "format the column as text in the spreadsheet and export again"
    present = df[col.name].drop_nulls()
    checks = []
    # A check no cell can fail is left out (a third of the pattern's cost on 30 million
    # ids): an id without an e is not in scientific notation.
    if present.str.contains_any(["e", "E"]).any():
        checks.append(
            (
                raw.str.contains(_SCIENTIFIC),
                f"an id written out in full (the export lost data: the spreadsheet turned the "
                f"id into a number in scientific notation and dropped digits; {fix})",
            )
        )
    if numeric:
        checks.append(
            (
                raw.str.contains(rf"^\d{{{_EXCEL_DIGITS + 1},}}$"),
                f"an id of at most {_EXCEL_DIGITS} digits in a number cell (the export lost "
                f"data: a spreadsheet keeps only {_EXCEL_DIGITS} digits of a number; {fix})",
            )
        )
    if number_cells:
        # one cell typed as a number among text ids: the same limit as a number column
        # (a lost leading zero is the width check's below, for every cell)
        checks.append(
            (
                pl.col("_number") & raw.str.contains(rf"^\d{{{_EXCEL_DIGITS + 1},}}$"),
                f"an id typed as text like the rest of the column (the export lost data: "
                f"this cell is a number, and a spreadsheet keeps only {_EXCEL_DIGITS} digits "
                f"of a number; {fix})",
            )
        )
    # The usual width of the column's digit-only ids (lengths counted as integers, never
    # copying 30 million strings); shorter digit-only ids lost their leading zeros.
    sample = present.head(_WIDTH_SAMPLE)
    if sample.len() and sample.str.contains(r"^\d+$").mean() >= 0.5:  # type: ignore[operator]
        width, count = present.str.len_bytes().value_counts(sort=True).row(0)
        # Only where nearly every id has that width: a field table may mix registered
        # households' ids with shorter ones of general households, legitimately.
        # (and only when some id is shorter: otherwise no cell can fail the check)
        if (
            width >= 4
            and count >= _WIDTH_SHARE * present.len()
            and (present.str.len_chars() < width).any()
        ):
            checks.append(
                (
                    raw.str.contains(r"^\d+$") & (raw.str.len_chars() < width),
                    f"an id of {width} digits like the others in this column (the export lost "
                    f"data: leading zeros drop when a spreadsheet reads an id as a number; {fix})",
                )
            )
    return checks


# ---------------------------------------------------------------- tables


def parse_table(
    df: pl.DataFrame, spec: TableSpec, path: Path, columns: ColumnMap = NO_MAP
) -> tuple[pl.DataFrame, list[Problem]]:
    """Type the spec's columns of a raw table; report bad cells and duplicate keys."""
    read = parse_raw(RawTable(df), spec, path, columns)
    return (read.df if read.df is not None else df), read.problems


def parse_raw(raw: RawTable, spec: TableSpec, path: Path, columns: ColumnMap = NO_MAP) -> TableRead:
    """Map the headers of a raw table, type its columns, and list every problem and note."""
    df, out = _resolve_headers(raw, spec, path, columns)
    out.notes = [*raw.notes, *out.notes]
    for text in out.notes:  # the user of every reading command sees them (io.notes)
        note(text)
    if out.problems:
        out.df = df
        return out
    problems = out.problems
    written = {c: f"{h} ({c})" for c, h in out.mapped.items() if h != c}
    typed_columns = []
    for col in spec.columns:
        scale = out.scales.get(col.name, 1.0)
        typed = _typed_column(df, col, scale)
        typed_columns.append(typed)
        _, expected = _parse(col)
        label = written.get(col.name, col.name)
        frame = {ROW: df[ROW], col.name: df[col.name], "_typed": typed}
        if SHEET in df.columns:
            frame[SHEET] = df[SHEET]
        number = _number_mask(df, raw, out.mapped.get(col.name)) if is_id_column(col) else None
        if number is not None:
            frame["_number"] = number
        cells = pl.DataFrame(frame)
        value, raw_cell = pl.col("_typed"), pl.col(col.name)
        checks = [(raw_cell.is_not_null() & value.is_null(), expected)]
        if not col.nullable:
            checks.insert(0, (raw_cell.is_null(), f"a value ({expected})"))
        if col.low is not None:
            checks.append((value < col.low, f"a value >= {col.low:g}"))
        if col.high is not None:
            checks.append((value > col.high, f"a value <= {col.high:g}"))
        ids = _id_checks(df, col, col.name in out.numeric, number is not None)
        if ids:  # a damaged id is the cause; do not also call it a wrong code
            damaged = pl.any_horizontal([m for m, _ in ids])
            checks += ids
        else:
            damaged = pl.lit(False)
        if col.pattern is not None:
            code = f"a code matching {col.pattern} (it becomes part of file names)"
            checks.append(
                (raw_cell.is_not_null() & ~damaged & ~raw_cell.str.contains(col.pattern), code)
            )
        # One pass to learn which checks fail; rows are listed only for those.
        failing = cells.select([mask.any().alias(str(i)) for i, (mask, _) in enumerate(checks)])
        for (mask, wanted), bad in zip(checks, failing.row(0), strict=True):
            if bad:
                problems += _problem_rows(cells, mask, col.name, path, label, wanted)
    typed_df = df.with_columns(typed_columns)
    out.df = typed_df
    if spec.key and not problems:
        problems += _duplicate_keys(typed_df, spec, path, written)
    return out


def _duplicate_keys(
    out: pl.DataFrame, spec: TableSpec, path: Path, written: dict[str, str]
) -> list[Problem]:
    key = pl.col(spec.key[0]) if len(spec.key) == 1 else pl.struct(list(spec.key))
    key_label = " + ".join(written.get(k, k) for k in spec.key)
    # Sorted 64-bit hashes first (cheap on 30 million ids); exact only if two collide.
    hashes = out.select(key.hash().sort()).to_series()
    dups = out.head(0)
    if hashes.len() > 1 and (hashes.slice(1) == hashes.slice(0, hashes.len() - 1)).any():
        dups = out.filter(key.is_duplicated()).sort([*spec.key, ROW])
    problems = []
    for row in dups.head(_MAX_PER_COLUMN).iter_rows(named=True):
        value_text = "/".join(str(row[k]) for k in spec.key)
        problems.append(
            Problem(
                _where(path, row).rsplit(", row ", 1)[0],
                row[ROW],
                key_label,
                "a unique key",
                f"{excerpt(value_text, EXCERPT)}, which appears more than once",
            )
        )
    return problems


def inspect_table(
    directory: Path,
    spec: TableSpec,
    *,
    required: bool = True,
    only: frozenset[str] | None = None,
    columns: ColumnMap = NO_MAP,
    hashed: bool = True,
) -> TableRead:
    """Find, read and type one table, with how it mapped; problems are returned, not raised.

    ``only``: the canonical columns a caller needs; the others (and extra
    columns) are neither read nor checked — a column a command does not use
    never blocks it, and a national extract fits in memory. ``hashed``: False
    leaves ``info.sha256`` None (the caller records no hash).
    """
    full = spec
    if only is not None:
        spec = spec.narrowed(only)
    path = find_table(directory, spec.name)
    if path is None:
        out = TableRead(spec, None)
        if required:
            out.problems.append(
                Problem(
                    str(directory),
                    None,
                    None,
                    f"a file {spec.name}.csv, {spec.name}.xlsx or {spec.name}.xls",
                    "no such file",
                )
            )
        return out
    every = header_keys(full, columns)  # the whole table's headers find a sheet's header row
    wanted = header_keys(spec, columns)
    try:
        ids = {k for k, c in wanted.items() if is_id_column(spec.column(c))}
        raw = read_source(
            path,
            lambda h: header_key(h)[0] in every,
            None if only is None else (lambda h: header_key(h)[0] in wanted),
            lambda h: header_key(h)[0] in ids,
        )
    except InputError as exc:
        return TableRead(
            spec,
            path,
            problems=exc.problems or [Problem(str(path), None, None, "a readable table", str(exc))],
        )
    out = parse_raw(raw, spec, path, columns)
    out.info = TableFile(spec.name, path, sha256_file(path) if hashed else None)
    return out


def read_table(
    directory: Path,
    spec: TableSpec,
    *,
    required: bool = True,
    only: frozenset[str] | None = None,
    columns: ColumnMap = NO_MAP,
    hashed: bool = True,
) -> tuple[pl.DataFrame | None, TableFile | None, list[Problem]]:
    """Find, read and type one table; problems returned, not raised (:func:`inspect_table`)."""
    out = inspect_table(
        directory, spec, required=required, only=only, columns=columns, hashed=hashed
    )
    return (out.df if out.info is not None else None), out.info, out.problems


def read_tables(
    directory: str | Path,
    specs: tuple[TableSpec, ...],
    what: str,
    only: dict[str, frozenset[str]] | None = None,
    columns: ColumnMap = NO_MAP,
    *,
    hashed: bool = True,
) -> tuple[dict[str, pl.DataFrame], tuple[TableFile, ...]]:
    """Read every table of ``specs`` from ``directory``; raise all problems together.

    ``hashed``: False leaves every file's ``sha256`` None (see :func:`inspect_table`).
    """
    d = Path(directory)
    if not d.is_dir():
        raise InputError(Problem(str(d), None, None, f"a {what} directory", "no such directory"))
    tables: dict[str, pl.DataFrame] = {}
    files: list[TableFile] = []
    problems: list[Problem] = []
    for spec in specs:
        out = inspect_table(
            d, spec, only=(only or {}).get(spec.name), columns=columns, hashed=hashed
        )
        problems += out.problems
        if out.df is not None and out.info is not None:
            tables[spec.name] = out.df
            files.append(out.info)
    if problems:
        raise InputError(problems)
    return tables, tuple(files)
