"""One-to-one feedback packages: each city and each county is told its own problems only.

Plan 七(二): 省扶贫办梳理汇总交叉考核发现的问题，一对一地反馈给各市、县（市、区），
并督促各地抓好整改落实. Plan 八(三) forbids leaking household, project or
interview material. So (DESIGN.md, "Results store and reports"):

* **One package per city** holds the city's *city-level* findings only
  (``county_code`` empty, ``city_name`` the city); **one package per county**
  holds that county's findings only. Nobody receives a neighbour's problems,
  the teams' internal material (report completeness, review workflow) or
  other places' village names.
* Only findings that count: confirmed and in the report
  (:func:`xkaohe.analyse.findings.feedback_findings`). A finding filed under
  a county of another city is in no package (:func:`misfiled_findings`).
* Personal data are masked by :mod:`xkaohe.privacy` in every free-text
  column (ID and phone numbers, the names the run knows), place names and
  plan labels spared. Registry codes stay: the county needs them to rectify.
* Every package has an id (:func:`package_id`) printed with its recipient in
  the header and footer of every file, so a leaked copy names its recipient,
  and a rectification register template (整改台账) keyed by problem id.

This module builds the packages from the results tables;
:mod:`xkaohe.run.feedback_files` writes them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

from xkaohe.analyse.findings import feedback_findings
from xkaohe.codes import FINDING_SCOPE, FINDING_SOURCE
from xkaohe.plan import ContentItem, Plan
from xkaohe.privacy import KnownNames, mask_frame
from xkaohe.report.kit import protected_words, review_text
from xkaohe.schemas import PROBLEM_LEVEL, require_columns

TEXT_COLUMNS = ("description", "evidence", "suggestion")
"""The free-text columns of a finding: names are searched for here."""


REGISTER_COLUMNS = {
    "package_id": "反馈包编号",
    "unit_code": "反馈单位代码",
    "problem_id": "问题编号",
    "description": "问题描述",
    "measure": "整改措施",
    "responsible_unit": "责任单位",
    "deadline": "完成时限",
    "status": "整改状态",
    "evidence": "整改佐证材料",
}
"""The rectification register (整改台账): canonical name -> the Chinese header printed.

The first four columns are filled in by the office; the county (or city)
fills in the rest and returns the workbook."""


# ----------------------------------------------------------------- packages


@dataclass(frozen=True)
class Package:
    """What one recipient is told: a city about its own work, or one county.

    ``code`` is the county code, or the city name for a city package;
    ``findings`` has the problems columns, ``scope`` and ``source``, masked,
    in plan item order.
    """

    package_id: str
    kind: str  # city | county
    city_name: str
    code: str
    name: str
    category: str | None
    findings: pl.DataFrame

    @property
    def recipient(self) -> str:
        """The recipient as printed: 阜阳市（市本级） or 临泉县（341221）."""
        return f"{self.name}（市本级）" if self.kind == "city" else f"{self.name}（{self.code}）"


def package_id(year: int, run_name: str, kind: str, code: str) -> str:
    """A stable id naming the recipient: ``FK2019-341221-1a2b3c`` (city: the city name).

    The hash covers the run, so the same recipient's packages of two runs differ.
    """
    digest = hashlib.sha256(f"{run_name}|{kind}|{code}".encode()).hexdigest()[:6]
    return f"FK{year}-{code}-{digest}"


def misfiled_findings(findings: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    """Confirmed, reported findings whose county is not one of their city's counties.

    They go into no package: the record must be corrected first.
    """
    require_columns(findings, "findings", ("city_name", "county_code", "confirmed", "in_report"))
    own = counties.select("county_code", "city_name")
    return findings.filter(
        pl.col("confirmed") & pl.col("in_report") & pl.col("county_code").is_not_null()
    ).join(own, on=["county_code", "city_name"], how="anti", nulls_equal=True)


def _items(plan: Plan) -> tuple[ContentItem, ...]:
    """The plan's content items: city (三(一)2), county (三(一)1), pairing (三(二))."""
    return (*plan.content.city, *plan.content.county, *plan.content.pairing)


def _item_order(plan: Plan) -> dict[str, int]:
    return {it.code: i for i, it in enumerate(_items(plan))}


def city_findings(
    findings: pl.DataFrame,
    counties: pl.DataFrame,
    city_name: str,
    plan: Plan,
    names: KnownNames | None = None,
) -> pl.DataFrame:
    """The findings fed back to ``city_name`` and its counties, masked, in package order.

    Returns
    -------
    pl.DataFrame
        The problems columns, ``scope``, ``source`` and ``review_state``
        (the stored ones; null when the problem id is ambiguous), sorted by
        county (city-level first), plan item order and problem id.
    """
    require_columns(findings, "findings", ("problem_id", "source", "confirmed", "in_report"))
    require_columns(counties, "counties", ("county_code", "city_name"))
    mine = counties.filter(pl.col("city_name") == city_name)["county_code"]
    rows = feedback_findings(findings, city_name).filter(
        pl.col("county_code").is_null() | pl.col("county_code").is_in(mine.implode())
    )
    source = (
        findings.filter(pl.col("city_name") == city_name)
        .select("problem_id", "source", "review_state")
        .unique("problem_id", keep="none")
    )
    order = _item_order(plan)
    joined = rows.join(source, on="problem_id", how="left")
    masked = mask_frame(joined, names or KnownNames(), columns=TEXT_COLUMNS)
    return (
        masked.with_columns(
            _o=pl.col("content_item").replace_strict(
                order, default=len(order), return_dtype=pl.Int64
            )
        )
        .sort("county_code", "_o", "problem_id", nulls_last=False)
        .drop("_o")
    )


def build_packages(
    findings: pl.DataFrame,
    counties: pl.DataFrame,
    plan: Plan,
    run_name: str,
    names: KnownNames | None = None,
) -> list[Package]:
    """Every package: per city (in county-code order) the city's, then each county's.

    Parameters
    ----------
    findings
        The results store's findings.
    counties
        The run's counties: ``county_code, county_name, city_name`` (and
        ``category``, shown when present).
    plan
        The plan.
    run_name
        The run folder's name (in the package ids).
    names
        Known names to mask in the free text.

    Returns
    -------
    list[Package]
        Every city and every county gets a package, even with nothing to be told.
    """
    require_columns(counties, "counties", ("county_code", "county_name", "city_name"))
    ordered = counties.sort("county_code")
    has_category = "category" in ordered.columns
    out: list[Package] = []
    for city in ordered["city_name"].unique(maintain_order=True).to_list():
        rows = city_findings(findings, counties, city, plan, names)
        out.append(
            Package(
                package_id(plan.year, run_name, "city", city),
                "city",
                city,
                city,
                city,
                None,
                rows.filter(pl.col("county_code").is_null()),
            )
        )
        for c in ordered.filter(pl.col("city_name") == city).iter_rows(named=True):
            code = c["county_code"]
            out.append(
                Package(
                    package_id(plan.year, run_name, "county", code),
                    "county",
                    city,
                    code,
                    c["county_name"],
                    c["category"] if has_category else None,
                    rows.filter(pl.col("county_code") == code),
                )
            )
    return out


# ------------------------------------------------------------ presentation


def findings_table(
    findings: pl.DataFrame, plan: Plan, villages: pl.DataFrame | None = None
) -> pl.DataFrame:
    """A package's findings with Chinese headers, as the package prints them.

    Parameters
    ----------
    findings
        Rows of one :class:`Package` (already masked).
    plan
        The plan: the content items' labels.
    villages
        Optional ``village_code, village_name, township_name`` to name the
        village of a village- or household-level finding (only villages the
        findings name are looked up, so no other place's name can enter).

    Returns
    -------
    pl.DataFrame
        序号, 问题编号, 问题层级, 村, 考核内容, 问题性质, 问题描述, 佐证材料,
        意见建议, 复核情况, 发现日期, 问题来源; every value text.
    """
    labels = {it.code: f"{it.code} {it.label}" for it in _items(plan)}
    df = findings
    if villages is not None and df.height:
        df = df.join(
            villages.select("village_code", "village_name", "township_name"),
            on="village_code",
            how="left",
            maintain_order="left",
        )
        place = pl.concat_str(
            pl.col("township_name"),
            pl.col("village_name"),
            pl.format("（{}）", pl.col("village_code")),
        ).fill_null(pl.col("village_code"))
    else:
        place = pl.col("village_code")
    return df.select(
        pl.int_range(1, pl.len() + 1).cast(pl.String).alias("序号"),
        pl.col("problem_id").alias("问题编号"),
        pl.col("level")
        .replace_strict(PROBLEM_LEVEL.labels(), default=pl.col("level"))
        .alias("问题层级"),
        place.fill_null("").alias("村"),
        pl.col("content_item")
        .replace_strict(labels, default=pl.col("content_item"))
        .alias("考核内容"),
        pl.col("scope")
        .replace_strict(FINDING_SCOPE.labels(), default=pl.col("scope"))
        .alias("问题性质"),
        pl.col("description").fill_null("").alias("问题描述"),
        pl.col("evidence").fill_null("").alias("佐证材料"),
        pl.col("suggestion").fill_null("（缺少意见建议）").alias("意见建议"),
        review_text().alias("复核情况"),
        pl.col("raised_date").dt.strftime("%Y-%m-%d").fill_null("").alias("发现日期"),
        pl.col("source")
        .replace_strict(FINDING_SOURCE.labels(), default=pl.col("source"))
        .fill_null("")
        .alias("问题来源"),
    )


def register_template(package: Package) -> pl.DataFrame:
    """The rectification register of a package (整改台账), one row per problem, Chinese headers.

    The office fills 反馈包编号, 反馈单位代码, 问题编号 and 问题描述; the
    recipient fills 整改措施, 责任单位, 完成时限 (YYYY-MM-DD), 整改状态 and
    整改佐证材料, and returns the workbook (``xkaohe rectification import``).
    """
    f = package.findings
    return pl.DataFrame(
        {
            "package_id": [package.package_id] * f.height,
            "unit_code": [package.code] * f.height,
            "problem_id": f["problem_id"].to_list(),
            "description": f["description"].fill_null("").to_list(),
            **{c: [""] * f.height for c in list(REGISTER_COLUMNS)[4:]},
        },
        schema={c: pl.String for c in REGISTER_COLUMNS},
    ).rename(REGISTER_COLUMNS)


__all__ = [
    "REGISTER_COLUMNS",
    "Package",
    "build_packages",
    "city_findings",
    "findings_table",
    "misfiled_findings",
    "package_id",
    "protected_words",
    "register_template",
]
