"""One-to-one feedback of the findings to each city and its counties (plan 七(二)).

Plan 七(二): 省扶贫办梳理汇总交叉考核发现的问题，一对一地反馈给各市、县. Discipline
八 forbids leaking household, project or interview material, so a city's
package (DESIGN.md, "Results store and reports") holds only that city's and
its counties' own findings, with personal data masked. This module builds the
packages from the results tables; :mod:`xkaohe.run.feedback_files` writes them.

What a city's package holds
---------------------------
* Only findings that count: confirmed and still in the report
  (:func:`xkaohe.findings.feedback_findings`): no dismissed, pending or
  covered finding.
* Only its own: ``city_name`` is the city **and** the finding is city-level
  (no ``county_code``) or its ``county_code`` is one of the city's counties in
  the run's counties table. A finding whose county belongs to another city,
  or to no known county, is in no package; :func:`misfiled_findings` lists
  them so that the provincial office can correct the record.
* The completeness of the city's and each county's report (plan 五: 3–5
  typical experiences, at least 3 problems with suggestions).

Masking (applied by :func:`mask_text` to every text column of a finding)
-----------------------------------------------------------------------
* ID numbers: every ``\\d{17}[\\dXx]`` becomes its first 6 and last 2
  characters around 10 asterisks (as :func:`xkaohe.report.mask_id_number`).
* Mobile numbers: ``1\\d{10}`` standing alone (not inside a longer run of
  digits; an optional 86 prefix and ``-`` or space separators allowed)
  becomes ``138****5678`` (as :func:`xkaohe.report.mask_phone`). The bound
  matters: 16-digit household ids and the 15 digits of a helper id contain
  runs that start with 1 and would otherwise be cut up.
* Names: free text has no pattern that marks a name, so the mask is the
  run's own list of known names (household heads in the registry extract,
  assessors in the roster): each occurrence keeps its surname, the rest
  becomes asterisks (as :func:`xkaohe.report.mask_name`). Place names
  (city, county, township, village) and the plan's item labels are protected,
  because many two-character names are also parts of place names (黄山,
  刘林村). Names the run does not know (general households, outsiders) are
  not caught: the mask is a safety net; teams still must not write names.
* Kept as they are: household ids, village and county codes, helper ids and
  project ids. They are registry codes the county needs to find the case and
  rectify it, and they identify a person only to whoever already holds the
  registry. 15-digit first-generation ID numbers are not masked: they cannot
  be told from such codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from xkaohe.analyse.findings import feedback_findings
from xkaohe.plan import ContentItem, Plan
from xkaohe.schemas import PROBLEM_LEVEL, require_columns

ID_NUMBER = r"(\d{6})\d{10}(\d[\dXx])"
"""An 18-character ID number (``\\d{17}[\\dXx]``), its first 6 and last 2 captured."""
MOBILE = r"(^|\D)((?:86)?1\d{2})([-\s]?)\d{4}([-\s]?)(\d{4})(\D|$)"
"""A mobile number not inside a longer run of digits; kept parts captured."""

TEXT_COLUMNS = ("description", "evidence", "suggestion")
"""The free-text columns of a finding: names are searched for here."""

SOURCE_LABELS = {"team": "考核组发现", "indicator": "指标测算", "cross_check": "交叉比对"}
SCOPE_LABELS = {"systemic": "共性问题", "case": "个性问题"}


# ------------------------------------------------------------------ masking


@dataclass(frozen=True)
class NameMask:
    """Known personal names and their masked forms, for free text.

    Build it with :meth:`build`. ``patterns`` are searched leftmost-first:
    protected words (which map to themselves) come first, then names, longest
    first, so that 张三丰 is masked whole and 黄山市 is never cut.
    """

    patterns: tuple[str, ...] = ()
    replacements: tuple[str, ...] = ()

    @classmethod
    def build(cls, names: Iterable[str | None], keep: Iterable[str | None] = ()) -> NameMask:
        """The mask of ``names`` (two characters or more), sparing the words in ``keep``.

        Parameters
        ----------
        names
            Personal names (nulls and one-character names are ignored).
        keep
            Words never masked, such as place names, even when they contain
            a name.

        Returns
        -------
        NameMask
            Deterministic: the same names and words give the same mask.
        """

        def longest_first(words: Iterable[str | None]) -> list[str]:
            found = {w.strip() for w in words if w and len(w.strip()) >= 2}
            return sorted(found, key=lambda w: (-len(w), w))

        protected = longest_first(keep)
        people = [n for n in longest_first(names) if n not in set(protected)]
        masked = [n[0] + "*" * (len(n) - 1) for n in people]
        return cls(tuple(protected + people), tuple(protected + masked))

    def apply(self, text: pl.Expr) -> pl.Expr:
        """``text`` with every known name masked (surname kept)."""
        if not self.patterns:
            return text
        return text.str.replace_many(list(self.patterns), list(self.replacements), leftmost=True)


def mask_text(text: pl.Expr, names: NameMask | None = None) -> pl.Expr:
    """Mask ID numbers, mobile numbers and, with ``names``, known names in free text.

    Parameters
    ----------
    text
        A string expression.
    names
        Known names to mask; None masks numbers only.

    Returns
    -------
    pl.Expr
        The masked text (null stays null). The mobile pattern runs twice so
        that two numbers separated by one character are both caught.
    """
    phone = r"${1}${2}${3}****${4}${5}${6}"
    out = (
        text.str.replace_all(ID_NUMBER, r"${1}**********${2}")
        .str.replace_all(MOBILE, phone)
        .str.replace_all(MOBILE, phone)
    )
    return names.apply(out) if names is not None else out


def mask_findings(findings: pl.DataFrame, names: NameMask | None = None) -> pl.DataFrame:
    """Every string column masked: numbers everywhere, names in :data:`TEXT_COLUMNS`."""
    return findings.with_columns(
        mask_text(pl.col(c), names if c in TEXT_COLUMNS else None)
        for c, t in findings.schema.items()
        if t == pl.String
    )


# ----------------------------------------------------------------- packages


@dataclass(frozen=True)
class UnitFeedback:
    """What one city (its own work) or one county is told.

    ``findings`` has the problems columns, ``scope`` and ``source``, masked,
    in plan item order; ``completeness`` is the unit's row of the
    completeness table (empty when the run has none for it).
    """

    unit: str  # city | county
    code: str  # the county code; the city name for a city
    name: str
    category: str | None
    findings: pl.DataFrame
    completeness: pl.DataFrame

    @property
    def shortfall(self) -> str | None:
        """What the unit's report lacks (plan 五), in Chinese; None when complete."""
        if self.completeness.height == 0:
            return None
        value = self.completeness["shortfall"][0]
        return None if value is None else str(value)


@dataclass(frozen=True)
class CityFeedback:
    """One city's package: its own findings, then each of its counties'."""

    city_name: str
    city: UnitFeedback
    counties: tuple[UnitFeedback, ...]

    @property
    def units(self) -> tuple[UnitFeedback, ...]:
        return (self.city, *self.counties)

    @property
    def findings(self) -> pl.DataFrame:
        """All the package's findings, the city's first."""
        return pl.concat([u.findings for u in self.units], how="vertical")


def misfiled_findings(findings: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    """Confirmed, reported findings whose county is not one of their city's counties.

    They go into no city's package: the record must be corrected first.
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
    names: NameMask | None = None,
) -> pl.DataFrame:
    """The findings fed back to ``city_name``, masked (see the module docstring).

    Parameters
    ----------
    findings
        The results store's findings (:func:`xkaohe.findings.merge_findings`).
    counties
        The run's counties: ``county_code, city_name``.
    city_name
        The city.
    plan
        The plan: the order of the content items.
    names
        Known names to mask in the free text.

    Returns
    -------
    pl.DataFrame
        The problems columns, ``scope`` and ``source`` (null when the
        problem id is ambiguous), sorted by county (city-level first), plan
        item order and problem id.
    """
    require_columns(findings, "findings", ("problem_id", "source", "confirmed", "in_report"))
    require_columns(counties, "counties", ("county_code", "city_name"))
    mine = counties.filter(pl.col("city_name") == city_name)["county_code"]
    rows = feedback_findings(findings, city_name).filter(
        pl.col("county_code").is_null() | pl.col("county_code").is_in(mine.implode())
    )
    source = (
        findings.filter(pl.col("city_name") == city_name)
        .select("problem_id", "source")
        .unique("problem_id", keep="none")
    )
    order = _item_order(plan)
    return (
        mask_findings(rows.join(source, on="problem_id", how="left"), names)
        .with_columns(
            _o=pl.col("content_item").replace_strict(
                order, default=len(order), return_dtype=pl.Int64
            )
        )
        .sort("county_code", "_o", "problem_id", nulls_last=False)
        .drop("_o")
    )


def _unit(
    completeness: pl.DataFrame,
    kind: str,
    code: str,
    name: str,
    category: str | None,
    findings: pl.DataFrame,
) -> UnitFeedback:
    done = completeness.filter((pl.col("unit") == kind) & (pl.col("code") == code))
    return UnitFeedback(kind, code, name, category, findings, done)


def build_feedback(
    findings: pl.DataFrame,
    counties: pl.DataFrame,
    completeness: pl.DataFrame,
    plan: Plan,
    names: NameMask | None = None,
) -> list[CityFeedback]:
    """Every city's package: one per city of ``counties``, cities in county-code order.

    Parameters
    ----------
    findings
        The results store's findings.
    counties
        The run's counties: ``county_code, county_name, city_name`` (and
        ``category``, shown when present).
    completeness
        The results store's completeness table
        (:func:`xkaohe.findings.completeness`).
    plan
        The plan.
    names
        Known names to mask in the free text.

    Returns
    -------
    list[CityFeedback]
        Every city gets a package, with every one of its counties, even when
        it has no finding to be told.
    """
    require_columns(counties, "counties", ("county_code", "county_name", "city_name"))
    require_columns(completeness, "completeness", ("unit", "code", "shortfall"))
    ordered = counties.sort("county_code")
    cities = ordered["city_name"].unique(maintain_order=True).to_list()
    has_category = "category" in ordered.columns
    out: list[CityFeedback] = []
    for city in cities:
        rows = city_findings(findings, counties, city, plan, names)
        own = _unit(
            completeness, "city", city, city, None, rows.filter(pl.col("county_code").is_null())
        )
        parts = [
            _unit(
                completeness,
                "county",
                c["county_code"],
                c["county_name"],
                c["category"] if has_category else None,
                rows.filter(pl.col("county_code") == c["county_code"]),
            )
            for c in ordered.filter(pl.col("city_name") == city).iter_rows(named=True)
        ]
        out.append(CityFeedback(city, own, tuple(parts)))
    return out


# ------------------------------------------------------------ presentation


def _review_text() -> pl.Expr:
    date = pl.col("review_date").dt.strftime("%Y-%m-%d")
    return (
        pl.when(pl.col("review_outcome") == "confirmed")
        .then(pl.concat_str(pl.lit("经复核属实（"), date.fill_null("日期不详"), pl.lit("）")))
        .when(~pl.col("needs_review").fill_null(True))
        .then(pl.lit("无需复核，考核组确认"))
        .otherwise(pl.lit("已确认"))
    )


def findings_table(
    findings: pl.DataFrame, plan: Plan, villages: pl.DataFrame | None = None
) -> pl.DataFrame:
    """A unit's findings with Chinese headers, as the package prints them.

    Parameters
    ----------
    findings
        Rows of :func:`city_findings` (already masked).
    plan
        The plan: the content items' labels.
    villages
        Optional ``village_code, village_name, township_name`` to name the
        village of a village- or household-level finding.

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
        pl.col("level").replace_strict(PROBLEM_LEVEL, default=pl.col("level")).alias("问题层级"),
        place.fill_null("").alias("村"),
        pl.col("content_item")
        .replace_strict(labels, default=pl.col("content_item"))
        .alias("考核内容"),
        pl.col("scope").replace_strict(SCOPE_LABELS, default=pl.col("scope")).alias("问题性质"),
        pl.col("description").fill_null("").alias("问题描述"),
        pl.col("evidence").fill_null("").alias("佐证材料"),
        pl.col("suggestion").fill_null("（缺少意见建议）").alias("意见建议"),
        _review_text().alias("复核情况"),
        pl.col("raised_date").dt.strftime("%Y-%m-%d").fill_null("").alias("发现日期"),
        pl.col("source")
        .replace_strict(SOURCE_LABELS, default=pl.col("source"))
        .fill_null("")
        .alias("问题来源"),
    )


def completeness_table(package: CityFeedback) -> pl.DataFrame:
    """The city's and its counties' report completeness, with Chinese headers."""
    rows = [
        (
            u.name,
            "市级" if u.unit == "city" else "县级",
            str(u.findings.height),
            "无记录"
            if u.completeness.height == 0
            else ("符合要求" if u.shortfall is None else u.shortfall),
        )
        for u in package.units
    ]
    return pl.DataFrame(rows, schema=["单位", "层级", "反馈问题数", "考核报告完整性"], orient="row")


def protected_words(plan: Plan, *tables: pl.DataFrame) -> list[str]:
    """Words the name mask must spare: the plan's labels and every place name in ``tables``.

    Place names are read from the columns ``city_name, county_name,
    township_name, village_name`` where a table has them.
    """
    words: set[str] = set()
    for it in _items(plan):
        words.add(it.label)
        words.update(it.sub_items)
    for category in plan.county_categories:
        words.add(category.label)
    for df in tables:
        for c in ("city_name", "county_name", "township_name", "village_name"):
            if c in df.columns:
                words.update(str(v) for v in df[c].drop_nulls().unique().to_list())
    return sorted(words)


__all__ = [
    "CityFeedback",
    "NameMask",
    "UnitFeedback",
    "build_feedback",
    "city_findings",
    "completeness_table",
    "findings_table",
    "mask_findings",
    "mask_text",
    "misfiled_findings",
    "protected_words",
]
