"""`xkaohe run`: stages from a run parameter file, one city end to end, usage errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from xkaohe.cli import main
from xkaohe.io.run import read_counties
from xkaohe.run.batch import run_jobs
from xkaohe.run.stages import RunParams, report_jobs, write_run_params

PLAN = Path(__file__).parent.parent / "params" / "plan-2019.yaml"


@pytest.fixture(scope="module")
def run(small_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("runner") / "run"
    shutil.copytree(small_run, copy)
    write_run_params(copy / "run.yaml", RunParams(run=copy, plan=PLAN, seed="demo"))
    return copy


def smallest_city(run: Path) -> str:
    counts = read_counties(run / "frame").group_by("city_name").len().sort("len", "city_name")
    return str(counts["city_name"][0])


def test_one_city_end_to_end_then_the_provincial_report(run: Path) -> None:
    city = smallest_city(run)
    code = main(
        ["run", "--params", str(run / "run.yaml"), "--stage", "reports", "index", "--only", city]
    )
    assert code == 0
    counties = read_counties(run / "frame").filter(pl.col("city_name") == city)
    reports = run / "reports"
    assert (reports / f"city_{city}.html").exists()
    for county in counties["county_code"]:
        assert (reports / f"county_{county}.html").exists()
        assert (reports / f"sample_{county}.html").exists()
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f"city_{city}.html" in index and "三率一度" in index
    (provincial,) = [s.job for s in report_jobs(run) if s.job.stem == "provincial"]
    (result,) = run_jobs([provincial], run, workers=1, progress=False)
    assert result.ok, result.error
    assert "全省" in Path(result.html).read_text(encoding="utf-8")


def test_feedback_stage_writes_one_folder_per_city(run: Path) -> None:
    assert main(["run", "--params", str(run / "run.yaml"), "--stage", "feedback"]) == 0
    cities = set(read_counties(run / "frame")["city_name"])
    assert {p.name for p in (run / "feedback").iterdir() if p.is_dir()} == cities


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--stage", "render"], "expected sample, lottery, indicators", id="stage"),
        pytest.param(
            ["--stage", "reports", "--only", "火星市"],
            "expected a county code or city name",
            id="only",
        ),
    ],
)
def test_usage_errors_exit_2(
    run: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--params", str(run / "run.yaml"), *args]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_parameter_file_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "run.yaml"
    bad.write_text("run: runs/x\nplan: p.yaml\nseed: s\nworker: 3\n", encoding="utf-8")
    assert main(["run", "--params", str(bad)]) == 2
    assert "key 'worker'" in capsys.readouterr().err


def test_a_relative_run_folder_works_from_the_notebooks_folder(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # make report passes runs/demo; the kernels run in notebooks/, so paths must be absolute.
    monkeypatch.chdir(run.parent)
    job = next(
        s.job for s in report_jobs(Path(run.name)) if s.job.notebook == "county_sample.ipynb"
    )
    (result,) = run_jobs([job], Path(run.name), workers=1, progress=False)
    assert result.ok, result.error
