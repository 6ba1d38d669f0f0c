"""The command line contract: exit codes, one clear message, verify-sample."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from xkaohe.cli import main

PLAN = Path(__file__).parent.parent / "params" / "plan-2019.yaml"


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    assert main(["synth", "--out", str(out), "--scale", "small", "--seed", "cli"]) == 0
    return out


def _sample(frame: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "sample",
            "--frame",
            str(frame),
            "--plan",
            str(PLAN),
            "--seed",
            "published-seed",
            "--out",
            str(out),
            *extra,
        ]
    )


def test_sample_is_byte_identical_when_repeated(province: Path, tmp_path: Path) -> None:
    assert _sample(province / "frame", tmp_path / "a") == 0
    assert _sample(province / "frame", tmp_path / "b") == 0
    names = sorted(p.name for p in (tmp_path / "a").glob("*.csv"))
    assert "households.csv" in names and "village_candidates.csv" in names
    for name in [*names, "certificate.json"]:
        if name == "certificate.json":
            continue  # records the output folder's relative path to the frame
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    lists = sorted((tmp_path / "a" / "field_lists").glob("*.xlsx"))
    assert len(lists) == 70
    assert lists[0].read_bytes() == (tmp_path / "b" / "field_lists" / lists[0].name).read_bytes()


def test_field_list_is_a_readable_workbook_with_chinese_sheets(
    province: Path, tmp_path: Path
) -> None:
    assert _sample(province / "frame", tmp_path / "s", "--county", "341221") == 0
    (path,) = (tmp_path / "s" / "field_lists").glob("*.xlsx")
    assert path.name == "341221_临泉县.xlsx"
    sheets = pl.read_excel(path, sheet_id=0, engine="calamine")
    assert list(sheets)[:2] == ["抽样村", "抽样户"]
    households = sheets["抽样户"]
    assert {"户主姓名", "户类型", "抽样类别"} <= set(households.columns)
    assert households.height == pl.read_csv(tmp_path / "s" / "households.csv").height


def test_verify_sample_passes_then_fails_on_tampering(
    province: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = tmp_path / "frame"
    shutil.copytree(province / "frame", frame)
    out = tmp_path / "sample"
    assert _sample(frame, out) == 0
    assert main(["verify-sample", str(out)]) == 0
    assert "identical" in capsys.readouterr().out

    path = out / "households.csv"
    original = path.read_bytes()
    lines = original.decode("utf-8").splitlines(keepends=True)
    lines[5] = lines[5].replace(lines[5].split(",")[2], "9999999999999999", 1)
    path.write_text("".join(lines), encoding="utf-8")
    assert main(["verify-sample", str(out)]) == 2
    err = capsys.readouterr().err
    assert "households.csv differs from the re-derived draw: row 6" in err
    path.write_bytes(original)

    villages = frame / "villages.csv"
    villages.write_bytes(villages.read_bytes() + villages.read_bytes().splitlines(keepends=True)[1])
    assert main(["verify-sample", str(out)]) == 2
    assert "villages.csv changed since the draw" in capsys.readouterr().err


def test_verify_sample_survives_moving_the_run(province: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(province / "frame", run / "frame")
    assert _sample(run / "frame", run / "sample") == 0
    moved = tmp_path / "moved"
    run.rename(moved)
    assert main(["verify-sample", str(moved / "sample")]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            [
                "sample",
                "--frame",
                "/nonexistent",
                "--plan",
                str(PLAN),
                "--seed",
                "s",
                "--out",
                "/tmp/x",
            ],
            "expected a frame directory; found no such directory",
            id="no-frame",
        ),
        pytest.param(
            [
                "sample",
                "--frame",
                "FRAME",
                "--plan",
                "/nonexistent.yaml",
                "--seed",
                "s",
                "--out",
                "OUT",
            ],
            "nonexistent.yaml: file not found",
            id="no-plan",
        ),
        pytest.param(
            [
                "sample",
                "--frame",
                "FRAME",
                "--plan",
                str(PLAN),
                "--seed",
                "s",
                "--out",
                "OUT",
                "--county",
                "000000",
            ],
            "expected county codes listed in counties; found 000000",
            id="unknown-county",
        ),
        pytest.param(
            ["verify-sample", "/nonexistent"],
            "expected a sample package directory",
            id="verify-nothing",
        ),
    ],
)
def test_bad_input_exits_2_with_one_clear_message(
    province: Path,
    tmp_path: Path,
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [
        a.replace("FRAME", str(province / "frame")).replace("OUT", str(tmp_path / "o"))
        for a in argv
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_console_script_exit_status_and_usage(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "xkaohe"
    done = subprocess.run(
        [str(exe), "synth", "--out", str(tmp_path), "--scale", "huge"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid choice: 'huge'" in done.stderr


# ------------------------------------------------ notes reach every reading command


def _append_row(path: Path, cells: list[str]) -> int:
    """Append a row to a CSV; the row number a spreadsheet shows for it (header = 1)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, ",".join(cells)]) + "\n", encoding="utf-8")
    return len(lines) + 1


def _notes(err: str) -> list[str]:
    return [line.removeprefix("note: ") for line in err.splitlines() if line.startswith("note: ")]


@pytest.fixture(scope="module")
def messy(province: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The province with the frame, roster and field returns as offices send them:
    totals rows, an optional column left out, one headed so that no column reads it."""
    out = tmp_path_factory.mktemp("messy")
    for folder in ("frame", "roster", "field"):
        shutil.copytree(province / folder, out / folder)
    frame, roster, field = out / "frame", out / "roster", out / "field"
    villages = pl.read_csv(frame / "villages.csv", infer_schema=False)
    total = _append_row(frame / "villages.csv", ["合计", *[""] * (villages.width - 1)])
    hh = pl.read_csv(frame / "households.csv", infer_schema=False)
    hh.drop("phone").write_csv(frame / "households.csv")
    counties = pl.read_csv(frame / "counties.csv", infer_schema=False)
    counties.rename({"deep_poverty": "是否深度贫困"}).write_csv(frame / "counties.csv")
    cities = pl.read_csv(roster / "cities.csv", infer_schema=False)
    city_total = _append_row(roster / "cities.csv", ["合计", "", str(cities.height)])
    survey = pl.read_csv(field / "household_survey.csv", infer_schema=False)
    survey_total = _append_row(field / "household_survey.csv", ["小计", *[""] * (survey.width - 1)])
    words = "合计/总计/小计/共计"
    expected = {
        "totals": f"{frame / 'villages.csv'}, row {total}: a totals row ({words}); skipped",
        "absent": (
            f"{frame / 'households.csv'}: column phone [联系电话] is absent; it reads as empty"
        ),
        "meant": (
            f"{frame / 'counties.csv'}: column deep_poverty [是否深度贫困县] is absent; it reads "
            "as empty; the file has a header '是否深度贫困' that no column reads: if it is this "
            "column, add the line '是否深度贫困: deep_poverty' under 'counties:' in the column map "
            "params/columns.yaml, given with --columns"
        ),
        "cities": f"{roster / 'cities.csv'}, row {city_total}: a totals row ({words}); skipped",
        "survey": (
            f"{field / 'household_survey.csv'}, row {survey_total}: a totals row ({words}); skipped"
        ),
    }
    return out, expected


def test_sample_prints_the_notes_of_reading_the_frame(
    messy: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, expected = messy
    assert _sample(out / "frame", tmp_path / "s", "--no-field-lists") == 0
    notes = _notes(capsys.readouterr().err)
    for key in ("totals", "absent", "meant"):
        assert notes.count(expected[key]) == 1, (key, notes)  # once, one line each
    # the same words as check-inputs, which lists them under each file
    assert main(["check-inputs", str(out / "frame")]) == 0
    captured = capsys.readouterr()
    assert _notes(captured.err) == []  # not twice
    for key in ("totals", "absent", "meant"):
        assert f"  note: {expected[key]}" in captured.out.splitlines()


def test_lottery_and_indicators_print_their_notes(
    messy: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, expected = messy
    lottery = ["lottery", "--roster", str(out / "roster"), "--plan", str(PLAN)]
    assert main([*lottery, "--seed", "cli", "--out", str(tmp_path / "lottery")]) == 0
    assert _notes(capsys.readouterr().err) == [expected["cities"]]
    # the field returns answer the seed the province was synthesised with
    sample = ["sample", "--frame", str(out / "frame"), "--plan", str(PLAN), "--seed", "cli"]
    assert main([*sample, "--out", str(tmp_path / "s"), "--no-field-lists"]) == 0
    capsys.readouterr()
    indicators = [
        "indicators",
        "--frame",
        str(out / "frame"),
        "--sample",
        str(tmp_path / "s"),
        "--field",
        str(out / "field"),
        "--plan",
        str(PLAN),
        "--out",
        str(tmp_path / "results"),
    ]
    assert main(indicators) == 0
    notes = _notes(capsys.readouterr().err)
    assert expected["survey"] in notes and expected["totals"] in notes
    assert len(notes) == len(set(notes))


def test_a_note_does_not_hide_the_error_that_stops_a_command(
    messy: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, expected = messy
    frame = tmp_path / "frame"
    shutil.copytree(out / "frame", frame)
    projects = pl.read_csv(frame / "projects.csv", infer_schema=False)
    projects.drop("kind").write_csv(frame / "projects.csv")
    assert _sample(frame, tmp_path / "s") == 2
    err = capsys.readouterr().err
    assert expected["absent"].replace(str(out / "frame"), str(frame)) in _notes(err)
    assert "xkaohe sample:" in err and "kind" in err and "Traceback" not in err
