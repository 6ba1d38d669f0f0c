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
