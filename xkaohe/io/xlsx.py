"""Printable xlsx workbooks for field teams and team lists.

Chinese headers, widths fitted to the text (CJK characters count double),
frozen header row, A4 fitted to the page width, header row and a page title
repeated on every printed page, page numbers. The workbook's metadata date is
fixed, so the same tables give byte-identical files.

Speed (issue 16): each workbook is assembled in memory (xlsxwriter's default
writes every part to a temporary file first: 16 files created and removed a
workbook, most of its time on a busy disk), and :func:`write_workbooks` writes
many workbooks in a few processes (xlsxwriter is pure Python: one core writes
some tens of field lists a second; the national sample has 832). A workbook's
bytes go to disk from a writer thread, so waiting for the disk (each file is
synced before it takes its name) overlaps building the next workbook.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import multiprocessing
import os
import unicodedata
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from xkaohe.io.files import write_bytes

_FIXED_TIME = dt.datetime(2019, 1, 1)  # workbook metadata: no hidden clock in the file
PARALLEL_FROM = 200  # workbooks; fewer are written here: a spawned writer takes ~0.5 s to start
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


def _column_width(header: str, values: pl.Series) -> float:
    sample = [str(v) for v in values.head(500).to_list() if v is not None]
    widest = max([display_width(header), *(display_width(v) for v in sample)])
    return float(min(max(widest + 2, 6), 48))


def _tab_base(title: str) -> str:
    """A legal tab name for ``title``: Excel refuses []:*?/\\, control characters, a leading
    or trailing apostrophe, more than 31 characters and the reserved name History."""
    base = "".join(c if c.isprintable() else "_" for c in title.translate(_INVALID))
    base = base[:31].strip("'") or "Sheet"
    return base + "_" if base.lower() == "history" else base


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
            name, n = base[: 31 - len(suffix)].rstrip("'") + suffix, n + 1
        out.append(name)
    return out


def write_workbook(path: Path, sheets: list[Sheet], title: str = "") -> None:
    """Write ``sheets`` to ``path`` atomically; ids and codes are written as text."""
    write_bytes(path, workbook_bytes(sheets, title))


def write_workbooks(books: list[tuple[Path, list[Sheet], str]], processes: int = 0) -> None:
    """:func:`write_workbook` for each (path, sheets, title); same files, in parallel.

    ``processes``: 0 for the machine's cores (at most 4); from
    :data:`PARALLEL_FROM` workbooks on they are written by that many fresh
    processes (spawned: no copy of a large frame, no fork under polars' threads; a
    spawned process imports the caller's main module, so a script needs the usual
    ``if __name__ == "__main__":`` guard, or its workbooks are written here instead).
    """
    n = min(processes or (os.cpu_count() or 1), 4, len(books))
    if n > 1 and len(books) >= PARALLEL_FROM:
        size = max(1, len(books) // (n * 4))
        batches = [books[i : i + size] for i in range(0, len(books), size)]
        try:
            with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
                for _ in pool.map(_write_batch, batches):
                    pass
            return
        except BrokenProcessPool:  # e.g. a script without ``if __name__ == "__main__":``
            pass  # written here instead (the same files; atomic writes left no halves)
    _write_batch(books)


def _write_batch(books: list[tuple[Path, list[Sheet], str]]) -> None:
    """Build each workbook here and hand its bytes to a writer thread (disk waits overlap)."""
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
    options = {"strings_to_numbers": False, "strings_to_urls": False, "in_memory": True}
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, options)
    wb.set_properties({"title": title, "created": _FIXED_TIME, "author": "xkaohe"})
    head = wb.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
    cell = wb.add_format({"border": 1, "valign": "vcenter"})
    pct = wb.add_format({"border": 1, "valign": "vcenter", "num_format": "0.0%"})
    for sheet, tab in zip(sheets, unique_tab_names([s.title for s in sheets]), strict=True):
        ws = wb.add_worksheet(tab)
        df = sheet.table
        ws.write_row(0, 0, df.columns, head)
        for c, name in enumerate(df.columns):
            fmt = pct if name in sheet.percent else cell
            for r, value in enumerate(df[name].to_list(), start=1):
                if value is None:
                    ws.write_blank(r, c, None, fmt)
                elif isinstance(value, bool):
                    ws.write_string(r, c, "是" if value else "否", fmt)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value, fmt)
                else:
                    ws.write_string(r, c, str(value), fmt)
            ws.set_column(c, c, _column_width(name, df[name]))
        ws.freeze_panes(1, 0)
        if sheet.landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.center_horizontally()
        heading = sheet.heading or (f"{title} — {sheet.title}" if title else sheet.title)
        ws.set_header(f"&C&12{_page_text(heading, 240)}")
        foot = _page_text(sheet.footer, 220)
        ws.set_footer(f"&L{foot}&R第 &P 页，共 &N 页" if foot else "&C第 &P 页，共 &N 页")
        if df.height:
            ws.autofilter(0, 0, df.height, max(len(df.columns) - 1, 0))
    wb.close()
    return buffer.getvalue()
