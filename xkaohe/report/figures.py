"""Plotly figures for the reports (Chinese labels, no external resources)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from xkaohe.schemas import VILLAGE_TYPE

_TYPE_COLOR = {"poor": "#d62728", "nonpoor_many_poor": "#1f77b4"}


def village_draw(candidates: pl.DataFrame) -> go.Figure:
    """Candidates by remoteness and random number; drawn villages stand out.

    The order key is prn / (1 + tilt * remoteness): lines of equal key show why
    remote villages are more likely to be drawn (plan 五(七)1, 向边远村倾斜).
    """
    fig = go.Figure()
    for vtype, label in VILLAGE_TYPE.items():
        for drawn in (False, True):
            part = candidates.filter((pl.col("village_type") == vtype) & (pl.col("drawn") == drawn))
            if part.height == 0:
                continue
            name_col = "village_name" if "village_name" in part.columns else "village_code"
            fig.add_trace(
                go.Scatter(
                    x=part["remoteness"].to_list(),
                    y=part["prn"].to_list(),
                    mode="markers",
                    name=f"{label}（{'入样' if drawn else '未入样'}）",
                    marker={
                        "color": _TYPE_COLOR[vtype],
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
    )
    return fig


# ------------------------------------------------------------ rates and items

STATUS_COLOR = {"fail": "#d62728", "not_found": "#1f77b4", "pass": "#2ca02c"}
STATUS_LABEL = {"fail": "未达标", "not_found": "未发现超标", "pass": "达标"}
_NO_STATUS = "#1f77b4"
_THRESHOLD_COLOR = "#b00020"


def _span(values: list[float | None], pad: float = 0.08) -> list[float]:
    """An axis range around ``values`` (shares), kept within [0, 1] plus a margin."""
    known = [v for v in values if v is not None]
    lo, hi = (min(known), max(known)) if known else (0.0, 1.0)
    width = max(hi - lo, 0.02)
    return [max(lo - pad * width, -0.005), min(hi + pad * width, 1.005)]


def _errors(part: pl.DataFrame) -> dict[str, object]:
    """Asymmetric error bars from ``est`` to ``low`` and ``high`` (read, not computed)."""
    bars = part.select(up=pl.col("high") - pl.col("est"), down=pl.col("est") - pl.col("low"))
    return {
        "type": "data",
        "symmetric": False,
        "array": bars["up"].to_list(),
        "arrayminus": bars["down"].to_list(),
        "thickness": 2,
        "width": 6,
    }


def _interval_traces(part: pl.DataFrame, y: list[str], shown: set[str]) -> list[go.Scatter]:
    """Design-based estimate with its interval (coloured by status) and the official ratio."""
    traces = []
    statuses = part["status"].to_list()
    for status in dict.fromkeys(statuses):
        mask = [s == status for s in statuses]
        sub = part.filter(pl.Series(mask))
        name = STATUS_LABEL.get(status or "", "估计及95%区间（不设标准）")
        traces.append(
            go.Scatter(
                x=sub["est"].to_list(),
                y=[v for v, m in zip(y, mask, strict=True) if m],
                mode="markers",
                name=f"设计加权估计及置信区间：{name}" if status else name,
                legendgroup=str(status),
                showlegend=str(status) not in shown,
                marker={"color": STATUS_COLOR.get(status or "", _NO_STATUS), "size": 11},
                error_x=_errors(sub),
                hovertemplate="%{y}<br>估计 %{x:.2%}<extra></extra>",
            )
        )
        shown.add(str(status))
    traces.append(
        go.Scatter(
            x=part["ratio"].to_list(),
            y=y,
            mode="markers",
            name="抽样比率（官方口径）",
            legendgroup="ratio",
            showlegend="ratio" not in shown,
            marker={"symbol": "line-ns-open", "size": 16, "color": "black", "line": {"width": 2}},
            hovertemplate="%{y}<br>抽样比率 %{x:.2%}<extra></extra>",
        )
    )
    shown.add("ratio")
    return traces


def rate_intervals(rates: pl.DataFrame, title: str = "") -> go.Figure:
    """One county's rates, one panel each: estimate, 95% interval, official ratio, threshold.

    ``rates`` is :func:`xkaohe.views.rate_rows` for one county. A panel's
    dashed red line is the plan's threshold: an interval reaching across it
    is what makes a rate 未发现超标 rather than 达标.
    """
    n = rates.height
    fig = make_subplots(
        rows=n, cols=1, subplot_titles=rates["label"].to_list(), vertical_spacing=0.6 / max(n, 1)
    )
    shown: set[str] = set()
    for i, row in enumerate(rates.iter_rows(named=True), start=1):
        part = rates.slice(i - 1, 1)
        for trace in _interval_traces(part, [row["label"]], shown):
            fig.add_trace(trace, row=i, col=1)
        limit = row["threshold"]
        if limit is not None:
            side = "≤" if row["side"] == "max" else "≥"
            fig.add_vline(
                x=limit,
                line={"color": _THRESHOLD_COLOR, "dash": "dash", "width": 2},
                annotation_text=f"标准 {side}{limit:.0%}",
                annotation_font_color=_THRESHOLD_COLOR,
                row=i,
                col=1,
            )
        fig.update_xaxes(
            range=_span([row["low"], row["high"], row["ratio"], limit]),
            tickformat=".0%",
            row=i,
            col=1,
        )
        fig.update_yaxes(showticklabels=False, row=i, col=1)
    fig.update_layout(
        title=title or "各项指标：设计加权估计、95%置信区间与标准线",
        height=130 * n + 140,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.08},
        margin={"t": 80, "b": 40},
    )
    return fig


def item_intervals(items: pl.DataFrame) -> go.Figure:
    """两不愁三保障 and the other items: share with its 95% interval, one row each.

    ``items`` is the county's rows of ``county_items`` in report order.
    """
    part = items.with_columns(pl.lit(None, pl.String).alias("status"))
    y = part["label"].to_list()
    fig = go.Figure(_interval_traces(part.rename({"rate": "ratio"}), y, set()))
    fig.data[0].name = "设计加权估计及95%置信区间"
    fig.update_layout(
        title="“两不愁三保障”及饮水安全等分项达标比例",
        xaxis={"tickformat": ".0%", "range": _span([*items["low"], *items["rate"], 1.0])},
        yaxis={"autorange": "reversed"},
        height=60 + 42 * items.height + 100,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15},
        margin={"l": 140},
    )
    return fig


def county_rates(rates: pl.DataFrame) -> go.Figure:
    """A city's counties side by side: one panel per rate with a threshold, counties as rows.

    ``rates`` is :func:`xkaohe.views.rate_rows` for the city's counties with
    ``county_name``.
    """
    judged = rates.filter(pl.col("side").is_not_null()).sort("order", "county_code")
    labels = judged["label"].unique(maintain_order=True).to_list()
    fig = make_subplots(
        rows=1, cols=len(labels), subplot_titles=labels, shared_yaxes=True, horizontal_spacing=0.05
    )
    shown: set[str] = set()
    for j, label in enumerate(labels, start=1):
        part = judged.filter(pl.col("label") == label)
        for trace in _interval_traces(part, part["county_name"].to_list(), shown):
            fig.add_trace(trace, row=1, col=j)
        limit = part["threshold"][0]
        side = "≤" if part["side"][0] == "max" else "≥"
        fig.add_vline(
            x=limit,
            line={"color": _THRESHOLD_COLOR, "dash": "dash", "width": 2},
            annotation_text=f"{side}{limit:.0%}",
            annotation_font_color=_THRESHOLD_COLOR,
            row=1,
            col=j,
        )
        fig.update_xaxes(
            range=_span([*part["low"], *part["high"], *part["ratio"], limit]),
            tickformat=".0%",
            row=1,
            col=j,
        )
    n = judged["county_code"].n_unique()
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        title="各县（市、区）指标比较：设计加权估计、95%置信区间与标准线",
        height=160 + 38 * n,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.12 if n > 4 else -0.3},
        margin={"l": 90},
    )
    return fig
