"""Printable xlsx workbooks for field teams: Chinese headers, sensible widths,
frozen header row, landscape A4 fitted to the page width, header repeated on
every printed page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

_FIXED_TIME = dt.datetime(2019, 1, 1)  # workbook metadata: no hidden clock in the file
_INVALID = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a title (tab name) and a table with the headers to print."""

    title: str
    table: pl.DataFrame


def display_width(text: str) -> int:
    """Columns a string needs in a spreadsheet: CJK characters count double."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _column_width(header: str, values: pl.Series) -> float:
    sample = [str(v) for v in values.head(500).to_list() if v is not None]
    widest = max([display_width(header), *(display_width(v) for v in sample)])
    return float(min(max(widest + 2, 6), 48))


def write_workbook(path: Path, sheets: list[Sheet], title: str = "") -> None:
    """Write ``sheets`` to ``path``; ids and codes are written as text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"title": title, "created": _FIXED_TIME, "author": "xkaohe"})
    head = wb.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
    )
    cell = wb.add_format({"border": 1, "valign": "vcenter"})
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.title.translate(_INVALID)[:31])
        df = sheet.table
        ws.write_row(0, 0, df.columns, head)
        for r, row in enumerate(df.iter_rows(), start=1):
            for c, value in enumerate(row):
                if value is None:
                    ws.write_blank(r, c, None, cell)
                elif isinstance(value, bool):
                    ws.write_string(r, c, "是" if value else "否", cell)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value, cell)
                else:
                    ws.write_string(r, c, str(value), cell)
        for c, name in enumerate(df.columns):
            ws.set_column(c, c, _column_width(name, df[name]))
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.set_header(f"&C{title} — {sheet.title}" if title else f"&C{sheet.title}")
        ws.set_footer("&C第 &P 页，共 &N 页")
        if df.height:
            ws.autofilter(0, 0, df.height, max(len(df.columns) - 1, 0))
    wb.close()
