"""Bad field returns: unreadable cells stop the run; unusable rows become rejects.

Also the two kinds of household visit (plan 五(四), 五(七)): the village sample,
which makes the county rates, and the visits of paired-project beneficiaries,
accepted, tagged and kept out of the rates; and the relapse fields (三(一)1(8)).
"""

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
    paired = pl.read_parquet(tmp_path / "out" / "paired_visits.parquet")
    outside = paired.filter(pl.col("visit_kind") == "paired_project").height
    assert households.height + outside == survey.height


# --- paired-project visits (五(四)) -----------------------------------------------------------


@pytest.fixture(scope="module")
def results(run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fc-results")
    assert _indicators(run, run / "field", out) == 0
    return out


def test_paired_project_visits_are_accepted_tagged_and_kept_out_of_the_rates(
        run: Path, results: Path) -> None:
    drawn = pl.read_csv(run / "sample" / "project_households.csv", infer_schema=False)
    survey = pl.read_csv(run / "field" / "household_survey.csv", infer_schema=False)
    visited = survey.join(drawn.select("village_code", "household_id").unique(),
                          on=["village_code", "household_id"], how="semi")
    assert visited.height > 0
    assert pl.read_parquet(results / "rejects.parquet").height == 0  # none turned back
    paired = pl.read_parquet(results / "paired_visits.parquet")
    assert paired.select("project_id", "household_id").sort(pl.all()).equals(
        drawn.select("project_id", "household_id").sort(pl.all()))
    assert paired["visited"].all() and paired["survey_row"].null_count() == 0
    outside = paired.filter(pl.col("visit_kind") == "paired_project")
    households = pl.read_parquet(results / "households.parquet")
    assert outside.height > 0
    assert outside.join(households, on=["village_code", "household_id"], how="semi").height == 0
    sampled = pl.read_csv(run / "sample" / "households.csv", infer_schema=False)
    inside = paired.filter(pl.col("visit_kind") == "sample")
    assert inside.join(sampled, on=["village_code", "household_id"], how="anti").height == 0
    assert set(paired["visit_kind"]) == {"paired_project", "sample"}
    counties = pl.read_csv(run / "sample" / "projects.csv", infer_schema=False)
    by_project = paired.join(counties.select("project_id", pl.col("county_code").alias("c")),
                             on="project_id")
    assert (by_project["county_code"] == by_project["c"]).all()


def test_the_rates_do_not_change_when_the_paired_visits_are_left_out(
        run: Path, results: Path, tmp_path: Path) -> None:
    drawn = pl.read_csv(run / "sample" / "project_households.csv", infer_schema=False)
    sampled = pl.read_csv(run / "sample" / "households.csv", infer_schema=False)
    outside = drawn.join(sampled, on=["village_code", "household_id"], how="anti")
    tables = {p.stem: pl.read_csv(p, infer_schema=False) for p in (run / "field").glob("*.csv")}
    tables["household_survey"] = tables["household_survey"].join(
        outside.select("village_code", "household_id"), on=["village_code", "household_id"],
        how="anti")
    write_tables(tmp_path / "field", tables)
    assert _indicators(run, tmp_path / "field", tmp_path / "out") == 0
    with_visits = pl.read_parquet(results / "county_indicators.parquet")
    without = pl.read_parquet(tmp_path / "out" / "county_indicators.parquet")
    assert with_visits.equals(without)
    left = pl.read_parquet(tmp_path / "out" / "paired_visits.parquet")
    assert set(left.filter(~pl.col("visited"))["household_id"]) == set(outside["household_id"])


def test_a_beneficiary_of_a_project_not_drawn_is_still_turned_back(
        run: Path, tmp_path: Path) -> None:
    drawn = pl.read_csv(run / "sample" / "project_households.csv", infer_schema=False)
    row = drawn.row(0, named=True)
    tables = {p.stem: pl.read_csv(p, infer_schema=False) for p in (run / "field").glob("*.csv")}
    survey = tables["household_survey"]
    visit = survey.filter((pl.col("household_id") == row["household_id"])
                          & (pl.col("village_code") == row["village_code"]))
    stranger = visit.with_columns(household_id=pl.lit(row["household_id"][:-4] + "9999"))
    tables["household_survey"] = pl.concat([survey, stranger])
    write_tables(tmp_path / "field", tables)
    assert _indicators(run, tmp_path / "field", tmp_path / "out") == 0
    rejects = pl.read_csv(tmp_path / "out" / "rejects.csv", infer_schema=False)
    assert rejects["row"].to_list() == [str(survey.height + 2)]
    assert rejects["column"].to_list() in (["household_id"], ["village_code", "household_id"],
                                           ["household_id", "village_code"])


# --- relapse fields (三(一)1(8)) --------------------------------------------------------------


def _relapsed_row(run: Path) -> int:
    survey = pl.read_csv(run / "field" / "household_survey.csv", infer_schema=False)
    return int(survey.with_row_index().filter(pl.col("relapse_cause").is_not_null())["index"][0])


def test_a_relapse_cause_may_be_written_as_the_plans_chinese_label(
        run: Path, tmp_path: Path) -> None:
    row = _relapsed_row(run)
    field = _edited(run, tmp_path, "household_survey", pl.lit("因帮扶工作不实返贫").alias(
        "relapse_cause"), row=row)
    assert _indicators(run, field, tmp_path / "out") == 0
    households = pl.read_parquet(tmp_path / "out" / "households.parquet")
    hit = households.filter(pl.col("_row") == row + 2)
    assert hit["relapse_cause"].to_list() == ["weak_help"]
    assert hit["relapse_plan_named"].to_list() == [True]


@pytest.mark.parametrize(("column", "value", "message"), [
    pytest.param("relapse_cause", "运气不好", "column 'relapse_cause': expected one of "
                 "income_shock (因收入骤减返贫)", id="unknown-cause"),
    pytest.param("exit_year", "2021", "column 'exit_year': expected a year up to 2019; "
                 "found 2021", id="exit-after-the-plan-year"),
    pytest.param("exit_year", "2009", "column 'exit_year': expected a value >= 2014; "
                 "found '2009'", id="exit-before-the-registry"),
])
def test_unreadable_relapse_fields_exit_2_naming_file_row_column(
        run: Path, tmp_path: Path, column: str, value: str, message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    row = _relapsed_row(run)
    field = _edited(run, tmp_path, "household_survey", pl.lit(value).alias(column), row=row)
    assert _indicators(run, field, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"household_survey.csv, row {row + 2}, " + message in err
    assert "Traceback" not in err


def test_missing_field_folder_exits_2(run: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert _indicators(run, tmp_path / "nothing", tmp_path / "out") == 2
    assert "expected a field-returns directory" in capsys.readouterr().err
