"""Sign-off in the reports: the signature block, the provincial list, the index labels.

Plan 六(五): team reports are submitted 经组长和副组长签字; the provincial
summary report rests on them (在汇总、分析市、县交叉考核报告…的基础上). The
statuses are decided once in :mod:`xkaohe.analyse.signoff`; this module only
words them in Chinese.
"""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from xkaohe.analyse.signoff import collect_signoff, team_names
from xkaohe.codes import FEEDBACK_STATE, REPORT_KIND, SIGNOFF_STATUS
from xkaohe.io.results import read_result, run_plan
from xkaohe.report.kit import table_html
from xkaohe.results_spec import Result

STATUS_LABELS = SIGNOFF_STATUS.labels()
"""Wording of :data:`xkaohe.analyse.signoff.STATUSES` (:data:`xkaohe.codes.SIGNOFF_STATUS`)."""
KIND_LABELS = REPORT_KIND.labels()


def index_labels(signoff: pl.DataFrame) -> dict[str, tuple[str, str]]:
    """Stem -> (status code, short Chinese text) for ``index.html``."""
    out: dict[str, tuple[str, str]] = {}
    for r in signoff.iter_rows(named=True):
        text = STATUS_LABELS.get(r["status"], r["status"])
        if r["status"] in ("signed", "partly_signed") and r["signers"]:
            text += f"（{r['signers']}，{(r['signed_at'] or '')[:10]}）"
        out[r["stem"]] = (r["status"], text)
    return out


def feedback_labels(state: pl.DataFrame) -> dict[str, str]:
    """``city:<name>`` -> its feedback packages' state in Chinese, for ``index.html``.

    ``state``: :func:`xkaohe.run.signoff.feedback_state` (city, state, released_by,
    released_at).
    """
    out: dict[str, str] = {}
    for r in state.iter_rows(named=True):
        text = "反馈包：" + FEEDBACK_STATE.label(r["state"])
        if r["released_by"]:
            text += f"（{r['released_by']}，{str(r['released_at'] or '')[:10]}）"
        out[f"city:{r['city']}"] = text
    return out


def signoff_table(run: Path) -> pl.DataFrame:
    """The team reports the provincial report rests on, with whether they are signed (Chinese)."""
    plan = run_plan(run)
    df = collect_signoff(run, plan.signoff.roles)
    return (
        df.filter(pl.col("kind").is_not_null())
        .sort("city", "kind", "stem")
        .select(
            pl.col("city").alias("被考核市"),
            pl.col("team_id").fill_null("—").alias("考核组"),
            pl.col("title").alias("报告"),
            pl.col("kind").replace_strict(KIND_LABELS, default=pl.col("kind")).alias("类型"),
            pl.col("status").replace_strict(STATUS_LABELS, default=pl.col("status")).alias("签字"),
            pl.col("signers").fill_null("").alias("签字人"),
            pl.col("signed_at").fill_null("").str.slice(0, 10).alias("签字日期"),
        )
    )


def signoff_summary(run: Path) -> pl.DataFrame:
    """Counts of team reports by sign-off state (Chinese headers)."""
    plan = run_plan(run)
    df = collect_signoff(run, plan.signoff.roles).filter(pl.col("kind").is_not_null())
    order = {s: i for i, s in enumerate(STATUS_LABELS)}
    return (
        df.group_by("status")
        .len("n")
        .with_columns(pl.col("status").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
        .sort("_o")
        .select(
            pl.col("status").replace_strict(STATUS_LABELS).alias("签字状态"),
            pl.col("n").alias("报告数"),
        )
    )


def report_city(run: Path, city_name: str = "", county_code: str = "") -> str:
    """The city a team report is about: ``city_name``, the city of ``county_code``, or the
    first county's city (the notebooks' default when a parameter is left empty)."""
    if city_name:
        return city_name
    counties = read_result(run, Result.COUNTIES).sort("county_code")
    if county_code:
        counties = counties.filter(pl.col("county_code") == county_code)
    return str(counties["city_name"][0]) if counties.height else ""


def signoff_html(run: Path) -> str:
    """The provincial report's list of team reports with their sign-off, as HTML."""
    table = signoff_table(run)
    if table.height == 0:
        return "<p>本次运行尚未登记考核组报告（报告阶段尚未运行）。</p>"
    counts = "，".join(
        f"{r['签字状态']} {r['报告数']} 份" for r in signoff_summary(run).iter_rows(named=True)
    )
    return f"<p>考核组报告共 {table.height} 份：{counts}。</p>" + table_html(
        table, max_rows=table.height + 1
    )


def signature_block(run: Path, city_name: str = "", county_code: str = "") -> str:
    """HTML block with the leader's and deputy's names for a team report (六(五))."""
    city = report_city(run, city_name, county_code)
    names = team_names(run, [city]) if (run / "lottery").is_dir() else pl.DataFrame()
    if names.height == 0:
        return "<p>（本报告对应的考核组未见抽签结果，无法列出组长、副组长。）</p>"
    r = names.row(0, named=True)
    cell = "padding:18px 24px;border-bottom:1px solid #333;min-width:180px"
    return (
        '<div class="xk-signature" style="margin-top:24px">'
        f"<p><b>考核组 {html.escape(r['team_id'])} 签字</b>"
        "（方案六（五）：经组长和副组长签字后提交省扶贫办；"
        "电子签字以 xkaohe sign 记录为准，见报告目录）</p>"
        '<table style="border-collapse:collapse"><tr>'
        f'<td style="{cell}">组长：{html.escape(r["leader"])}</td>'
        f'<td style="{cell}">副组长：{html.escape(r["deputy"])}</td>'
        f'<td style="{cell}">日期：</td></tr></table></div>'
    )


__all__ = [
    "KIND_LABELS",
    "STATUS_LABELS",
    "feedback_labels",
    "index_labels",
    "report_city",
    "signature_block",
    "signoff_html",
    "signoff_summary",
    "signoff_table",
]
