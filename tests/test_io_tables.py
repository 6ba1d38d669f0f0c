"""Reading tables: header keys, the column map, units, only what a command needs (issue 15)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from xkaohe import schemas
from xkaohe.errors import InputError
from xkaohe.io.columns import header_key, load_column_map, parse_column_map, unit_scale
from xkaohe.io.tables import inspect_table, read_table

PROJECTS = (
    "project_id,county_code,village_code,kind,name,{funds}\n"
    "340121-C001,340121,,county,教育扶贫,{value}\n"
    "340121-V001,340121,340121001001,village,道路,{value}\n"
)


def _projects(tmp_path: Path, funds: str, value: str = "12.5") -> Path:
    (tmp_path / "projects.csv").write_text(PROJECTS.format(funds=funds, value=value), "utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("header", "key", "unit"),
    [
        pytest.param("资金规模（万元）", "资金规模", "万元", id="full-width-brackets"),
        pytest.param("资金规模(元)", "资金规模", "元", id="half-width-brackets"),
        pytest.param("资金规模元", "资金规模", "元", id="bare-unit"),
        pytest.param(" 户 编号 ", "户编号", None, id="spaces"),
        pytest.param("户编号【必填】", "户编号", None, id="trailing-note"),
        pytest.param("ＨＯＵＳＥＨＯＬＤ_ID", "household_id", None, id="full-width-latin"),
        pytest.param("人均纯收入（元/人）", "人均纯收入", "元", id="per-person"),
    ],
)
def test_header_key(header: str, key: str, unit: str | None) -> None:
    assert header_key(header) == (key, unit)


def test_unit_scale() -> None:
    funds = schemas.PROJECTS.column("funds_yuan")
    assert unit_scale(funds, "资金规模（万元）") == (1e4, None)
    assert unit_scale(funds, "资金规模") == (1.0, None)
    assert unit_scale(funds, "资金（公里）")[1] is not None
    distance = schemas.VILLAGES.column("distance_to_township_km")
    assert unit_scale(distance, "距乡镇距离（米）") == (1e-3, None)


def test_unused_column_never_blocks(tmp_path: Path) -> None:
    """Sampling does not read funds: a funds column headed 资金 neither blocks nor is read."""
    d = _projects(tmp_path, "资金", "not a number")
    only = frozenset({"project_id", "county_code", "village_code", "kind", "name"})
    df, _, problems = read_table(d, schemas.PROJECTS, only=only)
    assert problems == [] and df is not None
    assert "资金" not in df.columns


def test_missing_nullable_column_is_a_note(tmp_path: Path) -> None:
    d = _projects(tmp_path, "资金")
    read = inspect_table(d, schemas.PROJECTS)
    assert read.problems == []
    assert read.df is not None and read.df["funds_yuan"].is_null().all()
    assert any("funds_yuan" in n and "absent" in n for n in read.notes)
    assert read.ignored == ["资金"]


def test_missing_required_column_names_closest_and_map_line(tmp_path: Path) -> None:
    (tmp_path / "projects.csv").write_text(
        "项目代码,county_code,village_code,kind\nP1,340121,,county\n", "utf-8"
    )
    _, _, problems = read_table(tmp_path, schemas.PROJECTS)
    (p,) = problems
    assert p.column == "project_id [项目编号]"
    assert "closest headers: '项目代码'" in p.found
    assert "'项目代码: project_id' under 'projects:'" in p.expected


def test_column_map_and_units(tmp_path: Path) -> None:
    d = _projects(tmp_path, "资金（万元）", '"1,234.5"')
    (tmp_path / "columns.yaml").write_text("projects:\n  资金: funds_yuan\n", "utf-8")
    columns = load_column_map(tmp_path / "columns.yaml")
    read = inspect_table(d, schemas.PROJECTS, columns=columns)
    assert read.problems == []
    assert read.mapped["funds_yuan"] == "资金（万元）" and read.scales["funds_yuan"] == 1e4
    assert read.df is not None
    assert read.df["funds_yuan"].to_list() == [12_345_000.0, 12_345_000.0]


def test_unit_of_another_kind_is_refused(tmp_path: Path) -> None:
    d = _projects(tmp_path, "资金规模（公里）")
    _, _, problems = read_table(d, schemas.PROJECTS)
    assert any("a header in 元" in p.expected for p in problems)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("nosuch:\n  a: b\n", "an unknown table", id="table"),
        pytest.param("projects:\n  资金: fund_yuan\n", "did you mean funds_yuan", id="column"),
        pytest.param("- a\n", "a mapping table", id="shape"),
    ],
)
def test_bad_column_map_is_refused(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "c.yaml").write_text(text, "utf-8")
    with pytest.raises(InputError, match=message):
        load_column_map(tmp_path / "c.yaml")


def test_shipped_column_map_reads() -> None:
    path = Path(__file__).parent.parent / "params" / "columns.yaml"
    assert load_column_map(path).tables == {}
    assert parse_column_map(None, "x").tables == {}


def test_two_headers_for_one_column(tmp_path: Path) -> None:
    (tmp_path / "projects.csv").write_text(
        "project_id,项目编号,county_code,village_code,kind\nP1,P1,340121,,county\n", "utf-8"
    )
    _, _, problems = read_table(tmp_path, schemas.PROJECTS)
    assert any(p.expected.startswith("one header for project_id") for p in problems)


def test_values_as_offices_write_them(tmp_path: Path) -> None:
    (tmp_path / "problems.csv").write_text(
        "problem_id,raised_date,team_id,level,city_name,content_item,description,needs_review\n"
        "W1,2019年11月24日,T1,county,合肥市,C1,d,√\n"
        "W2,2019/11/25,T1,county,合肥市,C1,d,×\n"
        "W3,20191126,T1,county,合肥市,C1,d,Y\n"
        "W4,43797,T1,county,合肥市,C1,d,N\n",
        "utf-8",
    )
    df, _, problems = read_table(tmp_path, schemas.PROBLEMS)
    assert problems == [] and df is not None
    assert df["raised_date"].cast(pl.String).to_list() == [
        "2019-11-24",
        "2019-11-25",
        "2019-11-26",
        "2019-11-28",  # Excel day 43797
    ]
    assert df["needs_review"].to_list() == [True, False, True, False]


def test_totals_row_only_when_the_word_stands_alone(tmp_path: Path) -> None:
    (tmp_path / "cities.csv").write_text(
        "city_name,target_group,counties_assessed\n合计市,G01,3\n合 计：,,3\n", "utf-8"
    )
    read = inspect_table(tmp_path, schemas.CITIES)
    assert read.problems == [] and read.df is not None
    assert read.df["city_name"].to_list() == ["合计市"]
    assert any("row 3: a totals row" in n for n in read.notes)


def test_a_repeating_column_is_checked_over_its_distinct_values(tmp_path: Path) -> None:
    # Past 10,000 rows a column that repeats its values (here the village) is checked
    # for padding and totals labels over its distinct values: one padded cell and one
    # totals row deep in a long table must still be found, as row by row.
    rows = [f"34012100100{i % 4}{i:04d},34012100100{i % 4},1组,not_exited,3" for i in range(12_000)]
    rows[11_002] = rows[11_002].replace(",340121001002,", ", 340121001002 ,")
    rows.insert(11_500, "合计,合计,,,36000")
    header = "household_id,village_code,villager_group,status,household_size"
    (tmp_path / "households.csv").write_text("\n".join([header, *rows]) + "\n", "utf-8")
    only = frozenset({"household_id", "village_code", "status", "household_size"})
    read = inspect_table(tmp_path, schemas.HOUSEHOLDS, only=only)
    assert read.problems == [] and read.df is not None
    assert read.df.height == 12_000
    assert read.df["village_code"][11_002] == "340121001002"  # stripped
    assert read.df["village_code"].n_unique() == 4
    assert any("row 11502: a totals row" in n for n in read.notes)
