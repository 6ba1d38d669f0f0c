"""Small file helpers: text, hashes, JSON, with user-facing errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from xkaohe.errors import InputError, Problem


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file the user named; a missing file is an InputError."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
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
    """Write JSON deterministically (sorted keys, UTF-8, trailing newline)."""
    path.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


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
