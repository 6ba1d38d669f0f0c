"""Load the roster directory (cities and the assessor pool) for the lottery."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import Roster
from xkaohe.io.columns import NO_MAP, ColumnMap
from xkaohe.io.tables import read_tables


def load_roster(directory: str | Path, columns: ColumnMap = NO_MAP) -> Roster:
    """Read and validate ``cities`` and ``assessors``; all problems at once.

    ``columns``: the user's header map (:mod:`xkaohe.io.columns`).
    """
    tables, files = read_tables(directory, schemas.ROSTER_TABLES, "roster", columns=columns)
    roster = Roster(**tables, files=files)
    cities = roster.cities["city_name"]
    bad = roster.assessors.filter(
        pl.col("home_city").is_not_null() & ~pl.col("home_city").is_in(cities.implode())
    )
    if bad.height:
        path = next(str(f.path) for f in files if f.name == "assessors")
        raise InputError(
            [
                Problem(
                    path,
                    int(r),
                    "home_city",
                    "a city listed in cities (or empty for provincial units)",
                    repr(v),
                )
                for r, v in bad.select("_row", "home_city").head(20).iter_rows()
            ]
        )
    return roster
