"""Interactive exploration of a run's results, and the field week's progress.

DESIGN.md ("Who uses it"): the provincial analyst explores findings in
JupyterLab and drills from province to city to county to household. The
results store is read once (:func:`load_run`) and kept in memory as polars
frames; every table and chart the explorer shows is shaped by a pure function
of those frames, tested without a browser. :class:`Explorer` only wires
ipywidgets to them, and updates its plotly ``FigureWidget`` in place.

Personal data never reaches a widget: :func:`load_run` masks the household
head's name, phone and ID number (:func:`mask_people`) as it reads them.

The ``progress_*`` section serves ``notebooks/field_progress.ipynb`` during the
field week (plan 六: field work 24–29 November, team reports by 1 December):
households visited against the sample, reviews due and overdue (plan 五(六):
problems are reviewed the next day), and counties at risk of missing the
report deadline.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl

from xkaohe.analyse.findings import REVIEW_STATE_LABELS
from xkaohe.analyse.indicators import CLASS_LABELS, ITEMS, RATES, STATUS_LABELS
from xkaohe.errors import InputError, Problem
from xkaohe.io.results import read_manifest, read_result, run_plan
from xkaohe.io.run import is_synthetic
from xkaohe.io.sample_package import read_package, zh
from xkaohe.plan import Plan
from xkaohe.report.kit import PERSONAL_COLUMNS, mask_people, synthetic_banner, table_html
from xkaohe.report.views import FLAG_LABELS, KIND_LABELS, SCOPE_LABELS, SOURCE_LABELS
from xkaohe.results_spec import Result
from xkaohe.schemas import APPROVAL as APPROVAL_ZH
from xkaohe.schemas import HOUSEHOLD_SURVEY
from xkaohe.schemas import PROBLEM_LEVEL as LEVEL_ZH
from xkaohe.schemas import PROJECT_STATUS as PROJECT_STATUS_ZH
from xkaohe.schemas import REVIEW_OUTCOME as OUTCOME_ZH

ALL = ""
"""The value of an option that means "no filter" (全部)."""

STATUS_COLORS = {"pass": "#2ca02c", "not_found": "#1f77b4", "fail": "#d62728"}
NO_DATA_COLOR = "#9e9e9e"
CLAIM_STATUS_ZH = {
    "agrees": "一致",
    "contradicts": "不一致",
    "not_surveyed": "该户未调查",
    "unreadable": "无法识别",
    "no_answer": "该户未回答",
    "other_item": "其他项目",
}
GENERAL_HOUSEHOLD = "一般农户"

_SURVEY_LABELS = {c.name: c.alias or c.name for c in HOUSEHOLD_SURVEY.columns}


def _labels(codes: dict[str, str]) -> list[tuple[str, str]]:
    return [("全部", ALL), *((label, code) for code, label in codes.items())]


def _text(value: pl.Expr, labels: dict[str, str]) -> pl.Expr:
    """Codes to Chinese labels; unknown codes pass through, null becomes empty."""
    return value.replace(labels).fill_null("")


def percent(x: float | None, digits: int = 2) -> str:
    """A share as a percentage for a report, ``None`` as an em dash."""
    if x is None:
        return "—"
    return f"{x * 100:.{digits}f}".rstrip("0").rstrip(".") + "%"


# ------------------------------------------------------------------ loading


@dataclass(frozen=True)
class RunData:
    """A run's results store in memory, personal data already masked.

    ``households`` is the results' household table (registered and general
    households) with the sample's masked ``head_name`` and ``phone`` and the
    village's name; ``sample_households`` the registered households drawn for
    visiting (no personal columns).
    """

    run: Path
    plan: Plan
    as_of: dt.date
    synthetic: bool
    counties: pl.DataFrame
    villages: pl.DataFrame
    households: pl.DataFrame
    indicators: pl.DataFrame
    findings: pl.DataFrame
    discrepancies: pl.DataFrame
    claims: pl.DataFrame
    projects: pl.DataFrame
    completeness: pl.DataFrame
    rejects: pl.DataFrame
    sample_households: pl.DataFrame
    general_quota: pl.DataFrame

    def county_name(self, county_code: str) -> str:
        row = self.counties.filter(pl.col("county_code") == county_code)
        return str(row["county_name"][0]) if row.height else county_code


def load_run(run: Path) -> RunData:
    """Read a run's results store and sample package once (through :mod:`xkaohe.io`).

    Parameters
    ----------
    run
        The run folder (``results/`` written by ``xkaohe indicators`` and
        ``sample/`` by ``xkaohe sample``).
    """
    manifest = read_manifest(run)
    plan = run_plan(run)
    sample = read_package(run / "sample")
    villages = sample["villages"].select(
        "county_code", "village_code", "village_name", "township_name"
    )
    people = mask_people(
        sample["households"].select(
            "household_id",
            *(c for c in PERSONAL_COLUMNS if c in sample["households"].columns),
        )
    )
    households = (
        read_result(run, Result.HOUSEHOLDS)
        .join(people, on="household_id", how="left")
        .join(villages.drop("county_code"), on="village_code", how="left")
    )
    return RunData(
        run=run,
        plan=plan,
        as_of=dt.date.fromisoformat(str(manifest["as_of"])),
        synthetic=is_synthetic(run),
        counties=read_result(run, Result.COUNTIES),
        villages=villages,
        households=households,
        indicators=read_result(run, Result.COUNTY_INDICATORS),
        findings=read_result(run, Result.FINDINGS),
        discrepancies=read_result(run, Result.CHECK_DISCREPANCIES),
        claims=read_result(run, Result.CHECK_CLAIMS),
        projects=read_result(run, Result.CHECK_PROJECTS),
        completeness=read_result(run, Result.COMPLETENESS),
        rejects=read_result(run, Result.REJECTS),
        sample_households=sample["households"].select(
            "county_code", "village_code", "household_id", "status", "selected_as"
        ),
        general_quota=sample["general_quota"],
    )


# ------------------------------------------------------------------ options


def city_options(counties: pl.DataFrame) -> list[str]:
    """The cities, in the order of their first county code (the province's order)."""
    first = counties.group_by("city_name").agg(pl.col("county_code").min()).sort("county_code")
    return first["city_name"].to_list()


def county_options(counties: pl.DataFrame, city: str) -> list[tuple[str, str]]:
    """The counties of ``city`` as ``(label, county_code)``, by code."""
    mine = counties.filter(pl.col("city_name") == city).sort("county_code")
    return [
        (f"{name}（{code}）", code)
        for code, name in mine.select("county_code", "county_name").iter_rows()
    ]


def village_options(villages: pl.DataFrame, county_code: str) -> list[tuple[str, str]]:
    """The county's sampled villages as ``(label, village_code)``, after "all villages"."""
    mine = villages.filter(pl.col("county_code") == county_code).sort("village_code")
    return [("全部抽样村", ALL)] + [
        (f"{town} {name}", code)
        for code, name, town in mine.select(
            "village_code", "village_name", "township_name"
        ).iter_rows()
    ]


def household_options(
    households: pl.DataFrame, county_code: str, village_code: str = ALL
) -> list[tuple[str, str]]:
    """Surveyed households of the county (or one village) as ``(label, household_id)``.

    The label carries the masked head's name and the household type, never
    the full name.
    """
    mine = _households_in(households, county_code, village_code)
    labels = mine.select(
        "household_id",
        pl.format(
            "{} {} {}",
            "household_id",
            pl.col("head_name").fill_null(""),
            _household_type(),
        ).alias("label"),
    )
    return [("（选择一户查看详情）", ALL)] + [(label, hid) for hid, label in labels.iter_rows()]


def _households_in(households: pl.DataFrame, county_code: str, village_code: str) -> pl.DataFrame:
    mine = households.filter(pl.col("county_code") == county_code)
    if village_code:
        mine = mine.filter(pl.col("village_code") == village_code)
    return mine.sort("village_code", "household_id")


def _household_type() -> pl.Expr:
    return (
        pl.when(pl.col("registered"))
        .then(zh(pl.col("frame_status")))
        .otherwise(pl.lit(GENERAL_HOUSEHOLD))
    )


# -------------------------------------------------------------------- rates


def rates_for(indicators: pl.DataFrame, county_code: str, plan: Plan) -> pl.DataFrame:
    """The county's four rates, one row each, with interval, threshold and status.

    Columns: ``rate, label, value`` (the official ratio), ``est, low, high``
    (design-weighted estimate and its 95% interval), ``n`` (denominator),
    ``status`` (pass | not_found | fail | null), ``threshold`` and ``side``
    (``max``: the rate must not exceed it; ``min``: must reach it; null: no
    threshold). A county without indicators has nulls, never zeros.
    """
    row = indicators.filter(pl.col("county_code") == county_code)
    values: dict[str, Any] = row.row(0, named=True) if row.height else {}
    rows = []
    for rate in RATES:
        r = rate.name
        bound = plan.threshold(r)
        side = None if bound is None else bound.side
        rows.append(
            {
                "rate": r,
                "label": rate.label,
                "value": values.get(r),
                "est": values.get(f"{r}_est"),
                "low": values.get(f"{r}_low"),
                "high": values.get(f"{r}_high"),
                "n": values.get(f"{r}_n"),
                "status": values.get(f"{r}_status"),
                "threshold": None if bound is None else (bound.max if side == "max" else bound.min),
                "side": side,
                "unit": "人" if rate.persons else "户",
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "rate": pl.String,
            "label": pl.String,
            "value": pl.Float64,
            "est": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
            "n": pl.Int64,
            "status": pl.String,
            "threshold": pl.Float64,
            "side": pl.String,
            "unit": pl.String,
        },
        orient="row",
    )


def rates_table(rates: pl.DataFrame) -> pl.DataFrame:
    """:func:`rates_for` as a Chinese table."""
    rows = []
    for r in rates.iter_rows(named=True):
        standard = "—"
        if r["side"] == "max":
            standard = f"不高于{percent(r['threshold'])}"
        elif r["side"] == "min":
            standard = f"不低于{percent(r['threshold'])}"
        rows.append(
            (
                r["label"],
                percent(r["value"]),
                "—" if r["n"] is None else f"{r['n']}{r['unit']}",
                percent(r["est"]),
                "—" if r["low"] is None else f"{percent(r['low'])}—{percent(r['high'])}",
                standard,
                STATUS_LABELS.get(r["status"] or "", "—" if r["value"] is None else ""),
            )
        )
    return pl.DataFrame(
        rows,
        schema=["指标", "抽样比率", "样本量", "加权估计", "95%置信区间", "标准", "结论"],
        orient="row",
    )


def _axis_range(r: dict[str, Any]) -> list[float]:
    seen = [v for v in (r["value"], r["low"], r["high"], r["threshold"]) if v is not None]
    if r["side"] == "min":
        bottom = min([*seen, 1.0]) - 0.05
        return [max(0.0, bottom), 1.02]
    top = min(1.0, max([*seen, 0.05, (r["threshold"] or 0.0) * 1.5]) * 1.15)
    return [-0.04 * top, top]  # a little below zero, so a 0% marker shows whole


def rates_figure(
    plan: Plan, rates: pl.DataFrame | None = None, title: str = "三率与错评率"
) -> go.FigureWidget:
    """The rates chart: one panel per rate, the plan's thresholds drawn once.

    Each panel has two traces: the official ratio, and the design-weighted
    estimate with its 95% interval, filled from ``rates`` (:func:`rates_for`)
    before the widget is made, so its first state already shows them; later
    counties go in with :func:`update_rates_figure`.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1, cols=len(RATES), subplot_titles=[r.label for r in RATES], horizontal_spacing=0.08
    )
    for i, rate in enumerate(RATES, start=1):
        fig.add_trace(
            go.Scatter(
                x=["抽样比率"],
                y=[None],
                mode="markers+text",
                name="抽样比率（官方口径）",
                legendgroup="ratio",
                showlegend=i == 1,
                marker={"size": 14, "symbol": "diamond", "color": NO_DATA_COLOR},
                text=[""],
                textposition="middle right",
                hovertemplate="%{y:.2%}<extra>抽样比率</extra>",
            ),
            row=1,
            col=i,
        )
        fig.add_trace(
            go.Scatter(
                x=["加权估计"],
                y=[None],
                mode="markers",
                name="设计加权估计及95%置信区间",
                legendgroup="est",
                showlegend=i == 1,
                marker={"size": 10, "color": NO_DATA_COLOR},
                error_y={"type": "data", "array": [0.0], "arrayminus": [0.0], "visible": True},
                hovertemplate="%{y:.2%}<extra>加权估计</extra>",
            ),
            row=1,
            col=i,
        )
        bound = plan.threshold(rate.name)
        if bound is not None:
            line = bound.value
            fig.add_hline(
                y=line,
                line_dash="dash",
                line_color="#555555",
                annotation_text=f"标准 {percent(line)}",
                annotation_position="top left",
                row=1,
                col=i,
            )
    fig.update_yaxes(tickformat=".1%")
    fig.update_layout(
        height=400,
        template="plotly_white",
        title={"text": "三率与错评率", "x": 0.01},
        margin={"l": 50, "r": 20, "t": 80, "b": 40},
        legend={"orientation": "h", "y": -0.12},
    )
    if rates is not None:
        update_rates_figure(fig, rates, title)
    return go.FigureWidget(fig)


def update_rates_figure(fig: go.Figure | go.FigureWidget, rates: pl.DataFrame, title: str) -> None:
    """Put one county's rates into ``fig`` in place (same traces, new data)."""
    n = len(RATES)
    with fig.batch_update():
        for i, r in enumerate(rates.iter_rows(named=True)):
            color = STATUS_COLORS.get(r["status"] or "", NO_DATA_COLOR)
            ratio, est = fig.data[2 * i], fig.data[2 * i + 1]
            ratio.y = [r["value"]]
            ratio.text = [percent(r["value"])]
            ratio.marker.color = color
            est.y = [r["est"]]
            est.marker.color = color
            est.error_y.array = [_gap(r["high"], r["est"])]
            est.error_y.arrayminus = [_gap(r["est"], r["low"])]
            status = STATUS_LABELS.get(r["status"] or "", "无样本" if r["value"] is None else "")
            if i < n:
                fig.layout.annotations[i].text = f"{r['label']}：{status}" if status else r["label"]
            axis = "yaxis" if i == 0 else f"yaxis{i + 1}"
            fig.layout[axis].range = _axis_range(r)
        fig.layout.title.text = title


def _gap(a: float | None, b: float | None) -> float:
    return 0.0 if a is None or b is None else max(0.0, a - b)


# ----------------------------------------------------------------- findings


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
    finding of the city. ``review_outcome`` "pending" also matches a
    problem needing review without an outcome yet.
    """
    df = findings
    if county_code:
        mine = pl.col("county_code") == county_code
        if city:
            mine = mine | (pl.col("county_code").is_null() & (pl.col("city_name") == city))
        df = df.filter(mine)
    elif city:
        df = df.filter(pl.col("city_name") == city)
    if content_item:
        df = df.filter(pl.col("content_item") == content_item)
    if review_state:
        df = df.filter(pl.col("review_state") == review_state)
    if review_outcome:
        outcome = pl.col("review_outcome")
        if review_outcome == "pending":
            outcome = pl.when(pl.col("needs_review")).then(outcome.fill_null("pending"))
        df = df.filter(outcome == review_outcome)
    if level:
        df = df.filter(pl.col("level") == level)
    return df.sort("raised_date", "problem_id", nulls_last=True)


def content_labels(plan: Plan) -> dict[str, str]:
    """Content item code -> "C1 label" for every item of the plan (三)."""
    items = (*plan.content.county, *plan.content.city, *plan.content.pairing)
    return {it.code: f"{it.code} {it.label}" for it in items}


def findings_table(findings: pl.DataFrame, villages: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Findings as a Chinese table."""
    names = villages.select("village_code", "village_name")
    df = findings.join(names, on="village_code", how="left", maintain_order="left")
    return df.select(
        pl.col("problem_id").alias("编号"),
        pl.col("raised_date").cast(pl.String).fill_null("").alias("提出日期"),
        pl.col("team_id").fill_null("").alias("考核组"),
        _text(pl.col("level"), LEVEL_ZH).alias("层级"),
        pl.col("village_name").fill_null("").alias("村"),
        _text(pl.col("content_item"), content_labels(plan)).alias("考核内容"),
        pl.col("description").fill_null("").alias("问题"),
        _text(pl.col("source"), SOURCE_LABELS).alias("来源"),
        _text(pl.col("review_state"), REVIEW_STATE_LABELS).alias("复核"),
        _text(pl.col("review_outcome"), OUTCOME_ZH).alias("复核结论"),
        _text(pl.col("scope"), SCOPE_LABELS).alias("性质"),
        pl.col("suggestion").fill_null("").alias("意见建议"),
    )


# --------------------------------------------------- checks and households


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
        _text(pl.col("kind"), KIND_LABELS).alias("类别"),
        pl.col("village_name").fill_null("").alias("村"),
        pl.col("subject").fill_null("").alias("对象"),
        pl.col("household_id").fill_null("").alias("户编号"),
        pl.col("item_label").fill_null("").alias("核对项目"),
        pl.col("recorded").fill_null("").alias("说法或记录"),
        pl.col("found").fill_null("").alias("核查结果"),
        pl.col("reference").fill_null("").alias("依据"),
    )


def _shortfalls() -> pl.Expr:
    """Which of income and 两不愁三保障 a household falls short of, in Chinese."""
    parts = [
        pl.when(~pl.col(c).fill_null(True)).then(pl.lit(_SURVEY_LABELS.get(c, c))) for c in ITEMS
    ]
    parts.insert(0, pl.when(~pl.col("income_ok").fill_null(True)).then(pl.lit("收入")))
    return pl.concat_list(parts).list.drop_nulls().list.join("、")


def households_for(
    households: pl.DataFrame, county_code: str, village_code: str = ALL
) -> pl.DataFrame:
    """The county's (or one village's) surveyed households as a Chinese table.

    Registered and general households alike; the head's name and phone are
    the masked ones :func:`load_run` keeps; the classification is in Chinese.
    """
    df = _households_in(households, county_code, village_code)
    return df.select(
        pl.col("village_name").fill_null("").alias("村"),
        pl.col("household_id").alias("户编号"),
        pl.col("head_name").fill_null("").alias("户主"),
        pl.col("phone").fill_null("").alias("联系电话"),
        _household_type().alias("户类型"),
        pl.when(pl.col("registered"))
        .then(zh(pl.col("selected_as")))
        .otherwise(pl.lit("现场随机走访"))
        .fill_null("")
        .alias("抽样类别"),
        pl.col("household_size").alias("人口"),
        pl.col("income_per_capita_yuan").round(0).cast(pl.Int64).alias("人均纯收入(元)"),
        _shortfalls().alias("未达标项"),
        _text(pl.col("approval"), APPROVAL_ZH).alias("认可度"),
        _text(pl.col("classification"), CLASS_LABELS).alias("分类"),
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
    return value.replace({"true": "是", "false": "否"}).fill_null("")


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
    kind = zh(pl.lit(h["frame_status"])) if h["registered"] else pl.lit(GENERAL_HOUSEHOLD)
    kind_text = str(pl.select(kind).item())
    pairs: list[tuple[str, str]] = [
        ("村", f"{h.get('township_name') or ''} {h.get('village_name') or ''}".strip()),
        ("户主", h.get("head_name") or ""),
        ("联系电话", h.get("phone") or ""),
        ("户类型", kind_text),
        ("走访日期", _answer(h["visit_date"])),
        ("考核组", _answer(h["team_id"])),
    ]
    for column in ("household_size", "income_per_capita_yuan", *ITEMS):
        pairs.append((_SURVEY_LABELS.get(column, column), _answer(h[column])))
    if h["registered"]:
        pairs.append((_SURVEY_LABELS["ineligible_evidence"], _answer(h["ineligible_evidence"])))
        pairs.append((_SURVEY_LABELS["knows_helper"], _answer(h["knows_helper"])))
    pairs += [
        ("认可度", APPROVAL_ZH.get(h["approval"] or "", _answer(h["approval"]))),
        ("收入达标", _answer(h["income_ok"])),
        ("达到脱贫标准", _answer(h["qualified"])),
        ("分类", CLASS_LABELS.get(h["classification"] or "", _answer(h["classification"]))),
    ]
    answers = pl.DataFrame(pairs, schema=["项目", "入户调查结果"], orient="row")
    about = claims.filter(pl.col("household_id") == household_id).sort("helper_id", "item")
    claim_table = about.select(
        pl.col("helper_id").alias("帮扶责任人编号"),
        pl.col("interview_id").fill_null("").alias("访谈编号"),
        pl.col("item").replace(_SURVEY_LABELS).alias("核对项目"),
        _claim_text(pl.col("claim")).alias("帮扶责任人说法"),
        _claim_text(pl.col("answer")).alias("入户调查结果"),
        _text(pl.col("status"), CLAIM_STATUS_ZH).alias("比对"),
    )
    heading = (
        f"{h.get('village_name') or ''} {household_id} {h.get('head_name') or ''}"
        f"（{kind_text}，{CLASS_LABELS.get(h['classification'] or '', '')}）"
    )
    return HouseholdDetail(household_id, heading, answers, claim_table)


def projects_for(
    projects: pl.DataFrame, villages: pl.DataFrame, county_code: str, village_code: str = ALL
) -> pl.DataFrame:
    """The county's sampled projects and what the check found, as a Chinese table.

    With ``village_code``: that village's projects and the county-level ones.
    """
    df = projects.filter(pl.col("county_code") == county_code)
    if village_code:
        df = df.filter(pl.col("village_code").is_null() | (pl.col("village_code") == village_code))
    df = df.join(
        villages.select("village_code", "village_name"),
        on="village_code",
        how="left",
        maintain_order="left",
    ).sort("level", "village_code", "project_id")
    flags = pl.concat_list(
        [pl.when(pl.col(c).fill_null(False)).then(pl.lit(t)) for c, t in FLAG_LABELS.items()]
    ).list.drop_nulls()
    return df.select(
        zh(pl.col("level")).fill_null("").alias("层级"),
        pl.col("village_name").fill_null("").alias("村"),
        pl.col("project_id").alias("项目编号"),
        pl.col("name").fill_null("").alias("项目名称"),
        zh(pl.col("kind")).fill_null("").alias("项目类型"),
        pl.col("funds_yuan").round(0).cast(pl.Int64).alias("资金(元)"),
        pl.col("check_date").cast(pl.String).fill_null("").alias("核查日期"),
        _text(pl.col("check_status"), PROJECT_STATUS_ZH).alias("进度"),
        pl.col("funds_spent_yuan").round(0).cast(pl.Int64).alias("已支出(元)"),
        pl.col("beneficiaries_confirmed").alias("确认受益户"),
        flags.list.join("；").alias("发现问题"),
        pl.col("issue").fill_null("").alias("核查说明"),
    )


def county_heading(data: RunData, county_code: str) -> str:
    """HTML: the county, its city and category, and how many households were surveyed."""
    row = data.counties.filter(pl.col("county_code") == county_code)
    if row.height == 0:
        return f"<h3>{html.escape(county_code)}</h3>"
    c = row.row(0, named=True)
    surveyed = data.households.filter(pl.col("county_code") == county_code)
    general = surveyed.filter(~pl.col("registered")).height
    category = data.plan.category(c["category"]).label
    paired = (
        f"；结对帮扶县：{html.escape(c['paired_helper_county'])}"
        if c.get("paired_helper_county")
        else ""
    )
    return (
        f"<h3>{html.escape(c['city_name'])} {html.escape(c['county_name'])}（{county_code}）</h3>"
        f"<p>考核类别：<b>{html.escape(category)}</b>{paired}；入户调查 {surveyed.height} 户"
        f"（建档立卡户 {surveyed.height - general} 户，一般农户 {general} 户）。</p>"
    )


# ----------------------------------------------------------------- explorer


def _html_table(df: pl.DataFrame, empty: str = "（无）") -> str:
    return table_html(df) if df.height else f"<p>{empty}</p>"


class Explorer:
    """Widgets over one run: city -> county -> village -> household.

    Build with :meth:`from_run`; :meth:`show` displays it. Every output is
    computed by the module's pure functions; a selection change recomputes
    only what depends on it and updates the rates ``FigureWidget`` in place.
    Widgets carry CSS classes (``xk-city``, ``xk-county``, ``xk-rates``,
    ``xk-findings``, ``xk-households`` ...) for browser tests and styling.

    Every widget is created with its first county's content already in it:
    a change sent to a widget before the front end has built its model can
    be lost, so nothing is changed between creation and display.
    """

    def __init__(self, data: RunData, county_code: str = "") -> None:
        import ipywidgets as w

        self.data = data
        self.timings: list[float] = []
        cities = city_options(data.counties)
        code = county_code or (county_options(data.counties, cities[0])[0][1] if cities else "")
        city = self._city_of(code) if code else None
        self._county_shown: str | None = code or None
        rates = rates_for(data.indicators, code, data.plan)

        style = {"description_width": "90px"}

        def dropdown(label: str, options: Any, value: Any, width: str = "340px") -> w.Dropdown:
            return w.Dropdown(
                description=label,
                options=options,
                value=value,
                layout=w.Layout(width=width),
                style=style,
            )

        def choice(label: str, codes: dict[str, str], width: str = "340px") -> w.Dropdown:
            return dropdown(label, _labels(codes), ALL, width)

        self.city = dropdown("市", cities, city)
        self.county = dropdown(
            "县（市、区）", county_options(data.counties, city) if city else [], code or None
        )
        self.item = choice("考核内容", content_labels(data.plan), "420px")
        self.review_state = choice("复核状态", REVIEW_STATE_LABELS)
        self.review_outcome = choice("复核结论", OUTCOME_ZH)
        self.level = choice("问题层级", LEVEL_ZH)
        self.village = dropdown("抽样村", village_options(data.villages, code), ALL)
        self.household = dropdown(
            "入户调查户", household_options(data.households, code), ALL, "520px"
        )
        self.heading = w.HTML(county_heading(data, code) if code else "")
        self.rates_fig = rates_figure(data.plan, rates, self._rates_title(code))
        self.rates = w.HTML(table_html(rates_table(rates)))
        self.findings = w.HTML(self._findings_html(code, city))
        self.discrepancies = w.HTML(self._discrepancies_html(code))
        self.projects = w.HTML(self._projects_html(code))
        self.households = w.HTML(self._households_html(code))
        self.detail = w.HTML(self._detail_html(ALL))
        for name in (
            "city", "county", "item", "review_state", "review_outcome", "level", "village",
            "household", "heading", "rates", "findings", "discrepancies", "projects",
            "households", "detail",
        ):  # fmt: skip
            getattr(self, name).add_class(f"xk-{name.replace('_', '-')}")
        self.rates_box = w.VBox([self.rates_fig, self.rates]).add_class("xk-rates")

        def section(title: str) -> w.HTML:
            return w.HTML(f"<h4 style='margin:14px 0 4px'>{html.escape(title)}</h4>")

        self.widget = w.VBox(
            [
                w.HTML(synthetic_banner(data.synthetic)),
                w.HTML(
                    f"<h2>交叉考核结果浏览</h2><p>{html.escape(data.plan.title)}；"
                    f"结果计算日期 {data.as_of.isoformat()}；"
                    f"运行目录 {html.escape(str(data.run))}</p>"
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
            f.observe(self._on_filter, names="value")
        self.village.observe(self._on_village, names="value")
        self.household.observe(self._on_household, names="value")

    @classmethod
    def from_run(cls, run: Path, county_code: str = "") -> Explorer:
        """Load the run's results once and build the widgets (``county_code`` first shown)."""
        return cls(load_run(run), county_code)

    def show(self) -> None:
        """Display the explorer in the notebook."""
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]

    def select(self, county_code: str) -> float:
        """Select a county as a user would (city, then county); returns the seconds it took.

        The time covers every update the change triggers, as a user waits for it.
        """
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

    # -- what each output shows: pure functions, rendered

    def _rates_title(self, code: str) -> str:
        return f"{self.data.county_name(code)}：三率与错评率" if code else "三率与错评率"

    def _findings_html(
        self,
        code: str,
        city: str | None,
        item: str = ALL,
        state: str = ALL,
        outcome: str = ALL,
        level: str = ALL,
    ) -> str:
        if not code:
            return ""
        d = self.data
        found = filter_findings(d.findings, code, city or ALL, item, state, outcome, level)
        return f"<p>共 {found.height} 个问题（本县及所在市的市级问题）。</p>" + _html_table(
            findings_table(found, d.villages, d.plan), "（没有符合条件的问题）"
        )

    def _discrepancies_html(self, code: str) -> str:
        d = self.data
        table = discrepancies_for(d.discrepancies, d.villages, code)
        return _html_table(table, "（未发现差异）")

    def _projects_html(self, code: str) -> str:
        return _html_table(projects_for(self.data.projects, self.data.villages, code))

    def _households_html(self, code: str, village: str = ALL) -> str:
        return _html_table(households_for(self.data.households, code, village))

    def _detail_html(self, household_id: str | None) -> str:
        if not household_id:
            return "<p>在上方选择一户，查看该户的入户调查结果和帮扶责任人说法。</p>"
        det = household_detail(self.data.households, self.data.claims, household_id)
        return (
            f"<h4>{html.escape(det.heading)}</h4>"
            + table_html(det.answers)
            + "<p><b>帮扶责任人对该户的说法</b></p>"
            + _html_table(det.claims, "（没有帮扶责任人对该户的说法）")
        )

    # -- handlers: thin

    def _on_city(self, change: dict[str, Any]) -> None:
        self.county.options = county_options(self.data.counties, change["new"])
        if self.county.value is not None and self.county.value != self._county_shown:
            self._show_county(self.county.value)

    def _on_county(self, change: dict[str, Any]) -> None:
        if change["new"] and change["new"] != self._county_shown:
            self._show_county(change["new"])

    def _on_filter(self, change: dict[str, Any]) -> None:
        self._show_findings()

    def _on_village(self, change: dict[str, Any]) -> None:
        self._show_households()

    def _on_household(self, change: dict[str, Any]) -> None:
        self.detail.value = self._detail_html(change["new"])

    def _show_county(self, code: str) -> None:
        start = time.perf_counter()
        self._county_shown = code
        d = self.data
        self.heading.value = county_heading(d, code)
        rates = rates_for(d.indicators, code, d.plan)
        update_rates_figure(self.rates_fig, rates, self._rates_title(code))
        self.rates.value = table_html(rates_table(rates))
        self._show_findings()
        self.discrepancies.value = self._discrepancies_html(code)
        self.projects.value = self._projects_html(code)
        with self.village.hold_trait_notifications():
            self.village.options = village_options(d.villages, code)
            self.village.value = ALL
        self._show_households()
        self.timings.append(time.perf_counter() - start)

    def _show_findings(self) -> None:
        self.findings.value = self._findings_html(
            self.county.value,
            self.city.value,
            self.item.value,
            self.review_state.value,
            self.review_outcome.value,
            self.level.value,
        )

    def _show_households(self) -> None:
        code, village = self.county.value, self.village.value or ALL
        if not code:
            return
        self.households.value = self._households_html(code, village)
        self.household.options = household_options(self.data.households, code, village)
        self.household.value = ALL
        self.detail.value = self._detail_html(ALL)


def time_selections(explorer: Explorer, county_codes: Iterable[str]) -> list[float]:
    """Seconds each county selection took in ``explorer`` (for benchmarks, not asserts)."""
    return [explorer.select(code) for code in county_codes]


# ----------------------------------------------------------------- progress


def as_of_date(data: RunData, text: str = "") -> dt.date:
    """The notebook's ``as_of`` parameter: empty means the run's own date."""
    if not text:
        return data.as_of
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            Problem("as_of", None, None, "a date YYYY-MM-DD or empty", repr(text))
        ) from None


def progress_visits(
    households: pl.DataFrame,
    sample_households: pl.DataFrame,
    general_quota: pl.DataFrame,
    counties: pl.DataFrame,
    as_of: dt.date,
    rejects: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Households visited by ``as_of`` against the sample, one row per county.

    Columns: ``county_code, county_name, city_name, sampled`` (registered
    households drawn), ``visited`` (of those, with a usable questionnaire
    visited on or before ``as_of``), ``missing``, ``share`` (visited /
    sampled), ``general_quota`` (general households to visit at random),
    ``general_visited``, ``last_visit``, ``rejected`` (household
    questionnaires sent back for correction, from the rejects table).
    """
    seen = households.filter(pl.col("visit_date") <= as_of)
    drawn = sample_households.join(
        seen.filter(pl.col("registered")).select("household_id", _v=pl.lit(True)),
        on="household_id",
        how="left",
    )
    registered = drawn.group_by("county_code").agg(
        sampled=pl.len().cast(pl.Int64), visited=pl.col("_v").fill_null(False).sum().cast(pl.Int64)
    )
    quota = general_quota.group_by("county_code").agg(
        general_quota=pl.col("count").sum().cast(pl.Int64)
    )
    general = (
        seen.filter(~pl.col("registered"))
        .group_by("county_code")
        .agg(general_visited=pl.len().cast(pl.Int64))
    )
    last = seen.group_by("county_code").agg(last_visit=pl.col("visit_date").max())
    parts = [registered, quota, general, last]
    if rejects is not None and "table" in rejects.columns:
        parts.append(
            rejects.filter(pl.col("table") == "household_survey")
            .group_by("county_code")
            .agg(rejected=pl.len().cast(pl.Int64))
        )
    out = counties.select("county_code", "county_name", "city_name")
    for part in parts:
        out = out.join(part, on="county_code", how="left")
    if "rejected" not in out.columns:
        out = out.with_columns(rejected=pl.lit(0, pl.Int64))
    counts = ("sampled", "visited", "general_quota", "general_visited", "rejected")
    return (
        out.with_columns([pl.col(c).fill_null(0) for c in counts])
        .with_columns(missing=pl.col("sampled") - pl.col("visited"))
        .with_columns(
            share=pl.when(pl.col("sampled") > 0).then(pl.col("visited") / pl.col("sampled"))
        )
        .select(
            "county_code",
            "county_name",
            "city_name",
            "sampled",
            "visited",
            "missing",
            "share",
            "general_quota",
            "general_visited",
            "last_visit",
            "rejected",
        )
        .sort("county_code")
    )


def progress_daily(households: pl.DataFrame, as_of: dt.date, by: str = "team_id") -> pl.DataFrame:
    """Households visited per ``by`` (``team_id`` or ``county_code``) and day.

    Columns: ``by, visit_date, households, cumulative`` (running total of ``by``).
    """
    return (
        households.filter(pl.col("visit_date") <= as_of)
        .group_by(by, "visit_date")
        .agg(households=pl.len().cast(pl.Int64))
        .sort(by, "visit_date")
        .with_columns(cumulative=pl.col("households").cum_sum().over(by))
    )


def progress_team_days(daily: pl.DataFrame) -> pl.DataFrame:
    """:func:`progress_daily` by team as a team x day table (Chinese headers), with totals."""
    if daily.height == 0:
        return pl.DataFrame(
            {"考核组": [], "合计": []}, schema={"考核组": pl.String, "合计": pl.Int64}
        )
    days = sorted(daily["visit_date"].unique().to_list())
    wide = (
        daily.with_columns(day=pl.col("visit_date").dt.strftime("%-m月%-d日"))
        .pivot(on="day", index="team_id", values="households")
        .sort("team_id")
    )
    columns = [f"{d.month}月{d.day}日" for d in days]
    wide = wide.with_columns([pl.col(c).fill_null(0) for c in columns])
    return wide.select(
        pl.col("team_id").alias("考核组"),
        *columns,
        pl.sum_horizontal(columns).alias("合计"),
    )


def progress_reviews(findings: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Where each problem raised by ``as_of`` that needs review stands on ``as_of``.

    Adds ``progress`` = ``reviewed`` (an outcome dated on or before
    ``as_of``), ``due`` (not reviewed, due on ``as_of``), ``pending`` (not
    reviewed, due later), ``overdue`` (not reviewed, due before ``as_of``) or,
    for the system's candidates (``source`` other than ``team``) not yet
    reviewed, ``proposed``: a proposal awaiting the team, never overdue. The
    rule of :func:`xkaohe.findings.merge_findings` (plan 五(六)), taken on
    ``as_of``. Candidates that duplicate a team problem (``covered_by``) are
    left out.
    """
    keep = pl.col("needs_review").fill_null(True) & (pl.col("raised_date") <= as_of)
    if "covered_by" in findings.columns:
        keep = keep & pl.col("covered_by").is_null()
    system = (pl.col("source") != "team") if "source" in findings.columns else pl.lit(False)
    reviewed = pl.col("review_outcome").is_in(["confirmed", "dismissed"]) & (
        pl.col("review_date") <= as_of
    ).fill_null(False)
    day = pl.lit(as_of, pl.Date)
    return findings.filter(keep).with_columns(
        progress=pl.when(reviewed)
        .then(pl.lit("reviewed"))
        .when(system)
        .then(pl.lit("proposed"))
        .when(pl.col("review_due") < day)
        .then(pl.lit("overdue"))
        .when(pl.col("review_due") == day)
        .then(pl.lit("due"))
        .otherwise(pl.lit("pending"))
    )


REVIEW_PROGRESS = ("reviewed", "due", "pending", "overdue", "proposed")
REVIEW_PROGRESS_ZH = {
    "reviewed": "已复核",
    "due": "今日到期",
    "pending": "未到期",
    "overdue": "逾期未复核",
    "proposed": "系统提示待核实",
}


def progress_review_counts(reviews: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    """:func:`progress_reviews` counted per county; a city's own problems in a row of its own.

    Columns: ``unit`` (county | city), ``code``, ``name``, ``city_name``,
    ``needs_review`` and one count per state of :data:`REVIEW_PROGRESS`.
    """
    keyed = reviews.with_columns(
        unit=pl.when(pl.col("county_code").is_null())
        .then(pl.lit("city"))
        .otherwise(pl.lit("county")),
        code=pl.coalesce("county_code", "city_name"),
    )
    counts = keyed.group_by("unit", "code").agg(
        [
            pl.len().cast(pl.Int64).alias("needs_review"),
            *[(pl.col("progress") == s).sum().cast(pl.Int64).alias(s) for s in REVIEW_PROGRESS],
        ]
    )
    units = pl.concat(
        [
            counties.select(
                pl.lit("city").alias("unit"),
                pl.col("city_name").alias("code"),
                (pl.col("city_name") + "（市级）").alias("name"),
                "city_name",
                pl.col("county_code").alias("_o"),
            )
            .group_by("unit", "code", "name", "city_name")
            .agg(pl.col("_o").min()),
            counties.select(
                pl.lit("county").alias("unit"),
                pl.col("county_code").alias("code"),
                pl.col("county_name").alias("name"),
                "city_name",
                pl.col("county_code").alias("_o"),
            ),
        ]
    )
    cols = ("needs_review", *REVIEW_PROGRESS)
    return (
        units.join(counts, on=["unit", "code"], how="left")
        .with_columns([pl.col(c).fill_null(0) for c in cols])
        .sort("_o", "unit")
        .drop("_o")
    )


def progress_risk(
    visits: pl.DataFrame,
    review_counts: pl.DataFrame,
    completeness: pl.DataFrame,
    deadline: dt.date,
    as_of: dt.date,
) -> pl.DataFrame:
    """Each county's risk of missing the report deadline, with the reasons in Chinese.

    A county is at risk when sampled households are still unvisited,
    questionnaires were sent back, reviews are overdue, system proposals
    await the team, or its report lacks what plan 五 asks for
    (``completeness``). Columns: ``county_code, county_name, city_name,
    missing, rejected, overdue, proposed, completeness_ok, days_left,
    at_risk, reasons``.
    """
    county_reviews = review_counts.filter(pl.col("unit") == "county").select(
        pl.col("code").alias("county_code"),
        "overdue",
        pl.col("proposed") if "proposed" in review_counts.columns else pl.lit(0).alias("proposed"),
    )
    report = completeness.filter(pl.col("unit") == "county").select(
        pl.col("code").alias("county_code"),
        pl.col("ok").alias("completeness_ok"),
        "shortfall",
    )
    df = (
        visits.select("county_code", "county_name", "city_name", "missing", "rejected")
        .join(county_reviews, on="county_code", how="left")
        .join(report, on="county_code", how="left")
        .with_columns(
            pl.col("overdue").fill_null(0),
            pl.col("proposed").fill_null(0),
            pl.col("completeness_ok").fill_null(True),
        )
    )
    reasons = pl.concat_list(
        pl.when(pl.col("missing") > 0).then(pl.format("尚有{}户抽样户未走访", "missing")),
        pl.when(pl.col("rejected") > 0).then(pl.format("{}份入户调查表退回待更正", "rejected")),
        pl.when(pl.col("overdue") > 0).then(pl.format("{}个问题逾期未复核", "overdue")),
        pl.when(pl.col("proposed") > 0).then(pl.format("{}条系统提示待考核组核实", "proposed")),
        pl.when(~pl.col("completeness_ok")).then(
            pl.concat_str(pl.lit("报告内容不全："), pl.col("shortfall").fill_null(""))
        ),
    ).list.drop_nulls()
    return (
        df.with_columns(_r=reasons, days_left=pl.lit((deadline - as_of).days, pl.Int64))
        .with_columns(at_risk=pl.col("_r").list.len() > 0, reasons=pl.col("_r").list.join("；"))
        .select(
            "county_code",
            "county_name",
            "city_name",
            "missing",
            "rejected",
            "overdue",
            "proposed",
            "completeness_ok",
            "days_left",
            "at_risk",
            "reasons",
        )
        .sort("county_code")
    )


@dataclass(frozen=True)
class FieldProgress:
    """The field week as of one day (``notebooks/field_progress.ipynb``)."""

    as_of: dt.date
    deadline: dt.date
    city: str
    visits: pl.DataFrame
    daily_team: pl.DataFrame
    daily_county: pl.DataFrame
    reviews: pl.DataFrame
    review_counts: pl.DataFrame
    risk: pl.DataFrame
    villages: pl.DataFrame = field(repr=False)
    plan: Plan = field(repr=False)

    @property
    def at_risk(self) -> pl.DataFrame:
        return self.risk.filter(pl.col("at_risk"))

    @property
    def overdue(self) -> pl.DataFrame:
        return self.reviews.filter(pl.col("progress").is_in(["overdue", "due"]))


def field_progress(data: RunData, as_of: str | dt.date = "", city: str = ALL) -> FieldProgress:
    """Every progress table for ``as_of`` (default: the run's date), optionally one city."""
    day = as_of if isinstance(as_of, dt.date) else as_of_date(data, as_of)
    counties = data.counties
    households, findings = data.households, data.findings
    if city:
        if city not in set(counties["city_name"].to_list()):
            raise InputError(Problem("city", None, None, "a city of the run or empty", repr(city)))
        counties = counties.filter(pl.col("city_name") == city)
        households = households.filter(pl.col("city_name") == city)
        findings = findings.filter(pl.col("city_name") == city)
    visits = progress_visits(
        households, data.sample_households, data.general_quota, counties, day, data.rejects
    )
    reviews = progress_reviews(findings, day)
    counts = progress_review_counts(reviews, counties)
    deadline = data.plan.timeline.team_reports_by
    return FieldProgress(
        as_of=day,
        deadline=deadline,
        city=city,
        visits=visits,
        daily_team=progress_daily(households, day, "team_id"),
        daily_county=progress_daily(households, day, "county_code"),
        reviews=reviews,
        review_counts=counts,
        risk=progress_risk(visits, counts, data.completeness, deadline, day),
        villages=data.villages,
        plan=data.plan,
    )


def progress_summary(p: FieldProgress) -> str:
    """HTML: one paragraph with the headline numbers."""
    v = p.visits
    sampled, visited = int(v["sampled"].sum()), int(v["visited"].sum())
    overdue = int(p.review_counts["overdue"].sum())
    proposed = int(p.review_counts["proposed"].sum())
    left = (p.deadline - p.as_of).days
    when = (
        f"距{p.deadline.month}月{p.deadline.day}日报告截止还有 {left} 天"
        if left >= 0
        else (f"已过{p.deadline.month}月{p.deadline.day}日报告截止日 {-left} 天")
    )
    scope = html.escape(p.city) if p.city else "全省"
    return (
        f"<p>截至 <b>{p.as_of.isoformat()}</b>（{when}），{scope}抽样建档立卡户 {sampled} 户，"
        f"已走访 {visited} 户（{percent(visited / sampled if sampled else None, 1)}）；"
        f"一般农户已走访 {int(v['general_visited'].sum())} 户"
        f"（计划不少于 {int(v['general_quota'].sum())} 户）；"
        f"考核组问题逾期未复核 {overdue} 个，系统提示待考核组核实 {proposed} 条；"
        f"可能无法按期报告的县 {p.at_risk.height} 个。</p>"
    )


def visits_table(visits: pl.DataFrame) -> pl.DataFrame:
    """:func:`progress_visits` as a Chinese table."""
    return visits.select(
        pl.col("city_name").alias("市"),
        pl.col("county_name").alias("县（市、区）"),
        pl.col("sampled").alias("抽样户"),
        pl.col("visited").alias("已走访"),
        pl.col("missing").alias("未走访"),
        (pl.col("share") * 100).round(1).alias("完成率(%)"),
        pl.col("general_quota").alias("一般农户计划"),
        pl.col("general_visited").alias("一般农户已走访"),
        pl.col("rejected").alias("退回待更正"),
        pl.col("last_visit").cast(pl.String).fill_null("").alias("最近走访"),
    )


def review_counts_table(counts: pl.DataFrame) -> pl.DataFrame:
    """:func:`progress_review_counts` as a Chinese table (units with problems to review)."""
    return counts.filter(pl.col("needs_review") > 0).select(
        pl.col("city_name").alias("市"),
        pl.col("name").alias("单位"),
        pl.col("needs_review").alias("需复核"),
        *[pl.col(s).alias(t) for s, t in REVIEW_PROGRESS_ZH.items()],
    )


def overdue_table(reviews: pl.DataFrame, villages: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """The team's problems due today or overdue, oldest first, as a Chinese table."""
    df = reviews.filter(pl.col("progress").is_in(["overdue", "due"])).join(
        villages.select("village_code", "village_name"), on="village_code", how="left"
    )
    return df.sort("review_due", "problem_id").select(
        pl.col("problem_id").alias("编号"),
        pl.col("team_id").fill_null("").alias("考核组"),
        pl.col("city_name").alias("市"),
        pl.col("county_code").fill_null("").alias("县代码"),
        pl.col("village_name").fill_null("").alias("村"),
        _text(pl.col("content_item"), content_labels(plan)).alias("考核内容"),
        pl.col("description").fill_null("").alias("问题"),
        pl.col("raised_date").cast(pl.String).alias("提出日期"),
        pl.col("review_due").cast(pl.String).alias("应复核日期"),
        _text(pl.col("progress"), REVIEW_PROGRESS_ZH).alias("状态"),
    )


def risk_table(risk: pl.DataFrame) -> pl.DataFrame:
    """The counties at risk as a Chinese table."""
    return risk.filter(pl.col("at_risk")).select(
        pl.col("city_name").alias("市"),
        pl.col("county_name").alias("县（市、区）"),
        pl.col("missing").alias("未走访"),
        pl.col("overdue").alias("逾期未复核"),
        pl.col("proposed").alias("系统提示待核实"),
        pl.when(pl.col("completeness_ok"))
        .then(pl.lit("齐全"))
        .otherwise(pl.lit("不全"))
        .alias("报告内容"),
        pl.col("days_left").alias("距截止(天)"),
        pl.col("reasons").alias("原因"),
    )


def progress_visits_figure(visits: pl.DataFrame) -> go.Figure:
    """Per county: visited and still-missing sampled households (stacked bars)."""
    v = visits.sort("county_code")
    labels = (v["city_name"] + " " + v["county_name"]).to_list()
    fig = go.Figure(
        [
            go.Bar(x=labels, y=v["visited"].to_list(), name="已走访", marker_color="#2ca02c"),
            go.Bar(x=labels, y=v["missing"].to_list(), name="未走访", marker_color="#d62728"),
        ]
    )
    fig.update_layout(
        barmode="stack",
        title="各县抽样建档立卡户走访进度",
        yaxis_title="户数",
        height=420,
        template="plotly_white",
        legend={"orientation": "h", "y": 1.08},
        xaxis={"tickangle": -60, "tickfont": {"size": 9}},
    )
    return fig


def progress_daily_figure(daily: pl.DataFrame, by: str = "team_id") -> go.Figure:
    """Running total of households visited per team (or county) and day."""
    fig = go.Figure()
    for (key,), part in daily.sort(by, "visit_date").group_by(by, maintain_order=True):
        fig.add_trace(
            go.Scatter(
                x=part["visit_date"].to_list(),
                y=part["cumulative"].to_list(),
                mode="lines+markers",
                name=str(key),
                customdata=part["households"].to_list(),
                hovertemplate="%{x|%m月%d日}：累计 %{y} 户，当日 %{customdata} 户",
            )
        )
    fig.update_layout(
        title="各考核组每日累计走访户数" if by == "team_id" else "各县每日累计走访户数",
        xaxis_title="走访日期",
        yaxis_title="累计户数",
        height=420,
        template="plotly_white",
        xaxis={"tickformat": "%m月%d日"},
    )
    return fig


def progress_reviews_figure(counts: pl.DataFrame) -> go.Figure:
    """Problems needing review per city, by where their review stands."""
    by_city = counts.group_by("city_name", maintain_order=True).agg(
        [pl.col(s).sum() for s in REVIEW_PROGRESS]
    )
    colors = {
        "reviewed": "#2ca02c",
        "due": "#ffbf00",
        "pending": "#1f77b4",
        "overdue": "#d62728",
        "proposed": "#9467bd",
    }
    fig = go.Figure(
        [
            go.Bar(
                x=by_city["city_name"].to_list(),
                y=by_city[s].to_list(),
                name=REVIEW_PROGRESS_ZH[s],
                marker_color=colors[s],
            )
            for s in REVIEW_PROGRESS
        ]
    )
    fig.update_layout(
        barmode="stack",
        title="各市问题复核进度（含所辖县）",
        yaxis_title="问题数",
        height=400,
        template="plotly_white",
        legend={"orientation": "h", "y": 1.1},
    )
    return fig


__all__ = [
    "ALL",
    "Explorer",
    "FieldProgress",
    "HouseholdDetail",
    "RunData",
    "as_of_date",
    "city_options",
    "county_options",
    "discrepancies_for",
    "field_progress",
    "filter_findings",
    "findings_table",
    "household_detail",
    "household_options",
    "households_for",
    "load_run",
    "mask_people",
    "overdue_table",
    "percent",
    "progress_daily",
    "progress_daily_figure",
    "progress_review_counts",
    "progress_reviews",
    "progress_reviews_figure",
    "progress_risk",
    "progress_summary",
    "progress_team_days",
    "progress_visits",
    "progress_visits_figure",
    "projects_for",
    "rates_figure",
    "rates_for",
    "rates_table",
    "review_counts_table",
    "risk_table",
    "time_selections",
    "update_rates_figure",
    "village_options",
    "visits_table",
]
