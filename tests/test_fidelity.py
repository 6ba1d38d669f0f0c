"""Plan fidelity of the verdict inputs (issue 10, items 7-10).

* 深度贫困县 is a flag beside the county's category (a county can be deep-poverty
  and exited or exiting); old frames with the category still read; no
  non-poverty county of the reference data is deep-poverty;
* a relapsed household keeps its cause; relapses are counted by county and
  cause, the causes the plan names (三(一)1(8)) singled out, and nothing calls a
  relapse a risk without its cause;
* the visits of paired-project beneficiaries (五(四)) are tabled for the
  pairing report and stay out of the county rates;
* the as-of date is a run parameter; by default the run date, moved into the
  field week for synthetic data, and recorded in the results manifest;
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from xkaohe import codes
from xkaohe.analyse.indicators import classify
from xkaohe.analyse.paired import paired_visit_table
from xkaohe.analyse.relapses import relapse_counts
from xkaohe.io.plan_file import load_plan
from xkaohe.io.reference import read_anhui_counties
from xkaohe.io.results import read_result
from xkaohe.io.run import read_counties
from xkaohe.results_spec import Result
from xkaohe.run.commands import choose_as_of, run_indicators
from xkaohe.run.stages import RunParams, load_run_params, write_run_params
from xkaohe.schemas import normalise_counties

PLAN_PATH = Path(__file__).parent.parent / "params" / "plan-2019.yaml"
PLAN = load_plan(PLAN_PATH)
D = dt.date


# --- 深度贫困县 as a flag (item 7) ------------------------------------------------------


def test_reference_data_marks_no_non_poverty_county_deep_poverty() -> None:
    ref = read_anhui_counties()
    deep = ref.filter(pl.col("deep_poverty"))
    assert deep.height > 0
    assert deep["poverty_county_level"].is_not_null().all()
    assert deep["deep_poverty_guess"].all()  # Anhui named regions, not counties: guesses
    assert not ref["category"].is_in(["deep_poverty"]).any()
    assert set(deep["category"]) == {"exit_2019", "exited"}
    poverty = ref["poverty_county_level"].is_not_null()
    assert (ref["deep_poverty_guess"] == poverty).all()


def _counties_csv(directory: Path, header: str, rows: list[str]) -> Path:
    directory.mkdir(parents=True)
    (directory / "counties.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return directory


def test_old_frames_with_the_deep_poverty_category_still_read(tmp_path: Path) -> None:
    frame = _counties_csv(
        tmp_path / "old",
        "县代码,县名称,市名称,考核类别,是否国家级贫困县",
        [
            "341201,甲县,甲市,深度贫困县,是",
            "341202,乙县,甲市,deep_poverty,否",
            "341203,丙县,甲市,拟摘帽县,是",
        ],
    )
    c = read_counties(frame)
    assert c["category"].to_list() == ["exited", "exited", "exit_2019"]
    assert c["deep_poverty"].to_list() == [True, True, False]


def test_new_frames_carry_the_flag_beside_the_category(tmp_path: Path) -> None:
    frame = _counties_csv(
        tmp_path / "new",
        "county_code,county_name,city_name,category,national_poverty_county,是否深度贫困县",
        [
            "341201,甲县,甲市,exit_2019,true,是",
            "341202,乙县,甲市,exited,true,",
            "341203,丙县,甲市,exited,false,否",
        ],
    )
    c = read_counties(frame)
    assert c["category"].to_list() == ["exit_2019", "exited", "exited"]
    assert c["deep_poverty"].to_list() == [True, False, False]


def test_frames_built_in_memory_without_the_flag_read_as_not_deep_poverty() -> None:
    c = normalise_counties(pl.DataFrame({"county_code": ["1"], "category": ["non_key"]}))
    assert c["deep_poverty"].to_list() == [False]


@pytest.mark.parametrize(
    ("county", "expected"),
    [
        pytest.param(
            {"category": "exit_2019", "deep_poverty": True},
            ["deep_poverty", "exit_2019"],
            id="deep-and-exiting",
        ),
        pytest.param(
            {"category": "exited", "deep_poverty": True},
            ["deep_poverty", "exited"],
            id="deep-and-exited",
        ),
        pytest.param({"category": "non_key", "deep_poverty": False}, ["non_key"], id="plain"),
        pytest.param({"category": "exited"}, ["exited"], id="no-flag-column"),
    ],
)
def test_a_county_gets_the_focus_of_its_category_and_of_its_flags(
    county: dict[str, object], expected: list[str]
) -> None:
    assert [c.code for c in PLAN.categories_of(county)] == expected


def test_the_results_store_carries_the_flag_and_both_focuses_apply(small_run: Path) -> None:
    counties = read_result(small_run, Result.COUNTIES)
    deep = counties.filter(pl.col("deep_poverty"))
    assert set(deep["category"]) == {"exit_2019", "exited"}
    exiting = deep.filter(pl.col("category") == "exit_2019").row(0, named=True)
    assert [c.label for c in PLAN.categories_of(exiting)] == ["深度贫困县", "拟摘帽县"]
    plain = counties.filter(~pl.col("deep_poverty")).row(0, named=True)
    assert [c.code for c in PLAN.categories_of(plain)] == [plain["category"]]


# --- relapse with its cause (item 8) ------------------------------------------------------


def _survey(rows: list[tuple[str, str | None, str | None, int, float, int | None]]) -> pl.DataFrame:
    """Inline questionnaires: county, frame status, cause, size, income, exit year."""
    n = len(rows)
    county, status, cause, size, income, year = (list(c) for c in zip(*rows, strict=True))
    return pl.DataFrame(
        {
            "_row": list(range(2, n + 2)),
            "county_code": county,
            "village_code": [f"V{i}" for i in range(n)],
            "household_id": [f"H{i}" for i in range(n)],
            "frame_status": status,
            "relapse_cause": cause,
            "exit_year": year,
            "registered": [s is not None for s in status],
            "household_size": size,
            "income_per_capita_yuan": income,
            **{i: [True] * n for i in ITEMS},
            "ineligible_evidence": [False] * n,
            "approval": ["approve"] * n,
        },
        schema_overrides={
            "frame_status": pl.String,
            "relapse_cause": pl.String,
            "exit_year": pl.Int64,
        },
    )


ITEMS = ("food_clothing_ok", "education_ok", "medical_ok", "housing_safe", "water_safe")
LINE = PLAN.indicators.income_line_yuan


def test_relapses_are_counted_by_county_and_cause_plan_named_ones_singled_out() -> None:
    survey = _survey(
        [
            ("A", "relapsed", "weak_help", 3, LINE - 1, 2017),
            ("A", "relapsed", "weak_help", 2, LINE + 1, 2018),
            ("A", "relapsed", "illness", 4, LINE - 1, 2016),
            ("A", "relapsed", None, 1, LINE - 1, None),
            ("B", "relapsed", "poor_exit_quality", 5, LINE + 100, 2018),
            ("B", "exited_2019", "illness", 2, LINE - 1, 2019),  # not relapsed: not counted
            ("B", None, None, 3, LINE - 1, None),
        ]
    )
    out = relapse_counts(classify(survey, PLAN), PLAN)
    assert out.rows() == [
        ("A", "illness", False, 1, 4, 1, 2016, 2016),
        ("A", "weak_help", True, 2, 5, 1, 2017, 2018),
        ("A", None, None, 1, 1, 1, None, None),
        ("B", "poor_exit_quality", True, 1, 5, 0, 2018, 2018),
    ]
    assert out.columns == [
        "county_code",
        "relapse_cause",
        "plan_named",
        "households",
        "persons",
        "still_poor",
        "exit_year_min",
        "exit_year_max",
    ]


def test_only_a_relapsed_household_gets_the_plan_named_flag_and_only_with_a_cause() -> None:
    survey = _survey(
        [
            ("A", "relapsed", "poor_exit_quality", 1, LINE, 2017),
            ("A", "relapsed", "disaster", 1, LINE, 2017),
            ("A", "relapsed", None, 1, LINE, 2017),
            ("A", "exited_2019", "weak_help", 1, LINE, 2019),
        ]
    )
    flags = classify(survey, PLAN)["relapse_plan_named"].to_list()
    assert flags == [True, False, None, None]
    assert PLAN.plan_named_relapse_causes == ("poor_exit_quality", "weak_help")


def test_no_label_calls_a_relapse_a_risk_without_its_cause() -> None:
    labels = [c.label for c in codes.HOUSEHOLD_CLASS] + [
        c.description for c in codes.HOUSEHOLD_CLASS
    ]
    assert not [x for x in labels if "返贫风险" in x]
    assert "relapse_cause" in codes.HOUSEHOLD_CLASS.get("relapse").description


def test_the_demo_plants_every_cause_and_the_results_single_out_the_plan_named(
    small_run: Path,
) -> None:
    relapses = read_result(small_run, Result.RELAPSES)
    assert set(relapses["relapse_cause"].drop_nulls()) == {c.code for c in PLAN.relapse_causes}
    named = relapses.filter(pl.col("plan_named"))
    assert set(named["relapse_cause"]) == set(PLAN.plan_named_relapse_causes)
    households = read_result(small_run, Result.HOUSEHOLDS)
    relapsed = households.filter(pl.col("frame_status") == "relapsed")
    assert relapses["households"].sum() == relapsed.height
    assert relapsed["relapse_cause"].null_count() == 0


# --- paired-project visits (item 9) --------------------------------------------------------


def test_the_paired_visit_table_lists_every_drawn_beneficiary_and_its_visit() -> None:
    drawn = pl.DataFrame(
        {
            "project_id": ["P1", "P1", "P2", "P2"],
            "household_id": ["H1", "H2", "H2", "H3"],
            "village_code": ["V1", "V1", "V1", "V2"],
        }
    )
    projects = pl.DataFrame({"project_id": ["P1", "P2"], "county_code": ["A", "A"]})
    outside = classify(_survey([("A", None, None, 2, LINE + 1, None)]), PLAN).with_columns(
        village_code=pl.lit("V1"),
        household_id=pl.lit("H1"),
        registered=pl.lit(True),
        visit_date=pl.lit(D(2019, 11, 25)),
        team_id=pl.lit("T01"),
        knows_helper=pl.lit(True),
    )
    inside = classify(_survey([("A", "exited_2019", None, 3, LINE - 1, 2019)]), PLAN).with_columns(
        village_code=pl.lit("V1"),
        household_id=pl.lit("H2"),
        visit_date=pl.lit(D(2019, 11, 26)),
        team_id=pl.lit("T01"),
        knows_helper=pl.lit(False),
    )
    out = paired_visit_table(drawn, projects, outside, inside)
    assert out.select(
        "project_id", "household_id", "visited", "visit_kind", "qualified"
    ).rows() == [
        ("P1", "H1", True, "paired_project", True),
        ("P1", "H2", True, "sample", False),
        ("P2", "H2", True, "sample", False),
        ("P2", "H3", False, None, None),
    ]


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
