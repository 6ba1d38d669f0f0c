"""Same inputs and seed, same outputs: every table, every report (issue 11, "Not reproducible").

Two runs of the small demo province are built from scratch in two folders and
compared file by file; their reports are rendered and compared after removing
only what is random by design (plotly's element ids). Polars sorts are not
stable, so a sort without a complete tie-breaker shows up here as a diff.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest

from xkaohe.report import province
from xkaohe.run.batch import run_jobs
from xkaohe.run.stages import prepare_demo_run, report_jobs

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def without_plotly_ids(page: str) -> str:
    """The page with plotly's random element ids (uuid4) replaced by one placeholder."""
    return _UUID.sub("<plotly-id>", page)


def _city(run: Path) -> str:
    """A city with a paired county (so its pairing report is rendered too)."""
    counties = pl.read_csv(run / "frame" / "counties.csv", infer_schema=False)
    paired = counties.filter(pl.col("paired_helper_county").is_not_null())
    return str(paired.sort("county_code")["city_name"][0])


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The small demo built twice, each in a folder named ``run`` (the footer shows the name)."""
    runs = []
    for name in ("first", "second"):
        run = tmp_path_factory.mktemp(name) / "run"
        prepare_demo_run(run)
        runs.append(run)
    return runs[0], runs[1]


@pytest.fixture(scope="module")
def rendered(twins: tuple[Path, Path]) -> tuple[Path, Path]:
    """Both twins with the provincial reports and one city's reports rendered."""
    for run in twins:
        city = _city(run)
        jobs = [s.job for s in report_jobs(run) if s.job.group in {city, "全省"}]
        results = run_jobs(jobs, run, workers=2, progress=False)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return twins


def _files(run: Path, pattern: str) -> dict[str, Path]:
    return {str(p.relative_to(run)): p for p in sorted(run.glob(pattern))}


@pytest.mark.parametrize("pattern", ["frame/*.csv", "sample/*.csv", "lottery/*.csv"])
def test_tables_are_byte_identical(twins: tuple[Path, Path], pattern: str) -> None:
    a, b = (_files(run, pattern) for run in twins)
    assert a.keys() == b.keys() and a
    for name in a:
        assert a[name].read_bytes() == b[name].read_bytes(), name


def test_results_store_is_identical(twins: tuple[Path, Path]) -> None:
    a, b = (_files(run, "results/*.parquet") for run in twins)
    assert a.keys() == b.keys() and a
    for name in a:
        left, right = pl.read_parquet(a[name]), pl.read_parquet(b[name])
        assert left.equals(right), name  # same rows in the same order
    for name in ("results/county_indicators.csv", "results/rejects.csv"):
        assert (twins[0] / name).read_bytes() == (twins[1] / name).read_bytes(), name


def test_field_lists_are_byte_identical(twins: tuple[Path, Path]) -> None:
    a, b = (_files(run, "sample/field_lists/*.xlsx") for run in twins)
    assert a.keys() == b.keys() and a
    for name in a:
        assert a[name].read_bytes() == b[name].read_bytes(), name


def test_reports_are_identical_but_for_plotly_ids(rendered: tuple[Path, Path]) -> None:
    a, b = (_files(run, "reports/*.html") for run in rendered)
    assert a.keys() == b.keys() and len(a) >= 6
    for name in a:
        left = without_plotly_ids(a[name].read_text(encoding="utf-8"))
        right = without_plotly_ids(b[name].read_text(encoding="utf-8"))
        if left != right:
            at = next(i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y)
            pytest.fail(f"{name} differs at {at}: {left[at - 80 : at + 80]!r}")


def test_discrepancy_table_orders_ties_the_same_whatever_the_row_order() -> None:
    """The provincial table that ordered tied rows differently on identical inputs."""
    kinds = ["helper", "village", "project"]
    rows = pl.DataFrame(
        {
            "kind": [kinds[i % 3] for i in range(60)],
            "item_label": [f"事项{i % 7}" for i in range(60)],
            "county_code": [f"34{i % 5:04d}" for i in range(60)],
            "subject": [f"S{i}" for i in range(60)],
        }
    )
    projects = pl.DataFrame({"project_id": ["P1"], "level": ["county"]})
    tables = [
        province.discrepancy_table(
            SimpleNamespace(  # type: ignore[arg-type]
                check_discrepancies=rows.sample(fraction=1.0, shuffle=True, seed=seed),
                check_projects=projects,
            )
        )
        for seed in range(8)
    ]
    assert all(t.equals(tables[0]) for t in tables)
    assert tables[0].height == rows.select("kind", "item_label").n_unique()
