"""Spreadsheets and values as offices keep them (issue 15, items 4-5).

Each case in ``tests/data/messy/`` (written by its ``make.py``; the ``.xls``
converted once by LibreOffice) reads to the right table or fails with one
clear message naming file, row, column, expected and found.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from xkaohe import schemas
from xkaohe.errors import InputError
from xkaohe.io.frame import load_frame
from xkaohe.io.tables import SHEET, TableRead, inspect_table
from xkaohe.run.check_inputs import check_inputs

MESSY = Path(__file__).parent / "data" / "messy"
IDS = ["3401210010010001", "3401210010010002", "3401210010010003"]
STATUSES = ["not_exited", "exited_2016_2018", "exited_2019"]


def _read(case: str, spec: schemas.TableSpec = schemas.HOUSEHOLDS) -> TableRead:
    return inspect_table(MESSY / case, spec)


def _clean(read: TableRead) -> pl.DataFrame:
    assert read.problems == [], read.problems
    assert read.df is not None
    return read.df


@pytest.mark.parametrize(
    ("case", "rows"),
    [
        pytest.param("title_rows", [5, 6, 7], id="title-and-merged-cells-above-header"),
        pytest.param("xls", [3, 4, 5], id="xls"),
        pytest.param("totals", [2, 3, 4], id="totals-row-and-empty-columns"),
    ],
)
def test_households_read_as_the_office_keeps_them(case: str, rows: list[int]) -> None:
    df = _clean(_read(case))
    assert df["household_id"].to_list() == IDS
    assert df["status"].to_list() == STATUSES
    assert df["household_size"].to_list() == [4, 2, 3]
    assert df["_row"].to_list() == rows  # the rows the spreadsheet shows


def test_totals_row_is_skipped_with_a_note() -> None:
    read = _read("totals")
    assert any("row 5: a totals row" in n and "skipped" in n for n in read.notes)
    assert "(column D)" not in read.ignored  # the empty spacer column is dropped


def test_several_sheets_read_as_one() -> None:
    read = _read("sheets")
    df = _clean(read)
    assert df["household_id"].to_list() == IDS
    assert df[SHEET].to_list() == ["徐湖镇", "徐湖镇", "杨庙镇"]
    assert any("sheet '说明' has no header of this table; skipped" in n for n in read.notes)


def test_two_row_header_with_unit() -> None:
    read = _read("two_row_header", schemas.PROJECTS)
    df = _clean(read)
    assert read.mapped["funds_yuan"] == "资金规模（万元）"
    assert df["funds_yuan"].to_list() == [125_000.0, 12_340_000.0]
    assert df["kind"].to_list() == ["county", "village"]
    assert read.ignored == ["资金来源"]


def test_values_as_offices_write_them() -> None:
    df = _clean(_read("values", schemas.PROJECT_CHECKS))
    assert df["date"].to_list() == [dt.date(2019, 11, d) for d in (24, 25, 26, 27, 28)]
    assert df["funds_spent_yuan"].to_list() == [1_234_567.5, 125_000.0, 800.0, 800.0, None]
    assert df["beneficiaries_confirmed"].to_list() == [12, 3, None, 1, None]


def test_scientific_notation_id_is_refused() -> None:
    read = _read("scientific_ids")
    (p,) = read.problems
    assert (p.row, p.column, p.found) == (3, "户编号 (household_id)", "'3.40121E+15'")
    assert "the export lost data" in p.expected


def test_ids_stored_as_numbers_are_refused() -> None:
    read = _read("number_ids")
    by_column = {(p.column, p.row) for p in read.problems}
    # a leading zero gone (a 9-digit id among 10-digit ones) ...
    assert ("户编号 (household_id)", 3) in by_column
    # ... and every 18-digit ID number a number cell rounded to 15 digits
    assert {r for c, r in by_column if c == "户主身份证号 (head_id_number)"} == set(range(2, 12))
    assert all("the export lost data" in p.expected for p in read.problems)


def test_check_inputs_prints_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    report = check_inputs(MESSY / "scientific_ids")
    text = "\n".join(report.lines)
    assert report.blocking
    assert "row 3, column '户编号 (household_id)'" in text and "export lost data" in text


def test_cross_table_problems_name_the_sheet(small_run: Path, tmp_path: Path) -> None:
    """A table kept one sheet per township: a village of an unknown county is named by file,
    sheet and the row that sheet shows."""
    frame = tmp_path / "frame"
    shutil.copytree(small_run / "frame", frame)
    villages = pl.read_csv(frame / "villages.csv", infer_schema=False)
    (frame / "villages.csv").unlink()
    first, second = villages.head(5), villages.slice(5)
    second = second.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("999999"))
        .otherwise(pl.col("county_code"))
        .alias("county_code")
    )
    with xlsxwriter.Workbook(frame / "villages.xlsx") as book:
        first.write_excel(book, worksheet="徐湖镇")
        second.write_excel(book, worksheet="杨庙镇")
    with pytest.raises(InputError) as caught:
        load_frame(frame)
    (problem,) = [p for p in caught.value.problems if p.column == "county_code"]
    assert problem.file == f"{frame / 'villages.xlsx'}, sheet '杨庙镇'"
    assert problem.row == 4  # header row 1, then the sheet's third village
    assert "'999999', which is not there" in problem.found


def test_a_number_cell_among_text_ids_is_refused() -> None:
    """One id typed as a number in a column of text ids: past 15 digits its digits are gone
    (the 18-digit ID number reads ...624 where the office typed ...615)."""
    read = _read("number_cell")
    where = f"{MESSY / 'number_cell' / 'households.xlsx'}, sheet '杨庙镇'"
    got = {(p.file, p.row, p.column, p.found) for p in read.problems}
    assert got == {
        (where, 3, "户编号 (household_id)", "'3401210010010014'"),
        (where, 4, "户主身份证号 (head_id_number)", "'340121196509130624'"),
    }
    assert all("the export lost data" in p.expected for p in read.problems)
    report = check_inputs(MESSY / "number_cell")
    assert report.blocking
    assert any("sheet '杨庙镇', row 3" in line and "lost data" in line for line in report.lines)
