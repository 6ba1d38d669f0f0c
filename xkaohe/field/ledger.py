"""The field ledger's rules: records, the hash chain, versions and the current view.

Over ~600 lines because records, the chain, versions and corrections are one
definition of what the ledger holds; the week's checks are :mod:`xkaohe.field.week`.

Plan 六(四) (每日需将调查内容填报交叉考核信息系统, 同步上传录音资料和照片),
五(六) (问题次日复核) and 八(二) (不得篡改调查内容及相关数据); DESIGN.md
"Field ledger". Files and SQLite belong to :mod:`xkaohe.io.ledger`; this
module decides what is stored and what it means.

Records. A record is one row of a field table, named by its table's record
key (the ``unique`` columns of :mod:`xkaohe.schemas`). Its canonical content
is the JSON object of its non-empty columns (dates ISO, numbers as Python
writes them, keys sorted); its hash is SHA-256 of table, key and content.
A delivery repeating a key keeps the first row (the field checks reject the
others, as they do today).

Entries. One entry per delivery: team, field day, received time, what was
delivered (the content hash of its files), the hash of each file, one hash per
record, and ``prev_hash`` — the hash of the entry before it. ``entry_hash``
is SHA-256 of all of that, so changing any entry, file or record, or taking
one out, breaks every later link; the hash of the last entry of each day (the
"chain head") is printed in the reports so it can be kept outside the system.

Versions. A delivery is an increment: a record it does not mention is
unchanged; a record it repeats with other content is a new version (a
correction) — nothing is updated in place or deleted. Versions of a record
are ordered by (field day, team, content hash of the delivery): a property of
the deliveries, not of the order they were ingested in, so any ingest order
gives the same current view (the latest version of every record). Two
deliveries of the same day that disagree about one record are listed as a
conflict; a correction dated a later day settles it.

What the ledger proves: that what it holds now is what was ingested, entry by
entry, unless its chain heads differ from the ones recorded outside. It does
not prove that a delivery tells the truth — the media and signal checks
(:mod:`xkaohe.field.week`) only point the supervisors at what to look at.
``xkaohe verify-ledger`` is :mod:`xkaohe.field.verify_ledger`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.field.checks import check_field
from xkaohe.inputs import ROW, Field, Lottery, TableFile
from xkaohe.io.deliveries import discard, flush_to_disk, publish, read_delivery
from xkaohe.io.ledger import MEDIA_DIR, EntryRow, Ledger, StagedDelivery, StagedFile
from xkaohe.io.lottery_files import read_lottery
from xkaohe.io.plan_file import load_plan
from xkaohe.io.run import read_counties
from xkaohe.io.sample_package import read_certificate, read_package
from xkaohe.plan import Plan

SPECS = {s.name: s for s in schemas.FIELD_TABLES}
ORDER = ("field_date", "team_id", "content_hash")
"""How versions of one record are ordered (latest last): intrinsic to the deliveries."""

DATE_COLUMN = {
    s.name: next(c.name for c in s.columns if c.kind == "date")
    for s in schemas.FIELD_TABLES
    if any(c.kind == "date" for c in s.columns)
}
"""The day a row is about (a visit, an interview, a check, a problem raised): its first date."""

_RECORD_SCHEMA = {
    "table": pl.String,
    "record_key": pl.String,
    "record_hash": pl.String,
    "content": pl.String,
    "row": pl.Int64,
}
_CHANGE_SCHEMA = {
    "table": pl.String,
    "record_key": pl.String,
    "column": pl.String,
    "old": pl.String,
    "new": pl.String,
    "seq": pl.Int64,
    "team_id": pl.String,
    "field_date": pl.Date,
    "old_seq": pl.Int64,
    "old_team_id": pl.String,
    "old_field_date": pl.Date,
    "reviewed": pl.Boolean,
    "in_results": pl.Boolean,
    "in_report": pl.Boolean,
    "review_result": pl.Boolean,
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return float(value)
    return value


def key_text(record_key: str) -> str:
    """A record key as people read it: its values joined by ``/``."""
    return schemas.KEY_SEP.join("" if v is None else str(v) for v in json.loads(record_key))


def key_expr(column: str = "record_key") -> pl.Expr:
    """:func:`key_text` for a column of record keys."""
    return (
        pl.col(column)
        .str.json_decode(pl.List(pl.String))
        .list.eval(pl.element().fill_null(""))
        .list.join(schemas.KEY_SEP)
    )


# ------------------------------------------------------------------ records


def table_records(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """One canonical record per key of a field table (the first row of a repeated key).

    Returns
    -------
    pl.DataFrame
        ``table, record_key`` (JSON array of the key values), ``record_hash``,
        ``content`` (canonical JSON) and ``row`` (the row in its file).
    """
    spec = SPECS[table]
    if df.height == 0:
        return pl.DataFrame(schema=_RECORD_SCHEMA)
    key = list(spec.unique)
    first = (
        df.filter(pl.struct(key).is_first_distinct())
        if len(key) > 1
        else df.filter(pl.col(key[0]).is_first_distinct())
    )
    names = [c.name for c in spec.columns if c.name in first.columns]
    keys, hashes, contents = [], [], []
    for row in first.select(names).iter_rows(named=True):
        k = _json([_plain(row[c]) for c in key])
        content = _json({c: _plain(v) for c, v in row.items() if v is not None})
        keys.append(k)
        contents.append(content)
        hashes.append(_sha(f"{table}\n{k}\n{content}"))
    return pl.DataFrame(
        {
            "table": [table] * len(keys),
            "record_key": keys,
            "record_hash": hashes,
            "content": contents,
            "row": first[ROW] if ROW in first.columns else range(2, 2 + len(keys)),
        },
        schema=_RECORD_SCHEMA,
    )


def field_records(field: Field) -> pl.DataFrame:
    """The canonical records of every table of ``field``."""
    return pl.concat([table_records(name, df) for name, df in field.tables().items()])


def record_hash(table: str, record_key: str, content: str) -> str:
    return _sha(f"{table}\n{record_key}\n{content}")


def records_hash(records: pl.DataFrame) -> str:
    """One hash over a delivery's record hashes (order-free)."""
    lines = sorted(
        f"{t}\t{k}\t{h}"
        for t, k, h in records.select("table", "record_key", "record_hash").iter_rows()
    )
    return _sha("\n".join(lines))


def content_hash(files: Iterable[tuple[str, str]]) -> str:
    """What a delivery is: its files' paths and hashes (an identical re-delivery matches)."""
    return _sha("\n".join(f"{p}\t{h}" for p, h in sorted(files)))


def entry_hash(entry: EntryRow, files: Iterable[tuple[str, str, int, str]]) -> str:
    """SHA-256 of an entry's fields, its files and its link to the entry before it."""
    body = {
        "seq": entry.seq,
        "team_id": entry.team_id,
        "field_date": entry.field_date,
        "received_at": entry.received_at,
        "source": entry.source,
        "content_hash": entry.content_hash,
        "records_hash": entry.records_hash,
        "n_records": entry.n_records,
        "files": sorted([list(f) for f in files]),
        "prev_hash": entry.prev_hash,
    }
    return _sha(_json(body))


def media_rows(manifest: pl.DataFrame | None) -> pl.DataFrame:
    """The manifest's rows as stored: row, file (path in the delivery), sha256, kind, table, key."""
    schema = schemas.MEDIA_ROW_COLUMNS
    if manifest is None or manifest.height == 0:
        return pl.DataFrame(schema=schema)
    return manifest.select(
        pl.col(ROW).alias("row"),
        pl.concat_str(
            pl.lit(MEDIA_DIR + "/"), pl.col("file").str.strip_prefix(MEDIA_DIR + "/")
        ).alias("file"),
        pl.col("sha256").str.to_lowercase(),
        "kind",
        "table",
        "record_key",
    ).cast(schema)  # type: ignore[arg-type]


def file_type(head_hex: str) -> str:
    """A file's type from its first bytes: wav, mp3, amr, m4a, mp4, jpeg, png, heic, unknown."""
    head = bytes.fromhex(head_hex)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06
    ):
        return "mp3"
    if head[:5] == b"#!AMR":
        return "amr"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "heic"
        return "m4a" if brand == b"M4A " else "mp4"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return "unknown"


# ------------------------------------------------------------------ ingest


@dataclass(frozen=True)
class Context:
    """What the field checks and the signals compare deliveries with."""

    plan: Plan
    counties: pl.DataFrame
    sample: dict[str, pl.DataFrame]
    lottery: Lottery | None = None


def load_context(run: Path) -> Context:
    """What a run's deliveries are checked against: the plan and frame its sample was drawn
    with (from the sample certificate), its counties, its sample and its lottery (if drawn).

    Raises
    ------
    InputError
        The run has no sample package yet (run ``xkaohe sample`` first).
    """
    sample_dir = run / "sample"
    cert = read_certificate(sample_dir)
    try:
        frame_dir = Path(cert["frame"]["directory"])
        if not frame_dir.is_dir():
            frame_dir = (sample_dir / cert["frame"]["directory_relative"]).resolve()
        plan_path = Path(cert["plan"]["path"])
    except (KeyError, TypeError) as exc:
        raise InputError(
            Problem(
                str(sample_dir / "certificate.json"),
                None,
                str(exc),
                "a certificate written by xkaohe sample",
                "a missing or malformed field",
            )
        ) from None
    lottery_dir = run / "lottery"
    return Context(
        load_plan(plan_path),
        read_counties(frame_dir),
        read_package(sample_dir),
        read_lottery(lottery_dir) if (lottery_dir / "certificate.json").is_file() else None,
    )


@dataclass(frozen=True)
class Prepared:
    """A staged delivery, read and checked, ready to be recorded."""

    delivery: StagedDelivery
    records: pl.DataFrame
    media: pl.DataFrame
    rejects: pl.DataFrame
    content_hash: str
    records_hash: str


@dataclass(frozen=True)
class IngestResult:
    """What one delivery did to the ledger."""

    source: str
    team_id: str
    field_date: dt.date
    seq: int  # its entry, or the identical earlier one
    entry_hash: str
    identical: bool  # True: the same delivery was already recorded; nothing changed
    records: int
    new: int
    corrected: int
    unchanged: int
    superseded: int  # versions older than the current one (a late delivery)
    changes: pl.DataFrame  # cells this delivery changed in the current view
    rejects: pl.DataFrame
    media: int


def _file_rows(files: Sequence[StagedFile]) -> list[tuple[str, str, int, str, str]]:
    return [(f.path, f.sha256, f.size, f.role, f.head) for f in files]


def prepare(delivery: StagedDelivery, context: Context) -> Prepared:
    """Read a staged delivery with the field reading rules and check it as the field checks do.

    Raises
    ------
    InputError
        A cell that cannot be read (file, row, column named).
    """
    field, manifest = read_delivery(delivery)
    checked = check_field(field, context.counties, context.sample, context.plan)
    records = field_records(field)
    return Prepared(
        delivery,
        records,
        media_rows(manifest),
        checked.rejects,
        content_hash((f.path, f.sha256) for f in delivery.files),
        records_hash(records),
    )


def _cells(old: str, new: str) -> list[tuple[str, str | None, str | None]]:
    a, b = json.loads(old), json.loads(new)
    out = []
    for col in sorted(set(a) | set(b)):
        if a.get(col) != b.get(col):
            out.append((col, _cell(a.get(col)), _cell(b.get(col))))
    return out


def _cell(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _summarise(ledger: Ledger, p: Prepared, seq: int) -> tuple[int, int, int, int, pl.DataFrame]:
    """new, corrected, unchanged, superseded and the cell changes of one delivery."""
    d = p.delivery
    mine = (d.field_date.isoformat(), d.team_id, p.content_hash)
    stored = ledger.versions_of(list(p.records.select("table", "record_key").iter_rows()))
    latest = (
        stored.filter(pl.col("seq") != seq)
        .sort("table", "record_key", *ORDER)
        .unique(["table", "record_key"], keep="last", maintain_order=True)
    )
    known = {
        (t, k): (h, s, (fd, tm, ch))
        for t, k, h, s, fd, tm, ch in latest.select(
            "table", "record_key", "record_hash", "seq", *ORDER
        ).iter_rows()
    }
    new = corrected = unchanged = superseded = 0
    rows: list[dict[str, Any]] = []
    for t, k, h, content in p.records.select(
        "table", "record_key", "record_hash", "content"
    ).iter_rows():
        if (t, k) not in known:
            new += 1
            continue
        old_hash, old_seq, old_order = known[(t, k)]
        if mine < old_order:
            superseded += 1
        elif h == old_hash:
            unchanged += 1
        else:
            corrected += 1
            rows += _change_rows(
                t,
                k,
                ledger.record_content(old_seq, t, k),
                content,
                seq=seq,
                team_id=d.team_id,
                field_date=d.field_date,
                old_seq=old_seq,
                old_team_id=old_order[1],
                old_field_date=dt.date.fromisoformat(old_order[0]),
                reviewed=None,
                in_results=None,
                in_report=None,
            )
    return new, corrected, unchanged, superseded, pl.DataFrame(rows, schema=_CHANGE_SCHEMA)


def _record(ledger: Ledger, p: Prepared, now: Callable[[], dt.datetime]) -> IngestResult:
    """Write one prepared delivery as the next entry (inside a transaction), or find its twin."""
    d = p.delivery
    media = sum(f.role == "media" for f in d.files)
    same = ledger.find_identical(d.team_id, d.field_date.isoformat(), p.content_hash)
    if same is not None:
        n = p.records.height
        empty = pl.DataFrame(schema=_CHANGE_SCHEMA)
        twin = ledger.entry(same).entry_hash
        return IngestResult(
            d.source,
            d.team_id,
            d.field_date,
            same,
            twin,
            True,
            n,
            0,
            0,
            n,
            0,
            empty,
            p.rejects,
            media,
        )
    seq, prev = ledger.head()
    files = _file_rows(d.files)
    draft = EntryRow(
        seq + 1,
        d.team_id,
        d.field_date.isoformat(),
        now().isoformat(timespec="seconds"),
        d.source,
        p.content_hash,
        p.records_hash,
        p.records.height,
        prev,
        "",
    )
    entry = replace(draft, entry_hash=entry_hash(draft, (f[:4] for f in files)))
    ledger.insert(entry, files, p.records, p.media, p.rejects)
    new, corrected, unchanged, superseded, cells = _summarise(ledger, p, entry.seq)
    return IngestResult(
        d.source,
        d.team_id,
        d.field_date,
        entry.seq,
        entry.entry_hash,
        False,
        p.records.height,
        new,
        corrected,
        unchanged,
        superseded,
        cells,
        p.rejects,
        media,
    )


def ingest(
    ledger: Ledger,
    deliveries: Sequence[StagedDelivery],
    context: Context,
    now: Callable[[], dt.datetime],
    pause: Callable[[str], None] | None = None,
) -> list[IngestResult]:
    """Record each staged delivery in its own transaction, in the order given.

    Every delivery is read and checked before anything is written: an
    unreadable cell anywhere stops the whole command with nothing recorded.
    ``pause`` is called at the named points ("checked", "written",
    "committed", "published") — the fault tests kill the process there.
    """
    step = pause or (lambda point: None)
    prepared = [prepare(d, context) for d in deliveries]
    flush_to_disk(deliveries)
    step("checked")
    out = []
    for p in prepared:
        with ledger.transaction():
            result = _record(ledger, p, now)
            if not result.identical:
                step("written")
        if result.identical:
            discard(p.delivery)
        else:
            step("committed")
            publish(ledger, p.delivery)
            step("published")
        out.append(result)
    return out


# ------------------------------------------------------------------ versions


def versions(ledger: Ledger, as_of: dt.date | None = None) -> pl.DataFrame:
    """Every record version with its content and entry (entries of days up to ``as_of``)."""
    entries = ledger.entries().select("seq", "team_id", "field_date", "content_hash", "source")
    out = ledger.records().join(entries, on="seq", how="left")
    if as_of is not None:
        out = out.filter(pl.col("field_date") <= as_of)
    return out.sort("table", "record_key", *ORDER)


def current(versions: pl.DataFrame) -> pl.DataFrame:
    """The latest version of every record (``versions`` as :func:`versions` returns it)."""
    return versions.sort("table", "record_key", *ORDER).unique(
        ["table", "record_key"], keep="last", maintain_order=True
    )


# dates stay ISO text in a record's canonical content
_DTYPES = schemas.KIND_DTYPES | {"date": pl.String}
_META = {
    "record_key": "_key",
    "seq": "_seq",
    "team_id": "_by",
    "field_date": "_day",
    "row": ROW,
}


def decode(versions: pl.DataFrame, table: str) -> pl.DataFrame:
    """The versions of one table with their content as typed columns.

    Besides the table's columns: ``_key`` (record key), ``_seq`` (entry),
    ``_by`` (the delivering team), ``_day`` (the delivery's field day) and
    ``_row`` (the row in the delivered file).
    """
    spec = SPECS[table]
    struct = pl.Struct({c.name: _DTYPES[c.kind] for c in spec.columns})
    part = versions.filter(pl.col("table") == table).sort("record_key", *ORDER)
    out = part.select(
        *[pl.col(k).alias(v) for k, v in _META.items()],
        pl.col("content").str.json_decode(struct).alias("_c"),
    ).unnest("_c")
    return out.with_columns(
        [pl.col(c.name).str.to_date() for c in spec.columns if c.kind == "date"]
    )


def as_field(view: pl.DataFrame) -> Field:
    """The current view as a :class:`~xkaohe.inputs.Field` (what indicators read).

    ``_row`` is each record's row in the file it was delivered in; the file of
    each table is named after the view and carries the hash of its records.
    """
    tables: dict[str, pl.DataFrame] = {}
    files = []
    for spec in schemas.FIELD_TABLES:
        tables[spec.name] = decode(view, spec.name).select(ROW, *[c.name for c in spec.columns])
        part = view.filter(pl.col("table") == spec.name)
        files.append(TableFile(spec.name, Path(f"{spec.name} (field ledger)"), records_hash(part)))
    return Field(**tables, files=tuple(files))


def disagreements(view: pl.DataFrame, folder: pl.DataFrame, limit: int = 5) -> list[str]:
    """How a field folder's records differ from the ledger's current view (empty: they agree)."""
    a = view.select("table", "record_key", pl.col("record_hash").alias("ledger"))
    b = folder.select("table", "record_key", pl.col("record_hash").alias("folder"))
    both = a.join(b, on=["table", "record_key"], how="full", coalesce=True)
    out = []
    for what, mask in (
        ("only in the ledger", pl.col("folder").is_null()),
        ("only in the field folder", pl.col("ledger").is_null()),
        ("with other content", pl.col("ledger") != pl.col("folder")),
    ):
        rows = both.filter(mask).sort("table", "record_key")
        if rows.height:
            shown = ", ".join(
                f"{t} {key_text(k)}"
                for t, k in rows.select("table", "record_key").head(limit).iter_rows()
            )
            more = f" and {rows.height - limit} more" if rows.height > limit else ""
            out.append(f"{rows.height} record(s) {what}: {shown}{more}")
    return out


# ------------------------------------------------------------------ changes


def _reviewed(
    table: str, old_content: str, new_date: dt.date, old_date: dt.date, plan: Plan
) -> bool:
    """Had the old value been reviewed when it was corrected?

    A problem: its old version carried a review outcome (五(六)) dated no later
    than the correction. Any other record: the correction came after the
    next-day review of the day it was delivered (``review.days_to_review``).
    """
    if table == "problems":
        old = json.loads(old_content)
        reviewed_on = old.get("review_date")
        return old.get("review_outcome") in ("confirmed", "dismissed") and (
            reviewed_on is None or dt.date.fromisoformat(reviewed_on) <= new_date
        )
    return (new_date - old_date).days > plan.review.days_to_review


_REVIEW_COLUMNS = frozenset({"review_date", "review_outcome"})


def _review_result(table: str, old_content: str, cells: list[tuple[str, Any, Any]]) -> bool:
    """Is this change a pending problem's review result (五(六)), not a correction?"""
    return (
        table == "problems"
        and json.loads(old_content).get("review_outcome") in (None, "pending")
        and {c for c, _, _ in cells} <= _REVIEW_COLUMNS
    )


def changes(versions: pl.DataFrame, uses: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Every correction: record, cell, old -> new, which delivery and team, and whether the old
    value had been reviewed, used in computed results, or used in a rendered report.
    ``review_result``: the change only fills in a pending problem's review (not a correction).

    ``uses``: the ledger's ``uses`` rows (purpose "results" or "report", head_seq).
    """
    v = versions.sort("table", "record_key", *ORDER).with_columns(
        [
            pl.col(c).shift(1).over("table", "record_key").alias(f"old_{c}")
            for c in ("record_hash", "content", "seq", "team_id", "field_date")
        ]
    )
    changed = v.filter(
        pl.col("old_record_hash").is_not_null()
        & (pl.col("record_hash") != pl.col("old_record_hash"))
    )
    if changed.height == 0:
        return pl.DataFrame(schema=_CHANGE_SCHEMA)
    history: dict[tuple[str, str], list[tuple[int, tuple[Any, ...], str]]] = {}
    keys = changed.select("table", "record_key").unique()
    for t, k, s, fd, tm, ch, h in (
        versions.join(keys, on=["table", "record_key"])
        .select(
            "table", "record_key", "seq", "field_date", "team_id", "content_hash", "record_hash"
        )
        .iter_rows()
    ):
        history.setdefault((t, k), []).append((s, (fd, tm, ch), h))
    heads = {
        purpose: sorted(uses.filter(pl.col("purpose") == purpose)["head_seq"].to_list())
        for purpose in ("results", "report")
    }

    def seen(t: str, k: str, old_hash: str, purpose: str) -> bool:
        for n in heads[purpose]:
            visible = [x for x in history[(t, k)] if x[0] <= n]
            if visible and max(visible, key=lambda x: x[1])[2] == old_hash:
                return True
        return False

    rows = []
    for r in changed.iter_rows(named=True):
        t, k = r["table"], r["record_key"]
        reviewed = _reviewed(t, r["old_content"], r["field_date"], r["old_field_date"], plan)
        in_results = seen(t, k, r["old_record_hash"], "results")
        in_report = seen(t, k, r["old_record_hash"], "report")
        rows += _change_rows(
            t,
            k,
            r["old_content"],
            r["content"],
            seq=r["seq"],
            team_id=r["team_id"],
            field_date=r["field_date"],
            old_seq=r["old_seq"],
            old_team_id=r["old_team_id"],
            old_field_date=r["old_field_date"],
            reviewed=reviewed,
            in_results=in_results,
            in_report=in_report,
        )
    return pl.DataFrame(rows, schema=_CHANGE_SCHEMA).sort(
        "field_date", "team_id", "table", "record_key", "seq", "column"
    )


def _change_rows(
    table: str, key: Any, old_content: str, content: str, **about: Any
) -> list[dict[str, Any]]:
    """One row per changed cell of a corrected record (``_CHANGE_SCHEMA``).

    Where, old -> new, what the review made of it, and ``about``: which
    delivery, and what the old value was already used for.
    """
    cells = _cells(old_content, content)
    result = _review_result(table, old_content, cells)
    return [
        {"table": table, "record_key": key_text(key), "column": col, "old": a, "new": b}
        | about
        | {"review_result": result}
        for col, a, b in cells
    ]


def conflicts(versions: pl.DataFrame) -> pl.DataFrame:
    """Records two deliveries of the same day disagree about (the order key decides; a
    correction dated a later day should settle it)."""
    return (
        versions.group_by("table", "record_key", "field_date")
        .agg(
            pl.col("record_hash").n_unique().alias("versions"),
            pl.col("team_id").unique().sort().str.join(", ").alias("teams"),
            pl.col("seq").sort().alias("entries"),
        )
        .filter(pl.col("versions") > 1)
        .with_columns(key_expr())
        .sort("field_date", "table", "record_key")
    )


__all__ = [
    "DATE_COLUMN",
    "ORDER",
    "Context",
    "IngestResult",
    "Prepared",
    "as_field",
    "changes",
    "conflicts",
    "content_hash",
    "current",
    "decode",
    "disagreements",
    "entry_hash",
    "field_records",
    "file_type",
    "ingest",
    "key_expr",
    "key_text",
    "load_context",
    "media_rows",
    "prepare",
    "record_hash",
    "records_hash",
    "table_records",
    "versions",
]
