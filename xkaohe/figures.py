"""Plotly figures for the reports (Chinese labels, no external resources)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

_TYPE_LABEL = {"poor": "贫困村", "nonpoor_many_poor": "贫困人口较多的非贫困村"}
_TYPE_COLOR = {"poor": "#d62728", "nonpoor_many_poor": "#1f77b4"}


def village_draw(candidates: pl.DataFrame) -> go.Figure:
    """Candidates by remoteness and random number; drawn villages stand out.

    The order key is prn / (1 + tilt * remoteness): lines of equal key show why
    remote villages are more likely to be drawn (plan 五(七)1, 向边远村倾斜).
    """
    fig = go.Figure()
    for vtype, label in _TYPE_LABEL.items():
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
