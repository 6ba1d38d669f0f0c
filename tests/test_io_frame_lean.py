"""Reading a frame for a draw that needs only some households whole (io.frame, issue 16).

``load_frame(..., households_wanted=...)`` reads the other tables first, then
checks every household in one streaming pass and keeps only the rows the draw
reads. Its contract: the same messages
as reading the table whole, and the same rows, for any input; clean extracts
take the lean way (30 million households never in memory whole).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from xkaohe import schemas
from xkaohe.draw.sampling import Draw, draw_sample, households_read
from xkaohe.errors import InputError
from xkaohe.inputs import Frame, HouseholdsWanted
from xkaohe.io import frame as frame_io
from xkaohe.io.columns import NO_MAP
from xkaohe.io.frame import SAMPLING_COLUMNS, load_frame
from xkaohe.io.plan_file import load_plan
from xkaohe.io.sample_package import write_tables
from xkaohe.io.xlsx import Sheet, write_workbook
from xkaohe.synth.frame import synthesize_frame

PLAN = load_plan(Path(__file__).parent.parent / "params" / "plan-2019.yaml")
SEED = "lean"
WANTED = schemas.HOUSEHOLDS.narrowed(SAMPLING_COLUMNS["households"])


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    """Four counties of the small synthetic province (paired ones included)."""
    frame = synthesize_frame("small", "lean-test")
    c = frame["counties"]
    keep = pl.concat(
        [
            c.filter(pl.col("paired_helper_county").is_not_null()).head(2),
            c.filter(pl.col("paired_helper_county").is_null()).head(2),
        ]
    )["county_code"]
    v = frame["villages"].filter(pl.col("county_code").is_in(keep.implode()))
    p = frame["projects"].filter(pl.col("county_code").is_in(keep.implode()))
    return {
        "counties": c.filter(pl.col("county_code").is_in(keep.implode())),
        "villages": v,
        "households": frame["households"].filter(
            pl.col("village_code").is_in(v["village_code"].implode())
        ),
        "projects": p,
        "project_beneficiaries": frame["project_beneficiaries"].filter(
            pl.col("project_id").is_in(p["project_id"].implode())
        ),
    }


def rows_of(counties: list[str] | None = None) -> Callable[[Frame], HouseholdsWanted]:
    return lambda frame: households_read(frame, PLAN, SEED, counties)


def streams(path: Path) -> bool:
    """Whether one pass over the households CSV finds it clean (no whole reading)."""
    source = frame_io._households_source(path, WANTED, NO_MAP)
    nothing = pl.Series([], dtype=pl.String)
    wanted = HouseholdsWanted(nothing, nothing)
    return source is not None and (frame_io._stream_households(source, wanted, nothing) is not None)


def with_cells(
    tables: dict[str, pl.DataFrame], cells: dict[tuple[int, str], str | None]
) -> dict[str, pl.DataFrame]:
    """The tables with some household cells replaced (row index, column) -> text."""
    hh = tables["households"].with_columns(pl.all().cast(pl.String))
    columns = {c: hh[c].to_list() for c in hh.columns}
    for (row, column), value in cells.items():
        columns[column][row] = value
    return {**tables, "households": pl.DataFrame(columns, schema=hh.schema)}


def assert_same_reading(directory: Path, counties: list[str] | None = None) -> Frame | None:
    """The lean reading says what the whole reading says, or holds the rows it holds."""
    try:
        whole = load_frame(directory, SAMPLING_COLUMNS)
        wanted = households_read(whole, PLAN, SEED, counties)
    except InputError as exc:
        with pytest.raises(InputError) as lean_exc:
            load_frame(directory, SAMPLING_COLUMNS, households_wanted=rows_of(counties))
        assert lean_exc.value.problems == exc.problems
        assert str(lean_exc.value) == str(exc)
        return None
    lean = load_frame(directory, SAMPLING_COLUMNS, households_wanted=rows_of(counties))
    assert_frame_equal(lean.households, whole.households.filter(wanted.rows()))
    for name in ("counties", "villages", "projects", "project_beneficiaries"):
        assert_frame_equal(getattr(lean, name), getattr(whole, name))
    assert lean.files == whole.files
    return lean


def test_clean_extract_reads_lean_and_draws_the_same_sample(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_tables(tmp_path / "f", tables)
    assert streams(tmp_path / "f" / "households.csv")
    lean = assert_same_reading(tmp_path / "f")
    assert lean is not None and lean.households.height < tables["households"].height
    whole = load_frame(tmp_path / "f", SAMPLING_COLUMNS)
    for name, df in draw_sample(whole, PLAN, SEED).tables().items():
        assert_frame_equal(draw_sample(lean, PLAN, SEED).tables()[name], df, check_exact=True)


def test_a_draw_begun_before_the_households_is_the_same_draw(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    """``xkaohe sample`` starts step 6 once the villages are read; the package is the same."""
    write_tables(tmp_path / "f", tables)
    whole = load_frame(tmp_path / "f", SAMPLING_COLUMNS)
    expected = draw_sample(whole, PLAN, SEED).tables()
    draw = Draw(PLAN, SEED)
    lean = load_frame(tmp_path / "f", SAMPLING_COLUMNS, households_wanted=draw.households_wanted)
    assert draw._step6(lean) is not None  # begun with the villages, used for the draw
    for name, df in draw.sample(lean).tables().items():
        assert_frame_equal(df, expected[name], check_exact=True)
    # Another frame's villages: step 6 is not reused, the draw is that frame's own.
    fewer = dataclasses.replace(whole, villages=whole.villages.head(whole.villages.height - 3))
    assert draw._step6(fewer) is None
    for name, df in draw.sample(fewer).tables().items():
        assert_frame_equal(df, draw_sample(fewer, PLAN, SEED).tables()[name], check_exact=True)


def test_some_counties(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    write_tables(tmp_path / "f", tables)
    assert_same_reading(tmp_path / "f", tables["counties"]["county_code"].head(1).to_list())


def test_no_households(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    write_tables(tmp_path / "f", {**tables, "households": tables["households"].head(0)})
    assert_same_reading(tmp_path / "f")


def test_unknown_county_is_the_same_error(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    write_tables(tmp_path / "f", tables)
    with pytest.raises(InputError, match="--county"):
        load_frame(tmp_path / "f", SAMPLING_COLUMNS, households_wanted=rows_of(["no-such"]))


@pytest.mark.parametrize(
    ("cells", "lean"),
    [
        pytest.param({(3, "status"): "脱贫户"}, False, id="unknown-status"),
        pytest.param({(3, "status"): "2019年脱贫户"}, False, id="chinese-status-reads-whole"),
        pytest.param({(3, "status"): None}, False, id="empty-status"),
        pytest.param({(4, "household_size"): "三"}, False, id="not-a-number"),
        pytest.param({(4, "household_size"): "0"}, False, id="size-below-1"),
        pytest.param({(4, "household_size"): "1,234"}, False, id="thousands-separator"),
        pytest.param({(4, "household_size"): " 3"}, False, id="padded-number"),
        pytest.param({(5, "household_id"): None}, False, id="no-id"),
        pytest.param({(5, "household_id"): " 12345"}, False, id="padded-id"),
        pytest.param({(5, "household_id"): "1.2E+15"}, False, id="scientific-id"),
        pytest.param({(5, "household_id"): "12"}, False, id="short-id"),
        pytest.param({(5, "village_code"): "999999999999"}, True, id="unknown-village"),
        pytest.param({(6, "villager_group"): "   "}, False, id="blank-group"),
        pytest.param({(6, "villager_group"): None}, False, id="no-group"),
        pytest.param({(6, "villager_group"): "3组 "}, True, id="padded-group-is-stripped"),
        pytest.param({(7, "head_name"): " 王五 "}, True, id="padded-name-is-stripped"),
        pytest.param({(7, "helper_id"): "4.4E+10"}, False, id="scientific-helper"),
        pytest.param({(8, "household_id"): "合计"}, False, id="totals-row"),
        pytest.param(
            {
                (9, c): None
                for c in (
                    "household_id",
                    "village_code",
                    "villager_group",
                    "status",
                    "household_size",
                    "head_name",
                    "phone",
                    "helper_id",
                )
            },
            False,
            id="empty-row",
        ),
        pytest.param(
            {
                (9, c): None
                for c in (
                    "household_id",
                    "village_code",
                    "villager_group",
                    "status",
                    "household_size",
                    "phone",
                    "helper_id",
                )
            },
            False,
            id="only-a-name",
        ),
    ],
)
def test_any_cell_gives_the_same_messages_or_rows(
    tables: dict[str, pl.DataFrame],
    tmp_path: Path,
    cells: dict[tuple[int, str], str | None],
    lean: bool,
) -> None:
    write_tables(tmp_path / "f", with_cells(tables, cells))
    assert streams(tmp_path / "f" / "households.csv") == lean
    assert_same_reading(tmp_path / "f")


def test_duplicate_id_gives_the_same_message(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    first = tables["households"]["household_id"][0]
    write_tables(tmp_path / "f", with_cells(tables, {(5, "household_id"): first}))
    assert_same_reading(tmp_path / "f")
    with pytest.raises(InputError, match="unique key"):
        load_frame(tmp_path / "f", SAMPLING_COLUMNS)


def test_chinese_headers_gb18030_and_bom(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    hh = tables["households"]
    renamed = hh.rename({c.name: c.alias for c in schemas.HOUSEHOLDS.columns if c.name in hh})
    for encoding, folder in (("utf-8-sig", "bom"), ("gb18030", "gb")):
        write_tables(tmp_path / folder, tables)
        text = renamed.select(reversed(renamed.columns)).write_csv()
        (tmp_path / folder / "households.csv").write_bytes(text.encode(encoding))
        assert_same_reading(tmp_path / folder)


def test_gb18030_values_under_ascii_headers(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_tables(tmp_path / "f", tables)
    text = tables["households"].write_csv()
    (tmp_path / "f" / "households.csv").write_bytes(text.encode("gb18030"))
    assert not streams(tmp_path / "f" / "households.csv")
    assert_same_reading(tmp_path / "f")


def test_a_spreadsheet_reads_whole(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    write_tables(tmp_path / "f", tables)
    (tmp_path / "f" / "households.csv").unlink()
    write_workbook(tmp_path / "f" / "households.xlsx", [Sheet("households", tables["households"])])
    assert_same_reading(tmp_path / "f")


def test_a_beneficiary_who_is_no_household_is_the_same_error(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    b = tables["project_beneficiaries"]
    stray = b.head(1).with_columns(household_id=pl.lit("999999999999999999"))
    write_tables(tmp_path / "f", {**tables, "project_beneficiaries": pl.concat([b, stray])})
    assert_same_reading(tmp_path / "f")


@pytest.mark.parametrize("households_too", [False, True], ids=["households-clean", "both"])
def test_other_tables_problems_wait_for_the_households(
    tables: dict[str, pl.DataFrame], tmp_path: Path, households_too: bool
) -> None:
    """A cross-table problem of another table is raised as the whole reading raises it:
    alone when the households are clean; when they are not, their cells' problems come
    first (cells are checked before tables are compared)."""
    projects = tables["projects"].with_columns(
        county_code=pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("000000"))
        .otherwise(pl.col("county_code"))
    )
    cells = {(3, "status"): "unknown"} if households_too else {}
    write_tables(tmp_path / "f", with_cells({**tables, "projects": projects}, cells))
    assert_same_reading(tmp_path / "f")
    with pytest.raises(InputError) as exc:
        load_frame(tmp_path / "f", SAMPLING_COLUMNS, households_wanted=rows_of())
    assert ("households.csv" in str(exc.value)) == households_too
    assert ("projects.csv" in str(exc.value)) != households_too


def test_an_unreadable_other_table_with_bad_households_is_the_whole_reading(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_tables(tmp_path / "f", with_cells(tables, {(4, "household_size"): "三"}))
    (tmp_path / "f" / "villages.csv").write_text("nothing,useful\n1,2\n", encoding="utf-8")
    assert_same_reading(tmp_path / "f")


def test_unknown_county_with_bad_households_is_the_whole_reading(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_tables(tmp_path / "f", with_cells(tables, {(4, "household_size"): "三"}))
    assert_same_reading(tmp_path / "f", ["no-such"])
