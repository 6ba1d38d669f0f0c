"""Returned rectification registers (plan 七(二)): checked whole, stored whole, progress shown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from xkaohe.cli import main
from xkaohe.errors import InputError
from xkaohe.io.rectification import read_registers
from xkaohe.io.xlsx import Sheet, write_workbook
from xkaohe.run.feedback_files import REGISTER_NAME, read_manifest, write_feedback
from xkaohe.run.rectification import import_registers, rectification_progress


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from xkaohe.run.stages import prepare_demo_run

    out = tmp_path_factory.mktemp("rect") / "run"
    prepare_demo_run(out, field_lists=False)
    write_feedback(out)
    return out


def two_county_packages(run: Path) -> list[tuple[str, dict[str, object]]]:
    pkgs = [
        (k, v) for k, v in read_manifest(run).items() if v["kind"] == "county" and v["problems"]
    ]
    return pkgs[:2]


def filled(run: Path, info: dict[str, object], tmp: Path, **change: str) -> Path:
    """The package's template filled in (deadline 2020-03-31, in progress), with changes."""
    template = pl.read_excel(run / str(info["folder"]) / REGISTER_NAME, infer_schema_length=0)
    values = {
        "整改措施": "逐户核实",
        "责任单位": "县扶贫办",
        "完成时限": "2020-03-31",
        "整改状态": "整改中",
        "整改佐证材料": "",
    } | change
    df = template.with_columns(pl.lit(v).alias(k) for k, v in values.items())
    path = tmp / f"{info['code']}-{len(list(tmp.iterdir()))}.xlsx"
    write_workbook(path, [Sheet("整改台账", df)])
    return path


def test_a_filled_register_is_imported_and_progress_measured(run: Path, tmp_path: Path) -> None:
    (_, a), (_, b) = two_county_packages(run)
    done = filled(run, a, tmp_path, 整改状态="已完成")  # done, but no evidence named
    late = filled(run, b, tmp_path, 完成时限="2019-12-10")
    rows = import_registers(run, [done, late])
    assert rows.height == len(a["problems"]) + len(b["problems"])  # type: ignore[arg-type]
    table, per_unit = rectification_progress(run, dt.date(2020, 1, 15))
    units = dict(per_unit.select("unit_code", "overdue").iter_rows())
    assert units[b["code"]] == len(b["problems"])  # type: ignore[arg-type]
    assert units[a["code"]] == 0
    no_evidence = table.filter(pl.col("done_without_evidence"))
    assert set(no_evidence["unit_code"]) == {a["code"]}


@pytest.mark.parametrize(
    ("change", "column", "expected"),
    [
        pytest.param({"完成时限": ""}, "完成时限", "a deadline", id="no-deadline"),
        pytest.param({"完成时限": "明年三月"}, "完成时限", "a deadline", id="bad-deadline"),
        pytest.param({"问题编号": "NOPE-1"}, "问题编号", "a problem id fed back", id="unknown-id"),
        pytest.param({"整改状态": "差不多"}, "整改状态", "one of", id="status"),
        pytest.param({"反馈包编号": "FK-X"}, "反馈包编号", "a package id", id="package"),
    ],
)
def test_bad_returns_name_file_row_and_column_and_import_nothing(
    run: Path, tmp_path: Path, change: dict[str, str], column: str, expected: str
) -> None:
    (_, a), (_, b) = two_county_packages(run)
    before = read_registers(run)
    good = filled(run, b, tmp_path)
    bad = filled(run, a, tmp_path, **change)
    with pytest.raises(
        InputError, match=rf"{bad.name}, row 2, column '{column}': expected {expected}"
    ):
        import_registers(run, [good, bad])
    after = read_registers(run)
    assert (before is None and after is None) or (
        before is not None and after is not None and before.equals(after)
    )


def test_a_county_answering_for_another_is_refused(run: Path, tmp_path: Path) -> None:
    (_, a), (_, b) = two_county_packages(run)
    other = str(b["problems"][0])  # type: ignore[index]
    path = filled(run, a, tmp_path, 问题编号=other)
    with pytest.raises(InputError, match="answers only for its own problems"):
        import_registers(run, [path])
    assert main(["rectification", "import", "--run", str(run), str(path)]) == 2
