"""The discipline register on disk (plan 八(二)(三)): the incidents table and its evidence files.

A run's register is a folder beside ``field/`` (by default ``runs/<run>/discipline/``)::

    discipline/
      incidents.csv | incidents.xlsx   one row per incident (schemas.INCIDENTS)
      <any folders>/<files>            evidence the ``evidence`` column names, relative
                                       to this folder (photos, recordings, scans)
      objects/<aa>/<sha256>            the evidence kept once, content-addressed and
                                       read-only (written by the indicators stage)

The table is read with the usual reading rules (:mod:`xkaohe.io.tables`).
An evidence name must stay inside the folder (no absolute path, no ``..``, no
symbolic link) and name a file; its SHA-256 is what the results store
records. Deciding whether a row is acceptable is :mod:`xkaohe.analyse.discipline`.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import TableFile
from xkaohe.io.files import atomic_path, sha256_file
from xkaohe.io.results import read_result, results_dir
from xkaohe.io.sample_package import write_csv
from xkaohe.io.tables import read_table
from xkaohe.results_spec import Result

FOLDER = "discipline"
OBJECTS = "objects"
MAX_EVIDENCE_BYTES = 2 << 30  # 2 GiB: a long recording fits, a runaway copy does not


def register_dir(field_dir: Path) -> Path:
    """Where a run's register is by default: beside its field returns."""
    return field_dir.parent / FOLDER


def read_incidents(folder: Path) -> tuple[pl.DataFrame | None, TableFile | None]:
    """The incidents table of ``folder`` (None when there is none); InputError on any bad cell."""
    if not folder.is_dir():
        return None, None
    df, info, problems = read_table(folder, schemas.INCIDENTS, required=False)
    if problems:
        raise InputError(problems)
    return df, info


def hash_evidence(folder: Path, names: Iterable[str]) -> dict[str, tuple[str, int] | None]:
    """``name -> (sha256, bytes)`` of each evidence file; None for a name that is unsafe
    (absolute, ``..``, a link, outside ``folder``), missing, not a file, or too large."""
    out: dict[str, tuple[str, int] | None] = {}
    root = folder.resolve()
    for name in sorted(set(names)):
        out[name] = None
        pure = PurePosixPath(name.replace("\\", "/"))
        if not name or pure.is_absolute() or ".." in pure.parts or pure.parts[:1] == (OBJECTS,):
            continue
        path = folder.joinpath(*pure.parts)
        try:
            info = path.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_EVIDENCE_BYTES:
            continue
        if not path.resolve().is_relative_to(root):  # a linked folder on the way
            continue
        out[name] = (sha256_file(path), info.st_size)
    return out


def object_name(sha256: str) -> str:
    """Where a piece of evidence is kept, relative to the run folder."""
    return f"{FOLDER}/{OBJECTS}/{sha256[:2]}/{sha256}"


def store_evidence(run: Path, folder: Path, files: Mapping[str, str]) -> None:
    """Copy each evidence file (name -> its sha256) into the run's object store, once.

    The copy is hashed again as it is written: a file changed since it was
    checked is an InputError and nothing of it is kept. Stored objects are
    read-only.
    """
    for name, sha in sorted(files.items()):
        target = run / object_name(sha)
        if target.exists():
            continue
        source = folder.joinpath(*PurePosixPath(name.replace("\\", "/")).parts)
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
            if sha256_file(tmp) != sha:
                raise InputError(
                    Problem(str(source), None, None, f"sha256 {sha} (as checked)", "another file")
                )
            os.chmod(tmp, 0o444)


def write_register(folder: Path, incidents: pl.DataFrame, files: Mapping[str, bytes]) -> None:
    """Write a register folder: ``incidents.csv`` and the evidence files (synthetic demo data)."""
    write_csv(incidents, folder / f"{schemas.INCIDENTS.name}.csv")
    for name, data in sorted(files.items()):
        path = folder.joinpath(*PurePosixPath(name).parts)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)


def read_discipline(run: Path, name: Result, **equal: str) -> pl.DataFrame | None:
    """A discipline results table (its slice), or None for a run computed before it existed."""
    if not (results_dir(run) / f"{name}.parquet").exists():
        return None
    return read_result(run, name, **equal)


__all__ = [
    "FOLDER",
    "hash_evidence",
    "object_name",
    "read_discipline",
    "read_incidents",
    "register_dir",
    "store_evidence",
    "write_register",
]
