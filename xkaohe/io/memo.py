"""Parsed files kept in memory for as long as the files on disk stay the same.

A warm report kernel renders many notebooks one after another, and each one
used to parse the same plan (pure-Python YAML: a quarter of a second), the
same results tables, the same sample package and the frame's county and
village tables again. :func:`remembered` keeps what a reader returned, keyed
by the reader and by each file's identity: device, inode, size and the
modification and change times in nanoseconds. xkaohe writes every file
atomically (a new inode under the old name), and an edit in place changes
the size or the times, so a changed file is never served from memory; a
reader that fails (a missing or damaged file) is not remembered and raises
again the next time. Nothing is written anywhere.

Callers hand out copies of mutable results (``DataFrame.clone()`` is cheap:
the columns are shared until one side writes), so a notebook that modifies
what it was given cannot change what the next notebook reads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

MAX_ENTRIES = 64
"""Readers' results kept (least recently used dropped first); a run reads a few dozen files."""

_entries: OrderedDict[tuple[object, ...], object] = OrderedDict()
_lock = threading.Lock()  # Dask workers run several tasks in threads of one process


def stamp(paths: Iterable[Path]) -> tuple[object, ...]:
    """What identifies the current content of each path (None for a missing one)."""
    out: list[object] = []
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            out.append((str(p), None))
            continue
        out.append((str(p), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(out)


def remembered(kind: str, paths: list[Path], load: Callable[[], T]) -> T:
    """``load()``, or what it returned before while ``paths`` are unchanged.

    ``kind`` names the reader and its arguments (one reader may read the same
    files in several ways). ``paths`` are every file (and folder, when the
    set of files matters) that ``load`` reads.
    """
    key = (kind, stamp(paths))
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]  # type: ignore[return-value]
    value = load()
    if stamp(paths) == key[1]:  # unchanged while it was read: the value belongs to the key
        with _lock:
            _entries[key] = value
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return value


def forget() -> None:
    """Drop everything remembered (tests; a long-lived process that wants its memory back)."""
    with _lock:
        _entries.clear()


__all__ = ["MAX_ENTRIES", "forget", "remembered", "stamp"]
