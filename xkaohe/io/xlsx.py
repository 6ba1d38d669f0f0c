"""Printable xlsx workbooks for field teams and team lists.

Chinese headers, widths fitted to the text (CJK characters count double),
frozen header row, A4 fitted to the page width, header row and a page title
repeated on every printed page, page numbers. The workbook's metadata date is
fixed, so the same tables give byte-identical files.

What a workbook shows is decided here (cell values, widths, tab names, page
header and footer); :mod:`xkaohe.io.spreadsheetml` writes the file's parts.

Speed (issue 16): the national sample has 832 field lists, about 2 ms each
(1.2 ms of XML, 0.8 ms to deflate it). They are written in this process, and a
writer thread puts each on disk (synced before it takes its name) while the
next is built. No process is started: a spawned one spends ~0.5 s importing
before it writes anything, and on the two-core machine two of them took a
third more CPU for no less time (more on a busy machine); deflating in threads
took more time, not less (each thread waits for the interpreter lock between
zlib's calls). See ``benchmarks/field_lists.py``.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe.io.files import write_bytes
from xkaohe.io.spreadsheetml import Grid, xlsx_bytes

_FIXED_TIME = dt.datetime(2019, 1, 1)  # workbook metadata: no hidden clock in the file
_AUTHOR = "xkaohe"
_IN_FLIGHT = 8  # built workbooks waiting for the writer thread (bounds their memory)
_INVALID = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its tab name, the table (headers as printed) and print options."""

    title: str
    table: pl.DataFrame
    heading: str = ""  # printed at the top of every page; default: the tab name
    percent: tuple[str, ...] = ()  # columns holding shares, printed as 65.0%
    landscape: bool = True
    footer: str = ""  # printed at the foot of every page, left of the page number


@functools.lru_cache(maxsize=1 << 16)  # names, labels and codes repeat from row to row
def display_width(text: str) -> int:
    """Columns a string needs in a spreadsheet: wide (CJK) characters count double."""
    if text.isascii():  # no ASCII character is wide
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_width(header: str, values: list[Any], text: bool) -> int:
    """Characters a column needs: its widest value among the first 500 rows (as Python
    prints it: a boolean as True), and 2 to spare. ``text``: the values are strings or None."""
    sample = set(values[:500]) if text else {str(v) for v in values[:500] if v is not None}
    sample.discard(None)
    widest = max(display_width(header), max(map(display_width, sample), default=0))
    return min(max(widest + 2, 6), 48)


def _tab_base(title: str) -> str:
    """A legal tab name for ``title``: Excel refuses []:*?/\\, control characters, a leading
    or trailing apostrophe, more than 31 characters (UTF-16 units) and the reserved name
    History."""
    base = "".join(c if c.isprintable() else "_" for c in title.translate(_INVALID))
    base = _first_units(base, 31).strip("'") or "Sheet"
    return base + "_" if base.lower() == "history" else base


def _first_units(text: str, units: int) -> str:
    """The start of ``text`` that fits in ``units`` UTF-16 units, as Excel counts a tab name's
    length (a character beyond U+FFFF, such as an emoji, counts 2)."""
    text = text[:units]
    while len(text.encode("utf-16-le")) > 2 * units:
        text = text[:-1]
    return text


def _page_text(text: str, room: int) -> str:
    """``text`` for a printed header or footer: ``&`` escaped (a name with ``&P`` must not
    become a page number) and cut to fit Excel's 255-character limit with the codes around it."""
    out = text.replace("&", "&&")
    while len(out) > room:  # cut the text, not its escapes
        text = text[: len(text) - (len(out) - room) // 2 - 1]
        out = text.replace("&", "&&") + "…"
    return out


def unique_tab_names(titles: list[str]) -> list[str]:
    """Excel tab names, legal (:func:`_tab_base`) and unique ignoring case, as Excel compares."""
    out: list[str] = []
    for title in titles:
        base = _tab_base(title)
        name, n = base, 2
        while name.lower() in {o.lower() for o in out}:
            suffix = f"({n})"
            name, n = _first_units(base, 31 - len(suffix)).rstrip("'") + suffix, n + 1
        out.append(name)
    return out


def write_workbook(path: Path, sheets: list[Sheet], title: str = "") -> None:
    """Write ``sheets`` to ``path`` atomically; ids and codes are written as text."""
    write_bytes(path, workbook_bytes(sheets, title))


def write_workbooks(books: list[tuple[Path, list[Sheet], str]]) -> None:
    """:func:`write_workbook` for each (path, sheets, title); the same files, sooner."""
    pending: deque[Future[None]] = deque()
    with ThreadPoolExecutor(1) as writer:
        for path, sheets, title in books:
            if len(pending) >= _IN_FLIGHT:
                pending.popleft().result()
            pending.append(writer.submit(write_bytes, path, workbook_bytes(sheets, title)))
        for done in pending:
            done.result()  # a failed write raises here


def workbook_bytes(sheets: list[Sheet], title: str = "") -> bytes:
    """The xlsx file of ``sheets``, as :func:`write_workbook` writes it."""
    sheets = sheets or [Sheet("Sheet1", pl.DataFrame())]  # a workbook has a sheet
    tabs = unique_tab_names([s.title for s in sheets])
    grids = [_grid(sheet, tab, title) for sheet, tab in zip(sheets, tabs, strict=True)]
    return xlsx_bytes(grids, title, _AUTHOR, _FIXED_TIME)


def _grid(sheet: Sheet, tab: str, title: str) -> Grid:
    """``sheet`` as plain values: ids and codes stay text, booleans print as 是/否."""
    df = sheet.table
    columns, widths = [], []
    for name, series in zip(df.columns, df.get_columns(), strict=True):
        values, text = series.to_list(), series.dtype == pl.String
        widths.append(_column_width(name, values, text))
        plain = text or series.dtype.is_integer() or series.dtype.is_float()
        columns.append(values if plain else [_cell(v) for v in values])
    heading = sheet.heading or (f"{title} — {sheet.title}" if title else sheet.title)
    foot = _page_text(sheet.footer, 220)
    return Grid(
        tab=tab,
        headers=df.columns,
        columns=columns,
        widths=widths,
        percent=[name in sheet.percent for name in df.columns],
        landscape=sheet.landscape,
        header=f"&C&12{_page_text(heading, 240)}",
        footer=f"&L{foot}&R第 &P 页，共 &N 页" if foot else "&C第 &P 页，共 &N 页",
    )


def _cell(value: Any) -> Any:
    """A value of a column that is not text or numbers, as the cell shows it."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or isinstance(value, int | float):
        return value
    return str(value)
