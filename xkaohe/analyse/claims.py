"""What cadres say against what households show, at every level (issue 13).

Why one module of ~840 lines: claims, their evidence, interview coverage,
identification cases and the self-assessment view all read the one long claims
table and the same evidence rows and references (its sections are the seams).

A *claim* is a statement about a measurable plan item made at a meeting
(五(一) 情况交流座谈会), read in a document (五(二) 查阅资料, 要在入户时予以
核实), said in an interview (五(三)) or written in a self-assessment report
(六(二) 自评报告), at city, county, village or helper level. All of them are
one long table (:data:`xkaohe.schemas.CLAIMS`); the interviews table's rows
count as claims too (:func:`interview_claims`, the one conversion).

:func:`check_claims` checks every claim against the evidence the plan names
for its item (``plan.claims.items``): the household questionnaires, the
questionnaires of the households the project register lists as beneficiaries,
the team's project checks, or a county total of the frame
(:func:`xkaohe.analyse.county_facts.register_evidence`: a county's documented
figure — exits of the year, funds, projects done, poor villages exited — is
compared with it, within the item's tolerance or, ``bound: at_most``, not
above it; only a county's own figure can be). An item whose evidence is
``none`` (a target, 摘帽不摘监管) is ``not_checkable`` with reason
``no_source``. The claim's unit decides which evidence rows it
is about — a helper's claim about one household that household, a village
cadre's the village's surveyed households, a county's its county's, a city's
those of all its counties, a claim naming a project that project's rows, a
helper's claim naming no household the surveyed households the frame assigns
to them:

* a claim about one household agrees when the household's own answer is the
  same (numbers within the item's relative ``tolerance``);
* any other claim says every household (or project) of its unit meets the
  item; each one that does not contradicts it, and is listed with its file and
  row. A claim that admits a gap ("false") cannot be contradicted;
* ``not_checkable`` when there is no evidence in the sample, the value cannot
  be read, the item has no evidence rule, or a number is claimed for a whole
  unit (``reason`` says which).

:func:`interview_coverage` compares the interviews done with the planned interviewees
(``interviewees.csv``, 五(三) quotas) per unit and role. :func:`identification`
counts the households' evidence on 整户识别, 评议公示 and 边缘户 monitoring
(三(一)1(6)(7)) and the register's beneficiaries who received nothing (五(五)).

Nothing here decides a problem: :mod:`xkaohe.analyse.candidates` proposes one
only where a claim is contradicted or a case was found.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from xkaohe.analyse.consistency import number_text
from xkaohe.codes import CLAIM_ITEM
from xkaohe.errors import PlanError
from xkaohe.inputs import ROW
from xkaohe.plan import ROW_TABLES, ClaimEvidence, Plan
from xkaohe.schemas import (
    CLAIMS,
    EVIDENCE_COLUMNS,
    FALSE_WORDS,
    HOUSEHOLD_SURVEY,
    TRUE_WORDS,
    require_columns,
)

CLAIM_COLUMNS: dict[str, type[pl.DataType]] = {
    "table": pl.String,
    "claim_id": pl.String,
    "date": pl.Date,
    "source": pl.String,
    "level": pl.String,
    "role": pl.String,
    "person_id": pl.String,
    "document": pl.String,
    "city_name": pl.String,
    "county_code": pl.String,
    "village_code": pl.String,
    "household_id": pl.String,
    "project_id": pl.String,
    "item": pl.String,
    "value": pl.String,
    "file": pl.String,
    "row": pl.Int64,
}
"""Every claim, whichever table it came from (``table``: claims or interviews)."""

CHECK_COLUMNS: dict[str, type[pl.DataType]] = {
    **CLAIM_COLUMNS,
    "scope": pl.String,
    "evidence": pl.String,
    "checked": pl.Int64,
    "contradicting": pl.Int64,
    "verdict": pl.String,
    "reason": pl.String,
    "found": pl.String,
    "contradicting_ids": pl.String,
    "contradicting_counties": pl.String,
    "references": pl.String,
}
"""The columns of ``claim_checks``."""

EVIDENCE_SCHEMA: dict[str, type[pl.DataType]] = {
    "item": pl.String,
    "evidence": pl.String,
    "city_name": pl.String,
    "county_code": pl.String,
    "village_code": pl.String,
    "household_id": pl.String,
    "project_id": pl.String,
    "helper_id": pl.String,
    "meets": pl.Boolean,
    "number": pl.Float64,
    "unit_id": pl.String,
    "reference": pl.String,
}
"""The columns of :func:`evidence_rows` (and of the county totals of
:func:`xkaohe.analyse.county_facts.register_evidence`)."""

LEVELS = ("city", "county", "village", "helper")
SCOPES = ("city", "county", "village", "household", "project", "helper")
SOURCES_DEFAULT = {"claims": "claims.csv", "interviews": "interviews.csv"}
_SEP = ";"
_UNIT = ("city_name", "county_code", "village_code")


def _empty_claims() -> pl.DataFrame:
    return pl.DataFrame(schema=CLAIM_COLUMNS)


def _text(values: pl.Expr) -> pl.Expr:
    return values.str.strip_chars().str.to_lowercase()


def _as_bool(values: pl.Expr) -> pl.Expr:
    t = _text(values)
    return (
        pl.when(t.is_in(list(TRUE_WORDS)))
        .then(pl.lit(True))
        .when(t.is_in(list(FALSE_WORDS)))
        .then(pl.lit(False))
    )


def as_number(values: pl.Expr) -> pl.Expr:
    """A plain number with optional separators, 万 and unit (元, 人, 口, 个, 户); else null."""
    compact = _text(values).str.replace_all(r"[\s,，]", "")
    pattern = r"^(\d+(?:\.\d+)?)(万)?(?:元|人|口|个|户)?$"
    scale = pl.when(compact.str.extract(pattern, 2).is_not_null()).then(10_000.0).otherwise(1.0)
    return compact.str.extract(pattern, 1).cast(pl.Float64) * scale


# ------------------------------------------------------------------ one table


def interview_claims(
    interviews: pl.DataFrame, counties: pl.DataFrame, file: str = "interviews.csv"
) -> pl.DataFrame:
    """The interviews table's rows as claims (source ``interview``).

    A city interview carries one of its city's county codes (the interviews
    table requires one): its claim is about the city, so its ``county_code``
    is dropped. The claim id is ``interview_id/item/household_id``.
    """
    require_columns(
        interviews,
        "interviews",
        ("interview_id", "date", "level", "role", "person_id", "county_code", "item", "claim"),
    )
    iv = interviews
    for c in ("village_code", "household_id"):
        if c not in iv.columns:
            iv = iv.with_columns(pl.lit(None, pl.String).alias(c))
    row = pl.col(ROW).cast(pl.Int64) if ROW in iv.columns else pl.lit(None, pl.Int64)
    city = pl.col("level") == "city"
    return (
        iv.join(counties.select("county_code", "city_name"), on="county_code", how="left")
        .select(
            pl.lit("interviews").alias("table"),
            pl.concat_str(
                "interview_id", "item", pl.col("household_id").fill_null(""), separator="/"
            ).alias("claim_id"),
            "date",
            pl.lit("interview").alias("source"),
            "level",
            "role",
            "person_id",
            pl.lit(None, pl.String).alias("document"),
            "city_name",
            pl.when(city)
            .then(pl.lit(None, pl.String))
            .otherwise("county_code")
            .alias("county_code"),
            pl.when(city)
            .then(pl.lit(None, pl.String))
            .otherwise("village_code")
            .alias("village_code"),
            "household_id",
            pl.lit(None, pl.String).alias("project_id"),
            "item",
            pl.col("claim").alias("value"),
            pl.lit(file).alias("file"),
            row.alias("row"),
        )
        .cast(CLAIM_COLUMNS)  # type: ignore[arg-type]
    )


def all_claims(
    claims: pl.DataFrame,
    interviews: pl.DataFrame,
    counties: pl.DataFrame,
    sources: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Every claim of the run: the claims table's and the interviews' (converted).

    ``claims`` may be a table with no columns (no claims delivered). A claim
    of the claims table without ``city_name`` but with a county takes the
    county's city.
    """
    files = SOURCES_DEFAULT | dict(sources or {})
    parts = [_empty_claims()]
    if claims.width:
        require_columns(claims, "claims", [c.name for c in CLAIMS.columns if c.required])
        c = claims.join(
            counties.select("county_code", pl.col("city_name").alias("_city")),
            on="county_code",
            how="left",
        ).with_columns(pl.coalesce("city_name", "_city").alias("city_name"))
        row = pl.col(ROW).cast(pl.Int64) if ROW in c.columns else pl.lit(None, pl.Int64)
        parts.append(
            c.with_columns(
                pl.lit("claims").alias("table"),
                pl.lit(files["claims"]).alias("file"),
                row.alias("row"),
            ).select(list(CLAIM_COLUMNS))
        )
    if interviews.height:
        parts.append(interview_claims(interviews, counties, files["interviews"]))
    return pl.concat([p.cast(CLAIM_COLUMNS) for p in parts])  # type: ignore[arg-type]


# ------------------------------------------------------------------ evidence


def _with_evidence_columns(households: pl.DataFrame) -> pl.DataFrame:
    """Households with every optional evidence column (null where the export lacks it)."""
    kinds = {"bool": pl.Boolean, "int": pl.Int64}
    missing = [
        pl.lit(None, kinds[HOUSEHOLD_SURVEY.column(c).kind]).alias(c)
        for c in EVIDENCE_COLUMNS
        if c not in households.columns
    ]
    return households.with_columns(missing)


def check_plan_items(plan: Plan) -> None:
    """Every plan claim item is a code of :data:`CLAIM_ITEM`; raise PlanError otherwise."""
    unknown = sorted(set(plan.claims.items) - set(CLAIM_ITEM.order))
    if unknown:
        raise PlanError(
            f"claims.items names item(s) {', '.join(unknown)} that are not claim item codes; "
            f"expected some of {', '.join(CLAIM_ITEM.order)}"
        )


def _meets(rule: ClaimEvidence, column: pl.Expr) -> pl.Expr:
    """Whether an evidence row meets the item (null: not answered)."""
    if rule.ok:
        return pl.when(column.is_not_null()).then(column.cast(pl.String).is_in(list(rule.ok)))
    return column.cast(pl.Boolean)


def evidence_rows(
    households: pl.DataFrame,
    beneficiaries: pl.DataFrame,
    project_checks: pl.DataFrame,
    plan: Plan,
    sources: Mapping[str, str] | None = None,
    assignments: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per claim item and evidence unit (a household, or a project).

    Parameters
    ----------
    households
        The classified surveyed households (``county_code, city_name,
        village_code, household_id, _row`` and the columns the plan's items
        name).
    beneficiaries
        ``project_id, household_id`` of the frame's register.
    project_checks
        The sampled projects with their check: ``project_id, county_code,
        village_code, result, _row`` (``result`` null where not checked).
    plan
        ``plan.claims.items``.
    sources
        Field table name -> file name, for the references.
    assignments
        ``helper_id, household_id`` of the frame's households: a helper's
        claim naming no household is about the surveyed households they help.

    Returns
    -------
    pl.DataFrame
        ``item, evidence, city_name, county_code, village_code, household_id,
        project_id, helper_id, meets`` (null: no answer), ``number`` (the household's
        answer, for number items), ``unit_id`` (household or project id),
        ``reference`` ("household_survey.csv 第12行").
    """
    check_plan_items(plan)
    files = {
        "household_survey": "household_survey.csv",
        "project_checks": "project_checks.csv",
    } | dict(sources or {})
    hh = _with_evidence_columns(households)
    if ROW not in hh.columns:
        hh = hh.with_columns(pl.lit(None, pl.Int64).alias(ROW))
    require_columns(hh, "households", ("county_code", "city_name", "village_code", "household_id"))
    surveyed = hh.select("household_id")  # the frame-wide tables shrink to these first
    if assignments is not None:
        helper_of = (
            assignments.select("household_id", "helper_id")
            .join(surveyed, on="household_id", how="semi")
            .filter(pl.col("helper_id").is_not_null())
        )
        hh = hh.drop("helper_id", strict=False).join(
            helper_of.unique("household_id", keep="first"), on="household_id", how="left"
        )
    elif "helper_id" not in hh.columns:
        hh = hh.with_columns(pl.lit(None, pl.String).alias("helper_id"))
    ben = (
        beneficiaries.select("project_id", "household_id")
        .join(surveyed, on="household_id", how="semi")
        .unique()
        .join(hh, on="household_id", how="inner")
    )
    pc = project_checks
    if ROW not in pc.columns:
        pc = pc.with_columns(pl.lit(None, pl.Int64).alias(ROW))
    pc = pc.with_columns(pl.lit(None, pl.String).alias("household_id"))
    parts = []
    for item, rule in plan.claims.items.items():
        if rule.table not in ROW_TABLES:  # county totals and unchecked items: not row evidence
            continue
        source = {"household_survey": hh, "beneficiaries": ben, "project_checks": pc}[rule.table]
        if rule.table == "project_checks":
            require_columns(source, "project_checks", ("project_id", "county_code", "result"))
            source = source.filter(pl.col("result").is_not_null())
        else:
            require_columns(source, rule.table, (rule.column, *rule.among))
        file = files["project_checks" if rule.table == "project_checks" else "household_survey"]
        among = pl.all_horizontal([pl.col(c).fill_null(False) for c in rule.among] or [True])
        project = pl.col("project_id") if "project_id" in source.columns else pl.lit(None)
        city = pl.col("city_name") if "city_name" in source.columns else pl.lit(None)
        village = pl.col("village_code") if "village_code" in source.columns else pl.lit(None)
        number = pl.col(rule.column).cast(pl.Float64) if rule.household_only else pl.lit(None)
        parts.append(
            source.lazy()
            .filter(among)
            .select(
                pl.lit(item).alias("item"),
                pl.lit(rule.table).alias("evidence"),
                city.cast(pl.String).alias("city_name"),
                pl.col("county_code").cast(pl.String),
                village.cast(pl.String).alias("village_code"),
                pl.col("household_id").cast(pl.String),
                project.cast(pl.String).alias("project_id"),
                (pl.col("helper_id") if "helper_id" in source.columns else pl.lit(None))
                .cast(pl.String)
                .alias("helper_id"),
                (
                    pl.lit(None, pl.Boolean)
                    if rule.household_only
                    else _meets(rule, pl.col(rule.column))
                ).alias("meets"),
                number.cast(pl.Float64).alias("number"),
                pl.coalesce(pl.col("household_id"), project.cast(pl.String)).alias("unit_id"),
                pl.format(f"{file} 第{{}}行", pl.col(ROW).cast(pl.String).fill_null("?")).alias(
                    "reference"
                ),
            )
        )
    empty = pl.LazyFrame(schema=EVIDENCE_SCHEMA)
    return pl.concat([empty, *[p.cast(EVIDENCE_SCHEMA) for p in parts]]).collect()  # type: ignore[arg-type]


# ------------------------------------------------------------------ checking


def _scope(plan: Plan) -> pl.Expr:
    """The unit a claim is about: its narrowest given key (a project only for project items)."""
    project_items = [
        i for i, r in plan.claims.items.items() if r.table in ("project_checks", "beneficiaries")
    ]
    return (
        pl.when(pl.col("household_id").is_not_null())
        .then(pl.lit("household"))
        .when(pl.col("project_id").is_not_null() & pl.col("item").is_in(project_items))
        .then(pl.lit("project"))
        .when((pl.col("level") == "helper") & pl.col("person_id").is_not_null())
        .then(pl.lit("helper"))
        .when(pl.col("village_code").is_not_null())
        .then(pl.lit("village"))
        .when(pl.col("county_code").is_not_null())
        .then(pl.lit("county"))
        .otherwise(pl.lit("city"))
    )


_SCOPE_KEYS = {
    "city": ("city_name",),
    "county": ("county_code",),
    "village": ("village_code",),
    "household": ("household_id",),
    "project": ("project_id",),
    "helper": ("helper_id",),
}


def check_claims(
    claims: pl.DataFrame,
    evidence: pl.DataFrame,
    plan: Plan,
) -> pl.DataFrame:
    """Every claim against the evidence of its item and unit.

    Parameters
    ----------
    claims
        :func:`all_claims`.
    evidence
        :func:`evidence_rows`.
    plan
        ``plan.claims.items`` (which items have evidence, number tolerances).

    Returns
    -------
    pl.DataFrame
        :data:`CHECK_COLUMNS`: the claim, its ``scope`` (city, county,
        village, household, project), ``evidence`` (the table), ``checked``
        (evidence rows with an answer), ``contradicting``, ``verdict``
        (agree, contradicted, not_checkable), ``reason`` (why not checkable:
        :data:`xkaohe.codes.CLAIM_REASON`), ``found`` (what the evidence
        shows, in Chinese), ``contradicting_ids`` (household or project ids,
        ";"-joined), ``contradicting_counties`` and ``references`` (file and
        row of each contradicting questionnaire or check). Sorted by city,
        county, village, level, item, table, claim id.
    """
    rules = plan.claims.items
    numbers = [i for i, r in rules.items() if r.household_only]
    totals = [i for i, r in rules.items() if r.table == "county_register"]
    at_most = [i for i, r in rules.items() if r.bound == "at_most"]
    unchecked = [i for i, r in rules.items() if r.table == "none"]
    tolerance = {i: r.tolerance for i, r in rules.items()}
    c = claims.with_columns(
        _scope(plan).alias("scope"),
        pl.int_range(pl.len()).alias("_cid"),
        _as_bool(pl.col("value")).alias("_bool"),
        as_number(pl.col("value")).alias("_number"),
    )
    matched = []
    c = c.with_columns(pl.col("person_id").alias("helper_id"))
    for scope, keys in _SCOPE_KEYS.items():
        part = c.filter(pl.col("scope") == scope).select(
            "_cid", "item", *keys, pl.col("village_code").alias("_claim_village")
        )
        m = part.join(evidence, on=["item", *keys], how="inner")
        if scope == "household":  # a village given with the household narrows it
            m = m.filter(
                pl.col("_claim_village").is_null()
                | (pl.col("_claim_village") == pl.col("village_code"))
            )
        matched.append(
            m.select("_cid", "evidence", "meets", "number", "unit_id", "reference", "county_code")
        )
    ev = pl.concat(matched)
    first = c.select("_cid", "item", "_bool", "_number", "scope")
    # a county total is compared with a county's figure only
    ev = ev.join(first, on="_cid", how="left").filter(
        ~pl.col("item").is_in(totals) | (pl.col("scope") == "county")
    )
    tol = pl.col("item").replace_strict(tolerance, default=0.0, return_dtype=pl.Float64)
    same_number = (pl.col("_number") - pl.col("number")).abs() <= tol * pl.col("number").abs()
    ev = ev.with_columns(
        answered=pl.when(pl.col("item").is_in(numbers + totals))
        .then(pl.col("number").is_not_null())
        .otherwise(pl.col("meets").is_not_null()),
        against=pl.when(pl.col("item").is_in(at_most))
        .then(pl.col("_number") > pl.col("number"))
        .when(pl.col("item").is_in(numbers + totals))
        .then(~same_number)
        .when(pl.col("scope") == "household")
        .then(pl.col("meets") != pl.col("_bool"))
        .otherwise(pl.col("_bool") & ~pl.col("meets")),
    ).with_columns(pl.col("against").fill_null(False) & pl.col("answered"))
    agg = (
        ev.filter(pl.col("answered"))
        .sort("_cid", "reference", "unit_id")
        .group_by("_cid")
        .agg(
            evidence=pl.col("evidence").first(),
            checked=pl.len().cast(pl.Int64),
            contradicting=pl.col("against").sum().cast(pl.Int64),
            meets_all=pl.col("meets").all(),
            answer_bool=pl.col("meets").first(),
            answer_number=pl.col("number").first(),
            answer_ref=pl.col("reference").first(),
            contradicting_ids=pl.col("unit_id").filter(pl.col("against")).str.join(_SEP),
            contradicting_counties=pl.col("county_code")
            .filter(pl.col("against"))
            .unique()
            .sort()
            .str.join(_SEP),
            references=pl.format("{}（{}）", "reference", "unit_id")
            .filter(pl.col("against"))
            .str.join("；"),
        )
    )
    known = list(rules)
    readable = (
        pl.when(pl.col("item").is_in(unchecked))
        .then(pl.col("_number").is_not_null() | pl.col("_bool").is_not_null())
        .when(pl.col("item").is_in(numbers + totals))
        .then(pl.col("_number").is_not_null())
        .otherwise(pl.col("_bool").is_not_null())
    )
    reason = (
        pl.when(~pl.col("item").is_in(known))
        .then(pl.lit("unknown_item"))
        .when(~readable)
        .then(pl.lit("unreadable"))
        .when(pl.col("item").is_in(unchecked))
        .then(pl.lit("no_source"))
        .when(pl.col("item").is_in(numbers) & (pl.col("scope") != "household"))
        .then(pl.lit("household_only"))
        .when(pl.col("item").is_in(totals) & (pl.col("scope") != "county"))
        .then(pl.lit("county_only"))
        .when(pl.col("checked").fill_null(0) == 0)
        .then(pl.lit("no_evidence"))
        .when((pl.col("scope") != "household") & ~pl.col("item").is_in(totals) & ~pl.col("_bool"))
        .then(pl.lit("admits_gap"))
    )
    verdict = (
        pl.when(pl.col("reason").is_not_null())
        .then(pl.lit("not_checkable"))
        .when(pl.col("contradicting") > 0)
        .then(pl.lit("contradicted"))
        .otherwise(pl.lit("agree"))
    )
    out = (
        c.join(agg, on="_cid", how="left")
        .with_columns(
            pl.col("evidence").fill_null(
                pl.col("item").replace_strict(
                    {i: r.table for i, r in rules.items()}, default=None, return_dtype=pl.String
                )
            ),
            pl.col("checked", "contradicting").fill_null(0),
        )
        .with_columns(reason.alias("reason"))
        .with_columns(verdict.alias("verdict"))
        .with_columns(_found(numbers, totals).alias("found"))
        .with_columns(
            [
                pl.when(pl.col("verdict") == "contradicted").then(pl.col(x)).alias(x)
                for x in ("contradicting_ids", "contradicting_counties", "references")
            ]
        )
    )
    level = pl.col("level").replace_strict(
        {lv: i for i, lv in enumerate(LEVELS)}, default=len(LEVELS), return_dtype=pl.Int64
    )
    return (
        out.with_columns(_lvl=level)
        .sort(
            "city_name",
            "county_code",
            "village_code",
            "_lvl",
            "item",
            "table",
            "claim_id",
            nulls_last=False,
        )
        .select(list(CHECK_COLUMNS))
        .cast(CHECK_COLUMNS)  # type: ignore[arg-type]
    )


def _found(numbers: list[str], totals: list[str]) -> pl.Expr:
    """What the evidence shows, in Chinese (a county total: its source and figures)."""
    what = (
        pl.when(pl.col("evidence") == "project_checks")
        .then(pl.lit("项目核查"))
        .when(pl.col("evidence") == "beneficiaries")
        .then(pl.lit("项目登记受益户入户调查"))
        .otherwise(pl.lit("入户调查"))
    )
    unit = (
        pl.when(pl.col("evidence") == "project_checks").then(pl.lit("个")).otherwise(pl.lit("户"))
    )
    answer = (
        pl.when(pl.col("item").is_in(numbers))
        .then(number_text(pl.col("answer_number")))
        .when(pl.col("answer_bool"))
        .then(pl.lit("是"))
        .otherwise(pl.lit("否"))
    )
    return (
        pl.when(pl.col("checked") == 0)
        .then(pl.lit("样本中无可比对数据"))
        .when(pl.col("item").is_in(totals))
        .then(pl.col("answer_ref"))
        .when(pl.col("scope") == "household")
        .then(pl.format("该户入户调查回答：{}", answer))
        .otherwise(pl.format("{}{}{}中{}{}不符合", what, "checked", unit, "contradicting", unit))
    )


# ------------------------------------------------------------------ coverage


def interview_coverage(
    interviewees: pl.DataFrame,
    claims: pl.DataFrame,
) -> pl.DataFrame:
    """Planned interviewees (五(三) quotas) against the interviews done, per unit and role.

    Parameters
    ----------
    interviewees
        The sample's ``interviewees.csv``: ``city_name, county_code,
        village_code, level, role, count`` and ``helper_id`` (one row per
        drawn assistance cadre).
    claims
        :func:`all_claims`: an interview is a distinct ``claim_id`` prefix of
        the interviews table (its ``interview_id``) or, in the claims table, a
        distinct person (``person_id``, else one per role, unit and day) of
        source ``interview``; where both tables record a unit's role, the
        larger count (the same interview may be in both).

    Returns
    -------
    pl.DataFrame
        ``level, city_name, county_code, village_code, role, planned, done,
        missing, complete``; assistance cadres count only the drawn ones
        interviewed (by ``person_id``). Sorted by city, county, village, level, role.
    """
    require_columns(
        interviewees, "interviewees", ("county_code", "village_code", "level", "role", "count")
    )
    q = interviewees
    if "city_name" not in q.columns:
        q = q.with_columns(pl.lit(None, pl.String).alias("city_name"))
    if "helper_id" not in q.columns:
        q = q.with_columns(pl.lit(None, pl.String).alias("helper_id"))
    keys = ["level", "city_name", "county_code", "village_code", "role"]
    unit = q.select("city_name", "county_code", "village_code").unique()
    planned = q.group_by(keys).agg(planned=pl.col("count").sum().cast(pl.Int64))
    # One person: an interview of the interviews table; in the claims table a person_id,
    # else one interviewee per role, unit and day.
    unnamed = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in ("role", *_UNIT, "date")],
        separator="/",
    )
    iv = claims.filter(pl.col("source") == "interview").with_columns(
        person=pl.when(pl.col("table") == "interviews")
        .then(pl.col("claim_id").str.split("/").list.first())
        .otherwise(pl.coalesce("person_id", unnamed))
    )
    city_of = (
        unit.filter(pl.col("county_code").is_not_null()).select("county_code", "city_name").unique()
    )
    helpers = q.filter(pl.col("level") == "helper").select(
        "city_name", "county_code", "village_code", "role", pl.col("helper_id").alias("person_id")
    )
    helper_done = (
        iv.filter(pl.col("level") == "helper")
        .select("person_id")
        .unique()
        .join(helpers, on="person_id", how="inner")
        .group_by("city_name", "county_code", "village_code", "role")
        .agg(done=pl.len().cast(pl.Int64))
        .with_columns(level=pl.lit("helper"))
    )
    other = iv.filter(pl.col("level") != "helper").with_columns(
        pl.coalesce(
            "city_name",
            pl.col("county_code").replace_strict(
                dict(city_of.iter_rows()), default=None, return_dtype=pl.String
            ),
        ).alias("city_name")
    )
    other_done = (
        other.with_columns(
            pl.when(pl.col("level") == "city")
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col("county_code"))
            .alias("county_code"),
            pl.when(pl.col("level") == "village")
            .then(pl.col("village_code"))
            .otherwise(pl.lit(None, pl.String))
            .alias("village_code"),
        )
        # the same interview may be recorded in both tables: the larger count is taken
        .group_by(*keys, "table")
        .agg(done=pl.col("person").n_unique().cast(pl.Int64))
        .group_by(keys)
        .agg(pl.col("done").max())
    )
    done = pl.concat([helper_done.select(*keys, "done"), other_done.select(*keys, "done")])
    out = planned.join(done, on=keys, how="left", nulls_equal=True).with_columns(
        pl.col("done").fill_null(0)
    )
    level = pl.col("level").replace_strict(
        {lv: i for i, lv in enumerate(LEVELS)}, default=len(LEVELS), return_dtype=pl.Int64
    )
    return (
        out.with_columns(
            missing=(pl.col("planned") - pl.col("done")).clip(lower_bound=0),
            complete=pl.col("done") >= pl.col("planned"),
            _lvl=level,
        )
        .sort("city_name", "county_code", "village_code", "_lvl", "role", nulls_last=False)
        .select(*keys, "planned", "done", "missing", "complete")
    )


# ------------------------------------------------------------------ identification


def identification(
    households: pl.DataFrame,
    beneficiaries: pl.DataFrame,
    sources: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Per county: 未整户识别, 程序不规范, 边缘户未纳入监测 and beneficiaries who got nothing.

    Counts of the surveyed households that answered each question, the cases
    (``whole_household`` false, ``procedure_ok`` false, ``edge_household``
    true but ``monitored`` false; a household the register lists as a
    beneficiary with ``received_project_benefit`` false) and the cases' ids
    and references ("household_survey.csv 第12行（户H1）"). Only the sample's
    registered households count for identification and procedure.
    """
    file = (dict(sources or {})).get("household_survey", "household_survey.csv")
    hh = _with_evidence_columns(households)
    if ROW not in hh.columns:
        hh = hh.with_columns(pl.lit(None, pl.Int64).alias(ROW))
    listed = (
        beneficiaries.select("household_id")
        .join(hh.select("household_id"), on="household_id", how="semi")
        .unique()
        .with_columns(_listed=pl.lit(True))
    )
    hh = hh.join(listed, on="household_id", how="left").with_columns(
        pl.col("_listed").fill_null(False)
    )
    ref = pl.format(
        f"{file} 第{{}}行（户{{}}）", pl.col(ROW).cast(pl.String).fill_null("?"), "household_id"
    )
    reg = pl.col("registered").fill_null(False)
    cases = {
        "not_whole": (reg & pl.col("whole_household").is_not_null(), ~pl.col("whole_household")),
        "procedure_bad": (reg & pl.col("procedure_ok").is_not_null(), ~pl.col("procedure_ok")),
        "edge_unmonitored": (
            pl.col("edge_household").fill_null(False) & pl.col("monitored").is_not_null(),
            ~pl.col("monitored"),
        ),
        "benefit_missing": (
            pl.col("_listed") & pl.col("received_project_benefit").is_not_null(),
            ~pl.col("received_project_benefit"),
        ),
    }
    aggs = []
    for name, (asked, case) in cases.items():
        hit = asked & case.fill_null(False)
        aggs += [
            asked.sum().cast(pl.Int64).alias(f"{name}_asked"),
            hit.sum().cast(pl.Int64).alias(name),
            ref.filter(hit).sort().str.join("；").alias(f"{name}_refs"),
        ]
    out = hh.group_by("county_code").agg(
        *aggs, members_left_out=pl.col("members_left_out").fill_null(0).sum().cast(pl.Int64)
    )
    return out.with_columns(
        [pl.when(pl.col(n) > 0).then(pl.col(f"{n}_refs")).alias(f"{n}_refs") for n in cases]
    ).sort("county_code")


# ------------------------------------------------------------------ self-assessment


def self_assessment(checks: pl.DataFrame) -> pl.DataFrame:
    """自评 vs 考核: each county's (and city's) self-assessment claims with the verdict.

    One row per self-assessment claim of :func:`check_claims`: ``city_name,
    county_code, item, claimed`` (the self-assessment's value), ``verdict``,
    ``found`` and ``references``; sorted by city, county, item.
    """
    return (
        checks.filter(pl.col("source") == "self_assessment")
        .select(
            "city_name",
            "county_code",
            "level",
            "item",
            pl.col("value").alias("claimed"),
            "verdict",
            "reason",
            "checked",
            "contradicting",
            "found",
            "references",
            "claim_id",
        )
        .sort("city_name", "county_code", "item", "claim_id", nulls_last=False)
    )


__all__ = [
    "CHECK_COLUMNS",
    "CLAIM_COLUMNS",
    "EVIDENCE_SCHEMA",
    "all_claims",
    "as_number",
    "check_claims",
    "check_plan_items",
    "evidence_rows",
    "identification",
    "interview_claims",
    "interview_coverage",
    "self_assessment",
]
