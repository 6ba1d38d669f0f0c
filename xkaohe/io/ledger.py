"""The field ledger on disk: a hash-chained SQLite database and a content-addressed object store.

DESIGN.md "Field ledger"; plan 六(四) (teams enter each day's returns and
upload recordings and photos) and 八(二) (不得篡改调查内容及相关数据)::

    runs/<run>/ledger/
      ledger.sqlite           entries, files, records, media, rejects, uses
      objects/<aa>/<sha256>   every delivered file (tables, manifest, media) once, read-only
      staging/<id>/tree/...   an ingest in progress: copies waiting for their entry's commit

This module only moves bytes and rows; what an entry, a record hash or a
current view is lives in :mod:`xkaohe.field.ledger`.

Append-only. Every table has triggers that abort an ``UPDATE`` or ``DELETE``;
anything that bypasses them (an edited file, a dropped trigger) is what
``xkaohe verify-ledger`` is for.

Crash safety. A delivery is first copied into ``staging/`` (hashed while it
is copied) and flushed to disk; its entry is then written in one ``BEGIN
IMMEDIATE`` transaction (SQLite in WAL mode, ``synchronous=FULL``), and only
after the commit are the copies moved into ``objects/`` (each made read-only
before an atomic rename). A kill before the commit leaves the database as it
was and only staging leftovers; a kill after it leaves copies still to move.
:func:`recover`, run by the next ingest under the run lock, moves every copy
the database references and deletes the others. The staged copies are flushed
with many ``fsync`` calls at once (one after another, thousands of small media
files at ~2 ms each would cost seconds per day of deliveries).

Safe reading. A delivery folder may not contain symbolic links; a ``.zip``
member may not be absolute, contain ``..``, be a link or be encrypted; every
file and the whole delivery are bounded in size (a zip member also in its
compression ratio), counted on the bytes actually read, not on the headers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import re
import shutil
import sqlite3
import stat
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import Field
from xkaohe.io.field import load_field
from xkaohe.io.paths import CODE_PATTERN
from xkaohe.io.tables import parse_table, read_raw, read_table

LEDGER = "ledger"
DATABASE = "ledger.sqlite"
OBJECTS = "objects"
STAGING = "staging"
FORMAT = "xkaohe-ledger-1"
GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

MAX_FILES = 100_000
MAX_FILE_BYTES = 2 << 30  # 2 GiB: a long interview recording fits, a runaway export does not
MAX_TOTAL_BYTES = 32 << 30
MAX_ZIP_RATIO = 200  # uncompressed / compressed size of one zip member (a zip bomb is far above)
_CHUNK = 1 << 20
_HEAD = 16  # bytes kept from each file's start: what its type is (see field.ledger.file_type)

_SUFFIXES = {".csv", ".xlsx", ".wav", ".mp3", ".amr", ".m4a", ".jpg", ".png", ".heic"}
_SAME_SUFFIX = {".jpeg": ".jpg"}
_TABLE_FILES = {
    f"{spec.name}{ext}": spec.name for spec in schemas.FIELD_TABLES for ext in (".csv", ".xlsx")
}
MEDIA_DIR = "media"
MANIFEST_FILES = {f"{MEDIA_DIR}/{schemas.MEDIA.name}{ext}" for ext in (".csv", ".xlsx")}

_TABLES = ("entries", "files", "records", "media", "rejects", "uses")
_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY, team_id TEXT NOT NULL, field_date TEXT NOT NULL,
    received_at TEXT NOT NULL, source TEXT NOT NULL, content_hash TEXT NOT NULL,
    records_hash TEXT NOT NULL, n_records INTEGER NOT NULL, prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    role TEXT NOT NULL, head TEXT NOT NULL, PRIMARY KEY (seq, path));
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER NOT NULL, tbl TEXT NOT NULL, record_key TEXT NOT NULL,
    record_hash TEXT NOT NULL, content TEXT NOT NULL, row INTEGER NOT NULL,
    PRIMARY KEY (seq, tbl, record_key));
CREATE INDEX IF NOT EXISTS records_by_key ON records (tbl, record_key);
CREATE TABLE IF NOT EXISTS media (
    seq INTEGER NOT NULL, row INTEGER NOT NULL, file TEXT NOT NULL, sha256 TEXT NOT NULL,
    kind TEXT NOT NULL, tbl TEXT NOT NULL, record_key TEXT NOT NULL, PRIMARY KEY (seq, row));
CREATE TABLE IF NOT EXISTS rejects (
    seq INTEGER NOT NULL, tbl TEXT NOT NULL, file TEXT NOT NULL, row INTEGER,
    col TEXT NOT NULL, expected TEXT NOT NULL, found TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uses (
    id INTEGER PRIMARY KEY, used_at TEXT NOT NULL, purpose TEXT NOT NULL,
    head_seq INTEGER NOT NULL, head_hash TEXT NOT NULL);
""" + "".join(
    f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'the field ledger is append-only'); END;\n"
    for t in _TABLES
    for op in ("UPDATE", "DELETE")
)
TRIGGERS = tuple(f"{t}_no_{op}" for t in _TABLES for op in ("update", "delete"))
"""Names of the append-only triggers (``verify-ledger`` checks they are all there)."""


# ------------------------------------------------------------------ records


@dataclass(frozen=True)
class StagedFile:
    """One delivered file, copied into staging and hashed."""

    path: str  # relative POSIX path inside the delivery
    sha256: str
    size: int
    head: str  # hex of its first bytes
    role: str  # a field table's name, "manifest", "media" or "other"


@dataclass(frozen=True)
class StagedDelivery:
    """A delivery copied into staging: who, which day, its files and where the copies are."""

    source: str
    team_id: str
    field_date: dt.date
    files: tuple[StagedFile, ...]
    tree: Path

    def where(self, relative: str) -> str:
        """How a message names one of its files: the delivery as the user named it."""
        return f"{self.source}/{relative}" if relative else self.source


@dataclass(frozen=True)
class EntryRow:
    """One ``entries`` row (its hash is computed by :mod:`xkaohe.field.ledger`)."""

    seq: int
    team_id: str
    field_date: str
    received_at: str
    source: str
    content_hash: str
    records_hash: str
    n_records: int
    prev_hash: str
    entry_hash: str


def role_of(path: str) -> str:
    """What a delivered file is, from where it sits in the delivery."""
    if path in _TABLE_FILES:
        return _TABLE_FILES[path]
    if path in MANIFEST_FILES:
        return "manifest"
    if path.startswith(MEDIA_DIR + "/"):
        return "media"
    return "other"


def object_name(sha256: str, path: str) -> str:
    """``<aa>/<sha256><suffix>``: the content decides the name; the suffix only helps readers."""
    suffix = PurePosixPath(path).suffix.lower()
    suffix = _SAME_SUFFIX.get(suffix, suffix)
    return f"{sha256[:2]}/{sha256}{suffix if suffix in _SUFFIXES else ''}"


# ------------------------------------------------------------------ errors


_STORAGE_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def storage_error(exc: BaseException, where: Path) -> InputError | None:
    """A user-facing error for a read-only or full run folder; None for anything else (a bug)."""
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return InputError(
            Problem(
                str(exc.filename or where),
                None,
                None,
                "a writable run folder with free disk space (nothing was recorded; "
                "fix it and run the command again)",
                exc.strerror or str(exc),
            )
        )
    text = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError) and any(
        w in text for w in ("readonly", "read-only", "disk is full", "unable to open", "disk i/o")
    ):
        return InputError(
            Problem(
                str(where / DATABASE),
                None,
                None,
                "a writable ledger database with free disk space (the open transaction "
                "was rolled back; fix it and run the command again)",
                str(exc),
            )
        )
    return None


# ------------------------------------------------------------------ database


class Ledger:
    """The ledger folder of one run: its database and object store."""

    def __init__(self, root: Path, connection: sqlite3.Connection) -> None:
        self.root = root
        self.db = connection

    # --- opening

    @staticmethod
    def folder(run: Path) -> Path:
        return run / LEDGER

    @staticmethod
    def exists(run: Path) -> bool:
        return (run / LEDGER / DATABASE).is_file()

    @classmethod
    def create(cls, run: Path) -> Ledger:
        """Open the run's ledger for writing, creating it (and its schema) if needed."""
        root = cls.folder(run)
        for d in (root, root / OBJECTS, root / STAGING):
            d.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(root / DATABASE, isolation_level=None, timeout=60.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        # one transaction: a kill while the ledger is created leaves no half schema
        meta = f"INSERT OR IGNORE INTO meta VALUES ('format', '{FORMAT}');"
        db.executescript(f"BEGIN IMMEDIATE;\n{_DDL}\n{meta}\nCOMMIT;")
        return cls(root, db)

    @classmethod
    def open_read(cls, run: Path) -> Ledger:
        """Open an existing ledger read-only (verify, reports, footers)."""
        root = cls.folder(run)
        path = root / DATABASE
        if not path.is_file():
            raise InputError(
                Problem(str(path), None, None, "a field ledger (run xkaohe ingest)", "no such file")
            )
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # A WAL database in a read-only folder without its -shm file: read it as is.
            db = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)
        return cls(root, db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back otherwise."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def head(self) -> tuple[int, str]:
        """``(seq, entry_hash)`` of the last entry, ``(0, GENESIS)`` for an empty ledger."""
        row = self.db.execute("SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1")
        found = row.fetchone()
        return (int(found[0]), str(found[1])) if found else (0, GENESIS)

    def find_identical(self, team_id: str, field_date: str, content_hash: str) -> int | None:
        row = self.db.execute(
            "SELECT seq FROM entries WHERE team_id=? AND field_date=? AND content_hash=? "
            "ORDER BY seq LIMIT 1",
            (team_id, field_date, content_hash),
        ).fetchone()
        return int(row[0]) if row else None

    def insert(
        self,
        entry: EntryRow,
        files: list[tuple[str, str, int, str, str]],
        records: pl.DataFrame,
        media: pl.DataFrame,
        rejects: pl.DataFrame,
    ) -> None:
        """Write one entry and its rows (inside :meth:`transaction`)."""
        self.db.execute(
            "INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                entry.seq,
                entry.team_id,
                entry.field_date,
                entry.received_at,
                entry.source,
                entry.content_hash,
                entry.records_hash,
                entry.n_records,
                entry.prev_hash,
                entry.entry_hash,
            ),
        )
        seq = entry.seq
        self.db.executemany("INSERT INTO files VALUES (?,?,?,?,?,?)", [(seq, *f) for f in files])
        self.db.executemany(
            "INSERT INTO records VALUES (?,?,?,?,?,?)",
            (
                (seq, *r)
                for r in records.select(
                    "table", "record_key", "record_hash", "content", "row"
                ).iter_rows()
            ),
        )
        self.db.executemany(
            "INSERT INTO media VALUES (?,?,?,?,?,?,?)",
            (
                (seq, *r)
                for r in media.select(
                    "row", "file", "sha256", "kind", "table", "record_key"
                ).iter_rows()
            ),
        )
        self.db.executemany(
            "INSERT INTO rejects VALUES (?,?,?,?,?,?,?)",
            (
                (seq, *r)
                for r in rejects.select(
                    "table", "file", "row", "column", "expected", "found"
                ).iter_rows()
            ),
        )

    def add_use(self, purpose: str, seq: int, entry_hash: str, when: dt.datetime) -> None:
        """Record that the view at entry ``seq`` was used (results computed, reports rendered)."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO uses (used_at, purpose, head_seq, head_hash) VALUES (?,?,?,?)",
                (when.isoformat(timespec="seconds"), purpose, seq, entry_hash),
            )

    # --- reading

    def _frame(self, query: str, schema: dict[str, Any], *args: Any) -> pl.DataFrame:
        rows = self.db.execute(query, args).fetchall()
        return pl.DataFrame(rows, schema=schema, orient="row")

    def entries(self) -> pl.DataFrame:
        """Every entry in ``seq`` order, as stored."""
        return self._frame(
            "SELECT * FROM entries ORDER BY seq",
            {
                "seq": pl.Int64,
                "team_id": pl.String,
                "field_date": pl.String,
                "received_at": pl.String,
                "source": pl.String,
                "content_hash": pl.String,
                "records_hash": pl.String,
                "n_records": pl.Int64,
                "prev_hash": pl.String,
                "entry_hash": pl.String,
            },
        ).with_columns(pl.col("field_date").str.to_date(strict=False))

    def records(self) -> pl.DataFrame:
        """Every record version: seq, table, record_key, record_hash, content, row."""
        return self._frame(
            "SELECT seq, tbl, record_key, record_hash, content, row FROM records "
            "ORDER BY seq, tbl, record_key",
            {
                "seq": pl.Int64,
                "table": pl.String,
                "record_key": pl.String,
                "record_hash": pl.String,
                "content": pl.String,
                "row": pl.Int64,
            },
        )

    def records_index(self) -> pl.DataFrame:
        """Every record version without its content: seq, table, record_key, record_hash."""
        return self._frame(
            "SELECT seq, tbl, record_key, record_hash FROM records",
            {
                "seq": pl.Int64,
                "table": pl.String,
                "record_key": pl.String,
                "record_hash": pl.String,
            },
        )

    def versions_of(self, keys: list[tuple[str, str]]) -> pl.DataFrame:
        """The stored versions of the given ``(table, record_key)``s, with their entry's
        seq, team, field day and content hash."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (tbl TEXT, record_key TEXT)")
        self.db.execute("DELETE FROM temp.wanted")
        self.db.executemany("INSERT INTO temp.wanted VALUES (?,?)", keys)
        return self._frame(
            "SELECT r.seq, r.tbl, r.record_key, r.record_hash, e.team_id, e.field_date, "
            "e.content_hash FROM temp.wanted w JOIN records r "
            "ON r.tbl = w.tbl AND r.record_key = w.record_key JOIN entries e ON e.seq = r.seq",
            {
                "seq": pl.Int64,
                "table": pl.String,
                "record_key": pl.String,
                "record_hash": pl.String,
                "team_id": pl.String,
                "field_date": pl.String,
                "content_hash": pl.String,
            },
        )

    def record_content(self, seq: int, table: str, record_key: str) -> str:
        row = self.db.execute(
            "SELECT content FROM records WHERE seq=? AND tbl=? AND record_key=?",
            (seq, table, record_key),
        ).fetchone()
        return str(row[0])

    def entry(self, seq: int) -> EntryRow:
        row = self.db.execute("SELECT * FROM entries WHERE seq=?", (seq,)).fetchone()
        return EntryRow(*row)

    def files(self) -> pl.DataFrame:
        return self._frame(
            "SELECT * FROM files ORDER BY seq, path",
            {
                "seq": pl.Int64,
                "path": pl.String,
                "sha256": pl.String,
                "size": pl.Int64,
                "role": pl.String,
                "head": pl.String,
            },
        )

    def media(self) -> pl.DataFrame:
        return self._frame(
            "SELECT * FROM media ORDER BY seq, row",
            {"seq": pl.Int64, **schemas.MEDIA_ROW_COLUMNS},
        )

    def rejects(self) -> pl.DataFrame:
        return self._frame(
            "SELECT * FROM rejects ORDER BY seq, tbl, row, col",
            {
                "seq": pl.Int64,
                **{k: v for k, v in schemas.REJECT_COLUMNS.items() if k != "county_code"},
            },
        )

    def uses(self) -> pl.DataFrame:
        return self._frame(
            "SELECT * FROM uses ORDER BY id",
            {
                "id": pl.Int64,
                "used_at": pl.String,
                "purpose": pl.String,
                "head_seq": pl.Int64,
                "head_hash": pl.String,
            },
        )

    def triggers(self) -> set[str]:
        rows = self.db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall()
        return {str(r[0]) for r in rows}

    def integrity(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    # --- objects

    def object_path(self, sha256: str, path: str) -> Path:
        return self.root / OBJECTS / object_name(sha256, path)

    def stored_objects(self) -> list[Path]:
        """Every file under ``objects/`` (for the check that nothing was added)."""
        return sorted(p for p in (self.root / OBJECTS).rglob("*") if p.is_file() or p.is_symlink())

    def staging_leftovers(self) -> list[Path]:
        staging = self.root / STAGING
        return sorted(staging.iterdir()) if staging.is_dir() else []


# ------------------------------------------------------------------ staging


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


def day_heads(run: Path) -> list[tuple[str, int, str]]:
    """``(field_date, seq, entry_hash)`` of the last entry of each field day (report footers)."""
    if not Ledger.exists(run):
        return []
    with Ledger.open_read(run) as ledger:
        rows = ledger.db.execute(
            "SELECT e.field_date, e.seq, e.entry_hash FROM entries e JOIN "
            "(SELECT field_date, max(seq) AS seq FROM entries GROUP BY field_date) last "
            "ON e.seq = last.seq ORDER BY e.field_date"
        ).fetchall()
    return [(str(d), int(s), str(h)) for d, s, h in rows]


__all__ = [
    "DATABASE",
    "GENESIS",
    "LEDGER",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_TOTAL_BYTES",
    "MAX_ZIP_RATIO",
    "TRIGGERS",
    "EntryRow",
    "Ledger",
    "StagedDelivery",
    "StagedFile",
    "day_heads",
    "discard",
    "flush_to_disk",
    "object_name",
    "publish",
    "read_delivery",
    "read_stored_table",
    "recover",
    "role_of",
    "sha256_of",
    "stage_delivery",
    "storage_error",
    "write_deliveries",
]
