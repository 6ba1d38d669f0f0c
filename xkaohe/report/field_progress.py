"""What ``notebooks/field_progress.ipynb`` shows: the field week day by day (plan 六, 五(六)).

The analysis is :mod:`xkaohe.analyse.progress` (households visited against
the sample, visits per team and day, review states on the day through the
one review rule, counties that may miss the report deadline); this module
words and draws it. Review states are labelled from :data:`xkaohe.codes.REVIEW_STATE`.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from xkaohe import codes
from xkaohe.analyse.progress import REVIEW_COUNTED, FieldProgress, field_progress, parse_day
from xkaohe.report.figures import bars
from xkaohe.report.kit import Results, esc, item_labels, percent


def progress(r: Results, as_of: str = "", city: str = "") -> FieldProgress:
    """Every progress table for the notebook's ``as_of`` (empty: the run's date) and ``city``.

    Raises
    ------
    InputError
        When ``as_of`` is not a date or ``city`` not a city of the run.
    """
    return field_progress(
        r.counties,
        r.households,
        r.findings,
        r.sample_households,
        # the general households planned: the stored plan (as every report's "planned")
        r.sample_plan.filter(pl.col("kind") == "general").select(
            "county_code", "village_code", count=pl.col("planned")
        ),
        r.completeness,
        r.rejects,
        r.plan,
        parse_day(as_of, r.as_of),
        r.as_of,
        city,
    )


def summary(p: FieldProgress) -> str:
    """HTML: one paragraph with the headline numbers."""
    v, counts = p.visits, p.review_counts
    sampled, visited = int(v["sampled"].sum()), int(v["visited"].sum())
    left = (p.deadline - p.as_of).days
    day = f"{p.deadline.month}月{p.deadline.day}日"
    when = f"距{day}报告截止还有 {left} 天" if left >= 0 else f"已过{day}报告截止日 {-left} 天"
    return (
        f"<p>截至 <b>{p.as_of.isoformat()}</b>（{when}），{esc(p.city) if p.city else '全省'}"
        f"抽样建档立卡户 {sampled} 户，已走访 {visited} 户"
        f"（{percent(visited / sampled if sampled else None)}）；"
        f"一般农户已走访 {int(v['general_visited'].sum())} 户"
        f"（计划不少于 {int(v['general_quota'].sum())} 户）；"
        f"考核组问题{codes.REVIEW_STATE.label('overdue')} {int(counts['overdue'].sum())} 个，"
        f"{codes.REVIEW_STATE.label('proposed', short=True)} {int(counts['proposed'].sum())} 条；"
        f"可能无法按期报告的县 {p.behind.height} 个。</p>"
    )


def visits_table(visits: pl.DataFrame) -> pl.DataFrame:
    """Households visited per county, as a Chinese table."""
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


def team_days(daily: pl.DataFrame) -> pl.DataFrame:
    """Households visited per team (rows) and day (columns), with totals."""
    if daily.height == 0:
        return pl.DataFrame(schema={"考核组": pl.String, "合计": pl.Int64})
    days = [f"{d.month}月{d.day}日" for d in sorted(daily["visit_date"].unique().to_list())]
    wide = (
        daily.with_columns(day=pl.col("visit_date").dt.strftime("%-m月%-d日"))
        .pivot(on="day", index="team_id", values="households")
        .sort("team_id")
        .with_columns(pl.col(days).fill_null(0))
    )
    return wide.select(
        pl.col("team_id").alias("考核组"), *days, pl.sum_horizontal(days).alias("合计")
    )


def review_counts_table(counts: pl.DataFrame) -> pl.DataFrame:
    """Problems needing review per unit and state (units with such problems)."""
    return counts.filter(pl.col("needs_review") > 0).select(
        pl.col("city_name").alias("市"),
        pl.col("name").alias("单位"),
        pl.col("needs_review").alias("需复核"),
        *[pl.col(s).alias(codes.REVIEW_STATE.label(s, short=True)) for s in REVIEW_COUNTED],
    )


def open_reviews_table(p: FieldProgress, r: Results) -> pl.DataFrame:
    """The team's problems not reviewed by their due day (overdue, or due on ``as_of``)."""
    df = p.reviews.filter(
        pl.col("review_state").is_in(["overdue", "pending"]) & (pl.col("review_due") <= p.as_of)
    ).join(r.sample_villages.select("village_code", "village_name"), on="village_code", how="left")
    return df.sort("review_due", "problem_id").select(
        pl.col("problem_id").alias("编号"),
        pl.col("team_id").fill_null("").alias("考核组"),
        pl.col("city_name").alias("市"),
        pl.col("county_code").fill_null("").alias("县代码"),
        pl.col("village_name").fill_null("").alias("村"),
        pl.col("content_item")
        .replace_strict(item_labels(r.plan), default=pl.col("content_item"))
        .alias("考核内容"),
        pl.col("description").fill_null("").alias("问题"),
        pl.col("raised_date").cast(pl.String).alias("提出日期"),
        pl.col("review_due").cast(pl.String).alias("应复核日期"),
        codes.REVIEW_STATE.expr(pl.col("review_state")).alias("状态"),
    )


def risk_table(risk: pl.DataFrame) -> pl.DataFrame:
    """The counties that may miss the deadline, with the reasons."""
    return risk.filter(pl.col("behind")).select(
        pl.col("city_name").alias("市"),
        pl.col("county_name").alias("县（市、区）"),
        pl.col("missing").alias("未走访"),
        pl.col("overdue").alias(codes.REVIEW_STATE.label("overdue")),
        pl.col("proposed").alias(codes.REVIEW_STATE.label("proposed", short=True)),
        pl.when(pl.col("completeness_ok"))
        .then(pl.lit("齐全"))
        .otherwise(pl.lit("不全"))
        .alias("报告内容"),
        pl.col("days_left").alias("距截止(天)"),
        pl.col("reasons").alias("原因"),
    )


def visits_figure(visits: pl.DataFrame) -> go.Figure:
    """Per county: visited and still-missing sampled households (stacked bars)."""
    rows = visits.sort("county_code").with_columns(
        name=pl.format("{} {}", "city_name", "county_name")
    )
    series = [("visited", "已走访", "#2ca02c"), ("missing", "未走访", "#d62728")]
    return bars(rows, "name", series, "各县抽样建档立卡户走访进度", horizontal=False, unit="户")


def daily_figure(daily: pl.DataFrame, by: str = "team_id") -> go.Figure:
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


def reviews_figure(counts: pl.DataFrame) -> go.Figure:
    """Problems needing review per city (its counties included), by review state."""
    by_city = counts.group_by("city_name", maintain_order=True).agg(pl.col(REVIEW_COUNTED).sum())
    series = [
        (s, codes.REVIEW_STATE.label(s, short=True), codes.REVIEW_STATE.colour(s))
        for s in REVIEW_COUNTED
    ]
    return bars(by_city, "city_name", series, "各市问题复核进度（含所辖县）", horizontal=False)


__all__ = [
    "daily_figure",
    "open_reviews_table",
    "progress",
    "review_counts_table",
    "reviews_figure",
    "risk_table",
    "summary",
    "team_days",
    "visits_figure",
    "visits_table",
]
