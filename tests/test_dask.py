"""``xkaohe run --executor dask``: a real ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1 render reports byte for byte as a local run does; failures,
timeouts and the summary are the local run's (issue 16, item 5)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

pytest.importorskip(
    "distributed",
    reason="dask is not installed (the optional extra: pip install 'xkaohe[dask]'; "
    "make test installs it with the dev extra)",
)

from distributed import Client

from xkaohe.cli import main
from xkaohe.errors import InputError
from xkaohe.io.run import read_counties
from xkaohe.run.batch import Job, JobResult, run_jobs
from xkaohe.run.dask_executor import DaskRunner, check_workers
from xkaohe.run.stages import RunParams, plan_reports, report_jobs, write_run_params

PLAN = Path(__file__).resolve().parents[1] / "params" / "plan-2019.yaml"
DASK = [sys.executable, "-m", "dask"]
LOCAL = ["--host", "127.0.0.1", "--no-dashboard"]  # a free port each (the scheduler's: 0)
WORKERS = 2


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM, the workers first (they close their kernels), then the scheduler; kill laggards."""
    for group in (procs[1:], procs[:1]):
        for p in group:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in group:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def _address(scheduler_file: Path) -> str:
    """The scheduler's address, once it has written its file (whole: it is valid JSON)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            return str(json.loads(scheduler_file.read_text(encoding="utf-8"))["address"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.2)
    raise AssertionError(f"the scheduler wrote no {scheduler_file} in 60 s")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-thread workers on 127.0.0.1, on free ports; stopped after."""
    folder = tmp_path_factory.mktemp("dask")
    address_file = folder / "scheduler.json"
    log = (folder / "cluster.log").open("wb")
    quiet = {**os.environ, "DASK_LOGGING__DISTRIBUTED": "warning"}
    procs = [
        subprocess.Popen(
            [*DASK, "scheduler", *LOCAL, "--port", "0", "--scheduler-file", str(address_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=quiet,
        )
    ]
    try:
        address = _address(address_file)
        for _ in range(WORKERS):
            procs.append(
                subprocess.Popen(
                    [*DASK, "worker", address, *LOCAL, "--nthreads", "1", "--no-nanny"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=quiet,
                )
            )
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(WORKERS, timeout=60)
        yield address
    finally:
        _stop(procs)
        log.close()


def _copy(small_run: Path, where: Path) -> Path:
    run = where / "run"  # the same folder name: the footer shows it
    shutil.copytree(small_run, run)
    write_run_params(run / "run.yaml", RunParams(run=run, plan=PLAN, seed="demo"))
    return run


def _pages(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run / "reports").glob("*.html"))}


def _store(run: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads((run / "reports" / ".fingerprints.json").read_bytes())
    return data


def _forget_reports(run: Path) -> None:
    """Back to a run with no report rendered (reports can show the run's own paths)."""
    for folder in ("reports", "notebooks"):
        shutil.rmtree(run / folder)


def _paired_county(run: Path) -> str:
    """A county with a pairing report (so the CLI run renders three notebooks)."""
    counties = read_counties(run / "frame").sort("county_code")
    paired = counties.filter(
        counties["national_poverty_county"] & counties["paired_helper_county"].is_not_null()
    )
    return str(paired["county_code"][0])


def test_xkaohe_run_on_dask_renders_what_a_local_run_renders(
    small_run: Path,
    scheduler: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = _copy(small_run, tmp_path)  # one run, rendered locally, then again on Dask
    county = _paired_county(run)
    argv = ["run", "--params", str(run / "run.yaml"), "--stage", "reports", "--only", county]
    assert main(argv) == 0
    local_out, local_pages, local_store = capsys.readouterr().out, _pages(run), _store(run)
    _forget_reports(run)
    assert main([*argv, "--executor", "dask", "--scheduler", scheduler]) == 0
    dask_out = capsys.readouterr().out
    assert set(local_pages) == {f"{kind}_{county}.html" for kind in ("county", "sample", "paired")}
    assert _pages(run) == local_pages  # byte for byte
    summary = "reports: 3 rendered, 0 unchanged (skipped), 0 failed"
    assert summary in local_out and summary in dask_out
    assert _store(run) == local_store  # the same fingerprints recorded
    todo, unchanged = plan_reports(run, report_jobs(run, county))
    assert not todo and len(unchanged) == 3  # the next run, local or Dask, skips them


def _every_kind(run: Path) -> list[Job]:
    """One report of each notebook the batch renders, and one that fails."""
    jobs: dict[str, Job] = {}
    for scoped in report_jobs(run):
        jobs.setdefault(scoped.job.notebook, scoped.job)
    broken = Job("county_sample.ipynb", "sample_broken", "坏的", {"county_code": "000000"})
    return [*jobs.values(), broken]


def test_every_kind_of_report_and_a_failure_as_in_a_local_run(
    small_run: Path, scheduler: str, tmp_path: Path
) -> None:
    run = _copy(small_run, tmp_path)
    jobs = _every_kind(run)
    kinds = {s.job.notebook for s in report_jobs(run)}
    assert len(jobs) == len(kinds) + 1 >= 8  # lottery, city, county, paired, sample, ...
    here = run_jobs(jobs, run, workers=2, progress=False)
    local_pages = _pages(run)
    _forget_reports(run)
    done: list[JobResult] = []
    there = DaskRunner(scheduler)(jobs, run, progress=False, on_done=done.append)
    assert [r.job for r in there] == jobs  # in job order
    assert sorted(r.job.stem for r in done) == sorted(j.stem for j in jobs)  # each seen once
    assert [(r.ok, r.error) for r in there] == [(r.ok, r.error) for r in here]
    assert [r.ok for r in there] == [True] * len(kinds) + [False], [r.error for r in there]
    assert there[-1].error.startswith("cell ") and "000000" in there[-1].error
    assert len(local_pages) == len(kinds)
    assert _pages(run) == local_pages  # byte for byte


def _sleeper(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("run_dir = ''")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import time\ntime.sleep(120)")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


def test_a_timeout_fails_the_notebook_and_the_worker_goes_on(
    small_run: Path, scheduler: str, tmp_path: Path
) -> None:
    run = _copy(small_run, tmp_path)
    sleeper = tmp_path / "sleeper.ipynb"
    _sleeper(sleeper)
    jobs = [Job(str(sleeper), f"sleep{i}", "t") for i in range(WORKERS)]  # one per worker
    start = time.monotonic()
    results = DaskRunner(scheduler)(jobs, run, timeout=3, progress=False)
    assert time.monotonic() - start < 60
    for r in results:
        assert not r.ok and r.error.startswith("CellTimeoutError"), r.error
    # both kernels were replaced: the next notebooks render
    after = [s.job for s in report_jobs(run) if s.job.notebook == "county_sample.ipynb"][:2]
    assert all(r.ok for r in DaskRunner(scheduler)(after, run, progress=False))


def test_workers_that_cannot_see_the_run_folder_are_named(scheduler: str, tmp_path: Path) -> None:
    with (
        Client(scheduler, set_as_default=False) as client,
        pytest.raises(InputError, match="a filesystem every worker mounts") as err,
    ):
        check_workers(client, tmp_path / "elsewhere")
    assert str(err.value).count("sees no") == WORKERS


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--executor", "dask"], "the Dask scheduler's address", id="no-scheduler"),
        pytest.param(
            ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"],
            "a running Dask scheduler",
            id="nothing-there",
        ),
    ],
)
def test_usage_errors_exit_2(
    small_run: Path,
    tmp_path: Path,
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("xkaohe.run.dask_executor.CONNECT_TIMEOUT", 2.0)
    run = _copy(small_run, tmp_path)  # the reports stage writes in the run folder
    code = main(["run", "--params", str(run / "run.yaml"), "--stage", "reports", *extra])
    assert code == 2
    assert message in capsys.readouterr().err
