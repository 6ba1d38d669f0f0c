"""Write the small messy inputs of tests/test_messy.py (issue 15, items 4-5).

Each case is a folder holding one table the way a county office might send
it. Run from the checkout: ``.venv/bin/python tests/data/messy/make.py``; the
files are committed, so tests never depend on this script's output changing.
``xls/households.xls`` is not written here (no .xls writer is installed): it
was converted once from ``xls_source/households.xlsx`` with LibreOffice
(``soffice --headless --convert-to xls``) and checked by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).parent
HEADERS = ["户编号", "村代码", "村民小组", "户类型", "家庭人口数", "户主姓名"]
ROWS = [
    ["3401210010010001", "340121001001", "1组", "未脱贫户", 4, "王一"],
    ["3401210010010002", "340121001001", "1组", "2016—2018年脱贫户", 2, "李二"],
    ["3401210010010003", "340121001001", "2组", "2019年脱贫户", 3, "张三"],
]


def _book(path: Path) -> xlsxwriter.Workbook:
    path.parent.mkdir(parents=True, exist_ok=True)
    # strings_to_numbers off: an id written as text stays text, as a careful export keeps it
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties({"created": dt.datetime(2019, 11, 20)})  # the same bytes on every run
    return wb


def title_rows() -> None:
    """A merged title, a subtitle and a blank row above the header; data starts on row 5."""
    wb = _book(HERE / "title_rows" / "households.xlsx")
    ws = wb.add_worksheet("户名单")
    ws.merge_range(0, 0, 0, 5, "某县2019年建档立卡户名单", wb.add_format({"bold": True}))
    ws.write(1, 0, "填报单位：某县扶贫办")
    ws.write_row(3, 0, HEADERS)
    for i, row in enumerate(ROWS):
        ws.write_row(4 + i, 0, row)
    wb.close()


def two_row_header() -> None:
    """Two header rows: ids merged down both, 资金 merged across 规模（万元）."""
    wb = _book(HERE / "two_row_header" / "projects.xlsx")
    ws = wb.add_worksheet("项目")
    merged = wb.add_format({"align": "center"})
    ws.merge_range(0, 0, 1, 0, "项目编号", merged)
    ws.merge_range(0, 1, 1, 1, "县代码", merged)
    ws.merge_range(0, 2, 1, 2, "村代码", merged)
    ws.merge_range(0, 3, 1, 3, "项目类型", merged)
    ws.merge_range(0, 4, 0, 5, "资金", merged)
    ws.write_row(1, 4, ["规模（万元）", "来源"])
    ws.write_row(2, 0, ["340121-C001", "340121", None, "县级项目", 12.5, "财政"])
    ws.write_row(3, 0, ["340121-V001", "340121", "340121001001", "到村项目", "1,234", "整合"])
    wb.close()


def sheets() -> None:
    """One sheet per township, headed slightly differently, and a notes sheet."""
    wb = _book(HERE / "sheets" / "households.xlsx")
    notes = wb.add_worksheet("说明")
    notes.write(0, 0, "本表按乡镇分页填报")
    for name, rows, headers in (
        ("徐湖镇", ROWS[:2], HEADERS),
        ("杨庙镇", ROWS[2:], ["户 编号", *HEADERS[1:]]),
    ):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, headers)
        for i, row in enumerate(rows):
            ws.write_row(1 + i, 0, row)
    wb.close()


def totals() -> None:
    """A totals row, an empty spacer column, blank rows and columns after the data."""
    wb = _book(HERE / "totals" / "households.xlsx")
    ws = wb.add_worksheet("户名单")
    ws.write_row(0, 0, [*HEADERS[:3], None, *HEADERS[3:]])
    for i, row in enumerate(ROWS):
        ws.write_row(1 + i, 0, [*row[:3], None, *row[3:]])
    ws.write_row(4, 0, ["合计", None, None, None, None, 9])
    ws.write(8, 9, "")  # a formatted but empty cell far out: the used range grows
    wb.close()


def values() -> None:
    """Field returns as offices write them: dates, ticks, amounts with separators and 万."""
    wb = _book(HERE / "values" / "project_checks.xlsx")
    ws = wb.add_worksheet("项目核查")
    ws.write_row(0, 0, ["项目编号", "核查日期", "项目状态", "已支出资金（元）", "核实受益户数"])
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(1, 0, ["P1", "2019年11月24日", "已完工", "1,234,567.5", "12"])
    ws.write_row(2, 0, ["P2", "2019/11/25", "在建", "12.5万", "3"])
    ws.write_row(3, 0, ["P3", "20191126", "已完工", "800元", None])
    ws.write_row(4, 0, ["P4", None, "已完工", 800, 1])
    ws.write_datetime(4, 1, dt.datetime(2019, 11, 27), day)
    ws.write_row(5, 0, ["P5", "43797", "已完工", None, None])
    wb.close()


def scientific_ids() -> None:
    """A CSV saved from a spreadsheet that showed the ids in scientific notation."""
    path = HERE / "scientific_ids" / "households.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(HEADERS)]
    for row in ROWS:
        lines.append(",".join(str(c) for c in row))
    lines[2] = lines[2].replace("3401210010010002", "3.40121E+15")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def number_ids() -> None:
    """Ids stored as numbers: leading zeros gone, an 18-digit ID number rounded."""
    wb = _book(HERE / "number_ids" / "households.xlsx")
    ws = wb.add_worksheet("户名单")
    ws.write_row(0, 0, [*HEADERS, "户主身份证号"])
    for i in range(10):  # ten households, nine ids of 10 digits
        ws.write_row(1 + i, 0, [f"034012100{i}", *ROWS[i % 3][1:]])
        ws.write_number(1 + i, 6, 340121196509130696 + i)
    ws.write_number(2, 0, 340121002)  # this id was typed as a number: its zero is gone
    wb.close()


def number_cell() -> None:
    """Ids kept as text, one typed as a number in each column, on the second of two sheets:
    a 16-digit household id and an 18-digit ID number, both past a number's 15 digits."""
    wb = _book(HERE / "number_cell" / "households.xlsx")
    for sheet, first in (("徐湖镇", 0), ("杨庙镇", 3)):
        ws = wb.add_worksheet(sheet)
        ws.write_row(0, 0, [*HEADERS, "户主身份证号"])
        for i in range(3):
            n = first + i
            ws.write_row(1 + i, 0, [f"34012100100100{n + 10}", *ROWS[i][1:]])
            ws.write_string(1 + i, 6, f"3401211965091306{n + 10}")
    ws.write_number(2, 0, 3401210010010014)  # 杨庙镇, row 3: typed as a number
    ws.write_number(3, 6, 340121196509130615)  # 杨庙镇, row 4: rounded to 15 digits
    wb.close()


def xls_source() -> None:
    """The .xlsx converted to ``xls/households.xls`` (a title row above the header)."""
    wb = _book(HERE / "xls_source" / "households.xlsx")
    ws = wb.add_worksheet("户名单")
    ws.write(0, 0, "某县建档立卡户名单")
    ws.write_row(1, 0, HEADERS)
    for i, row in enumerate(ROWS):
        ws.write_row(2 + i, 0, row)
    wb.close()


if __name__ == "__main__":
    for make in (
        title_rows,
        two_row_header,
        sheets,
        totals,
        values,
        scientific_ids,
        number_ids,
        number_cell,
    ):
        make()
    xls_source()
