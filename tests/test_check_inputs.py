"""``xkaohe check-inputs``: a clean bill on the demo folders, the problem and the fix otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xkaohe.cli import main
from xkaohe.errors import InputError
from xkaohe.run.check_inputs import check_inputs
from xkaohe.run.commands import run_synth


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    run_synth(out, "small", "check-inputs")
    return out


@pytest.mark.parametrize("folder", ["frame", "field", "roster"])
def test_demo_folders_get_a_clean_bill(
    demo: Path, folder: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-inputs", str(demo / folder)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("clean: every table reads; nothing would stop a run")
    assert "PROBLEM" not in out


def _copy(demo: Path, tmp_path: Path) -> Path:
    frame = tmp_path / "frame"
    shutil.copytree(demo / "frame", frame)
    return frame


def _rename_header(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    head, rest = text.split("\n", 1)
    path.write_text(head.replace(old, new) + "\n" + rest, "utf-8")


def test_missing_column_prints_the_map_line_and_exits_2(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _copy(demo, tmp_path)
    _rename_header(frame / "villages.csv", "township_code", "乡镇编码")
    assert main(["check-inputs", str(frame)]) == 2
    out = capsys.readouterr().out
    assert "column 'township_code [乡镇代码]'" in out
    assert "closest headers: '乡镇编码'" in out
    assert "'乡镇编码: township_code' under 'villages:'" in out
    assert "not read (no command uses them): 乡镇编码, registered_households" in out

    (tmp_path / "columns.yaml").write_text("villages:\n  乡镇编码: township_code\n", "utf-8")
    assert main(["check-inputs", str(frame), "--columns", str(tmp_path / "columns.yaml")]) == 0
    assert "township_code <- 乡镇编码" in capsys.readouterr().out


def test_unused_column_is_listed_not_blocking(demo: Path, tmp_path: Path) -> None:
    frame = _copy(demo, tmp_path)
    _rename_header(frame / "projects.csv", "funds_yuan", "资金")
    report = check_inputs(frame)
    assert not report.blocking
    text = "\n".join(report.lines)
    assert "column funds_yuan [资金规模元] is absent; it reads as empty" in text
    assert "not read (no command uses them): 资金" in text


def test_cross_table_problems_are_the_commands(demo: Path, tmp_path: Path) -> None:
    frame = _copy(demo, tmp_path)
    path = frame / "households.csv"
    lines = path.read_text("utf-8").splitlines()
    cells = lines[1].split(",")
    cells[1] = "999999999999"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    report = check_inputs(frame)
    assert report.blocking
    assert any(
        p.row == 2 and "a village_code listed in villages" in p.expected for p in report.problems
    )


def test_not_an_input_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="tables of a frame, roster or field folder"):
        check_inputs(tmp_path)


def test_column_map_carries_through_sample_verify_indicators_lottery(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A frame and roster under office headers: every command reads them with --columns."""
    frame = _copy(demo, tmp_path)
    roster = tmp_path / "roster"
    shutil.copytree(demo / "roster", roster)
    _rename_header(frame / "households.csv", "household_size", "家庭人数（人）")
    _rename_header(roster / "assessors.csv", "person_id", "人员代码")
    columns = tmp_path / "columns.yaml"
    columns.write_text(
        "households:\n  家庭人数: household_size\nassessors:\n  人员代码: person_id\n", "utf-8"
    )
    plan = str(Path(__file__).parent.parent / "params" / "plan-2019.yaml")
    common = ["--plan", plan, "--seed", "check-inputs"]
    sample = tmp_path / "sample"
    assert main(["sample", "--frame", str(frame), *common, "--out", str(sample)]) == 2
    assert "'家庭人数（人）: household_size' under 'households:'" in capsys.readouterr().err
    with_map = ["--columns", str(columns)]
    assert main(["sample", "--frame", str(frame), *common, "--out", str(sample), *with_map]) == 0
    assert main(["verify-sample", str(sample)]) == 0
    run = [
        "indicators",
        "--frame",
        str(frame),
        "--sample",
        str(sample),
        "--field",
        str(demo / "field"),
        "--plan",
        plan,
        "--out",
        str(tmp_path / "results"),
        "--as-of",
        "2019-12-01",
    ]
    assert main(run) == 2
    assert main([*run, *with_map]) == 0
    lottery = ["lottery", "--roster", str(roster), *common, "--out", str(tmp_path / "lottery")]
    assert main(lottery) == 2
    assert main([*lottery, *with_map]) == 0
    assert main(["verify-lottery", str(tmp_path / "lottery")]) == 0
