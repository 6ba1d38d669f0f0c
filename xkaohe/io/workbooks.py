"""Spreadsheets as offices keep them: find the header row, two-row headers, several sheets.

Title rows and merged cells above the header, a header split over two rows,
one sheet per township read as one table (``_sheet`` names the sheet), empty
trailing rows and columns, and which columns were stored as numbers, or which
cells of an id column among text ones (so an id that lost its digits can be
refused). ``.xlsx`` and ``.xls`` through fastexcel (calamine). What the cells
mean is :mod:`xkaohe.io.tables`' job.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW
from xkaohe.io.columns import header_key
from xkaohe.yamltext import excerpt

SHEET = "_sheet"
NUMBER_HEADER = "_header"  # the column of RawTable.number_cells naming the cell's header
EXCERPT = 40  # characters of a header or cell quoted in a message
_HEADER_SCAN = 30  # rows of a sheet searched for the header row


@dataclass(frozen=True)
class RawTable:
    """A file as read: text cells under the file's own headers, with ``_row`` (and ``_sheet``).

    ``numeric``: headers of spreadsheet columns whose cells were stored as numbers.
    ``number_cells``: in the probed columns that mix text and numbers, the cells stored
    as numbers: ``_sheet`` (null for one sheet), ``_row`` and ``_header``.
    """

    df: pl.DataFrame
    notes: tuple[str, ...] = ()
    numeric: frozenset[str] = frozenset()
    headers: tuple[str, ...] | None = None  # every header of the file, read or not
    number_cells: pl.DataFrame | None = None


def _letter(index: int) -> str:
    """Spreadsheet column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = string.ascii_uppercase[rem] + out
    return out


def _cell(value: str | None) -> str:
    return "" if value is None else value.strip()


def _header_names(
    rows: list[list[str]], r: int, two: bool, known: Callable[[str], bool]
) -> tuple[list[str], int]:
    """Names of the columns if the header is row ``r`` (and ``r + 1`` when ``two``); score."""
    top = rows[r]
    if not two:
        return top, sum(1 for c in top if c and known(c))
    bottom = rows[r + 1]
    filled, last = [], ""
    for c in top:  # a merged group heading spans the columns to its right
        last = c or last
        filled.append(last)
    names, score = [], 0
    for t, f, b in zip(top, filled, bottom, strict=True):
        options = [f + b, b] if b else [t]
        hit = next((o for o in options if o and known(o)), None)
        score += hit is not None
        names.append(hit if hit is not None else (f + b if b and f else b or f))
    return names, score


def _find_header(
    rows: list[list[str]], known: Callable[[str], bool] | None
) -> tuple[int, bool] | None:
    """The header row (0-based) and whether a second header row follows; None if none matches.

    The row (or pair of rows) naming the most known headers wins; on a tie the
    single row, then the earlier one. Without ``known``, the first non-empty row.
    """
    if known is None:
        first = next((i for i, row in enumerate(rows) if any(row)), None)
        return None if first is None else (first, False)
    best: tuple[int, int, bool] | None = None
    for r in range(min(len(rows), _HEADER_SCAN)):
        for two in (False, True):
            if two and r + 1 >= len(rows):
                continue
            _, score = _header_names(rows, r, two, known)
            if score and (best is None or score > best[0]):
                best = (score, r, two)
    return None if best is None else (best[1], best[2])


def _sheet_table(
    reader: fastexcel.ExcelReader,
    index: int,
    known: Callable[[str], bool] | None,
    fallback: bool,
    probe: Callable[[str], bool] | None = None,
) -> tuple[pl.DataFrame, frozenset[str], pl.DataFrame] | None:
    """One sheet's table (text, own headers, ``_row``), its numeric columns and, in the
    columns ``probe`` picks that are not all numbers, the cells stored as numbers
    (``_row, _header``); None if no header.

    ``fallback``: without a known header, take the first non-empty row as the header.
    """
    sheet = reader.load_sheet(index, header_row=None, dtypes="string", skip_rows=0)
    grid = sheet.to_polars()
    if grid.height == 0:
        return None
    offsets = [c.absolute_index for c in sheet.available_columns()]
    rows = [[_cell(v) for v in row] for row in grid.head(_HEADER_SCAN + 1).iter_rows()]
    found = _find_header(rows, known)
    if found is None and fallback:
        found = _find_header(rows, None)
    if found is None:
        return None
    r, two = found
    names, _ = _header_names(rows, r, two, known or (lambda _: False))
    start = r + (2 if two else 1)
    data = grid.slice(start)
    columns: dict[str, pl.Series] = {}
    numeric: set[str] = set()
    empty = [i for i, s in enumerate(data.iter_columns()) if s.null_count() == s.len()]
    kinds = _numeric_columns(reader, index, start, empty)
    probed: dict[int, str] = {}
    for name, series, absolute in zip(names, data.iter_columns(), offsets, strict=True):
        if not name and series.null_count() == series.len():
            continue  # an empty column (a trailing one, or a spacer)
        shown = name or f"(column {_letter(absolute)})"
        if shown in columns:
            shown = f"{shown} (column {_letter(absolute)})"
        columns[shown] = series.alias(shown)
        if absolute in kinds:
            numeric.add(shown)
        elif probe is not None and probe(shown) and series.null_count() < series.len():
            probed[absolute] = shown
    df = pl.DataFrame(list(columns.values())) if columns else pl.DataFrame()
    row_numbers = pl.int_range(start + 1, start + 1 + data.height, dtype=pl.Int64, eager=True)
    df = df.with_columns(row_numbers.alias(ROW))
    return df, frozenset(numeric), _number_cells(reader, index, start, probed, row_numbers)


def _numeric_columns(
    reader: fastexcel.ExcelReader, index: int, start: int, empty: list[int]
) -> set[int]:
    """Absolute indexes of the sheet's columns whose data cells are all stored as numbers.

    ``start``: the first data row (0-based); ``empty``: positions of columns without
    data, typed as text up front (fastexcel complains when it cannot guess them).
    """
    sheet = reader.load_sheet(
        index,
        header_row=start - 1,
        schema_sample_rows=None,
        dtypes=dict.fromkeys(empty, "string") or None,
    )
    return {c.absolute_index for c in sheet.available_columns() if c.dtype in ("float", "int")}


def _number_cells(
    reader: fastexcel.ExcelReader,
    index: int,
    start: int,
    probed: dict[int, str],
    rows: pl.Series,
) -> pl.DataFrame:
    """The cells stored as numbers in the ``probed`` columns (absolute index -> header):
    ``_row, _header``. Read as booleans, a number cell gives a value and a text cell
    none, so one more pass over just these columns tells them apart."""
    out = pl.DataFrame(schema={ROW: pl.Int64, NUMBER_HEADER: pl.String})
    if not probed:
        return out
    sheet = reader.load_sheet(
        index,
        header_row=start - 1,
        use_columns=list(probed),
        dtypes=dict.fromkeys(probed, "boolean"),
        schema_sample_rows=None,
    )
    typed = sheet.to_polars()
    parts = [out]
    for i, col in enumerate(sheet.selected_columns):
        flags = typed.to_series(i).head(rows.len()).is_not_null()
        hits = rows.head(flags.len()).filter(flags)
        header = [probed[col.absolute_index]] * hits.len()
        parts.append(pl.DataFrame({ROW: hits, NUMBER_HEADER: header}))
    return pl.concat(parts).cast({ROW: pl.Int64, NUMBER_HEADER: pl.String})


def read_workbook(
    path: Path, known: Callable[[str], bool] | None, probe: Callable[[str], bool] | None = None
) -> RawTable:
    """Every sheet holding the table, as one (``_sheet`` when several); notes for the rest.

    ``probe``: headers whose cells are looked at one by one (ids): a cell stored as a
    number among text cells is listed in :attr:`RawTable.number_cells`.
    """
    reader = fastexcel.read_excel(path)
    names = reader.sheet_names
    parts: list[tuple[str, pl.DataFrame]] = []
    numeric: set[str] = set()
    notes: list[str] = []
    cells: list[tuple[str, pl.DataFrame]] = []
    for index, name in enumerate(names if known is not None else names[:1]):
        got = _sheet_table(reader, index, known, fallback=False, probe=probe)
        if got is None:
            if len(names) > 1:
                notes.append(
                    f"{path}: sheet {excerpt(name, EXCERPT)} has no header of this table; skipped"
                )
            continue
        parts.append((name, got[0]))
        numeric |= got[1]
        cells.append((name, got[2]))
    if not parts:  # no sheet names a known header: show the first sheet's own headers
        notes = []
        got = _sheet_table(reader, 0, known, fallback=True, probe=probe) if names else None
        if got is None:
            raise InputError(Problem(str(path), None, None, "a header row", "an empty workbook"))
        return RawTable(got[0], (), got[1], number_cells=_with_sheet(got[2], None))
    if len(parts) == 1:
        return RawTable(
            parts[0][1],
            tuple(notes),
            frozenset(numeric),
            number_cells=_with_sheet(cells[0][1], None),
        )
    # Sheets may head a column differently (户编号 / 户 编号): name it as the first sheet does.
    first: dict[str, str] = {}
    aligned = []
    for name, df in parts:
        renames = {}
        for c in df.columns:
            key = header_key(c)[0]
            first.setdefault(key, c)
            if c != ROW and first[key] != c:
                renames[c] = first[key]
        aligned.append(df.rename(renames).with_columns(pl.lit(name).alias(SHEET)))
    numeric = {first.get(header_key(c)[0], c) for c in numeric}
    number_cells = pl.concat(
        [
            _with_sheet(df, name).with_columns(
                pl.col(NUMBER_HEADER).map_elements(
                    lambda h: first.get(header_key(h)[0], h), return_dtype=pl.String
                )
            )
            for name, df in cells
        ]
    )
    return RawTable(
        pl.concat(aligned, how="diagonal"),
        tuple(notes),
        frozenset(numeric),
        number_cells=number_cells,
    )


def _with_sheet(cells: pl.DataFrame, sheet: str | None) -> pl.DataFrame:
    """Number cells with their sheet (null: the table is one sheet) first."""
    return cells.select(pl.lit(sheet, pl.String).alias(SHEET), ROW, NUMBER_HEADER)
