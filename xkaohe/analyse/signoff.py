"""Whether each team report is rightly signed and unchanged (plan 六(五): 经组长和副组长签字).

A team report (city, county, pairing) is signed by its team's leader and
deputy: the team is the lottery team whose ``target_cities`` include the
report's city. One signature covers the SHA-256 of the rendered HTML and the
digest of the results slice the report reads (:mod:`xkaohe.io.signatures`).
This module decides, once, what the signatures of a report amount to; the
index, the provincial report, ``verify-signatures`` and the release gate read
its codes.

Status of a report (first that applies)
---------------------------------------
``invalid``       a signature does not verify under its own key: the record
                  itself was edited
``changed``       the HTML or the results slice differs from what was signed
                  (改动于签字之后)
``wrong_signer``  a signer is not the team's leader or deputy, or signed with
                  a key that is not the one registered for them in the run
``unsigned``      no signature
``partly_signed`` rightly signed, but not yet by every role the plan requires
``signed``        rightly signed by every required role, nothing changed
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe.inputs import CITY_SEP
from xkaohe.io.lottery_files import read_lottery
from xkaohe.io.signatures import (
    html_digest,
    read_key_registry,
    read_report_list,
    read_signatures,
    results_digest,
    signature_valid,
    signed_stems,
)

STATUSES = ("invalid", "changed", "wrong_signer", "unsigned", "partly_signed", "signed")
"""Report sign-off codes, worst first."""
BAD = frozenset({"invalid", "changed", "wrong_signer"})
"""Codes that make ``verify-signatures`` fail."""
TEAM_REPORT_NOTEBOOKS = {
    "city_report.ipynb": "city",
    "county_report.ipynb": "county",
    "paired_report.ipynb": "paired",
}
"""The reports a team signs (六(五): 市、县两级交叉考核报告 and the pairing reports)."""

SCHEMA = {
    "stem": pl.String,
    "kind": pl.String,
    "city": pl.String,
    "title": pl.String,
    "team_id": pl.String,
    "status": pl.String,
    "leader_signed": pl.Boolean,
    "deputy_signed": pl.Boolean,
    "signers": pl.String,
    "signed_at": pl.String,
    "problems": pl.String,
}


@dataclass(frozen=True)
class Signature:
    """What one signature entry of a report shows, checked against the run as it is now."""

    person_id: str
    name: str
    signed_at: str
    valid: bool  # the signature verifies under the public key it carries
    registered: bool  # that key is the one registered for the person in the run
    html_matches: bool
    results_matches: bool
    report_matches: bool  # the payload names this report


@dataclass(frozen=True)
class Team:
    team_id: str
    leader_id: str
    deputy_id: str


def judge(
    signatures: Sequence[Signature], team: Team | None, required: Sequence[str]
) -> tuple[str, bool, bool, list[str]]:
    """The status of one report, which roles signed rightly, and what is wrong (English).

    Parameters
    ----------
    signatures
        The report's signature entries, checked.
    team
        The team that assessed the report's city (None when the lottery has none).
    required
        Roles that must sign, from the plan (``leader``, ``deputy``).
    """
    problems: list[str] = []
    roles = {} if team is None else {team.leader_id: "leader", team.deputy_id: "deputy"}
    codes: set[str] = set()
    rightly: set[str] = set()
    for s in signatures:
        who = f"{s.name} ({s.person_id})"
        if not s.valid or not s.report_matches:
            codes.add("invalid")
            problems.append(f"the signature of {who} does not verify: the record was edited")
            continue
        if not s.html_matches:
            codes.add("changed")
            problems.append(f"the report HTML changed after {who} signed it on {s.signed_at}")
        if not s.results_matches:
            codes.add("changed")
            problems.append(f"the results it shows changed after {who} signed on {s.signed_at}")
        role = roles.get(s.person_id)
        if role is None:
            codes.add("wrong_signer")
            team_text = "no team" if team is None else f"team {team.team_id}"
            problems.append(f"{who} is not the leader or deputy of {team_text}")
        elif not s.registered:
            codes.add("wrong_signer")
            problems.append(f"{who} signed with a key not registered for them in this run")
        elif s.html_matches and s.results_matches:
            rightly.add(role)
    for code in STATUSES[:3]:
        if code in codes:
            return code, "leader" in rightly, "deputy" in rightly, problems
    if not signatures:
        return "unsigned", False, False, ["not signed"]
    missing = [r for r in required if r not in rightly]
    if missing:
        return (
            "partly_signed",
            "leader" in rightly,
            "deputy" in rightly,
            [f"not yet signed by the {' and '.join(missing)}"],
        )
    return "signed", "leader" in rightly, "deputy" in rightly, []


def team_of_city(teams: pl.DataFrame) -> dict[str, Team]:
    """City -> the lottery team that assesses it."""
    out: dict[str, Team] = {}
    for r in teams.iter_rows(named=True):
        for city in str(r["target_cities"]).split(CITY_SEP):
            out[city] = Team(r["team_id"], r["leader_id"], r["deputy_id"])
    return out


def check_entry(
    entry: Mapping[str, Any],
    stem: str,
    registry: Mapping[str, Mapping[str, str]],
    html: str | None,
    results: str | None,
) -> Signature:
    """One stored signature entry checked against the current files (never raises)."""
    payload = entry.get("payload")
    if not isinstance(payload, dict):
        payload = {}
    signer = payload.get("signer")
    if not isinstance(signer, dict):
        signer = {}
    pem = str(entry.get("public_key", ""))
    person = str(signer.get("person_id", ""))
    known = registry.get(person)
    return Signature(
        person_id=person,
        name=str(signer.get("name", "")),
        signed_at=str(payload.get("signed_at", "")),
        valid=signature_valid(pem, payload, str(entry.get("signature", ""))),
        registered=known is not None and known.get("public_key") == pem,
        html_matches=html is not None and payload.get("html_sha256") == html,
        results_matches=results is not None and payload.get("results_sha256") == results,
        report_matches=payload.get("report") == stem,
    )


def collect_signoff(run: Path, required: Sequence[str]) -> pl.DataFrame:
    """Every team report of ``run`` with its sign-off status (:data:`SCHEMA`), by stem.

    Team reports are those the reports stage listed in
    ``signatures/reports.json``; a signature file for a report not listed
    there is shown too (kind null), so nothing signed is hidden.
    """
    reports = read_report_list(run)
    registry = read_key_registry(run)
    teams = team_of_city(read_lottery(run / "lottery").teams) if (run / "lottery").is_dir() else {}
    names = _names(run)
    rows: list[dict[str, Any]] = []
    tables: dict[Path, Any] = {}  # each results table read once for every report (106: 25 s -> 1 s)
    for stem in sorted(set(reports) | set(signed_stems(run))):
        info = reports.get(stem, {})
        city = info.get("city")
        team = teams.get(city) if city else None
        entries = read_signatures(run, stem)
        # digests only for what was signed: a results digest costs ~0.1-0.8 s a report,
        # and the index is written after every batch (an unchanged re-run: 51 s -> seconds)
        html = html_digest(run, stem) if entries else None
        codes = list(info.get("county_codes", []))
        results = results_digest(run, codes, city, tables) if info and entries else None
        checked = [check_entry(e, stem, registry, html, results) for e in entries]
        status, leader, deputy, problems = judge(checked, team, required)
        if not info:
            problems.insert(0, "a signature for a report the run does not list")
        rows.append(
            {
                "stem": stem,
                "kind": info.get("kind"),
                "city": city,
                "title": info.get("title", stem),
                "team_id": None if team is None else team.team_id,
                "status": status,
                "leader_signed": leader,
                "deputy_signed": deputy,
                "signers": "、".join(
                    f"{names.get(s.person_id, s.name)}" for s in checked if s.valid
                ),
                "signed_at": max((s.signed_at for s in checked), default=None),
                "problems": "; ".join(problems),
            }
        )
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def _names(run: Path) -> dict[str, str]:
    if not (run / "lottery").is_dir():
        return {}
    members = read_lottery(run / "lottery").members
    return dict(members.select("person_id", "name").iter_rows())


def team_names(run: Path, cities: Iterable[str]) -> pl.DataFrame:
    """Leader and deputy of the team assessing each city: ``city, team_id, leader, deputy``."""
    lottery = read_lottery(run / "lottery")
    names = dict(lottery.members.select("person_id", "name").iter_rows())
    teams = team_of_city(lottery.teams)
    rows = [
        (c, t.team_id, names.get(t.leader_id, t.leader_id), names.get(t.deputy_id, t.deputy_id))
        for c in cities
        if (t := teams.get(c)) is not None
    ]
    return pl.DataFrame(rows, schema=["city", "team_id", "leader", "deputy"], orient="row")


def city_ready(signoff: pl.DataFrame, city: str) -> tuple[bool, list[str]]:
    """Whether every team report of ``city`` is ``signed``; the stems that are not."""
    mine = signoff.filter((pl.col("city") == city) & pl.col("kind").is_not_null())
    waiting = mine.filter(pl.col("status") != "signed")
    lines = [f"{r['stem']} ({r['status']})" for r in waiting.iter_rows(named=True)]
    if mine.height == 0:
        return False, [f"no team report of {city} is listed (run the reports stage)"]
    return not lines, lines


__all__ = [
    "BAD",
    "SCHEMA",
    "STATUSES",
    "TEAM_REPORT_NOTEBOOKS",
    "Signature",
    "Team",
    "check_entry",
    "city_ready",
    "collect_signoff",
    "judge",
    "team_names",
    "team_of_city",
]
