"""What ``notebooks/city_report.ipynb`` shows: one city (plan 三(一)2, 五).

The city's own six items (M1..M6) with the problems filed under them, its
counties side by side (rates with their stored statuses, the stored
verdicts, problems and report completeness), completeness, and the city's
own typical experiences. Read from the city's slice of the results store
(:func:`xkaohe.report.kit.load_results`); the problem tables are the county
report's.
"""

from __future__ import annotations

import polars as pl

from xkaohe import codes
from xkaohe.report.county import completeness_box
from xkaohe.report.kit import DASH, Results, esc, of_type, percent_expr, status_cell, verdict_cell


def city_name(r: Results) -> str:
    """The city of a city slice."""
    return str(r.counties["city_name"][0])


def city_findings(r: Results) -> pl.DataFrame:
    """The city's own findings (no county), pairing items aside."""
    pairing = [it.code for it in r.plan.content.pairing]
    return r.findings.filter(
        pl.col("county_code").is_null() & ~pl.col("content_item").is_in(pairing)
    )


def city_heading(r: Results) -> str:
    """The city and how many counties of each category it has (HTML)."""
    parts = "、".join(
        f"{c.label}{n}个"
        for c in r.plan.county_categories
        if (n := r.counties.filter(of_type(c)).height)
    )
    return (
        f"<h2>{esc(city_name(r))}</h2><p>承担脱贫攻坚任务的县（市、区）{r.counties.height}个："
        f"{esc(parts)}。</p>"
    )


def county_table(r: Results) -> pl.DataFrame:
    """One row per county: the rates with their statuses, the verdict, problems, completeness."""
    wide = r.rates.with_columns(
        pl.format("{}（{}）", percent_expr(pl.col("ratio")), status_cell()).alias("cell")
    ).pivot(on="label", index="county_code", values="cell")
    pairing = [it.code for it in r.plan.content.pairing]
    problems = (
        r.findings.filter(
            pl.col("in_report")
            & pl.col("county_code").is_not_null()
            & ~pl.col("content_item").is_in(pairing)
        )
        .group_by("county_code")
        .agg(pl.len().cast(pl.Int64).alias("problems"))
    )
    comp = r.completeness.filter(pl.col("unit") == "county").select(
        pl.col("code").alias("county_code"),
        pl.when(pl.col("ok")).then(pl.lit("齐全")).otherwise(pl.col("shortfall")).alias("要素"),
    )
    labels = r.rates["label"].unique(maintain_order=True).to_list()
    return (
        r.counties.sort("county_code")
        .join(wide, on="county_code", how="left", maintain_order="left")
        .join(problems, on="county_code", how="left", maintain_order="left")
        .join(comp, on="county_code", how="left", maintain_order="left")
        .select(
            pl.col("county_name").alias("县（市、区）"),
            codes.COUNTY_CATEGORY.expr(pl.col("category")).alias("考核类别"),
            *[pl.col(label) for label in labels],
            verdict_cell().alias("结论"),
            pl.col("problems").fill_null(0).alias("报告问题数"),
            pl.col("要素").fill_null(DASH).alias("报告要素"),
        )
    )


FAILING = (
    codes.VERDICT.label("fail", short=True),
    codes.VERDICT_REFERENCE.label("fail", short=True),
)
"""How a failing verdict reads in the county table (to highlight its rows)."""


def completeness_table(completeness: pl.DataFrame) -> pl.DataFrame:
    """The city and each of its counties: experiences, problems, whether complete."""
    return completeness.select(
        pl.when(pl.col("unit") == "city")
        .then(pl.format("{}（市本级）", pl.col("name")))
        .otherwise(pl.col("name"))
        .alias("单位"),
        pl.col("experiences").alias("典型经验"),
        pl.col("problems").alias("已确认问题"),
        pl.col("problems_with_suggestion").alias("附意见建议"),
        pl.when(pl.col("ok")).then(pl.lit("齐全")).otherwise(pl.lit("不全")).alias("要素"),
        pl.col("shortfall").fill_null("").alias("缺项"),
    )


def city_box(r: Results) -> str:
    """The city's own report completeness box (HTML)."""
    return completeness_box(r.completeness.filter(pl.col("unit") == "city"), r.plan)


def city_experiences(r: Results) -> pl.DataFrame:
    """The city's own typical experiences (no county)."""
    return r.experiences.filter(pl.col("county_code").is_null())


__all__ = [
    "FAILING",
    "city_box",
    "city_experiences",
    "city_findings",
    "city_heading",
    "city_name",
    "completeness_table",
    "county_table",
]
