"""Real papermill runs rendered to offline HTML, failures isolated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xkaohe.batch import Job, run_jobs
from xkaohe.io.render import write_index
from xkaohe.pipeline import county_jobs


@pytest.fixture(scope="module")
def rendered(small_run: Path) -> tuple[Path, list]:  # type: ignore[type-arg]
    jobs = county_jobs(small_run)[:2]
    jobs.append(Job("county_sample.ipynb", "sample_broken", "坏的", {"county_code": "000000"}))
    results = run_jobs(jobs, small_run, workers=2, progress=False)
    write_index(small_run, results, "测试目录")
    return small_run, results


def test_each_county_report_is_rendered(rendered: tuple[Path, list]) -> None:  # type: ignore[type-arg]
    _run, results = rendered
    ok = [r for r in results if r.ok]
    assert len(ok) == 2
    for r in ok:
        page = Path(r.html).read_text(encoding="utf-8")
        assert '<html lang="zh-CN">' in page
        assert "抽样村" in page and "抽样证书" in page
        assert "演示数据" in page  # the synthetic banner
        assert "随机种子：demo" in page  # the footer
        assert "from xkaohe import" not in page  # code hidden


def test_reports_open_offline(rendered: tuple[Path, list]) -> None:  # type: ignore[type-arg]
    run, results = rendered
    shared = run / "reports" / "assets" / "plotly.min.js"
    assert shared.stat().st_size > 1_000_000
    for r in (r for r in results if r.ok):
        page = Path(r.html).read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"https?://", page)
        assert page.count('src="assets/plotly.min.js"') == 1
        assert "Plotly.newPlot" in page


def test_a_failing_notebook_is_reported_and_the_rest_complete(rendered: tuple[Path, list]) -> None:  # type: ignore[type-arg]
    run, results = rendered
    (failed,) = [r for r in results if not r.ok]
    assert failed.job.stem == "sample_broken"
    assert "KeyError" in failed.error and "000000" in failed.error
    assert "cell" in failed.error
    index = (run / "reports" / "index.html").read_text(encoding="utf-8")
    assert "失败" in index and "sample_" in index
