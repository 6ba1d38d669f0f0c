"""What each table of the results store is: name, key, columns with polars types.

Over ~600 lines because it is data: one declaration per results table.

The results store (``runs/<run>/results/*.parquet``, DESIGN.md "Results store
and reports") is written once per run by ``xkaohe indicators`` and read by
every report, the index, the feedback packages and the explorer. Each table is
declared here once (PUDL's ``metadata/resources`` pattern): readers name it
through :class:`Result` (``read_result(run, Result.FINDINGS)``), never by a bare
string, and :func:`check_results` refuses on write a table that is undeclared,
lacks a column, has a column of another type or an undeclared one, or repeats
its key.

Input tables (what users give us, with Chinese headers and spellings) are
declared in :mod:`xkaohe.schemas`; this module declares what we write.

To add a table: one member of :class:`Result` and one :class:`ResultTable` in
``TABLES`` below (description, columns, key). A failing check is a bug in
xkaohe, not a user's mistake: it raises :class:`ResultContractError`, which the
CLI treats as an internal error (exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl

HERE = "xkaohe/results_spec.py"  # named in messages: where to declare


class ResultContractError(RuntimeError):
    """A results table does not match its declaration (a bug, not the user's input)."""


class Result(StrEnum):
    """The name of every results table (its file is ``<name>.parquet``)."""

    COUNTIES = "counties"
    HOUSEHOLDS = "households"
    COUNTY_INDICATORS = "county_indicators"
    COUNTY_VERDICTS = "county_verdicts"
    EXIT_STANDARD = "exit_standard"
    COUNTY_ITEMS = "county_items"
    CHECK_CLAIMS = "check_claims"
    CHECK_HELPERS = "check_helpers"
    CHECK_VILLAGES = "check_villages"
    CHECK_PROJECTS = "check_projects"
    CHECK_RATES = "check_rates"
    CHECK_DISCREPANCIES = "check_discrepancies"
    FINDINGS = "findings"
    EXPERIENCES = "experiences"
    COMPLETENESS = "completeness"
    REJECTS = "rejects"
    RELAPSES = "relapses"
    PAIRED_VISITS = "paired_visits"
    CLAIM_CHECKS = "claim_checks"
    INTERVIEW_COVERAGE = "interview_coverage"
    IDENTIFICATION = "identification"
    COUNTY_FOCUS = "county_focus"
    INCIDENTS = "incidents"
    INCIDENT_EVIDENCE = "incident_evidence"
    DISCIPLINE_SUMMARY = "discipline_summary"
    SAMPLE_PLAN = "sample_plan"


@dataclass(frozen=True)
class ResultTable:
    """One results table.

    ``key`` is unique over the table (nulls compare equal); ``optional``
    columns may be absent (e.g. the status of a rate the plan does not judge)
    but have their declared type when present.
    """

    name: Result
    description: str
    columns: Mapping[str, pl.DataType]
    key: tuple[str, ...] = ()
    optional: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        stray = [c for c in (*self.key, *self.optional) if c not in self.columns]
        if stray:
            raise ResultContractError(
                f"results table '{self.name}' in {HERE}: key or optional column(s) "
                f"{', '.join(stray)} are not among its columns"
            )

    @property
    def required(self) -> tuple[str, ...]:
        """The columns every written table has."""
        return tuple(c for c in self.columns if c not in self.optional)

    def schema(self) -> pl.Schema:
        """The declared columns and types (optional ones included)."""
        return pl.Schema(dict(self.columns))


STR, INT, FLT, BOOL, DATE = pl.String(), pl.Int64(), pl.Float64(), pl.Boolean(), pl.Date()

RATES = ("wrong_exit_rate", "omission_rate", "approval_rate", "wrong_inclusion_rate")
"""The rates of ``county_indicators``, as :data:`xkaohe.analyse.indicators.RATES` names them."""


def _rate_columns(rates: Iterable[str]) -> dict[str, pl.DataType]:
    out: dict[str, pl.DataType] = {}
    for r in rates:
        out |= {r: FLT, f"{r}_est": FLT, f"{r}_low": FLT, f"{r}_high": FLT, f"{r}_n": INT}
        out |= {f"{r}_df": INT, f"{r}_insufficient": BOOL, f"{r}_status": STR, f"{r}_detect": FLT}
    return out


_EVIDENCE: dict[str, pl.DataType] = {
    "has_labour": BOOL,
    "industry_support": BOOL,
    "received_project_benefit": BOOL,
    "whole_household": BOOL,
    "members_left_out": INT,
    "procedure_ok": BOOL,
    "edge_household": BOOL,
    "monitored": BOOL,
}
"""The household survey's claim-evidence columns (schemas.EVIDENCE_COLUMNS)."""

_CLAIM: dict[str, pl.DataType] = {
    "table": STR,
    "claim_id": STR,
    "date": DATE,
    "source": STR,
    "level": STR,
    "role": STR,
    "person_id": STR,
    "document": STR,
    "city_name": STR,
    "county_code": STR,
    "village_code": STR,
    "household_id": STR,
    "project_id": STR,
    "item": STR,
    "value": STR,
    "file": STR,
    "row": INT,
}

_IDENTIFICATION: dict[str, pl.DataType] = {"county_code": STR}
for _case in ("not_whole", "procedure_bad", "edge_unmonitored", "benefit_missing"):
    _IDENTIFICATION |= {f"{_case}_asked": INT, _case: INT, f"{_case}_refs": STR}
_IDENTIFICATION["members_left_out"] = INT

# R_status and R_detect exist only for the rates the plan judges (it may judge fewer).
_RATE_OPTIONAL = frozenset(f"{r}_{part}" for r in RATES for part in ("status", "detect"))

_TABLES = (
    ResultTable(
        Result.COUNTIES,
        "The frame's counties: category, city, pairing, 深度贫困县 flag (one row per county).",
        {
            "county_code": STR,
            "county_name": STR,
            "city_name": STR,
            "category": STR,
            "national_poverty_county": BOOL,
            "paired_helper_county": STR,
            "deep_poverty": BOOL,
        },
        key=("county_code",),
    ),
    ResultTable(
        Result.HOUSEHOLDS,
        "Each usable household questionnaire with its classification and design weight.",
        {
            "_row": INT,
            "household_id": STR,
            "village_code": STR,
            "visit_date": DATE,
            "team_id": STR,
            "registered": BOOL,
            "household_size": INT,
            "income_per_capita_yuan": FLT,
            "food_clothing_ok": BOOL,
            "education_ok": BOOL,
            "medical_ok": BOOL,
            "housing_safe": BOOL,
            "water_safe": BOOL,
            "ineligible_evidence": BOOL,
            "knows_helper": BOOL,
            "approval": STR,
            "exit_year": INT,
            "relapse_cause": STR,
            "visitors": STR,
            "county_code": STR,
            "frame_status": STR,
            "selected_as": STR,
            "income_ok": BOOL,
            "qualified": BOOL,
            "is_exited": BOOL,
            "approves": BOOL,
            "wrong_exit": BOOL,
            "omission": BOOL,
            "wrong_inclusion": BOOL,
            "relapse": BOOL,
            "relapse_plan_named": BOOL,
            "classification": STR,
            "weight": FLT,
            "city_name": STR,
            **_EVIDENCE,
        },
        key=("village_code", "household_id"),
        # optional columns of the household survey (the claim evidence: issue 13)
        optional=frozenset({"visitors", *_EVIDENCE}),
    ),
    ResultTable(
        Result.SAMPLE_PLAN,
        "What the plan asks of each county's sample (五(七)), by its per-county rule: village "
        "quotas per county, household quotas and general households per sampled village.",
        {
            "county_code": STR,
            "village_code": STR,
            "kind": STR,
            "category": STR,
            "basis": STR,
            "rule": INT,
            "planned": INT,
        },
        key=("county_code", "village_code", "kind", "category"),
    ),
    ResultTable(
        Result.COUNTY_INDICATORS,
        "Per county and rate: official ratio R, estimate, 95% interval, n, df, status.",
        {"county_code": STR, "candidate_household_share": FLT, **_rate_columns(RATES)},
        key=("county_code",),
        optional=_RATE_OPTIONAL,
    ),
    ResultTable(
        Result.COUNTY_VERDICTS,
        "One verdict per county (fail/no_data/not_found/pass), its scope and failing rates.",
        {"county_code": STR, "verdict": STR, "scope": STR, "failing": STR},
        key=("county_code",),
    ),
    ResultTable(
        Result.EXIT_STANDARD,
        "The exit standard of the counties exiting this year: 综合贫困发生率, 贫困村出列, verdict.",
        {
            "county_code": STR,
            "rural_population": INT,
            "registered_persons": INT,
            "remaining_poor_persons": INT,
            "omitted_persons_est": FLT,
            "wrongly_exited_persons_est": FLT,
            "poverty_incidence": FLT,
            "poverty_incidence_low": FLT,
            "poverty_incidence_high": FLT,
            "poverty_incidence_status": STR,
            "poor_villages": INT,
            "poor_villages_exited": INT,
            "poor_villages_ok": BOOL,
            "verdict": STR,
            "failing": STR,
        },
        key=("county_code",),
    ),
    ResultTable(
        Result.COUNTY_ITEMS,
        "Per county and content item (两不愁三保障 ...): the share meeting it, with interval.",
        {
            "county_code": STR,
            "item": STR,
            "label": STR,
            "rate": FLT,
            "est": FLT,
            "low": FLT,
            "high": FLT,
            "n": INT,
        },
        key=("county_code", "item"),
    ),
    ResultTable(
        Result.CHECK_CLAIMS,
        "Each helper's claim about one surveyed household against the household's answer.",
        {
            "county_code": STR,
            "village_code": STR,
            "helper_id": STR,
            "household_id": STR,
            "item": STR,
            "claim": STR,
            "answer": STR,
            "agrees": BOOL,
            "status": STR,
            "claim_value": FLT,
            "answer_value": FLT,
            "interview_id": STR,
            "interview_row": INT,
            "survey_row": INT,
        },
        key=("interview_id", "item", "household_id"),
    ),
    ResultTable(
        Result.CHECK_HELPERS,
        "Per helper (帮扶责任人) and village: claims checked, mismatches, awareness.",
        {
            "county_code": STR,
            "village_code": STR,
            "helper_id": STR,
            "claims": INT,
            "checked": INT,
            "mismatches": INT,
            "mismatch_rate": FLT,
            "households": INT,
            "households_not_knowing": INT,
            "mismatch_flagged": BOOL,
            "flagged": BOOL,
        },
        key=("county_code", "village_code", "helper_id"),
    ),
    ResultTable(
        Result.CHECK_VILLAGES,
        "A village cadre's claim per item against the village's surveyed households.",
        {
            "county_code": STR,
            "village_code": STR,
            "item": STR,
            "claim": BOOL,
            "claimants": INT,
            "households": INT,
            "contradicting": INT,
            "mismatch_rate": FLT,
            "flagged": BOOL,
            "interview_rows": pl.List(INT),
            "contradicting_rows": pl.List(INT),
        },
        key=("county_code", "village_code", "item", "claim"),
    ),
    ResultTable(
        Result.CHECK_PROJECTS,
        "Each sampled project's record against the team's project check.",
        {
            "county_code": STR,
            "village_code": STR,
            "project_id": STR,
            "kind": STR,
            "level": STR,
            "name": STR,
            "funds_yuan": FLT,
            "beneficiaries_drawn": INT,
            "checked": BOOL,
            "check_date": DATE,
            "check_status": STR,
            "funds_spent_yuan": FLT,
            "beneficiaries_confirmed": INT,
            "issue": STR,
            "check_row": INT,
            "funds_overspent": BOOL,
            "spent_but_not_started": BOOL,
            "spent_but_abandoned": BOOL,
            "beneficiaries_short": BOOL,
            "not_checked": BOOL,
            "any_discrepancy": BOOL,
        },
        key=("project_id",),
    ),
    ResultTable(
        Result.CHECK_RATES,
        "Cross-check rates per county and per village (unit), with helper awareness.",
        {
            "unit": STR,
            "county_code": STR,
            "village_code": STR,
            "helper_claims_checked": INT,
            "helper_mismatches": INT,
            "helper_mismatch_rate": FLT,
            "helper_mismatch_flagged": BOOL,
            "village_claim_households": INT,
            "village_claim_contradicting": INT,
            "village_claim_mismatch_rate": FLT,
            "village_claim_flagged": BOOL,
            "projects_sampled": INT,
            "projects_checked": INT,
            "projects_with_discrepancy": INT,
            "project_discrepancy_rate": FLT,
            "registered_asked": INT,
            "knows_helper": INT,
            "helper_awareness": FLT,
            "awareness_ok": BOOL,
        },
        key=("unit", "county_code", "village_code"),
    ),
    ResultTable(
        Result.CHECK_DISCREPANCIES,
        "One list of specific contradictions, each with the rows of the files that show it.",
        {
            "county_code": STR,
            "village_code": STR,
            "kind": STR,
            "subject": STR,
            "household_id": STR,
            "item": STR,
            "item_label": STR,
            "recorded": STR,
            "found": STR,
            "reference": STR,
        },
    ),
    ResultTable(
        Result.FINDINGS,
        "Problems: the teams' and the system's candidates, with review state and scope.",
        {
            "problem_id": STR,
            "raised_date": DATE,
            "team_id": STR,
            "level": STR,
            "city_name": STR,
            "county_code": STR,
            "village_code": STR,
            "content_item": STR,
            "description": STR,
            "evidence": STR,
            "needs_review": BOOL,
            "review_date": DATE,
            "review_outcome": STR,
            "suggestion": STR,
            "source": STR,
            "rule": STR,
            "covered_by": STR,
            "review_due": DATE,
            "review_state": STR,
            "confirmed": BOOL,
            "in_report": BOOL,
            "scope": STR,
            "_row": INT,
        },
        key=("problem_id",),
    ),
    ResultTable(
        Result.EXPERIENCES,
        "The teams' good experiences (经验做法) per city or county.",
        {
            "_row": INT,
            "experience_id": STR,
            "city_name": STR,
            "county_code": STR,
            "title": STR,
            "description": STR,
        },
        key=("experience_id",),
    ),
    ResultTable(
        Result.COMPLETENESS,
        "Per city and county (unit, code): whether the teams' report material is complete.",
        {
            "unit": STR,
            "code": STR,
            "name": STR,
            "city_name": STR,
            "experiences": INT,
            "problems": INT,
            "problems_with_suggestion": INT,
            "experiences_ok": BOOL,
            "problems_ok": BOOL,
            "suggestions_ok": BOOL,
            "interviews_planned": INT,
            "interviews_missing": INT,
            "interviews_ok": BOOL,
            "ok": BOOL,
            "shortfall": STR,
        },
        key=("unit", "code"),
        # 五(三) interviews planned vs done (issue 13), when the run has the coverage
        optional=frozenset({"interviews_planned", "interviews_missing", "interviews_ok"}),
    ),
    ResultTable(
        Result.REJECTS,
        "Field-return rows set aside, with file, row, column, expected and found.",
        {
            "table": STR,
            "file": STR,
            "row": INT,
            "column": STR,
            "expected": STR,
            "found": STR,
            "county_code": STR,
        },
    ),
    ResultTable(
        Result.RELAPSES,
        "Surveyed relapsed households per county and cause (三(一)1(8)); plan-named causes "
        "singled out; a null cause was not recorded.",
        {
            "county_code": STR,
            "relapse_cause": STR,
            "plan_named": BOOL,
            "households": INT,
            "persons": INT,
            "still_poor": INT,
            "exit_year_min": INT,
            "exit_year_max": INT,
        },
        key=("county_code", "relapse_cause"),
    ),
    ResultTable(
        Result.PAIRED_VISITS,
        "Each drawn beneficiary of a paired cooperation project (五(四)) and its visit; "
        "outside the county rates.",
        {
            "county_code": STR,
            "project_id": STR,
            "household_id": STR,
            "village_code": STR,
            "visited": BOOL,
            "visit_kind": STR,
            "visit_date": DATE,
            "team_id": STR,
            "registered": BOOL,
            "household_size": INT,
            "income_per_capita_yuan": FLT,
            "qualified": BOOL,
            "approves": BOOL,
            "knows_helper": BOOL,
            "survey_row": INT,
        },
        key=("project_id", "household_id"),
    ),
    ResultTable(
        Result.CLAIM_CHECKS,
        "Every claim (meeting, document, interview, self-assessment; city to helper level) "
        "against the evidence of its item and unit: agree / contradicted (with the "
        "contradicting households or projects, file and row) / not_checkable (issue 13).",
        {
            **_CLAIM,
            "scope": STR,
            "evidence": STR,
            "checked": INT,
            "contradicting": INT,
            "verdict": STR,
            "reason": STR,
            "found": STR,
            "contradicting_ids": STR,
            "contradicting_counties": STR,
            "references": STR,
        },
        key=("table", "claim_id"),
    ),
    ResultTable(
        Result.INTERVIEW_COVERAGE,
        "Planned interviewees (五(三) quotas, interviewees.csv) against interviews done, per "
        "unit and role.",
        {
            "level": STR,
            "city_name": STR,
            "county_code": STR,
            "village_code": STR,
            "role": STR,
            "planned": INT,
            "done": INT,
            "missing": INT,
            "complete": BOOL,
        },
        key=("level", "city_name", "county_code", "village_code", "role"),
    ),
    ResultTable(
        Result.IDENTIFICATION,
        "Per county: 未整户识别, 程序不规范 (三(一)1(7)), 边缘户未纳入监测 (三(一)1(6)) and "
        "register-listed beneficiaries who received nothing (五(五)): households asked, "
        "cases, case references.",
        _IDENTIFICATION,
        key=("county_code",),
    ),
    ResultTable(
        Result.COUNTY_FOCUS,
        "Per county (三(一)1 分类考核): the documented poverty-reduction target, the persons "
        "the registry shows exited this year, the pace (achieved / target), whether the "
        "target was met, the remaining poor persons and whether they can exit by the plan's "
        "finish year at this year's pace (on_track / at_risk).",
        {
            "county_code": STR,
            "city_name": STR,
            "target_persons": FLT,
            "target_claim_id": STR,
            "achieved_persons": INT,
            "achieved_claimed": FLT,
            "pace": FLT,
            "target_met": BOOL,
            "remaining_persons": INT,
            "year": INT,
            "finish_year": INT,
            "years_left": INT,
            "on_time": STR,
        },
        key=("county_code",),
    ),
    ResultTable(
        Result.INCIDENTS,
        "The discipline register (八(二)(三)): one row per incident, the plan's codes for "
        "reporter, rule (and the party it binds) and actions (joined by ';'); team_id the "
        "team of the place when the register left it empty.",
        {
            "incident_id": STR,
            "date": DATE,
            "city_name": STR,
            "county_code": STR,
            "team_id": STR,
            "reporter": STR,
            "rule": STR,
            "party": STR,
            "actions": STR,
            "terminated": BOOL,
            "description": STR,
            "outcome": STR,
            "evidence_files": INT,
            "evidence_missing": BOOL,
            "source_row": INT,
        },
        key=("incident_id",),
    ),
    ResultTable(
        Result.INCIDENT_EVIDENCE,
        "Each evidence file of an incident: its name in the register, SHA-256, size and "
        "where the run keeps it (content-addressed, read-only).",
        {
            "incident_id": STR,
            "city_name": STR,
            "county_code": STR,
            "file": STR,
            "sha256": STR,
            "bytes": INT,
            "object": STR,
        },
        key=("incident_id", "file"),
    ),
    ResultTable(
        Result.DISCIPLINE_SUMMARY,
        "Incidents per city, county and team (zeros included): by the assessed place, by "
        "the team, field work terminated, without evidence, reported by the 督查组.",
        {
            "level": STR,
            "unit": STR,
            "city_name": STR,
            "county_code": STR,
            "team_id": STR,
            "incidents": INT,
            "assessed_breaches": INT,
            "team_breaches": INT,
            "terminated": INT,
            "without_evidence": INT,
            "by_supervision": INT,
        },
        key=("level", "unit"),
    ),
)

TABLES: dict[Result, ResultTable] = {t.name: t for t in _TABLES}
"""Every declared results table by name."""


def _check_registry() -> None:
    missing = [r.value for r in Result if r not in TABLES]
    if missing or len(TABLES) != len(_TABLES):
        raise ResultContractError(
            f"{HERE}: every Result needs exactly one ResultTable; "
            f"without one: {', '.join(missing) or '-'}"
        )


_check_registry()


def table(name: str) -> ResultTable:
    """The declaration of ``name``; an undeclared name says where to declare it."""
    try:
        return TABLES[Result(name)]
    except ValueError:
        raise ResultContractError(
            f"results table '{name}' is not declared: add a member to Result and a "
            f"ResultTable (description, columns with polars types, key) to TABLES in {HERE}"
        ) from None


def _key_problems(spec: ResultTable, df: pl.DataFrame) -> list[str]:
    if not spec.key or df.height == 0 or any(c not in df.columns for c in spec.key):
        return []
    dup = df.select(spec.key).filter(pl.struct(spec.key).is_duplicated())
    if dup.height == 0:
        return []
    shown = ", ".join(
        "(" + ", ".join(repr(v) for v in row) + ")" for row in dup.unique().head(3).iter_rows()
    )
    return [f"key ({', '.join(spec.key)}) repeated in {dup.height} rows, e.g. {shown}"]


def check_result(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """``df`` checked against the declaration of ``name``.

    A column of polars type ``Null`` (all values empty, type unknown) is cast
    to its declared type; that is the only change.

    Raises
    ------
    ResultContractError
        The table is undeclared, or every way it differs from its declaration:
        a missing, undeclared or wrongly typed column, a repeated key.
    """
    spec = table(name)
    problems = [f"column '{c}' missing" for c in spec.required if c not in df.columns]
    nulls: list[pl.Expr] = []
    for c, dtype in df.schema.items():
        declared = spec.columns.get(c)
        if declared is None:
            problems.append(f"column '{c}' ({dtype}) is not declared")
        elif dtype == pl.Null:
            nulls.append(pl.col(c).cast(declared))
        elif dtype != declared:
            problems.append(f"column '{c}': declared {declared}, found {dtype}")
    problems += _key_problems(spec, df)
    if problems:
        raise ResultContractError(
            f"results table '{spec.name}' does not match its declaration in {HERE}: "
            + "; ".join(problems)
        )
    return df.with_columns(nulls) if nulls else df


def check_results(tables: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Every table of a run checked (:func:`check_result`), all problems in one error."""
    out: dict[str, pl.DataFrame] = {}
    problems: list[str] = []
    for name, df in tables.items():
        try:
            out[name] = check_result(name, df)
        except ResultContractError as exc:
            problems.append(str(exc))
    if problems:
        raise ResultContractError("\n".join(problems))
    return out


__all__ = [
    "RATES",
    "TABLES",
    "Result",
    "ResultContractError",
    "ResultTable",
    "check_result",
    "check_results",
    "table",
]
