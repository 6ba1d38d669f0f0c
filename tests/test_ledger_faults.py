"""The field ledger under faults (issue 12, item 7).

A kill or Ctrl-C at any point of an ingest leaves the ledger as it was, or
with whole entries only; running the ingest again gives the same ledger as an
uninterrupted run. Two ingests at once are serialised. A full disk or a
read-only run folder is a clear error (exit 2) and loses nothing. The ingests
run in subprocesses that are really killed; the disk faults are real too: a
small tmpfs and a read-only bind mount in a private mount namespace
(``unshare``), skipped where the system does not allow one.
"""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_ledger import FIXED, fresh_run, snapshot, synthetic_run

from xkaohe.run.commands import run_ingest, run_verify_ledger

_SCRIPT = """
import datetime as dt, signal, sys, time
from pathlib import Path
from xkaohe.run.commands import run_ingest

# A shell without job control starts background jobs with SIGINT ignored, and the
# child would inherit that; Ctrl-C at a terminal is what this test stands for.
signal.signal(signal.SIGINT, signal.default_int_handler)

run, point, hold = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])

def pause(at):
    if at == point:
        print(at, flush=True)
        time.sleep(hold)

fixed = dt.datetime.fromisoformat(sys.argv[4])
run_ingest(run, [Path(p) for p in sys.argv[5:]], now=lambda: fixed, pause=pause)
print("done", flush=True)
"""


_STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_ingest_outlives_its_test() -> Iterator[None]:
    """A test that fails half-way must not leave its ingest running into the next tests."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _start(run: Path, point: str, hold: float, deliveries: list[Path]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(run), point, str(hold), FIXED.isoformat()]
        + [str(p) for p in deliveries],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _STARTED.append(proc)
    return proc


def _wait_for(proc: subprocess.Popen[str], marker: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == marker, (line, proc.stderr.read() if proc.stderr else "")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_run(tmp_path_factory)


@pytest.fixture(scope="module")
def deliveries(source: Path) -> list[Path]:
    return [
        source / "deliveries" / team / day
        for team, day in (("T01", "2019-11-24"), ("T02", "2019-11-24"), ("T01", "2019-11-25"))
    ]


@pytest.fixture(scope="module")
def reference(
    source: Path, deliveries: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    """The ledger an uninterrupted ingest of the deliveries gives."""
    run = fresh_run(source, tmp_path_factory.mktemp("reference") / "run")
    run_ingest(run, deliveries, now=lambda: FIXED)
    return snapshot(run)


def _is_prefix(state: dict[str, object], full: dict[str, object]) -> bool:
    """Whole entries only: the ledger holds the reference's first k entries, nothing else."""
    entries = state["tables"]["entries"]  # type: ignore[index]
    k = len(entries)
    seqs = set(range(1, k + 1))
    for table, rows in state["tables"].items():  # type: ignore[attr-defined]
        want = [r for r in full["tables"][table] if r[0] in seqs]  # type: ignore[index]
        if rows != want:
            return False
    return True


def _finish_and_compare(run: Path, deliveries: list[Path], reference: dict[str, object]) -> None:
    run_ingest(run, deliveries, now=lambda: FIXED)
    assert snapshot(run) == reference
    assert run_verify_ledger(run).notes == []
    assert not list((run / "ledger" / "staging").iterdir())


@pytest.mark.parametrize("point", ["checked", "written", "committed", "published"])
def test_a_kill_at_any_point_leaves_whole_entries_and_a_rerun_finishes(
    source: Path,
    deliveries: list[Path],
    reference: dict[str, object],
    tmp_path: Path,
    point: str,
) -> None:
    run = fresh_run(source, tmp_path / "run")
    run_ingest(run, deliveries[:1], now=lambda: FIXED)  # a ledger with one entry already
    before = snapshot(run)
    proc = _start(run, point, 60, deliveries)
    _wait_for(proc, point)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)  # reaped, pipes closed
    after = snapshot(run)
    assert _is_prefix(after, reference)
    if point in ("checked", "written"):
        assert after["tables"] == before["tables"]  # type: ignore[index]
    _finish_and_compare(run, deliveries, reference)


@pytest.mark.parametrize("delay", [0.2, 0.6, 1.2, 2.5])
def test_a_kill_after_a_while_leaves_whole_entries(
    source: Path,
    deliveries: list[Path],
    reference: dict[str, object],
    tmp_path: Path,
    delay: float,
) -> None:
    run = fresh_run(source, tmp_path / "run")
    proc = _start(run, "-", 0, deliveries)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)  # reaped, pipes closed
    if (run / "ledger" / "ledger.sqlite").exists():
        assert _is_prefix(snapshot(run), reference)
    _finish_and_compare(run, deliveries, reference)


def test_ctrl_c_in_a_transaction_rolls_it_back_and_cleans_up(
    source: Path, deliveries: list[Path], reference: dict[str, object], tmp_path: Path
) -> None:
    run = fresh_run(source, tmp_path / "run")
    run_ingest(run, deliveries[:1], now=lambda: FIXED)
    before = snapshot(run)
    proc = _start(run, "written", 60, deliveries[1:])
    _wait_for(proc, "written")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    assert snapshot(run) == before
    assert not list((run / "ledger" / "staging").iterdir())
    _finish_and_compare(run, deliveries, reference)


def test_two_ingests_at_once_are_serialised(
    source: Path, deliveries: list[Path], tmp_path: Path
) -> None:
    run = fresh_run(source, tmp_path / "run")
    first = _start(run, "written", 3, deliveries[:1])
    _wait_for(first, "written")  # it holds the run's lock, inside its transaction
    second = _start(run, "-", 0, deliveries[1:2])
    _, err2 = second.communicate(timeout=300)
    _, err1 = first.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    result = run_verify_ledger(run)
    assert result.entries == 2 and result.problems == []
    entries = snapshot(run)["tables"]["entries"]  # type: ignore[index]
    assert [e[1] for e in entries] == ["T01", "T02"]  # the waiting one came second


# ------------------------------------------------------------------ real disk faults


def _namespace_ok() -> bool:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


needs_namespace = pytest.mark.skipif(
    not _namespace_ok(), reason="needs unshare -rm (a private mount namespace)"
)


def _cli(*args: str) -> str:
    code = "import sys; from xkaohe.cli import main; sys.exit(main(sys.argv[1:]))"
    return " ".join(shlex.quote(a) for a in (sys.executable, "-c", code, *args))


@needs_namespace
def test_a_read_only_run_folder_is_a_clear_error(
    source: Path, deliveries: list[Path], tmp_path: Path
) -> None:
    run = fresh_run(source, tmp_path / "run")
    run_ingest(run, deliveries[:1], now=lambda: FIXED)
    before = snapshot(run)
    r = shlex.quote(str(run))
    script = f"mount --bind {r} {r} && mount -o remount,bind,ro {r} {r} && " + _cli(
        "ingest", "--run", str(run), str(deliveries[1])
    )
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "a writable run folder" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(run) == before


@needs_namespace
def test_a_full_disk_is_a_clear_error_and_loses_nothing(
    source: Path, deliveries: list[Path], reference: dict[str, object], tmp_path: Path
) -> None:
    run = fresh_run(source, tmp_path / "run")
    run_ingest(run, deliveries[:1], now=lambda: FIXED)
    before = snapshot(run)
    used_kb = int(
        subprocess.run(
            ["du", "-sk", str(run / "ledger")], capture_output=True, text=True
        ).stdout.split()[0]
    )
    ledger, side, after = run / "ledger", tmp_path / "side", tmp_path / "after"
    q = {k: shlex.quote(str(v)) for k, v in {"l": ledger, "s": side, "a": after}.items()}
    script = (
        f"cp -a {q['l']} {q['s']} && mount -t tmpfs -o size={used_kb + 400}k tmpfs {q['l']} && "
        f"cp -a {q['s']}/. {q['l']}/ && "
        + _cli("ingest", "--run", str(run), *map(str, deliveries[1:]))
        + f"; code=$?; mkdir -p {q['a']} && cp -a {q['l']}/. {q['a']}/; exit $code"
    )
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "free disk space" in done.stderr and "Traceback" not in done.stderr
    shutil.rmtree(run / "ledger")
    shutil.copytree(after, run / "ledger")
    assert snapshot(run) == before  # what the full disk kept is what was there
    _finish_and_compare(run, deliveries, reference)  # and the next ingest finishes the job
