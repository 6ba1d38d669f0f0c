"""The declared results store: every table checked on write, read back by name."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from xkaohe.analyse.consistency import CrossChecks
from xkaohe.analyse.indicators import RATES
from xkaohe.io.results import read_result, write_results
from xkaohe.results_spec import (
    TABLES,
    Result,
    ResultContractError,
    ResultTable,
    check_result,
    check_results,
)

REPO = Path(__file__).parent.parent
PLAN = REPO / "params" / "plan-2019.yaml"


def example(name: Result, rows: int = 2) -> pl.DataFrame:
    """A small table with every declared column (distinct values, so keys are unique)."""
    values = {
        pl.String: [f"34010{i}" for i in range(rows)],
        pl.Int64: list(range(rows)),
        pl.Float64: [i / 10 for i in range(rows)],
        pl.Boolean: [i % 2 == 0 for i in range(rows)],
        pl.Date: [dt.date(2019, 11, 20 + i) for i in range(rows)],
    }
    return pl.DataFrame(
        [
            pl.Series(c, [[i] for i in range(rows)] if t == pl.List(pl.Int64) else values[t], t)
            for c, t in TABLES[name].columns.items()
        ]
    )


def counties() -> pl.DataFrame:
    return example(Result.COUNTIES)


def test_a_declared_table_passes_unchanged() -> None:
    df = counties()
    assert check_result(Result.COUNTIES, df).equals(df)


def test_an_all_empty_column_gets_its_declared_type() -> None:
    df = counties().with_columns(pl.lit(None).alias("paired_helper_county"))
    assert df.schema["paired_helper_county"] == pl.Null
    assert check_result(Result.COUNTIES, df).schema["paired_helper_county"] == pl.String


@pytest.mark.parametrize(
    ("df", "message"),
    [
        pytest.param(counties().drop("category"), "column 'category' missing", id="missing"),
        pytest.param(
            counties().with_columns(pl.lit(1).alias("extra")),
            r"column 'extra' \(Int32\) is not declared",
            id="undeclared",
        ),
        pytest.param(
            counties().with_columns(pl.col("national_poverty_county").cast(pl.Int64)),
            "column 'national_poverty_county': declared Boolean, found Int64",
            id="type",
        ),
        pytest.param(
            counties().with_columns(pl.lit("340101").alias("county_code")),
            r"key \(county_code\) repeated in 2 rows, e.g. \('340101'\)",
            id="duplicate key",
        ),
    ],
)
def test_a_table_unlike_its_declaration_is_an_internal_error(
    df: pl.DataFrame, message: str
) -> None:
    with pytest.raises(ResultContractError, match=f"results table 'counties'.*{message}"):
        check_result(Result.COUNTIES, df)


def test_every_problem_of_every_table_at_once() -> None:
    bad = {"counties": counties().drop("category", "city_name"), "not_a_table": pl.DataFrame()}
    with pytest.raises(ResultContractError) as exc:
        check_results(bad)
    text = str(exc.value)
    assert "'category' missing" in text and "'city_name' missing" in text
    assert "'not_a_table' is not declared" in text and "xkaohe/results_spec.py" in text


def test_an_undeclared_table_is_refused_on_write_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "results"
    with pytest.raises(ResultContractError, match="add a member to Result and a ResultTable"):
        write_results(out, {"not_a_table": pl.DataFrame({"a": [1]})}, {}, PLAN)
    assert not out.exists()


def test_a_written_table_is_read_back_by_name(tmp_path: Path) -> None:
    write_results(tmp_path / "results", {Result.COUNTIES: counties()}, {}, PLAN)
    back = read_result(tmp_path, Result.COUNTIES, city_name="340101")
    assert back.equals(counties().filter(pl.col("city_name") == "340101"))
    assert back.height == 1


def test_a_declaration_cannot_name_a_column_it_lacks() -> None:
    with pytest.raises(ResultContractError, match="not among its columns"):
        ResultTable(Result.REJECTS, "x", {"a": pl.String()}, key=("b",))


def test_the_registry_follows_the_analysis_layer() -> None:
    """Rates and cross-check tables are named in analyse/; the registry must know them."""
    assert tuple(r.name for r in RATES) == tuple(
        c for c in TABLES[Result.COUNTY_INDICATORS].columns if c.endswith("_rate")
    )
    for name in CrossChecks.__dataclass_fields__:
        assert Result(f"check_{name}") in TABLES


def test_every_result_has_one_declaration_with_types() -> None:
    assert set(TABLES) == set(Result)
    for spec in TABLES.values():
        assert spec.description and spec.columns
        assert all(isinstance(t, pl.DataType) for t in spec.columns.values()), spec.name
        assert set(spec.schema()) == set(spec.columns)


def test_no_results_table_is_read_by_a_bare_string() -> None:
    """``read_result(run, "x")`` is refused: names come from :class:`Result`."""
    bare = []
    for path in sorted((REPO / "xkaohe").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "read_result"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
            ):
                bare.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not bare


def test_date_and_list_columns_are_checked() -> None:
    spec = TABLES[Result.CHECK_VILLAGES]
    df = pl.DataFrame(
        {c: pl.Series([], dtype=t) for c, t in spec.columns.items()},
    )
    check_result(Result.CHECK_VILLAGES, df)
    wrong = df.with_columns(pl.col("interview_rows").cast(pl.List(pl.Int32)))
    with pytest.raises(
        ResultContractError, match="declared List\\(Int64\\), found List\\(Int32\\)"
    ):
        check_result(Result.CHECK_VILLAGES, wrong)
    assert TABLES[Result.FINDINGS].columns["raised_date"] == pl.Date


@pytest.mark.parametrize("name", list(Result))
def test_every_declaration_accepts_a_table_like_it(name: Result) -> None:
    df = example(name, rows=3)
    assert check_result(name, df).equals(df)
