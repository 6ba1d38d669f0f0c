"""Bad field returns: unreadable cells stop the run; unusable rows become rejects."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from xkaohe.cli import main
from xkaohe.io.sample_package import write_tables

PLAN = Path(__file__).parent.parent / "params" / "plan-2019.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fc")
    assert main(["synth", "--out", str(out), "--seed", "demo"]) == 0
    assert main(["sample", "--frame", str(out / "frame"), "--plan", str(PLAN), "--seed", "demo",
                 "--out", str(out / "sample"), "--no-field-lists"]) == 0
    return out


def _indicators(run: Path, field: Path, out: Path) -> int:
    return main(["indicators", "--frame", str(run / "frame"), "--sample", str(run / "sample"),
                 "--field", str(field), "--plan", str(PLAN), "--out", str(out)])


def _edited(run: Path, tmp_path: Path, table: str, edit: pl.Expr, row: int = 0) -> Path:
    field = tmp_path / "field"
    tables = {p.stem: pl.read_csv(p, infer_schema=False) for p in (run / "field").glob("*.csv")}
    df = tables[table]
    tables[table] = pl.concat([df.head(row), df.slice(row, 1).with_columns(edit),
                               df.slice(row + 1)])
    write_tables(field, tables)
    return field


@pytest.mark.parametrize(("edit", "message"), [
    pytest.param(pl.lit("-5").alias("income_per_capita_yuan"),
                 "household_survey.csv, row 2, column 'income_per_capita_yuan': expected a "
                 "value >= 0; found '-5'", id="negative-income"),
    pytest.param(pl.lit("0").alias("household_size"),
                 "column 'household_size': expected a value >= 1; found '0'", id="size-0"),
    pytest.param(pl.lit("11月25日").alias("visit_date"),
                 "column 'visit_date': expected a date like 2019-11-24; found '11月25日'",
                 id="unreadable-date"),
    pytest.param(pl.lit("很好").alias("approval"), "column 'approval': expected one of approve",
                 id="unknown-approval"),
])
def test_impossible_values_exit_2_naming_file_row_column(
        run: Path, tmp_path: Path, edit: pl.Expr, message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    field = _edited(run, tmp_path, "household_survey", edit)
    assert _indicators(run, field, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(("table", "edit", "column", "expected"), [
    pytest.param("household_survey", pl.lit("9999999999999999").alias("household_id"),
                 "household_id", "a registered household drawn in the sample package",
                 id="unknown-household"),
    pytest.param("household_survey", pl.lit("2019-12-05").alias("visit_date"), "visit_date",
                 "a date in the field week", id="visit-after-the-week"),
    pytest.param("project_checks", pl.lit("NOPE").alias("project_id"), "project_id",
                 "a project of the sample package", id="unknown-project"),
    pytest.param("problems", pl.lit("C10").alias("content_item"), "content_item",
                 "a content item code of the plan", id="unknown-content-item"),
])
def test_unusable_rows_are_listed_as_rejects_not_dropped_silently(
        run: Path, tmp_path: Path, table: str, edit: pl.Expr, column: str, expected: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    field = _edited(run, tmp_path, table, edit, row=3)
    assert _indicators(run, field, tmp_path / "out") == 0
    rejects = pl.read_csv(tmp_path / "out" / "rejects.csv", infer_schema=False)
    (reject,) = rejects.filter(pl.col("table") == table).iter_rows(named=True)
    assert reject["row"] == "5" and reject["column"] == column
    assert reject["expected"].startswith(expected)
    assert f"{table}.csv, row 5, column '{column}'" in capsys.readouterr().err


def test_a_duplicate_visit_keeps_the_first_and_rejects_the_repeat(run: Path, tmp_path: Path
                                                                  ) -> None:
    tables = {p.stem: pl.read_csv(p, infer_schema=False) for p in (run / "field").glob("*.csv")}
    survey = tables["household_survey"]
    tables["household_survey"] = pl.concat([survey, survey.head(1)])
    write_tables(tmp_path / "field", tables)
    assert _indicators(run, tmp_path / "field", tmp_path / "out") == 0
    rejects = pl.read_csv(tmp_path / "out" / "rejects.csv", infer_schema=False)
    assert rejects["row"].to_list() == [str(survey.height + 2)]
    assert "repeat of an earlier row" in rejects["found"][0]
    households = pl.read_parquet(tmp_path / "out" / "households.parquet")
    assert households.height == survey.height


def test_missing_field_folder_exits_2(run: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert _indicators(run, tmp_path / "nothing", tmp_path / "out") == 2
    assert "expected a field-returns directory" in capsys.readouterr().err
