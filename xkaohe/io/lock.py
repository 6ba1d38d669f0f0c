"""One writer per run folder: ``<run>/.lock``, held with an OS file lock while a command writes.

Two commands writing one run at once (two ``xkaohe run``, or ``xkaohe run``
and ``xkaohe ingest``) would interleave their files: one could rewrite the
sample while the other computes from it. Every command that writes a run
takes :func:`run_lock` first; a second one stops at once with a message
naming the holder (process id, command, host, start time) and exit status 2.

The lock is an advisory ``flock`` (``msvcrt.locking`` on Windows) on the
open lock file, so the operating system releases it when the holder ends,
however it ends: a crash or a kill leaves no stale lock to clean up. The
file's text only says who holds it. The lock is re-entrant within one
process (``xkaohe demo`` runs the stages of ``xkaohe run`` under one lock).

Which folder is locked: :func:`lock_folder` — a command writing one of a
run's parts (``<run>/sample``, ``<run>/lottery``, ``<run>/results``, ...)
locks the run itself, so it excludes ``xkaohe run`` on that run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from xkaohe.errors import InputError, Problem

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

LOCK_NAME = ".lock"
RUN_PARTS = frozenset(
    {"sample", "lottery", "results", "reports", "feedback", "notebooks", "ledger", "signatures"}
)
"""Sub-folders of a run that commands write; writing one locks the run."""

_held: dict[str, tuple[int, int]] = {}  # real path of the lock file -> (fd, depth)


def lock_folder(out: Path) -> Path:
    """The folder whose lock guards writing ``out``: its run when ``out`` is a part of one."""
    return out.parent if out.name in RUN_PARTS else out


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    """Who holds the lock, from its text (best effort: it may be mid-write)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8")[:2000])
        return (
            f"process {info['pid']} on {info['host']}, started {info['since']}: "
            f"{info['command'][:200]}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (its details are unreadable)"


@contextlib.contextmanager
def run_lock(folder: Path, command: str) -> Iterator[Path]:
    """Hold the write lock of ``folder`` (created if missing) for the duration of the block.

    Parameters
    ----------
    folder
        The run folder (see :func:`lock_folder`).
    command
        What this process is doing, shown to a second writer (e.g. the command line).

    Raises
    ------
    InputError
        When another process holds the lock: names it and how to proceed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    key = os.path.realpath(path)
    if key in _held:
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield path
        finally:
            fd, depth = _held[key]
            _held[key] = (fd, depth - 1)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if not _try_lock(fd):
        os.close(fd)
        raise InputError(
            Problem(
                str(folder),
                None,
                None,
                "a run folder no other xkaohe command is writing",
                f"it is being written by {_holder(path)}; wait for it to finish "
                "(the lock is released when that process ends) and run the command again",
            )
        )
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": dt.datetime.now().isoformat(timespec="seconds"),
        "command": command,
    }
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(info, ensure_ascii=False).encode("utf-8"))
    _held[key] = (fd, 1)
    try:
        yield path
    finally:
        del _held[key]
        os.ftruncate(fd, 0)
        os.close(fd)  # closing releases the lock


__all__ = ["LOCK_NAME", "lock_folder", "run_lock"]
