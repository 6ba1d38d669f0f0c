"""Small file helpers: atomic writes, text, hashes, JSON, with user-facing errors.

Every file xkaohe writes goes through :func:`atomic_path` (or the helpers
built on it): the content is written to a temporary name in the same folder,
flushed to disk and renamed over the target with :func:`os.replace`, so a
reader (a notebook, a second command, a copy to a USB stick) sees the old
file or the new one, never half of one. The temporary name starts with ``.``
and ends with ``.tmp``: no reader's glob (``*.csv``) picks it up.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xkaohe.errors import InputError, Problem

TMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` when the block ends.

    The folder is created if missing. If the block raises, the temporary file
    is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}")
    try:
        yield tmp
        if tmp.exists():
            with tmp.open("rb") as fh:  # the data is on disk before the name points at it
                os.fsync(fh.fileno())
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str, encoding: str = "utf-8", newline: str | None = None) -> None:
    """Write ``text`` to ``path`` atomically (``newline="\\r\\n"`` for Windows Notepad)."""
    with atomic_path(path) as tmp, tmp.open("w", encoding=encoding, newline=newline) as fh:
        fh.write(text)


MAX_TEXT_BYTES = 1 << 20
"""Largest plan or run parameter file read (the 2019 plan is about 20 KB)."""


def read_text(path: str | Path, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """Read a UTF-8 text file the user named (at most ``max_bytes``); a problem is an InputError."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputError(
                Problem(
                    str(p), None, None, f"a file of at most {max_bytes:,} bytes", "a larger one"
                )
            )
        return data.decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{p}: expected a file; found a directory") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{p}: expected UTF-8 text; found bytes that are not ({exc.reason})"
        ) from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json(path: Path, data: Any) -> None:
    """Write JSON deterministically (sorted keys, UTF-8, trailing newline), atomically."""
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def read_certificate(directory: str | Path, what: str) -> dict[str, Any]:
    """``certificate.json`` of an output directory (a sample package, a lottery)."""
    d = Path(directory)
    if not d.is_dir():
        raise InputError(Problem(str(d), None, None, f"a {what} directory", "no such directory"))
    path = d / "certificate.json"
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(Problem(str(path), None, None, "a JSON object", type(data).__name__))
    return data


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}, line {exc.lineno}, column {exc.colno}: expected JSON; found {exc.msg}"
        ) from None
