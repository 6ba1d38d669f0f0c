"""The reports' plotly figures: one interval chart, bars, the village draw (Chinese, offline).

:func:`interval_chart` is the one chart of estimates with their intervals:
a county's rates (one panel per rate), a city's counties side by side, the
provincial forest chart of one rate (counties grouped by city), the items of
两不愁三保障 and the explorer's rates. Colours and legend names are the
registry's (:mod:`xkaohe.codes`); nothing here decides a status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from xkaohe import codes
from xkaohe.report.kit import percent_expr, standard_text

FONT = {"family": "Noto Sans CJK SC, Microsoft YaHei, SimHei, sans-serif"}
THRESHOLD_COLOUR = "#b00020"


def _span(values: Sequence[float | None]) -> list[float]:
    """An x range around ``values`` (shares) with a margin, so a 0% marker shows whole."""
    known = [v for v in values if v is not None and v == v]
    lo, hi = (min(known), max(known)) if known else (0.0, 1.0)
    pad = 0.06 * max(hi - lo, 0.02)
    return [lo - pad, hi + pad]


def _panel(part: pl.DataFrame, statuses: codes.CodeSet) -> dict[str, Any]:
    """What a panel's points show: positions, colours, error bars, hover and the x range."""
    grouped = "group" in part.columns
    y = [part["group"].to_list(), part["y"].to_list()] if grouped else part["y"].to_list()
    bars = part.select(
        up=(pl.col("high") - pl.col("est")).clip(lower_bound=0).fill_null(0.0),
        down=(pl.col("est") - pl.col("low")).clip(lower_bound=0).fill_null(0.0),
    )
    hover = part.select(
        statuses.expr(pl.col("status")),
        percent_expr(pl.col("ratio")),
        percent_expr(pl.col("low")),
        percent_expr(pl.col("high")),
        pl.format("{}{}", pl.col("n").fill_null(0), pl.col("unit"))
        if "unit" in part.columns
        else pl.lit(""),
    ).rows()
    estimate = {
        "x": part["est"].fill_null(float("nan")).to_list(),
        "y": y,
        "marker": {"color": [statuses.colour(s) for s in part["status"]]},
        "error_x": {"array": bars["up"].to_list(), "arrayminus": bars["down"].to_list()},
        "customdata": hover,
    }
    values = [*part["low"], *part["high"], *part["ratio"], part["threshold"][0]]
    ratio = {"x": part["ratio"].to_list(), "y": y}
    return {"estimate": estimate, "ratio": ratio, "range": _span(values)}


def _panels(rows: pl.DataFrame) -> list[pl.DataFrame]:
    return [rows.filter(pl.col("panel") == p) for p in rows["panel"].unique(maintain_order=True)]


def interval_chart(
    rows: pl.DataFrame,
    title: str,
    statuses: codes.CodeSet = codes.RATE_STATUS_REFERENCE,
    stacked: bool = True,
    legend: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> go.Figure:
    """Estimates with their intervals, the official ratio and the threshold, panel by panel.

    Parameters
    ----------
    rows
        One row per point: ``panel`` (its panel's title), ``y`` (its row
        label; with ``group`` the rows are grouped, e.g. counties by city),
        ``est, low, high`` (the design-weighted estimate and its interval),
        ``ratio`` (the official ratio; null for none), ``status`` (a code of
        ``statuses``: colours the point) and, per panel, ``threshold`` and
        ``side`` (null for none). ``n`` and ``unit`` go into the hover text.
    title
        The chart's title.
    statuses
        The wording and colours of the statuses (by scope: :mod:`xkaohe.codes`).
    stacked
        Panels one above the other (else side by side, rows shared).
    legend
        The status codes listed in the legend (default: those present). The
        traces depend only on the panels and ``legend``: :func:`refill` puts
        another county's points into the same figure.
    confidence
        The intervals' level (for the labels).
    """
    parts = _panels(rows)
    n = max(len(parts), 1)
    fig = make_subplots(
        rows=n if stacked else 1,
        cols=1 if stacked else n,
        subplot_titles=[p["panel"][0] for p in parts],
        shared_yaxes=not stacked,
        vertical_spacing=0.5 / n if stacked else 0.0,
        horizontal_spacing=0.05,
    )
    conf = f"{confidence * 100:g}%"
    for i, part in enumerate(parts, start=1):
        shown = _panel(part, statuses)
        where = {"row": i, "col": 1} if stacked else {"row": 1, "col": i}
        est = shown["estimate"]
        fig.add_trace(
            go.Scatter(
                x=est["x"],
                y=est["y"],
                customdata=est["customdata"],
                mode="markers",
                name=f"设计加权估计及{conf}置信区间",
                showlegend=False,
                marker={**est["marker"], "size": 9},
                error_x={"type": "data", "symmetric": False, **est["error_x"]},
                hovertemplate="%{y}：%{customdata[0]}<br>抽样比率 %{customdata[1]}"
                "<br>设计加权估计 %{x:.1%}"
                f"<br>{conf}置信区间 %{{customdata[2]}}—%{{customdata[3]}}"
                "<br>分母 %{customdata[4]}<extra></extra>",
            ),
            **where,
        )
        fig.add_trace(
            go.Scatter(
                **shown["ratio"],
                mode="markers",
                name="抽样比率（官方口径）",
                legendgroup="ratio",
                showlegend=i == 1,
                marker={
                    "symbol": "line-ns-open",
                    "size": 14,
                    "color": "black",
                    "line": {"width": 2},
                },
                hoverinfo="skip",
            ),
            **where,
        )
        limit, side = part["threshold"][0], part["side"][0]
        if limit is not None:
            fig.add_vline(
                x=limit,
                line={"color": THRESHOLD_COLOUR, "dash": "dash", "width": 2},
                annotation_text=f"标准 {standard_text(side, limit)}",
                annotation_font_color=THRESHOLD_COLOUR,
                **where,
            )
        fig.update_xaxes(range=shown["range"], tickformat=".0%", **where)
        if stacked and "group" not in part.columns and part.height == 1:
            fig.update_yaxes(showticklabels=False, **where)
    listed = legend if legend is not None else rows["status"].unique(maintain_order=True).to_list()
    for code in (c for c in statuses.order if c in listed):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=statuses.label(code),
                meta=code,
                marker={"color": statuses.colour(code), "size": 9},
            )
        )
    per_panel = 110 + 17 * rows.height / n
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        title={"text": title, "x": 0.01},
        height=int(120 + per_panel * (n if stacked else 1)),
        template="plotly_white",
        legend={"orientation": "h", "y": -0.06, "yanchor": "top", "x": 0},
        margin={"l": 10, "r": 20, "t": 80, "b": 40},
        font=FONT,
    )
    return fig


def refill(fig: go.Figure, rows: pl.DataFrame, title: str, statuses: codes.CodeSet) -> None:
    """Put other points (same panels) into a chart of :func:`interval_chart`, in place.

    Only what changes is sent: points, colours, error bars, hover, x ranges,
    the legend's wording and the title, so a widget redraws at once.
    """
    with fig.batch_update():
        for i, part in enumerate(_panels(rows)):
            shown = _panel(part, statuses)
            fig.data[2 * i].update(shown["estimate"])
            fig.data[2 * i + 1].update(shown["ratio"])
            fig.layout[f"xaxis{i + 1 if i else ''}"].range = shown["range"]
        for trace in fig.data:
            if trace.meta in statuses:
                trace.name = statuses.label(trace.meta)
        fig.layout.title.text = title


def rate_points(rates: pl.DataFrame, layout: str = "county") -> tuple[pl.DataFrame, codes.CodeSet]:
    """Rates in long form (:func:`xkaohe.report.kit.rate_rows`) as points of an interval chart.

    ``layout``: ``county`` — one county, a panel per rate; ``counties`` — a
    panel per judged rate, a row per county (needs ``county_name``);
    ``forest`` — as ``counties``, rows grouped by city (needs ``city_name``).
    The statuses are worded by the counties' scope when they share one, else
    as reference lines (the tables beside the chart give each county's own
    wording).
    """
    scopes = rates["scope"].unique().to_list()
    statuses = codes.status_set(scopes[0] if len(scopes) == 1 else None)
    if layout == "county":
        return rates.with_columns(panel=pl.col("label"), y=pl.col("label")), statuses
    rows = rates.filter(pl.col("side").is_not_null()).with_columns(
        panel=pl.col("label"), y=pl.col("county_name")
    )
    return (rows.with_columns(group=pl.col("city_name")) if layout == "forest" else rows), statuses


def rate_chart(
    rates: pl.DataFrame,
    title: str,
    layout: str = "county",
    legend: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> go.Figure:
    """:func:`interval_chart` of :func:`rate_points` (``counties``: panels side by side)."""
    rows, statuses = rate_points(rates, layout)
    return interval_chart(rows, title, statuses, layout != "counties", legend, confidence)


def bars(
    rows: pl.DataFrame,
    category: str,
    series: Sequence[tuple[str, str, str]],
    title: str,
    horizontal: bool = True,
    unit: str = "个",
) -> go.Figure:
    """Stacked bars: one bar per ``category`` value, one segment per ``(column, name, colour)``."""
    cats = rows[category].to_list()
    cat, value = ("y", "x") if horizontal else ("x", "y")
    fig = go.Figure()
    for column, name, colour in series:
        values = rows[column].to_list()
        fig.add_trace(
            go.Bar(
                x=values if horizontal else cats,
                y=cats if horizontal else values,
                orientation="h" if horizontal else "v",
                name=name,
                marker_color=colour,
                hovertemplate=f"%{{{cat}}}：%{{{value}}}{unit}<extra>{name}</extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        title={"text": title, "x": 0.01},
        height=int(140 + 26 * len(cats)) if horizontal else 440,
        template="plotly_white",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        margin={"l": 10, "r": 20, "t": 80, "b": 40},
        font=FONT,
    )
    if horizontal:
        fig.update_yaxes(autorange="reversed")
    else:
        fig.update_xaxes(tickangle=-60, tickfont={"size": 9})
    return fig


def village_draw(candidates: pl.DataFrame) -> go.Figure:
    """Candidates by remoteness and random number; drawn villages stand out.

    The order key is prn / (1 + tilt * remoteness): lines of equal key show why
    remote villages are more likely to be drawn (plan 五(七)1, 向边远村倾斜).
    """
    fig = go.Figure()
    for vtype in codes.VILLAGE_TYPE:
        for drawn in (False, True):
            part = candidates.filter(
                (pl.col("village_type") == vtype.code) & (pl.col("drawn") == drawn)
            )
            if part.height == 0:
                continue
            name_col = "village_name" if "village_name" in part.columns else "village_code"
            fig.add_trace(
                go.Scatter(
                    x=part["remoteness"].to_list(),
                    y=part["prn"].to_list(),
                    mode="markers",
                    name=f"{vtype.label}（{'入样' if drawn else '未入样'}）",
                    marker={
                        "color": vtype.colour,
                        "size": 13 if drawn else 7,
                        "symbol": "star" if drawn else "circle",
                        "opacity": 1 if drawn else 0.45,
                        "line": {"width": 1, "color": "black"} if drawn else {"width": 0},
                    },
                    text=part[name_col].to_list(),
                    customdata=part.select("xi", "tilt_weight").rows(),
                    hovertemplate="%{text}<br>偏远指数 %{x:.3f}<br>随机数 %{y:.4f}"
                    "<br>排序键 %{customdata[0]:.4f}<extra></extra>",
                )
            )
    fig.update_layout(
        title="候选村与入样村（排序键 = 随机数 ÷ 倾斜权重，越小越先入样）",
        xaxis_title="偏远指数（距离分位、基础设施短板、公共服务短板的平均）",
        yaxis_title="永久随机数",
        height=460,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
        font=FONT,
    )
    return fig


__all__ = ["bars", "interval_chart", "rate_chart", "rate_points", "refill", "village_draw"]
