"""Reading the frame: encodings, Chinese headers and values, XLSX, and bad input."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from xkaohe import schemas
from xkaohe.draw.sampling import draw_sample
from xkaohe.errors import InputError
from xkaohe.io.frame import load_frame
from xkaohe.io.plan_file import load_plan
from xkaohe.io.sample_package import write_tables
from xkaohe.io.xlsx import Sheet, write_workbook
from xkaohe.synth.frame import synthesize_frame

PLAN = Path(__file__).parent.parent / "params" / "plan-2019.yaml"

TABLES = {s.name: s for s in schemas.FRAME_TABLES}


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    """Three counties of the small synthetic province (one of them paired)."""
    frame = synthesize_frame("small", "io-test")
    c = frame["counties"]
    keep = pl.concat(
        [
            c.filter(pl.col("paired_helper_county").is_not_null()).head(1),
            c.filter(pl.col("paired_helper_county").is_null()).head(2),
        ]
    )["county_code"]
    v = frame["villages"].filter(pl.col("county_code").is_in(keep.implode()))
    h = frame["households"].filter(pl.col("village_code").is_in(v["village_code"].implode()))
    p = frame["projects"].filter(pl.col("county_code").is_in(keep.implode()))
    b = frame["project_beneficiaries"].filter(pl.col("project_id").is_in(p["project_id"].implode()))
    return {
        "counties": c.filter(pl.col("county_code").is_in(keep.implode())),
        "villages": v,
        "households": h,
        "projects": p,
        "project_beneficiaries": b,
    }


def chinese(df: pl.DataFrame, spec: schemas.TableSpec) -> pl.DataFrame:
    """The same table as a Chinese export would write it: headers, values, 是/否."""
    out = []
    for col in spec.columns:
        if col.name not in df.columns:
            continue
        e = pl.col(col.name)
        if col.kind == "bool":
            e = pl.when(e).then(pl.lit("是")).otherwise(pl.lit("否"))
        elif col.kind == "enum":
            to_zh = {v: k for k, v in col.values.items() if k != v}
            e = e.replace(to_zh)
            if spec.name == "households":  # exports use the long dash in year ranges
                e = e.str.replace_all("-", "—", literal=True)
        out.append(e.alias(col.alias))
    extras = [c for c in df.columns if c not in {x.name for x in spec.columns}]
    return df.select([*out, *extras])


def write_chinese_csv(directory: Path, tables: dict[str, pl.DataFrame], encoding: str) -> None:
    directory.mkdir(parents=True)
    for name, df in tables.items():
        text = chinese(df, TABLES[name]).write_csv()
        (directory / f"{name}.csv").write_bytes(text.encode(encoding))


def sample_of(directory: Path) -> dict[str, pl.DataFrame]:
    frame = load_frame(directory)
    return draw_sample(frame, load_plan(PLAN), "demo").tables()


def test_gb18030_chinese_headers_and_values_give_the_same_sample(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_tables(tmp_path / "canonical", tables)
    write_chinese_csv(tmp_path / "gb", tables, "gb18030")
    expected, found = sample_of(tmp_path / "canonical"), sample_of(tmp_path / "gb")
    for name in expected:
        assert expected[name].equals(found[name]), name


def test_utf8_with_bom_is_read(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    write_chinese_csv(tmp_path / "bom", tables, "utf-8-sig")
    assert load_frame(tmp_path / "bom").households.height == tables["households"].height


def test_xlsx_gives_the_same_sample(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    write_tables(tmp_path / "canonical", tables)
    (tmp_path / "xlsx").mkdir()
    for name, df in tables.items():
        write_workbook(tmp_path / "xlsx" / f"{name}.xlsx", [Sheet(name, chinese(df, TABLES[name]))])
    expected, found = sample_of(tmp_path / "canonical"), sample_of(tmp_path / "xlsx")
    for name in expected:
        assert expected[name].equals(found[name]), name


def test_codes_keep_leading_zeros(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    t = dict(tables)
    t["households"] = t["households"].with_columns(household_id="00" + pl.col("household_id"))
    t["project_beneficiaries"] = t["project_beneficiaries"].with_columns(
        household_id="00" + pl.col("household_id")
    )
    write_tables(tmp_path / "f", t)
    frame = load_frame(tmp_path / "f")
    assert frame.households["household_id"].str.starts_with("00").all()
    assert frame.households["household_id"].dtype == pl.String


def _broken(
    tables: dict[str, pl.DataFrame],
    tmp_path: Path,
    table: str,
    row: int,
    column: str,
    value: str | None,
) -> Path:
    t = dict(tables)
    df = t[table].with_columns(pl.col(column).cast(pl.String))
    values = df[column].to_list()
    values[row] = value
    t[table] = df.with_columns(pl.Series(column, values, dtype=pl.String))
    write_tables(tmp_path / "f", t)
    return tmp_path / "f"


@pytest.mark.parametrize(
    ("table", "column", "value", "message"),
    [
        pytest.param(
            "households",
            "status",
            "脱贫户",
            r"households\.csv, row 4, column 'status': "
            r"expected one of .*found '脱贫户'",
            id="unknown-status",
        ),
        pytest.param(
            "counties",
            "category",
            "重点县",
            r"counties\.csv, row 4, column 'category'",
            id="unknown-category",
        ),
        pytest.param(
            "villages",
            "infrastructure_gap",
            "1.5",
            r"villages\.csv, row 4, column 'infrastructure_gap': expected a value <= 1; "
            r"found '1\.5'",
            id="gap-above-1",
        ),
        pytest.param(
            "villages",
            "registered_poor_people",
            "-3",
            r"column 'registered_poor_people': expected a value >= 0; found '-3'",
            id="negative-count",
        ),
        pytest.param(
            "households",
            "household_size",
            "三",
            r"column 'household_size': expected a "
            r"whole number; found '三'",
            id="non-numeric",
        ),
        pytest.param(
            "villages",
            "is_poor_village",
            "maybe",
            r"expected true/false, 1/0 or 是/否",
            id="bad-bool",
        ),
        pytest.param(
            "households",
            "village_code",
            "999999999999",
            r"households\.csv, row 4, column "
            r"'village_code': expected a village_code listed in villages; found "
            r"'999999999999', which is not there",
            id="household-unknown-village",
        ),
        pytest.param(
            "projects",
            "county_code",
            "000000",
            r"projects\.csv, row 4, column "
            r"'county_code': expected a county_code listed in counties",
            id="project-county",
        ),
        pytest.param(
            "households", "status", None, r"column 'status': expected a value", id="empty"
        ),
    ],
)
def test_bad_cell_is_reported_with_file_row_column(
    tables: dict[str, pl.DataFrame],
    tmp_path: Path,
    table: str,
    column: str,
    value: str | None,
    message: str,
) -> None:
    directory = _broken(tables, tmp_path, table, 2, column, value)
    with pytest.raises(InputError, match=message):
        load_frame(directory)


def test_duplicate_ids_are_reported(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    first = tables["households"]["household_id"][0]
    directory = _broken(tables, tmp_path, "households", 5, "household_id", first)
    with pytest.raises(
        InputError,
        match=rf"(?s)row 2, column 'household_id': expected a unique "
        rf"key; found '{first}'.*row 7",
    ):
        load_frame(directory)


def test_every_problem_is_reported_at_once(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    t = dict(tables)
    t["villages"] = t["villages"].with_columns(infrastructure_gap=pl.lit(2.0))
    t["households"] = t["households"].with_columns(household_size=pl.lit(0))
    write_tables(tmp_path / "f", t)
    with pytest.raises(InputError) as info:
        load_frame(tmp_path / "f")
    files = {p.file.rsplit("/", 1)[-1] for p in info.value.problems}
    assert files == {"villages.csv", "households.csv"}
    assert "more rows like these" in str(info.value)


def test_missing_file_and_column(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    t = dict(tables)
    del t["projects"]
    t["villages"] = t["villages"].drop("township_code")
    write_tables(tmp_path / "f", t)
    with pytest.raises(InputError) as info:
        load_frame(tmp_path / "f")
    text = str(info.value)
    assert "expected a file projects.csv, projects.xlsx or projects.xls; found no such file" in text
    assert "expected a column 'township_code' or '乡镇代码'" in text


def test_message_quotes_the_chinese_header(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    write_chinese_csv(tmp_path / "gb", tables, "gb18030")
    path = tmp_path / "gb" / "households.csv"
    lines = path.read_bytes().decode("gb18030").splitlines()
    cells = lines[1].split(",")
    cells[3] = "贫困户"
    lines[1] = ",".join(cells)
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    with pytest.raises(InputError, match=r"row 2, column '户类型 \(status\)'.*found '贫困户'"):
        load_frame(tmp_path / "gb")


def test_undecodable_bytes(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    write_tables(tmp_path / "f", tables)
    (tmp_path / "f" / "counties.csv").write_bytes(b"county_code\n\xff\xfe\xfa\xfb\x81\n")
    with pytest.raises(InputError, match=r"counties\.csv: expected text in UTF-8"):
        load_frame(tmp_path / "f")


def test_extra_columns_are_kept(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    t = dict(tables)
    t["villages"] = t["villages"].with_columns(备注=pl.lit("x"))
    write_tables(tmp_path / "f", t)
    assert "备注" in load_frame(tmp_path / "f").villages.columns
