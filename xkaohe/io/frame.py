"""Load a registry extract (the frame) and check that its tables agree.

Reading rules are those of :mod:`xkaohe.io.tables`; on top, the cross-table
checks DESIGN.md implies: every village in a known county, every household in
a known village, every project in a known county (and village), every
beneficiary a known project and household. All problems of all tables are
raised together as one :class:`~xkaohe.errors.InputError`.

A draw reads only a few thousand villages' households whole: given
``households_wanted``, the other four tables are read first, they say which
households the draw needs, and one streaming pass over the households file
checks every row and keeps only those (issue 16: 30 million households in one
pass and under 4 GB). Whatever the pass finds falls back on the whole reading,
so messages and rows stay those of the whole reading.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW, Frame, HouseholdsWanted, TableFile
from xkaohe.io.columns import NO_MAP, ColumnMap, header_key
from xkaohe.io.files import sha256_file
from xkaohe.io.tables import (
    find_table,
    header_keys,
    in_sheet,
    is_id_column,
    may_be_refused,
    never_refused,
    parse_raw,
    read_tables,
    sheet_of,
    shorter_ids,
    tidy_raw,
)
from xkaohe.io.workbooks import SHEET, RawTable

# What drawing a sample needs (issue 15: a column a command does not use never
# blocks it): the households' ID numbers are not part of it, nor any project
# column beyond those the draw and the field lists carry; the beneficiaries
# only by their key.
SAMPLING_COLUMNS: dict[str, frozenset[str]] = {
    "households": frozenset(c.name for c in schemas.HOUSEHOLDS.columns) - {"head_id_number"},
    "projects": frozenset(
        {"project_id", "county_code", "village_code", "kind", "name", "funds_yuan"}
    ),
    "project_beneficiaries": frozenset(schemas.PROJECT_BENEFICIARIES.key),
}
INDICATOR_COLUMNS: dict[str, frozenset[str]] = SAMPLING_COLUMNS
"""What ``xkaohe indicators`` reads of the frame (its projects come from the sample)."""


@dataclass(frozen=True)
class _Streamed:
    """What one pass over a clean households CSV gives: the wanted rows, as text under the
    file's headers (with ``_row``), every village code used and every beneficiary found."""

    rows: pl.DataFrame
    villages: pl.Series
    beneficiaries: pl.Series


def _unknown(
    child: pl.DataFrame, column: str, parent: pl.Series, file: str, label: str, expected: str
) -> list[Problem]:
    # Compare the distinct values first: 30 million households have only
    # 128,000 village codes, and a join over all rows would copy gigabytes.
    values = child[column].unique().drop_nulls()
    if values.len() < parent.len():  # e.g. beneficiaries against 30 million households
        known = parent.filter(parent.is_in(values.implode())).unique()
    else:
        known = parent.unique()
    missing = values.filter(~values.is_in(known.implode()))
    keep = [sheet_of(child), pl.col(ROW), pl.col(column)]
    bad = child.head(0).select(keep)
    if missing.len():
        bad = child.select(keep).filter(pl.col(column).is_in(missing.implode())).sort(SHEET, ROW)
    out = [
        Problem(in_sheet(file, s), int(r), label, expected, f"{v!r}, which is not there")
        for s, r, v in bad.head(20).iter_rows()
    ]
    if bad.height > 20:
        out.append(Problem(file, None, label, expected, f"{bad.height - 20} more unknown values"))
    return out


def check_frame(
    frame: Frame, names: dict[str, str] | None = None, households: bool = True
) -> list[Problem]:
    """Cross-table problems; ``names`` maps table name to the file shown in messages.

    ``households``: False leaves out the two checks that involve the households table
    (the lean reading makes them while streaming through it).
    """
    file = names or {t.name: f"{t.name}.csv" for t in schemas.FRAME_TABLES}
    c, v, h, p, b = (
        frame.counties,
        frame.villages,
        frame.households,
        frame.projects,
        frame.project_beneficiaries,
    )
    problems = _unknown(
        v,
        "county_code",
        c["county_code"],
        file["villages"],
        "county_code",
        "a county_code listed in counties",
    )
    if households:
        problems += _unknown(
            h,
            "village_code",
            v["village_code"],
            file["households"],
            "village_code",
            "a village_code listed in villages",
        )
    problems += _unknown(
        p,
        "county_code",
        c["county_code"],
        file["projects"],
        "county_code",
        "a county_code listed in counties",
    )
    problems += _unknown(
        p,
        "village_code",
        v["village_code"],
        file["projects"],
        "village_code",
        "a village_code listed in villages (or empty for county-level projects)",
    )
    wrong_county = p.join(
        v.select("village_code", pl.col("county_code").alias("_vc")), on="village_code", how="inner"
    ).filter(pl.col("_vc") != pl.col("county_code"))
    problems += [
        Problem(
            in_sheet(file["projects"], s),
            int(r),
            "village_code",
            f"a village of county {cc}",
            f"{vc!r}, a village of county {other}",
        )
        for s, r, cc, vc, other in wrong_county.select(
            sheet_of(wrong_county), ROW, "county_code", "village_code", "_vc"
        )
        .head(20)
        .iter_rows()
    ]
    needs_village = p.filter(
        pl.col("kind").is_in(["village", "household_policy"]) & pl.col("village_code").is_null()
    )
    problems += [
        Problem(
            in_sheet(file["projects"], s),
            int(r),
            "village_code",
            f"a village code for a '{k}' project",
            "empty",
        )
        for s, r, k in needs_village.select(sheet_of(needs_village), ROW, "kind")
        .head(20)
        .iter_rows()
    ]
    problems += _unknown(
        b,
        "project_id",
        p["project_id"],
        file["project_beneficiaries"],
        "project_id",
        "a project_id listed in projects",
    )
    if households:
        problems += _unknown(
            b,
            "household_id",
            h["household_id"],
            file["project_beneficiaries"],
            "household_id",
            "a household_id listed in households",
        )
    return problems


def load_frame(
    directory: str | Path,
    only: dict[str, frozenset[str]] | None = None,
    columns: ColumnMap = NO_MAP,
    households_wanted: Callable[[Frame], HouseholdsWanted] | None = None,
    hashed: bool = True,
) -> Frame:
    """Read and validate the five frame tables of ``directory``.

    ``only`` names, per table, the columns the caller needs (see
    :data:`SAMPLING_COLUMNS`); by default every column, extras included, is kept.
    ``columns``: the user's header map (:mod:`xkaohe.io.columns`).

    ``households_wanted``: for a caller that needs only some households whole (a
    sample draws from a few thousand of 128,000 villages). Given the checked
    frame, it says which households to keep, from the other four tables alone (it
    must not look at ``households``: the lean reading has none yet). Every row is
    still read and checked, in one streaming pass, so 30 million households are
    never in memory whole. When that finds anything to report or to change (a
    refused cell, a padded id, an empty or totals row, an unknown village), or the
    table is not a UTF-8 CSV, the table is read whole instead: the same messages,
    the same rows.

    ``hashed``: False when the caller records no hash of the files (``files`` then carry
    none; hashing a national extract costs seconds).
    """
    if households_wanted is not None:
        lean = _load_lean(Path(directory), only, columns, households_wanted)
        if lean is not None:
            return lean
    tables, files = read_tables(
        directory, schemas.FRAME_TABLES, "frame", only, columns, hashed=hashed
    )
    tables["counties"] = schemas.normalise_counties(tables["counties"])
    frame = Frame(**tables, files=files)
    problems = check_frame(frame, {f.name: str(f.path) for f in files})
    if problems:
        raise InputError(problems)
    if households_wanted is not None:
        keep = frame.households.filter(households_wanted(frame).rows())
        frame = dataclasses.replace(frame, households=keep)
    return frame


def _load_lean(
    directory: Path,
    only: dict[str, frozenset[str]] | None,
    columns: ColumnMap,
    households_wanted: Callable[[Frame], HouseholdsWanted],
) -> Frame | None:
    """:func:`load_frame` with ``households_wanted``; None where the whole table must be read.

    Any problem of the other tables waits until the pass shows the households
    clean: the whole reading would name theirs too.
    """
    spec = schemas.HOUSEHOLDS
    wanted_spec = spec.narrowed(only[spec.name]) if only and spec.name in only else spec
    try:
        path = find_table(directory, spec.name) if directory.is_dir() else None
    except InputError:
        return None
    if path is None or path.suffix.lower() != ".csv":
        return None
    source = _households_source(path, wanted_spec, columns)
    if source is None:
        return None
    others = tuple(t for t in schemas.FRAME_TABLES if t.name != spec.name)
    tables: dict[str, pl.DataFrame] = {}
    deferred: InputError | None = None
    wanted = HouseholdsWanted(pl.Series([], dtype=pl.String), pl.Series([], dtype=pl.String))
    try:
        tables, read_files = read_tables(directory, others, "frame", only, columns)
        tables["counties"] = schemas.normalise_counties(tables["counties"])
        names = {f.name: str(f.path) for f in read_files} | {spec.name: str(path)}
        partial = Frame(**tables, households=_NO_HOUSEHOLDS, files=read_files)
        problems = check_frame(partial, names, households=False)
        if problems:
            raise InputError(problems)
        wanted = households_wanted(partial)
    except InputError as exc:
        deferred = exc
    beneficiaries = (
        tables["project_beneficiaries"]["household_id"].unique()
        if "project_beneficiaries" in tables
        else wanted.ids.head(0)
    )
    # The file's SHA-256 (seconds for 3 GB) is taken beside the reading, on another core.
    with ThreadPoolExecutor(1) as hasher:
        digest = hasher.submit(sha256_file, path)
        streamed = _stream_households(source, wanted, beneficiaries)
        sha256 = digest.result()
    if streamed is None:
        return None
    if "villages" in tables and (
        not streamed.villages.is_in(tables["villages"]["village_code"].implode()).all()
        or streamed.beneficiaries.len() != beneficiaries.len()
    ):
        return None  # a household in an unknown village, a beneficiary not a household
    if deferred is not None:
        raise deferred
    raw = tidy_raw(RawTable(streamed.rows, headers=source.headers), path)
    if raw.notes or raw.df.height != streamed.rows.height:
        return None
    read = parse_raw(raw, wanted_spec, path, columns)
    if read.problems or read.df is None:
        return None
    by_name = {f.name: f for f in (*read_files, TableFile(spec.name, path, sha256))}
    files = tuple(by_name[t.name] for t in schemas.FRAME_TABLES)  # the certificate's order
    return Frame(**{**tables, spec.name: read.df}, files=files)


_BATCH_ROWS = 500_000  # rows a streaming batch holds: few batches, bounded memory
_NO_HOUSEHOLDS = pl.DataFrame(
    schema={ROW: pl.Int64, "household_id": pl.String, "village_code": pl.String}
)


@dataclass(frozen=True)
class _Source:
    """A UTF-8 households CSV whose headers map cleanly: its lazy scan, every header
    (stripped), canonical column -> the file's header, and the headers read (file order)."""

    lazy: pl.LazyFrame
    headers: tuple[str, ...]
    mapped: dict[str, str]
    cells: list[str]
    spec: schemas.TableSpec


def _households_source(path: Path, wanted: schemas.TableSpec, columns: ColumnMap) -> _Source | None:
    """How the headers of the CSV ``path`` map, by the usual rules, on the header alone;
    None unless they map without a problem or a unit (the whole reading says what)."""
    with path.open("rb") as fh:
        header = fh.read(1 << 16).removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    try:
        header.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lazy = pl.scan_csv(path, infer_schema=False)
    try:
        names = lazy.collect_schema().names()
    except pl.exceptions.PolarsError:
        return None
    raw_name = {n.strip().lstrip("\ufeff"): n for n in names}
    if len(raw_name) != len(names):  # two headers alike once stripped
        return None
    known = header_keys(wanted, columns)
    kept = [n for n in raw_name if header_key(n)[0] in known]
    empty = pl.DataFrame(schema={ROW: pl.Int64, **dict.fromkeys(kept, pl.String)})
    head = parse_raw(RawTable(empty, headers=tuple(raw_name)), wanted, path, columns)
    if head.problems or any(scale != 1.0 for scale in head.scales.values()):
        return None
    mapped = {c: raw_name[h] for c, h in head.mapped.items()}  # canonical -> the file's header
    cells = sorted(mapped.values(), key=names.index)  # what a whole read keeps, in file order
    return _Source(lazy, tuple(raw_name), mapped, cells, wanted)


def _stream_households(
    source: _Source, wanted: HouseholdsWanted, beneficiaries: pl.Series
) -> _Streamed | None:
    """One pass over every household: all its cells checked, the wanted rows kept; None
    unless the table would read without a problem, a padded cell, an empty or a totals
    row, or a duplicate id (it is then read whole, as usual)."""
    mapped, cells = source.mapped, source.cells
    village, hid = mapped["village_code"], pl.col(mapped["household_id"])
    # Whether any cell may be refused (free text needs no look: a padded cell is
    # stripped when read); a totals word (合计...) has 计 in it, so any 计 in the first
    # columns reads whole. The village code's checks run over its distinct values
    # (128,000 of them for 30 million households), which the pass collects anyway.
    row_checks = [pl.all_horizontal([pl.col(c).is_null() for c in cells])]
    value_checks: list[pl.Expr] = []
    for c in cells[:3]:
        totals = pl.col(c).str.contains("计", literal=True)
        (value_checks if c == village else row_checks).append(totals)
    widths = []  # each id column's shortest and longest cell, in bytes
    ids = []
    for col in source.spec.columns:
        if col.name not in mapped or never_refused(col):
            continue
        flag = may_be_refused(col, mapped[col.name])
        if flag is None:
            return None
        (value_checks if mapped[col.name] == village else row_checks).append(flag)
        if is_id_column(col):
            ids.append(col.name)
            size = pl.col(mapped[col.name]).str.len_bytes()
            widths += [size.min().alias(f"min {col.name}"), size.max().alias(f"max {col.name}")]
    # The wanted rows and every beneficiary's row are kept (the beneficiaries found
    # are then told apart in memory, a million rows instead of 30 million).
    kept = pl.col(village).is_in(wanted.villages.implode()) | hid.is_in(
        pl.concat([wanted.ids, beneficiaries]).unique().implode()
    )
    query = (
        source.lazy.select(cells)
        .with_row_index(ROW, offset=2)
        .select(
            pl.col(ROW).cast(pl.Int64),
            *cells,
            pl.any_horizontal(row_checks).fill_null(False).alias("_suspect"),
            hid.hash().alias("_hash"),
            kept.alias("_kept"),
        )
    )
    # Batch by batch, each reduced to what is kept: the file is read once and 30
    # million rows are never held (several outputs of one scan would buffer it).
    nothing = source.lazy.select(cells).with_row_index(ROW, offset=2).head(0).collect()
    suspect, sizes = False, [nothing.select(widths)]
    hashes = [pl.Series("_hash", [], pl.UInt64)]
    villages, rows = [nothing[village]], [nothing.with_columns(pl.col(ROW).cast(pl.Int64))]
    try:
        for batch in query.collect_batches(chunk_size=_BATCH_ROWS, maintain_order=False):
            suspect = suspect or bool(batch["_suspect"].any())
            hashes.append(batch["_hash"])
            villages.append(batch[village].unique())
            rows.append(_compact(batch.filter(pl.col("_kept")).select(ROW, *cells)))
            sizes.append(batch.select(widths))
    except pl.exceptions.PolarsError:  # e.g. bytes that are not UTF-8 further down
        return None
    distinct = pl.concat(villages).unique().to_frame()
    if suspect or distinct.select(pl.any_horizontal(value_checks).any()).item():
        return None
    # Ids of more than one length: is a digit-only one shorter (refused by its width)?
    width = pl.concat(sizes)
    varied = [
        shorter_ids(mapped[name])
        for name in ids
        if width[f"min {name}"].min() != width[f"max {name}"].max()
    ]
    if varied and source.lazy.select(pl.any_horizontal(varied)).collect(engine="streaming").item():
        return None
    # A duplicate key (or two keys' hashes alike): the usual reading says which. Sorted
    # hashes, not a set of 30 million ids: a quarter of the memory, a tenth of the time.
    ordered = pl.concat(hashes).sort()
    if ordered.len() > 1 and (ordered.slice(1) == ordered.slice(0, ordered.len() - 1)).any():
        return None
    every = pl.concat(rows).sort(ROW)
    found = every.filter(hid.is_in(beneficiaries.implode()))[mapped["household_id"]].unique()
    kept_rows = every.filter(wanted.rows(village, mapped["household_id"]))
    kept_rows = kept_rows.rename({c: c.strip().lstrip("\ufeff") for c in cells})
    return _Streamed(kept_rows, distinct[village], found)


def _compact(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with text of its own: a row filtered out of a batch still points at the whole
    batch's text (polars' string views), which would keep the file in memory. Arrow's
    oldest layout has no views, so the round trip copies just these rows' bytes."""
    return cast(pl.DataFrame, pl.from_arrow(df.to_arrow(compat_level=pl.CompatLevel.oldest())))
