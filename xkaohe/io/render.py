"""Rendered reports: executed notebooks to offline HTML, the shared plotly.js, index.html."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

from xkaohe.io.files import read_json
from xkaohe.io.run import is_synthetic

if TYPE_CHECKING:
    from xkaohe.batch import JobResult

# nbconvert's lab template links require.js and MathJax from a CDN; reports
# must open offline, and require.js would also hide plotly's global.
_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I)
_EXTERNAL_LINK = re.compile(r"<link[^>]*\shref=\"https?://[^\"]*\"[^>]*>", re.I)


def install_plotlyjs(path: Path) -> None:
    """One local copy of plotly.js for the whole report set (from the plotly package)."""
    from plotly.offline import get_plotlyjs

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(get_plotlyjs(), encoding="utf-8")


def footer_html(run: Path) -> str:
    """Run id, plan, seed and data hashes, for the foot of every report."""
    parts = [f"运行编号：{html.escape(run.name)}"]
    cert_path = run / "sample" / "certificate.json"
    if cert_path.exists():
        cert = read_json(cert_path)
        parts.append(f"方案文件 SHA-256：{cert['plan']['sha256'][:16]}…")
        parts.append(f"随机种子：{html.escape(str(cert['seed']))}")
        parts.append(f"抽样规程：{cert['protocol']}")
        frame = "；".join(
            f"{v['file']} {v['sha256'][:12]}…" for _, v in sorted(cert["frame"]["files"].items())
        )
        parts.append(f"底册文件：{html.escape(frame)}")
    if is_synthetic(run):
        parts.append("<b>演示数据（合成），不反映真实情况</b>")
    return (
        '<footer style="margin-top:32px;padding-top:8px;border-top:1px solid #ccc;'
        'color:#555;font-size:12px">' + "<br>".join(parts) + "</footer>"
    )


def offline(markup: str) -> str:
    """Drop script and stylesheet links to remote hosts."""
    return _EXTERNAL_LINK.sub("", _EXTERNAL_SCRIPT.sub("", markup))


def write_report_html(executed: Path, out: Path, title: str, footer: str) -> None:
    """An executed notebook as HTML with code hidden, Chinese, offline, with the footer."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = re.sub(r"<html[^>]*>", '<html lang="zh-CN">', offline(body), count=1)
    body = body.replace("</body>", footer + "\n</body>", 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")


def write_index(run: Path, results: list[JobResult], title: str) -> Path:
    """``reports/index.html``: every report by group with its status."""
    groups: dict[str, list[JobResult]] = {}
    for r in results:
        groups.setdefault(r.job.group or "全省", []).append(r)
    sections = []
    for group, items in groups.items():
        rows = []
        for r in items:
            name = html.escape(r.job.title)
            if r.ok:
                link = f'<a href="{html.escape(Path(r.html).name)}">{name}</a>'
                status = '<span style="color:#2e7d32">已生成</span>'
            else:
                link = name
                status = f'<span style="color:#b00020">失败：{html.escape(r.error)}</span>'
            rows.append(f"<tr><td>{link}</td><td>{status}</td></tr>")
        sections.append(f"<h2>{html.escape(group)}</h2><table>{''.join(rows)}</table>")
    banner = (
        '<div style="background:#b00020;color:#fff;padding:10px;font-weight:bold">'
        "演示数据：以下报告由合成的模拟数据生成，不反映任何真实地区的情况。</div>"
        if is_synthetic(run)
        else ""
    )
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:24px}}"
        "td{padding:3px 12px;border-bottom:1px solid #eee}</style></head><body>"
        f"{banner}<h1>{html.escape(title)}</h1>{''.join(sections)}{footer_html(run)}</body></html>"
    )
    out = run / "reports" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
