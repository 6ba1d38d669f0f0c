"""Check the field returns against the sample, the plan's field week and each other.

A cell that cannot be read (a negative income, a household of 0 people, a
date that is not a date, a relapse cause the plan does not list, an exit year
after the plan's year) stops the run with a message: the team must fix its
export. A row that reads but cannot be used — an unknown household or
project, a village outside the sample, a date outside the field week
(六(四)), a second visit of the same household — is never dropped silently:
it leaves the computation and is listed in the ``rejects`` table that the
reports show, with file, row, column, what was expected and what was found.

Two kinds of household visit are accepted (``visit_kind``):

* ``sample``: a household of the village sample (五(七)2) — the drawn
  registered households and the general households of a sampled village.
  Only these enter the county rates.
* ``paired_project``: a beneficiary household of a drawn paired-cooperation
  project (五(四): 对每个合作项目随机抽查2—3户, ``project_households.csv``
  of the sample package) that is not also a drawn household of the village
  sample. These are kept apart (:attr:`CheckedField.paired_visits`) for the
  pairing report and never enter the county rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from xkaohe import schemas
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import ROW, Field
from xkaohe.io.workbooks import SHEET
from xkaohe.plan import Plan

SAMPLE, PAIRED_PROJECT = "sample", "paired_project"
"""The two kinds of household visit (``visit_kind``; see the module docstring)."""

REJECT_COLUMNS = schemas.REJECT_COLUMNS


@dataclass(frozen=True)
class Rule:
    """A row is rejected when ``bad`` holds; ``found`` says what was there."""

    column: str
    bad: pl.Expr
    expected: str
    found: pl.Expr


@dataclass(frozen=True)
class CheckedField:
    """Usable field rows (with ``county_code`` where known) and the rejected ones.

    ``household_survey`` holds the visits of the village sample only (the
    county rates' households); ``paired_visits`` the visits of paired-project
    beneficiaries outside it, with ``project_id`` (the drawn project, the
    smallest id if the household benefits from two) and ``visit_kind``.
    """

    household_survey: pl.DataFrame
    interviews: pl.DataFrame
    project_checks: pl.DataFrame
    problems: pl.DataFrame
    experiences: pl.DataFrame
    rejects: pl.DataFrame
    paired_visits: pl.DataFrame
    claims: pl.DataFrame


def _as_text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).fill_null("（空）")


def _outside_week(column: str, plan: Plan) -> Rule:
    start, end = plan.timeline.field_start, plan.timeline.field_end
    return Rule(
        column,
        pl.col(column).is_not_null() & ~pl.col(column).is_between(start, end),
        f"a date in the field week {start}..{end} (plan 六(四))",
        _as_text(pl.col(column)),
    )


def _not_in(column: str, known: pl.Series, expected: str, nullable: bool = True) -> Rule:
    present = pl.col(column).is_not_null()
    bad = present & ~pl.col(column).is_in(known.implode())
    if not nullable:
        bad = bad | ~present
    return Rule(column, bad, expected, _as_text(pl.col(column)))


def _duplicate(spec: schemas.TableSpec) -> Rule:
    """Later rows repeating an earlier row's key (the first one is used)."""
    key = pl.struct(list(spec.unique)) if len(spec.unique) > 1 else pl.col(spec.unique[0])
    return Rule(
        " + ".join(spec.unique),
        key.is_first_distinct().not_(),
        "each " + " + ".join(spec.unique) + " once (the first row is used)",
        pl.concat_str([_as_text(pl.col(c)) for c in spec.unique], separator="/")
        + pl.lit(", a repeat of an earlier row"),
    )


def apply_rules(
    df: pl.DataFrame, table: str, file: str, rules: list[Rule]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``df`` into usable rows and one reject row per (row, failed rule)."""
    if df.height == 0 or not rules:
        return df, pl.DataFrame(schema=REJECT_COLUMNS)
    flags = df.with_columns(
        [r.bad.fill_null(False).alias(f"_bad{i}") for i, r in enumerate(rules)]
        + [r.found.alias(f"_found{i}") for i, r in enumerate(rules)]
    )
    county = pl.col("county_code") if "county_code" in df.columns else pl.lit(None, pl.String)
    # a table spread over several sheets: name the row's sheet with the file
    where = (
        pl.when(pl.col(SHEET).is_null())
        .then(pl.lit(file))
        .otherwise(pl.format("{}, sheet '{}'", pl.lit(file), pl.col(SHEET)))
        if SHEET in df.columns
        else pl.lit(file)
    )
    rejects = pl.concat(
        [
            flags.filter(pl.col(f"_bad{i}")).select(
                pl.lit(table).alias("table"),
                where.alias("file"),
                pl.col(ROW).alias("row"),
                pl.lit(r.column).alias("column"),
                pl.lit(r.expected).alias("expected"),
                pl.col(f"_found{i}").alias("found"),
                county.alias("county_code"),
            )
            for i, r in enumerate(rules)
        ]
    )
    any_bad = pl.any_horizontal([pl.col(f"_bad{i}") for i in range(len(rules))])
    usable = flags.filter(~any_bad).select(df.columns)
    return usable, rejects.cast(REJECT_COLUMNS)  # type: ignore[arg-type]


def check_field(
    field: Field,
    counties: pl.DataFrame,
    sample: dict[str, pl.DataFrame],
    plan: Plan,
) -> CheckedField:
    """Usable rows of every field table, and the rejects, for all counties at once."""
    files = {f.name: f.path.name for f in field.files}

    def name(table: str) -> str:
        return files.get(table, f"{table}.csv")

    villages = sample["villages"].select("village_code", "county_code")
    sampled = sample["households"].select(
        "village_code", "household_id", pl.col("status").alias("frame_status"), "selected_as"
    )
    pieces: list[pl.DataFrame] = []

    # Household questionnaires: a household of the village sample (in a sampled
    # village; registered ones drawn), or a drawn paired-project beneficiary.
    survey = (
        with_evidence_columns(
            with_relapse_codes(field.household_survey, plan, name("household_survey"))
        )
        .join(villages, on="village_code", how="left")
        .join(sampled, on=["village_code", "household_id"], how="left")
        .join(paired_households(sample), on=["village_code", "household_id"], how="left")
        .with_columns(_paired=pl.col("frame_status").is_null() & pl.col("project_id").is_not_null())
        .with_columns(
            pl.coalesce("county_code", "_project_county").alias("county_code"),
            pl.when(pl.col("_paired"))
            .then(pl.lit(PAIRED_PROJECT))
            .otherwise(pl.lit(SAMPLE))
            .alias("visit_kind"),
        )
    )
    survey, rej = apply_rules(
        survey,
        "household_survey",
        name("household_survey"),
        [
            Rule(
                "village_code",
                ~pl.col("village_code").is_in(villages["village_code"].implode())
                & ~pl.col("_paired"),
                "a village of the sample package (or the village of a drawn paired-project "
                "beneficiary)",
                _as_text(pl.col("village_code")),
            ),
            Rule(
                "household_id",
                pl.col("registered") & pl.col("frame_status").is_null() & ~pl.col("_paired"),
                "a registered household drawn in the sample package for this village "
                "(or a drawn beneficiary of a paired cooperation project)",
                _as_text(pl.col("household_id")),
            ),
            _outside_week("visit_date", plan),
            _duplicate(schemas.HOUSEHOLD_SURVEY),
        ],
    )
    pieces.append(rej)
    paired_visits = survey.filter(pl.col("_paired")).drop("_paired", "_project_county")
    survey = survey.filter(~pl.col("_paired")).drop(
        "_paired", "_project_county", "project_id", "visit_kind"
    )

    county_codes = counties["county_code"]
    interviews, rej = apply_rules(
        field.interviews,
        "interviews",
        name("interviews"),
        [
            _not_in("county_code", county_codes, "a county_code of the frame", nullable=False),
            _not_in("village_code", villages["village_code"], "a village of the sample package"),
            Rule(
                "household_id",
                (pl.col("level") == "helper")
                & ~pl.col("household_id").is_in(sampled["household_id"].implode()),
                "a household drawn in the sample package (helper interviews are about one)",
                _as_text(pl.col("household_id")),
            ),
            _outside_week("date", plan),
            _duplicate(schemas.INTERVIEWS),
        ],
    )
    pieces.append(rej)

    projects = sample["projects"].select("project_id", "county_code")
    checks = field.project_checks.join(projects, on="project_id", how="left")
    if "result" not in checks.columns:  # an optional column of older exports (五(五) 成效)
        checks = checks.with_columns(pl.lit(None, pl.String).alias("result"))
    checks, rej = apply_rules(
        checks,
        "project_checks",
        name("project_checks"),
        [
            _not_in("project_id", projects["project_id"], "a project of the sample package"),
            _outside_week("date", plan),
            _duplicate(schemas.PROJECT_CHECKS),
        ],
    )
    pieces.append(rej)

    problems, rej = apply_rules(
        field.problems,
        "problems",
        name("problems"),
        [
            _not_in("county_code", county_codes, "a county_code of the frame"),
            _not_in("city_name", counties["city_name"], "a city of the frame", nullable=False),
            _not_in(
                "content_item",
                pl.Series(sorted(plan.content.codes)),
                "a content item code of the plan (C1-C9, M1-M6, P1-P6)",
                nullable=False,
            ),
            _outside_week("raised_date", plan),
            Rule(
                "review_date",
                pl.col("review_date") < pl.col("raised_date"),
                "a review date on or after the day the problem was raised",
                _as_text(pl.col("review_date")),
            ),
            _duplicate(schemas.PROBLEMS),
        ],
    )
    pieces.append(rej)

    experiences, rej = apply_rules(
        field.experiences,
        "experiences",
        name("experiences"),
        [
            _not_in("county_code", county_codes, "a county_code of the frame"),
            _not_in("city_name", counties["city_name"], "a city of the frame", nullable=False),
            _duplicate(schemas.EXPERIENCES),
        ],
    )
    pieces.append(rej)

    claims = field.claims if field.claims.width else _empty(schemas.CLAIMS)
    # A self-assessment report arrives after the field week (六(二)): its date is not checked.
    week = _outside_week("date", plan)
    households = pl.concat(
        [sampled["household_id"], sample["project_households"]["household_id"]]
    ).unique()
    claims, rej = apply_rules(
        claims,
        "claims",
        name("claims"),
        [
            _not_in("city_name", counties["city_name"], "a city of the frame", nullable=False),
            _not_in("county_code", county_codes, "a county_code of the frame"),
            _not_in("village_code", villages["village_code"], "a village of the sample package"),
            _not_in("household_id", households, "a household drawn in the sample package"),
            _not_in("project_id", projects["project_id"], "a project of the sample package"),
            Rule(
                week.column,
                week.bad & (pl.col("source") != "self_assessment"),
                week.expected + "; a self-assessment report may be dated later",
                week.found,
            ),
            _duplicate(schemas.CLAIMS),
        ],
    )
    pieces.append(rej)

    rejects = pl.concat(pieces).sort("table", "row", "column")
    return CheckedField(
        household_survey=survey,
        interviews=interviews,
        project_checks=checks,
        problems=problems,
        experiences=experiences,
        rejects=rejects,
        paired_visits=paired_visits,
        claims=claims,
    )


def _empty(spec: schemas.TableSpec) -> pl.DataFrame:
    kinds = {"bool": pl.Boolean, "int": pl.Int64, "float": pl.Float64, "date": pl.Date}
    return pl.DataFrame(
        schema={ROW: pl.Int64} | {c.name: kinds.get(c.kind, pl.String) for c in spec.columns}
    )


def with_evidence_columns(survey: pl.DataFrame) -> pl.DataFrame:
    """The survey with every optional claim-evidence column (null where the export lacks it)."""
    kinds = {"bool": pl.Boolean, "int": pl.Int64}
    return survey.with_columns(
        [
            pl.lit(None, kinds[schemas.HOUSEHOLD_SURVEY.column(c).kind]).alias(c)
            for c in schemas.EVIDENCE_COLUMNS
            if c not in survey.columns
        ]
    )


def paired_households(sample: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Drawn paired-project beneficiaries: one row per household, its project and county.

    Columns ``village_code, household_id, project_id, _project_county``; a
    household drawn for two projects keeps the smallest project id.
    """
    projects = sample["projects"].select(
        "project_id", pl.col("county_code").alias("_project_county")
    )
    return (
        sample["project_households"]
        .select("village_code", "household_id", "project_id")
        .join(projects, on="project_id", how="left")
        .sort("village_code", "household_id", "project_id")
        .unique(["village_code", "household_id"], keep="first", maintain_order=True)
    )


def with_relapse_codes(survey: pl.DataFrame, plan: Plan, file: str) -> pl.DataFrame:
    """``relapse_cause`` as the plan's codes (a code or a label accepted) and checked years.

    Raises
    ------
    InputError
        For every cause the plan does not list and every ``exit_year`` after
        the plan's year, all at once (file, row, column named).
    """
    for column in ("exit_year", "relapse_cause"):  # optional columns of older exports
        if column not in survey.columns:
            kind = pl.Int64 if column == "exit_year" else pl.String
            survey = survey.with_columns(pl.lit(None, kind).alias(column))
    spellings = {c.code: c.code for c in plan.relapse_causes} | {
        c.label: c.code for c in plan.relapse_causes
    }
    given = pl.col("relapse_cause").str.strip_chars()
    out = survey.with_columns(
        given.replace_strict(spellings, default=None, return_dtype=pl.String).alias("_cause")
    )
    listed = ", ".join(f"{c.code} ({c.label})" for c in plan.relapse_causes)
    bad_cause = out.filter(pl.col("relapse_cause").is_not_null() & pl.col("_cause").is_null())
    bad_year = out.filter(pl.col("exit_year") > plan.year)
    problems = [
        Problem(file, int(r), "relapse_cause", f"one of {listed}", repr(v))
        for r, v in bad_cause.select(ROW, "relapse_cause").iter_rows()
    ] + [
        Problem(file, int(r), "exit_year", f"a year up to {plan.year}", str(v))
        for r, v in bad_year.select(ROW, "exit_year").iter_rows()
    ]
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.row or 0, p.column or "")))
    return out.with_columns(pl.col("_cause").alias("relapse_cause")).drop("_cause")
