"""The comparison view (比对核查, issue 13): every claim with its evidence and verdict.

What ``notebooks/compare.ipynb`` shows for an analyst, for one county (its own
claims and those of its city), one city (its and its counties' claims) or the
whole province: each claim heard at a meeting, read in a document, said in an
interview or written in a self-assessment (五(一)(二)(三), 六(二)), what the
questionnaires and project checks show, and the verdict the analysis layer
stored in ``claim_checks`` (:mod:`xkaohe.analyse.claims`) — read, never
re-decided. Also 自评 vs 考核, the interview coverage against the 五(三)
quotas and the household cases of 三(一)1(6)(7) and 五(五). Free text (claims,
documents) is masked as it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from xkaohe import codes
from xkaohe.errors import InputError, Problem
from xkaohe.io.people import known_names
from xkaohe.io.results import read_result, run_plan
from xkaohe.io.run import is_synthetic
from xkaohe.plan import Plan
from xkaohe.privacy import mask_frame
from xkaohe.report.kit import claim_value
from xkaohe.results_spec import Result

_TEXT = ["value", "document", "found", "role"]


@dataclass(frozen=True)
class Comparison:
    """The claims, coverage and cases of one scope (a county, a city or the province)."""

    title: str
    plan: Plan
    checks: pl.DataFrame
    coverage: pl.DataFrame
    cases: pl.DataFrame
    counties: pl.DataFrame
    synthetic: bool


def load_comparison(run: Path, where: str = "") -> Comparison:
    """The comparison of ``where``: a county code, a city name, or "" for the province.

    Raises
    ------
    InputError
        ``where`` is neither a county code nor a city name of the run.
    """
    counties = read_result(run, Result.COUNTIES)
    checks = read_result(run, Result.CLAIM_CHECKS)
    coverage = read_result(run, Result.INTERVIEW_COVERAGE)
    cases = read_result(run, Result.IDENTIFICATION)
    codes_ = counties["county_code"].to_list()
    cities = sorted(set(counties["city_name"].to_list()))
    if where and where not in codes_ and where not in cities:
        raise InputError(
            Problem(
                "compare.ipynb",
                None,
                "where",
                f"a county code ({', '.join(codes_[:5])} …) or a city name ({', '.join(cities)})",
                repr(where),
            )
        )
    if where in codes_:
        row = counties.filter(pl.col("county_code") == where).row(0, named=True)
        city = row["city_name"]
        mine = pl.col("county_code") == where
        # the city's own claims are about this county too
        checks = checks.filter(mine | ((pl.col("level") == "city") & (pl.col("city_name") == city)))
        coverage = coverage.filter(
            mine.fill_null(False) | ((pl.col("level") == "city") & (pl.col("city_name") == city))
        )
        cases = cases.filter(pl.col("county_code") == where)
        title = f"{city}{row['county_name']}（{where}）"
    elif where:
        checks = checks.filter(pl.col("city_name") == where)
        coverage = coverage.filter(pl.col("city_name") == where)
        in_city = counties.filter(pl.col("city_name") == where)["county_code"]
        cases = cases.filter(pl.col("county_code").is_in(in_city.implode()))
        title = where
    else:
        title = "全省"
    # Every name the run knows, whatever the scope (a claim may name someone registered
    # in another county), built once per warm kernel: reading 30 million household
    # heads for each report took 10 s a notebook nationally.
    return Comparison(
        title,
        run_plan(run),
        mask_frame(checks, known_names(run), columns=_TEXT),
        coverage,
        cases,
        counties.select("county_code", "county_name", "city_name"),
        is_synthetic(run),
    )


def _roles(plan: Plan) -> dict[str, str]:
    rules = plan.sampling.interviews
    out = {"assistance_cadre": "帮扶责任人"}
    for q in (*rules.city, *rules.county, *rules.county_paired, *rules.village):
        out.setdefault(q.role, q.label)
    return out


def _county_name(c: Comparison) -> pl.Expr:
    names = dict(c.counties.select("county_code", "county_name").iter_rows())
    return pl.col("county_code").replace_strict(names, default=pl.col("county_code"))


def summary(c: Comparison) -> pl.DataFrame:
    """Claims per level and verdict (层级 × 核实结果), in code order."""
    if c.checks.height == 0:
        return pl.DataFrame()
    counts = c.checks.group_by("level", "verdict").len()
    wide = counts.pivot(on="verdict", index="level", values="len").fill_null(0)
    for v in codes.CLAIM_VERDICT.order:
        if v not in wide.columns:
            wide = wide.with_columns(pl.lit(0, pl.UInt32).alias(v))
    return (
        wide.with_columns(_k=codes.INTERVIEW_LEVEL.rank(pl.col("level")))
        .sort("_k")
        .select(
            codes.INTERVIEW_LEVEL.expr(pl.col("level")).alias("层级"),
            *[
                pl.col(v).cast(pl.Int64).alias(codes.CLAIM_VERDICT.label(v, short=True))
                for v in codes.CLAIM_VERDICT.order
            ],
        )
    )


def claim_table(c: Comparison, level: str = "", item: str = "", verdict: str = "") -> pl.DataFrame:
    """Every claim with its evidence and verdict, filtered by level, item and verdict codes."""
    df = c.checks
    for column, value in (("level", level), ("item", item), ("verdict", verdict)):
        if value:
            df = df.filter(pl.col(column) == value)
    roles = _roles(c.plan)
    who = pl.coalesce(
        pl.col("role").replace_strict(roles, default=pl.col("role")),
        pl.col("document"),
        pl.lit(""),
    )
    where = pl.coalesce(
        pl.format("户{}", "household_id"),
        pl.format("项目{}", "project_id"),
        pl.format("村{}", "village_code"),
        _county_name(c),
        pl.col("city_name"),
    )
    reason = codes.CLAIM_REASON.expr(pl.col("reason"))
    return df.select(
        codes.INTERVIEW_LEVEL.expr(pl.col("level")).alias("层级"),
        codes.CLAIM_SOURCE.expr(pl.col("source")).alias("来源"),
        who.alias("陈述人或资料"),
        where.alias("所涉单位"),
        codes.CLAIM_ITEM.expr(pl.col("item")).alias("事项"),
        claim_value(pl.col("value")).alias("陈述"),
        codes.CLAIM_VERDICT.expr(pl.col("verdict"), short=True).alias("核实结果"),
        pl.when(pl.col("reason").is_not_null())
        .then(pl.format("{}（{}）", "found", reason))
        .otherwise(pl.col("found"))
        .alias("核实情况"),
        pl.col("references").fill_null("").alias("不符的户或项目（出处）"),
        pl.format("{} 第{}行", "file", pl.col("row").cast(pl.String).fill_null("?")).alias(
            "陈述出处"
        ),
    )


def self_assessment_table(c: Comparison) -> pl.DataFrame:
    """自评 vs 考核: each self-assessment claim beside what the assessment found."""
    df = c.checks.filter(pl.col("source") == "self_assessment")
    return df.select(
        pl.coalesce(_county_name(c), pl.col("city_name")).alias("自评单位"),
        codes.CLAIM_ITEM.expr(pl.col("item")).alias("事项"),
        claim_value(pl.col("value")).alias("自评"),
        pl.col("found").alias("考核核实"),
        codes.CLAIM_VERDICT.expr(pl.col("verdict"), short=True).alias("结果"),
        pl.col("references").fill_null("").alias("不符的户或项目（出处）"),
    )


def coverage_table(c: Comparison, only_short: bool = False) -> pl.DataFrame:
    """Interviews planned (五(三)) against done, per unit and role; ``only_short``: gaps only."""
    df = c.coverage.filter(~pl.col("complete")) if only_short else c.coverage
    roles = _roles(c.plan)
    unit = pl.coalesce(pl.format("村{}", "village_code"), _county_name(c), pl.col("city_name"))
    return df.select(
        codes.INTERVIEW_LEVEL.expr(pl.col("level")).alias("层级"),
        unit.alias("单位"),
        pl.col("role").replace_strict(roles, default=pl.col("role")).alias("访谈对象"),
        pl.col("planned").alias("计划"),
        pl.col("done").alias("完成"),
        pl.col("missing").alias("缺"),
    )


_CASES = codes.IDENTIFICATION_CASE.labels()


def cases_table(c: Comparison) -> pl.DataFrame:
    """The household cases per county: asked, found, and where (file and row)."""
    parts = [
        c.cases.filter(pl.col(k) > 0).select(
            _county_name(c).alias("县"),
            pl.lit(label).alias("情形"),
            pl.col(f"{k}_asked").alias("调查户数"),
            pl.col(k).alias("发现户数"),
            pl.col(f"{k}_refs").alias("出处"),
        )
        for k, label in _CASES.items()
    ]
    schema = {
        "县": pl.String,
        "情形": pl.String,
        "调查户数": pl.Int64,
        "发现户数": pl.Int64,
        "出处": pl.String,
    }
    return pl.concat([pl.DataFrame(schema=schema), *[p.cast(schema) for p in parts]])  # type: ignore[arg-type]


__all__ = [
    "Comparison",
    "cases_table",
    "claim_table",
    "coverage_table",
    "load_comparison",
    "self_assessment_table",
    "summary",
]
