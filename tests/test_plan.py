"""The plan as data: it loads, and a wrong key or value is named (exit 2)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from xkaohe.cli import main
from xkaohe.errors import PlanError
from xkaohe.io.plan_file import load_plan
from xkaohe.plan import parse_plan

PLAN = Path(__file__).parent.parent / "params" / "plan-2019.yaml"


def test_the_2019_plan_loads_with_its_numbers() -> None:
    plan = load_plan(PLAN)
    assert plan.sampling.villages.quota == {"poor": 2, "nonpoor_many_poor": 2}
    assert [(q.status, q.count) for q in plan.sampling.households.quotas] == [
        ("exited_2019", 4),
        ("exited_2016_2018", 4),
        ("new_2018_2019", 2),
        ("not_exited", 2),
    ]
    assert plan.sampling.households.substitutes["new_2018_2019"] == (
        "not_exited",
        "exited_2016_2018",
    )
    assert len(plan.content.county) == 9
    assert sum(len(i.sub_items) for i in plan.content.county) == 35  # 三(一)1
    assert len(plan.content.city) == 6 and len(plan.content.pairing) == 6
    assert plan.teams.count == 13 and plan.teams.assessors_per_city == 34
    assert plan.timeline.field_start == dt.date(2019, 11, 24)
    assert plan.reports.experiences.min == 3 and plan.reports.problems_min == 3


def test_the_plan_is_frozen() -> None:
    plan = load_plan(PLAN)
    with pytest.raises(Exception, match="frozen"):
        plan.teams.count = 12  # type: ignore[misc]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "tilt: 1.0",
            "tilts: 1.0",
            r"sampling\.villages\.remoteness_tilts.*Extra inputs",
            id="unknown-key",
        ),
        pytest.param(
            "count: 13", "count: many", r"teams\.count.*valid integer.*'many'", id="bad-value"
        ),
        pytest.param(
            "field_start: 2019-11-24",
            "field_start: 2019-12-24",
            r"timeline.*training_by <= field_start <= field_end",
            id="dates-out-of-order",
        ),
        pytest.param(
            "many_poor_share: 0.5",
            "many_poor_share: 1.5",
            r"many_poor_share.*less than or equal to 1",
            id="share-above-1",
        ),
        pytest.param(
            "  exited_2019: [exited_2016_2018]",
            "  exited_2019: [exited_2019]",
            r"cannot substitute for itself",
            id="self-substitute",
        ),
    ],
)
def test_a_wrong_key_or_value_is_named(old: str, new: str, message: str) -> None:
    text = PLAN.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(PlanError, match=message):
        parse_plan(text.replace(old, new, 1), "plan.yaml")


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(PlanError, match=r"plan\.yaml, line 2"):
        parse_plan("year: 2019\n  title: [unclosed\n", "plan.yaml")


def test_cli_exits_2_on_a_bad_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "plan.yaml"
    bad.write_text(
        PLAN.read_text(encoding="utf-8").replace("count: 13", "count: -1"), encoding="utf-8"
    )
    code = main(
        [
            "sample",
            "--frame",
            str(tmp_path),
            "--plan",
            str(bad),
            "--seed",
            "s",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "teams.count" in err and "Traceback" not in err
