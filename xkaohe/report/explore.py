"""What ``notebooks/explore.ipynb`` shows: the explorer (city -> county -> village -> household).

Just over ~600 lines: the explorer's pure shapers and the one widget class that
wires them (tested without a browser) belong to one notebook.

DESIGN.md ("Who uses it"): the provincial analyst explores findings in
JupyterLab and drills from province to city to county to household. The run
is loaded once (:func:`xkaohe.report.kit.load_results`, personal data masked
as it is read) and kept in memory; every table and chart is shaped by a pure
function of it, tested without a browser. :class:`Explorer` only wires
ipywidgets to them and updates its plotly ``FigureWidget`` in place.
Statuses, review states and classifications are the stored ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl

from xkaohe import codes
from xkaohe.analyse.indicators import ITEMS
from xkaohe.report.county import household_type, project_flags, shortfalls
from xkaohe.report.figures import rate_chart, rate_points, refill
from xkaohe.report.kit import (
    DASH,
    Results,
    esc,
    interval_expr,
    item_labels,
    load_results,
    percent_expr,
    review_text,
    standard_expr,
    status_cell,
    synthetic_banner,
    table_html,
)
from xkaohe.schemas import HOUSEHOLD_SURVEY

ALL = ""
"""The value of an option that means "no filter" (全部)."""

_SURVEY_LABELS = {c.name: c.alias or c.name for c in HOUSEHOLD_SURVEY.columns}


def _choices(code_set: codes.CodeSet) -> list[tuple[str, str]]:
    return [("全部", ALL), *((c.label, c.code) for c in code_set)]


# ------------------------------------------------------------------ options


def city_options(counties: pl.DataFrame) -> list[str]:
    """The cities, in the order of their first county code (the province's order)."""
    first = counties.group_by("city_name").agg(pl.col("county_code").min()).sort("county_code")
    return first["city_name"].to_list()


def county_options(counties: pl.DataFrame, city: str) -> list[tuple[str, str]]:
    """The counties of ``city`` as ``(label, county_code)``, by code."""
    mine = counties.filter(pl.col("city_name") == city).sort("county_code")
    return [(f"{n}（{c}）", c) for c, n in mine.select("county_code", "county_name").iter_rows()]


def village_options(villages: pl.DataFrame, county_code: str) -> list[tuple[str, str]]:
    """The county's sampled villages as ``(label, village_code)``, after "all villages"."""
    mine = villages.filter(pl.col("county_code") == county_code).sort("village_code")
    rows = mine.select("village_code", "village_name", "township_name").iter_rows()
    return [("全部抽样村", ALL)] + [(f"{town} {name}", code) for code, name, town in rows]


def _households_in(households: pl.DataFrame, county_code: str, village_code: str) -> pl.DataFrame:
    mine = households.filter(pl.col("county_code") == county_code)
    if village_code:
        mine = mine.filter(pl.col("village_code") == village_code)
    return mine.sort("village_code", "household_id")


def household_options(
    households: pl.DataFrame, county_code: str, village_code: str = ALL
) -> list[tuple[str, str]]:
    """Surveyed households as ``(label, household_id)``; the label has the masked head's name."""
    labels = _households_in(households, county_code, village_code).select(
        "household_id",
        pl.format(
            "{} {} {}", "household_id", pl.col("head_name").fill_null(""), household_type()
        ).alias("label"),
    )
    return [("（选择一户查看详情）", ALL)] + [(label, hid) for hid, label in labels.iter_rows()]


# ------------------------------------------------------------------ rates


def county_rates(rates: pl.DataFrame, county_code: str) -> pl.DataFrame:
    """The county's rows of :attr:`Results.rates` (no rows for an unknown county)."""
    return rates.filter(pl.col("county_code") == county_code)


def rates_table(rates: pl.DataFrame) -> pl.DataFrame:
    """One county's rates as a Chinese table with the stored statuses."""
    return rates.select(
        pl.col("label").alias("指标"),
        percent_expr(pl.col("ratio")).alias("抽样比率"),
        pl.when(pl.col("n").is_null())
        .then(pl.lit(DASH))
        .otherwise(pl.format("{}{}", "n", "unit"))
        .alias("样本量"),
        percent_expr(pl.col("est")).alias("加权估计"),
        interval_expr(pl.col("low"), pl.col("high")).alias("95%置信区间"),
        standard_expr(pl.col("side"), pl.col("threshold")).alias("标准"),
        status_cell().alias("结论"),
    )


def rates_figure(rates: pl.DataFrame, title: str) -> go.Figure:
    """One county's rates chart; every status is in the legend, so the traces never change."""
    return rate_chart(rates, title, "county", legend=codes.RATE_STATUS.order)


def update_rates_figure(fig: go.FigureWidget, rates: pl.DataFrame, title: str) -> None:
    """Put another county's rates into ``fig`` in place (same traces, new data)."""
    rows, statuses = rate_points(rates)
    refill(fig, rows, title, statuses)


# ------------------------------------------------------------------ findings


def filter_findings(
    findings: pl.DataFrame,
    county_code: str = ALL,
    city: str = ALL,
    content_item: str = ALL,
    review_state: str = ALL,
    review_outcome: str = ALL,
    level: str = ALL,
) -> pl.DataFrame:
    """The findings that match every given filter (an empty filter matches all).

    With ``county_code`` the county's findings and, when ``city`` is given
    too, its city's own city-level findings; with only ``city`` every
    finding of the city. ``review_outcome`` "pending" also matches a problem
    needing review without an outcome yet.
    """
    df = findings
    if county_code:
        mine = pl.col("county_code") == county_code
        if city:
            mine = mine | (pl.col("county_code").is_null() & (pl.col("city_name") == city))
        df = df.filter(mine)
    elif city:
        df = df.filter(pl.col("city_name") == city)
    for column, value in (
        ("content_item", content_item),
        ("review_state", review_state),
        ("level", level),
    ):
        if value:
            df = df.filter(pl.col(column) == value)
    if review_outcome:
        outcome = pl.col("review_outcome")
        if review_outcome == "pending":
            outcome = pl.when(pl.col("needs_review")).then(outcome.fill_null("pending"))
        df = df.filter(outcome == review_outcome)
    return df.sort("raised_date", "problem_id", nulls_last=True)


def findings_table(findings: pl.DataFrame, villages: pl.DataFrame, r: Results) -> pl.DataFrame:
    """Findings as a Chinese table (free text masked when loaded)."""
    df = findings.join(
        villages.select("village_code", "village_name"),
        on="village_code",
        how="left",
        maintain_order="left",
    )
    return df.select(
        pl.col("problem_id").alias("编号"),
        pl.col("raised_date").cast(pl.String).fill_null("").alias("提出日期"),
        pl.col("team_id").fill_null("").alias("考核组"),
        codes.PROBLEM_LEVEL.expr(pl.col("level")).alias("层级"),
        pl.col("village_name").fill_null("").alias("村"),
        pl.col("content_item")
        .replace_strict(item_labels(r.plan), default=pl.col("content_item"))
        .alias("考核内容"),
        pl.col("description").fill_null("").alias("问题"),
        codes.FINDING_SOURCE.expr(pl.col("source")).alias("来源"),
        review_text().alias("复核"),
        codes.REVIEW_OUTCOME.expr(pl.col("review_outcome")).fill_null("").alias("复核结论"),
        codes.FINDING_SCOPE.expr(pl.col("scope")).alias("性质"),
        pl.col("suggestion").fill_null("").alias("意见建议"),
    )


# ------------------------------------------------------------------ checks and households


def discrepancies_for(
    discrepancies: pl.DataFrame, villages: pl.DataFrame, county_code: str, village_code: str = ALL
) -> pl.DataFrame:
    """The county's (or one village's) cross-check discrepancies as a Chinese table."""
    df = discrepancies.filter(pl.col("county_code") == county_code)
    if village_code:
        df = df.filter(pl.col("village_code") == village_code)
    df = df.join(
        villages.select("village_code", "village_name"),
        on="village_code",
        how="left",
        maintain_order="left",
    ).sort("kind", "village_code", "subject", "item", nulls_last=True)
    return df.select(
        codes.DISCREPANCY_KIND.expr(pl.col("kind")).alias("类别"),
        pl.col("village_name").fill_null("").alias("村"),
        pl.col("subject").fill_null("").alias("对象"),
        pl.col("household_id").fill_null("").alias("户编号"),
        pl.col("item_label").fill_null("").alias("核对项目"),
        pl.col("recorded").fill_null("").alias("说法或记录"),
        pl.col("found").fill_null("").alias("核查结果"),
        pl.col("reference").fill_null("").alias("依据"),
    )


def households_for(
    households: pl.DataFrame, county_code: str, village_code: str = ALL
) -> pl.DataFrame:
    """The county's (or one village's) surveyed households as a Chinese table (masked)."""
    return _households_in(households, county_code, village_code).select(
        pl.col("village_name").fill_null("").alias("村"),
        pl.col("household_id").alias("户编号"),
        pl.col("head_name").fill_null("").alias("户主"),
        pl.col("phone").fill_null("").alias("联系电话"),
        household_type().alias("户类型"),
        pl.when(pl.col("registered"))
        .then(codes.SAMPLE_CATEGORY.expr(pl.col("selected_as")))
        .otherwise(pl.lit("现场随机走访"))
        .fill_null("")
        .alias("抽样类别"),
        pl.col("household_size").alias("人口"),
        pl.col("income_per_capita_yuan").round(0).cast(pl.Int64).alias("人均纯收入(元)"),
        shortfalls().alias("未达标项"),
        codes.APPROVAL.expr(pl.col("approval")).fill_null("").alias("认可度"),
        codes.HOUSEHOLD_CLASS.expr(pl.col("classification")).fill_null("").alias("分类"),
        pl.col("visit_date").cast(pl.String).fill_null("").alias("走访日期"),
        pl.col("team_id").fill_null("").alias("考核组"),
    )


@dataclass(frozen=True)
class HouseholdDetail:
    """One surveyed household: its answers and what helpers said about it."""

    household_id: str
    heading: str
    answers: pl.DataFrame
    claims: pl.DataFrame


def _answer(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.0f}" if value == int(value) else f"{value:.2f}"
    return str(value)


def _claim_text(value: pl.Expr) -> pl.Expr:
    return (
        pl.when(value == "true")
        .then(pl.lit("是"))
        .when(value == "false")
        .then(pl.lit("否"))
        .otherwise(value)
        .fill_null("")
    )


def household_detail(
    households: pl.DataFrame, claims: pl.DataFrame, household_id: str
) -> HouseholdDetail:
    """The answers of one household and any helper claims about it.

    Raises
    ------
    KeyError
        When ``household_id`` was not surveyed.
    """
    row = households.filter(pl.col("household_id") == household_id)
    if row.height == 0:
        raise KeyError(f"household {household_id} is not among the surveyed households")
    h = row.row(0, named=True)
    kind = str(row.select(household_type()).item())
    klass = codes.HOUSEHOLD_CLASS.label(h["classification"])
    pairs: list[tuple[str, str]] = [
        ("村", f"{h.get('township_name') or ''} {h.get('village_name') or ''}".strip()),
        ("户主", h.get("head_name") or ""),
        ("联系电话", h.get("phone") or ""),
        ("户类型", kind),
        ("走访日期", _answer(h["visit_date"])),
        ("考核组", _answer(h["team_id"])),
        *(
            (_SURVEY_LABELS.get(c, c), _answer(h[c]))
            for c in ("household_size", "income_per_capita_yuan", *ITEMS)
        ),
    ]
    if h["registered"]:
        pairs += [
            (_SURVEY_LABELS[c], _answer(h[c])) for c in ("ineligible_evidence", "knows_helper")
        ]
    pairs += [
        ("认可度", codes.APPROVAL.label(h["approval"])),
        ("收入达标", _answer(h["income_ok"])),
        ("达到脱贫标准", _answer(h["qualified"])),
        ("分类", klass),
    ]
    about = claims.filter(pl.col("household_id") == household_id).sort("helper_id", "item")
    claim_table = about.select(
        pl.col("helper_id").alias("帮扶责任人编号"),
        pl.col("interview_id").fill_null("").alias("访谈编号"),
        codes.CHECK_ITEM.expr(pl.col("item")).alias("核对项目"),
        _claim_text(pl.col("claim")).alias("帮扶责任人说法"),
        _claim_text(pl.col("answer")).alias("入户调查结果"),
        codes.CLAIM_STATUS.expr(pl.col("status")).fill_null("").alias("比对"),
    )
    heading = f"{h.get('village_name') or ''} {household_id} {h.get('head_name') or ''}"
    heading += f"（{kind}，{klass}）"
    return HouseholdDetail(
        household_id,
        heading,
        pl.DataFrame(pairs, schema=["项目", "入户调查结果"], orient="row"),
        claim_table,
    )


def projects_for(
    projects: pl.DataFrame, villages: pl.DataFrame, county_code: str, village_code: str = ALL
) -> pl.DataFrame:
    """The county's sampled projects and the check (with a village: its and the county's)."""
    df = projects.filter(pl.col("county_code") == county_code)
    if village_code:
        df = df.filter(pl.col("village_code").is_null() | (pl.col("village_code") == village_code))
    df = df.join(
        villages.select("village_code", "village_name"),
        on="village_code",
        how="left",
        maintain_order="left",
    ).sort(codes.PROJECT_LEVEL.rank(pl.col("level")), "village_code", "project_id")
    return df.select(
        codes.PROJECT_LEVEL.expr(pl.col("level"), short=True).fill_null("").alias("层级"),
        pl.col("village_name").fill_null("").alias("村"),
        pl.col("project_id").alias("项目编号"),
        pl.col("name").fill_null("").alias("项目名称"),
        codes.PROJECT_KIND.expr(pl.col("kind")).fill_null("").alias("项目类型"),
        pl.col("funds_yuan").round(0).cast(pl.Int64).alias("资金(元)"),
        pl.col("check_date").cast(pl.String).fill_null("").alias("核查日期"),
        codes.PROJECT_STATUS.expr(pl.col("check_status")).fill_null("").alias("进度"),
        pl.col("funds_spent_yuan").round(0).cast(pl.Int64).alias("已支出(元)"),
        pl.col("beneficiaries_confirmed").alias("确认受益户"),
        project_flags().alias("发现问题"),
        pl.col("issue").fill_null("").alias("核查说明"),
    )


def county_heading(r: Results, county_code: str) -> str:
    """HTML: the county, its city, category and stored verdict, the households surveyed."""
    row = r.counties.filter(pl.col("county_code") == county_code)
    if row.height == 0:
        return f"<h3>{esc(county_code)}</h3>"
    c = row.row(0, named=True)
    surveyed = r.households.filter(pl.col("county_code") == county_code)
    general = surveyed.filter(~pl.col("registered")).height
    paired = (
        f"；结对帮扶县：{esc(c['paired_helper_county'])}" if c.get("paired_helper_county") else ""
    )
    return (
        f"<h3>{esc(c['city_name'])} {esc(c['county_name'])}（{esc(county_code)}）</h3>"
        f"<p>考核类别：<b>{esc(codes.COUNTY_CATEGORY.label(c['category']))}</b>{paired}；"
        f"结论：<b>{esc(codes.verdict_label(c.get('verdict'), c.get('scope')))}</b>；"
        f"入户调查 {surveyed.height} 户（建档立卡户 {surveyed.height - general} 户，"
        f"一般农户 {general} 户）。</p>"
    )


# ------------------------------------------------------------------ explorer


class Explorer:
    """Widgets over one run: city -> county -> village -> household.

    Build with :meth:`from_run`; :meth:`show` displays it. Every output is
    computed by the module's pure functions; a selection change recomputes
    only what depends on it and updates the rates ``FigureWidget`` in place.
    Widgets carry CSS classes (``xk-city``, ``xk-county``, ``xk-rates``,
    ``xk-findings``, ``xk-households`` ...) for browser tests and styling.
    Every widget is created with its first county's content already in it: a
    change sent before the front end has built its model can be lost.
    """

    def __init__(self, data: Results, county_code: str = "") -> None:
        import ipywidgets as w

        self.data = data
        self.timings: list[float] = []
        cities = city_options(data.counties)
        code = county_code or (county_options(data.counties, cities[0])[0][1] if cities else "")
        city = self._city_of(code) if code else None
        self._county_shown: str | None = code or None
        rates = county_rates(data.rates, code)

        def dropdown(label: str, options: Any, value: Any, width: str = "340px") -> w.Dropdown:
            return w.Dropdown(
                description=label,
                options=options,
                value=value,
                layout=w.Layout(width=width),
                style={"description_width": "90px"},
            )

        villages = data.sample_villages
        self.city = dropdown("市", cities, city)
        self.county = dropdown(
            "县（市、区）", county_options(data.counties, city) if city else [], code or None
        )
        items = [("全部", ALL), *((v, k) for k, v in item_labels(data.plan).items())]
        self.item = dropdown("考核内容", items, ALL, "420px")
        self.review_state = dropdown("复核状态", _choices(codes.REVIEW_STATE), ALL)
        self.review_outcome = dropdown("复核结论", _choices(codes.REVIEW_OUTCOME), ALL)
        self.level = dropdown("问题层级", _choices(codes.PROBLEM_LEVEL), ALL)
        self.village = dropdown("抽样村", village_options(villages, code), ALL)
        self.household = dropdown(
            "入户调查户", household_options(data.households, code), ALL, "520px"
        )
        self.heading = w.HTML(county_heading(data, code) if code else "")
        self.rates_fig = go.FigureWidget(rates_figure(rates, self._rates_title(code)))
        self.rates = w.HTML(table_html(rates_table(rates)))
        self.findings = w.HTML(self._findings_html(code, city))
        self.discrepancies = w.HTML(self._discrepancies_html(code))
        self.projects = w.HTML(table_html(projects_for(data.check_projects, villages, code)))
        self.households = w.HTML(table_html(households_for(data.households, code)))
        self.detail = w.HTML(self._detail_html(ALL))
        for name in (
            "city", "county", "item", "review_state", "review_outcome", "level", "village",
            "household", "heading", "rates", "findings", "discrepancies", "projects",
            "households", "detail",
        ):  # fmt: skip
            getattr(self, name).add_class(f"xk-{name.replace('_', '-')}")
        self.rates_box = w.VBox([self.rates_fig, self.rates]).add_class("xk-rates")

        def section(title: str) -> w.HTML:
            return w.HTML(f"<h4 style='margin:14px 0 4px'>{esc(title)}</h4>")

        self.widget = w.VBox(
            [
                w.HTML(synthetic_banner(data.synthetic)),
                w.HTML(
                    f"<h2>交叉考核结果浏览</h2><p>{esc(data.plan.title)}；"
                    f"结果计算日期 {data.as_of.isoformat()}；运行目录 {esc(data.run)}</p>"
                ),
                w.HBox([self.city, self.county]),
                self.heading,
                section("一、三率与错评率"),
                self.rates_box,
                section("二、发现的问题"),
                w.HBox([self.item, self.level]),
                w.HBox([self.review_state, self.review_outcome]),
                self.findings,
                section("三、比对核查发现的差异"),
                self.discrepancies,
                section("四、抽查项目"),
                self.projects,
                section("五、入户调查（个人信息已脱敏）"),
                self.village,
                self.households,
                self.household,
                self.detail,
            ]
        ).add_class("xk-explorer")

        self.city.observe(self._on_city, names="value")
        self.county.observe(self._on_county, names="value")
        for f in (self.item, self.review_state, self.review_outcome, self.level):
            f.observe(lambda _: self._show_findings(), names="value")
        self.village.observe(lambda _: self._show_households(), names="value")
        self.household.observe(self._on_household, names="value")

    @classmethod
    def from_run(cls, run: Path, county_code: str = "") -> Explorer:
        """Load the run's results once and build the widgets (``county_code`` first shown)."""
        return cls(load_results(run), county_code)

    def show(self) -> None:
        """Display the explorer in the notebook."""
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]

    def select(self, county_code: str) -> float:
        """Select a county as a user would (city, then county); returns the seconds it took."""
        city = self._city_of(county_code)
        start = time.perf_counter()
        self.city.value = city
        self.county.value = county_code
        return time.perf_counter() - start

    def _city_of(self, county_code: str) -> str:
        row = self.data.counties.filter(pl.col("county_code") == county_code)
        if row.height == 0:
            raise KeyError(f"county {county_code} is not in the run")
        return str(row["city_name"][0])

    def _rates_title(self, code: str) -> str:
        return f"{self.data.county_name(code)}：三率与错评率" if code else "三率与错评率"

    def _findings_html(self, code: str, city: str | None) -> str:
        if not code:
            return ""
        d = self.data
        filters = (self.item, self.review_state, self.review_outcome, self.level)
        found = filter_findings(d.findings, code, city or ALL, *(f.value for f in filters))
        return f"<p>共 {found.height} 个问题（本县及所在市的市级问题）。</p>" + table_html(
            findings_table(found, d.sample_villages, d), empty="（没有符合条件的问题）"
        )

    def _discrepancies_html(self, code: str) -> str:
        d = self.data
        return table_html(
            discrepancies_for(d.check_discrepancies, d.sample_villages, code),
            empty="（未发现差异）",
        )

    def _detail_html(self, household_id: str | None) -> str:
        if not household_id:
            return "<p>在上方选择一户，查看该户的入户调查结果和帮扶责任人说法。</p>"
        det = household_detail(self.data.households, self.data.check_claims, household_id)
        return (
            f"<h4>{esc(det.heading)}</h4>"
            + table_html(det.answers)
            + "<p><b>帮扶责任人对该户的说法</b></p>"
            + table_html(det.claims, empty="（没有帮扶责任人对该户的说法）")
        )

    def _on_city(self, change: dict[str, Any]) -> None:
        self.county.options = county_options(self.data.counties, change["new"])
        if self.county.value is not None and self.county.value != self._county_shown:
            self._show_county(self.county.value)

    def _on_county(self, change: dict[str, Any]) -> None:
        if change["new"] and change["new"] != self._county_shown:
            self._show_county(change["new"])

    def _on_household(self, change: dict[str, Any]) -> None:
        self.detail.value = self._detail_html(change["new"])

    def _show_county(self, code: str) -> None:
        start = time.perf_counter()
        self._county_shown = code
        d = self.data
        self.heading.value = county_heading(d, code)
        rates = county_rates(d.rates, code)
        self.rates.value = table_html(rates_table(rates))
        self._show_findings()
        self.discrepancies.value = self._discrepancies_html(code)
        self.projects.value = table_html(projects_for(d.check_projects, d.sample_villages, code))
        with self.village.hold_trait_notifications():
            self.village.options = village_options(d.sample_villages, code)
            self.village.value = ALL
        self._show_households()
        # Last: the chart's title is what a user (and the browser test) sees change.
        update_rates_figure(self.rates_fig, rates, self._rates_title(code))
        self.timings.append(time.perf_counter() - start)

    def _show_findings(self) -> None:
        self.findings.value = self._findings_html(self.county.value, self.city.value)

    def _show_households(self) -> None:
        code, village = self.county.value, self.village.value or ALL
        if not code:
            return
        self.households.value = table_html(households_for(self.data.households, code, village))
        self.household.options = household_options(self.data.households, code, village)
        self.household.value = ALL
        self.detail.value = self._detail_html(ALL)


def time_selections(explorer: Explorer, county_codes: Iterable[str]) -> list[float]:
    """Seconds each county selection took in ``explorer`` (for benchmarks, not asserts)."""
    return [explorer.select(code) for code in county_codes]


__all__ = [
    "ALL",
    "Explorer",
    "HouseholdDetail",
    "city_options",
    "county_heading",
    "county_options",
    "county_rates",
    "discrepancies_for",
    "filter_findings",
    "findings_table",
    "household_detail",
    "household_options",
    "households_for",
    "projects_for",
    "rates_figure",
    "rates_table",
    "time_selections",
    "update_rates_figure",
    "village_options",
]
