"""The household visits of the paired cooperation projects (plan 五(四), 三(二)).

In the 20 national poverty counties helped by a paired county, four paired
cooperation projects are drawn and 2-3 of each project's beneficiary
households are visited (五(四): 县域结对帮扶工作成效考核对每个合作项目随机抽查
2—3户; ``project_households.csv`` of the sample package). These visits answer
the pairing assessment (三(二): 产业合作, 携手奔小康): did the project reach the
household, is the household out of poverty and does it approve. They are not
a sample of the county's households, so they never enter the county rates
(:mod:`xkaohe.field.checks` keeps them apart); a beneficiary that is also a
drawn household of the village sample is visited once and counted there.
"""

from __future__ import annotations

import polars as pl

from xkaohe.field.checks import PAIRED_PROJECT, SAMPLE

__all__ = ["PAIRED_VISIT_COLUMNS", "paired_visit_table"]

PAIRED_VISIT_COLUMNS = (
    "visit_date",
    "team_id",
    "registered",
    "household_size",
    "income_per_capita_yuan",
    "qualified",
    "approves",
    "knows_helper",
)
"""What the table shows of each visit (besides its kind and the survey row)."""


def paired_visit_table(
    project_households: pl.DataFrame,
    projects: pl.DataFrame,
    paired_visits: pl.DataFrame,
    households: pl.DataFrame,
) -> pl.DataFrame:
    """Every drawn beneficiary of a paired cooperation project, and its visit if any.

    Parameters
    ----------
    project_households
        ``project_households`` of the sample package (``project_id,
        household_id, village_code``).
    projects
        ``projects`` of the sample package (``project_id, county_code``).
    paired_visits
        Classified visits of paired-project beneficiaries outside the village
        sample (:attr:`xkaohe.field.checks.CheckedField.paired_visits`).
    households
        Classified visits of the village sample (the county rates' households).

    Returns
    -------
    pl.DataFrame
        One row per drawn project household: ``county_code, project_id,
        household_id, village_code, visited, visit_kind`` (``paired_project``,
        ``sample`` when it was visited as a household of the village sample,
        null when not visited), the columns of :data:`PAIRED_VISIT_COLUMNS`
        and ``survey_row`` (its row of the household survey). Sorted by
        county, project and household.
    """
    keys = ["village_code", "household_id"]
    visits = pl.concat(
        [
            df.select(
                *keys,
                pl.lit(kind).alias("visit_kind"),
                *PAIRED_VISIT_COLUMNS,
                pl.col("_row").alias("survey_row"),
            )
            for df, kind in ((paired_visits, PAIRED_PROJECT), (households, SAMPLE))
        ]
    ).unique(keys, keep="first", maintain_order=True)
    return (
        project_households.select("project_id", "household_id", "village_code")
        .join(projects.select("project_id", "county_code"), on="project_id", how="left")
        .join(visits, on=keys, how="left")
        .with_columns(visited=pl.col("visit_kind").is_not_null())
        .select(
            "county_code",
            "project_id",
            "household_id",
            "village_code",
            "visited",
            "visit_kind",
            *PAIRED_VISIT_COLUMNS,
            "survey_row",
        )
        .sort("county_code", "project_id", "household_id")
    )
