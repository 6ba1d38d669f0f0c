"""One writer per run folder (xkaohe.io.lock) and atomic writes (xkaohe.io.files)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from xkaohe import cli
from xkaohe.errors import InputError
from xkaohe.io.files import atomic_path, write_text
from xkaohe.io.lock import LOCK_NAME, lock_folder, run_lock
from xkaohe.io.sample_package import write_csv
from xkaohe.io.xlsx import Sheet, write_workbook

PLAN = Path(__file__).resolve().parents[1] / "params" / "plan-2019.yaml"
OUT_SAMPLE, OUT_LOTTERY, OUT_RES = (
    ["--out", f"{{run}}/{d}"] for d in ("sample", "lottery", "results")
)

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from xkaohe.io.lock import run_lock
    with run_lock(Path(sys.argv[1]), "xkaohe run --params holder.yaml"):
        print("held", flush=True)
        time.sleep(120)
    """
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """Another process holding the lock of a run folder."""
    run = tmp_path / "run"
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(run)], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield run, proc
        proc.kill()


def test_second_writer_stops_naming_the_holder(
    holder: tuple[Path, subprocess.Popen[str]],
) -> None:
    run, proc = holder
    with (
        pytest.raises(InputError, match=rf"process {proc.pid} on .*holder\.yaml") as err,
        run_lock(run, "second"),
    ):
        pass
    assert "wait for it to finish" in str(err.value)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["run", "--params", "{params}"], id="run"),
        pytest.param(["demo", "--out", "{run}"], id="demo"),
        pytest.param(
            ["sample", "--frame", "{run}/frame", "--plan", "{plan}", "--seed", "s", *OUT_SAMPLE],
            id="sample-into-the-run",
        ),
        pytest.param(
            [
                "lottery",
                "--roster",
                "{run}/roster",
                "--plan",
                "{plan}",
                "--seed",
                "s",
                *OUT_LOTTERY,
            ],
            id="lottery-into-the-run",
        ),
        pytest.param(
            [
                "indicators",
                "--frame",
                "f",
                "--sample",
                "s",
                "--field",
                "x",
                "--plan",
                "{plan}",
                *OUT_RES,
            ],
            id="indicators-into-the-run",
        ),
        pytest.param(["synth", "--out", "{run}"], id="synth"),
    ],
)
def test_every_writing_command_takes_the_lock(
    holder: tuple[Path, subprocess.Popen[str]],
    tmp_path: Path,
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    run, proc = holder
    params = tmp_path / "run.yaml"
    params.write_text(f"run: {run}\nplan: {PLAN}\nseed: s\n", encoding="utf-8")
    words = [a.format(run=run, params=params, plan=PLAN) for a in argv]
    before = sorted(p.name for p in run.iterdir())
    assert cli.main(words) == 2
    err = capsys.readouterr().err
    assert f"process {proc.pid}" in err and "Traceback" not in err
    assert sorted(p.name for p in run.iterdir()) == before  # nothing written


def test_lock_is_released_when_the_holder_dies(
    holder: tuple[Path, subprocess.Popen[str]],
) -> None:
    run, proc = holder
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with run_lock(run, "after") as path:
        assert "after" in path.read_text(encoding="utf-8")
    assert path.read_text(encoding="utf-8") == ""  # released: no stale holder


def test_lock_is_reentrant_in_one_process(tmp_path: Path) -> None:
    with run_lock(tmp_path, "outer"), run_lock(tmp_path, "inner") as path:
        assert "outer" in path.read_text(encoding="utf-8")
    with run_lock(tmp_path, "again"):  # fully released after both
        pass


def test_writing_a_part_of_a_run_locks_the_run(tmp_path: Path) -> None:
    assert lock_folder(tmp_path / "sample") == tmp_path
    assert lock_folder(tmp_path / "results") == tmp_path
    assert lock_folder(tmp_path / "mypackage") == tmp_path / "mypackage"


# ------------------------------------------------------------------ atomic writes


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    write_text(target, "old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_io_writers_never_write_to_the_final_name_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every byte goes to a temporary name first, then one rename per file."""
    renames: list[tuple[str, str]] = []
    real = os.replace

    def spy(src: str | Path, dst: str | Path) -> None:
        renames.append((Path(src).name, Path(dst).name))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    df = pl.DataFrame({"a": ["1"]})
    write_csv(df, tmp_path / "x.csv")
    write_workbook(tmp_path / "x.xlsx", [Sheet("s", df)])
    write_text(tmp_path / "x.json", "{}")
    finals = [dst for _, dst in renames]
    assert finals == ["x.csv", "x.xlsx", "x.json"]
    assert all(src.startswith(".") and src.endswith(".tmp") for src, _ in renames)


def test_lock_file_is_named_in_the_run(tmp_path: Path) -> None:
    with run_lock(tmp_path, "x") as path:
        assert path == tmp_path / LOCK_NAME
