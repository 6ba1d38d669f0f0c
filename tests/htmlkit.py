"""Read rendered reports back: their ``xk-table`` tables as rows, their text without tags."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path


class _Tables(HTMLParser):
    """Every ``xk-table`` of a page as a list of rows (dicts header -> cell text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[dict[str, str]]] = []
        self._head: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and "xk-table" in (dict(attrs).get("class") or ""):
            self._in, self._head = True, []
            self.tables.append([])
        elif self._in and tag == "tr":
            self._row = []
        elif self._in and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self._in:
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._head:
                self.tables[-1].append(dict(zip(self._head, self._row, strict=False)))
            else:
                self._head = self._row
            self._row = None
        elif tag == "table":
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(path: Path) -> list[list[dict[str, str]]]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def table_with(path: Path, *headers: str) -> list[dict[str, str]]:
    """The first table of the page with all of ``headers`` (no rows when there is none)."""
    return next((t for t in tables(path) if t and set(headers) <= set(t[0])), [])


def text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))
