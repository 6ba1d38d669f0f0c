"""What ``notebooks/county_sample.ipynb`` shows: one county's sample (plan 五(七); DESIGN protocol).

The villages in walk order with their random numbers and tilt, the drawn
households against the quotas (substitutions marked), the villager groups
surveyed in full, the projects, the interviewees and the certificate a
reviewer re-derives the sample from. Read from the sample package as
:func:`xkaohe.report.kit.load_county_sample` loaded it (names masked).
"""

from __future__ import annotations

import polars as pl

from xkaohe import codes
from xkaohe.report.kit import (
    CountySample,
    esc,
    heading,
    planned_totals,
    village_plan_text,
    yes,
)


def county_heading(cs: CountySample) -> str:
    """The county's name, city, category, the plan's focus and its helper county (HTML)."""
    helper = cs.county.get("paired_helper_county")
    return heading(cs.county, cs.plan, f"；结对帮扶县：{esc(helper)}" if helper else "")


def sample_counts(cs: CountySample) -> str:
    """One sentence: what was drawn against the plan (the county's own rule, stored)."""
    plan = planned_totals(cs.planned)
    quota = plan.filter((pl.col("kind") == "households") & (pl.col("basis") != "full_coverage"))
    general = int(plan.filter(pl.col("kind") == "general")["planned"].sum())
    hh = cs.tables["households"]
    quota_rows = hh.filter(pl.col("selected_as").is_in(quota["category"].implode()))
    return (
        f"<p>抽取村 {cs.tables['villages'].height} 个"
        f"（计划 {esc(village_plan_text(cs.planned))}）；"
        f"按类别抽取建档立卡户 {quota_rows.height} 户（计划 {int(quota['planned'].sum())} 户），"
        f"全覆盖户与村民小组全覆盖另计，全部抽样户 {hh.height} 户；"
        f"另随机走访一般农户（计划 {general} 户，"
        f"每村 {cs.plan.sampling.households.general_per_village} 户）。</p>"
    )


def village_table(cs: CountySample) -> pl.DataFrame:
    """The drawn villages, in walk order, with Chinese headers."""
    return (
        cs.tables["villages"]
        .sort("walk_order")
        .select(
            pl.col("walk_order").alias("抽取顺序"),
            pl.col("township_name").alias("乡镇"),
            pl.col("village_name").alias("村"),
            codes.VILLAGE_TYPE.expr(pl.col("village_type")).alias("村类型"),
            codes.VILLAGE_TYPE.expr(pl.col("substituted_for")).fill_null("").alias("替代类型"),
            yes(pl.col("relaxed_township")).alias("同乡镇放宽"),
            pl.col("remoteness").round(3).alias("偏远指数"),
            pl.col("tilt_weight").round(3).alias("倾斜权重"),
            pl.col("prn").round(4).alias("随机数"),
            pl.col("inclusion_prob").round(3).alias("入样概率(近似)"),
        )
    )


def household_summary(cs: CountySample) -> pl.DataFrame:
    """Households per village and category: the stored plan against drawn, substitutions.

    A category planned but not drawn shows 0 drawn; one drawn without a plan
    (the villager-group census) shows no plan; statuses covered in full show
    how many the frame lists.
    """
    villages = cs.tables["villages"].select("village_code", "village_name", "walk_order")
    planned = (
        cs.planned.filter(pl.col("kind") == "households")
        .with_row_index("_order")
        .select("village_code", pl.col("category").alias("selected_as"), "planned", "_order")
    )
    counts = (
        cs.tables["households"]
        .group_by("village_code", "selected_as")
        .agg(drawn=pl.len(), substituted=(pl.col("status") != pl.col("selected_as")).sum())
    )
    both = (
        planned.join(counts, on=["village_code", "selected_as"], how="full", coalesce=True)
        .filter((pl.col("planned").fill_null(0) > 0) | (pl.col("drawn").fill_null(0) > 0))
        .join(villages, on="village_code", how="left")
        .sort(
            "walk_order",
            "village_code",
            pl.col("_order").fill_null(len(planned)),
            codes.SAMPLE_CATEGORY.rank(pl.col("selected_as")),
        )
    )
    return both.select(
        pl.col("village_name").alias("村"),
        codes.SAMPLE_CATEGORY.expr(pl.col("selected_as")).alias("抽样类别"),
        pl.col("planned").alias("计划户数"),
        pl.col("drawn").fill_null(0).alias("抽取户数"),
        pl.col("substituted").fill_null(0).alias("其中替代户"),
    )


def household_table(cs: CountySample) -> pl.DataFrame:
    """The household list (names masked when loaded), substitutions marked."""
    quotas = [q.status for q in cs.plan.sampling.households.quotas]
    substituted = pl.col("selected_as").is_in(quotas) & (pl.col("status") != pl.col("selected_as"))
    return cs.tables["households"].select(
        pl.col("village_name").alias("村"),
        pl.col("villager_group").alias("村民小组"),
        pl.col("household_id").alias("户编号"),
        pl.col("head_name").alias("户主"),
        pl.col("household_size").alias("人口"),
        codes.HOUSEHOLD_STATUS.expr(pl.col("status")).alias("户类型"),
        codes.SAMPLE_CATEGORY.expr(pl.col("selected_as")).alias("抽样类别"),
        yes(substituted, "替代").alias("替代"),
    )


def group_table(cs: CountySample) -> pl.DataFrame:
    """The villager groups surveyed in full."""
    return cs.tables["villager_groups"].select(
        pl.col("village_name").alias("村"),
        pl.when(pl.col("is_poor_village"))
        .then(pl.lit(codes.VILLAGE_TYPE.label("poor")))
        .otherwise(pl.lit("非贫困村"))
        .alias("村别"),
        pl.col("villager_group").alias("全覆盖村民小组"),
        pl.col("households_registered").alias("建档立卡户数"),
    )


def project_table(cs: CountySample) -> pl.DataFrame:
    """The drawn projects, with a note where a project has too few beneficiaries."""
    return cs.tables["projects"].select(
        codes.PROJECT_LEVEL.expr(pl.col("level"), short=True).alias("层级"),
        pl.col("village_code").fill_null("").alias("村代码"),
        pl.col("project_id").alias("项目编号"),
        pl.col("name").alias("项目名称"),
        codes.PROJECT_KIND.expr(pl.col("kind")).alias("项目类型"),
        pl.col("funds_yuan").alias("资金(元)"),
        pl.col("beneficiaries_drawn").alias("抽查受益户"),
        yes(
            pl.col("few_beneficiaries"), f"不足{cs.plan.sampling.projects.beneficiaries_min}户"
        ).alias("提示"),
    )


def beneficiary_table(cs: CountySample) -> pl.DataFrame:
    """The drawn beneficiaries of the cooperation projects (names masked)."""
    return cs.tables["project_households"].select(
        pl.col("project_id").alias("项目编号"),
        pl.col("household_id").alias("户编号"),
        pl.col("head_name").alias("户主"),
        pl.col("village_code").alias("村代码"),
        pl.col("villager_group").alias("村民小组"),
    )


def interview_table(cs: CountySample) -> pl.DataFrame:
    """The plan's interview quotas of the county (and its city), by level."""
    quotas = (
        cs.tables["interviewees"]
        .filter(pl.col("level") != "helper")
        .group_by("level", "label", maintain_order=True)
        .agg(pl.col("count").sum())
    )
    return quotas.select(
        codes.INTERVIEW_LEVEL.expr(pl.col("level")).alias("层级"),
        pl.col("label").alias("访谈对象"),
        pl.col("count").alias("人数（合计）"),
    )


def helper_table(cs: CountySample) -> pl.DataFrame:
    """The drawn assistance cadres (帮扶责任人) of each village."""
    helpers = cs.tables["interviewees"].filter(pl.col("level") == "helper")
    names = cs.tables["villages"].select("village_code", "village_name")
    return helpers.join(names, on="village_code", how="left", maintain_order="left").select(
        pl.col("village_name").alias("村"),
        pl.col("helper_id").alias("帮扶责任人编号"),
        pl.when(pl.col("from_sample"))
        .then(pl.lit("抽样户的帮扶责任人"))
        .otherwise(pl.lit("本村其他帮扶责任人"))
        .alias("来源"),
    )


def certificate_table(cs: CountySample) -> pl.DataFrame:
    """The certificate as two columns a reviewer can read and check."""
    c = cs.certificate
    rows = [
        ("抽样规程", c["protocol"]),
        ("随机种子", c["seed"]),
        ("方案文件 SHA-256", c["plan"]["sha256"]),
        ("软件版本", c["package_version"]),
    ]
    rows += [
        (f"底册 {v['file']} SHA-256", v["sha256"]) for _, v in sorted(c["frame"]["files"].items())
    ]
    return pl.DataFrame(rows, schema=["项目", "值"], orient="row")


__all__ = [
    "beneficiary_table",
    "certificate_table",
    "county_heading",
    "group_table",
    "helper_table",
    "household_summary",
    "household_table",
    "interview_table",
    "project_table",
    "sample_counts",
    "village_table",
]
