"""Real papermill-style runs in warm kernels, rendered to offline HTML; failures
isolated; unchanged reports not executed again."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from xkaohe.io.fingerprints import write_store
from xkaohe.io.run import read_counties
from xkaohe.run.batch import Job, JobResult, run_jobs
from xkaohe.run.commands import run_indicators
from xkaohe.run.stages import plan_reports, render_reports, report_jobs

Rendered = tuple[Path, list[JobResult]]
PLAN = Path(__file__).resolve().parents[1] / "params" / "plan-2019.yaml"


@pytest.fixture(scope="module")
def rendered(small_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    run = tmp_path_factory.mktemp("batch") / "run"
    shutil.copytree(small_run, run)
    jobs = [s.job for s in report_jobs(run) if s.job.notebook == "county_sample.ipynb"][:2]
    jobs.append(Job("county_sample.ipynb", "sample_broken", "坏的", {"county_code": "000000"}))
    return run, run_jobs(jobs, run, workers=2, progress=False)


def test_each_report_is_rendered(rendered: Rendered) -> None:
    _, results = rendered
    ok = [r for r in results if r.ok]
    assert len(ok) == 2
    for r in ok:
        page = Path(r.html).read_text(encoding="utf-8")
        assert '<html lang="zh-CN">' in page
        assert "抽样村" in page and "抽样证书" in page
        assert "演示数据" in page  # the synthetic banner
        assert "随机种子：demo" in page  # the footer
        assert "from xkaohe import" not in page  # code hidden
        assert "reset" not in page  # the warm kernel's reset cell leaves no trace


def test_reports_open_offline(rendered: Rendered) -> None:
    run, results = rendered
    shared = run / "reports" / "assets" / "plotly.min.js"
    assert shared.stat().st_size > 1_000_000
    for r in (r for r in results if r.ok):
        page = Path(r.html).read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"https?://", page)
        assert not re.search(r"(import|from)\s*[\"']https?://", page)  # no remote ES modules
        assert page.count('src="assets/plotly.min.js"') == 1
        assert "Plotly.newPlot" in page


def test_a_failing_notebook_is_reported_and_the_rest_complete(rendered: Rendered) -> None:
    run, results = rendered
    (failed,) = [r for r in results if not r.ok]
    assert failed.job.stem == "sample_broken"
    assert "InputError" in failed.error and "000000" in failed.error  # named, not a KeyError
    assert failed.error.startswith("cell ")
    assert (run / "notebooks" / "sample_broken.ipynb").exists()  # kept for debugging


def test_an_unchanged_rerun_executes_nothing(small_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    first = render_reports(run, workers=2, timeout=120, only="341221", progress=False)
    assert first and all(r.ok and not r.skipped for r in first)
    again = render_reports(run, workers=2, timeout=120, only="341221", progress=False)
    assert [r.skipped for r in again] == [True] * len(first)
    # A change in one county's results re-runs only that county's reports.
    sample = run / "sample" / "households.csv"
    lines = sample.read_text(encoding="utf-8").splitlines(keepends=True)
    target = next(i for i, line in enumerate(lines) if line.startswith("341221,"))
    lines[target] = lines[target].replace(",exited_2019,", ",not_exited,", 1)
    sample.write_text("".join(lines), encoding="utf-8")
    third = render_reports(run, workers=2, timeout=120, only="341221", progress=False)
    assert any(not r.skipped for r in third)


def _corrected(run: Path, county: str) -> None:
    """A team corrects one household's return in ``county``; the indicators run again."""
    survey = run / "field" / "household_survey.csv"
    lines = survey.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(
        i
        for i, line in enumerate(lines)
        if line.split(",")[1].startswith(county) and ",approve," in line
    )
    lines[row] = lines[row].replace(",approve,", ",disapprove,", 1)
    survey.write_text("".join(lines), encoding="utf-8")
    run_indicators(run / "frame", run / "sample", run / "field", PLAN, run / "results")


def test_a_correction_in_one_county_re_renders_its_reports_its_city_and_the_province(
    small_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    jobs = report_jobs(run)
    # every report rendered: its fingerprint recorded, its page there
    todo, _ = plan_reports(run, jobs)
    write_store(run / "reports", {s.job.stem: fp for s, fp in todo})
    for scoped, _ in todo:
        (run / "reports" / f"{scoped.job.stem}.html").write_text("rendered", encoding="utf-8")
    assert plan_reports(run, jobs)[0] == []
    counties = read_counties(run / "frame")
    paired = counties.filter(
        pl.col("national_poverty_county") & pl.col("paired_helper_county").is_not_null()
    )
    county, city = paired.select("county_code", "city_name").row(0)  # one with a pairing report
    _corrected(run, county)
    again = {s.job.stem for s, _ in plan_reports(run, jobs)[0]}
    province_wide = {s.job.stem for s in jobs if s.county_codes is None and "results" in s.reads}
    assert {"provincial", "field_progress"} <= province_wide and "lottery" not in province_wide
    mine = {f"county_{county}", f"paired_{county}", f"sample_{county}", f"city_{city}"}
    mine.add(f"compare_{city}")  # the city's comparison reads its counties' claims
    assert again == mine | province_wide
