"""整改落实情况: the rectification follow-up for ``notebooks/rectification.ipynb`` (plan 七(二)).

Plan 七(二): the office feeds the problems back one-to-one and 督促各地抓好整改
落实. Each city and county returns its 整改台账 (:mod:`xkaohe.run.rectification`
checks and stores them); whether a problem is overdue or done without evidence
is decided in :mod:`xkaohe.analyse.rectification` (``progress``); this module
words it in Chinese: progress by city and by unit, the overdue items, the
items marked done without evidence, and the units that returned nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl

from xkaohe.analyse.rectification import follow_up_date, progress, summary, validate
from xkaohe.codes import RECTIFICATION_STAGE
from xkaohe.io.rectification import read_packages, read_registers
from xkaohe.io.results import read_result, run_plan
from xkaohe.io.run import is_synthetic
from xkaohe.plan import Plan
from xkaohe.report.kit import box, esc
from xkaohe.results_spec import Result


@dataclass(frozen=True)
class FollowUp:
    """The run's packages, returned registers and progress on ``as_of``."""

    plan: Plan
    as_of: dt.date
    packages: dict[str, dict[str, Any]]
    table: pl.DataFrame  # per problem fed back (analyse.rectification.progress)
    units: pl.DataFrame  # per unit (analyse.rectification.summary)
    items: dict[str, str]  # problem id -> its content item (三), for the tables
    synthetic: bool


def load_follow_up(run: Path, as_of: str = "") -> FollowUp:
    """Progress of the run's rectification on ``as_of`` (YYYY-MM-DD; empty: see
    :func:`xkaohe.analyse.rectification.follow_up_date`)."""
    plan = run_plan(run)
    synthetic = is_synthetic(run)
    day = (
        dt.date.fromisoformat(as_of) if as_of else follow_up_date(plan, synthetic, dt.date.today())
    )
    packages = read_packages(run) or {}
    register = read_registers(run)
    if register is None:  # nothing returned yet: the register's empty shape
        register = validate(pl.DataFrame(schema={"_row": pl.Int64}), "", {}, {}, plan)[0]
    table = progress(register, packages, plan, day)
    findings = read_result(run, Result.FINDINGS).select("problem_id", "content_item")
    labels = {it.code: f"{it.code} {it.label}" for it in _items(plan)}
    items = {str(p): labels.get(str(c), str(c)) for p, c in findings.iter_rows() if p is not None}
    return FollowUp(plan, day, packages, table, summary(table, plan), items, synthetic)


def _items(plan: Plan) -> tuple[Any, ...]:
    c = plan.content
    return (*c.county, *c.city, *c.pairing)


def _recipient(f: FollowUp) -> pl.Expr:
    names = {
        pid: str(info.get("recipient", info.get("code", pid))) for pid, info in f.packages.items()
    }
    return pl.col("package_id").replace_strict(names, default=pl.col("package_id"))


def _status(f: FollowUp) -> pl.Expr:
    labels = {s.code: s.label for s in f.plan.rectification.statuses}
    return pl.col("status").replace_strict(labels, default=pl.col("status")).fill_null("未报送")


def overview_html(f: FollowUp) -> str:
    """Counts in one box: packages, problems, returned, done, overdue, done without evidence."""
    if not f.packages:
        return box(
            "info", "整改落实情况", "本次运行尚未生成反馈包（反馈阶段尚未运行），无整改事项。"
        )
    t = f.table
    done = f.plan.rectification.done_status
    units = t.select("package_id").n_unique()
    returned_units = t.filter(pl.col("returned")).select("package_id").n_unique()
    text = (
        f"截至 {f.as_of.isoformat()}：反馈包 {len(f.packages)} 个（有问题的单位 {units} 个），"
        f"反馈问题 {t.height} 个；{returned_units} 个单位报回了整改台账，"
        f"涉及问题 {t['returned'].sum()} 个，其中已完成 {(t['status'] == done).sum()} 个；"
        f"<b>逾期未完成 {t['overdue'].sum()} 个</b>，"
        f"<b>标为已完成但未附佐证材料 {t['done_without_evidence'].sum()} 个</b>。"
    )
    kind = "bad" if t["overdue"].sum() or t["done_without_evidence"].sum() else "ok"
    return box(kind, "整改落实情况", text)


_COUNT_COLUMNS = ("problems", "returned", "done", "overdue", "done_without_evidence")


def _counts(df: pl.DataFrame, *by: str) -> pl.DataFrame:
    return df.group_by(*by).agg(pl.col(c).sum() for c in _COUNT_COLUMNS).sort(*by)


def _chinese(df: pl.DataFrame) -> list[pl.Expr]:
    return [
        pl.col("problems").alias("反馈问题"),
        pl.col("returned").alias("已报回"),
        pl.col("done").alias("已完成"),
        pl.col("overdue").alias("逾期未完成"),
        pl.col("done_without_evidence").alias("已完成无佐证"),
        (pl.col("done") / pl.col("problems") * 100).round(1).cast(pl.String).alias("完成率%"),
    ]


def city_table(f: FollowUp) -> pl.DataFrame:
    """Per city: its own and its counties' problems, returned, done, overdue, no evidence."""
    counts = _counts(f.units, "city")
    return counts.select(pl.col("city").alias("市"), *_chinese(counts))


def unit_table(f: FollowUp) -> pl.DataFrame:
    """Per unit fed back (the city itself or a county), in city then code order."""
    names = (
        f.table.select("package_id", "unit_code").unique().with_columns(_recipient(f).alias("r"))
    )
    counts = f.units.join(names.select("unit_code", "r"), on="unit_code", how="left")
    return counts.sort("city", "kind", "unit_code").select(
        pl.col("city").alias("市"),
        pl.col("r").fill_null(pl.col("unit_code")).alias("反馈单位"),
        *_chinese(counts),
    )


def _items_table(f: FollowUp, rows: pl.DataFrame) -> pl.DataFrame:
    return rows.sort("city", "unit_code", "problem_id").select(
        pl.col("city").alias("市"),
        _recipient(f).alias("反馈单位"),
        pl.col("problem_id").alias("问题编号"),
        pl.col("problem_id").replace_strict(f.items, default=None).fill_null("").alias("考核内容"),
        pl.col("measure").fill_null("").alias("整改措施"),
        pl.col("deadline").dt.strftime("%Y-%m-%d").fill_null("").alias("完成时限"),
        _status(f).alias("整改状态"),
        (pl.lit(f.as_of) - pl.col("deadline")).dt.total_days().alias("逾期天数"),
    )


def overdue_table(f: FollowUp) -> pl.DataFrame:
    """Problems past their deadline and not done (七(二) 督促整改)."""
    return _items_table(f, f.table.filter(pl.col("overdue")))


def no_evidence_table(f: FollowUp) -> pl.DataFrame:
    """Problems marked done with no evidence named (rectification.evidence_required)."""
    return _items_table(f, f.table.filter(pl.col("done_without_evidence"))).drop("逾期天数")


def not_returned_table(f: FollowUp) -> pl.DataFrame:
    """Units that have not returned their register, with how many problems wait."""
    waiting = f.table.group_by("package_id", "city", "unit_code").agg(
        pl.col("returned").any().alias("any"), pl.len().alias("n")
    )
    return (
        waiting.filter(~pl.col("any"))
        .sort("city", "unit_code")
        .select(
            pl.col("city").alias("市"),
            _recipient(f).alias("反馈单位"),
            pl.col("n").alias("待报回问题"),
        )
    )


def progress_figure(f: FollowUp) -> go.Figure:
    """Per city: the problems by where they stand (:data:`xkaohe.codes.RECTIFICATION_STAGE`)."""
    counts = f.table.group_by("city", "stage").len()
    cities = sorted(f.table["city"].unique().to_list())
    labels, colours = RECTIFICATION_STAGE.labels(), RECTIFICATION_STAGE.colours()
    fig = go.Figure()
    for stage in RECTIFICATION_STAGE.order:
        got = dict(counts.filter(pl.col("stage") == stage).select("city", "len").iter_rows())
        fig.add_bar(
            y=cities,
            x=[got.get(c, 0) for c in cities],
            name=labels[stage],
            orientation="h",
            marker_color=colours.get(stage),
        )
    fig.update_layout(
        barmode="stack",
        title=f"各市反馈问题整改进展（截至 {f.as_of.isoformat()}）",
        xaxis_title="问题数",
        height=max(280, 28 * len(cities) + 120),
        margin={"l": 90, "r": 20, "t": 50, "b": 40},
    )
    return fig


def index_note(run: Path, as_of: str) -> str:
    """The rectification report's note in ``index.html``: overdue and no-evidence items."""
    t = load_follow_up(run, as_of).table
    return (
        f"截至 {as_of}：逾期未完成 {t['overdue'].sum()} 项，"
        f"已完成无佐证 {t['done_without_evidence'].sum()} 项，"
        f"台账未报回 {(~t['returned']).sum()} 项"
    )


def heading_html(f: FollowUp) -> str:
    """What the notebook is judged on: the date and the rule."""
    rule = "方案时间表的全省总报告完成日（演示数据）" if f.synthetic else "今天"
    return (
        f"<p>统计截止日期：<b>{esc(f.as_of.isoformat())}</b>（未指定时为{esc(rule)}）。"
        "“逾期”指完成时限早于截止日期而整改状态不是“已完成”；"
        "“无佐证”指整改状态为“已完成”但未填写整改佐证材料。</p>"
    )


__all__ = [
    "FollowUp",
    "city_table",
    "heading_html",
    "index_note",
    "load_follow_up",
    "no_evidence_table",
    "not_returned_table",
    "overdue_table",
    "overview_html",
    "progress_figure",
    "unit_table",
]
