"""Load a registry extract (the frame) and check that its tables agree.

Reading rules are those of :mod:`xkaohe.io.tables`; on top, the cross-table
checks DESIGN.md implies: every village in a known county, every household in
a known village, every project in a known county (and village), every
beneficiary a known project and household. All problems of all tables are
raised together as one :class:`~xkaohe.errors.InputError`.

A draw reads only a few hundred villages' households whole: given
``households_rows``, every household is checked while streaming through the
file but only the keys are held, then only the rows the draw needs are read
(issue 16: 30 million households in under 4 GB); whatever the check finds falls
back on the whole reading, so messages and rows stay those of the whole reading.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW, Frame, TableFile
from xkaohe.io.columns import ALL_TABLES, NO_MAP, ColumnMap, header_key
from xkaohe.io.files import sha256_file
from xkaohe.io.tables import (
    TableRead,
    find_table,
    header_keys,
    in_sheet,
    is_id_column,
    may_be_refused,
    never_refused,
    parse_raw,
    read_source,
    read_tables,
    sheet_of,
    shorter_ids,
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
HOUSEHOLD_KEYS = ("household_id", "village_code")
"""The households' columns a frame read with ``households_rows`` holds for every row."""


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


def check_frame(frame: Frame, names: dict[str, str] | None = None) -> list[Problem]:
    """Cross-table problems; ``names`` maps table name to the file shown in messages."""
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
    households_rows: Callable[[Frame], pl.Series] | None = None,
    hashed: bool = True,
) -> Frame:
    """Read and validate the five frame tables of ``directory``.

    ``only`` names, per table, the columns the caller needs (see
    :data:`SAMPLING_COLUMNS`); by default every column, extras included, is kept.
    ``columns``: the user's header map (:mod:`xkaohe.io.columns`).

    ``households_rows``: for a caller that needs only some households whole (a
    sample draws from a few hundred of 128,000 villages). Given the checked
    frame whose households hold only ``_row`` and :data:`HOUSEHOLD_KEYS`, it
    returns the ``_row`` of the households to keep; the frame returned holds
    those. Every row is still read and checked, streaming through the file, so
    30 million households are never in memory whole. When that finds anything to
    report or to change (a refused cell, a padded id, an empty or totals row), or
    the table is not a UTF-8 CSV, the table is read whole instead: the same
    messages, the same rows.

    ``hashed``: False when the caller records no hash of the files (``files`` then carry
    none; hashing a national extract costs seconds).
    """
    if households_rows is not None:
        lean = _load_lean(Path(directory), only, columns, households_rows)
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
    if households_rows is not None:
        rows = households_rows(frame)
        keep = frame.households.filter(pl.col(ROW).is_in(rows.implode()))
        frame = dataclasses.replace(frame, households=keep)
    return frame


def _load_lean(
    directory: Path,
    only: dict[str, frozenset[str]] | None,
    columns: ColumnMap,
    households_rows: Callable[[Frame], pl.Series],
) -> Frame | None:
    """:func:`load_frame` with ``households_rows``; None where the whole table must be read."""
    spec = schemas.HOUSEHOLDS
    wanted = spec.narrowed(only[spec.name]) if only and spec.name in only else spec
    try:
        path = find_table(directory, spec.name) if directory.is_dir() else None
    except InputError:
        return None
    if path is None or path.suffix.lower() != ".csv":
        return None
    # The file's SHA-256 (seconds for 3 GB) is taken beside the reading, on another core.
    with ThreadPoolExecutor(1) as hasher:
        digest = hasher.submit(sha256_file, path)
        keys = _household_keys(path, wanted, columns)
        sha256 = digest.result()
    if keys is None:
        return None
    others = tuple(t for t in schemas.FRAME_TABLES if t.name != spec.name)
    tables, read_files = read_tables(directory, others, "frame", only, columns)
    tables[spec.name] = keys
    by_name = {f.name: f for f in (*read_files, TableFile(spec.name, path, sha256))}
    files = tuple(by_name[t.name] for t in schemas.FRAME_TABLES)  # the certificate's order
    tables["counties"] = schemas.normalise_counties(tables["counties"])
    frame = Frame(**tables, files=files)
    problems = check_frame(frame, {f.name: str(f.path) for f in files})
    if problems:
        raise InputError(problems)
    rows = households_rows(frame)
    del frame, tables[spec.name], keys  # 30 million keys: gone before the rows are read
    read = _read_rows(path, wanted, columns, rows)
    if read is None or read.df is None:
        return None
    return Frame(**{**tables, spec.name: read.df}, files=files)


def _household_keys(
    path: Path, wanted: schemas.TableSpec, columns: ColumnMap
) -> pl.DataFrame | None:
    """Every household's ``_row`` and :data:`HOUSEHOLD_KEYS`, all its cells checked while
    streaming through the file; None unless the table would read without a problem, a
    padded cell, an empty or a totals row (it is then read whole, as usual)."""
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
    # How the headers map, by the usual rules, on the header alone (no row is read).
    known = header_keys(wanted, columns)
    kept = [n for n in raw_name if header_key(n)[0] in known]
    if len(raw_name) != len(names):  # two headers alike once stripped
        return None
    empty = pl.DataFrame(schema={ROW: pl.Int64, **dict.fromkeys(kept, pl.String)})
    head = parse_raw(RawTable(empty, headers=tuple(raw_name)), wanted, path, columns)
    if head.problems or any(scale != 1.0 for scale in head.scales.values()):
        return None
    source = {c: raw_name[h] for c, h in head.mapped.items()}  # canonical -> the file's header
    cells = sorted(source.values(), key=names.index)  # what a whole read keeps, in file order
    # One pass: each row's keys and whether any of its cells may be refused (free text
    # needs no look: a padded cell is stripped when read); a totals word (合计...) has 计
    # in it, so any 计 in the first columns reads whole.
    suspect = [
        pl.all_horizontal([pl.col(c).is_null() for c in cells]),
        pl.any_horizontal([pl.col(c).str.contains("计", literal=True) for c in cells[:3]]),
    ]
    lengths = {}  # id column -> the byte length of each of its cells
    for col in wanted.columns:
        if col.name not in source or never_refused(col):
            continue
        flag = may_be_refused(col, source[col.name])
        if flag is None:
            return None
        suspect.append(flag)
        if is_id_column(col):
            lengths[col.name] = pl.col(source[col.name]).str.len_bytes().alias(f"_n_{col.name}")
    query = lazy.with_row_index(ROW, offset=2).select(
        pl.col(ROW).cast(pl.Int64),
        *(pl.col(source[k]).alias(k) for k in HOUSEHOLD_KEYS),
        pl.any_horizontal(suspect).fill_null(False).alias("_suspect"),
        *(n for k, n in lengths.items() if k not in HOUSEHOLD_KEYS),
    )
    try:
        out = query.collect(engine="streaming")
        if out["_suspect"].any():
            return None
        # Ids of more than one length: is a digit-only one shorter (refused by its width)?
        varied = []
        for k in lengths:
            size = out[k].str.len_bytes() if k in HOUSEHOLD_KEYS else out[f"_n_{k}"]
            if size.min() != size.max():
                varied.append(shorter_ids(source[k]))
        if varied:
            query = lazy.select(pl.any_horizontal(varied))
            if query.collect(engine="streaming").item():
                return None
    except pl.exceptions.PolarsError:  # e.g. bytes that are not UTF-8 further down
        return None
    out = out.select(ROW, *HOUSEHOLD_KEYS)
    # A duplicate key (or two keys' hashes alike): the usual reading says which. Sorted
    # hashes, not a set of 30 million ids: a quarter of the memory, a tenth of the time.
    hashes = out["household_id"].hash().sort()
    if hashes.len() > 1 and (hashes.slice(1) == hashes.slice(0, hashes.len() - 1)).any():
        return None
    return out


def _read_rows(
    path: Path, spec: schemas.TableSpec, columns: ColumnMap, rows: pl.Series
) -> TableRead | None:
    """``spec``'s columns of the CSV ``path``, only ``rows`` (by ``_row``), typed as a whole
    read types them; None when anything is refused, dropped or noted."""
    every = header_keys(ALL_TABLES[spec.name], columns)
    wanted = header_keys(spec, columns)
    try:
        raw = read_source(
            path,
            lambda h: header_key(h)[0] in every,
            lambda h: header_key(h)[0] in wanted,
            rows=rows,
        )
    except InputError:
        return None
    if raw.notes or raw.df.height != rows.len():
        return None
    read = parse_raw(raw, spec, path, columns)
    if read.problems or read.df is None:
        return None
    return read
