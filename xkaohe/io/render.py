"""Rendered reports: executed notebooks to offline HTML, the shared plotly.js, index.html."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe.io.files import read_json, write_text
from xkaohe.io.ledger import day_heads
from xkaohe.io.paths import report_stem
from xkaohe.io.plan_file import load_plan
from xkaohe.io.run import is_synthetic, read_counties

# nbconvert's lab template links require.js and MathJax from a CDN; reports
# must open offline, and require.js would also hide plotly's global.
_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I)
_EXTERNAL_LINK = re.compile(r"<link[^>]*\shref=\"https?://[^\"]*\"[^>]*>", re.I)
# ... and imports mermaid as an inline ES module from a CDN.
_REMOTE_MODULE = re.compile(
    r"<script[^>]*type=\"module\"[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*</script>",
    re.I | re.S,
)
# plotly names each figure's div with a random uuid4: numbered instead, so that the
# same notebook gives the same HTML byte for byte (local and Dask runs compared).
_PLOT_ID = re.compile(r'id="([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})"')
_exporter: Any = None  # one HTML exporter per process: its Jinja templates compile once


def install_plotlyjs(path: Path) -> None:
    """One local copy of plotly.js for the whole report set (from the plotly package)."""
    from plotly.offline import get_plotlyjs

    if path.exists():
        return
    write_text(path, get_plotlyjs())


def footer_html(run: Path) -> str:
    """Run id, plan, seed and data hashes, for the foot of every report."""
    parts = [f"运行编号：{html.escape(run.name)}"]
    cert_path = run / "sample" / "certificate.json"
    if cert_path.exists():
        cert = read_json(cert_path)
        # which plan (a year's, or an example) the report followed, by its own title
        plan_file = Path(str(cert["plan"]["path"]))
        if plan_file.is_file():
            title = load_plan(plan_file).title
            parts.append(f"方案：{html.escape(title)}（{html.escape(plan_file.name)}）")
        parts.append(f"方案文件 SHA-256：{cert['plan']['sha256'][:16]}…")
        parts.append(f"随机种子：{html.escape(str(cert['seed']))}")
        parts.append(f"抽样规程：{cert['protocol']}")
        frame = "；".join(
            f"{v['file']} {v['sha256'][:12]}…" for _, v in sorted(cert["frame"]["files"].items())
        )
        parts.append(f"底册文件：{html.escape(frame)}")
    heads = day_heads(run)  # recorded outside the system, they show the ledger was not rewritten
    if heads:
        parts.append(
            "实地核查数据台账链头（各日最后一条）："
            + "；".join(f"{html.escape(d)} 第{s}条 {h[:16]}…" for d, s, h in heads)
        )
    if is_synthetic(run):
        parts.append("<b>演示数据（合成），不反映真实情况</b>")
    return (
        '<footer style="margin-top:32px;padding-top:8px;border-top:1px solid #ccc;'
        'color:#555;font-size:12px">' + "<br>".join(parts) + "</footer>"
    )


def offline(markup: str) -> str:
    """Drop script and stylesheet links to remote hosts."""
    for pattern in (_EXTERNAL_SCRIPT, _EXTERNAL_LINK, _REMOTE_MODULE):
        markup = pattern.sub("", markup)
    return markup


def stable_plot_ids(markup: str) -> str:
    """Each plotly figure's random div id replaced by ``xk-plot-N``, in order of appearance."""
    for n, uid in enumerate(dict.fromkeys(_PLOT_ID.findall(markup)), start=1):
        markup = markup.replace(uid, f"xk-plot-{n}")
    return markup


def _html_exporter() -> Any:
    """nbconvert's lab HTML, code hidden, without the preprocessors that do nothing here.

    The default list runs (and re-validates the notebook after) eleven
    preprocessors, of which the three enabled ones are no-ops for reports
    (no cell tags or patterns to remove, no input shown to highlight); the
    template's own CSS preprocessor stays.
    """
    global _exporter
    if _exporter is None:
        from nbconvert import HTMLExporter

        _exporter = HTMLExporter(
            template_name="lab",
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            default_preprocessors=[],
        )
    return _exporter


def report_html(nb: Any, title: str, footer: str) -> str:
    """An executed notebook (a NotebookNode) as HTML: code hidden, Chinese, offline, footer."""
    body, _ = _html_exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = re.sub(r"<html[^>]*>", '<html lang="zh-CN">', offline(body), count=1)
    body = body.replace("</body>", footer + "\n</body>", 1)
    return stable_plot_ids(body)


def write_report_html(nb: Any, out: Path, title: str, footer: str) -> None:
    """:func:`report_html` of an executed notebook (a NotebookNode), written to ``out``."""
    write_text(out, report_html(nb, title, footer))


def _link(
    run: Path, stem: str, text: str, failed: dict[str, str], current: set[str] | None = None
) -> str:
    if stem in failed:
        return (
            f'<span style="color:#b00020" title="{html.escape(failed[stem])}">'
            f"{html.escape(text)}（失败）</span>"
        )
    # only a report rendered from the run's present state: never a stale file left on disk
    if (current is None or stem in current) and (run / "reports" / f"{stem}.html").exists():
        return f'<a href="{html.escape(stem)}.html">{html.escape(text)}</a>'
    return f'<span style="color:#888">{html.escape(text)}（未生成）</span>'


def write_index(
    run: Path,
    status: pl.DataFrame,
    title: str = "交叉考核报告目录",
    failed: dict[str, str] | None = None,
    signoff: dict[str, tuple[str, str]] | None = None,
    current: set[str] | None = None,
    notes: dict[str, str] | None = None,
) -> Path:
    """``reports/index.html``: every report by city, each county with its status.

    Under each city: its report (with sign-off and feedback state), its
    comparison (比对核查, ``compare_<city>``), then its counties.

    ``status``: county_code, verdict, verdict_label, verdict_colour (the stored
    verdict, worded and coloured by the caller from the one registry), ok, shortfall.
    ``current``: the reports rendered from the run's present state; others are
    not linked (None: every report on disk). ``notes``: short texts (worded by the
    caller) after a report's link, by stem, or after a city's heading, by
    ``city:<name>`` (its feedback packages' state).
    """
    bad = failed or {}
    noted = notes or {}

    def link(stem: str, text: str) -> str:
        return _link(run, stem, text, bad, current) + note(stem)

    def note(key: str) -> str:
        text = noted.get(key)
        return f' <small class="note">{html.escape(text)}</small>' if text else ""

    signed = signoff or {}

    def sig(stem: str) -> str:  # a team report's sign-off: (status code, Chinese text)
        if stem not in signed:
            return ""
        code, text = signed[stem]
        return f' <small class="sig sig-{html.escape(code)}">{html.escape(text)}</small>'

    counties = (
        read_counties(run / "frame")
        .join(status, on="county_code", how="left")
        .sort("city_name", "county_code")
    )
    top = " · ".join(
        [
            link("provincial", "全省交叉考核总报告"),
            link("lottery", "考核组组建与抽签结果"),
            link("field_progress", "实地核查进度"),
            link("supervision", "督查组：考核纪律遵守情况"),
            *(
                [link("rectification", "整改落实情况")]
                if (run / "reports" / "rectification.html").exists()
                else []
            ),
        ]
    )
    sections = [f"<p>{top}</p>"]
    for city in counties["city_name"].unique(maintain_order=True).to_list():
        rows = []
        for r in counties.filter(pl.col("city_name") == city).iter_rows(named=True):
            code = r["county_code"]
            rates = (
                "—"
                if r["verdict_label"] is None
                else f'<span class="verdict" data-verdict="{html.escape(r["verdict"] or "")}" '
                f'style="color:{html.escape(r["verdict_colour"])}">'
                f"{html.escape(r['verdict_label'])}</span>"
            )
            complete = (
                "—"
                if r["ok"] is None
                else '<span style="color:#2e7d32">齐全</span>'
                if r["ok"]
                else f'<span style="color:#b00020">{html.escape(r["shortfall"] or "不齐全")}</span>'
            )
            paired = (
                link(report_stem("paired", code), "结对帮扶") + sig(report_stem("paired", code))
                if r["national_poverty_county"] and r["paired_helper_county"]
                else ""
            )
            rows.append(
                f"<tr><td>{link(report_stem('county', code), r['county_name'])}"
                f"{sig(report_stem('county', code))}</td>"
                f"<td>{rates}</td><td>{complete}</td>"
                f"<td>{link(report_stem('sample', code), '抽样')}</td><td>{paired}</td></tr>"
            )
        sections.append(
            f"<h2>{link(report_stem('city', city), city)}{sig(report_stem('city', city))}"
            f"{note('city:' + city)}</h2>"
            f"<p>{link(report_stem('compare', city), '比对核查：陈述与考核核实情况')}</p>"
            "<table><tr><th>县（市、区）</th><th>三率一度结论</th><th>报告完整性</th>"
            f"<th>抽样</th><th>结对</th></tr>{''.join(rows)}</table>"
        )
    banner = (
        '<div style="background:#b00020;color:#fff;padding:10px;font-weight:bold">'
        "演示数据：以下报告由合成的模拟数据生成，不反映任何真实地区的情况。</div>"
        if is_synthetic(run)
        else ""
    )
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:24px}}"
        "td,th{padding:3px 12px;border-bottom:1px solid #eee;text-align:left}"
        ".sig{color:#888}.sig-signed{color:#2e7d32}.sig-partly_signed{color:#8a6d00}"
        ".sig-changed,.sig-invalid,.sig-wrong_signer{color:#b00020;font-weight:bold}"
        ".note{color:#555;font-weight:normal}"
        "</style></head><body>"
        f"{banner}<h1>{html.escape(title)}</h1>{''.join(sections)}{footer_html(run)}</body></html>"
    )
    out = run / "reports" / "index.html"
    write_text(out, page)
    return out
