"""What the county, pairing and city reports show, shaped from the results store.

The reports of plan 五 (county, city and the county-pairing reports of the 20
helped counties) follow the typical structure of DOMAIN.md, "Reports": basic
situation and results, problems (个性 vs 共性) with evidence, typical
experiences, suggestions. This module loads one report's slice of a run —
the results store (DESIGN.md, "Results store and reports") through
:func:`xkaohe.io.results.read_result`, village names and the drawn households
through :mod:`xkaohe.io` — and turns it into Chinese tables and short HTML.

Nothing here estimates, tests or cross-checks: the rates, intervals, statuses,
classifications, cross-checks, findings and completeness are read as
``xkaohe indicators`` wrote them. A join, a filter, a count of rows, a pivot
or a Chinese label is all the shaping done.

Personal data is masked when it is loaded (plan 八: no leaking of household
material): a household head's name keeps only the surname, a phone number its
first three and last four digits. ID numbers are never loaded.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from xkaohe.analyse.consistency import ITEM_LABELS as CHECK_ITEM_LABELS
from xkaohe.analyse.consistency import percent_text
from xkaohe.analyse.findings import REVIEW_STATE_LABELS
from xkaohe.analyse.indicators import CLASS_LABELS, ITEM_LABELS, ITEMS, RATES, STATUS_LABELS
from xkaohe.errors import InputError, Problem
from xkaohe.io.results import read_result, run_plan
from xkaohe.io.run import is_synthetic, read_village_names
from xkaohe.io.sample_package import read_package, zh
from xkaohe.plan import Bound, ContentItem, Plan
from xkaohe.report.kit import mask_people, show_html, table_html
from xkaohe.results_spec import Result
from xkaohe.schemas import (
    COUNTY_CATEGORY,
    PROBLEM_LEVEL,
    PROJECT_KIND,
    PROJECT_STATUS,
    REVIEW_OUTCOME,
)

# ------------------------------------------------------------------ labels

SOURCE_LABELS = {
    "team": "考核组",
    "indicator": "系统（指标测算）",
    "cross_check": "系统（比对核查）",
}
SCOPE_LABELS = {"systemic": "共性问题", "case": "个性问题"}
KIND_LABELS = {
    "helper_claim": "帮扶责任人陈述",
    "village_claim": "村干部陈述",
    "project": "项目核查",
}
FLAG_LABELS = {
    "funds_overspent": "资金支出超过项目资金规模",
    "spent_but_not_started": "已支出资金但项目未开工",
    "spent_but_abandoned": "已支出资金但项目已停工",
    "beneficiaries_short": "核实受益户少于抽查户数",
    "not_checked": "考核组未核查",
}
FOCUS_CLASSES = ("wrong_exit", "omission", "wrong_inclusion", "relapse")
"""The household classes the identification and exit section lists (精准识别、精准退出)."""
_CLASS_NOTES = {
    "wrong_exit": "已脱贫户（2019年和2016—2018年）收入或“两不愁三保障”及饮水安全未达标",
    "omission": "非建档立卡户收入或“两不愁三保障”及饮水安全未达标",
    "wrong_inclusion": "建档立卡户有错评线索（如家庭成员为公职人员、有车辆或商品房）",
    "relapse": "返贫户仍未达到收入和“两不愁三保障”标准",
}
_ITEM_ORDER = (*ITEMS, "income_ok", "knows_helper", "approves")
_DASH = "—"


# --------------------------------------------------------------- formatting


def _pct(x: pl.Expr) -> pl.Expr:
    return percent_text(x).fill_null(_DASH)


def _interval(low: pl.Expr, high: pl.Expr) -> pl.Expr:
    return (
        pl.when(low.is_null() | high.is_null())
        .then(pl.lit(_DASH))
        .otherwise(pl.format("{}—{}", percent_text(low), percent_text(high)))
    )


def _yes(flag: pl.Expr, text: str = "是") -> pl.Expr:
    return pl.when(flag.fill_null(False)).then(pl.lit(text)).otherwise(pl.lit(""))


def _wan(yuan: pl.Expr) -> pl.Expr:
    return (yuan / 10_000).round(2).cast(pl.String).fill_null(_DASH)


def _label(expr: pl.Expr, labels: dict[str, str]) -> pl.Expr:
    return expr.replace_strict(labels, default=expr, return_dtype=pl.String)


def _zh_text(code: str) -> str:
    """One canonical code in Chinese (the sample package's labels)."""
    return str(pl.select(zh(pl.lit(code))).item())


def _esc(value: object) -> str:
    return html.escape(str(value))


def highlight_rows(table: pl.DataFrame, column: str, values: Iterable[str]) -> list[int]:
    """Row positions of ``table`` whose ``column`` is one of ``values`` (to highlight)."""
    wanted = set(values)
    return [i for i, v in enumerate(table[column].to_list()) if v in wanted]


# Chinese text reads from the left; the notebook theme right-aligns table cells.
_TABLE_STYLE = (
    "<style>.xk-table th,.xk-table td{text-align:left !important;vertical-align:top}"
    ".xk-table th{white-space:nowrap}</style>"
)


def table(df: pl.DataFrame, highlight: list[int] | None = None) -> str:
    """A report table as HTML (:func:`xkaohe.report.table_html`, cells left-aligned)."""
    return _TABLE_STYLE + table_html(df, highlight)


def show(df: pl.DataFrame, empty: str = "无。", highlight: list[int] | None = None) -> None:
    """Display a table in a notebook, or the sentence ``empty`` when it has no rows."""
    if df.height == 0:
        show_html(f"<p>{_esc(empty)}</p>")
    else:
        show_html(table(df, highlight))


def _box(colour: str, border: str, title: str, body: str) -> str:
    return (
        f'<div style="background:{colour};border-left:6px solid {border};padding:10px 14px;'
        f'margin:8px 0 14px;border-radius:4px"><b>{_esc(title)}</b><br>{body}</div>'
    )


# ----------------------------------------------------------------- loading


def _unknown(parameter: str, value: str, known: list[str], run: Path) -> InputError:
    shown = "、".join(known[:12]) + ("…" if len(known) > 12 else "")
    return InputError(
        Problem(
            f"notebook parameter {parameter}",
            None,
            None,
            f"one of the run's values ({shown})",
            f"'{value}', which is not in {run / 'results'}",
        )
    )


def _plan(run: Path) -> Plan:
    """The plan the run's results were computed with (recorded in the manifest)."""
    return run_plan(run)


def _county_row(run: Path, county_code: str) -> dict[str, object]:
    counties = read_result(run, Result.COUNTIES)
    code = str(county_code) or str(counties["county_code"].min())
    row = counties.filter(pl.col("county_code") == code)
    if row.height == 0:
        raise _unknown("county_code", code, counties["county_code"].sort().to_list(), run)
    return row.row(0, named=True)


@dataclass(frozen=True)
class CountyReport:
    """One county's slice of a run, as the county report shows it.

    Every table is the county's rows of the results table of the same name
    (``rates`` is ``county_indicators`` in long form, one row per rate);
    ``households`` carry the masked name and phone of registered households
    and their village's name; ``sample_households`` and ``general_quota`` are
    the county's rows of the sample package.
    """

    run: Path
    code: str
    name: str
    city: str
    category: str
    national_poverty_county: bool
    paired_helper: str | None
    plan: Plan
    synthetic: bool
    rates: pl.DataFrame
    items: pl.DataFrame
    households: pl.DataFrame
    sample_villages: pl.DataFrame
    sample_households: pl.DataFrame
    general_quota: pl.DataFrame
    village_names: pl.DataFrame
    check_rates: pl.DataFrame
    helpers: pl.DataFrame
    village_claims: pl.DataFrame
    projects: pl.DataFrame
    discrepancies: pl.DataFrame
    findings: pl.DataFrame
    experiences: pl.DataFrame
    completeness: pl.DataFrame
    rejects: pl.DataFrame

    @property
    def category_label(self) -> str:
        return self.plan.category(self.category).label

    @property
    def category_focus(self) -> str:
        return self.plan.category(self.category).focus

    @property
    def teams(self) -> list[str]:
        """The teams that surveyed the county's households."""
        return sorted(self.households["team_id"].drop_nulls().unique().to_list())


def load_county_report(run: Path, county_code: str | int = "") -> CountyReport:
    """The results of ``county_code`` (default: the run's first county).

    Parameters
    ----------
    run
        The run folder (``frame/``, ``sample/``, ``results/``).
    county_code
        The county; empty for the first county by code.

    Returns
    -------
    CountyReport
        Its slice of every results table; pairing findings (plan 三(二)) and
        paired cooperation projects are left to :func:`load_paired_report`.

    Raises
    ------
    InputError
        When the county is not in the run, naming the counties that are.
    """
    info = _county_row(run, str(county_code))
    code = str(info["county_code"])
    plan = _plan(run)
    pairing = [it.code for it in plan.content.pairing]
    names = read_village_names(run / "frame", [code])
    package = read_package(run / "sample")
    sample_hh = mask_people(package["households"].filter(pl.col("county_code") == code))
    households = (
        read_result(run, Result.HOUSEHOLDS, county_code=code)
        .join(
            sample_hh.select("household_id", "head_name", "phone"),
            on="household_id",
            how="left",
            maintain_order="left",
        )
        .join(names, on="village_code", how="left", maintain_order="left")
    )
    discrepancies = read_result(run, Result.CHECK_DISCREPANCIES, county_code=code)
    projects = read_result(run, Result.CHECK_PROJECTS, county_code=code)
    paired_ids = projects.filter(pl.col("level") == "paired")["project_id"].implode()
    return CountyReport(
        run=run,
        code=code,
        name=str(info["county_name"]),
        city=str(info["city_name"]),
        category=str(info["category"]),
        national_poverty_county=bool(info["national_poverty_county"]),
        paired_helper=None
        if info["paired_helper_county"] is None
        else str(info["paired_helper_county"]),
        plan=plan,
        synthetic=is_synthetic(run),
        rates=rate_rows(read_result(run, Result.COUNTY_INDICATORS, county_code=code), plan),
        items=read_result(run, Result.COUNTY_ITEMS, county_code=code),
        households=households,
        sample_villages=package["villages"].filter(pl.col("county_code") == code),
        sample_households=sample_hh,
        general_quota=package["general_quota"].filter(pl.col("county_code") == code),
        village_names=names,
        check_rates=read_result(run, Result.CHECK_RATES, county_code=code),
        helpers=read_result(run, Result.CHECK_HELPERS, county_code=code),
        village_claims=read_result(run, Result.CHECK_VILLAGES, county_code=code),
        projects=projects.filter(pl.col("level") != "paired"),
        discrepancies=discrepancies.filter(~pl.col("subject").is_in(paired_ids)),
        findings=read_result(run, Result.FINDINGS, county_code=code).filter(
            ~pl.col("content_item").is_in(pairing)
        ),
        experiences=read_result(run, Result.EXPERIENCES, county_code=code),
        completeness=read_result(run, Result.COMPLETENESS, unit="county", code=code),
        rejects=read_result(run, Result.REJECTS, county_code=code),
    )


# ------------------------------------------------------------------ heading


def county_heading(cr: CountyReport) -> str:
    """Name, city, category and the plan's focus for it, pairing and the teams (HTML)."""
    national = "，国家级贫困县" if cr.national_poverty_county else ""
    paired = (
        f"<p>县域结对帮扶：由<b>{_esc(cr.paired_helper)}</b>结对帮扶（结对帮扶情况另见结对帮扶考核报告）</p>"
        if cr.paired_helper
        else ""
    )
    teams = f"<p>考核组：{_esc('、'.join(cr.teams))}</p>" if cr.teams else ""
    return (
        f"<h2>{_esc(cr.city)} {_esc(cr.name)}（{_esc(cr.code)}）</h2>"
        f"<p>考核类别：<b>{_esc(cr.category_label)}</b>{national}</p>"
        f"<p>分类考核重点：{_esc(cr.category_focus)}</p>{paired}{teams}"
    )


# ------------------------------------------------------------------- sample


def sample_table(cr: CountyReport) -> pl.DataFrame:
    """Villages and households: planned by the plan, drawn in the sample, surveyed.

    Household categories are the quota each household fills (``selected_as``);
    relapsed households and the villager-group census are covered in full, and
    general households are chosen on site (their plan is the sample's quota).
    """
    rules = cr.plan.sampling
    n_villages = sum(q.count for q in rules.villages.quotas)
    hh, surveyed = cr.sample_households, cr.households
    quota = [(q.status, q.count * n_villages) for q in rules.households.quotas]
    covered = [(s, None) for s in (*rules.households.full_coverage, "group_census")]
    rows: list[tuple[str, str, str, int]] = [
        (
            "抽样村",
            str(n_villages),
            str(cr.sample_villages.height),
            surveyed["village_code"].n_unique(),
        )
    ]
    for status, planned in [*quota, *covered]:
        rows.append(
            (
                _zh_text(status),
                "全覆盖" if planned is None else str(planned),
                str(hh.filter(pl.col("selected_as") == status).height),
                surveyed.filter(pl.col("selected_as") == status).height,
            )
        )
    general_planned = int(cr.general_quota["count"].sum())
    rows.append(
        (
            "一般农户",
            f"{general_planned}（每村{rules.households.general_per_village}户）",
            "现场随机",
            surveyed.filter(~pl.col("registered")).height,
        )
    )
    rows.append(
        (
            "调查户合计",
            f"{sum(c for _, c in quota) + general_planned}（另加全覆盖户）",
            f"{hh.height}（不含一般农户）",
            surveyed.height,
        )
    )
    return pl.DataFrame(rows, schema=["类别", "计划", "抽取", "实际调查"], orient="row")


# -------------------------------------------------------------------- rates


def _bounds(plan: Plan) -> dict[str, Bound]:
    return {str(k): b for k, b in plan.indicators.thresholds.items()}


def rate_rows(indicators: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """``county_indicators`` in long form: one row per county and rate.

    Returns
    -------
    pl.DataFrame
        ``county_code, order, rate, label, ratio, est, low, high, n, unit``
        (人 or 户), ``status`` (null without a threshold), ``threshold`` and
        ``side`` (max or min; null without a threshold).
    """
    bounds = _bounds(plan)
    parts = []
    for order, rate in enumerate(RATES):
        r = rate.name
        bound = bounds.get(r)
        side = None if bound is None else ("max" if bound.max is not None else "min")
        limit = None if bound is None else (bound.max if bound.max is not None else bound.min)
        status = f"{r}_status"
        parts.append(
            indicators.select(
                "county_code",
                pl.lit(order, pl.Int64).alias("order"),
                pl.lit(r).alias("rate"),
                pl.lit(rate.label).alias("label"),
                pl.col(r).alias("ratio"),
                pl.col(f"{r}_est").alias("est"),
                pl.col(f"{r}_low").alias("low"),
                pl.col(f"{r}_high").alias("high"),
                pl.col(f"{r}_n").alias("n"),
                pl.lit("人" if rate.persons else "户").alias("unit"),
                (pl.col(status) if status in indicators.columns else pl.lit(None, pl.String)).alias(
                    "status"
                ),
                pl.lit(limit, pl.Float64).alias("threshold"),
                pl.lit(side, pl.String).alias("side"),
            )
        )
    return pl.concat(parts).sort("county_code", "order")


def _standard(side: pl.Expr, threshold: pl.Expr) -> pl.Expr:
    return (
        pl.when(side == "max")
        .then(pl.concat_str(pl.lit("≤"), percent_text(threshold)))
        .when(side == "min")
        .then(pl.concat_str(pl.lit("≥"), percent_text(threshold)))
        .otherwise(pl.lit("不设标准"))
    )


def _status_text() -> pl.Expr:
    return (
        pl.when(pl.col("ratio").is_null())
        .then(pl.lit("无样本"))
        .when(pl.col("side").is_null())
        .then(pl.lit("不设标准"))
        .otherwise(_label(pl.col("status"), STATUS_LABELS))
    )


def rate_table(rates: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """The rates of :func:`rate_rows` with Chinese headers and statuses (未达标/未发现超标/达标)."""
    conf = f"{plan.indicators.confidence * 100:g}%置信区间"
    return rates.select(
        pl.col("label").alias("指标"),
        _pct(pl.col("ratio")).alias("抽样比率（官方口径）"),
        _pct(pl.col("est")).alias("设计加权估计"),
        _interval(pl.col("low"), pl.col("high")).alias(conf),
        pl.format("{}{}", pl.col("n").fill_null(0), pl.col("unit")).alias("分母"),
        _standard(pl.col("side"), pl.col("threshold")).alias("标准"),
        _status_text().alias("状态"),
    )


def status_note(plan: Plan) -> str:
    """One sentence on what 未发现超标 means (HTML)."""
    conf = f"{plan.indicators.confidence * 100:g}%"
    return (
        "<p><b>状态说明：</b>“未达标”指抽样比率本身超出标准；“未发现超标”指抽样比率未超出标准，"
        f"但{conf}置信区间跨越了标准线，样本量不足以确认该县确实达标；“达标”指置信区间整体在标准以内。"
        "错评率方案未设标准，只作为识别问题的线索。</p>"
    )


def item_table(items: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """两不愁三保障 and water item by item, then income, helper awareness and approval."""
    conf = f"{plan.indicators.confidence * 100:g}%置信区间"
    order = {item: i for i, item in enumerate(_ITEM_ORDER)}
    return (
        items.with_columns(_o=pl.col("item").replace_strict(order, default=99))
        .sort("_o")
        .select(
            pl.col("label").alias("项目"),
            _pct(pl.col("rate")).alias("抽样比例"),
            _pct(pl.col("est")).alias("设计加权估计"),
            _interval(pl.col("low"), pl.col("high")).alias(conf),
            pl.col("n").alias("调查户数"),
            pl.when(pl.col("item") == "approves")
            .then(pl.lit("全部调查户"))
            .otherwise(pl.lit("建档立卡户"))
            .alias("口径"),
        )
    )


def sorted_items(items: pl.DataFrame) -> pl.DataFrame:
    """``county_items`` in report order (for the chart)."""
    order = {item: i for i, item in enumerate(_ITEM_ORDER)}
    return items.with_columns(_o=pl.col("item").replace_strict(order, default=99)).sort("_o")


# ------------------------------------------------------- identification/exit


def classification_table(households: pl.DataFrame) -> pl.DataFrame:
    """Households and persons in each class of :data:`FOCUS_CLASSES`, with what it means."""
    rows = [
        (
            CLASS_LABELS[c],
            int(households[c].sum()),
            int(households.filter(pl.col(c))["household_size"].sum()),
            _CLASS_NOTES[c],
        )
        for c in FOCUS_CLASSES
    ]
    return pl.DataFrame(rows, schema=["类别", "户数", "人数", "认定口径"], orient="row")


def _failed_items() -> pl.Expr:
    parts = [
        pl.when(~pl.col(c).fill_null(True)).then(pl.lit(ITEM_LABELS[c]))
        for c in ("income_ok", *ITEMS)
    ]
    return pl.concat_list(parts).list.drop_nulls().list.join("、")


def flagged_households(households: pl.DataFrame) -> pl.DataFrame:
    """The households of :data:`FOCUS_CLASSES`, masked: which class, where, what fails.

    ``households`` is :attr:`CountyReport.households` (names and phones
    already masked; general households have none in the registry).
    """
    classes = pl.concat_list(
        [pl.when(pl.col(c)).then(pl.lit(CLASS_LABELS[c])) for c in FOCUS_CLASSES]
    ).list.drop_nulls()
    hit = households.filter(pl.any_horizontal([pl.col(c).fill_null(False) for c in FOCUS_CLASSES]))
    return hit.sort("village_code", "household_id").select(
        classes.list.join("、").alias("类别"),
        pl.col("village_name").fill_null(pl.col("village_code")).alias("村"),
        pl.col("household_id").alias("户编号"),
        pl.col("head_name").fill_null(_DASH).alias("户主"),
        pl.col("phone").fill_null(_DASH).alias("联系电话"),
        pl.when(pl.col("registered"))
        .then(zh(pl.col("frame_status")))
        .otherwise(pl.lit("一般农户"))
        .alias("户类型"),
        pl.col("household_size").alias("人口"),
        pl.col("income_per_capita_yuan").round(0).cast(pl.Int64).alias("人均纯收入（元）"),
        _failed_items().alias("未达标项"),
        _yes(pl.col("ineligible_evidence"), "有").alias("错评线索"),
    )


# ------------------------------------------------------------- cross-checks


def _county_check(cr: CountyReport) -> dict[str, object] | None:
    row = cr.check_rates.filter(pl.col("unit") == "county")
    return row.row(0, named=True) if row.height else None


def cross_check_summary(cr: CountyReport) -> str:
    """One paragraph: what was compared and how much disagreed (HTML)."""
    c = _county_check(cr)
    if c is None:
        return "<p>本县没有比对核查数据。</p>"
    rates = pl.DataFrame([c]).select(
        _pct(pl.col("helper_mismatch_rate")).alias("h"),
        _pct(pl.col("village_claim_mismatch_rate")).alias("v"),
        _pct(pl.col("helper_awareness")).alias("a"),
    )
    h, v, a = rates.row(0)
    rules = cr.plan.consistency
    return (
        f"<p>帮扶责任人对所帮扶户的家庭人口、收入和“两不愁三保障”等情况的陈述，与入户调查比对"
        f"{c['helper_claims_checked']}项，不符{c['helper_mismatches']}项（{h}；单人不符比例超过"
        f"{rules.helper_mismatch_max * 100:g}%即列为问题）。村干部称全部建档立卡户达标的事项，"
        f"涉及调查户{c['village_claim_households']}户次，不符{c['village_claim_contradicting']}户次"
        f"（{v}；单村单项超过{rules.village_claim_mismatch_max * 100:g}%即列为问题）。"
        f"抽查项目{c['projects_sampled']}个，已核查{c['projects_checked']}个，发现问题"
        f"{c['projects_with_discrepancy']}个。建档立卡户知晓本户帮扶责任人"
        f"{c['knows_helper']}/{c['registered_asked']}户（{a}；标准"
        f"{rules.helper_awareness_min * 100:g}%）。</p>"
    )


def _with_names(df: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    return df.join(
        names.select("village_code", "village_name"),
        on="village_code",
        how="left",
        maintain_order="left",
    ).with_columns(pl.col("village_name").fill_null(pl.col("village_code").fill_null("")))


def helper_table(cr: CountyReport) -> pl.DataFrame:
    """Helpers with a contradicted claim or a household that does not know them."""
    h = cr.helpers.filter((pl.col("mismatches") > 0) | (pl.col("households_not_knowing") > 0))
    return (
        _with_names(h, cr.village_names)
        .sort(pl.col("mismatch_flagged").not_(), "village_code", "helper_id")
        .select(
            pl.col("village_name").alias("村"),
            pl.col("helper_id").alias("帮扶责任人编号"),
            pl.col("households").alias("帮扶调查户数"),
            pl.col("checked").alias("比对项数"),
            pl.col("mismatches").alias("不符项数"),
            _pct(pl.col("mismatch_rate")).alias("不符比例"),
            pl.col("households_not_knowing").alias("不知晓帮扶责任人户数"),
            _yes(pl.col("mismatch_flagged"), "超过").alias("不符比例超标"),
        )
    )


def village_claim_table(cr: CountyReport) -> pl.DataFrame:
    """Village cadres' "all households meet X" contradicted by at least one household."""
    v = cr.village_claims.filter(pl.col("contradicting").fill_null(0) > 0)
    return (
        _with_names(v, cr.village_names)
        .sort(pl.col("flagged").not_(), "village_code", "item")
        .select(
            pl.col("village_name").alias("村"),
            _label(pl.col("item"), CHECK_ITEM_LABELS).alias("事项"),
            pl.lit("全部建档立卡户均达标").alias("村干部陈述"),
            pl.col("households").alias("调查建档立卡户"),
            pl.col("contradicting").alias("不符户数"),
            _pct(pl.col("mismatch_rate")).alias("不符比例"),
            _yes(pl.col("flagged"), "超过").alias("不符比例超标"),
        )
    )


def discrepancy_table(discrepancies: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """Every specific contradiction, with the rows of the teams' files that show it."""
    order = {k: i for i, k in enumerate(KIND_LABELS)}
    return (
        _with_names(discrepancies, names)
        .with_columns(_o=pl.col("kind").replace_strict(order, default=9))
        .sort("_o", "village_code", "subject", "item", nulls_last=True)
        .select(
            _label(pl.col("kind"), KIND_LABELS).alias("类别"),
            pl.col("village_name").alias("村"),
            pl.col("subject").alias("核查对象"),
            pl.col("household_id").fill_null("").alias("户编号"),
            pl.col("item_label").alias("比对事项"),
            pl.col("recorded").alias("陈述或登记"),
            pl.col("found").alias("核实情况"),
            pl.col("reference").alias("数据出处"),
        )
    )


def _project_flags() -> pl.Expr:
    return (
        pl.concat_list([pl.when(pl.col(f)).then(pl.lit(t)) for f, t in FLAG_LABELS.items()])
        .list.drop_nulls()
        .list.join("；")
    )


def project_table(projects: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """The sampled projects with the team's check and what it found."""
    level_order = {"county": 0, "village": 1, "paired": 2}
    return (
        _with_names(projects, names)
        .with_columns(_o=pl.col("level").replace_strict(level_order, default=9))
        .sort("_o", "village_code", "project_id", nulls_last=False)
        .select(
            zh(pl.col("level")).alias("层级"),
            pl.col("village_name").alias("村"),
            pl.col("project_id").alias("项目编号"),
            pl.col("name").alias("项目名称"),
            _label(pl.col("kind"), PROJECT_KIND).alias("项目类型"),
            _wan(pl.col("funds_yuan")).alias("资金规模（万元）"),
            _label(pl.col("check_status"), PROJECT_STATUS).fill_null("未核查").alias("核查进度"),
            _wan(pl.col("funds_spent_yuan")).alias("已支出（万元）"),
            pl.col("beneficiaries_drawn").alias("抽查受益户"),
            pl.col("beneficiaries_confirmed").cast(pl.String).fill_null(_DASH).alias("核实受益户"),
            _project_flags().alias("发现问题"),
            pl.col("issue").fill_null("").alias("核查记录"),
        )
    )


def project_rows_with_problems(table: pl.DataFrame) -> list[int]:
    """Row positions of :func:`project_table` with a discrepancy (to highlight)."""
    return [i for i, v in enumerate(table["发现问题"].to_list()) if v]


# ----------------------------------------------------------------- problems


def _items(plan: Plan) -> dict[str, ContentItem]:
    return {it.code: it for it in (*plan.content.county, *plan.content.city, *plan.content.pairing)}


def content_overview(
    findings: pl.DataFrame, items: tuple[ContentItem, ...], with_text: bool = False
) -> pl.DataFrame:
    """The plan's content items one by one, with the reported findings filed under each.

    Parameters
    ----------
    findings
        Rows of the results table ``findings``; only those ``in_report`` count.
    items
        The plan's items (``plan.content.county``, ``.city`` or ``.pairing``).
    with_text
        Also list the problems' descriptions (for the few city and pairing findings).
    """
    shown = findings.filter(pl.col("in_report"))
    rows = []
    for it in items:
        mine = shown.filter(pl.col("content_item") == it.code).sort("problem_id")
        row: dict[str, object] = {
            "编号": it.code,
            "考核内容": it.label,
        }
        if it.sub_items:
            row["子项"] = "、".join(it.sub_items)
        row["问题数"] = mine.height
        row["其中共性问题"] = mine.filter(pl.col("scope") == "systemic").height
        row["问题编号"] = "、".join(mine["problem_id"].to_list())
        if with_text:
            row["问题"] = "；".join(mine["description"].to_list()) or "未发现问题"
        rows.append(row)
    return pl.DataFrame(rows)


def problem_summary(findings: pl.DataFrame) -> str:
    """Counts: reported (共性/个性), confirmed, awaiting review, dismissed, covered (HTML)."""
    shown = findings.filter(pl.col("in_report"))
    dismissed = findings.filter(pl.col("review_outcome") == "dismissed").height
    covered = findings.filter(pl.col("covered_by").is_not_null()).height
    systemic = shown.filter(pl.col("scope") == "systemic").height
    confirmed = shown.filter(pl.col("confirmed")).height
    team = shown.filter(pl.col("source") == "team").height
    return (
        f"<p>列入报告的问题{shown.height}个（考核组发现{team}个，系统依据指标和比对核查提示"
        f"{shown.height - team}个），其中共性问题{systemic}个、"
        f"个性问题{shown.height - systemic}个；"
        f"已确认{confirmed}个，其余待复核。经复核不属实、不列入报告的问题{dismissed}个；"
        f"系统提示的问题中有{covered}个与考核组同一考核内容的问题重复，已合并，不另列。</p>"
    )


def problem_table(
    findings: pl.DataFrame, plan: Plan, names: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The reported findings in plan item order, with source, review and scope in Chinese.

    ``names`` (``village_code, village_name``) names the village of a village
    or household problem; without it the column shows the village code.
    """
    if names is None:
        names = pl.DataFrame(schema={"village_code": pl.String, "village_name": pl.String})
    items = _items(plan)
    order = {code: i for i, code in enumerate(items)}
    labels = {code: f"{code} {it.label}" for code, it in items.items()}
    source = (
        pl.when(pl.col("source") == "team")
        .then(pl.format("考核组 {}", pl.col("team_id").fill_null("")))
        .otherwise(_label(pl.col("source"), SOURCE_LABELS))
    )
    review = (
        pl.when(pl.col("review_outcome").is_in(["confirmed", "dismissed"]))
        .then(
            pl.format(
                "{}（{}）",
                _label(pl.col("review_state"), REVIEW_STATE_LABELS),
                _label(pl.col("review_outcome"), REVIEW_OUTCOME),
            )
        )
        .otherwise(_label(pl.col("review_state"), REVIEW_STATE_LABELS))
    )
    return (
        _with_names(findings.filter(pl.col("in_report")), names)
        .with_columns(_o=pl.col("content_item").replace_strict(order, default=99))
        .sort("_o", "problem_id")
        .select(
            pl.col("problem_id").alias("编号"),
            _label(pl.col("content_item"), labels).alias("考核内容"),
            pl.when(pl.col("village_code").is_null())
            .then(_label(pl.col("level"), PROBLEM_LEVEL))
            .otherwise(
                pl.format("{}（{}）", _label(pl.col("level"), PROBLEM_LEVEL), "village_name")
            )
            .alias("层级"),
            pl.col("description").alias("问题"),
            pl.col("evidence").fill_null("").alias("依据"),
            source.alias("来源"),
            review.alias("复核"),
            _label(pl.col("scope"), SCOPE_LABELS).alias("性质"),
            pl.col("suggestion").fill_null("").alias("意见建议"),
        )
    )


def experience_table(experiences: pl.DataFrame) -> pl.DataFrame:
    """The typical experiences (典型经验), numbered."""
    return (
        experiences.sort("experience_id")
        .with_row_index("序号", offset=1)
        .select(
            pl.col("序号"),
            pl.col("title").alias("经验"),
            pl.col("description").fill_null("").alias("主要做法"),
        )
    )


# ------------------------------------------------------------- completeness


def completeness_box(completeness: pl.DataFrame, plan: Plan) -> str:
    """Green when the report has what plan 五 asks for, red with the shortfall (HTML).

    ``completeness`` is the unit's row of the results table ``completeness``.
    """
    rules = plan.reports
    ask = (
        f"方案要求：典型经验{rules.experiences.min}—{rules.experiences.max}条，"
        f"突出问题不少于{rules.problems_min}个"
        + ("，每个问题附意见建议" if rules.suggestion_required else "")
        + "。"
    )
    if completeness.height == 0:
        return _box("#f2f2f2", "#888", "报告要素：无记录", _esc(ask))
    c = completeness.row(0, named=True)
    have = (
        f"典型经验{c['experiences']}条；已确认的突出问题{c['problems']}个，"
        f"其中附意见建议{c['problems_with_suggestion']}个。"
    )
    if c["ok"]:
        return _box("#e8f5e9", "#2e7d32", "报告要素齐全", _esc(have + ask))
    return _box(
        "#fdecea",
        "#c62828",
        f"报告要素不全：{c['shortfall']}",
        _esc(have + ask + "请考核组补充后再提交报告。"),
    )


# ------------------------------------------------------- category and rejects


def _rates_line(rates: pl.DataFrame) -> str:
    shown = rates.filter(pl.col("side").is_not_null()).with_columns(
        _pct(pl.col("ratio")).alias("_r"), _status_text().alias("_s")
    )
    return "；".join(f"{lab}{r}（{s}）" for lab, r, s in shown.select("label", "_r", "_s").rows())


def _verdict(rates: pl.DataFrame, verdict: str, exit_standard: bool) -> str:
    """The stored verdict (analyse.verdicts) in words; rates outside the exit standard's
    scope are a reference line only (八(二)), so no county is called 未达标 on them."""
    judged = rates.filter(pl.col("side").is_not_null())
    fail = judged.filter(pl.col("status") == "fail")["label"].to_list()
    risk = judged.filter(pl.col("status") == "not_found")["label"].to_list()
    empty = judged.filter(pl.col("ratio").is_null())["label"].to_list()
    n = judged.height
    if verdict == "fail":
        if exit_standard:
            return "、".join(fail) + "未达标，不符合贫困县退出标准。"
        return "、".join(fail) + "的抽样比率超过参考标准线（非本县考核标准），所涉农户需逐户核实。"
    if verdict == "no_data":
        return "、".join(empty) + "没有调查样本，无法判断是否达标。"
    if verdict == "not_found":
        return (
            f"{n}项指标的抽样比率均未超出标准，但" + "、".join(risk) + "的置信区间跨越标准线，"
            "未发现超标，但样本不足以确认达标"
            + ("，建议在退出专项评估中扩大核查范围。" if exit_standard else "。")
        )
    return f"{n}项指标均达标" + ("，符合贫困县退出标准。" if exit_standard else "。")


def _remaining_line(households: pl.DataFrame) -> str:
    left = households.filter(pl.col("frame_status") == "not_exited")
    ok = left.filter(pl.col("qualified")).height
    return f"调查未脱贫户{left.height}户，其中{ok}户收入和“两不愁三保障”已达到脱贫标准。"


def _relapse_line(households: pl.DataFrame) -> str:
    back = households.filter(pl.col("frame_status") == "relapsed")
    risk = back.filter(pl.col("relapse")).height
    return f"调查返贫户{back.height}户，其中{risk}户仍未达到标准（返贫风险）。"


def _projects_line(projects: pl.DataFrame) -> str:
    counts = (
        projects.filter(pl.col("checked"))
        .group_by("check_status")
        .len()
        .with_columns(_label(pl.col("check_status"), PROJECT_STATUS).alias("s"))
        .sort("check_status")
    )
    parts = "、".join(f"{s}{n}个" for s, n in counts.select("s", "len").rows())
    bad = projects.filter(pl.col("any_discrepancy")).height
    return f"抽查项目{projects.height}个（{parts or '均未核查'}），发现资金或受益户问题{bad}个。"


def _helpers_line(cr: CountyReport) -> str:
    c = _county_check(cr)
    if c is None:
        return "没有帮扶责任人比对数据。"
    flagged = cr.helpers.filter(pl.col("mismatch_flagged")).height
    return (
        f"建档立卡户知晓帮扶责任人{c['knows_helper']}/{c['registered_asked']}户；"
        f"帮扶责任人陈述不符比例超标{flagged}人。"
    )


def focus_table(cr: CountyReport) -> pl.DataFrame:
    """What the plan's focus for the county's category asks, and what the results say."""
    rates = ("三率一度（错退率、漏评率、群众认可度）", _rates_line(cr.rates))
    rows = {
        "deep_poverty": [
            ("资金投入与项目实施", _projects_line(cr.projects)),
            ("贫困人口脱贫质量", rates[1]),
            ("剩余贫困人口", _remaining_line(cr.households)),
            ("返贫风险", _relapse_line(cr.households)),
        ],
        "exit_2019": [
            ("贫困县退出标准", rates[1]),
            ("返贫风险", _relapse_line(cr.households)),
            ("项目实施", _projects_line(cr.projects)),
        ],
        "exited": [
            ("剩余贫困人口帮扶", _remaining_line(cr.households)),
            ("巩固提升脱贫成果", _relapse_line(cr.households)),
            ("“四个不摘”（帮扶不摘）", _helpers_line(cr)),
            rates,
        ],
        "non_key": [
            ("年度减贫任务", _remaining_line(cr.households)),
            ("巩固提升脱贫成效", _relapse_line(cr.households)),
            rates,
        ],
    }[cr.category]
    return pl.DataFrame(rows, schema=["考察要点", "考核结果"], orient="row")


def category_focus(cr: CountyReport) -> str:
    """The plan's focus for the county's category, what the results say, a verdict (HTML)."""
    stored = read_result(cr.run, Result.COUNTY_VERDICTS, county_code=cr.code).row(0, named=True)
    exit_standard = stored["scope"] == "exit_standard"
    verdict = _verdict(cr.rates, stored["verdict"], exit_standard)
    note = (
        "综合贫困发生率和贫困村出列情况不在入户抽样指标之内，需结合县级统计数据核实。"
        if exit_standard
        else ""
    )
    label = COUNTY_CATEGORY.get(cr.category, cr.category)
    return (
        f"<p><b>{_esc(label)}</b>的考核重点：{_esc(cr.category_focus)}。</p>"
        + table(focus_table(cr))
        + f"<p><b>结论：</b>{_esc(verdict)}{_esc(note)}</p>"
    )


def reject_table(rejects: pl.DataFrame) -> pl.DataFrame:
    """Field rows the checks turned back (file, row, column, expected, found)."""
    return rejects.sort("file", "row").select(
        pl.col("file").alias("文件"),
        pl.col("row").alias("行"),
        pl.col("column").alias("列"),
        pl.col("expected").alias("应为"),
        pl.col("found").alias("实为"),
    )


# ------------------------------------------------------------------ pairing


@dataclass(frozen=True)
class PairedReport:
    """A helped national poverty county's pairing slice (plan 三(二), 五(三)(五))."""

    run: Path
    code: str
    name: str
    city: str
    helper: str
    plan: Plan
    synthetic: bool
    findings: pl.DataFrame
    projects: pl.DataFrame
    beneficiaries: pl.DataFrame
    discrepancies: pl.DataFrame
    interviewees: pl.DataFrame
    village_names: pl.DataFrame


def load_paired_report(run: Path, county_code: str | int = "") -> PairedReport:
    """The pairing results of a helped county (default: the run's first one).

    Raises
    ------
    InputError
        When the county is not in the run or has no paired helper county.
    """
    counties = read_result(run, Result.COUNTIES).filter(
        pl.col("paired_helper_county").is_not_null()
    )
    code = str(county_code) or str(counties["county_code"].min())
    row = counties.filter(pl.col("county_code") == code)
    if row.height == 0:
        raise _unknown(
            "county_code (a county with a paired helper county)",
            code,
            counties["county_code"].sort().to_list(),
            run,
        )
    info = row.row(0, named=True)
    plan = _plan(run)
    pairing = [it.code for it in plan.content.pairing]
    package = read_package(run / "sample")
    projects = read_result(run, Result.CHECK_PROJECTS, county_code=code).filter(
        pl.col("level") == "paired"
    )
    ids = projects["project_id"].implode()
    return PairedReport(
        run=run,
        code=code,
        name=str(info["county_name"]),
        city=str(info["city_name"]),
        helper=str(info["paired_helper_county"]),
        plan=plan,
        synthetic=is_synthetic(run),
        findings=read_result(run, Result.FINDINGS, county_code=code).filter(
            pl.col("content_item").is_in(pairing)
        ),
        projects=projects,
        beneficiaries=mask_people(
            package["project_households"].filter(pl.col("project_id").is_in(ids))
        ),
        discrepancies=read_result(run, Result.CHECK_DISCREPANCIES, county_code=code).filter(
            pl.col("subject").is_in(ids)
        ),
        interviewees=package["interviewees"].filter(
            (pl.col("county_code") == code)
            & pl.col("role").is_in([q.role for q in plan.sampling.interviews.county_paired])
        ),
        village_names=read_village_names(run / "frame", [code]),
    )


def paired_heading(pr: PairedReport) -> str:
    """Helped county, its city and the helper county (HTML)."""
    return (
        f"<h2>{_esc(pr.helper)} 结对帮扶 {_esc(pr.city)}{_esc(pr.name)}（{_esc(pr.code)}）</h2>"
        f"<p>帮扶县：<b>{_esc(pr.helper)}</b>；受帮扶县：<b>{_esc(pr.name)}</b>（国家级贫困县）</p>"
    )


def paired_interview_table(pr: PairedReport) -> pl.DataFrame:
    """The helper county's people the team interviews in the helped county."""
    return pr.interviewees.select(
        pl.col("label").alias("访谈对象"),
        pl.col("count").alias("人数"),
    )


def beneficiary_table(pr: PairedReport) -> pl.DataFrame:
    """The drawn beneficiaries of each cooperation project, masked, with the project's check."""
    checks = pr.projects.select(
        "project_id", "name", "beneficiaries_drawn", "beneficiaries_confirmed"
    )
    return (
        _with_names(pr.beneficiaries.join(checks, on="project_id", how="left"), pr.village_names)
        .sort("project_id", "prn")
        .select(
            pl.col("project_id").alias("项目编号"),
            pl.col("name").alias("项目名称"),
            pl.col("village_name").alias("村"),
            pl.col("villager_group").fill_null("").alias("村民小组"),
            pl.col("household_id").alias("户编号"),
            pl.col("head_name").fill_null(_DASH).alias("户主"),
            pl.format(
                "{}/{}",
                pl.col("beneficiaries_confirmed").cast(pl.String).fill_null(_DASH),
                pl.col("beneficiaries_drawn"),
            ).alias("项目核实受益户/抽查户"),
        )
    )


def pairing_box(pr: PairedReport) -> str:
    """Where the pairing report stands: problems found and reviewed (HTML).

    The plan sets the 3–5 experiences and at least 3 problems for city and
    county reports; for the pairing report it sets none, so this box informs
    and does not judge.
    """
    shown = pr.findings.filter(pl.col("in_report"))
    confirmed = shown.filter(pl.col("confirmed")).height
    items = shown["content_item"].n_unique()
    body = (
        f"结对帮扶考核内容{len(pr.plan.content.pairing)}项中有{items}项发现问题，"
        f"列入报告的问题{shown.height}个，已确认{confirmed}个，待复核{shown.height - confirmed}个；"
        f"抽查结对合作项目{pr.projects.height}个（方案要求"
        f"{pr.plan.sampling.projects.paired_cooperation}个）。方案对结对帮扶报告的问题和经验条数未作规定，"
        "此处仅作统计。"
    )
    return _box("#e8f0fe", "#1a73e8", "结对帮扶报告要素", _esc(body))


# --------------------------------------------------------------------- city


@dataclass(frozen=True)
class CityReport:
    """One city: its own findings and experiences, and its counties side by side.

    ``findings`` and ``experiences`` are the city's own (no county code);
    ``county_findings`` its counties'; pairing findings (plan 三(二)) are in
    neither, as in the completeness rule of :func:`xkaohe.findings.completeness`.
    """

    run: Path
    name: str
    plan: Plan
    synthetic: bool
    counties: pl.DataFrame
    rates: pl.DataFrame
    findings: pl.DataFrame
    county_findings: pl.DataFrame
    experiences: pl.DataFrame
    completeness: pl.DataFrame


def load_city_report(run: Path, city_name: str = "") -> CityReport:
    """The results of ``city_name`` (default: the city of the run's first county).

    Raises
    ------
    InputError
        When the city is not in the run, naming the cities that are.
    """
    all_counties = read_result(run, Result.COUNTIES).sort("county_code")
    name = city_name or str(all_counties["city_name"][0])
    counties = all_counties.filter(pl.col("city_name") == name)
    if counties.height == 0:
        cities = all_counties["city_name"].unique(maintain_order=True).to_list()
        raise _unknown("city_name", name, cities, run)
    plan = _plan(run)
    codes = counties["county_code"].implode()
    pairing = [it.code for it in plan.content.pairing]
    findings = read_result(run, Result.FINDINGS, city_name=name).filter(
        ~pl.col("content_item").is_in(pairing)
    )
    experiences = read_result(run, Result.EXPERIENCES, city_name=name)
    return CityReport(
        run=run,
        name=name,
        plan=plan,
        synthetic=is_synthetic(run),
        counties=counties,
        rates=rate_rows(
            read_result(run, Result.COUNTY_INDICATORS).filter(pl.col("county_code").is_in(codes)),
            plan,
        ).join(counties.select("county_code", "county_name"), on="county_code", how="left"),
        findings=findings.filter(pl.col("county_code").is_null()),
        county_findings=findings.filter(pl.col("county_code").is_not_null()),
        experiences=experiences.filter(pl.col("county_code").is_null()),
        completeness=read_result(run, Result.COMPLETENESS, city_name=name),
    )


def city_heading(cr: CityReport) -> str:
    """The city and how many counties of each category it has (HTML)."""
    counts = cr.counties.group_by("category").len().sort("category")
    parts = "、".join(
        f"{COUNTY_CATEGORY.get(c, c)}{n}个" for c, n in counts.select("category", "len").rows()
    )
    return (
        f"<h2>{_esc(cr.name)}</h2><p>承担脱贫攻坚任务的县（市、区）{cr.counties.height}个："
        f"{_esc(parts)}。</p>"
    )


def city_county_table(cr: CityReport) -> pl.DataFrame:
    """One row per county of the city: the four rates with statuses, problems, completeness."""
    wide = cr.rates.with_columns(
        pl.format("{}（{}）", _pct(pl.col("ratio")), _status_text()).alias("cell")
    ).pivot(on="label", index="county_code", values="cell")
    shown = cr.county_findings.filter(pl.col("in_report"))
    problems = shown.group_by("county_code").agg(pl.len().cast(pl.Int64).alias("problems"))
    comp = cr.completeness.filter(pl.col("unit") == "county").select(
        pl.col("code").alias("county_code"),
        pl.when(pl.col("ok")).then(pl.lit("齐全")).otherwise(pl.col("shortfall")).alias("要素"),
    )
    return (
        cr.counties.sort("county_code")
        .join(wide, on="county_code", how="left", maintain_order="left")
        .join(problems, on="county_code", how="left", maintain_order="left")
        .join(comp, on="county_code", how="left", maintain_order="left")
        .select(
            pl.col("county_name").alias("县（市、区）"),
            _label(pl.col("category"), COUNTY_CATEGORY).alias("考核类别"),
            *[pl.col(rate.label) for rate in RATES],
            pl.col("problems").fill_null(0).alias("报告问题数"),
            pl.col("要素").fill_null(_DASH).alias("报告要素"),
        )
    )


def city_rows_to_watch(table: pl.DataFrame) -> list[int]:
    """Row positions of :func:`city_county_table` with a failed rate (to highlight)."""
    cells = table.select([pl.col(r.label) for r in RATES]).rows()
    return [i for i, row in enumerate(cells) if any("未达标" in (v or "") for v in row)]


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


def city_box(cr: CityReport) -> str:
    """The city's own report completeness box (HTML)."""
    return completeness_box(cr.completeness.filter(pl.col("unit") == "city"), cr.plan)


__all__ = [
    "CityReport",
    "CountyReport",
    "PairedReport",
    "beneficiary_table",
    "category_focus",
    "city_box",
    "city_county_table",
    "city_heading",
    "city_rows_to_watch",
    "classification_table",
    "completeness_box",
    "completeness_table",
    "content_overview",
    "county_heading",
    "cross_check_summary",
    "discrepancy_table",
    "experience_table",
    "flagged_households",
    "focus_table",
    "helper_table",
    "highlight_rows",
    "item_table",
    "load_city_report",
    "load_county_report",
    "load_paired_report",
    "paired_heading",
    "paired_interview_table",
    "pairing_box",
    "problem_summary",
    "problem_table",
    "project_rows_with_problems",
    "project_table",
    "rate_rows",
    "rate_table",
    "reject_table",
    "sample_table",
    "show",
    "sorted_items",
    "status_note",
    "table",
    "village_claim_table",
]
