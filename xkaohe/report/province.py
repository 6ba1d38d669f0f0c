"""The provincial summary report (全省交叉考核总报告), shaped from the results store.

Plan 六 asks for a provincial summary by 20 December, after the teams' city,
county and pairing reports of 1 December; it goes to the leadership group
(省扶贫开发领导小组). This module turns one run's results store (DESIGN.md,
"Results store and reports") into the tables, short texts and plotly figures
of that report, section by section:

1. totals and the sample achieved against the plan's quotas (五(七));
2. every county's rates with their 95% intervals against the thresholds;
3. the counties planned to exit in 2019 (category ``exit_2019``) against the
   exit standard;
4. the four county categories and their focus questions (三(一)1);
5. cities compared;
6. problems by content item (三: C1..C9, M1..M6, P1..P6), 共性 vs 个性;
7. the cross-checks (五(三)(五));
8. county pairing (三(二));
9. typical experiences (五);
10. what a sample of this size can and cannot tell;
11. the report deadlines (六);
12. field rows rejected at ingestion.

Nothing here estimates a county's rate, classifies a household or
cross-checks a claim: those are read as ``xkaohe indicators`` wrote them, and
the shaping is joins, filters, counts and Chinese labels. The one
calculation of its own is :func:`detection_limits`, which asks
:func:`xkaohe.estimate.ratio_intervals` what interval the *plan's* sample
would give when nothing wrong is found — a property of the design, not of
any county (Korn & Graubard 1998; see :mod:`xkaohe.analyse.estimate`).

The report holds no personal data: household names, phones and ID numbers
are dropped when the sample is loaded.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from xkaohe.analyse.consistency import percent_text
from xkaohe.analyse.estimate import clopper_pearson, ratio_intervals
from xkaohe.analyse.indicators import EXITED, RATES
from xkaohe.analyse.indicators import STATUS_LABELS as RATE_STATUS_LABELS
from xkaohe.io.lottery_files import read_lottery
from xkaohe.io.results import read_manifest, read_result, run_plan
from xkaohe.io.run import is_synthetic
from xkaohe.io.sample_package import read_package
from xkaohe.plan import Bound, ContentItem, CountyCategory, Plan
from xkaohe.report.kit import show_html, table_html
from xkaohe.results_spec import Result

# ------------------------------------------------------------------ labels

STATUS_LABELS = RATE_STATUS_LABELS | {"no_data": "无样本"}
"""A rate's (or a county's) status against the plan's thresholds, in Chinese."""
VERDICT_LABELS = {
    "fail": "未达标",
    "not_found": "未发现超标（样本不足以确认达标）",
    "pass": "达标",
    "no_data": "无样本，无法判断",
}
"""A county's overall verdict on the three rates."""
STATUS_COLORS = {"fail": "#d62728", "not_found": "#1f77b4", "pass": "#2ca02c", "no_data": "#7f7f7f"}
"""The same colours as the county reports' figures."""
SCOPE_LABELS = {"systemic": "共性问题", "case": "个性问题"}
LEVEL_LABELS = {"county": "县级", "city": "市级", "pairing": "县域结对帮扶"}
"""The three lists of content items of plan 三."""
SELECTED_LABELS = {
    "exited_2019": "2019年脱贫户",
    "exited_2016_2018": "2016—2018年脱贫户",
    "new_2018_2019": "2018—2019年新识别贫困户",
    "not_exited": "未脱贫户",
    "relapsed": "返贫户（全覆盖）",
    "group_census": "村民小组全覆盖户",
}
KIND_LABELS = {
    "helper_claim": "帮扶责任人陈述",
    "village_claim": "村干部陈述",
    "project": "项目核查",
}
PROJECT_FLAGS = {
    "funds_overspent": "资金支出超过项目资金规模",
    "spent_but_not_started": "已支出资金但项目未开工",
    "spent_but_abandoned": "已支出资金但项目已停工",
    "beneficiaries_short": "核实受益户少于抽查户数",
    "not_checked": "考核组未核查",
}
PROJECT_LEVELS = {"county": "县级项目", "village": "到村、到户项目", "paired": "结对合作项目"}
_DASH = "—"
_VERDICT_ORDER = ("fail", "no_data", "not_found", "pass")  # analyse.verdicts.VERDICTS


def _esc(value: object) -> str:
    return html.escape(str(value))


def _pct(x: float | None, digits: int = 1) -> str:
    """0.0245 -> "2.5%"; None -> "—"."""
    return _DASH if x is None else f"{x * 100:.{digits}f}%"


def _pct_expr(x: pl.Expr) -> pl.Expr:
    return percent_text(x).fill_null(_DASH)


def _label(expr: pl.Expr, labels: dict[str, str]) -> pl.Expr:
    return expr.replace_strict(labels, default=expr, return_dtype=pl.String)


def _conf(confidence: float) -> str:
    """0.95 -> "95%"."""
    return f"{confidence * 100:g}%"


def _date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# ----------------------------------------------------------------- loading


@dataclass(frozen=True)
class Province:
    """Everything the provincial report reads from one run.

    Every table is the results table of the same name, whole (``counties``
    gains ``city_order``, the province's order of cities: by their first
    county code). ``sample_*`` are the sample package without personal
    data; ``teams`` is the lottery's teams table (None without a lottery).
    """

    run: Path
    plan: Plan
    synthetic: bool
    as_of: dt.date
    counties: pl.DataFrame
    indicators: pl.DataFrame
    households: pl.DataFrame
    findings: pl.DataFrame
    experiences: pl.DataFrame
    completeness: pl.DataFrame
    rejects: pl.DataFrame
    check_rates: pl.DataFrame
    check_helpers: pl.DataFrame
    check_villages: pl.DataFrame
    check_projects: pl.DataFrame
    check_discrepancies: pl.DataFrame
    sample_villages: pl.DataFrame
    sample_households: pl.DataFrame
    general_quota: pl.DataFrame
    teams: pl.DataFrame | None


def with_city_order(counties: pl.DataFrame) -> pl.DataFrame:
    """``counties`` sorted by city (in the order of each city's first county code) and code."""
    return counties.with_columns(
        city_order=pl.col("county_code").min().over("city_name").rank("dense").cast(pl.Int64)
    ).sort("city_order", "county_code")


def load_province(run: Path) -> Province:
    """Read the whole results store of ``run``, its sample package and its lottery.

    Parameters
    ----------
    run
        The run folder (``results/``, ``sample/``, optionally ``lottery/``).

    Returns
    -------
    Province
        The tables of the report; the plan is the one recorded in the
        results' manifest, ``as_of`` the manifest's date.

    Raises
    ------
    InputError
        When a results table or the manifest is missing.
    """
    manifest = read_manifest(run)
    plan = run_plan(run)
    package = read_package(run / "sample")
    lottery = run / "lottery"
    teams = read_lottery(lottery).teams if (lottery / "teams.csv").exists() else None
    return Province(
        run=run,
        plan=plan,
        synthetic=is_synthetic(run),
        as_of=dt.date.fromisoformat(str(manifest["as_of"])),
        counties=with_city_order(read_result(run, Result.COUNTIES)),
        indicators=read_result(run, Result.COUNTY_INDICATORS),
        households=read_result(run, Result.HOUSEHOLDS),
        findings=read_result(run, Result.FINDINGS),
        experiences=read_result(run, Result.EXPERIENCES),
        completeness=read_result(run, Result.COMPLETENESS),
        rejects=read_result(run, Result.REJECTS),
        check_rates=read_result(run, Result.CHECK_RATES),
        check_helpers=read_result(run, Result.CHECK_HELPERS),
        check_villages=read_result(run, Result.CHECK_VILLAGES),
        check_projects=read_result(run, Result.CHECK_PROJECTS),
        check_discrepancies=read_result(run, Result.CHECK_DISCREPANCIES),
        sample_villages=package["villages"].select("county_code", "village_code", "village_type"),
        sample_households=package["households"].select(
            "county_code", "village_code", "household_id", "status", "selected_as"
        ),
        general_quota=package["general_quota"],
        teams=teams,
    )


# --------------------------------------------------------------- display


def table_or_note(df: pl.DataFrame, empty: str = "无。", highlight: list[int] | None = None) -> str:
    """``df`` as a report table (HTML), or the sentence ``empty`` when it has no rows."""
    if df.height == 0:
        return f"<p>{_esc(empty)}</p>"
    return _TABLE_STYLE + table_html(df, highlight)


_TABLE_STYLE = (
    "<style>.xk-table th,.xk-table td{text-align:left !important;vertical-align:top}"
    ".xk-table th{white-space:nowrap}</style>"
)


def show(df: pl.DataFrame, empty: str = "无。", highlight: list[int] | None = None) -> None:
    """Display a table left-aligned in a notebook, or the sentence ``empty`` when it has no rows."""
    show_html(table_or_note(df, empty, highlight))


def rows_where(df: pl.DataFrame, column: str, values: list[str]) -> list[int]:
    """Positions of the rows whose ``column`` is one of ``values`` (to highlight)."""
    return [i for i, v in enumerate(df[column].to_list()) if v in values]


def rows_positive(df: pl.DataFrame, column: str) -> list[int]:
    """Positions of the rows whose number in ``column`` is above zero (to highlight)."""
    return [i for i, v in enumerate(df[column].to_list()) if v is not None and v > 0]


def rows_to_watch(df: pl.DataFrame, column: str) -> list[int]:
    """Positions of the rows whose ``column`` says 未达标 (to highlight)."""
    return [
        i
        for i, v in enumerate(df[column].cast(pl.String).to_list())
        if v and v.startswith(STATUS_LABELS["fail"])
    ]


def _box(colour: str, border: str, body: str) -> str:
    return (
        f'<div style="background:{colour};border-left:6px solid {border};padding:10px 14px;'
        f'margin:8px 0 14px;border-radius:4px;line-height:1.7">{body}</div>'
    )


def key_box(body: str) -> str:
    """A highlighted paragraph for a conclusion the leadership should not miss (HTML)."""
    return _box("#fff7e6", "#ff7f0e", body)


# ----------------------------------------------------------- 1 the sample


def overview_html(p: Province) -> str:
    """Heading: the plan, the date of the results, what was assessed (HTML)."""
    by_cat = "、".join(
        f"{c.label}{p.counties.filter(_in_category(c)).height}个" for c in p.plan.county_categories
    )
    helped = p.counties.filter(
        pl.col("national_poverty_county") & pl.col("paired_helper_county").is_not_null()
    ).height
    teams = p.teams.height if p.teams is not None else p.households["team_id"].n_unique()
    return (
        f"<h2>{_esc(p.plan.title)}：全省汇总</h2>"
        f"<p>结果库数据截至<b>{_date(p.as_of)}</b>。{teams}个考核组对"
        f"{p.counties['city_name'].n_unique()}个市、{p.counties.height}个有扶贫任务的县（市、区）"
        f"开展交叉考核，其中{by_cat}；接受县域结对帮扶的国家级贫困县{helped}个。</p>"
    )


def sample_achieved(p: Province) -> pl.DataFrame:
    """Units and households: what the plan asks, what was drawn, what was surveyed.

    Returns
    -------
    pl.DataFrame
        ``项目, 计划, 抽取, 实际调查, 完成率`` — the plan's counts (scope,
        team count, quotas times the plan's counties and villages), the
        lottery's teams and the sample package's rows, and the surveyed rows
        of the results store.
    """
    plan, sampling = p.plan, p.plan.sampling
    villages_planned = plan.scope.counties * sum(q.count for q in sampling.villages.quotas)
    hh = p.households
    drawn = p.sample_households.group_by("selected_as").len()
    drawn_n = dict(zip(drawn["selected_as"].to_list(), drawn["len"].to_list(), strict=True))
    surveyed = hh.filter(pl.col("registered")).group_by("selected_as").len()
    surv_n = dict(zip(surveyed["selected_as"].to_list(), surveyed["len"].to_list(), strict=True))
    lottery_teams = p.teams.height if p.teams is not None else None
    rows: list[tuple[str, int | None, int | None, int]] = [
        ("考核组", plan.teams.count, lottery_teams, hh["team_id"].drop_nulls().n_unique()),
        ("市", plan.scope.cities, p.counties["city_name"].n_unique(), hh["city_name"].n_unique()),
        ("县（市、区）", plan.scope.counties, p.counties.height, hh["county_code"].n_unique()),
        (
            "抽样村",
            villages_planned,
            p.sample_villages.height,
            hh["village_code"].n_unique(),
        ),
    ]
    quota_planned = 0
    for q in sampling.households.quotas:
        planned = villages_planned * q.count
        quota_planned += planned
        rows.append(
            (SELECTED_LABELS[q.status], planned, drawn_n.get(q.status, 0), surv_n.get(q.status, 0))
        )
    for extra in (*sampling.households.full_coverage, "group_census"):
        rows.append(
            (SELECTED_LABELS.get(extra, extra), None, drawn_n.get(extra, 0), surv_n.get(extra, 0))
        )
    general_planned = villages_planned * sampling.households.general_per_village
    rows.append(
        (
            "一般农户（现场走访，含村民小组全覆盖）",
            general_planned,
            int(p.general_quota["count"].sum()),
            hh.filter(~pl.col("registered")).height,
        )
    )
    rows.append(
        ("调查户合计", quota_planned + general_planned, None, hh.height),
    )
    table = pl.DataFrame(
        rows, schema=["项目", "_plan", "_drawn", "实际调查"], orient="row"
    ).with_columns(pl.col("_plan", "_drawn", "实际调查").cast(pl.Int64))
    return table.select(
        "项目",
        pl.col("_plan").cast(pl.String).fill_null("全覆盖").alias("计划"),
        pl.col("_drawn").cast(pl.String).fill_null(_DASH).alias("抽取"),
        "实际调查",
        _pct_expr(pl.col("实际调查") / pl.col("_plan")).alias("完成率（实际/计划）"),
    ).with_columns(
        pl.when(pl.col("项目") == "调查户合计")
        .then(pl.format("{}（含全覆盖户）", pl.col("完成率（实际/计划）")))
        .otherwise(pl.col("完成率（实际/计划）"))
        .alias("完成率（实际/计划）")
    )


def sample_note(p: Province) -> str:
    """One paragraph on the sample: substitutions and households per county (HTML)."""
    rules = p.plan.sampling
    villages = sum(q.count for q in rules.villages.quotas)
    planned = villages * (
        sum(q.count for q in rules.households.quotas) + rules.households.general_per_village
    )
    sub = p.sample_households.filter(
        pl.col("selected_as").is_in([q.status for q in rules.households.quotas])
        & (pl.col("status") != pl.col("selected_as"))
    ).height
    sizes: list[int] = p.households.group_by("county_code").len()["len"].to_list() or [0]
    low, high = min(sizes), max(sizes)
    return (
        f"<p>抽样清单中有{sub}户是某类户数不足时按方案顺序替代的户。按方案每县抽{villages}个村、"
        f"按类别和一般农户计{planned}户，另加返贫户和一个村民小组全覆盖；"
        f"各县实际调查{low}—{high}户。</p>"
    )


# ------------------------------------------------------------ 2 the rates


def _bounds(plan: Plan) -> dict[str, Bound]:
    return {str(k): b for k, b in plan.indicators.thresholds.items()}


def judged_rates(plan: Plan) -> list[tuple[str, str, Bound]]:
    """``(name, Chinese label, threshold)`` of each rate the plan sets a threshold for."""
    bounds = _bounds(plan)
    return [(r.name, r.label, bounds[r.name]) for r in RATES if r.name in bounds]


def _limit(bound: Bound) -> float:
    return float(bound.max if bound.max is not None else bound.min)  # type: ignore[arg-type]


def _standard(bound: Bound) -> str:
    return ("≤" if bound.max is not None else "≥") + _pct(_limit(bound), 0)


def forest_rows(p: Province, rate: str) -> pl.DataFrame:
    """One row per county for the forest chart of ``rate``, cities in the province's order.

    Returns
    -------
    pl.DataFrame
        ``city_order, city_name, county_code, county_name, category, ratio``
        (the official sample ratio), ``est, low, high`` (design-weighted
        estimate and its interval), ``n`` (the ratio's denominator) and
        ``status`` (fail, not_found, pass; ``no_data`` without households).
    """
    ind = p.indicators.select(
        "county_code",
        pl.col(rate).alias("ratio"),
        pl.col(f"{rate}_est").alias("est"),
        pl.col(f"{rate}_low").alias("low"),
        pl.col(f"{rate}_high").alias("high"),
        pl.col(f"{rate}_n").alias("n"),
        pl.col(f"{rate}_status").fill_null("no_data").alias("status"),
    )
    return (
        p.counties.select("city_order", "city_name", "county_code", "county_name", "category")
        .join(ind, on="county_code", how="left", maintain_order="left")
        .with_columns(pl.col("status").fill_null("no_data"))
    )


def status_counts(p: Province) -> pl.DataFrame:
    """Counties per rate and status: ``指标, 标准, 未达标, 无样本, 未发现超标, 达标``."""
    rows = []
    for name, label, bound in judged_rates(p.plan):
        s = forest_rows(p, name)["status"]
        rows.append(
            {
                "指标": label,
                "标准": _standard(bound),
                **{STATUS_LABELS[k]: int((s == k).sum()) for k in _VERDICT_ORDER},
            }
        )
    return pl.DataFrame(rows)


def forest_figure(
    rows: pl.DataFrame, label: str, bound: Bound, unit: str = "", confidence: float = 0.95
) -> go.Figure:
    """Forest chart: one row per county grouped by city, estimate and interval, threshold.

    Parameters
    ----------
    rows
        :func:`forest_rows` of one rate.
    label
        The rate's Chinese name.
    bound
        The plan's threshold for it (a dashed line).
    unit
        Unit of the denominator in the hover text (人 or 户).
    confidence
        The intervals' confidence level (for the labels).
    """
    conf = _conf(confidence)
    limit = _limit(bound)
    y = [rows["city_name"].to_list(), rows["county_name"].to_list()]
    fig = go.Figure()
    # The first trace covers every county, so the axis keeps the rows' order.
    fig.add_trace(
        go.Scatter(
            x=rows["ratio"].to_list(),
            y=y,
            mode="markers",
            name="抽样比率（官方口径）",
            marker={"symbol": "line-ns-open", "size": 11, "color": "black", "line": {"width": 2}},
            hoverinfo="skip",
        )
    )
    statuses = rows["status"].to_list()
    for status in _VERDICT_ORDER:
        mask = pl.Series([s == status for s in statuses])
        sub = rows.filter(mask)
        if sub.height == 0:
            continue
        ys = [[a for a, m in zip(axis, mask, strict=True) if m] for axis in y]
        sub = sub.with_columns(pl.col("est", "low", "high").fill_null(float("nan")))
        fig.add_trace(
            go.Scatter(
                x=sub["est"].to_list(),
                y=ys,
                mode="markers",
                name=f"{STATUS_LABELS[status]}（估计及{conf}区间）",
                marker={"color": STATUS_COLORS[status], "size": 8},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (sub["high"] - sub["est"]).to_list(),
                    "arrayminus": (sub["est"] - sub["low"]).to_list(),
                    "thickness": 2,
                    "width": 3,
                    "color": STATUS_COLORS[status],
                },
                customdata=sub.select(
                    _pct_expr(pl.col("ratio")),
                    _pct_expr(pl.col("low")),
                    _pct_expr(pl.col("high")),
                    pl.col("n").fill_null(0),
                ).rows(),
                hovertemplate=(
                    "%{y}<br>抽样比率 %{customdata[0]}<br>设计加权估计 %{x:.1%}"
                    f"<br>{conf}置信区间 %{{customdata[1]}}—%{{customdata[2]}}"
                    f"<br>分母 %{{customdata[3]}}{unit}<extra>{STATUS_LABELS[status]}</extra>"
                ),
            )
        )
    ends = [[axis[0], axis[-1]] for axis in y] if rows.height else [[], []]
    fig.add_trace(
        go.Scatter(
            x=[limit, limit] if rows.height else [],
            y=ends,
            mode="lines",
            name=f"标准 {_standard(bound)}",
            line={"color": "#b00020", "dash": "dash", "width": 2},
            hoverinfo="skip",
        )
    )
    span = [v for v in (*rows["low"].to_list(), *rows["high"].to_list(), limit) if v is not None]
    lo, hi = min(span), max(span)
    pad = 0.03 * (hi - lo or 1.0)
    top, bottom = 100, 20
    plot_height = 17 * max(rows.height, 1) + 20
    fig.update_layout(
        title={
            "text": f"各县{label}及{conf}置信区间（按市分组）",
            "y": 1.0,
            "yanchor": "top",
            "yref": "container",
            "pad": {"t": 12},
        },
        height=top + bottom + plot_height,
        margin={"l": 10, "r": 20, "t": top, "b": bottom},
        legend={
            "orientation": "h",
            "y": 1 + 28 / plot_height,
            "yanchor": "bottom",
            "x": 0,
            "font": {"size": 12},
        },
        xaxis={"tickformat": ".0%", "range": [lo - pad, hi + pad], "side": "top"},
        yaxis={"range": [rows.height - 0.5, -0.5], "tickfont": {"size": 11}},
        plot_bgcolor="white",
        font={"family": "Noto Sans CJK SC, Microsoft YaHei, SimHei, sans-serif"},
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eee", zeroline=False)
    return fig


def rate_figure(p: Province, rate: str) -> go.Figure:
    """:func:`forest_figure` of one judged rate (e.g. ``"wrong_exit_rate"``)."""
    for name, label, bound in judged_rates(p.plan):
        if name == rate:
            unit = next("人" if r.persons else "户" for r in RATES if r.name == name)
            return forest_figure(
                forest_rows(p, name), label, bound, unit, p.plan.indicators.confidence
            )
    known = ", ".join(n for n, _, _ in judged_rates(p.plan))
    raise KeyError(f"{rate!r} is not a rate with a threshold in the plan ({known})")


# ------------------------------------------------------ 3 exit_2019 counties


def county_verdicts(p: Province) -> pl.DataFrame:
    """Every county's status on each judged rate and its overall verdict.

    Returns
    -------
    pl.DataFrame
        The counties' columns, for each judged rate ``<rate>, <rate>_low,
        <rate>_high, <rate>_status`` and ``verdict``, ``scope``: the stored
        ``county_verdicts`` (decided in :mod:`xkaohe.analyse.verdicts`).
    """
    names = [name for name, _, _ in judged_rates(p.plan)]
    cols: list[str | pl.Expr] = ["county_code"]
    for r in names:
        cols += [r, f"{r}_low", f"{r}_high", pl.col(f"{r}_status").fill_null("no_data")]
    out = p.counties.join(p.indicators.select(cols), on="county_code", how="left")
    stored = read_result(p.run, Result.COUNTY_VERDICTS).select("county_code", "verdict", "scope")
    return out.join(stored, on="county_code", how="left", maintain_order="left")


def _reported(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.filter(pl.col("in_report"))


def _in_category(cat: CountyCategory) -> pl.Expr:
    """Whether a county is of ``cat``: its ``category``, or the flag column of a flag type."""
    return pl.col(cat.code).fill_null(False) if cat.flag else pl.col("category") == cat.code


def exit_rows(p: Province, category: str = "exit_2019") -> pl.DataFrame:
    """The counties of ``category`` with their rates, verdict and reported problems.

    Returns
    -------
    pl.DataFrame
        :func:`county_verdicts` of those counties, plus ``problems`` (findings
        in the report) and ``confirmed`` (of which confirmed by review).
    """
    probs = (
        _reported(p.findings)
        .filter(pl.col("county_code").is_not_null())
        .group_by("county_code")
        .agg(
            problems=pl.len().cast(pl.Int64),
            confirmed=pl.col("confirmed").sum().cast(pl.Int64),
        )
    )
    return (
        county_verdicts(p)
        .filter(pl.col("category") == category)
        .join(probs, on="county_code", how="left", maintain_order="left")
        .with_columns(pl.col("problems", "confirmed").fill_null(0))
    )


def _rate_cell(rate: str) -> pl.Expr:
    return (
        pl.when(pl.col(rate).is_null())
        .then(pl.lit("无样本"))
        .otherwise(
            pl.format(
                "{}（{}—{}）{}",
                _pct_expr(pl.col(rate)),
                _pct_expr(pl.col(f"{rate}_low")),
                _pct_expr(pl.col(f"{rate}_high")),
                _label(pl.col(f"{rate}_status"), STATUS_LABELS),
            )
        )
    )


def exit_table(rows: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """:func:`exit_rows` with Chinese headers: each rate as ``比率（区间）状态``, the verdict."""
    return rows.select(
        pl.col("city_name").alias("市"),
        pl.col("county_name").alias("县（市、区）"),
        *[
            _rate_cell(name).alias(f"{label}（{_standard(bound)}）")
            for name, label, bound in judged_rates(plan)
        ],
        pl.format("{}（已确认{}）", "problems", "confirmed").alias("列入报告的问题"),
        _label(pl.col("verdict"), VERDICT_LABELS).alias("结论"),
    )


def _verdict_sentence(row: dict[str, Any], plan: Plan) -> str:
    rates = judged_rates(plan)
    fail = [lab for n, lab, _ in rates if row[f"{n}_status"] == "fail"]
    risk = [lab for n, lab, _ in rates if row[f"{n}_status"] == "not_found"]
    empty = [lab for n, lab, _ in rates if row[f"{n}_status"] == "no_data"]
    values = "，".join(
        f"{lab}{_pct(row[n])}" if row[n] is not None else f"{lab}无样本" for n, lab, _ in rates
    )
    if fail:
        say = (
            "、".join(fail) + "的抽样比率超出标准，<b>未达到贫困县退出标准</b>，"
            "建议暂缓退出，逐户核实后整改。"
        )
    elif empty:
        say = "、".join(empty) + "没有调查样本，无法判断是否达标。"
    elif risk:
        say = (
            f"{len(rates)}项指标的抽样比率均达到标准，但"
            + "、".join(risk)
            + f"的{_conf(plan.indicators.confidence)}置信区间跨越标准线，"
            "<b>未发现超标（样本不足以确认达标）</b>；建议在退出专项评估中扩大样本核实。"
        )
    else:
        say = f"{len(rates)}项指标的置信区间均在标准以内，<b>达标</b>。"
    return (
        f"<li><b>{_esc(row['county_name'])}</b>（{_esc(row['city_name'])}）：{values}。{say}"
        f"列入报告的问题{row['problems']}个（已确认{row['confirmed']}个）。</li>"
    )


_VERDICT_VERB = {
    "fail": "有指标未达标",
    "not_found": "未发现超标（样本不足以确认达标）",
    "pass": "确认达标",
    "no_data": "缺少样本",
}
_VERDICT_ADJ = {"fail": "指标未达标", "not_found": "未发现超标", "pass": "能确认达标"}


def verdict_counts_text(verdicts: pl.Series, names: dict[str, list[str]] | None = None) -> str:
    """ "9个县未发现超标（…）；没有指标未达标或能确认达标的县": counts by verdict, zeros folded.

    ``names`` optionally lists counties per verdict, shown after its count.
    """
    said, none = [], []
    for k in _VERDICT_ORDER:
        n = int((verdicts == k).sum())
        if n:
            listed = (names or {}).get(k)
            said.append(
                f"{n}个县{_VERDICT_VERB[k]}" + (f"（{'、'.join(listed)}）" if listed else "")
            )
        elif k in _VERDICT_ADJ:
            none.append(_VERDICT_ADJ[k])
    text = "，".join(said)
    if none:
        text += ("；" if said else "") + "没有" + "或".join(none) + "的县"
    return text


def exit_sentences(rows: pl.DataFrame, plan: Plan) -> str:
    """One sentence per county — 达标 / 未发现超标 / 未达标 — and a total (HTML)."""
    head = f"<p>{rows.height}个拟摘帽县中，{verdict_counts_text(rows['verdict'])}。</p>"
    items = "".join(_verdict_sentence(r, plan) for r in rows.iter_rows(named=True))
    return head + f"<ul style='line-height:1.8'>{items}</ul>"


# ------------------------------------------------------- 4 the categories


def _items(plan: Plan) -> list[tuple[str, ContentItem]]:
    c = plan.content
    return [
        *(("county", it) for it in c.county),
        *(("city", it) for it in c.city),
        *(("pairing", it) for it in c.pairing),
    ]


def category_rows(p: Province) -> pl.DataFrame:
    """Per county category (plan order): counties, verdicts and reported problems.

    Returns
    -------
    pl.DataFrame
        ``category, label, focus, counties, fail, no_data, not_found, pass,
        problems, confirmed, systemic`` (problems: findings of the category's
        counties in the report).
    """
    verdicts = county_verdicts(p)
    probs = _reported(p.findings).join(
        p.counties.select("county_code", "category", "deep_poverty"), on="county_code", how="inner"
    )
    rows = []
    for cat in p.plan.county_categories:
        v = verdicts.filter(_in_category(cat))["verdict"]
        f = probs.filter(_in_category(cat))
        rows.append(
            {
                "category": cat.code,
                "label": cat.label,
                "focus": cat.focus,
                "counties": v.len(),
                **{k: int((v == k).sum()) for k in _VERDICT_ORDER},
                "problems": f.height,
                "confirmed": int(f["confirmed"].sum()),
                "systemic": int((f["scope"] == "systemic").sum()),
            }
        )
    return pl.DataFrame(rows)


def category_table(rows: pl.DataFrame) -> pl.DataFrame:
    """:func:`category_rows` with Chinese headers."""
    return rows.select(
        pl.col("label").alias("考核类别"),
        pl.col("counties").alias("县数"),
        pl.col("fail").alias("有指标未达标"),
        pl.col("not_found").alias("未发现超标"),
        pl.col("pass").alias("确认达标"),
        pl.col("problems").alias("列入报告的问题"),
        pl.col("confirmed").alias("其中已确认"),
        pl.col("systemic").alias("其中共性问题"),
    )


def category_items(p: Province) -> pl.DataFrame:
    """Reported problems of each category's counties by content item, one row per item.

    Returns
    -------
    pl.DataFrame
        ``考核内容`` (``<code> <label>``, plan order, items with a problem
        only), one column per county category (its Chinese label) and
        ``合计``.
    """
    cats = p.plan.county_categories
    items = [it for _, it in _items(p.plan)]
    counted = (
        _reported(p.findings)
        .join(
            p.counties.select("county_code", "category", "deep_poverty"),
            on="county_code",
            how="inner",
        )
        .group_by("content_item")
        .agg(
            *[_in_category(c).sum().cast(pl.Int64).alias(c.label) for c in cats],
            pl.len().cast(pl.Int64).alias("合计"),
        )
    )
    base = pl.DataFrame(
        {
            "content_item": [it.code for it in items],
            "考核内容": [f"{it.code} {it.label}" for it in items],
        }
    )
    return base.join(counted, on="content_item", how="inner", maintain_order="left").drop(
        "content_item"
    )


def _top_items(f: pl.DataFrame, plan: Plan, k: int = 3) -> str:
    labels = {it.code: it.label for _, it in _items(plan)}
    top = f.group_by("content_item").len().sort(["len", "content_item"], descending=[True, False])
    return "、".join(f"{c} {labels.get(c, c)}（{n}个）" for c, n in top.head(k).iter_rows())


def category_focus(p: Province) -> str:
    """For each category: the plan's focus question and what the results say to it (HTML)."""
    verdicts = county_verdicts(p)
    kinds = p.counties.select("county_code", "category", "deep_poverty")
    probs = _reported(p.findings).join(kinds, on="county_code", how="inner")
    hh = p.households.join(kinds, on="county_code")
    parts = []
    for cat in p.plan.county_categories:
        v = verdicts.filter(_in_category(cat))
        f = probs.filter(_in_category(cat))
        h = hh.filter(_in_category(cat))
        fails = v.filter(pl.col("verdict") == "fail")["county_name"].to_list()
        relapsed = h.filter(pl.col("frame_status") == "relapsed")
        left = h.filter(pl.col("frame_status") == "not_exited")
        lines = [
            f"{v.height}个县中，{verdict_counts_text(v['verdict'], {'fail': fails})}。",
            f"列入报告的问题{f.height}个（已确认{int(f['confirmed'].sum())}个）"
            + (f"，主要集中在{_top_items(f, p.plan)}。" if f.height else "。"),
            f"调查未脱贫户{left.height}户，其中{int(left['qualified'].sum())}户收入和"
            f"“两不愁三保障”已达标；返贫户{relapsed.height}户，"
            f"其中{int(relapsed['relapse'].sum())}户仍未达标（返贫风险）。",
        ]
        parts.append(
            f"<h3>{_esc(cat.label)}</h3><p><b>分类考核重点：</b>{_esc(cat.focus)}</p>"
            + "<ul style='line-height:1.8'>"
            + "".join(f"<li>{_esc(x)}</li>" for x in lines)
            + "</ul>"
        )
    return "".join(parts)


# ------------------------------------------------------------ 5 cities


def city_rows(p: Province) -> pl.DataFrame:
    """Per city (province order): counties by verdict and rate, problems, experiences.

    Returns
    -------
    pl.DataFrame
        ``city_order, city_name, counties, fail, no_data, not_found, pass``
        (counties by verdict), ``<rate>_fail`` per judged rate, ``failed``
        (the failing counties and their failing rates, as text; null if
        none), ``problems, confirmed, systemic, case`` (reported findings of the city
        and its counties), ``city_level`` (reported findings of the city's own
        work), ``overdue`` (reviews overdue) and ``experiences``.
    """
    rates = judged_rates(p.plan)
    names = [n for n, _, _ in rates]
    failing = pl.concat_list(
        [pl.when(pl.col(f"{n}_status") == "fail").then(pl.lit(lab)) for n, lab, _ in rates]
    ).list.drop_nulls()
    by_verdict = (
        county_verdicts(p)
        .with_columns(
            _f=pl.when(pl.col("verdict") == "fail").then(
                pl.format("{}（{}）", "county_name", failing.list.join("、"))
            )
        )
        .group_by("city_name")
        .agg(
            pl.col("city_order").first(),
            failed=pl.col("_f").drop_nulls().str.join("；"),
            counties=pl.len().cast(pl.Int64),
            **{k: (pl.col("verdict") == k).sum().cast(pl.Int64) for k in _VERDICT_ORDER},
            **{f"{r}_fail": (pl.col(f"{r}_status") == "fail").sum().cast(pl.Int64) for r in names},
        )
    )
    rep = _reported(p.findings)
    probs = rep.group_by("city_name").agg(
        problems=pl.len().cast(pl.Int64),
        confirmed=pl.col("confirmed").sum().cast(pl.Int64),
        systemic=(pl.col("scope") == "systemic").sum().cast(pl.Int64),
        case=(pl.col("scope") == "case").sum().cast(pl.Int64),
        city_level=pl.col("county_code").is_null().sum().cast(pl.Int64),
    )
    overdue = (
        p.findings.filter(pl.col("review_state") == "overdue")
        .group_by("city_name")
        .agg(overdue=pl.len().cast(pl.Int64))
    )
    exp = p.experiences.group_by("city_name").agg(experiences=pl.len().cast(pl.Int64))
    out = by_verdict
    for extra in (probs, overdue, exp):
        out = out.join(extra, on="city_name", how="left")
    fill = ["problems", "confirmed", "systemic", "case", "city_level", "overdue", "experiences"]
    return out.with_columns(pl.col(fill).fill_null(0), pl.col("failed").replace("", None)).sort(
        "city_order"
    )


def city_table(rows: pl.DataFrame) -> pl.DataFrame:
    """:func:`city_rows` with Chinese headers; the failing counties named with their rates."""
    return rows.select(
        pl.col("city_name").alias("市"),
        pl.col("counties").alias("县数"),
        pl.col("fail").alias("未达标"),
        pl.col("not_found").alias("未发现超标"),
        pl.col("pass").alias("确认达标"),
        pl.col("failed").fill_null(_DASH).alias("未达标的县（指标）"),
        pl.col("problems").alias("列入报告的问题"),
        pl.col("confirmed").alias("已确认"),
        pl.col("systemic").alias("共性"),
        pl.col("case").alias("个性"),
        pl.col("city_level").alias("其中市本级"),
        pl.col("overdue").alias("逾期未复核"),
        pl.col("experiences").alias("典型经验"),
    )


def city_figure(rows: pl.DataFrame) -> go.Figure:
    """Two panels per city: counties by verdict, and reported problems by scope."""
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=("各市所辖县考核结论（个）", "各市列入报告的问题（个）"),
    )
    cities = rows["city_name"].to_list()
    for k in _VERDICT_ORDER:
        if rows[k].sum() == 0:
            continue
        fig.add_trace(
            go.Bar(
                y=cities,
                x=rows[k].to_list(),
                orientation="h",
                name=VERDICT_LABELS[k],
                marker_color=STATUS_COLORS[k],
                legendgroup="verdict",
                hovertemplate="%{y}：%{x}个县<extra>" + VERDICT_LABELS[k] + "</extra>",
            ),
            row=1,
            col=1,
        )
    for scope, colour in (("systemic", "#6a3d9a"), ("case", "#a6cee3")):
        fig.add_trace(
            go.Bar(
                y=cities,
                x=rows[scope].to_list(),
                orientation="h",
                name=SCOPE_LABELS[scope],
                marker_color=colour,
                legendgroup="scope",
                hovertemplate="%{y}：%{x}个<extra>" + SCOPE_LABELS[scope] + "</extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_layout(
        barmode="stack",
        height=140 + 28 * len(cities),
        margin={"l": 10, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.04, "yanchor": "top", "x": 0},
        yaxis={"autorange": "reversed"},
        plot_bgcolor="white",
        font={"family": "Noto Sans CJK SC, Microsoft YaHei, SimHei, sans-serif"},
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eee")
    return fig


# ------------------------------------------------------ 6 content items


def item_counts(findings: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Findings per content item of the plan (all items, plan order).

    Returns
    -------
    pl.DataFrame
        ``code, level`` (county, city, pairing), ``label``, ``raised`` (all
        findings of the item), ``in_report``, ``confirmed`` and ``awaiting``
        (in the report, confirmed by review or not yet), ``systemic`` and
        ``case`` (in the report, by scope), ``dismissed`` (review found it
        untrue) and ``merged`` (a system lead folded into a team problem).
        ``in_report`` sums to the findings in the report.
    """
    agg = findings.group_by("content_item").agg(
        raised=pl.len(),
        in_report=pl.col("in_report").sum(),
        confirmed=(pl.col("in_report") & pl.col("confirmed")).sum(),
        awaiting=(pl.col("in_report") & ~pl.col("confirmed")).sum(),
        systemic=(pl.col("in_report") & (pl.col("scope") == "systemic")).sum(),
        case=(pl.col("in_report") & (pl.col("scope") == "case")).sum(),
        dismissed=(pl.col("review_outcome") == "dismissed").sum(),
        merged=pl.col("covered_by").is_not_null().sum(),
    )
    items = _items(plan)
    base = pl.DataFrame(
        {
            "code": [it.code for _, it in items],
            "level": [lvl for lvl, _ in items],
            "label": [it.label for _, it in items],
        }
    )
    counts = ["raised", "in_report", "confirmed", "awaiting", "systemic", "case", "dismissed"]
    return base.join(
        agg.rename({"content_item": "code"}), on="code", how="left", maintain_order="left"
    ).with_columns(pl.col([*counts, "merged"]).fill_null(0).cast(pl.Int64))


def item_table(counts: pl.DataFrame) -> pl.DataFrame:
    """:func:`item_counts` with Chinese headers and a total row."""
    cols = ["in_report", "confirmed", "awaiting", "systemic", "case", "dismissed", "merged"]
    body = counts.select(
        _label(pl.col("level"), LEVEL_LABELS).alias("层级"),
        pl.format("{} {}", "code", "label").alias("考核内容"),
        *cols,
    )
    total = pl.DataFrame(
        {"层级": ["合计"], "考核内容": [""], **{c: [int(counts[c].sum())] for c in cols}}
    )
    return pl.concat([body, total.cast(body.schema)]).rename(
        {
            "in_report": "列入报告",
            "confirmed": "已确认",
            "awaiting": "待复核",
            "systemic": "共性问题",
            "case": "个性问题",
            "dismissed": "复核不属实（不列入）",
            "merged": "系统线索已并入考核组问题",
        }
    )


def item_figure(counts: pl.DataFrame) -> go.Figure:
    """Reported problems by content item, stacked by scope (items with problems only)."""
    shown = counts.filter(pl.col("in_report") > 0)
    names = shown.select(pl.format("{} {}", "code", "label"))["code"].to_list()
    fig = go.Figure()
    for scope, colour in (("systemic", "#6a3d9a"), ("case", "#a6cee3")):
        fig.add_trace(
            go.Bar(
                y=names,
                x=shown[scope].to_list(),
                orientation="h",
                name=SCOPE_LABELS[scope],
                marker_color=colour,
                hovertemplate="%{y}：%{x}个<extra>" + SCOPE_LABELS[scope] + "</extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        title="列入报告的问题：按考核内容",
        height=140 + 26 * max(shown.height, 1),
        margin={"l": 10, "r": 20, "t": 60, "b": 40},
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        plot_bgcolor="white",
        font={"family": "Noto Sans CJK SC, Microsoft YaHei, SimHei, sans-serif"},
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eee")
    return fig


def item_summary(counts: pl.DataFrame) -> str:
    """One paragraph: totals, 共性 vs 个性, the items with most problems (HTML)."""
    rep = int(counts["in_report"].sum())
    if rep == 0:
        return "<p>没有列入报告的问题。</p>"
    top = counts.filter(pl.col("in_report") > 0).sort(
        ["in_report", "code"], descending=[True, False]
    )
    tops = "、".join(
        f"{c} {lab}（{n}个）"
        for c, lab, n in top.select("code", "label", "in_report").head(3).iter_rows()
    )
    systemic = counts.filter(pl.col("systemic") > 0)["code"].to_list()
    return (
        f"<p>列入报告的问题共{rep}个，其中已确认{int(counts['confirmed'].sum())}个、"
        f"待复核{int(counts['awaiting'].sum())}个；共性问题{int(counts['systemic'].sum())}个，"
        f"个性问题{int(counts['case'].sum())}个。问题最多的考核内容是{_esc(tops)}。"
        f"属于共性问题的考核内容：{_esc('、'.join(systemic)) or '无'}。"
        f"经复核不属实、不列入报告的{int(counts['dismissed'].sum())}个。</p>"
    )


# ------------------------------------------------------- 7 cross-checks


def cross_check_table(p: Province) -> pl.DataFrame:
    """The province's cross-checks: what was compared, how much disagreed, what was flagged.

    Read from ``check_rates`` (county rows: the totals), ``check_helpers``
    (helpers flagged), ``check_villages`` (villages flagged) and
    ``check_projects`` (county, village and household projects; cooperation
    projects are in the pairing section).

    Returns
    -------
    pl.DataFrame
        ``核查事项, 核查数, 不一致, 不一致比例, 标记标准, 被标记, 涉及县数``.
    """
    c = p.check_rates.filter(pl.col("unit") == "county")
    cons = p.plan.consistency
    helpers = p.check_helpers.filter(pl.col("mismatch_flagged"))
    villages = p.check_villages.filter(pl.col("flagged"))
    proj = p.check_projects.filter(pl.col("level") != "paired")
    bad_proj = proj.filter(pl.col("any_discrepancy"))
    unaware = c.filter(~pl.col("awareness_ok"))
    s = {k: int(c[k].sum()) for k in c.columns if c[k].dtype == pl.Int64}
    rows = [
        (
            "帮扶责任人陈述与入户调查比对（项）",
            s["helper_claims_checked"],
            s["helper_mismatches"],
            f"本人陈述不一致比例超过{_pct(cons.helper_mismatch_max, 0)}",
            f"帮扶责任人{helpers['helper_id'].n_unique()}名（共{p.check_helpers.height}名）",
            helpers["county_code"].n_unique(),
        ),
        (
            "建档立卡户知晓帮扶责任人（户）",
            s["registered_asked"],
            s["registered_asked"] - s["knows_helper"],
            f"县知晓率低于{_pct(cons.helper_awareness_min, 0)}",
            f"{unaware.height}个县",
            unaware.height,
        ),
        (
            "村干部“全部达标”陈述与入户调查比对（户次）",
            s["village_claim_households"],
            s["village_claim_contradicting"],
            f"村内不一致户比例超过{_pct(cons.village_claim_mismatch_max, 0)}",
            f"{villages['village_code'].n_unique()}个村",
            villages["county_code"].n_unique(),
        ),
        (
            "扶贫项目实地核查（个）",
            proj.height,
            bad_proj.height,
            "进度、资金或受益户与台账不符",
            f"{bad_proj.height}个项目",
            bad_proj["county_code"].n_unique(),
        ),
    ]
    return pl.DataFrame(
        rows,
        schema=["核查事项", "核查数", "不一致", "标记标准", "被标记", "涉及县数"],
        orient="row",
    ).select(
        "核查事项",
        "核查数",
        "不一致",
        _pct_expr(pl.col("不一致") / pl.col("核查数")).alias("不一致比例"),
        "标记标准",
        "被标记",
        "涉及县数",
    )


def discrepancy_table(p: Province) -> pl.DataFrame:
    """Disagreements by kind and item, and in how many counties (cooperation projects aside)."""
    paired = p.check_projects.filter(pl.col("level") == "paired")["project_id"].implode()
    d = p.check_discrepancies.filter(~pl.col("subject").is_in(paired))
    order = {k: i for i, k in enumerate(KIND_LABELS)}
    return (
        d.group_by("kind", "item_label")
        .agg(n=pl.len(), counties=pl.col("county_code").n_unique())
        .with_columns(_o=pl.col("kind").replace_strict(order, default=9))
        .sort(  # complete: ties in count are ordered by kind and item (same inputs, same table)
            ["_o", "n", "kind", "item_label"],
            descending=[False, True, False, False],
            nulls_last=True,
        )
        .select(
            _label(pl.col("kind"), KIND_LABELS).alias("比对来源"),
            pl.col("item_label").alias("比对事项"),
            pl.col("n").alias("不一致处"),
            pl.col("counties").alias("涉及县数"),
        )
    )


def cross_check_summary(p: Province) -> str:
    """One paragraph on the cross-checks (HTML)."""
    t = cross_check_table(p)
    helper, aware, village, project = t.iter_rows(named=True)
    cons = p.plan.consistency
    flagged = p.check_helpers.filter(pl.col("mismatch_flagged"))
    return (
        f"<p>帮扶责任人对所帮扶户情况的陈述，{helper['核查数']}项中有{helper['不一致']}项"
        f"与入户调查不符（{helper['不一致比例']}）；{p.check_helpers.height}名帮扶责任人中，"
        f"{flagged.height}名本人陈述不一致比例超过{_pct(cons.helper_mismatch_max, 0)}，"
        f"涉及{helper['涉及县数']}个县。建档立卡户中有{aware['不一致']}户不知道自己的帮扶责任人"
        f"（{aware['不一致比例']}），{aware['涉及县数']}个县知晓率低于"
        f"{_pct(cons.helper_awareness_min, 0)}。村干部称“全部达标”的事项，"
        f"{village['核查数']}户次中有{village['不一致']}户次不符，{village['被标记']}不符比例超过"
        f"{_pct(cons.village_claim_mismatch_max, 0)}。抽查项目{project['核查数']}个，"
        f"{project['不一致']}个进度、资金或受益户与台账不符，涉及{project['涉及县数']}个县。</p>"
    )


# ---------------------------------------------------------- 8 pairing


def pairing_rows(p: Province) -> pl.DataFrame:
    """The helped counties (national poverty counties with a helper county), one row each.

    Returns
    -------
    pl.DataFrame
        ``市, 县（市、区）, 结对帮扶县, 合作项目抽查, 项目不一致``, one column per
        project flag with any hit, ``结对帮扶问题（列入报告）, 其中已确认,
        涉及内容``.
    """
    pairing = [it.code for it in p.plan.content.pairing]
    labels = {it.code: it.label for it in p.plan.content.pairing}
    helped = p.counties.filter(
        pl.col("national_poverty_county") & pl.col("paired_helper_county").is_not_null()
    ).select("city_order", "city_name", "county_code", "county_name", "paired_helper_county")
    flags = [f for f in PROJECT_FLAGS if f in p.check_projects.columns]
    proj = (
        p.check_projects.filter(pl.col("level") == "paired")
        .group_by("county_code")
        .agg(
            projects=pl.len().cast(pl.Int64),
            discrepant=pl.col("any_discrepancy").sum().cast(pl.Int64),
            **{f: pl.col(f).sum().cast(pl.Int64) for f in flags},
        )
    )
    probs = (
        _reported(p.findings)
        .filter(pl.col("content_item").is_in(pairing))
        .group_by("county_code")
        .agg(
            problems=pl.len().cast(pl.Int64),
            confirmed=pl.col("confirmed").sum().cast(pl.Int64),
            items=pl.col("content_item").unique().sort(),
        )
    )
    out = (
        helped.join(proj, on="county_code", how="left", maintain_order="left")
        .join(probs, on="county_code", how="left", maintain_order="left")
        .with_columns(
            pl.col("projects", "discrepant", "problems", "confirmed", *flags).fill_null(0)
        )
    )
    used = [f for f in flags if out[f].sum() > 0]
    return out.select(
        pl.col("city_name").alias("市"),
        pl.col("county_name").alias("县（市、区）"),
        pl.col("paired_helper_county").alias("结对帮扶县"),
        pl.col("projects").alias("合作项目抽查"),
        pl.col("discrepant").alias("项目不一致"),
        *[pl.col(f).alias(PROJECT_FLAGS[f]) for f in used],
        pl.col("problems").alias("结对帮扶问题（列入报告）"),
        pl.col("confirmed").alias("其中已确认"),
        pl.col("items")
        .list.eval(pl.element().replace_strict(labels, default=pl.element()))
        .list.join("、")
        .fill_null("")
        .alias("涉及内容"),
    )


def pairing_summary(p: Province) -> str:
    """One paragraph on county pairing (HTML)."""
    rows = pairing_rows(p)
    n = rows.height
    if n == 0:
        return "<p>本次运行没有接受县域结对帮扶的县。</p>"
    with_problems = rows.filter(pl.col("结对帮扶问题（列入报告）") > 0).height
    return (
        f"<p>{n}个接受县域结对帮扶的国家级贫困县（计划{p.plan.scope.paired_helped_counties}个）"
        f"共抽查结对合作项目{int(rows['合作项目抽查'].sum())}个，"
        f"其中{int(rows['项目不一致'].sum())}个进度、资金或受益户与台账不符；"
        f"{with_problems}个县发现结对帮扶问题，列入报告{int(rows['结对帮扶问题（列入报告）'].sum())}个"
        f"（已确认{int(rows['其中已确认'].sum())}个）。</p>"
    )


# ------------------------------------------------------- 9 experiences


def experience_selection(p: Province, per_city: int = 2) -> pl.DataFrame:
    """Up to ``per_city`` typical experiences per city, the city's own and its counties' in turn.

    The city's first experience, its counties' first, the city's second and
    so on, each by experience id — a reproducible selection for the
    leadership; every experience is in the city and county reports.
    """
    names = p.counties.select("county_code", "county_name")
    order = p.counties.group_by("city_name").agg(pl.col("city_order").first())
    return (
        p.experiences.join(names, on="county_code", how="left")
        .join(order, on="city_name", how="left")
        .with_columns(_own=pl.col("county_code").is_not_null())
        .sort("city_order", "_own", "experience_id")
        .with_columns(_rank=pl.int_range(pl.len()).over("city_name", "_own"))
        .sort("city_order", "_rank", "_own")
        .filter(pl.int_range(pl.len()).over("city_name") < per_city)
        .select(
            pl.col("city_name").alias("市"),
            pl.col("county_name").fill_null("市本级").alias("县（市、区）"),
            pl.col("title").alias("经验"),
            pl.col("description").fill_null("").alias("主要做法"),
        )
    )


# ---------------------------------------------- 10 what the sample can tell


@dataclass(frozen=True)
class Limit:
    """What the plan's sample of one county can tell about one rate when nothing is found.

    ``households`` is the plan's households for the rate's denominator in
    ``villages`` villages; ``bound`` the end of the interval when none is
    wrong (the upper end for wrong exit and omission, the lower end for
    approval when all approve); ``one_found`` the ratio when one household of
    average size is wrong (for approval: when one disapproves).
    """

    rate: str
    label: str
    threshold: float
    upper_is_bad: bool
    households: int
    villages: int
    bound: float
    one_found: float


@dataclass(frozen=True)
class DetectionLimits:
    """The plan's sample against its thresholds (see :func:`detection_limits`)."""

    confidence: float
    limits: tuple[Limit, ...]
    srs_households_to_prove: int
    design_households_to_prove: int | None
    miss_at_threshold: float
    detect80_rate: float

    def limit(self, rate: str) -> Limit:
        """The limit of one rate."""
        for lim in self.limits:
            if lim.rate == rate:
                return lim
        raise KeyError(rate)


def _zero_found_bounds(sizes: list[int], villages: int, positive: bool) -> list[float]:
    """The Korn-Graubard interval of 0 (or all) of ``n`` households in ``villages`` villages."""
    keys, psus, ys = [], [], []
    for n in sizes:
        keys += [f"n{n:06d}"] * n
        psus += [str(i % villages) for i in range(n)]
        ys += [1.0 if positive else 0.0] * n
    df = pl.DataFrame({"d": keys, "v": psus, "w": 1.0, "y": ys, "x": 1.0})
    ci = ratio_intervals(df, numerator="y", denominator="x", weight="w", domain="d", psu="v")
    ci = ci.sort("d")
    return (ci["low"] if positive else ci["high"]).to_list()


def detection_limits(plan: Plan, max_households: int = 2000) -> DetectionLimits:
    """What the plan's per-county sample can show, for each judged rate.

    The households of a rate's denominator per county are the plan's quotas
    (wrong exit: the exited statuses; omission: the general households;
    approval: all quota and general households) times its villages, without
    the full-coverage and villager-group households a county may add. The
    interval is the one the results use
    (:func:`xkaohe.estimate.ratio_intervals`, Korn-Graubard with the
    degrees of freedom of the villages) at an observed rate of 0 (approval:
    1). Two binomial approximations (simple random sampling, no clustering)
    complete the picture: the households needed to prove a rate below the
    threshold when none is found (Clopper-Pearson), the chance of finding
    none when the true rate equals the threshold, and the true rate found
    at least once with 80% probability.

    Parameters
    ----------
    plan
        The plan (quotas, villages, thresholds, confidence).
    max_households
        The largest sample searched for the households needed.

    Returns
    -------
    DetectionLimits
    """
    hh = plan.sampling.households
    villages = sum(q.count for q in plan.sampling.villages.quotas)
    per_village = {
        "wrong_exit_rate": sum(q.count for q in hh.quotas if q.status in EXITED),
        "omission_rate": hh.general_per_village,
        "approval_rate": sum(q.count for q in hh.quotas) + hh.general_per_village,
    }
    limits = []
    for name, label, bound in judged_rates(plan):
        n = villages * per_village.get(name, 0)
        if n == 0:
            continue
        upper_is_bad = bound.max is not None
        value = _zero_found_bounds([n], villages, positive=not upper_is_bad)[0]
        limits.append(
            Limit(
                rate=name,
                label=label,
                threshold=_limit(bound),
                upper_is_bad=upper_is_bad,
                households=n,
                villages=villages,
                bound=float(value),
                one_found=1.0 / n if upper_is_bad else 1.0 - 1.0 / n,
            )
        )
    strict = [lim for lim in limits if lim.upper_is_bad]
    threshold = min((lim.threshold for lim in strict), default=0.02)
    exited = next((lim.households for lim in strict), villages)
    conf = plan.indicators.confidence
    sizes = np.arange(1, max_households + 1)
    _, high = clopper_pearson(np.zeros_like(sizes), sizes, conf)
    srs = int(sizes[high < threshold][0]) if (high < threshold).any() else max_households
    grid = list(range(villages * 8, max_households + 1, villages * 8))
    design_high = _zero_found_bounds(grid, villages, positive=False)
    design = next((g for g, h in zip(grid, design_high, strict=True) if h < threshold), None)
    return DetectionLimits(
        confidence=conf,
        limits=tuple(limits),
        srs_households_to_prove=srs,
        design_households_to_prove=design,
        miss_at_threshold=float((1.0 - threshold) ** exited),
        detect80_rate=float(1.0 - 0.2 ** (1.0 / exited)),
    )


def detection_table(limits: DetectionLimits) -> pl.DataFrame:
    """:class:`DetectionLimits` per rate with Chinese headers."""
    conf = _conf(limits.confidence)
    rows = []
    for lim in limits.limits:
        if lim.upper_is_bad:
            zero = f"0—{_pct(lim.bound)}"
            one = f"约{_pct(lim.one_found)}，超过{_pct(lim.threshold, 0)}，即判未达标"
            can = "能发现未达标，不能确认达标"
        else:
            zero = f"{_pct(lim.bound)}—100%"
            one = f"约{_pct(lim.one_found)}"
            can = (
                "全部认可也不能确认达标" if lim.bound < lim.threshold else "全部认可时可以确认达标"
            )
        rows.append(
            {
                "指标": lim.label,
                "标准": ("≤" if lim.upper_is_bad else "≥") + _pct(lim.threshold, 0),
                "每县计划样本": f"{lim.villages}个村{lim.households}户",
                f"一户不达标也未发现时的{conf}区间": zero if lim.upper_is_bad else _DASH,
                f"全部认可时的{conf}区间": _DASH if lim.upper_is_bad else zero,
                "发现1户不达标（不认可）时的抽样比率": one,
                "结论": can,
            }
        )
    return pl.DataFrame(rows)


def widest_intervals(p: Province, top: int = 10) -> pl.DataFrame:
    """The ``top`` widest intervals among all counties and judged rates."""
    parts = [
        forest_rows(p, name).with_columns(pl.lit(label).alias("rate_label"))
        for name, label, _ in judged_rates(p.plan)
    ]
    rows = pl.concat(parts).filter(pl.col("low").is_not_null() & pl.col("high").is_not_null())
    return (
        rows.with_columns(width=pl.col("high") - pl.col("low"))
        .sort(["width", "county_code"], descending=[True, False])
        .head(top)
        .select(
            pl.col("city_name").alias("市"),
            pl.col("county_name").alias("县（市、区）"),
            pl.col("rate_label").alias("指标"),
            _pct_expr(pl.col("ratio")).alias("抽样比率"),
            pl.format("{}—{}", _pct_expr(pl.col("low")), _pct_expr(pl.col("high"))).alias(
                f"{_conf(p.plan.indicators.confidence)}置信区间"
            ),
            _pct_expr(pl.col("width")).alias("区间宽度"),
            pl.col("n").alias("分母"),
        )
    )


def limits_text(limits: DetectionLimits, p: Province) -> str:
    """What the sample can and cannot tell, in plain words for the leadership (HTML)."""
    strict = [lim for lim in limits.limits if lim.upper_is_bad]
    if not strict:
        return ""
    we = strict[0]
    observed = forest_rows(p, we.rate).filter(pl.col("ratio") == 0)
    median_high = observed["high"].median()
    med = (
        f"本次{observed.height}个错退率为0的县，区间上限的中位数是"
        f"{_pct(float(median_high))}（实际调查户多于计划，略窄）。"  # type: ignore[arg-type]
        if observed.height
        else ""
    )
    design = (
        f"在{we.villages}个村内则要{limits.design_households_to_prove}户以上"
        if limits.design_households_to_prove
        else f"只在{we.villages}个村内调查，户数再多也难以做到"
    )
    approval = next((lim for lim in limits.limits if not lim.upper_is_bad), None)
    approval_line = (
        f"<li><b>群众认可度同理：</b>按计划每县{approval.households}户，即使全部认可，"
        f"区间下限也只有约{_pct(approval.bound)}，"
        + ("达不到" if approval.bound < approval.threshold else "达到")
        + f"{_pct(approval.threshold, 0)}。</li>"
        if approval
        else ""
    )
    return key_box(
        "<b>抽样调查能说明什么、不能说明什么</b><ul style='margin:6px 0'>"
        f"<li><b>能发现问题：</b>按方案，每县在{we.villages}个村调查约{we.households}户已脱贫户。"
        f"只要发现1户错退，抽样错退率就约为{_pct(we.one_found)}，超过"
        f"{_pct(we.threshold, 0)}的标准——所以抽查<b>能够证明一个县未达标</b>。</li>"
        f"<li><b>不能证明达标：</b>反过来，即使{we.households}户中1户错退也没有发现，"
        f"{_conf(limits.confidence)}置信区间的上限仍约为<b>{_pct(we.bound)}</b>，"
        f"远高于{_pct(we.threshold, 0)}。{med}"
        f"也就是说，本次样本<b>不能证明任何一个县的错退率低于{_pct(we.threshold, 0)}</b>；"
        "报告中大多数县显示“未发现超标”，是样本量的限制，不是发现了问题。</li>"
        f"<li><b>漏掉问题的可能：</b>如果某县真实错退率恰好是{_pct(we.threshold, 0)}，"
        f"抽查{we.households}户一户也碰不到的概率约为{_pct(limits.miss_at_threshold, 0)}；"
        f"真实错退率要达到约{_pct(limits.detect80_rate)}，抽查才有八成把握至少发现1户"
        "（按简单随机抽样近似，实际按村整群抽样，把握更小）。</li>"
        f"<li><b>要证明达标需要多大样本：</b>即使零发现，按简单随机抽样也要调查约"
        f"{limits.srs_households_to_prove}户已脱贫户，{design}。</li>"
        + approval_line
        + "</ul><b>建议：</b>把本次“未达标”的县作为确定的问题，督促立即整改；"
        "对“未发现超标”的拟摘帽县，不以本次考核作为达标依据，在退出专项评估中以足够样本核实。"
    )


# ------------------------------------------------------------ 11 deadlines


@dataclass(frozen=True)
class Deadlines:
    """The two report deadlines of plan 六 against the results' date and review states."""

    as_of: dt.date
    team_reports_by: dt.date
    provincial_report_by: dt.date
    team_overdue: int
    system_overdue: int
    late_reviews: int
    incomplete_reports: int
    reports: int


def deadlines(p: Province) -> Deadlines:
    """Review states and report completeness on the manifest's ``as_of`` date."""
    f = p.findings
    overdue = f.filter(pl.col("review_state") == "overdue")
    return Deadlines(
        as_of=p.as_of,
        team_reports_by=p.plan.timeline.team_reports_by,
        provincial_report_by=p.plan.timeline.provincial_report_by,
        team_overdue=overdue.filter(pl.col("source") == "team").height,
        system_overdue=f.filter(
            (pl.col("source") != "team")
            & (pl.col("review_state") == "proposed")
            & pl.col("in_report")
        ).height,
        late_reviews=f.filter(pl.col("review_state") == "late").height,
        incomplete_reports=p.completeness.filter(~pl.col("ok")).height,
        reports=p.completeness.height,
    )


def deadline_table(d: Deadlines) -> pl.DataFrame:
    """Each deadline: its date, the results' date, and whether it is met (Chinese)."""

    def judge(due: dt.date, blockers: int, what: str) -> str:
        if d.as_of > due:
            return f"已逾期{(d.as_of - due).days}天"
        if blockers:
            return f"结果按期汇总，但{what}，报告尚不完整"
        return "按期完成"

    team_blockers = []
    if d.team_overdue:
        team_blockers.append(f"考核组问题逾期未复核{d.team_overdue}个")
    if d.system_overdue:
        team_blockers.append(f"系统提示问题未经考核组复核{d.system_overdue}个")
    if d.incomplete_reports:
        team_blockers.append(f"{d.incomplete_reports}份市、县报告要素不全")
    days_left = (d.provincial_report_by - d.as_of).days
    open_reviews = d.team_overdue + d.system_overdue
    if days_left < 0:
        provincial = f"已逾期{-days_left}天"
    elif open_reviews:
        provincial = f"未到截止日（还有{days_left}天）；定稿前须完成{open_reviews}个问题的复核"
    else:
        provincial = f"未到截止日（还有{days_left}天），问题复核已完成，可以定稿"
    return pl.DataFrame(
        {
            "事项": ["考核组报告（市、县、结对帮扶报告）", "全省交叉考核总报告"],
            "截止日期": [_date(d.team_reports_by), _date(d.provincial_report_by)],
            "结果库日期": [_date(d.as_of)] * 2,
            "判断": [
                judge(d.team_reports_by, len(team_blockers), "；".join(team_blockers)),
                provincial,
            ],
        }
    )


def overdue_table(p: Province) -> pl.DataFrame:
    """Overdue reviews per assessed city: the teams' own (and which teams) and system leads."""
    o = p.findings.filter(pl.col("review_state") == "overdue")
    team = pl.col("source") == "team"
    return (
        o.group_by("city_name")
        .agg(
            team=team.sum().cast(pl.Int64),
            teams=pl.col("team_id").filter(team).drop_nulls().unique().sort().str.join("、"),
            system=(~team).sum().cast(pl.Int64),
            due=pl.col("review_due").min(),
        )
        .join(p.counties.group_by("city_name").agg(pl.col("city_order").first()), on="city_name")
        .sort("city_order")
        .select(
            pl.col("city_name").alias("被考核市"),
            pl.col("team").alias("考核组问题逾期未复核"),
            pl.col("teams").replace("", _DASH).alias("涉及考核组"),
            pl.col("system").alias("系统提示待复核"),
            pl.col("due").cast(pl.String).alias("最早应复核日"),
        )
    )


def deadline_note(d: Deadlines) -> str:
    """One paragraph on the deadlines (HTML)."""
    return (
        f"<p>方案六规定：考核组报告于{_date(d.team_reports_by)}前报送，全省总报告于"
        f"{_date(d.provincial_report_by)}前完成；问题须在提出后次日复核。按结果库"
        f"{_date(d.as_of)}的状态：考核组提出的问题逾期未复核{d.team_overdue}个，"
        f"复核晚于规定{d.late_reviews}个；系统依据指标和比对核查提示的问题"
        f"{d.system_overdue}个尚未经考核组复核（未复核前只作线索，不作结论）；"
        f"{d.reports}份市、县报告中{d.incomplete_reports}份要素不全。</p>"
    )


# ----------------------------------------------------------- 12 rejects


def reject_counts(p: Province) -> pl.DataFrame:
    """Rejected field rows by table and file: rows, distinct problems, counties."""
    r = p.rejects
    return (
        r.group_by("table", "file")
        .agg(
            rows=pl.col("row").n_unique(),
            problems=pl.len(),
            counties=pl.col("county_code").drop_nulls().n_unique(),
        )
        .sort("table", "file")
        .select(
            pl.col("table").alias("数据表"),
            pl.col("file").alias("文件"),
            pl.col("rows").alias("退回行数"),
            pl.col("problems").alias("问题数"),
            pl.col("counties").alias("涉及县数"),
        )
    )


def rejects_html(p: Province) -> str:
    """:func:`reject_counts` as a table, or a sentence when nothing was rejected (HTML)."""
    return table_or_note(
        reject_counts(p),
        empty="考核组上报的入户调查、访谈、项目核查、问题和经验数据全部通过校验，没有被退回的记录。",
    )


# --------------------------------------------------------------- key points


def key_points(p: Province) -> str:
    """The few lines the leadership group reads first (HTML)."""
    verdicts = county_verdicts(p)
    villages = sum(q.count for q in p.plan.sampling.villages.quotas)
    fails = verdicts.filter(pl.col("verdict") == "fail")
    exit_ = verdicts.filter(pl.col("category") == "exit_2019")
    rep = _reported(p.findings)
    d = deadlines(p)
    failed = [
        f"{_esc(c)}{_esc(k)}" for c, k in fails.select("city_name", "county_name").iter_rows()
    ]
    lines = [
        f"{verdicts.height}个县中，{verdict_counts_text(verdicts['verdict'], {'fail': failed})}。",
        f"{exit_.height}个拟摘帽县中，{verdict_counts_text(exit_['verdict'])}（见第三部分）。",
        f"列入报告的问题{rep.height}个，已确认{int(rep['confirmed'].sum())}个，"
        f"其中共性问题{rep.filter(pl.col('scope') == 'systemic').height}个（见第六部分）。",
        f"每县只调查{villages}个村、几十户，能发现未达标的县，但不能证明一个县达标（见第十部分）。",
        f"截至{_date(d.as_of)}，尚有{d.team_overdue + d.system_overdue}个问题未复核、"
        f"{d.incomplete_reports}份市、县报告要素不全（见第十一部分）。",
    ]
    return key_box(
        "<b>要点</b><ul style='margin:6px 0'>" + "".join(f"<li>{x}</li>" for x in lines) + "</ul>"
    )


__all__ = [
    "DetectionLimits",
    "Limit",
    "Province",
    "category_focus",
    "category_items",
    "category_rows",
    "category_table",
    "city_figure",
    "city_rows",
    "city_table",
    "county_verdicts",
    "cross_check_summary",
    "cross_check_table",
    "deadline_note",
    "deadline_table",
    "deadlines",
    "detection_limits",
    "detection_table",
    "discrepancy_table",
    "exit_rows",
    "exit_sentences",
    "exit_table",
    "experience_selection",
    "forest_figure",
    "forest_rows",
    "item_counts",
    "item_figure",
    "item_summary",
    "item_table",
    "judged_rates",
    "key_box",
    "key_points",
    "limits_text",
    "load_province",
    "overdue_table",
    "overview_html",
    "pairing_rows",
    "pairing_summary",
    "rate_figure",
    "reject_counts",
    "rejects_html",
    "rows_positive",
    "rows_to_watch",
    "rows_where",
    "sample_achieved",
    "sample_note",
    "show",
    "status_counts",
    "table_or_note",
    "verdict_counts_text",
    "widest_intervals",
    "with_city_order",
]
