"""The commands' work: load inputs, compute, write outputs with a certificate.

Near ~600 lines because it holds one short load -> compute -> write function per
command (synth, indicators, lottery, ingest and their verifiers); the rules are
below it, in the stage packages. The sample commands are in :mod:`xkaohe.run.sample`
(re-exported here), so ``xkaohe sample`` does not import the analysis stack.

Each function here is one step of the cycle in DESIGN.md and is what the CLI
(and ``xkaohe demo``) calls. Logic lives in the modules they call; this file
only wires loading, computing and writing together.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe import __version__
from xkaohe.analyse.candidates import candidate_problems
from xkaohe.analyse.claims import (
    all_claims,
    check_claims,
    evidence_rows,
    identification,
    interview_coverage,
)
from xkaohe.analyse.consistency import cross_check
from xkaohe.analyse.county_facts import reduction_pace, register_evidence
from xkaohe.analyse.estimate import count_frame
from xkaohe.analyse.findings import completeness, merge_findings
from xkaohe.analyse.indicators import (
    candidate_share,
    classify,
    county_indicators,
    item_rates,
    weighted,
)
from xkaohe.analyse.paired import paired_visit_table
from xkaohe.analyse.relapses import relapse_counts
from xkaohe.analyse.sample_plan import sample_plan
from xkaohe.analyse.verdicts import county_verdicts, exit_standard
from xkaohe.draw.lottery import PROTOCOL as LOTTERY_PROTOCOL
from xkaohe.draw.lottery import build_certificate, draw_lottery
from xkaohe.draw.sampling import draw_sample
from xkaohe.errors import InputError, Problem, VerificationError, XkaoheError
from xkaohe.field.checks import check_field
from xkaohe.field.ledger import (
    IngestResult,
    as_field,
    current,
    disagreements,
    field_records,
    ingest,
    load_context,
    versions,
)
from xkaohe.field.verify_ledger import Verification, check_heads, verify
from xkaohe.inputs import ROW, Field, Frame, Lottery, Roster
from xkaohe.io.columns import NO_MAP, ColumnMap, load_column_map, parse_column_map
from xkaohe.io.deliveries import recover, stage_delivery, write_deliveries
from xkaohe.io.discipline import register_dir, write_register
from xkaohe.io.field import load_field
from xkaohe.io.files import read_json, sha256_file
from xkaohe.io.frame import INDICATOR_COLUMNS, load_frame
from xkaohe.io.ledger import LEDGER, Ledger, storage_error
from xkaohe.io.lock import run_lock
from xkaohe.io.lottery_files import (
    CERTIFICATE,
    compare_outputs,
    locate_input,
    write_lottery,
)
from xkaohe.io.lottery_files import read_certificate as read_lottery_certificate
from xkaohe.io.plan_file import load_plan, plan_hash
from xkaohe.io.resources import default_plan
from xkaohe.io.results import write_results
from xkaohe.io.roster import load_roster
from xkaohe.io.run import is_synthetic, mark_synthetic
from xkaohe.io.sample_package import (
    read_certificate,
    read_package,
    write_tables,
)
from xkaohe.plan import Plan
from xkaohe.report.lottery import team_list_sheets
from xkaohe.results_spec import Result
from xkaohe.run.discipline import check_register, keep_register

# The sample commands live apart (a fast start); callers may still import them from here.
from xkaohe.schemas import normalise_counties
from xkaohe.synth.deliveries import delivery_files, synthesize_deliveries
from xkaohe.synth.discipline import synthesize_incidents
from xkaohe.synth.field import synthesize_field
from xkaohe.synth.frame import SCALES, synthesize_frame, synthesize_roster


def run_synth(
    out: Path, scale: str, seed: str, plan_path: Path | None = None, deliveries: bool = True
) -> dict[str, int]:
    """``xkaohe synth``: frame, roster, a week of field returns and the planted truth.

    The field returns answer the sample that ``xkaohe sample`` draws from this
    frame with the same seed and plan (and the lottery's teams visit). With
    ``deliveries``, the same week as the teams deliver it day by day, with media
    (``deliveries/``; ``deliveries-tampered/`` for the tamper demo).
    """

    if scale not in SCALES:
        raise InputError(Problem("--scale", None, None, " or ".join(SCALES), repr(scale)))
    plan = load_plan(plan_path or DEFAULT_PLAN)
    frame = synthesize_frame(scale, seed)
    roster = synthesize_roster(frame["counties"], seed)
    try:
        lottery: Lottery | None = draw_lottery(
            Roster(roster["cities"], roster["assessors"]), plan, seed
        )
    except XkaoheError:  # a national roster has more groups than the plan's teams
        lottery = None
    sample = draw_sample(Frame.from_tables(frame), plan, seed)
    teams = lottery.teams if lottery is not None else None
    field, truth = synthesize_field(frame, sample, plan, seed, teams)
    week = None  # the field week day by day (needs the lottery's teams and pairs)
    if lottery is not None:
        week = synthesize_deliveries(field, frame["counties"], sample, lottery, plan, seed)
        field, truth = week.field, truth | {"deliveries": week.planted}
    written = {"frame": frame, "roster": roster, "field": field, "truth": truth}
    for folder, tables in written.items():
        write_tables(out / folder, tables)
    delivered = {}
    if week is not None and deliveries:  # thousands of small media files
        parts = (("deliveries", week.deliveries), ("deliveries-tampered", week.tampered))
        for folder, part in parts:
            delivered[f"{folder}/files"] = write_deliveries(out / folder, delivery_files(part))
    if lottery is not None:  # 八(二)(三): the register the teams and the 督查组 kept
        incidents, evidence = synthesize_incidents(frame["counties"], lottery, plan, seed)
        write_register(register_dir(out / "field"), incidents, evidence)
        delivered["discipline/incidents"] = incidents.height
    mark_synthetic(out, f"synthetic province (xkaohe synth), scale {scale}, seed {seed!r}")
    return {f"{folder}/{k}": v.height for folder, t in written.items() for k, v in t.items()} | (
        delivered
    )


DEFAULT_PLAN = default_plan()  # params/plan-2019.yaml, of the checkout or the wheel


def compute_results(
    frame: Frame, sample: dict[str, pl.DataFrame], field: Field, plan: Plan, as_of: dt.date
) -> dict[str, pl.DataFrame]:
    """Every result of a run, for all counties at once (DESIGN.md, "Results store")."""
    counties = (
        normalise_counties(frame.counties)
        .select(
            "county_code",
            "county_name",
            "city_name",
            "category",
            "national_poverty_county",
            "paired_helper_county",
            "deep_poverty",
        )
        .sort("county_code")
    )
    checked = check_field(field, counties, sample, plan)
    villages = sample["villages"]
    households = classify(checked.household_survey, plan)
    sampled = villages.select("village_code")
    counts = count_frame(
        frame.villages.join(sampled, on="village_code", how="semi"),
        # a filter, not a semi join: the join took gigabytes on 30 million households
        frame.households.filter(pl.col("village_code").is_in(sampled["village_code"].implode())),
    )
    households = weighted(households, villages, counts).join(
        counties.select("county_code", "city_name"), on="county_code", how="left"
    )
    coverage = candidate_share(sample["village_candidates"], frame.villages, frame.households)
    indicators = county_indicators(households, counties, plan, coverage)
    verdicts = county_verdicts(indicators, counties, plan)
    items = item_rates(households, plan)
    projects = sample["projects"]
    # Who helps each surveyed household: the cross-checks and the claims' evidence look
    # only at surveyed households, so the 30 million frame rows shrink to them once.
    assignments = frame.households.select("helper_id", "household_id").filter(
        pl.col("household_id").is_in(households["household_id"].implode())
    )
    sources = {f.name: f.path.name for f in field.files}
    checks = cross_check(
        households,
        checked.interviews,
        projects,
        checked.project_checks,
        plan,
        assignments=assignments,
        sources=sources,
    )
    claims = all_claims(checked.claims, checked.interviews, counties, sources)
    evidence = evidence_rows(
        households,
        frame.project_beneficiaries,
        projects.select("project_id", "county_code")
        .join(frame.projects.select("project_id", "village_code"), on="project_id", how="left")
        .join(counties.select("county_code", "city_name"), on="county_code", how="left")
        .join(checked.project_checks.select("project_id", "result", ROW), on="project_id"),
        plan,
        sources,
        assignments=assignments,
    )
    frame_files = {f.name: f.path.name for f in frame.files}
    sampled_checks = (
        projects.select("project_id", "county_code")
        .join(
            checked.project_checks.select("project_id", "status", ROW), on="project_id", how="left"
        )
    )
    register = register_evidence(
        frame.households,
        frame.villages,
        frame.projects,
        sampled_checks,
        counties,
        plan,
        frame_files | {"project_checks": sources.get("project_checks", "project_checks.csv")},
    )
    claim_checks = check_claims(claims, pl.concat([evidence, register]), plan)
    focus = reduction_pace(claim_checks, frame.households, frame.villages, counties, plan)
    cases = identification(households, frame.project_beneficiaries, sources)
    candidates = candidate_problems(
        indicators,
        checks,
        counties,
        plan,
        households=households,
        sources=sources,
        claims=claim_checks,
        cases=cases,
    )
    findings = merge_findings(checked.problems, candidates, plan, as_of)
    interviews = interview_coverage(sample["interviewees"], claims)
    return {
        Result.COUNTIES: counties,
        Result.SAMPLE_PLAN: sample_plan(frame.counties, villages, frame.households, plan),
        Result.HOUSEHOLDS: households,
        Result.COUNTY_INDICATORS: indicators,
        Result.COUNTY_VERDICTS: verdicts,
        Result.EXIT_STANDARD: exit_standard(
            normalise_counties(frame.counties),
            frame.villages,
            frame.households,
            indicators,
            verdicts,
            plan,
        ),
        Result.COUNTY_ITEMS: items,
        **{f"check_{name}": df for name, df in checks.tables().items()},
        Result.FINDINGS: findings,
        Result.EXPERIENCES: checked.experiences,
        Result.COMPLETENESS: completeness(
            findings, checked.experiences, counties, plan, coverage=interviews
        ),
        Result.REJECTS: checked.rejects,
        Result.RELAPSES: relapse_counts(households, plan),
        Result.CLAIM_CHECKS: claim_checks,
        Result.INTERVIEW_COVERAGE: interviews,
        Result.IDENTIFICATION: cases,
        Result.COUNTY_FOCUS: focus,
        Result.PAIRED_VISITS: paired_visit_table(
            sample["project_households"],
            sample["projects"],
            classify(checked.paired_visits, plan),
            households,
        ),
    }


def choose_as_of(
    plan: Plan, given: dt.date | None, synthetic: bool, today: dt.date
) -> tuple[dt.date, str]:
    """The run's as-of date and how it was chosen (recorded in the results manifest).

    A given date is used as it is. Otherwise the run date: a real assessment
    is judged on the day it is computed. Synthetic demo data has no run date
    of its own, so the run date is moved into the plan's field week (六(四)),
    the week the demo pretends to be in.
    """
    if given is not None:
        return given, "given"
    if synthetic:
        return plan.timeline.in_field_week(today), "run date, moved into the field week (synthetic)"
    return today, "run date"


HOUSEHOLDS_USED = ("household_id", "village_code", "status", "household_size", "helper_id")
"""The frame's household columns the results are computed from (all are checked)."""


def run_indicators(
    frame_dir: Path,
    sample_dir: Path,
    field_dir: Path,
    plan_path: Path,
    out: Path,
    as_of: dt.date | None = None,
    columns: Path | None = None,
) -> dict[str, pl.DataFrame]:
    """``xkaohe indicators``: results of the run written once to ``out``.

    ``as_of`` (the day review states and deadlines are judged on) defaults to
    the run date; see :func:`choose_as_of`. ``columns``: the user's header map file.
    """

    plan = load_plan(plan_path)
    header_map = load_column_map(columns)
    # the results record no hash of the frame (the sample certificate holds them)
    frame = load_frame(frame_dir, INDICATOR_COLUMNS, header_map, hashed=False)
    # Checked whole, computed from a few: the villager groups, names and phones of 30
    # million households (gigabytes) are let go before the computation.
    frame = replace(frame, households=frame.households.select(HOUSEHOLDS_USED))
    sample = read_package(sample_dir)
    field, ledger_head = field_returns(field_dir, out.parent, header_map)
    register = check_register(register_dir(field_dir), out.parent, frame.counties, plan)
    synthetic = is_synthetic(frame_dir.parent) or is_synthetic(field_dir.parent)
    when, rule = choose_as_of(plan, as_of, synthetic, dt.date.today())
    results = compute_results(frame, sample, field, plan, when)
    results |= keep_register(out.parent, register)  # 八(二)(三): the discipline register
    cert = read_certificate(sample_dir)
    manifest = {
        "package_version": __version__,
        "as_of": when.isoformat(),
        "as_of_rule": rule,
        "plan": {"path": str(plan_path.resolve()), "sha256": sha256_file(plan_path)},
        "seed": cert.get("seed"),
        "sample_certificate": cert.get("outputs", {}),
        "field": {f.name: {"file": f.path.name, "sha256": f.sha256} for f in field.files},
        "ledger": ledger_head,  # the field ledger's head the results were computed at, or None
        "discipline": register.source,  # the incidents table, or None without a register
    }
    write_results(out, results, manifest, plan_path)
    if ledger_head is not None:
        note_ledger_use(out.parent, "results", ledger_head)
    return results


# --------------------------------------------------------------------------- lottery


def run_lottery(
    roster_dir: Path, plan_path: Path, seed: str, out_dir: Path, columns: Path | None = None
) -> Lottery:
    """Load the roster and plan, draw, and write teams/members/pairs, the xlsx and the certificate.

    ``columns``: the user's header map file (recorded in the certificate).

    Raises
    ------
    InputError
        A roster file or the plan cannot be read.
    RuleError
        The roster makes a hard rule impossible.
    """

    plan = load_plan(plan_path)
    header_map = load_column_map(columns)
    roster = load_roster(roster_dir, header_map)
    lottery = draw_lottery(roster, plan, seed)
    cert = build_certificate(lottery, roster, roster_dir, plan_path, plan_hash(plan_path))
    if header_map.tables:
        cert["columns"] = {"path": header_map.source, "map": header_map.as_dict()}
    write_lottery(out_dir, lottery, cert, team_list_sheets(lottery, roster))
    return lottery


def verify_lottery(out_dir: Path) -> None:
    """Re-derive the draw recorded in ``out_dir/certificate.json`` and compare with the files.

    Re-loads the roster and plan from the recorded paths (as given, else as
    resolved at the draw), checks their SHA-256, re-draws with the recorded
    seed and compares every CSV row with the one on disk.

    Raises
    ------
    VerificationError
        Listing each difference: a changed input file, a changed or missing row.
    """

    out_dir = Path(out_dir)
    cert = read_lottery_certificate(out_dir)
    cert_path = str(out_dir / CERTIFICATE)
    problems: list[Problem] = []
    try:
        protocol, seed = str(cert["protocol"]), str(cert["seed"])
        plan_path = locate_input(cert["plan"]["path"], cert["plan"]["resolved"])
        roster_dir = locate_input(cert["roster"]["dir"], cert["roster"]["resolved"])
        plan_sha, files = str(cert["plan"]["sha256"]), dict(cert["roster"]["files"])
    except (KeyError, TypeError) as exc:
        raise VerificationError(
            Problem(cert_path, None, None, "a lottery certificate", f"no entry {exc}")
        ) from None
    if protocol != LOTTERY_PROTOCOL:
        raise VerificationError(
            Problem(cert_path, None, "protocol", LOTTERY_PROTOCOL, repr(protocol))
        )
    if not plan_path.is_file():
        raise VerificationError(
            Problem(str(plan_path), None, None, "the plan file of the draw", "no such file")
        )
    now = sha256_file(plan_path)
    if now != plan_sha:
        problems.append(
            Problem(
                str(plan_path),
                None,
                None,
                f"sha256 {plan_sha} (certified)",
                f"sha256 {now}: the plan changed since the draw",
            )
        )
    recorded_map = cert.get("columns") or {}
    roster = load_roster(
        roster_dir, parse_column_map(recorded_map.get("map"), f"{cert_path} (columns)")
    )
    present = {f.name: f for f in roster.files}
    for name, rec in sorted(files.items()):
        f = present.get(name)
        if f is None or f.path.name != rec["file"]:
            problems.append(
                Problem(
                    str(roster_dir),
                    None,
                    None,
                    f"table {name} in {rec['file']}",
                    f.path.name if f else "no such table",
                )
            )
        elif f.sha256 != rec["sha256"]:
            problems.append(
                Problem(
                    str(f.path),
                    None,
                    None,
                    f"sha256 {rec['sha256']} (certified)",
                    f"sha256 {f.sha256}: the file changed since the draw",
                )
            )
    try:
        lottery = draw_lottery(roster, load_plan(plan_path), seed)
    except XkaoheError as exc:
        problems.append(
            Problem(
                str(roster_dir),
                None,
                None,
                "a roster the draw can use",
                f"the re-draw failed: {exc}",
            )
        )
    else:
        problems += compare_outputs(out_dir, lottery, cert)
    if problems:
        raise VerificationError(problems)


# --------------------------------------------------------------------------- field ledger


def field_returns(
    field_dir: Path, run: Path, columns: ColumnMap = NO_MAP
) -> tuple[Field, dict[str, Any] | None]:
    """The field returns of a run: the field ledger's current view when ``run`` has one
    (then a field folder, if there is one, must hold exactly the same records), else the
    field folder. Also the ledger's head (seq, hash) the view was read at, or None.
    """
    if not Ledger.exists(run):
        return load_field(field_dir, columns), None
    with Ledger.open_read(run) as ledger:
        view = current(versions(ledger))
        seq, head = ledger.head()
    if field_dir.is_dir():
        differ = disagreements(view, field_records(load_field(field_dir, columns)))
        if differ:
            raise InputError(
                Problem(
                    str(field_dir),
                    None,
                    None,
                    f"the records of the field ledger {run / LEDGER} (entry {seq}, "
                    f"chain head {head[:16]}…); move the folder away to compute from the "
                    "ledger, or ingest the deliveries it is missing",
                    "; ".join(differ),
                )
            )
    return as_field(view), {"seq": seq, "head": head}


def note_ledger_use(run: Path, purpose: str, head: dict[str, Any] | None = None) -> None:
    """Record in the ledger that its view at ``head`` was used: "results" (computed) or
    "report" (rendered; the head is the results manifest's). Nothing without a ledger."""
    if head is None:
        manifest = run / "results" / "manifest.json"
        head = read_json(manifest).get("ledger") if manifest.is_file() else None
    if head is None or not Ledger.exists(run):
        return
    with Ledger.create(run) as ledger:
        ledger.add_use(purpose, int(head["seq"]), str(head["head"]), _now())


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


@contextlib.contextmanager
def _waiting_lock(run: Path, command: str, wait_seconds: float) -> Iterator[None]:
    """The run's write lock; a second ingest waits for the first instead of failing."""
    deadline = time.monotonic() + wait_seconds
    with contextlib.ExitStack() as stack:
        while True:
            try:
                stack.enter_context(run_lock(run, command))
                break
            except InputError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)
        yield


def run_ingest(
    run: Path,
    deliveries: list[Path],
    now: Callable[[], dt.datetime] = _now,
    pause: Callable[[str], None] | None = None,
    wait_seconds: float = 600.0,
) -> list[IngestResult]:
    """``xkaohe ingest``: record deliveries in the run's field ledger, one transaction each.

    Holds the run's write lock (waiting up to ``wait_seconds`` for another
    writer); first finishes or undoes an interrupted ingest. A read-only or
    full run folder is an :class:`InputError` and leaves the ledger as it was.
    """
    try:
        with _waiting_lock(run, "xkaohe ingest", wait_seconds), Ledger.create(run) as ledger:
            recover(ledger)
            context = load_context(run)
            try:
                staged = [stage_delivery(ledger, Path(p)) for p in deliveries]
                return ingest(ledger, staged, context, now, pause)
            finally:
                with contextlib.suppress(Exception):
                    recover(ledger)  # copies of committed entries moved, the rest removed
    except (OSError, sqlite3.OperationalError) as exc:
        error = storage_error(exc, run / LEDGER)
        if error is None:
            raise
        raise error from None


def ingest_week(run: Path, folder: str = "deliveries") -> list[IngestResult]:
    """Ingest every delivery under ``run/<folder>/<team>/<day>/``, day by day (the demo)."""
    root = run / folder
    days: dict[str, list[Path]] = {}
    for path in sorted(root.glob("*/*")):
        days.setdefault(path.name, []).append(path)
    return [r for day in sorted(days) for r in run_ingest(run, days[day])]


def run_verify_ledger(run: Path) -> Verification:
    """``xkaohe verify-ledger``: recompute every hash and link; raise naming each change.

    Raises
    ------
    VerificationError
        An entry, record or stored file edited, deleted, reordered or inserted.
    """
    heads = []
    manifest = run / "results" / "manifest.json"
    recorded = read_json(manifest).get("ledger") if manifest.is_file() else None
    if recorded:
        heads.append((str(manifest), int(recorded["seq"]), str(recorded["head"])))
    with Ledger.open_read(run) as ledger:
        result = verify(ledger, [*heads, *check_heads(ledger.uses())])
    if result.problems:
        raise VerificationError(
            f"the field ledger {run / LEDGER} was changed:\n  " + "\n  ".join(result.problems)
        )
    return result
