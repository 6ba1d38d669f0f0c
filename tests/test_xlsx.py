"""Tests for the printable workbooks (xkaohe.io.xlsx, xkaohe.io.spreadsheetml).

Reference: ``tests/data/xlsx/before.xlsx`` was written by the former writer
(xlsxwriter 3.3.1, cell by cell; ``xkaohe.io.xlsx`` at commit 0a5e768) from
:func:`reference_sheets` and :data:`TITLE`. The writer must give the same
workbook: read back with openpyxl, the same cells (values, types, styles),
widths and print setup; unzipped, the same XML, part for part.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xkaohe.io.xlsx import Sheet, unique_tab_names, workbook_bytes, write_workbook, write_workbooks

BEFORE = Path(__file__).parent / "data" / "xlsx" / "before.xlsx"
TITLE = "长丰县交叉考核抽样清单 <&>"


def reference_sheets() -> list[Sheet]:
    """Every kind of cell and sheet the lists print (the tables of ``before.xlsx``)."""
    households = pl.DataFrame(
        {
            "户编号": ["3401210010030073", "3401210010030074", None, "0012"],
            "户主姓名": ["汤兰春", " 前有空格", "后有空格 ", "A&B <c>"],
            "人口": [2, 5, None, 12],
            "资金(元)": [1247000.0, 0.1, -3.5e-9, None],
            "贫困村": [True, False, None, True],
            "走访日期": [dt.date(2019, 6, 1), None, dt.date(2019, 6, 2), dt.date(2019, 6, 3)],
            "已走访(√)": ["", "", "", ""],
            "备注": ["_x0041_ 字面", "控制\x01字符", "换行\n第二行", "很长的" * 30],
        }
    )
    summary = pl.DataFrame({"考核组": ["第1组", "第2组"], "县乡村干部占比": [0.654, None]})
    return [
        Sheet("抽样户", households),
        Sheet(
            "总表", summary, "市际交叉考核 考核组总表", percent=("县乡村干部占比",), landscape=False
        ),
        Sheet(
            "空表", pl.DataFrame({"村": [], "人数": []}, schema={"村": pl.String, "人数": pl.Int64})
        ),
        Sheet("1 a'b", pl.DataFrame({"": ["无表头"]}), footer="第&P组 & 附注"),
        Sheet("a", pl.DataFrame({"x": [1]})),
        Sheet("A", pl.DataFrame({"x": [2]})),
        Sheet("History", pl.DataFrame({"R1C1": ["ok"]})),
    ]


def described(data: bytes) -> dict[str, Any]:
    """What a reader sees of a workbook: every cell with its style, widths, print setup."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    out: dict[str, Any] = {
        "sheets": book.sheetnames,
        "title": book.properties.title,
        "creator": book.properties.creator,
        "created": book.properties.created,
        "active": book.active.title if book.active else None,
    }
    for ws in book.worksheets:
        out[ws.title] = {
            "cells": [
                (
                    c.coordinate,
                    c.value,
                    c.data_type,
                    c.number_format,
                    c.font.b,
                    c.fill.fgColor.rgb,
                    c.border.left.style,
                    c.border.bottom.style,
                    c.alignment.vertical,
                    c.alignment.wrap_text,
                )
                for row in ws.iter_rows()
                for c in row
            ],
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "frozen": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "print titles": ws.print_title_rows,
            "orientation": ws.page_setup.orientation,
            "paper": ws.page_setup.paperSize,
            "fit": (ws.sheet_properties.pageSetUpPr.fitToPage, ws.page_setup.fitToHeight),
            "centred": ws.print_options.horizontalCentered,
            "header": ws.oddHeader.center.text,
            "footer": (ws.oddFooter.left.text, ws.oddFooter.center.text, ws.oddFooter.right.text),
        }
    return out


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_the_same_cells_styles_and_print_setup_as_the_former_writer() -> None:
    assert described(workbook_bytes(reference_sheets(), TITLE)) == described(BEFORE.read_bytes())


def test_the_same_xml_part_for_part_as_the_former_writer() -> None:
    after, before = _parts(workbook_bytes(reference_sheets(), TITLE)), _parts(BEFORE.read_bytes())
    assert list(after) == list(before)
    for name, xml in before.items():
        assert after[name] == xml, name


def test_the_reference_holds_what_the_lists_promise() -> None:
    """Independently of the former writer: ids as text, numbers as numbers, 是/否, 0.0%."""
    seen = described(workbook_bytes(reference_sheets(), TITLE))
    cells = {c[0]: c for c in seen["抽样户"]["cells"]}
    assert cells["A2"][1:3] == ("3401210010030073", "s") and cells["A5"][1] == "0012"
    assert cells["C2"][1:3] == (2, "n") and cells["D2"][1] == 1247000.0
    assert [cells[f"E{r}"][1] for r in range(2, 6)] == ["是", "否", None, "是"]
    assert cells["F2"][1] == "2019-06-01" and cells["B3"][1] == " 前有空格"
    assert cells["A1"][4:8] == (True, "FFDDEBF7", "thin", "thin")  # the header's style
    assert seen["抽样户"]["widths"]["H"] == pytest.approx(48.7109375)  # capped at 48
    assert seen["抽样户"]["widths"]["B"] == pytest.approx(11.7109375)  # " 前有空格": CJK double
    assert {c[0]: c[3] for c in seen["总表"]["cells"]}["B2"] == "0.0%"
    assert (
        seen["总表"]["orientation"] == "portrait" and seen["抽样户"]["orientation"] == "landscape"
    )
    assert seen["sheets"] == ["抽样户", "总表", "空表", "1 a'b", "a", "A(2)", "History_"]
    assert seen["抽样户"]["frozen"] == "A2" and seen["抽样户"]["print titles"] == "$1:$1"
    assert seen["抽样户"]["filter"] == "A1:H5" and seen["空表"]["filter"] is None
    assert seen["1 a'b"]["footer"][0] == "第&&P组 && 附注"  # & kept, not a page number
    assert seen["title"] == TITLE and seen["created"] == dt.datetime(2019, 1, 1)


def test_text_is_escaped_as_excel_expects() -> None:
    strings = _parts(workbook_bytes(reference_sheets(), TITLE))["xl/sharedStrings.xml"].decode()
    assert "<t>_x005F_x0041_ 字面</t>" in strings  # a literal _xHHHH_ stays literal
    assert "<t>控制_x0001_字符</t>" in strings  # a control character as _xHHHH_
    assert "<t>A&amp;B &lt;c&gt;</t>" in strings
    assert '<t xml:space="preserve"> 前有空格</t>' in strings


def test_the_zip_is_sound_and_deterministic() -> None:
    data = workbook_bytes(reference_sheets(), TITLE)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert workbook_bytes(reference_sheets(), TITLE) == data


def test_many_workbooks_are_the_files_of_one(tmp_path: Path) -> None:
    books = [
        (tmp_path / "lists" / f"{n}.xlsx", reference_sheets()[n:], f"清单{n}") for n in range(7)
    ]
    write_workbooks(books)
    write_workbook(tmp_path / "one.xlsx", reference_sheets()[3:], "清单3")
    for path, sheets, title in books:
        assert path.read_bytes() == workbook_bytes(sheets, title)
    assert (tmp_path / "one.xlsx").read_bytes() == books[3][0].read_bytes()
    assert sorted(p.name for p in (tmp_path / "lists").iterdir()) == [f"{n}.xlsx" for n in range(7)]


def test_a_workbook_without_sheets_gets_an_empty_one() -> None:
    assert described(workbook_bytes([]))["sheets"] == ["Sheet1"]


def test_a_tab_name_fits_excel_counting_utf16_units() -> None:
    """Excel counts a character beyond U+FFFF (𖠀, an emoji) as 2 of a tab name's 31."""
    names = unique_tab_names(["0" * 30 + "𖠀", "0" * 30 + "𖠀x"])
    assert names == ["0" * 30, "0" * 28 + "(2)"]
    assert described(workbook_bytes([Sheet("😀" * 20, pl.DataFrame())]))["sheets"] == ["😀" * 15]


def test_a_number_that_is_not_finite_is_refused() -> None:
    with pytest.raises(ValueError, match=r"cell B3: a number cannot be nan"):
        workbook_bytes([Sheet("s", pl.DataFrame({"a": ["x", "y"], "b": [1.0, math.nan]}))])


def test_text_longer_than_a_cell_holds_is_cut() -> None:
    book = described(workbook_bytes([Sheet("s", pl.DataFrame({"a": ["长" * 40000, "x"]}))]))
    assert book["s"]["cells"][1][1] == "长" * 32767


_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from(" \n\t&<>'\""))


@given(
    texts=st.lists(st.none() | _TEXT, min_size=1, max_size=6),
    numbers=st.lists(st.none() | st.integers(-(10**15), 10**15), min_size=6, max_size=6),
    shares=st.lists(st.none() | st.floats(-1e12, 1e12), min_size=6, max_size=6),
    flags=st.lists(st.none() | st.booleans(), min_size=6, max_size=6),
)
def test_what_is_written_reads_back(
    texts: list[str | None],
    numbers: list[int | None],
    shares: list[float | None],
    flags: list[bool | None],
) -> None:
    """Any table: text stays text, numbers stay numbers (to 16 digits), booleans print 是/否."""
    n = len(texts)
    df = pl.DataFrame(
        {"文本": texts, "数": numbers[:n], "比例": shares[:n], "是否": flags[:n]},
        schema={"文本": pl.String, "数": pl.Int64, "比例": pl.Float64, "是否": pl.Boolean},
    )
    seen = described(workbook_bytes([Sheet("表", df, percent=("比例",))]))["表"]["cells"]
    rows = [seen[c : c + 4] for c in range(4, len(seen), 4)]
    for row, text, number, share, flag in zip(rows, texts, numbers, shares, flags, strict=False):
        assert row[0][1] == text
        assert row[1][1] == number
        assert row[2][1] == (None if share is None else pytest.approx(share, rel=1e-15, abs=1e-300))
        assert row[2][3] == "0.0%"
        assert row[3][1] == (None if flag is None else "是" if flag else "否")
