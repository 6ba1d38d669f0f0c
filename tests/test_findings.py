"""Findings (plan 五, 五(六), 七(二)) on tiny hand-made tables with unambiguous answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, get_args

import polars as pl
import pytest

from xkaohe.analyse import candidates as cd
from xkaohe.analyse import consistency as cs
from xkaohe.analyse import findings as fd
from xkaohe.errors import InputError, PlanError
from xkaohe.io.plan_file import load_plan
from xkaohe.plan import CandidateRuleName, Plan, Systemic, parse_plan

PLAN_PATH = Path(__file__).parent.parent / "params" / "plan-2019.yaml"
PLAN = load_plan(PLAN_PATH)
END = PLAN.timeline.field_end  # 2019-11-29
D = dt.date
RATES = ("wrong_exit_rate", "omission_rate", "approval_rate", "wrong_inclusion_rate")

COUNTIES = pl.DataFrame(
    {
        "county_code": ["A1", "A2", "A3", "B1", "B2"],
        "county_name": ["甲一县", "甲二县", "甲三县", "乙一县", "乙二县"],
        "city_name": ["甲市", "甲市", "甲市", "乙市", "乙市"],
    }
)

PROBLEM: dict[str, Any] = {
    "problem_id": (None, pl.String),
    "raised_date": (D(2019, 11, 25), pl.Date),
    "team_id": ("G1", pl.String),
    "level": ("county", pl.String),
    "city_name": ("甲市", pl.String),
    "county_code": ("A1", pl.String),
    "village_code": (None, pl.String),
    "content_item": ("C8", pl.String),
    "description": ("问题", pl.String),
    "evidence": (None, pl.String),
    "needs_review": (True, pl.Boolean),
    "review_date": (None, pl.Date),
    "review_outcome": ("pending", pl.String),
    "suggestion": ("建议", pl.String),
}


def problems(*rows: dict[str, Any]) -> pl.DataFrame:
    """Team problems with defaults; ``_row`` = spreadsheet line (2, 3, ...)."""
    data = {c: [r.get(c, default) for r in rows] for c, (default, _) in PROBLEM.items()}
    df = pl.DataFrame(data, schema={c: t for c, (_, t) in PROBLEM.items()})
    return df.with_columns(pl.Series("_row", range(2, len(rows) + 2), pl.Int64))


def confirmed(pid: str, county: str | None, item: str, **kw: Any) -> dict[str, Any]:
    city = kw.pop("city_name", "甲市" if county is None or county.startswith("A") else "乙市")
    return {
        "problem_id": pid,
        "county_code": county,
        "city_name": city,
        "content_item": item,
        "review_date": D(2019, 11, 26),
        "review_outcome": "confirmed",
        **kw,
    }


def indicators(*rows: dict[str, Any]) -> pl.DataFrame:
    """County indicators: every rate 0 on 40 units, pass, unless a row says otherwise."""
    base: dict[str, Any] = {}
    for r in RATES:
        value = 1.0 if r == "approval_rate" else 0.0
        base |= {r: value, f"{r}_est": value, f"{r}_low": value, f"{r}_high": value, f"{r}_n": 40}
        if r != "wrong_inclusion_rate":
            base[f"{r}_status"] = "pass"
    return pl.DataFrame([base | r for r in rows])


def _with(plan: Plan, section: str, **values: Any) -> Plan:
    return plan.model_copy(update={section: getattr(plan, section).model_copy(update=values)})


# --------------------------------------------------------------- candidates

EXITING = COUNTIES.with_columns(
    category=pl.when(pl.col("county_code") == "A1")
    .then(pl.lit("exit_2019"))
    .otherwise(pl.lit("non_key"))
)


@pytest.mark.parametrize(
    ("row", "counties", "item", "words"),
    [
        pytest.param(
            {
                "wrong_exit_rate": 0.05,
                "wrong_exit_rate_est": 0.04,
                "wrong_exit_rate_low": 0.01,
                "wrong_exit_rate_high": 0.1,
                "wrong_exit_rate_status": "fail",
            },
            EXITING,
            "C8",
            ["错退率为5%", "抽样40人，其中2人", "超过2%的标准", "设计加权估计4%", "1%—10%"],
            id="wrong-exit-fail-exiting-county",
        ),
        pytest.param(
            {"wrong_exit_rate": 0.05, "wrong_exit_rate_status": "fail"},
            COUNTIES,
            "C8",
            ["错退率为5%", "超过2%的参考线"],
            id="wrong-exit-fail-reference-line",
        ),
        pytest.param(
            {"omission_rate": 0.0, "omission_rate_high": 0.06, "omission_rate_status": "not_found"},
            COUNTIES,
            None,
            [],
            id="omission-not-found-no-case",
        ),
        pytest.param(
            {"omission_rate": 0.025 / 2, "omission_rate_status": "not_found"},
            COUNTIES,
            "C7",
            ["入户调查发现疑似漏评户", "漏评率为1.25%", "未超过2%的参考线", "逐户核实"],
            id="omission-case-found-below-the-line",
        ),
        pytest.param(
            {"approval_rate": 0.85, "approval_rate_status": "fail"},
            EXITING,
            "C9",
            ["群众认可度为85%", "其中34户认可或基本认可", "低于90%的标准"],
            id="approval-fail",
        ),
        pytest.param(
            {"approval_rate": 0.95, "approval_rate_low": 0.85, "approval_rate_status": "not_found"},
            EXITING,
            None,
            [],
            id="approval-not-found-proposes-nothing",
        ),
        pytest.param(
            {"wrong_inclusion_rate": 0.05},
            COUNTIES,
            "C7",
            ["错评率为5%", "其中2户有错评线索"],
            id="wrong-inclusion",
        ),
        pytest.param({}, COUNTIES, None, [], id="all-pass"),
    ],
)
def test_indicator_candidates(
    row: dict[str, Any], counties: pl.DataFrame, item: str | None, words: list[str]
) -> None:
    out = cd.candidate_problems(indicators({"county_code": "A1", **row}), None, counties, PLAN)
    assert out["content_item"].to_list() == ([item] if item else [])
    for w in words:
        assert w in out["description"][0]
    if item:
        assert out.select(
            "problem_id",
            "raised_date",
            "level",
            "city_name",
            "needs_review",
            "review_outcome",
            "source",
        ).row(0) == ("AUTO-A1-01", END, "county", "甲市", True, "pending", "indicator")
        rule = out["rule"][0]
        assert out["suggestion"][0] == PLAN.reports.candidates[rule].suggestion
        assert "未达标" not in out["description"][0] and "需重点整改" not in out["description"][0]


def _households(*rows: dict[str, Any]) -> pl.DataFrame:
    """Classified households of county A1: no case unless a row says so."""
    base = {
        "county_code": "A1",
        "village_code": "V1",
        "wrong_exit": False,
        "omission": False,
        "wrong_inclusion": False,
        "approves": True,
    }
    return pl.DataFrame(
        [base | {"household_id": f"H{i}", "_row": i + 2} | r for i, r in enumerate(rows)]
    )


def test_each_case_is_named_with_its_household_and_row() -> None:
    ind = indicators({"county_code": "A1", "wrong_exit_rate": 0.05})  # 2 of 40, still "pass"
    hh = _households(
        {},
        {"wrong_exit": True, "village_code": "V2"},
        {"wrong_exit": True, "village_code": "V3"},
        {"omission": True},  # no omission in the indicators: lists nothing on its own
    )
    out = cd.candidate_problems(
        ind, None, COUNTIES, PLAN, households=hh, sources={"household_survey": "入户.xlsx"}
    )
    assert out["rule"].to_list() == ["wrong_exit_rate"]
    evidence = out["evidence"][0]
    assert "错退户2户" in evidence
    assert "户H1（村V2，入户.xlsx 第3行）" in evidence
    assert "户H2（村V3，入户.xlsx 第4行）" in evidence
    assert "H0" not in evidence


def test_a_failing_approval_lists_the_households_that_do_not_approve() -> None:
    ind = indicators({"county_code": "A1", "approval_rate": 0.85, "approval_rate_status": "fail"})
    hh = _households({}, {"approves": False})
    out = cd.candidate_problems(ind, None, COUNTIES, PLAN, households=hh)
    assert "不认可的户1户：户H1（村V1，household_survey.csv 第3行）" in out["evidence"][0]


def test_no_rate_problem_without_a_failing_rate_or_a_case() -> None:
    statuses = {f"{r}_status": "not_found" for r in RATES if r != "wrong_inclusion_rate"}
    ind = indicators(*({"county_code": c, **statuses} for c in COUNTIES["county_code"]))
    assert cd.candidate_problems(ind, None, COUNTIES, PLAN).height == 0


def test_the_registry_matches_the_plans_rules_in_order() -> None:
    assert [r.name for r in cd.RULES] == list(get_args(CandidateRuleName))
    assert set(PLAN.reports.candidates) == {r.name for r in cd.RULES}


def test_candidates_have_the_problems_columns_and_are_numbered_per_county() -> None:
    ind = indicators(
        {
            "county_code": "A1",
            "approval_rate": 0.8,
            "approval_rate_status": "fail",
            "wrong_exit_rate": 0.1,
            "wrong_exit_rate_status": "fail",
        },
        {"county_code": "B1", "omission_rate": 0.05, "omission_rate_status": "fail"},
    )
    out = cd.candidate_problems(ind, None, COUNTIES, PLAN, raised=D(2019, 11, 27))
    assert out.columns == [*fd.PROBLEM_COLUMNS, "source", "rule"]
    assert out.select("problem_id", "content_item", "city_name").rows() == [
        ("AUTO-A1-01", "C8", "甲市"),
        ("AUTO-A1-02", "C9", "甲市"),
        ("AUTO-B1-01", "C7", "乙市"),
    ]
    assert out["raised_date"].unique().to_list() == [D(2019, 11, 27)]


def test_candidate_for_an_unknown_county_is_an_error() -> None:
    ind = indicators({"county_code": "Z9", "wrong_exit_rate_status": "fail"})
    with pytest.raises(InputError, match=r"counties.*no row for Z9"):
        cd.candidate_problems(ind, None, COUNTIES, PLAN)


def test_a_plan_without_the_rules_items_is_an_error() -> None:
    county = tuple(it for it in PLAN.content.county if it.code != "C8")
    plan = _with(PLAN, "content", county=county)
    with pytest.raises(PlanError, match="C8"):
        cd.candidate_problems(None, None, COUNTIES, plan)


def test_a_plan_without_a_rule_is_an_error() -> None:
    rules = {k: v for k, v in PLAN.reports.candidates.items() if k != "projects"}
    plan = _with(PLAN, "reports", candidates=rules)
    with pytest.raises(PlanError, match=r"lacks rule.*projects"):
        cd.candidate_problems(None, None, COUNTIES, plan)


def test_the_plan_refuses_a_rule_filed_under_an_unknown_item() -> None:
    text = PLAN_PATH.read_text(encoding="utf-8").replace("      item: C6\n", "      item: C99\n")
    with pytest.raises(PlanError, match="projects: C99"):
        parse_plan(text)


def _cross_checks() -> cs.CrossChecks:
    """County A1: a helper wrong on 2 of 2 claims, 1 of 2 households unaware of their
    helper, a village over-claim, an overspent county project, a paired project
    with money spent but not started and beneficiaries missing. County A2: clean."""
    day = D(2019, 11, 25)
    survey = pl.DataFrame(
        {
            "county_code": ["A1", "A1", "A2"],
            "village_code": ["V1", "V1", "V9"],
            "household_id": ["H1", "H2", "H9"],
            "registered": [True, True, True],
            "household_size": [3, 3, 3],
            "income_per_capita_yuan": [5000.0, 5000.0, 5000.0],
            "food_clothing_ok": [True, True, True],
            "education_ok": [True, True, True],
            "medical_ok": [True, True, True],
            "housing_safe": [True, False, True],
            "water_safe": [True, True, True],
            "knows_helper": [True, False, True],
            "_row": [2, 3, 4],
        }
    )
    interviews = pl.DataFrame(
        {
            "interview_id": ["I1", "I1", "I2", "I3"],
            "date": [day] * 4,
            "level": ["helper", "helper", "village", "helper"],
            "person_id": ["P1", "P1", "S1", "P9"],
            "county_code": ["A1", "A1", "A1", "A2"],
            "village_code": ["V1", "V1", "V1", "V9"],
            "household_id": ["H1", "H1", None, "H9"],
            "item": ["household_size", "water_safe", "housing_safe", "household_size"],
            "claim": ["5", "否", "是", "3"],
            "_row": [2, 3, 4, 5],
        }
    )
    projects = pl.DataFrame(
        {
            "county_code": ["A1", "A1", "A2"],
            "project_id": ["K1", "Z1", "K9"],
            "kind": ["county", "paired_cooperation", "county"],
            "level": ["county", "paired", "county"],
            "funds_yuan": [100.0, 100.0, 100.0],
            "beneficiaries_drawn": [0, 3, 0],
        }
    )
    checks = pl.DataFrame(
        {
            "project_id": ["K1", "Z1", "K9"],
            "date": [day] * 3,
            "status": ["completed", "not_started", "completed"],
            "funds_spent_yuan": [150.0, 40.0, 100.0],
            "beneficiaries_confirmed": [None, 1, None],
            "issue": [None, None, None],
            "_row": [2, 3, 4],
        },
        schema_overrides={"issue": pl.String},
    )
    return cs.cross_check(survey, interviews, projects, checks, PLAN)


def test_cross_check_candidates() -> None:
    out = cd.candidate_problems(None, _cross_checks(), COUNTIES, PLAN)
    got = out.select("problem_id", "rule", "content_item", "source").rows()
    assert got == [
        ("AUTO-A1-01", "helper_claims", "C4", "cross_check"),
        ("AUTO-A1-02", "helper_awareness", "C9", "cross_check"),
        ("AUTO-A1-03", "village_claims", "C1", "cross_check"),
        ("AUTO-A1-04", "projects", "C6", "cross_check"),
        ("AUTO-A1-05", "paired_funds", "P5", "cross_check"),
        ("AUTO-A1-06", "paired_beneficiaries", "P2", "cross_check"),
    ]
    text = dict(zip(out["rule"], out["description"], strict=True))
    evidence = dict(zip(out["rule"], out["evidence"], strict=True))
    assert "访谈帮扶责任人1人，其中1人" in text["helper_claims"]
    assert "P1（2项中2项不符）" in evidence["helper_claims"]
    assert "建档立卡户2户中1户不知晓" in text["helper_awareness"]
    assert "知晓率50%，低于90%" in text["helper_awareness"]
    assert "村V1“住房安全有保障”：调查建档立卡户2户中1户为“否”（50%）" in text["village_claims"]
    assert "household_survey.csv 第3行" in evidence["village_claims"]
    assert "资金支出超过项目资金规模1个" in text["projects"]
    assert "已支出资金但项目未开工1个" in text["paired_funds"]
    assert "核实受益户少于抽查户数1个" in text["paired_beneficiaries"]
    assert "project_checks.csv 第3行" in evidence["paired_beneficiaries"]


# ------------------------------------------------------------------- review


@pytest.mark.parametrize(
    ("row", "as_of", "state", "is_confirmed", "in_report"),
    [
        pytest.param(
            {"needs_review": False}, D(2019, 12, 1), "not_needed", True, True, id="not-needed"
        ),
        pytest.param(
            {"review_date": D(2019, 11, 26), "review_outcome": "confirmed"},
            D(2019, 12, 1),
            "on_time",
            True,
            True,
            id="on-time",
        ),
        pytest.param(
            {"review_date": D(2019, 11, 25), "review_outcome": "dismissed"},
            D(2019, 12, 1),
            "on_time",
            False,
            False,
            id="dismissed-same-day",
        ),
        pytest.param(
            {"review_date": D(2019, 11, 28), "review_outcome": "confirmed"},
            D(2019, 12, 1),
            "late",
            True,
            True,
            id="late",
        ),
        pytest.param({}, D(2019, 11, 27), "overdue", False, True, id="overdue"),
        pytest.param(
            {"review_outcome": None},
            D(2019, 11, 26),
            "pending",
            False,
            True,
            id="pending-on-due-day",
        ),
        pytest.param({}, D(2019, 11, 25), "pending", False, True, id="pending-same-day"),
        pytest.param(
            {"needs_review": False, "review_outcome": "dismissed", "review_date": D(2019, 11, 25)},
            D(2019, 12, 1),
            "not_needed",
            False,
            False,
            id="not-needed-dismissed",
        ),
    ],
)
def test_review_state(
    row: dict[str, Any], as_of: dt.date, state: str, is_confirmed: bool, in_report: bool
) -> None:
    out = fd.review_status(problems({"problem_id": "T1", **row}), PLAN, as_of)
    due = None if row.get("needs_review") is False else D(2019, 11, 26)
    assert out.select("review_due", "review_state", "confirmed", "in_report").row(0) == (
        due,
        state,
        is_confirmed,
        in_report,
    )


def test_review_due_follows_the_plan() -> None:
    slow = _with(PLAN, "review", days_to_review=3)
    row = {"problem_id": "T1", "review_date": D(2019, 11, 28), "review_outcome": "confirmed"}
    out = fd.review_status(problems(row), slow, D(2019, 12, 1))
    assert out.select("review_due", "review_state").row(0) == (D(2019, 11, 28), "on_time")


def test_inconsistent_reviews_are_listed_all_at_once() -> None:
    bad = problems(
        {"problem_id": "T1"},
        {"problem_id": "T2", "review_outcome": "confirmed"},
        {"problem_id": "T3", "review_date": D(2019, 11, 24), "review_outcome": "dismissed"},
    )
    with pytest.raises(InputError, match="2 problem") as err:
        fd.review_status(bad, PLAN, END)
    msg = str(err.value)
    assert "problems, row 3, column 'review_date'" in msg and "no date (problem T2)" in msg
    assert "problems, row 4, column 'review_date'" in msg and "2019-11-24 before 2019-11-25" in msg


# ----------------------------------------------------------------- findings


def test_dismissed_problems_stay_in_the_table_but_leave_the_report() -> None:
    team = problems(
        confirmed("T1", "A1", "C8"),
        confirmed("T2", "A1", "C7", review_outcome="dismissed"),
    )
    out = fd.merge_findings(team, cd.candidate_problems(None, None, COUNTIES, PLAN), PLAN, END)
    assert out.select("problem_id", "source", "confirmed", "in_report").rows() == [
        ("T1", "team", True, True),
        ("T2", "team", False, False),
    ]
    assert out["_row"].to_list() == [2, 3]


def test_candidate_covered_by_a_team_problem() -> None:
    ind = indicators(
        {
            "county_code": "A1",
            "wrong_exit_rate": 0.05,
            "wrong_exit_rate_status": "fail",
            "omission_rate": 0.05,
            "omission_rate_status": "fail",
        },
        {"county_code": "A2", "wrong_exit_rate": 0.05, "wrong_exit_rate_status": "fail"},
    )
    team = problems(
        confirmed("T1", "A1", "C8"),
        confirmed("T2", "A1", "C7", review_outcome="dismissed"),  # dismissed: covers nothing
    )
    cand = cd.candidate_problems(ind, None, COUNTIES, PLAN)
    out = fd.merge_findings(team, cand, PLAN, D(2019, 11, 29))
    got = out.select("problem_id", "content_item", "source", "covered_by", "in_report").rows()
    assert got == [
        ("T1", "C8", "team", None, True),
        ("T2", "C7", "team", None, False),
        ("AUTO-A1-01", "C8", "indicator", "T1", False),
        ("AUTO-A1-02", "C7", "indicator", None, True),
        ("AUTO-A2-01", "C8", "indicator", None, True),
    ]
    assert out.filter(pl.col("source") != "team")["review_state"].to_list() == ["proposed"] * 3


def test_unknown_content_item_in_team_problems() -> None:
    team = problems(confirmed("T1", "A1", "C8"), confirmed("T2", "A1", "X1"))
    with pytest.raises(InputError, match=r"problems, row 3, column 'content_item.*'X1'"):
        fd.merge_findings(team, cd.candidate_problems(None, None, COUNTIES, PLAN), PLAN, END)


def test_systemic_and_case() -> None:
    team = problems(
        # C8 in two counties of 甲市: systemic (city rule)
        confirmed("T1", "A1", "C8"),
        confirmed("T2", "A2", "C8"),
        # C7 twice in one county: still one county, a case
        confirmed("T3", "A1", "C7"),
        confirmed("T4", "A1", "C7"),
        # C9 in three counties across two cities: systemic (province rule)
        confirmed("T5", "A1", "C9"),
        confirmed("T6", "B1", "C9"),
        confirmed("T7", "B2", "C9"),
        # C6 in one county of each city: a case; plus a pending one that does not count
        confirmed("T8", "A3", "C6"),
        confirmed("T9", "B1", "C6"),
        {"problem_id": "T10", "county_code": "A1", "content_item": "C6"},
    )
    out = fd.merge_findings(team, cd.candidate_problems(None, None, COUNTIES, PLAN), PLAN, END)
    scope = dict(zip(out["problem_id"], out["scope"], strict=True))
    assert scope == {
        "T1": "systemic",
        "T2": "systemic",
        "T3": "case",
        "T4": "case",
        "T5": "systemic",
        "T6": "systemic",
        "T7": "systemic",
        "T8": "case",
        "T9": "case",
        "T10": "case",
    }
    strict = Systemic(province_counties=4, city_counties=3)
    out = fd.merge_findings(
        team, cd.candidate_problems(None, None, COUNTIES, PLAN), PLAN, END, strict
    )
    assert set(out["scope"]) == {"case"}


def test_feedback_holds_only_the_citys_reported_findings() -> None:
    team = problems(
        confirmed("T1", "A1", "C8"),
        confirmed("T2", "B1", "C8"),
        confirmed("T3", None, "M1", level="city"),
        confirmed("T4", "A2", "C7", review_outcome="dismissed"),
    )
    out = fd.merge_findings(team, cd.candidate_problems(None, None, COUNTIES, PLAN), PLAN, END)
    assert sorted(fd.feedback_findings(out, "甲市")["problem_id"]) == ["T1", "T3"]


# ------------------------------------------------------------- completeness


def _experiences(unit: str | None, n: int, city: str = "甲市") -> list[dict[str, Any]]:
    return [
        {
            "experience_id": f"E-{unit}-{i}",
            "city_name": city,
            "county_code": unit,
            "title": "经验",
            "description": "做法",
        }
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("n_exp", "rows", "ok", "shortfall"),
    [
        pytest.param(3, [{}, {}, {}], True, None, id="ok"),
        pytest.param(5, [{}, {}, {}, {}], True, None, id="ok-five"),
        pytest.param(2, [{}, {}, {}], False, "典型经验2条，少于3条", id="two-experiences"),
        pytest.param(6, [{}, {}, {}], False, "典型经验6条，多于5条", id="six-experiences"),
        pytest.param(3, [{}, {}], False, "已确认的突出问题2个，少于3个", id="two-problems"),
        pytest.param(
            3,
            [{}, {}, {"review_outcome": "dismissed"}, {"review_outcome": "pending"}],
            False,
            "已确认的突出问题2个，少于3个",
            id="dismissed-and-pending-not-counted",
        ),
        pytest.param(
            3,
            [{}, {}, {"suggestion": "  "}],
            False,
            "1个问题缺少意见建议",
            id="problem-without-suggestion",
        ),
        pytest.param(
            1,
            [{}, {"suggestion": None}],
            False,
            "典型经验1条，少于3条；已确认的突出问题2个，少于3个；1个问题缺少意见建议",
            id="everything-short",
        ),
    ],
)
def test_county_completeness(
    n_exp: int, rows: list[dict[str, Any]], ok: bool, shortfall: str | None
) -> None:
    team = problems(*[confirmed(f"T{i}", "A1", "C8") | r for i, r in enumerate(rows)])
    out = fd.merge_findings(team, cd.candidate_problems(None, None, COUNTIES, PLAN), PLAN, END)
    exp = pl.DataFrame(_experiences("A1", n_exp), schema_overrides={"county_code": pl.String})
    got = fd.completeness(out, exp, COUNTIES.filter(pl.col("county_code") == "A1"), PLAN)
    county = got.filter(pl.col("unit") == "county").row(0, named=True)
    assert (county["ok"], county["shortfall"]) == (ok, shortfall)


def test_completeness_per_city_and_county() -> None:
    team = problems(
        confirmed("T1", None, "M1", level="city"),
        confirmed("T2", None, "M2", level="city"),
        confirmed("T3", None, "M4", level="city"),
        confirmed("T4", "A1", "C8"),
        confirmed("T5", "A1", "P2"),  # pairing report, not the county's
    )
    exp = pl.DataFrame(
        _experiences(None, 4) + _experiences("A1", 3), schema_overrides={"county_code": pl.String}
    )
    out = fd.merge_findings(team, cd.candidate_problems(None, None, COUNTIES, PLAN), PLAN, END)
    got = fd.completeness(out, exp, COUNTIES.filter(pl.col("city_name") == "甲市"), PLAN)
    assert got.columns == [
        "unit",
        "code",
        "name",
        "city_name",
        "experiences",
        "problems",
        "problems_with_suggestion",
        "experiences_ok",
        "problems_ok",
        "suggestions_ok",
        "ok",
        "shortfall",
    ]
    assert got.select("unit", "code", "name", "experiences", "problems", "ok").rows() == [
        ("city", "甲市", "甲市", 4, 3, True),
        ("county", "A1", "甲一县", 3, 1, False),
        ("county", "A2", "甲二县", 0, 0, False),
        ("county", "A3", "甲三县", 0, 0, False),
    ]


def test_suggestions_not_required_when_the_plan_says_so() -> None:
    lax = _with(PLAN, "reports", suggestion_required=False)
    team = problems(*[confirmed(f"T{i}", "A1", "C8", suggestion=None) for i in range(3)])
    out = fd.merge_findings(team, cd.candidate_problems(None, None, COUNTIES, lax), lax, END)
    exp = pl.DataFrame(_experiences("A1", 3), schema_overrides={"county_code": pl.String})
    got = fd.completeness(out, exp, COUNTIES.filter(pl.col("county_code") == "A1"), lax)
    county = got.filter(pl.col("unit") == "county").row(0, named=True)
    assert (county["problems_with_suggestion"], county["suggestions_ok"], county["ok"]) == (
        0,
        True,
        True,
    )
