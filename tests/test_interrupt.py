"""Ctrl-C stops the batch promptly, keeps what finished, and the next run resumes (issue 11)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat

from xkaohe.io.run import read_counties
from xkaohe.run.stages import RunParams, plan_reports, report_jobs, write_run_params

PLAN = Path(__file__).resolve().parents[1] / "params" / "plan-2019.yaml"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(what: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if what():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s")


def _sleeper(path: Path, pids: Path) -> None:
    """A notebook that records its kernel's pid, then sleeps a minute."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("run_dir = ''\nname = ''")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            f"import os, pathlib\npathlib.Path({str(pids)!r}, name).write_text(str(os.getpid()))"
        ),
        nbformat.v4.new_code_cell("import time\ntime.sleep(60)"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, str(path))


_DRIVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from xkaohe.run.batch import Interrupted, Job, run_jobs
    run, notebook = Path(sys.argv[1]), sys.argv[2]
    jobs = [Job(notebook, f"s{i}", "t", {"name": f"s{i}"}) for i in range(6)]
    try:
        run_jobs(jobs, run, workers=2, progress=False)
    except Interrupted as exc:
        print(f"interrupted: {exc}", flush=True)
        sys.exit(130)
    """
)


def test_ctrl_c_cancels_the_queue_and_stops_running_kernels(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    notebook = tmp_path / "sleeper.ipynb"
    _sleeper(notebook, pids)
    run = tmp_path / "run"
    with subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(run), str(notebook)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        _wait_for(lambda: len(list(pids.iterdir())) == 2, 60)  # both workers' kernels sleeping
        kernels = [int(p.read_text()) for p in pids.iterdir()]
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - start
    assert proc.returncode == 130, err
    assert took < 20, took  # measured: 1–2 s (before: every queued notebook ran on)
    assert "interrupted: 0 of 6 notebooks finished" in out
    assert "Traceback" not in err
    _wait_for(lambda: not any(_alive(k) for k in kernels), 5)  # kernels shut down
    assert len(list(pids.iterdir())) == 2  # the 4 queued notebooks never started


def test_ctrl_c_during_xkaohe_run_keeps_what_finished_and_resumes(
    small_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    write_run_params(run / "run.yaml", RunParams(run=run, plan=PLAN, seed="demo"))
    counts = read_counties(run / "frame").group_by("city_name").len().sort("len", "city_name")
    city = str(counts.filter(counts["len"] >= 3)["city_name"][0])  # several reports to stop
    store = run / "reports" / ".fingerprints.json"
    argv = ["run", "--params", str(run / "run.yaml"), "--stage", "reports", "index"]
    with subprocess.Popen(
        [sys.executable, "-m", "xkaohe.cli", *argv, "--only", city, "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        _wait_for(lambda: store.exists() and json.loads(store.read_text()), 240)
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - start
    assert proc.returncode == 130, err
    assert took < 20, took  # measured: a few seconds (before: 55 s and more)
    assert "interrupted" in err and "Traceback" not in err
    finished = json.loads(store.read_text(encoding="utf-8"))
    assert finished  # fingerprints of what finished are kept
    index = (run / "reports" / "index.html").read_text(encoding="utf-8")
    for stem in finished:
        assert f'href="{stem}.html"' in index  # the index links what finished
    jobs = report_jobs(run, city)
    todo, skipped = plan_reports(run, jobs)
    assert {s.job.stem for s in skipped} == set(finished)  # the next run resumes
    assert len(todo) == len(jobs) - len(finished) > 0
    not_done = {s.job.stem for s, _ in todo}
    assert not any(f'href="{stem}.html"' in index for stem in not_done)


def test_plan_reports_skips_nothing_on_a_fresh_run(small_run: Path) -> None:
    jobs = report_jobs(small_run)
    todo, skipped = plan_reports(small_run, jobs)
    assert not skipped and len(todo) == len(jobs)
