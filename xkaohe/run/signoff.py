"""Sign-off commands: ``keys``, ``sign``, ``verify-signatures``, ``release-feedback``.

Plan 六(五): team reports go to the provincial office 经组长和副组长签字. Plan
七(二) and 八(三): findings are fed back one-to-one, and never to the assessed
places during the assessment (不得向被考核市、县反馈考核结果). So:

* ``xkaohe keys`` makes a leader's or deputy's Ed25519 key pair; with
  ``--run`` the public key is registered in the run for the person the
  lottery names.
* ``xkaohe sign`` signs one team report: the SHA-256 of its HTML and the
  digest of the results slice it reads. Only the leader or deputy of the team
  that assessed the report's city may sign.
* ``xkaohe verify-signatures`` checks every report (:mod:`xkaohe.analyse.signoff`).
* ``xkaohe release-feedback`` releases a city's feedback packages only after
  the field week and when every team report of the city is signed, and
  appends who released what, when, with the package hashes, to the release
  record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe.analyse.signoff import (
    BAD,
    TEAM_REPORT_NOTEBOOKS,
    city_ready,
    collect_signoff,
    team_of_city,
)
from xkaohe.errors import InputError, Problem, VerificationError
from xkaohe.io.files import read_text, write_text
from xkaohe.io.lottery_files import read_lottery
from xkaohe.io.paths import run_relative
from xkaohe.io.results import run_plan
from xkaohe.io.signatures import (
    ALGORITHM,
    append_release,
    html_digest,
    key_fingerprint,
    load_private_key,
    public_pem,
    read_releases,
    read_report_list,
    read_signatures,
    register_key,
    release_path,
    results_digest,
    sign,
    tree_digests,
    write_key_pair,
    write_report_list,
    write_signatures,
)
from xkaohe.io.xlsx import Sheet, write_workbook
from xkaohe.plan import Plan
from xkaohe.report.feedback import REGISTER_COLUMNS
from xkaohe.run.feedback_files import (
    REGISTER_NAME,
    city_dir,
    feedback_dir,
    package_folders,
    read_manifest,
)
from xkaohe.run.rectification import import_registers
from xkaohe.synth.signoff import (
    CHANGED_NOTE,
    DEMO_PASSPHRASE,
    RELEASED_BY,
    register_rows,
    signing_time,
)


@dataclass(frozen=True)
class ReportRef:
    """A report the batch renders: its stem, notebook, city and the counties it reads."""

    stem: str
    notebook: str
    city: str
    county_codes: tuple[str, ...]
    title: str


def record_team_reports(run: Path, reports: Iterable[ReportRef]) -> int:
    """List the run's team reports in ``signatures/reports.json`` (merged with earlier runs)."""
    listed = read_report_list(run)
    n = 0
    for r in reports:
        kind = TEAM_REPORT_NOTEBOOKS.get(r.notebook)
        if kind is None:
            continue
        listed[r.stem] = {
            "kind": kind,
            "city": r.city,
            "county_codes": list(r.county_codes),
            "title": r.title,
        }
        n += 1
    write_report_list(run, listed)
    return n


# ------------------------------------------------------------------ keys


def _person(run: Path, name: str, person_id: str | None) -> tuple[str, str]:
    """The lottery's leader or deputy called ``name`` (or with ``person_id``)."""
    lottery = read_lottery(run / "lottery")
    heads = lottery.members.filter(pl.col("role").is_in(["leader", "deputy"]))
    match = heads.filter(
        (pl.col("person_id") == person_id) if person_id else (pl.col("name") == name)
    )
    where = str(run / "lottery" / "members.csv")
    if match.height != 1:
        found = "nobody" if match.height == 0 else f"{match.height} people"
        raise InputError(
            Problem(
                where,
                None,
                "name" if not person_id else "person_id",
                f"exactly one team leader or deputy called {person_id or name!r}"
                + ("" if person_id else " (give --person-id when two share the name)"),
                found,
            )
        )
    row = match.row(0, named=True)
    if person_id and row["name"] != name:
        raise InputError(
            Problem(where, None, "name", f"{row['name']!r} for {person_id}", repr(name))
        )
    return str(row["name"]), str(row["person_id"])


def make_keys(
    name: str,
    out: Path,
    passphrase: bytes,
    run: Path | None = None,
    person_id: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """``xkaohe keys``: a key pair for ``name``; registered in ``run`` when given.

    Returns
    -------
    dict[str, str]
        ``name, person_id, public_file, fingerprint``.
    """
    if run is not None:
        name, person_id = _person(run, name, person_id)
    pub, pem = write_key_pair(out, name, person_id or "", passphrase)
    fingerprint = key_fingerprint(pem)
    if run is not None and person_id:
        when = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        register_key(
            run,
            person_id,
            {"name": name, "public_key": pem, "fingerprint": fingerprint, "registered": when},
        )
    return {
        "name": name,
        "person_id": person_id or "",
        "public_file": str(pub),
        "fingerprint": fingerprint,
    }


# ------------------------------------------------------------------ sign


def sign_report(
    run: Path,
    stem: str,
    key_file: Path,
    passphrase: bytes,
    now: dt.datetime | None = None,
    check_signer: bool = True,
) -> dict[str, Any]:
    """``xkaohe sign``: sign one team report; returns the stored entry.

    A person signing again replaces their earlier signature of the report.

    Raises
    ------
    InputError
        The report is not a team report of the run, is not rendered, or the
        key's holder is not the leader or deputy of the team that assessed
        its city (with ``check_signer``; tests turn it off to forge).
    """
    reports = read_report_list(run)
    info = reports.get(stem)
    if info is None:
        listed = ", ".join(sorted(reports)[:8]) or "none (run the reports stage)"
        raise InputError(
            Problem("--report", None, None, f"a team report of the run ({listed}, ...)", repr(stem))
        )
    html = html_digest(run, stem)
    if html is None:
        raise InputError(
            Problem(
                str(run / "reports" / f"{stem}.html"), None, None, "a rendered report", "no file"
            )
        )
    key, name, person_id = load_private_key(key_file, passphrase)
    city = str(info["city"])
    team = team_of_city(read_lottery(run / "lottery").teams).get(city)
    role = None
    if team is not None:
        role = {team.leader_id: "leader", team.deputy_id: "deputy"}.get(person_id)
    if check_signer and role is None:
        raise InputError(
            Problem(
                str(key_file),
                None,
                "xkaohe-person-id",
                f"the leader or deputy of the team that assessed {city}"
                + (
                    "" if team is None else f" ({team.team_id}: {team.leader_id}, {team.deputy_id})"
                ),
                f"{name} ({person_id or 'no person id'})",
            )
        )
    codes = list(info.get("county_codes", []))
    payload = {
        "algorithm": ALGORITHM,
        "report": stem,
        "run": run.name,
        "kind": info.get("kind"),
        "city": city,
        "county_codes": codes,
        "html_sha256": html,
        "results_sha256": results_digest(run, codes, city),
        "signer": {"name": name, "person_id": person_id},
        "role": role,
        "signed_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
    }
    entry = {
        "payload": payload,
        "public_key": public_pem(key.public_key()),
        "signature": sign(key, payload),
    }
    entries = [e for e in read_signatures(run, stem) if _signer(e) != person_id]
    write_signatures(run, stem, [*entries, entry])
    return entry


def _signer(entry: dict[str, Any]) -> str:
    payload = entry.get("payload", {})
    signer = payload.get("signer", {}) if isinstance(payload, dict) else {}
    return str(signer.get("person_id", "")) if isinstance(signer, dict) else ""


# ------------------------------------------------------------------ verify


def signoff_status(run: Path, plan: Plan | None = None) -> pl.DataFrame:
    """Every team report's sign-off status (:func:`xkaohe.analyse.signoff.collect_signoff`)."""
    plan = plan or run_plan(run)
    return collect_signoff(run, plan.signoff.roles)


def verify_signatures(run: Path) -> list[str]:
    """``xkaohe verify-signatures``: lines naming every report that is not fully signed.

    Raises
    ------
    VerificationError
        When a signed report changed after signing, was signed by someone
        who is not its team's leader or deputy, or its record was edited;
        the message names every such report and every unsigned one.
    """
    table = signoff_status(run)
    if table.height == 0:
        raise InputError(
            Problem(str(run / "signatures"), None, None, "a run with team reports", "none listed")
        )
    lines = [
        f"{r['stem']}: {r['status']}" + (f" — {r['problems']}" if r["problems"] else "")
        for r in table.filter(pl.col("status") != "signed").iter_rows(named=True)
    ]
    counts = table.group_by("status").len().sort("status")
    summary = ", ".join(f"{n} {s}" for s, n in counts.iter_rows())
    if table.filter(pl.col("status").is_in(list(BAD))).height:
        raise VerificationError("\n".join([f"{table.height} team reports: {summary}", *lines]))
    return [f"{table.height} team reports: {summary}", *lines]


# ------------------------------------------------------------------ release


def release_feedback(
    run: Path,
    by: str,
    as_of: dt.date,
    cities: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """``xkaohe release-feedback``: release every ready city's packages (or the named ones).

    A city is ready when the field week has ended by ``as_of`` (plan
    ``timeline.field_end``), its packages are built, and every team report
    of the city is ``signed``. Each release is one entry of the append-only
    record ``feedback/releases.jsonl``: who, when, the city, and the
    SHA-256 of every file of its packages. A city released before and
    unchanged since is not released twice.

    Returns
    -------
    tuple
        The entries written, and one line per city refused (why).

    Raises
    ------
    InputError
        During the field week (nothing is released), with no name, or for a
        named city the run does not have.
    """
    if not by.strip():
        raise InputError(Problem("--by", None, None, "the name of who releases", "nothing"))
    plan = run_plan(run)
    end = plan.timeline.field_end
    if as_of <= end:
        raise InputError(
            Problem(
                "--as-of",
                None,
                None,
                f"a date after the field week (ends {end.isoformat()}, plan timeline.field_end): "
                "八(三) 不得向被考核市、县反馈考核结果 during the assessment",
                as_of.isoformat(),
            )
        )
    built = package_folders(run)
    wanted = list(cities) or sorted(built)
    unknown = [c for c in wanted if c not in built]
    if unknown:
        raise InputError(
            Problem(
                str(feedback_dir(run)),
                None,
                None,
                "a city whose packages are built (run the feedback stage)",
                ", ".join(unknown),
            )
        )
    signoff = signoff_status(run, plan)
    released = released_digests(run)
    when = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    written: list[dict[str, Any]] = []
    refused: list[str] = []
    for city in wanted:
        ok, waiting = city_ready(signoff, city)
        if not ok:
            refused.append(f"{city}: not all team reports signed: {', '.join(waiting)}")
            continue
        digests = tree_digests(city_dir(run, city))
        if released.get(city) == digests:
            continue
        entry = {
            "city": city,
            "folder": run_relative(run, city_dir(run, city)),
            "released_by": by.strip(),
            "released_at": when,
            "as_of": as_of.isoformat(),
            "packages": built[city],
            "files": digests,
        }
        written.append(append_release(run, entry))
    return written, refused


def released_digests(run: Path) -> dict[str, dict[str, str]]:
    """City -> the file hashes of its latest release."""
    return {str(e["city"]): dict(e["files"]) for e in read_releases(run)}


def feedback_state(run: Path) -> pl.DataFrame:
    """Per city: ``draft``, ``released`` or ``changed_after_release``, with who and when."""
    latest = {str(e["city"]): e for e in read_releases(run)}
    rows = []
    for city in sorted(package_folders(run)):
        e = latest.get(city)
        if e is None:
            rows.append((city, "draft", None, None))
            continue
        same = tree_digests(city_dir(run, city)) == dict(e["files"])
        rows.append(
            (
                city,
                "released" if same else "changed_after_release",
                e["released_by"],
                e["released_at"],
            )
        )
    return pl.DataFrame(rows, schema=["city", "state", "released_by", "released_at"], orient="row")


def release_record_path(run: Path) -> Path:
    return release_path(run)


__all__ = [
    "ReportRef",
    "demo_signoff",
    "feedback_state",
    "make_keys",
    "record_team_reports",
    "release_feedback",
    "release_record_path",
    "released_digests",
    "sign_report",
    "signoff_status",
    "verify_signatures",
]


# ------------------------------------------------------------------ the demo


def demo_signoff(run: Path) -> dict[str, Any]:
    """Sign-off, release and a returned register for the synthetic demo (all marked synthetic).

    Keys for every leader and deputy (``run/keys/``, demo passphrase); every
    city's team reports signed except the last city's; feedback released for
    every ready city the day after the report deadline (the unsigned city's
    refused); one signed county report changed afterwards; one county's
    register returned, with overdue items and one done without evidence.
    """
    plan = run_plan(run)
    lottery = read_lottery(run / "lottery")
    when = signing_time(plan.timeline.team_reports_by)
    keys: dict[str, Path] = {}
    heads = lottery.members.filter(pl.col("role").is_in(["leader", "deputy"]))
    for pid, name in heads.select("person_id", "name").sort("person_id").iter_rows():
        key = run / "keys" / f"{pid}.key"
        if not key.exists():
            make_keys(name, key, DEMO_PASSPHRASE, run, pid, now=when)
        keys[pid] = key
    reports = read_report_list(run)
    cities = sorted({str(v["city"]) for v in reports.values()})
    unsigned_city = cities[-1] if cities else ""
    teams = team_of_city(lottery.teams)
    signed: list[str] = []
    for stem, info in sorted(reports.items()):
        team = teams.get(str(info["city"]))
        if info["city"] == unsigned_city or team is None or html_digest(run, stem) is None:
            continue
        for pid in (team.leader_id, team.deputy_id):
            sign_report(run, stem, keys[pid], DEMO_PASSPHRASE, now=when)
        signed.append(stem)
    after = plan.timeline.team_reports_by + dt.timedelta(days=1)
    released, refused = release_feedback(run, RELEASED_BY, after, now=when)
    changed = next((s for s in signed if reports[s]["kind"] == "county"), None)
    if changed is not None:  # edited after signing (and after its city's release)
        page = run / "reports" / f"{changed}.html"
        text = read_text(page)
        text = (
            text.replace("</body>", CHANGED_NOTE + "</body>", 1)
            if "</body>" in text
            else text + CHANGED_NOTE
        )
        write_text(page, text)
    returned = _demo_register(
        run, {str(e["city"]) for e in released}, plan.timeline.team_reports_by
    )
    return {
        "signed": signed,
        "changed": changed,
        "unsigned_city": unsigned_city,
        "released": [e["city"] for e in released],
        "refused": refused,
        "register": returned,
    }


def _demo_register(run: Path, released: set[str], reports_by: dt.date) -> str | None:
    """One released county's register, filled in and imported (overdue items included)."""
    manifest = read_manifest(run)
    pid, info = next(
        (
            (k, v)
            for k, v in sorted(manifest.items())
            if v["kind"] == "county" and v["city"] in released and len(v["problems"]) >= 4
        ),
        (None, None),
    )
    if pid is None or info is None:
        return None
    template = pl.read_excel(run / str(info["folder"]) / REGISTER_NAME, infer_schema_length=0)
    rows = register_rows(template[REGISTER_COLUMNS["problem_id"]].to_list(), reports_by)
    names = list(REGISTER_COLUMNS.values())[4:]
    filled = template.with_columns(
        pl.Series(names[i], [r[i] for r in rows], dtype=pl.String) for i in range(len(names))
    )
    path = run / "rectification" / "demo-returns" / f"{info['code']}-整改台账.xlsx"
    write_workbook(path, [Sheet("整改台账", filled)])
    import_registers(run, [path])
    return str(path)
