"""Load a registry extract (the frame) and check that its tables agree.

Reading rules are those of :mod:`xkaohe.io.tables`; on top, the cross-table
checks DESIGN.md implies: every village in a known county, every household in
a known village, every project in a known county (and village), every
beneficiary a known project and household. All problems of all tables are
raised together as one :class:`~xkaohe.errors.InputError`.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW, Frame
from xkaohe.io.columns import NO_MAP, ColumnMap
from xkaohe.io.tables import read_tables

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
    bad = child.head(0).select(ROW, column)
    if missing.len():
        bad = child.select(ROW, column).filter(pl.col(column).is_in(missing.implode())).sort(ROW)
    out = [
        Problem(file, int(r), label, expected, f"{v!r}, which is not there")
        for r, v in bad.select(ROW, column).head(20).iter_rows()
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
            file["projects"],
            int(r),
            "village_code",
            f"a village of county {cc}",
            f"{vc!r}, a village of county {other}",
        )
        for r, cc, vc, other in wrong_county.select(ROW, "county_code", "village_code", "_vc")
        .head(20)
        .iter_rows()
    ]
    needs_village = p.filter(
        pl.col("kind").is_in(["village", "household_policy"]) & pl.col("village_code").is_null()
    )
    problems += [
        Problem(
            file["projects"], int(r), "village_code", f"a village code for a '{k}' project", "empty"
        )
        for r, k in needs_village.select(ROW, "kind").head(20).iter_rows()
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
    hashed: bool = True,
) -> Frame:
    """Read and validate the five frame tables of ``directory``.

    ``only`` names, per table, the columns the caller needs (see
    :data:`SAMPLING_COLUMNS`); by default every column, extras included, is kept.
    ``columns``: the user's header map (:mod:`xkaohe.io.columns`). ``hashed``:
    False when the caller records no hash of the files (``files`` then carry
    none; hashing a national extract costs seconds).
    """
    tables, files = read_tables(
        directory, schemas.FRAME_TABLES, "frame", only, columns, hashed=hashed
    )
    tables["counties"] = schemas.normalise_counties(tables["counties"])
    frame = Frame(**tables, files=files)
    problems = check_frame(frame, {f.name: str(f.path) for f in files})
    if problems:
        raise InputError(problems)
    return frame
