"""Names from data become file names only here: safe, stable, collision-free, inside the run.

A city name, county name or code read from a frame is data. Before it is
part of a file or folder name it passes :func:`safe_name`, and every path
written below a run folder can be checked with :func:`inside` (DESIGN.md:
"no folder or file name is ever taken from data unchecked").

The safe form of a text
-----------------------
* A text that is already a plain name is kept as it is: NFKC-normal, no
  upper-case letter, only letters and digits of any script (Chinese
  included), ``-``, ``_``, ``.`` and the middle dot ``·``, not starting with
  ``.`` or ``-`` nor ending in ``.``, not a reserved device name (``con``, ``nul``, ...), at most
  :data:`MAX_BYTES` bytes in UTF-8, and not ending in what looks like the
  hash suffix below. County codes (``341221``) and Chinese place names
  (``阜阳市``) are such names.
* Anything else is *changed*: NFKC-normalised, lower-cased, every other
  character replaced by ``_`` (runs collapsed), cut to fit, and suffixed with
  ``-`` and the first 10 hex digits of the SHA-256 of the original text. So
  ``../x``, ``a/b``, ``a\\b``, ``a_b`` and ``A_B`` all get different names,
  the same text always gets the same one, and two different texts can only
  meet by a 40-bit hash collision. Lower-casing keeps names distinct on the
  case-insensitive file systems of Windows and macOS; the hash suffix is
  reserved so that no plain name can imitate a changed one.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

from xkaohe.errors import InputError, Problem
from xkaohe.schemas import FILE_CODE

MAX_BYTES = 120
"""Longest safe name in UTF-8 bytes: room for prefixes and suffixes under the usual 255."""
HASH_CHARS = 10
CODE_PATTERN = FILE_CODE
"""What a code that becomes part of a file name (a county code) must look like when read."""

_ALLOWED_PUNCT = frozenset("-_.·")
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
_HASHED = re.compile(rf"-[0-9a-f]{{{HASH_CHARS}}}$")


def _is_plain(text: str) -> bool:
    return (
        bool(text)
        and unicodedata.normalize("NFKC", text) == text
        and text.lower() == text
        and all(c.isalnum() or c in _ALLOWED_PUNCT for c in text)
        and text[0] not in ".-"
        and text[-1] != "."  # Windows drops a trailing dot: a. and a would meet
        and text.split(".")[0] not in _RESERVED
        and len(text.encode("utf-8")) <= MAX_BYTES
        and not _HASHED.search(text)
    )


def _cut(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that fits in ``limit`` UTF-8 bytes."""
    data = text.encode("utf-8")[:limit]
    return data.decode("utf-8", errors="ignore")


def safe_name(text: str) -> str:
    """The file-name form of ``text`` (see the module docstring); never empty, never a path.

    Parameters
    ----------
    text
        A name or code from data.

    Returns
    -------
    str
        ``text`` itself when it is already plain, else its normalised form with
        a hash suffix.
    """
    if _is_plain(text):
        return text
    normal = unicodedata.normalize("NFKC", text).lower()
    kept = "".join(c if c.isalnum() or c in _ALLOWED_PUNCT else "_" for c in normal)
    kept = re.sub(r"_+", "_", kept).lstrip(".-")
    if kept.split(".")[0] in _RESERVED:
        kept = "_" + kept
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]
    return f"{_cut(kept, MAX_BYTES - HASH_CHARS - 1) or '_'}-{digest}"


def report_stem(kind: str, key: str) -> str:
    """The file stem of a report about one unit: ``county_341221``, ``city_阜阳市``.

    ``kind`` is ours (county, city, paired, sample); ``key`` is data and passes
    :func:`safe_name`. The batch, the index and the sign-off all name a report
    through this one function.
    """
    return f"{kind}_{safe_name(key)}"


def inside(run: Path, path: Path) -> Path:
    """``path`` resolved, after checking that it stays inside the folder ``run``.

    Raises
    ------
    InputError
        When ``path`` (with symbolic links followed) leaves ``run``.
    """
    root = Path(os.path.realpath(run))
    target = Path(os.path.realpath(path))
    if target != root and root not in target.parents:
        raise InputError(
            Problem(
                str(path),
                None,
                None,
                f"a path inside the run folder {root}",
                f"{target}: refusing to write outside it",
            )
        )
    return target


def run_relative(run: Path, path: Path) -> str:
    """``path`` as the run names it (``feedback/亳州市``): :func:`inside` resolves paths,
    so the run folder is resolved too, whether it was given relative or not."""
    return inside(run, path).relative_to(Path(os.path.realpath(run))).as_posix()


__all__ = ["CODE_PATTERN", "MAX_BYTES", "inside", "report_stem", "run_relative", "safe_name"]
