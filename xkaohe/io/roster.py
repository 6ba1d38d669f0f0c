"""Load the roster directory (cities, the assessor pool, liaisons, office lists) for the lottery."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import Roster, TableFile
from xkaohe.io.columns import NO_MAP, ColumnMap
from xkaohe.io.tables import in_sheet, read_table, read_tables, sheet_of

_LISTED = 20  # rows named per problem kind


def load_roster(directory: str | Path, columns: ColumnMap = NO_MAP) -> Roster:
    """Read and validate ``cities`` and ``assessors``, and ``liaisons`` and ``office_members``
    when present; every problem at once.

    ``columns``: the user's header map (:mod:`xkaohe.io.columns`).
    """
    tables, files = read_tables(directory, schemas.ROSTER_TABLES, "roster", columns=columns)
    optional: dict[str, pl.DataFrame] = {}
    found: list[TableFile] = list(files)
    problems: list[Problem] = []
    for spec in schemas.ROSTER_OPTIONAL:
        df, info, bad = read_table(Path(directory), spec, required=False, columns=columns)
        problems += bad
        if df is not None and info is not None:
            optional[spec.name] = df
            found.append(info)
    if problems:
        raise InputError(problems)
    roster = Roster(**tables, files=tuple(found), **optional)
    path = {f.name: str(f.path) for f in found}
    cities = roster.cities["city_name"]
    checks = [
        (
            "assessors",
            roster.assessors.filter(
                pl.col("home_city").is_not_null() & ~pl.col("home_city").is_in(cities.implode())
            ),
            "home_city",
            "a city listed in cities (or empty for provincial units)",
        )
    ]
    if roster.liaisons is not None:
        checks.append(
            (
                "liaisons",
                roster.liaisons.filter(~pl.col("city_name").is_in(cities.implode())),
                "city_name",
                "a city listed in cities",
            )
        )
    if roster.office_members is not None:
        people = roster.assessors["person_id"]
        checks.append(
            (
                "office_members",
                roster.office_members.filter(~pl.col("person_id").is_in(people.implode())),
                "person_id",
                "a person_id of assessors",
            )
        )
    problems = [
        Problem(in_sheet(path[table], s), int(r), column, expected, repr(v))
        for table, bad, column, expected in checks
        for s, r, v in bad.select(sheet_of(bad), "_row", column).head(_LISTED).iter_rows()
    ]
    if problems:
        raise InputError(problems)
    return roster
