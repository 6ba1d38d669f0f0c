"""The field week as the data desk reads it each evening: the field ledger in the progress report.

Plan 六(四): the teams enter each day's returns and upload recordings and
photos; 五(六): problems are reviewed the next day; 八(二): survey content and
data must not be altered. This module shows, as of any day of the week, what
arrived per team and day, the corrections and what they changed, records
without their media, late rows, the supervisors' signals and the chain head
of each day (DESIGN.md "Field ledger"). Everything is decided in
:mod:`xkaohe.field.ledger`; here it only gets Chinese headers and labels.
Free text (old and new cell values) passes the one masker.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from xkaohe.codes import FIELD_TABLE
from xkaohe.field.ledger import load_context
from xkaohe.field.week import MEDIA_PROBLEMS, SIGNALS, LedgerView, load_view
from xkaohe.io.ledger import Ledger
from xkaohe.privacy import KnownNames, mask_frame

TABLE_LABELS = FIELD_TABLE.labels()


@dataclass(frozen=True)
class Desk:
    """The ledger as of one day, and the names the masker must hide."""

    view: LedgerView | None  # None: the run has no field ledger (yet)
    names: KnownNames


def as_of_date(text: str | dt.date | None) -> dt.date | None:
    """The report's as-of day: a date, ``YYYY-MM-DD`` text, or empty for every day."""
    if text is None or text == "":
        return None
    return text if isinstance(text, dt.date) else dt.date.fromisoformat(str(text))


def load_desk(run: Path, as_of: str | dt.date | None = "") -> Desk:
    """The run's field ledger as of the end of ``as_of`` (every delivery when empty)."""
    if not Ledger.exists(run):
        return Desk(None, KnownNames.build([]))
    context = load_context(run)
    with Ledger.open_read(run) as ledger:
        view = load_view(ledger, context, as_of_date(as_of))
    households = context.sample["households"]
    names = households["head_name"].to_list() if "head_name" in households.columns else []
    if context.lottery is not None and "name" in context.lottery.members.columns:
        names += context.lottery.members["name"].to_list()
    keep = context.counties.select("county_name", "city_name").to_series(0).to_list()
    return Desk(view, KnownNames.build(names, keep))


def _day(d: dt.date | None) -> str:
    return "" if d is None else f"{d.month}月{d.day}日"


def summary_html(desk: Desk) -> str:
    """One paragraph: how much arrived, what needs a look, and today's chain head."""
    v = desk.view
    if v is None:
        return "<p>本运行尚无实地核查数据台账（尚未导入各考核组的每日报送）。</p>"
    if v.entries.height == 0:
        return "<p>截至所选日期，台账中尚无报送。</p>"
    last = v.heads.row(-1, named=True)
    until = f"截至{_day(v.as_of)}" if v.as_of else "全部报送"
    counts = [
        f"{v.entries['team_id'].n_unique()} 个考核组报送 {v.entries.height} 次",
        f"记录 {v.current.height:,} 条",
        f"更正 {_records(v.changes.filter(~pl.col('review_result')))} 条记录",
        f"问题复核结果 {_records(v.changes.filter(pl.col('review_result')))} 条",
        f"录音照片问题 {v.media_problems.height} 项",
        f"补录 {v.late.height} 行",
        f"走访信号 {v.signals.filter(pl.col('signal') != 'late_entry').height} 项",
    ]
    return (
        f"<p>{until}：{'，'.join(counts)}。</p>"
        f"<p>台账链头（{_day(last['field_date'])}，第 {last['seq']} 条）："
        f"<code>{html.escape(last['entry_hash'])}</code>。请将每日链头另行记录备查"
        "（如抄送督查组）：日后核验台账时，链头不同即说明台账被改动。</p>"
    )


def _records(changes: pl.DataFrame) -> int:
    return changes.select("table", "record_key").unique().height


def arrivals(desk: Desk) -> pl.DataFrame:
    """Per team, the records each day's delivery brought (new + corrected; "—": nothing)."""
    v = desk.view
    if v is None or v.arrivals.height == 0:
        return pl.DataFrame()
    per = (
        v.arrivals.group_by("team_id", "field_date")
        .agg((pl.col("new") + pl.col("corrected")).sum().alias("n"))
        .sort("field_date")
        .with_columns(
            pl.format("{}月{}日", pl.col("field_date").dt.month(), pl.col("field_date").dt.day())
        )
    )
    days = per["field_date"].unique(maintain_order=True).to_list()
    wide = per.pivot("field_date", index="team_id", values="n").sort("team_id")
    return wide.select(
        pl.col("team_id").alias("考核组"),
        *[pl.col(d).cast(pl.String).fill_null("—").alias(d) for d in days],
    )


def deliveries_table(desk: Desk) -> pl.DataFrame:
    """Every delivery: team, day, entry, records, new, corrected, media, unusable and late rows."""
    v = desk.view
    if v is None:
        return pl.DataFrame()
    return v.arrivals.select(
        pl.col("field_date").alias("报送日期"),
        pl.col("team_id").alias("考核组"),
        pl.col("seq").alias("台账条目"),
        pl.col("n_records").alias("记录数"),
        pl.col("new").alias("新增"),
        pl.col("corrected").alias("更正"),
        pl.col("media_files").alias("录音照片"),
        pl.col("rejects").alias("不可用行"),
        pl.col("late_rows").alias("补录行"),
    )


def _yes(column: str, label: str) -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("是")).otherwise(pl.lit("")).alias(label)


def corrections_table(desk: Desk, review_results: bool = False) -> pl.DataFrame:
    """Every changed cell: when, who, which record, old -> new, and whether the old value had
    been reviewed, used in the results, or shown in a rendered report. ``review_results``:
    the pending problems' review results instead of the corrections."""
    v = desk.view
    if v is None:
        return pl.DataFrame()
    chosen = v.changes.filter(pl.col("review_result") == review_results)
    masked = mask_frame(chosen, desk.names, columns=["old", "new"])
    return masked.select(
        pl.col("field_date").alias("更正日期"),
        pl.col("team_id").alias("考核组"),
        pl.col("table").replace_strict(TABLE_LABELS, default=pl.col("table")).alias("表"),
        pl.col("record_key").alias("记录"),
        pl.col("column").alias("字段"),
        pl.col("old").alias("原值"),
        pl.col("new").alias("新值"),
        pl.col("old_field_date").alias("原报送日期"),
        _yes("reviewed", "复核后更正"),
        _yes("in_results", "原值已用于结果"),
        _yes("in_report", "原值已用于报告"),
    )


def media_table(desk: Desk) -> pl.DataFrame:
    """Records without their recording or photo, and every other media problem."""
    v = desk.view
    if v is None:
        return pl.DataFrame()
    return v.media_problems.select(
        pl.col("problem").replace_strict(MEDIA_PROBLEMS).alias("问题"),
        pl.col("team_id").alias("考核组"),
        pl.col("field_date").alias("报送日期"),
        pl.col("table").replace_strict(TABLE_LABELS, default=pl.col("table")).alias("表"),
        pl.col("record_key").alias("记录"),
        pl.col("file").alias("文件"),
        pl.col("detail").alias("说明"),
    )


def signals_table(desk: Desk) -> pl.DataFrame:
    """Per team per day: late rows, visits outside the team's counties, visitors outside the
    team, overloaded pairs, rows of another team."""
    v = desk.view
    if v is None:
        return pl.DataFrame()
    return v.signals.select(
        pl.col("day").alias("日期"),
        pl.col("team_id").alias("考核组"),
        pl.col("signal").replace_strict(SIGNALS).alias("信号"),
        pl.col("table").replace_strict(TABLE_LABELS, default=pl.col("table")).alias("表"),
        pl.col("record_key").alias("记录或走访小组"),
        pl.col("detail").alias("说明"),
    )


def signal_counts(desk: Desk) -> pl.DataFrame:
    """How many signals of each kind each team has, for the supervisors' overview."""
    v = desk.view
    if v is None or v.signals.height == 0:
        return pl.DataFrame()
    kinds = [k for k in SIGNALS if k in set(v.signals["signal"])]
    wide = (
        v.signals.group_by("team_id", "signal")
        .len()
        .pivot("signal", index="team_id", values="len")
        .sort("team_id")
    )
    return wide.select(
        pl.col("team_id").alias("考核组"),
        *[pl.col(k).fill_null(0).alias(SIGNALS[k]) for k in kinds],
    )


def rejects_table(desk: Desk) -> pl.DataFrame:
    """Rows a delivery brought that the field checks cannot use (with the reason)."""
    v = desk.view
    if v is None:
        return pl.DataFrame()
    who = v.entries.select("seq", "team_id", "field_date")
    return (
        v.rejects.join(who, on="seq", how="left")
        .sort("field_date", "team_id", "table", "row")
        .select(
            pl.col("field_date").alias("报送日期"),
            pl.col("team_id").alias("考核组"),
            pl.col("file").alias("文件"),
            pl.col("row").alias("行"),
            pl.col("column").alias("列"),
            pl.col("expected").alias("应为"),
            pl.col("found").alias("实为"),
        )
    )


def heads_table(desk: Desk) -> pl.DataFrame:
    """The chain head of each day: the hash of its last entry, which commits to all before it."""
    v = desk.view
    if v is None:
        return pl.DataFrame()
    return v.heads.select(
        pl.col("field_date").alias("报送日期"),
        pl.col("seq").alias("最后条目"),
        pl.col("entry_hash").alias("链头（SHA-256）"),
    )


__all__ = [
    "TABLE_LABELS",
    "Desk",
    "arrivals",
    "as_of_date",
    "corrections_table",
    "deliveries_table",
    "heads_table",
    "load_desk",
    "media_table",
    "rejects_table",
    "signal_counts",
    "signals_table",
    "summary_html",
]
