"""Plan fidelity of the verdict inputs (issue 10, items 7-10).

* the as-of date is a run parameter; by default the run date, moved into the
  field week for synthetic data, and recorded in the results manifest;
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from xkaohe.io.plan_file import load_plan
from xkaohe.run.commands import choose_as_of, run_indicators
from xkaohe.run.stages import RunParams, load_run_params, write_run_params

PLAN_PATH = Path(__file__).parent.parent / "params" / "plan-2019.yaml"
PLAN = load_plan(PLAN_PATH)
D = dt.date


# --- as-of date (item 10) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "synthetic", "today", "expected", "rule"),
    [
        pytest.param(D(2019, 11, 26), True, D(2024, 5, 1), D(2019, 11, 26), "given", id="given"),
        pytest.param(None, False, D(2024, 5, 1), D(2024, 5, 1), "run date", id="real-run-date"),
        pytest.param(
            None,
            True,
            D(2024, 5, 1),
            PLAN.timeline.field_end,
            "synthetic",
            id="synthetic-after-the-week",
        ),
        pytest.param(
            None,
            True,
            D(2019, 11, 1),
            PLAN.timeline.field_start,
            "synthetic",
            id="synthetic-before-the-week",
        ),
        pytest.param(
            None, True, D(2019, 11, 26), D(2019, 11, 26), "synthetic", id="synthetic-in-the-week"
        ),
    ],
)
def test_as_of_is_given_or_the_run_date_moved_into_the_field_week_for_synthetic_data(
    given: dt.date | None, synthetic: bool, today: dt.date, expected: dt.date, rule: str
) -> None:
    when, how = choose_as_of(PLAN, given, synthetic, today)
    assert when == expected
    assert rule in how


def test_as_of_is_a_run_parameter_that_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("run: r\nplan: p.yaml\nseed: s\nas_of: 2019-11-27\n", encoding="utf-8")
    params = load_run_params(path)
    assert params.as_of == D(2019, 11, 27)
    write_run_params(tmp_path / "again.yaml", params)
    assert load_run_params(tmp_path / "again.yaml") == params
    assert RunParams(run=Path("r"), plan=Path("p"), seed="s").as_of is None


def _manifest(results: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    return data


def test_the_demo_records_its_as_of_date_and_how_it_was_chosen(small_run: Path) -> None:
    manifest = _manifest(small_run / "results")
    assert manifest["as_of"] == PLAN.timeline.field_end.isoformat()  # run date, moved
    assert "synthetic" in manifest["as_of_rule"]


def test_overdue_reviews_are_judged_on_the_as_of_date(small_run: Path, tmp_path: Path) -> None:
    states = {}
    for day in (PLAN.timeline.field_start, D(2019, 12, 20)):
        out = tmp_path / day.isoformat()
        results = run_indicators(
            small_run / "frame", small_run / "sample", small_run / "field", PLAN_PATH, out, day
        )
        assert _manifest(out)["as_of"] == day.isoformat()
        assert _manifest(out)["as_of_rule"] == "given"
        states[day] = results["findings"]["review_state"]
    early, late = states.values()
    assert (early == "overdue").sum() == 0  # nothing is due on the first field day
    assert (late == "overdue").sum() > 0
    assert (late == "pending").sum() == 0  # three weeks later nothing is merely pending
    assert pl.Series(early).len() == pl.Series(late).len()
