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
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem

LEDGER = "ledger"
DATABASE = "ledger.sqlite"
OBJECTS = "objects"
STAGING = "staging"
FORMAT = "xkaohe-ledger-1"
GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""


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
    "TRIGGERS",
    "EntryRow",
    "Ledger",
    "StagedDelivery",
    "StagedFile",
    "day_heads",
    "object_name",
    "role_of",
    "storage_error",
]
