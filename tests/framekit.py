"""Build small hand-made frames tersely, for the sampling tests.

A test names only the columns it cares about; every other column gets a
neutral default (not a poor county, one township per village, equal
distances, no infrastructure or public-service gaps, no helper). Rows are
plain dicts; the result is a :class:`~xkaohe.io.frame.Frame` with the
canonical columns and dtypes of DESIGN.md, "Frame directory".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from xkaohe.inputs import Frame

Row = Mapping[str, Any]

SCHEMAS: dict[str, dict[str, type[pl.DataType]]] = {
    "counties": {
        "county_code": pl.String, "county_name": pl.String, "city_name": pl.String,
        "category": pl.String, "national_poverty_county": pl.Boolean,
        "paired_helper_county": pl.String,
    },
    "villages": {
        "village_code": pl.String, "village_name": pl.String, "township_code": pl.String,
        "township_name": pl.String, "county_code": pl.String, "is_poor_village": pl.Boolean,
        "registered_poor_people": pl.Int64, "households_total": pl.Int64,
        "distance_to_township_km": pl.Float64, "infrastructure_gap": pl.Float64,
        "public_service_gap": pl.Float64,
    },
    "households": {
        "household_id": pl.String, "village_code": pl.String, "villager_group": pl.String,
        "status": pl.String, "household_size": pl.Int64, "head_name": pl.String,
        "head_id_number": pl.String, "phone": pl.String, "helper_id": pl.String,
    },
    "projects": {
        "project_id": pl.String, "county_code": pl.String, "village_code": pl.String,
        "kind": pl.String, "name": pl.String, "funds_yuan": pl.Float64,
    },
    "project_beneficiaries": {"project_id": pl.String, "household_id": pl.String},
}


def _county_defaults(row: Row) -> dict[str, Any]:
    code = row["county_code"]
    return {"county_name": f"县{code}", "city_name": "甲市", "category": "exit_2019",
            "national_poverty_county": False, "paired_helper_county": None}


def _village_defaults(row: Row) -> dict[str, Any]:
    code = row["village_code"]
    return {"village_name": f"村{code}", "township_code": f"T-{code}",
            "township_name": f"乡{row.get('township_code', code)}", "county_code": "C1",
            "is_poor_village": False, "registered_poor_people": 0, "households_total": 100,
            "distance_to_township_km": 1.0, "infrastructure_gap": 0.0,
            "public_service_gap": 0.0}


def _household_defaults(row: Row) -> dict[str, Any]:
    return {"villager_group": "1", "status": "exited_2019", "household_size": 3,
            "head_name": f"户主{row['household_id']}", "head_id_number": None, "phone": None,
            "helper_id": None}


def _project_defaults(row: Row) -> dict[str, Any]:
    return {"village_code": None, "kind": "county", "name": f"项目{row['project_id']}",
            "funds_yuan": 10000.0}


def _table(name: str, rows: Iterable[Row], defaults: Any = None) -> pl.DataFrame:
    schema = SCHEMAS[name]
    full = []
    for row in rows:
        unknown = set(row) - set(schema)
        if unknown:
            raise KeyError(f"{name}: unknown columns {sorted(unknown)}")
        full.append({**(defaults(row) if defaults else {}), **row})
    return pl.DataFrame(full, schema=schema, orient="row") if full else pl.DataFrame(
        schema=schema)


def make_frame(
    *,
    villages: Iterable[Row] = (),
    households: Iterable[Row] = (),
    counties: Iterable[Row] | None = None,
    projects: Iterable[Row] = (),
    beneficiaries: Iterable[Row] = (),
) -> Frame:
    """A Frame from partial rows; counties default to those the villages name."""
    village_rows = [{**_village_defaults(v), **v} for v in villages]
    if counties is None:
        codes = sorted({v["county_code"] for v in village_rows})
        counties = [{"county_code": c} for c in codes]
    return Frame.from_tables({
        "counties": _table("counties", counties, _county_defaults),
        "villages": _table("villages", village_rows),
        "households": _table("households", households, _household_defaults),
        "projects": _table("projects", projects, _project_defaults),
        "project_beneficiaries": _table("project_beneficiaries", beneficiaries),
    })


def households_of(village: str, status: str, n: int, **columns: Any) -> list[dict[str, Any]]:
    """``n`` households of one status in one village, ids ``{village}-{status}-{i:02d}``."""
    return [{"household_id": f"{village}-{status}-{i:02d}", "village_code": village,
             "status": status, **columns} for i in range(n)]


def shuffled(frame: Frame, seed: int) -> Frame:
    """The same frame with every table's rows in another order (and fresh row numbers)."""
    tables = {}
    for name in SCHEMAS:
        df = getattr(frame, name).drop("_row")
        tables[name] = df.sample(fraction=1.0, shuffle=True, seed=seed) if df.height else df
    return Frame.from_tables(tables)


def with_rows(frame: Frame, **extra: Iterable[Row]) -> Frame:
    """``frame`` with more rows appended to the named tables (defaults filled in)."""
    defaults = {"counties": _county_defaults, "villages": _village_defaults,
                "households": _household_defaults, "projects": _project_defaults,
                "project_beneficiaries": None}
    tables = {}
    for name in SCHEMAS:
        df = getattr(frame, name).drop("_row")
        rows = list(extra.get(name, ()))
        tables[name] = pl.concat([df, _table(name, rows, defaults[name])]) if rows else df
    return Frame.from_tables(tables)
