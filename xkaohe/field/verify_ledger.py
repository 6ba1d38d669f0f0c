"""``xkaohe verify-ledger``: recompute the chain and every stored hash (plan 八(二)).

Names each edited, deleted, reordered or inserted entry or file, and compares
the chain heads a run recorded (in its results and reports) with the ledger's.
The chain itself is defined in :mod:`xkaohe.field.ledger`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe.errors import InputError
from xkaohe.field.ledger import (
    SPECS,
    content_hash,
    entry_hash,
    key_text,
    media_rows,
    record_hash,
    records_hash,
    table_records,
)
from xkaohe.field.week import day_heads
from xkaohe.io.deliveries import read_stored_table, sha256_of
from xkaohe.io.ledger import GENESIS, TRIGGERS, EntryRow, Ledger

# ------------------------------------------------------------------ verify


@dataclass(frozen=True)
class Verification:
    """What verify-ledger found: problems (any one fails it) and notes."""

    problems: list[str]
    notes: list[str]
    entries: int
    files: int
    records: int
    heads: pl.DataFrame


def _label(e: dict[str, Any]) -> str:
    return f"entry {e['seq']} ({e['team_id']} {e['field_date']})"


def _chain_problems(entries: pl.DataFrame, expected: dict[int, str]) -> list[str]:
    """Edited, deleted, reordered or inserted entries, from the stored hashes and links."""
    rows = entries.sort("seq").to_dicts()
    by_hash = {r["entry_hash"]: r for r in rows}
    out = []
    seqs = [r["seq"] for r in rows]
    missing = sorted(set(range(1, (max(seqs) if seqs else 0) + 1)) - set(seqs))
    for s in missing:
        out.append(f"entry {s} is missing: it was deleted from the ledger")
    for r in rows:
        if expected[r["seq"]] != r["entry_hash"]:
            out.append(f"{_label(r)} was edited: its content no longer matches its stored hash")
    claimed: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        claimed.setdefault(r["prev_hash"], []).append(r)
    for followers in claimed.values():
        if len(followers) > 1:
            names = " and ".join(_label(f) for f in followers)
            out.append(f"{names} both link to the same predecessor: one of them was inserted")
    for before, r in zip([None, *rows[:-1]], rows, strict=True):
        want = GENESIS if before is None else before["entry_hash"]
        if r["prev_hash"] == want:
            continue
        if before is not None and before["seq"] != r["seq"] - 1:
            continue  # already named as missing
        if r["prev_hash"] in by_hash:
            out.append(
                f"{_label(r)} is out of order: it links to {_label(by_hash[r['prev_hash']])}, "
                f"not to the entry stored before it (entries were reordered or inserted)"
            )
        elif r["prev_hash"] == GENESIS:
            out.append(f"{_label(r)} claims to be the first entry: entries were inserted before it")
        else:
            what = "the first entry" if before is None else _label(before)
            out.append(
                f"{_label(r)} links to an entry that is not in the ledger: {what} was "
                "changed or replaced after it was written, or an entry was deleted"
            )
    return out


def verify(ledger: Ledger, known_heads: Sequence[tuple[str, int, str]] = ()) -> Verification:
    """Recompute every record hash, entry hash, chain link and stored file hash.

    ``known_heads``: heads recorded elsewhere (results manifests, uses) as
    ``(where, seq, entry_hash)``; each must still be in the chain.
    """
    problems: list[str] = []
    notes: list[str] = []
    integrity = ledger.integrity()
    if integrity != "ok":
        problems.append(f"the database file is damaged: {integrity}")
    absent = sorted(set(TRIGGERS) - ledger.triggers())
    if absent:
        problems.append("append-only triggers were removed: " + ", ".join(absent))
    entries = ledger.entries()
    files = ledger.files()
    records = ledger.records()
    media = ledger.media()
    by_seq_files = {s: g for (s,), g in files.partition_by("seq", as_dict=True).items()}
    by_seq_records = {s: g for (s,), g in records.partition_by("seq", as_dict=True).items()}
    by_seq_media = {s: g for (s,), g in media.partition_by("seq", as_dict=True).items()}
    empty_files = files.head(0)
    expected: dict[int, str] = {}
    for e in entries.to_dicts():
        f = by_seq_files.get(e["seq"], empty_files)
        rec = by_seq_records.get(e["seq"], records.head(0))
        row = EntryRow(
            **{**e, "field_date": e["field_date"].isoformat() if e["field_date"] else ""}
        )
        expected[e["seq"]] = entry_hash(row, f.select("path", "sha256", "size", "role").iter_rows())
        bad = [
            f"{t} {key_text(k)}"
            for t, k, h, c in rec.select(
                "table", "record_key", "record_hash", "content"
            ).iter_rows()
            if record_hash(t, k, c) != h
        ]
        if bad:
            problems.append(
                f"{_label(e)}: record(s) edited after ingest: {', '.join(bad[:5])}"
                + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            )
        if records_hash(rec) != e["records_hash"] or rec.height != e["n_records"]:
            problems.append(
                f"{_label(e)}: its records were changed, added or deleted "
                f"({rec.height} stored, {e['n_records']} recorded)"
            )
        if content_hash(f.select("path", "sha256").iter_rows()) != e["content_hash"]:
            problems.append(f"{_label(e)}: its list of files was changed")
    problems += _chain_problems(entries, expected)
    hashes = set(entries["entry_hash"].to_list())
    by_seq_hash = dict(zip(entries["seq"].to_list(), entries["entry_hash"].to_list(), strict=True))
    for where, seq, h in known_heads:
        if h not in hashes:
            at = by_seq_hash.get(seq)
            what = "no such entry any more" if at is None else "another entry now has that number"
            problems.append(
                f"{where} recorded the chain head {h[:16]}… (entry {seq}), which is not in the "
                f"ledger: {what} — entries were deleted or rewritten"
            )
    # stored files
    labels = {e["seq"]: _label(e) for e in entries.to_dicts()}
    checked: dict[Path, str | None] = {}
    referenced: set[Path] = set()
    for seq, path, sha in files.select("seq", "path", "sha256").iter_rows():
        obj = ledger.object_path(sha, path)
        referenced.add(obj)
        if obj not in checked:
            checked[obj] = sha256_of(obj) if obj.is_file() else None
        actual = checked[obj]
        label = labels.get(seq, f"entry {seq} (not in the ledger)")
        if actual is None:
            problems.append(f"{label}: stored file {path} ({obj.name}) was deleted")
        elif actual != sha:
            problems.append(
                f"{label}: stored file {path} ({obj.name}) was edited after ingest "
                "(its SHA-256 differs)"
            )
    for obj in ledger.stored_objects():
        if obj not in referenced:
            problems.append(
                f"stored file {obj.relative_to(ledger.root)} is not in the ledger: it was inserted"
            )
        elif obj.stat().st_mode & 0o222:
            notes.append(
                f"stored file {obj.relative_to(ledger.root)} is writable (expected read-only)"
            )
    # what the stored tables say, read again, against the stored records
    for e in entries.to_dicts():
        f = by_seq_files.get(e["seq"], empty_files)
        rec = by_seq_records.get(e["seq"], records.head(0))
        for path, sha, role in f.select("path", "sha256", "role").iter_rows():
            obj = ledger.object_path(sha, path)
            if checked.get(obj) != sha or role not in (*SPECS, "manifest"):
                continue
            try:
                df = read_stored_table(ledger, path, sha, "media" if role == "manifest" else role)
            except InputError as exc:
                problems.append(f"{_label(e)}: stored file {path} cannot be read again: {exc}")
                continue
            if role == "manifest":
                again = media_rows(df).select(
                    "row", "file", "sha256", "kind", "table", "record_key"
                )
                stored = by_seq_media.get(e["seq"], media.head(0)).drop("seq")
                if not again.sort("row").equals(stored.sort("row")):
                    problems.append(f"{_label(e)}: its media rows differ from its stored {path}")
                continue
            again_r = table_records(role, df).select("record_key", "record_hash")
            stored_r = rec.filter(pl.col("table") == role).select("record_key", "record_hash")
            if not again_r.sort("record_key").equals(stored_r.sort("record_key")):
                problems.append(
                    f"{_label(e)}: its {role} records differ from its stored file {path}"
                )
    for leftover in ledger.staging_leftovers():
        notes.append(
            f"an ingest was interrupted ({leftover.name}); run xkaohe ingest again to finish it"
        )
    return Verification(
        problems, notes, entries.height, files.height, records.height, day_heads(entries)
    )


def check_heads(uses: pl.DataFrame) -> list[tuple[str, int, str]]:
    """The chain heads the ledger's own uses recorded (results computed, reports rendered)."""
    return [
        (f"the {p} use of {when}", int(s), str(h))
        for when, p, s, h in uses.select("used_at", "purpose", "head_seq", "head_hash").iter_rows()
    ]


__all__ = [
    "Verification",
    "check_heads",
    "verify",
]
