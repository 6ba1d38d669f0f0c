"""The discipline register and the 督查组: checking reported incidents, counting them (plan 八).

Plan 八(二): during the field week the office and six departments form a
督查组 that supervises the assessment; a team that meets interference
立即制止并及时上报. Plan 八(三) lists what the teams and the assessed places
must not do (超标准接待, 领导陪同, 干扰考核, 叮嘱或代答被调查对象, 监控打探,
提供虚假资料, 收受礼品, 饮酒, 泄露考核资料, 向被考核地反馈 …: the plan's
``discipline.rules``, each with the party it binds); a team 应留存证据并及时
向省扶贫办报告, may terminate the field work when interference is serious and
not corrected, and both sides' compliance 纳入考核综合评价.

This module decides, once, whether a register row is acceptable and how the
incidents add up; :mod:`xkaohe.io.discipline` reads the register and keeps the
evidence, :mod:`xkaohe.report.discipline` words the result in Chinese.

A row is refused (every problem at once; nothing is stored unless all pass) when
-------------------------------------------------------------------------------
* its reporter, rule or an action is not one of the plan's (code, label or alias),
  or it names no action;
* its city is not a city of the run, or its county is not a county of that city;
* its team is not a team of the run's lottery, or not the team that assessed
  that city (with no team given, the team of the city is filled in);
* an evidence file it names is missing, outside the register's folder, or a link.

Counts (``discipline_summary``): per city (its own and its counties'
incidents), per county and per team, zeros included: incidents, breaches by
the assessed place (rules of party ``assessed``), by the team (party
``team``), field work terminated, incidents without evidence, and those the
督查组 reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import polars as pl

from xkaohe import schemas
from xkaohe.errors import Problem
from xkaohe.inputs import CITY_SEP, ROW
from xkaohe.plan import Plan

EVIDENCE_SEP = re.compile(r"[;；\n]")
"""Separates the evidence files of one incident."""
ACTION_SEP = re.compile(r"[;；、,，/]")
"""Separates several actions of one incident."""
LIST_SEP = ";"
"""Joins codes in the stored ``actions`` column."""
TERMINATE = "terminate"
"""The action code that ends the field work (终止实地考核)."""
SUPERVISION = "supervision"
"""The reporter code of the 督查组."""

INCIDENT_SCHEMA: dict[str, pl.DataType] = {
    "incident_id": pl.String(),
    "date": pl.Date(),
    "city_name": pl.String(),
    "county_code": pl.String(),
    "team_id": pl.String(),
    "reporter": pl.String(),
    "rule": pl.String(),
    "party": pl.String(),
    "actions": pl.String(),
    "terminated": pl.Boolean(),
    "description": pl.String(),
    "outcome": pl.String(),
    "evidence_files": pl.Int64(),
    "evidence_missing": pl.Boolean(),
    "source_row": pl.Int64(),
}
EVIDENCE_SCHEMA: dict[str, pl.DataType] = {
    "incident_id": pl.String(),
    "city_name": pl.String(),
    "county_code": pl.String(),
    "file": pl.String(),
    "sha256": pl.String(),
    "bytes": pl.Int64(),
}


def split(text: str | None, sep: re.Pattern[str]) -> list[str]:
    """The non-empty, stripped parts of ``text``."""
    return [p.strip() for p in sep.split(text or "") if p.strip()]


def _spellings(items: Any) -> dict[str, str]:
    """Code, label and aliases of plan code-label items -> code."""
    out: dict[str, str] = {}
    for it in items:
        for word in (it.code, it.label, *getattr(it, "aliases", ())):
            out[word] = it.code
    return out


def _label(column: str) -> str:
    return schemas.INCIDENTS.column(column).label


def evidence_names(rows: pl.DataFrame) -> list[str]:
    """Every evidence file a register names (for :func:`xkaohe.io.discipline.hash_evidence`)."""
    if "evidence" not in rows.columns:
        return []
    return sorted({n for text in rows["evidence"].to_list() for n in split(text, EVIDENCE_SEP)})


def validate_incidents(
    rows: pl.DataFrame,
    file: str,
    plan: Plan,
    counties: pl.DataFrame,
    teams: pl.DataFrame | None,
    evidence: Mapping[str, tuple[str, int] | None],
) -> tuple[pl.DataFrame, pl.DataFrame, list[Problem]]:
    """Check a register; return the incidents (plan codes), their evidence files and problems.

    Parameters
    ----------
    rows
        The register as read (:data:`xkaohe.schemas.INCIDENTS`, with ``_row``).
    file
        The register's path, for messages.
    plan
        The plan: discipline rules, actions and reporters.
    counties
        The run's counties (``county_code, city_name``).
    teams
        The lottery's teams (``team_id, target_cities``), or None when the run has no lottery
        (team ids are then kept as given).
    evidence
        Evidence name -> (sha256, bytes), None for a name that cannot be used.
    """
    d = plan.discipline
    rules, actions, reporters = _spellings(d.rules), _spellings(d.actions), _spellings(d.reporters)
    party = {r.code: r.party for r in d.rules}
    city_of = dict(counties.select("county_code", "city_name").iter_rows())
    cities = set(city_of.values())
    team_cities: dict[str, set[str]] = {}
    team_of_city: dict[str, str] = {}
    if teams is not None:
        for tid, targets in teams.select("team_id", "target_cities").iter_rows():
            team_cities[str(tid)] = set(str(targets).split(CITY_SEP))
            team_of_city |= {c: str(tid) for c in team_cities[str(tid)]}
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    for r in rows.iter_rows(named=True):
        row = int(r[ROW])

        def bad(column: str, expected: str, found: object, row: int = row) -> None:
            problems.append(Problem(file, row, _label(column), expected, repr(found)))

        reporter = reporters.get((r["reporter"] or "").strip())
        if reporter is None:
            bad("reporter", "one of " + "、".join(x.label for x in d.reporters), r["reporter"])
        rule = rules.get((r["rule"] or "").strip())
        if rule is None:
            bad("rule", "one of the plan's discipline rules (八(三)), e.g. 干扰考核", r["rule"])
        named = split(r["action"], ACTION_SEP)
        codes = [actions.get(a) for a in named]
        if not named or None in codes:
            bad("action", "one or more of " + "、".join(x.label for x in d.actions), r["action"])
        city, county = r["city_name"], r["county_code"]
        if city not in cities:
            bad("city_name", "a city of this run", city)
        if county is not None and city_of.get(county) != city:
            where = f"a county of {city}" if city in cities else "a county of this run"
            bad("county_code", where, county)
        team = r.get("team_id")
        if teams is not None and team is not None and team not in team_cities:
            bad("team_id", "a team of this run's lottery (T01 ...)", team)
        elif teams is not None and team is not None and city not in team_cities[team]:
            bad("team_id", f"the team that assessed {city} ({team_of_city.get(city, '—')})", team)
        team = team if team is not None else team_of_city.get(city)
        names = split(r.get("evidence"), EVIDENCE_SEP)
        for name in names:
            kept = evidence.get(name)
            if kept is None:
                bad("evidence", "a file kept with the register (a path inside its folder)", name)
                continue
            files.append(
                {
                    "incident_id": r["incident_id"],
                    "city_name": city,
                    "county_code": county,
                    "file": name,
                    "sha256": kept[0],
                    "bytes": kept[1],
                }
            )
        done = [c for c in dict.fromkeys(codes) if c is not None]
        out.append(
            {
                "incident_id": r["incident_id"],
                "date": r["date"],
                "city_name": city,
                "county_code": county,
                "team_id": team,
                "reporter": reporter,
                "rule": rule,
                "party": party.get(rule or ""),
                "actions": LIST_SEP.join(done),
                "terminated": TERMINATE in done,
                "description": r.get("description"),
                "outcome": r.get("outcome"),
                "evidence_files": len(names),
                "evidence_missing": not names,
                "source_row": row,
            }
        )
    incidents = pl.DataFrame(out, schema=INCIDENT_SCHEMA, orient="row").sort("date", "incident_id")
    stored = pl.DataFrame(files, schema=EVIDENCE_SCHEMA, orient="row").sort("incident_id", "file")
    return incidents, stored, problems


def empty_incidents() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The incidents and evidence tables of a run without a register."""
    return pl.DataFrame(schema=INCIDENT_SCHEMA), pl.DataFrame(schema=EVIDENCE_SCHEMA)


def _counts(df: pl.DataFrame, by: str) -> pl.DataFrame:
    return df.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("incidents"),
        (pl.col("party") == "assessed").sum().cast(pl.Int64).alias("assessed_breaches"),
        (pl.col("party") == "team").sum().cast(pl.Int64).alias("team_breaches"),
        pl.col("terminated").sum().cast(pl.Int64).alias("terminated"),
        pl.col("evidence_missing").sum().cast(pl.Int64).alias("without_evidence"),
        (pl.col("reporter") == SUPERVISION).sum().cast(pl.Int64).alias("by_supervision"),
    )


COUNTS = (
    "incidents",
    "assessed_breaches",
    "team_breaches",
    "terminated",
    "without_evidence",
    "by_supervision",
)


def discipline_summary(
    incidents: pl.DataFrame, counties: pl.DataFrame, teams: pl.DataFrame | None
) -> pl.DataFrame:
    """Incidents per city, county and team, every unit listed (zeros when none)."""
    units = [
        counties.select(
            pl.lit("city").alias("level"),
            pl.col("city_name").alias("unit"),
            "city_name",
            pl.lit(None, pl.String).alias("county_code"),
            pl.lit(None, pl.String).alias("team_id"),
        ).unique(),
        counties.select(
            pl.lit("county").alias("level"),
            pl.col("county_code").alias("unit"),
            "city_name",
            "county_code",
            pl.lit(None, pl.String).alias("team_id"),
        ),
    ]
    team_ids = set() if teams is None else set(teams["team_id"].to_list())
    team_ids |= set(incidents["team_id"].drop_nulls().to_list())
    units.append(
        pl.DataFrame({"team_id": sorted(team_ids)}, schema={"team_id": pl.String}).select(
            pl.lit("team").alias("level"),
            pl.col("team_id").alias("unit"),
            pl.lit(None, pl.String).alias("city_name"),
            pl.lit(None, pl.String).alias("county_code"),
            "team_id",
        )
    )
    counted = pl.concat(
        [
            _counts(incidents, "city_name")
            .rename({"city_name": "unit"})
            .with_columns(level=pl.lit("city")),
            _counts(incidents.filter(pl.col("county_code").is_not_null()), "county_code")
            .rename({"county_code": "unit"})
            .with_columns(level=pl.lit("county")),
            _counts(incidents.filter(pl.col("team_id").is_not_null()), "team_id")
            .rename({"team_id": "unit"})
            .with_columns(level=pl.lit("team")),
        ],
        how="diagonal",
    )
    order = {"city": 0, "county": 1, "team": 2}
    return (
        pl.concat(units, how="vertical")
        .join(counted, on=["level", "unit"], how="left")
        .with_columns(pl.col(c).fill_null(0) for c in COUNTS)
        .with_columns(pl.col("level").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
        .sort("_o", "unit")
        .drop("_o")
        .select("level", "unit", "city_name", "county_code", "team_id", *COUNTS)
    )


__all__ = [
    "ACTION_SEP",
    "COUNTS",
    "EVIDENCE_SEP",
    "LIST_SEP",
    "SUPERVISION",
    "TERMINATE",
    "discipline_summary",
    "empty_incidents",
    "evidence_names",
    "split",
    "validate_incidents",
]
