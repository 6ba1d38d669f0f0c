"""Deliveries on their way into the ledger: read safely, staged, published or discarded.

A delivery (DESIGN.md "Field ledger") is a folder or a ``.zip``: names are
checked (no ``..``, no absolute names, no links, no encrypted members), sizes
and zip ratios are bounded, and every file is copied once into a staging
folder with its SHA-256. After the ledger's transaction commits, staged
objects are published into the read-only content-addressed store; an
interrupted ingest is finished or undone by :func:`recover`. The database
and its records are :mod:`xkaohe.io.ledger`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import shutil
import stat
import uuid
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import Field
from xkaohe.io.field import load_field
from xkaohe.io.ledger import (
    MEDIA_DIR,
    OBJECTS,
    STAGING,
    Ledger,
    StagedDelivery,
    StagedFile,
    object_name,
    role_of,
)
from xkaohe.io.paths import CODE_PATTERN
from xkaohe.io.tables import parse_table, read_raw, read_table

MAX_FILES = 100_000
MAX_FILE_BYTES = 2 << 30  # 2 GiB: a long interview recording fits, a runaway export does not
MAX_TOTAL_BYTES = 32 << 30
MAX_ZIP_RATIO = 200  # uncompressed / compressed size of one zip member (a zip bomb is far above)
_CHUNK = 1 << 20
_HEAD = 16  # bytes kept from each file's start: what its type is (see field.ledger.file_type)


def _stage_dir(ledger: Ledger) -> Path:
    d = ledger.root / STAGING / uuid.uuid4().hex
    (d / "tree").mkdir(parents=True)
    return d


class _Copier:
    """Copies files into one staging tree, hashing and counting against the bounds."""

    def __init__(self, tree: Path) -> None:
        self.tree = str(tree)
        self.total = 0
        self.made: set[str] = set()

    def copy(self, src: IO[bytes], name: str, limit: int, where: str) -> StagedFile:
        h = hashlib.sha256()
        size = 0
        head = b""
        dest = os.path.join(self.tree, name)
        folder = os.path.dirname(dest)
        if folder not in self.made:
            os.makedirs(folder, exist_ok=True)
            self.made.add(folder)
        # created read-only: it becomes the stored object as it is (see publish)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        with os.fdopen(fd, "wb") as out:
            while block := src.read(_CHUNK):
                size += len(block)
                self.total += len(block)
                if size > limit:
                    raise InputError(
                        Problem(where, None, None, f"a file of at most {limit:,} bytes", "larger")
                    )
                if self.total > MAX_TOTAL_BYTES:
                    raise InputError(
                        Problem(
                            where,
                            None,
                            None,
                            f"a delivery of at most {MAX_TOTAL_BYTES:,} bytes",
                            "a larger one",
                        )
                    )
                if len(head) < _HEAD:
                    head += block[: _HEAD - len(head)]
                h.update(block)
                out.write(block)
        return StagedFile(name, h.hexdigest(), size, head.hex(), role_of(name))


def _clean_name(name: str, where: str) -> str:
    """A member name as a safe relative POSIX path; anything else is refused."""
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        raise InputError(
            Problem(where, None, None, "relative file names inside the delivery", repr(name))
        )
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." or any(ord(c) < 32 for c in p) for p in parts):
        raise InputError(
            Problem(where, None, None, "file names without '..' or control characters", repr(name))
        )
    return "/".join(parts)


def _identity(path: Path) -> tuple[str, dt.date]:
    """Team and field day from ``deliveries/<team_id>/<YYYY-MM-DD>/`` (or ``.zip``)."""
    day = path.name[: -len(".zip")] if path.name.lower().endswith(".zip") else path.name
    team = path.resolve().parent.name
    expected = "a delivery at <team_id>/<YYYY-MM-DD>/ or <team_id>/<YYYY-MM-DD>.zip"
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise InputError(
            Problem(str(path), None, None, expected, f"'{day}', which is not a date")
        ) from None
    if not re.match(CODE_PATTERN, team):
        raise InputError(
            Problem(str(path), None, None, expected, f"'{team}', which is not a team id")
        )
    return team, date


def _strip_top(names: list[str]) -> list[str]:
    """Drop one common top folder (a zip of the ``<date>/`` folder itself)."""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return [n.split("/", 1)[1] for n in names]
    return names


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Member names of zips made on Chinese Windows are GBK without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _stage_zip(path: Path, tree: Path) -> list[StagedFile]:
    where = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(Problem(where, None, None, "a readable .zip file", str(exc))) from None
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        if len(members) > MAX_FILES:
            raise InputError(
                Problem(where, None, None, f"at most {MAX_FILES:,} files", f"{len(members):,}")
            )
        names = [_clean_name(_zip_name(i), where) for i in members]
        for info, name in zip(members, names, strict=True):
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise InputError(Problem(where, None, name, "regular files", "a symbolic link"))
            if info.flag_bits & 0x1:
                raise InputError(Problem(where, None, name, "an unencrypted file", "encrypted"))
        names = _strip_top(names)
        if len({n.lower() for n in names}) < len(names):
            raise InputError(
                Problem(where, None, None, "each file name once", "a name repeated in the zip")
            )
        copier = _Copier(tree)
        out = []
        for info, name in zip(members, names, strict=True):
            limit = min(MAX_FILE_BYTES, max(_CHUNK, info.compress_size * MAX_ZIP_RATIO))
            try:
                with zf.open(info) as src:
                    out.append(copier.copy(src, name, limit, f"{where}:{name}"))
            except (zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
                raise InputError(
                    Problem(f"{where}:{name}", None, None, "a readable zip member", str(exc))
                ) from None
        return out


def _stage_folder(path: Path, tree: Path) -> list[StagedFile]:
    found: list[str] = []
    root = str(path)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [*dirnames, *filenames]:
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                raise InputError(
                    Problem(full, None, None, "regular files and folders", "a symbolic link")
                )
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            found.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
        if len(found) > MAX_FILES:
            raise InputError(Problem(root, None, None, f"at most {MAX_FILES:,} files", "more"))
    copier = _Copier(tree)
    out = []
    for rel in sorted(found):
        name = _clean_name(rel, root)
        source = os.path.join(root, rel)
        with open(source, "rb") as src:
            out.append(copier.copy(src, name, MAX_FILE_BYTES, source))
    return out


def stage_delivery(ledger: Ledger, path: Path) -> StagedDelivery:
    """Copy one delivery (folder or ``.zip``) into staging, hashing every file.

    Raises
    ------
    InputError
        No such delivery, a name that is not ``<team_id>/<date>``, an unsafe or
        oversized file, an unreadable zip.
    """
    if not path.exists():
        raise InputError(Problem(str(path), None, None, "a delivery folder or .zip", "nothing"))
    team, day = _identity(path)
    stage = _stage_dir(ledger)
    tree = stage / "tree"
    try:
        if path.is_dir():
            files = _stage_folder(path, tree)
        elif path.suffix.lower() == ".zip":
            files = _stage_zip(path, tree)
        else:
            raise InputError(
                Problem(str(path), None, None, "a delivery folder or .zip", "another kind of file")
            )
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    files.sort(key=lambda f: f.path)
    return StagedDelivery(str(path), team, day, tuple(files), tree)


def _renamed(exc: InputError, delivery: StagedDelivery) -> InputError:
    """Messages about staged copies name the delivered files instead."""
    prefix = str(delivery.tree) + os.sep
    problems = [
        Problem(
            delivery.where(p.file[len(prefix) :].replace(os.sep, "/"))
            if p.file.startswith(prefix)
            else p.file,
            p.row,
            p.column,
            p.expected,
            p.found,
        )
        for p in exc.problems
    ]
    return InputError(problems) if problems else exc


def read_delivery(delivery: StagedDelivery) -> tuple[Field, pl.DataFrame | None]:
    """The field tables (the field reading rules) and the media manifest of a staged delivery.

    Raises
    ------
    InputError
        A cell that cannot be read, naming the delivered file, row and column.
    """
    try:
        field = load_field(delivery.tree)
    except InputError as exc:
        raise _renamed(exc, delivery) from None
    manifest, _, problems = read_table(delivery.tree / MEDIA_DIR, schemas.MEDIA, required=False)
    if problems:
        raise _renamed(InputError(problems), delivery)
    return field, manifest


def read_stored_table(ledger: Ledger, path: str, sha256: str, table: str) -> pl.DataFrame:
    """A stored table file read again with the field reading rules (for verify-ledger).

    Raises
    ------
    InputError
        The stored file cannot be read as that table any more.
    """
    spec = next(s for s in (*schemas.FIELD_TABLES, schemas.MEDIA) if s.name == table)
    obj = ledger.object_path(sha256, path)
    df, problems = parse_table(read_raw(obj), spec, Path(path))
    if problems:
        raise InputError(problems)
    return df


def flush_to_disk(deliveries: Iterable[StagedDelivery]) -> None:
    """Make staged copies (and the folders naming them) durable before their entries are
    committed. Many ``fsync`` calls at once cost about as much as one: the file system
    commits its journal for all of them together."""
    paths: list[Path] = []
    for d in deliveries:
        paths += [d.tree / f.path for f in d.files]
        paths += sorted({(d.tree / f.path).parent for f in d.files} | {d.tree, d.tree.parent})
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(_fsync, paths))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def discard(delivery: StagedDelivery) -> None:
    shutil.rmtree(delivery.tree.parent, ignore_errors=True)


def publish(ledger: Ledger, delivery: StagedDelivery) -> None:
    """Move a committed delivery's copies into ``objects/`` (read-only, once each)."""
    tree, objects = str(delivery.tree), str(ledger.root / OBJECTS)
    made: set[str] = set()
    for f in delivery.files:
        staged = os.path.join(tree, f.path)
        target = os.path.join(objects, object_name(f.sha256, f.path))
        if os.path.exists(target):
            continue  # stored once: an earlier delivery (or file) had the same content
        folder = os.path.dirname(target)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with contextlib.suppress(FileNotFoundError):  # a second file with the same content
            os.replace(staged, target)
    discard(delivery)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def recover(ledger: Ledger) -> int:
    """Finish or undo an interrupted ingest; returns the number of copies moved.

    Staged copies the database references are moved into ``objects/`` (under
    every name the database expects for them), the others deleted.
    """
    moved = 0
    for stage in ledger.staging_leftovers():
        tree = stage / "tree"
        for p in sorted(tree.rglob("*")) if tree.is_dir() else []:
            if not p.is_file() or p.is_symlink():
                continue
            sha = _sha256(p)
            rows = ledger.db.execute("SELECT DISTINCT path FROM files WHERE sha256=?", (sha,))
            for (path,) in rows.fetchall():
                target = ledger.object_path(sha, str(path))
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    tmp = (
                        stage / "copy.tmp"
                    )  # beside the staged copy: nothing half-written in objects/
                    shutil.copyfile(p, tmp)
                    os.chmod(tmp, 0o444)
                    os.replace(tmp, target)
                    moved += 1
        shutil.rmtree(stage, ignore_errors=True)
    return moved


def sha256_of(path: Path) -> str:
    """SHA-256 of a stored object (verify-ledger)."""
    return _sha256(path)


def write_deliveries(
    root: Path,
    deliveries: Iterable[tuple[str, dt.date, dict[str, pl.DataFrame], dict[str, bytes]]],
) -> int:
    """Write deliveries as ``root/<team_id>/<YYYY-MM-DD>/`` (tables, ``media/``); returns files.

    Each item: team, day, tables (``media`` = the manifest) and media files by
    their path under ``media/``. The folder is built beside ``root`` and put in
    its place at the end (one flush to disk, not one per media file).
    """
    tmp = root.with_name(f".{root.name}.{uuid.uuid4().hex[:8]}.tmp")
    count = 0
    try:
        for team, day, tables, media in deliveries:
            if not re.match(CODE_PATTERN, team):
                raise ValueError(f"team id {team!r} cannot name a folder")
            folder = tmp / team / day.isoformat()
            for name, df in tables.items():
                path = (
                    folder / MEDIA_DIR / f"{name}.csv"
                    if name == "media"
                    else folder / f"{name}.csv"
                )
                path.parent.mkdir(parents=True, exist_ok=True)
                # as io.sample_package.write_csv formats it; the folder as a whole is atomic
                df.write_csv(path, null_value="", float_precision=None, line_terminator="\n")
                count += 1
            for rel, data in media.items():
                path = folder / MEDIA_DIR / _clean_name(rel, str(folder))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                count += 1
        # Synthetic demo data: the folder is swapped in whole, but not forced to disk file
        # by file (thousands of media files; a lost demo is made again).
        if root.exists():
            shutil.rmtree(root)
        tmp.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return count


__all__ = [
    "discard",
    "flush_to_disk",
    "publish",
    "read_delivery",
    "read_stored_table",
    "recover",
    "sha256_of",
    "stage_delivery",
    "write_deliveries",
]
