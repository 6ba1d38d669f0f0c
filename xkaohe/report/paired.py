"""What ``notebooks/paired_report.ipynb`` shows: a helped county's pairing (plan 三(二)).

The 20 national poverty counties helped by a paired county get a report of
their own on the pairing: the six pairing items (P1..P6) with the problems
filed under them, the paired cooperation projects checked on site, their
drawn beneficiaries (masked) and the helper county's people interviewed.
Read from the county's slice of the results store
(:func:`xkaohe.report.kit.load_results`); the tables are the county report's.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from xkaohe.report.county import with_names
from xkaohe.report.kit import DASH, Results, box, esc, load_results


def load_paired(run: Path, county_code: str | int = "") -> Results:
    """The slice of a helped county (default: the run's first county with a helper county).

    Raises
    ------
    InputError
        When the county is not in the run or has no paired helper county.
    """
    return load_results(run, county_code=str(county_code), helped=True)


def pairing_findings(r: Results) -> pl.DataFrame:
    """The county's findings filed under the pairing items (P1..P6)."""
    return r.findings.filter(
        pl.col("content_item").is_in([it.code for it in r.plan.content.pairing])
    )


def paired_projects(r: Results) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The paired cooperation projects and their discrepancies."""
    projects = r.check_projects.filter(pl.col("level") == "paired")
    ids = projects["project_id"].implode()
    return projects, r.check_discrepancies.filter(pl.col("subject").is_in(ids))


def paired_heading(r: Results) -> str:
    """Helped county, its city and the helper county (HTML)."""
    c = r.county
    helper = esc(c["paired_helper_county"])
    return (
        f"<h2>{helper} 结对帮扶 {esc(c['city_name'])}{esc(c['county_name'])}"
        f"（{esc(c['county_code'])}）</h2>"
        f"<p>帮扶县：<b>{helper}</b>；受帮扶县：<b>{esc(c['county_name'])}</b>（国家级贫困县）</p>"
    )


def interview_table(r: Results) -> pl.DataFrame:
    """The helper county's people the team interviews in the helped county."""
    roles = [q.role for q in r.plan.sampling.interviews.county_paired]
    return r.interviewees.filter(
        (pl.col("county_code") == r.county["county_code"]) & pl.col("role").is_in(roles)
    ).select(pl.col("label").alias("访谈对象"), pl.col("count").alias("人数"))


def beneficiary_table(r: Results) -> pl.DataFrame:
    """The drawn beneficiaries of each cooperation project (masked), with the project's check."""
    projects, _ = paired_projects(r)
    checks = projects.select("project_id", "name", "beneficiaries_drawn", "beneficiaries_confirmed")
    return (
        with_names(r.project_households.join(checks, on="project_id", how="inner"), r.village_names)
        .sort("project_id", "prn")
        .select(
            pl.col("project_id").alias("项目编号"),
            pl.col("name").alias("项目名称"),
            pl.col("village_name").alias("村"),
            pl.col("villager_group").fill_null("").alias("村民小组"),
            pl.col("household_id").alias("户编号"),
            pl.col("head_name").fill_null(DASH).alias("户主"),
            pl.format(
                "{}/{}",
                pl.col("beneficiaries_confirmed").cast(pl.String).fill_null(DASH),
                pl.col("beneficiaries_drawn"),
            ).alias("项目核实受益户/抽查户"),
        )
    )


def pairing_box(r: Results) -> str:
    """Where the pairing report stands: problems found and reviewed (HTML).

    The plan sets the 3–5 experiences and at least 3 problems for city and
    county reports; for the pairing report it sets none, so this box informs
    and does not judge.
    """
    shown = pairing_findings(r).filter(pl.col("in_report"))
    confirmed = shown.filter(pl.col("confirmed")).height
    projects, _ = paired_projects(r)
    body = (
        f"结对帮扶考核内容{len(r.plan.content.pairing)}项中有{shown['content_item'].n_unique()}项"
        f"发现问题，列入报告的问题{shown.height}个，已确认{confirmed}个，"
        f"待复核{shown.height - confirmed}个；抽查结对合作项目{projects.height}个（方案要求"
        f"{r.plan.sampling.projects.paired_cooperation}个）。方案对结对帮扶报告的问题和经验条数"
        "未作规定，此处仅作统计。"
    )
    return box("info", "结对帮扶报告要素", esc(body))


__all__ = [
    "beneficiary_table",
    "interview_table",
    "load_paired",
    "paired_heading",
    "paired_projects",
    "pairing_box",
    "pairing_findings",
]
