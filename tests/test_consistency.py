"""Cross-checks (plan 五(三)(五)) on tiny hand-made tables with unambiguous answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xkaohe.analyse import consistency as cs
from xkaohe.errors import InputError
from xkaohe.io.plan_file import load_plan
from xkaohe.plan import Plan

PLAN = load_plan(Path(__file__).parent.parent / "params" / "plan-2019.yaml")
DAY = dt.date(2019, 11, 25)

SURVEY: dict[str, Any] = {
    "county_code": ("C1", pl.String),
    "village_code": ("V1", pl.String),
    "household_id": (None, pl.String),
    "visit_date": (DAY, pl.Date),
    "team_id": ("G1", pl.String),
    "registered": (True, pl.Boolean),
    "household_size": (3, pl.Int64),
    "income_per_capita_yuan": (5000.0, pl.Float64),
    "food_clothing_ok": (True, pl.Boolean),
    "education_ok": (True, pl.Boolean),
    "medical_ok": (True, pl.Boolean),
    "housing_safe": (True, pl.Boolean),
    "water_safe": (True, pl.Boolean),
    "ineligible_evidence": (False, pl.Boolean),
    "knows_helper": (True, pl.Boolean),
    "approval": ("approve", pl.String),
}
INTERVIEWS: dict[str, Any] = {
    "interview_id": ("I1", pl.String),
    "date": (DAY, pl.Date),
    "level": ("helper", pl.String),
    "role": ("helper", pl.String),
    "person_id": ("P1", pl.String),
    "county_code": ("C1", pl.String),
    "village_code": ("V1", pl.String),
    "household_id": (None, pl.String),
    "item": (None, pl.String),
    "claim": (None, pl.String),
}
PROJECTS: dict[str, Any] = {
    "county_code": ("C1", pl.String),
    "village_code": (None, pl.String),
    "project_id": (None, pl.String),
    "kind": ("county", pl.String),
    "level": ("county", pl.String),
    "name": ("项目", pl.String),
    "funds_yuan": (100.0, pl.Float64),
    "beneficiaries_drawn": (0, pl.Int64),
}
CHECKS: dict[str, Any] = {
    "project_id": (None, pl.String),
    "date": (DAY, pl.Date),
    "status": ("completed", pl.String),
    "funds_spent_yuan": (100.0, pl.Float64),
    "beneficiaries_confirmed": (None, pl.Int64),
    "issue": (None, pl.String),
}


def table(spec: dict[str, Any], *rows: dict[str, Any]) -> pl.DataFrame:
    """Rows with defaults for every unnamed column; ``_row`` = spreadsheet line (2, 3, ...)."""
    data = {c: [r.get(c, default) for r in rows] for c, (default, _) in spec.items()}
    schema = {c: t for c, (_, t) in spec.items()}
    df = pl.DataFrame(data, schema=schema)
    return df.with_columns(
        pl.Series("_row", [r.get("_row", i + 2) for i, r in enumerate(rows)], pl.Int64)
    )


def survey(*rows: dict[str, Any]) -> pl.DataFrame:
    return table(SURVEY, *rows)


def interviews(*rows: dict[str, Any]) -> pl.DataFrame:
    return table(INTERVIEWS, *rows)


def claim(household: str, item: str, text: str, **kw: Any) -> dict[str, Any]:
    return {"household_id": household, "item": item, "claim": text, **kw}


# ------------------------------------------------------------ helper claims


@pytest.mark.parametrize(
    ("item", "text", "answer", "agrees", "status"),
    [
        pytest.param("household_size", "3", {}, True, "agrees", id="size-equal"),
        pytest.param("household_size", "3人", {}, True, "agrees", id="size-with-unit"),
        pytest.param("household_size", "4", {}, False, "contradicts", id="size-differs"),
        pytest.param("income_per_capita_yuan", "5,500元", {}, True, "agrees", id="income-10pct"),
        pytest.param("income_per_capita_yuan", "0.45万", {}, True, "agrees", id="income-wan"),
        pytest.param("income_per_capita_yuan", "7000", {}, False, "contradicts", id="income-40pct"),
        pytest.param(
            "income_per_capita_yuan", "3000", {}, False, "contradicts", id="income-below-40pct"
        ),
        pytest.param("housing_safe", "是", {}, True, "agrees", id="bool-yes-yes"),
        pytest.param(
            "housing_safe", "true", {"housing_safe": False}, False, "contradicts", id="bool-yes-no"
        ),
        pytest.param("water_safe", "否", {"water_safe": False}, True, "agrees", id="bool-no-no"),
        pytest.param("household_size", "三口人", {}, None, "unreadable", id="unreadable"),
        pytest.param("visits_per_month", "4", {}, None, "other_item", id="other-item"),
    ],
)
def test_helper_claim_agreement(
    item: str, text: str, answer: dict[str, Any], agrees: bool | None, status: str
) -> None:
    s = survey({"household_id": "H1", **answer})
    out = cs.helper_claims(interviews(claim("H1", item, text)), s, PLAN)
    assert out.select("agrees", "status").row(0) == (agrees, status)


def test_helper_claim_row_carries_answer_text_and_rows() -> None:
    s = survey({"household_id": "H0"}, {"household_id": "H1", "housing_safe": False})
    iv = interviews(
        claim("H1", "household_size", "3"),
        claim("H1", "income_per_capita_yuan", "5000"),
        claim("H1", "housing_safe", "是"),
    )
    out = cs.helper_claims(iv, s, PLAN)
    assert out.columns[:8] == [
        "county_code",
        "village_code",
        "helper_id",
        "household_id",
        "item",
        "claim",
        "answer",
        "agrees",
    ]
    got = out.select("item", "answer", "agrees", "interview_row", "survey_row").rows()
    assert got == [
        ("household_size", "3", True, 2, 3),
        ("housing_safe", "false", False, 4, 3),
        ("income_per_capita_yuan", "5000", True, 3, 3),
    ]


def test_claim_about_unsurveyed_household_is_kept_unjudged() -> None:
    out = cs.helper_claims(
        interviews(claim("H9", "household_size", "5")), survey({"household_id": "H1"}), PLAN
    )
    assert out.select("household_id", "agrees", "status", "answer", "survey_row").row(0) == (
        "H9",
        None,
        "not_surveyed",
        None,
        None,
    )


def test_claim_without_village_takes_the_surveyed_households_village() -> None:
    iv = interviews(claim("H1", "household_size", "3", village_code=None))
    out = cs.helper_claims(iv, survey({"household_id": "H1", "village_code": "V7"}), PLAN)
    assert out.select("village_code", "agrees").row(0) == ("V7", True)


def test_same_household_id_in_two_villages_is_not_mixed_up() -> None:
    s = survey(
        {"household_id": "G1", "village_code": "V1", "household_size": 3},
        {"household_id": "G1", "village_code": "V2", "household_size": 6},
    )
    iv = interviews(claim("G1", "household_size", "6", village_code="V2"))
    assert cs.helper_claims(iv, s, PLAN)["agrees"].to_list() == [True]


def test_income_tolerance_comes_from_the_plan() -> None:
    strict = PLAN.model_copy(
        update={"consistency": PLAN.consistency.model_copy(update={"income_tolerance": 0.05})}
    )
    iv = interviews(claim("H1", "income_per_capita_yuan", "5500"))
    s = survey({"household_id": "H1"})
    assert cs.helper_claims(iv, s, PLAN)["agrees"].to_list() == [True]
    assert cs.helper_claims(iv, s, strict)["agrees"].to_list() == [False]


@given(
    answer=st.integers(min_value=0, max_value=50_000),
    claimed=st.integers(min_value=0, max_value=50_000),
)
def test_income_agrees_exactly_within_relative_tolerance(answer: int, claimed: int) -> None:
    s = survey({"household_id": "H1", "income_per_capita_yuan": float(answer)})
    iv = interviews(claim("H1", "income_per_capita_yuan", str(claimed)))
    tol = PLAN.consistency.income_tolerance
    expected = abs(claimed - answer) <= tol * answer
    assert cs.helper_claims(iv, s, PLAN)["agrees"].to_list() == [expected]


def test_missing_columns_are_named() -> None:
    with pytest.raises(InputError, match=r"household_survey.*knows_helper"):
        cs.helper_claims(interviews(), survey().drop("knows_helper"), PLAN)


# ----------------------------------------------------------- helper summary


def _helpers(plan: Plan = PLAN) -> pl.DataFrame:
    s = survey(
        {"household_id": "H1"},
        {"household_id": "H2", "knows_helper": False},
        {"household_id": "H3"},
        {"household_id": "H4", "knows_helper": False},
        {"household_id": "H5", "household_size": 4},
    )
    iv = interviews(
        # P1: 1 of 2 claims wrong (50% > 20%)
        claim("H1", "household_size", "3", person_id="P1"),
        claim("H1", "housing_safe", "否", person_id="P1"),
        # P2: right about H2, but H2 does not know P2
        claim("H2", "household_size", "3", person_id="P2"),
        # P3: 1 of 5 wrong (20%, not above the 20% threshold)
        *[
            claim("H3", it, v, person_id="P3")
            for it, v in [
                ("household_size", "3"),
                ("income_per_capita_yuan", "5000"),
                ("housing_safe", "是"),
                ("water_safe", "是"),
            ]
        ],
        claim("H5", "household_size", "3", person_id="P3"),
    )
    claims = cs.helper_claims(iv, s, plan)
    assignments = pl.DataFrame({"helper_id": ["P4", "P3"], "household_id": ["H4", "H5"]})
    return cs.helper_summary(claims, s, plan, assignments)


def test_helper_summary_counts_and_flags() -> None:
    got = (
        _helpers()
        .select(
            "helper_id",
            "claims",
            "mismatches",
            "mismatch_rate",
            "households",
            "households_not_knowing",
            "mismatch_flagged",
            "flagged",
        )
        .rows()
    )
    assert got == [
        ("P1", 2, 1, 0.5, 1, 0, True, True),
        ("P2", 1, 0, 0.0, 1, 1, False, True),
        ("P3", 5, 1, 0.2, 2, 0, False, False),
        ("P4", 0, 0, None, 1, 1, False, True),  # never interviewed; the registry says H4 is theirs
    ]


# ----------------------------------------------------------- village claims


def _village_case() -> tuple[pl.DataFrame, pl.DataFrame]:
    s = survey(
        {"household_id": "H1"},
        {"household_id": "H2", "housing_safe": False},
        {"household_id": "H3"},
        {"household_id": "H4"},
        {"household_id": "G1", "registered": False, "housing_safe": False},  # general household
        {"household_id": "H5", "village_code": "V2"},
    )
    iv = interviews(
        {
            "level": "village",
            "role": "village_secretary",
            "person_id": "S1",
            "item": "housing_safe",
            "claim": "是",
            "_row": 5,
        },
        {
            "level": "village",
            "role": "first_secretary",
            "person_id": "S2",
            "item": "housing_safe",
            "claim": "true",
            "_row": 6,
        },
        {"level": "village", "person_id": "S1", "item": "water_safe", "claim": "是", "_row": 7},
        {"level": "village", "person_id": "S1", "item": "medical_ok", "claim": "否", "_row": 8},
        {"level": "village", "person_id": "S1", "item": "household_size", "claim": "3"},
        {
            "level": "village",
            "village_code": "V2",
            "person_id": "S3",
            "item": "housing_safe",
            "claim": "是",
            "_row": 9,
        },
    )
    return iv, s


def test_village_over_claim_is_flagged_with_its_rows() -> None:
    iv, s = _village_case()
    out = cs.village_claims(iv, s, PLAN)
    got = out.select(
        "village_code",
        "item",
        "claim",
        "claimants",
        "households",
        "contradicting",
        "mismatch_rate",
        "flagged",
        "interview_rows",
        "contradicting_rows",
    ).rows()
    assert got == [
        ("V1", "housing_safe", True, 2, 4, 1, 0.25, True, [5, 6], [3]),
        ("V1", "medical_ok", False, 1, 4, None, None, False, [8], None),  # an admission
        ("V1", "water_safe", True, 1, 4, 0, 0.0, False, [7], []),
        ("V2", "housing_safe", True, 1, 1, 0, 0.0, False, [9], []),
    ]


def test_village_claim_at_the_threshold_is_not_flagged() -> None:
    s = survey(*[{"household_id": f"H{i}", "water_safe": i != 0} for i in range(10)])
    iv = interviews({"level": "village", "item": "water_safe", "claim": "是"})
    out = cs.village_claims(iv, s, PLAN)
    assert out.select("mismatch_rate", "flagged").row(0) == (0.1, False)


# ----------------------------------------------------------------- projects


@pytest.mark.parametrize(
    ("project", "check", "flags"),
    [
        pytest.param({}, {"funds_spent_yuan": 100.0}, set(), id="clean"),
        pytest.param({}, {"funds_spent_yuan": 150.0}, {"funds_overspent"}, id="overspent"),
        pytest.param(
            {},
            {"status": "not_started", "funds_spent_yuan": 50.0},
            {"spent_but_not_started"},
            id="spent-not-started",
        ),
        pytest.param(
            {},
            {"status": "abandoned", "funds_spent_yuan": 50.0},
            {"spent_but_abandoned"},
            id="spent-abandoned",
        ),
        pytest.param(
            {}, {"status": "abandoned", "funds_spent_yuan": 0.0}, set(), id="abandoned-unspent"
        ),
        pytest.param(
            {"level": "paired", "kind": "paired_cooperation", "beneficiaries_drawn": 3},
            {"beneficiaries_confirmed": 2},
            {"beneficiaries_short"},
            id="beneficiaries-short",
        ),
        pytest.param(
            {"beneficiaries_drawn": 3},
            {"beneficiaries_confirmed": None},
            set(),
            id="beneficiaries-not-recorded",
        ),
        pytest.param({"funds_yuan": None}, {"funds_spent_yuan": 150.0}, set(), id="no-funds"),
        pytest.param({}, None, {"not_checked"}, id="not-checked"),
    ],
)
def test_project_discrepancy(
    project: dict[str, Any], check: dict[str, Any] | None, flags: set[str]
) -> None:
    p = table(PROJECTS, {"project_id": "P1", **project})
    c = table(CHECKS, *([{"project_id": "P1", **check}] if check is not None else []))
    out = cs.project_results(p, c, PLAN)
    row = out.row(0, named=True)
    every = {*cs.PROJECT_FLAGS, "not_checked"}
    assert {f for f in every if row[f]} == flags
    assert row["any_discrepancy"] == bool(flags - {"not_checked"})


def test_duplicate_project_checks_are_rejected_with_rows() -> None:
    p = table(PROJECTS, {"project_id": "P1"})
    c = table(CHECKS, {"project_id": "P1"}, {"project_id": "P1"})
    with pytest.raises(InputError, match=r"project_checks, row 3, column 'project_id'.*'P1'"):
        cs.project_results(p, c, PLAN)


# -------------------------------------------------------------------- rates


def test_rates_by_village_and_county() -> None:
    s = survey(
        {"household_id": "H1"},
        {"household_id": "H2", "knows_helper": False},
        {"household_id": "H3", "village_code": "V2"},
        {"household_id": "G1", "registered": False, "knows_helper": None},
    )
    iv = interviews(
        claim("H1", "household_size", "4"),
        claim("H2", "household_size", "3"),
        claim("H3", "household_size", "3", village_code="V2", person_id="P2"),
        {"level": "village", "item": "housing_safe", "claim": "是"},
    )
    projects = table(
        PROJECTS,
        {"project_id": "K1"},
        {"project_id": "K2"},
        {"project_id": "V1P", "village_code": "V1", "level": "village", "kind": "village"},
    )
    checks = table(
        CHECKS,
        {"project_id": "K1", "funds_spent_yuan": 150.0},
        {"project_id": "V1P"},
    )
    x = cs.cross_check(s, iv, projects, checks, PLAN)
    got = x.rates.select(
        "unit",
        "village_code",
        "helper_claims_checked",
        "helper_mismatches",
        "helper_mismatch_flagged",
        "village_claim_households",
        "village_claim_flagged",
        "projects_sampled",
        "projects_checked",
        "projects_with_discrepancy",
        "project_discrepancy_rate",
        "registered_asked",
        "knows_helper",
        "helper_awareness",
        "awareness_ok",
    ).rows()
    assert got == [
        ("county", None, 3, 1, True, 2, False, 3, 2, 1, 0.5, 3, 2, 2 / 3, False),
        ("village", "V1", 2, 1, True, 2, False, 1, 1, 0, 0.0, 2, 1, 0.5, False),
        ("village", "V2", 1, 0, False, 0, False, 0, 0, 0, None, 1, 1, 1.0, True),
    ]


# ------------------------------------------------------------ discrepancies


def test_discrepancies_cite_the_rows_in_chinese() -> None:
    s = survey(
        {"household_id": "H1", "_row": 203},
        {"household_id": "H2", "housing_safe": False, "_row": 204},
        {"household_id": "H3", "housing_safe": False, "_row": 205},
    )
    iv = interviews(
        claim("H1", "income_per_capita_yuan", "9000", _row=17),
        claim("H1", "household_size", "3", _row=18),
        {"level": "village", "item": "housing_safe", "claim": "是", "_row": 30},
    )
    projects = table(
        PROJECTS,
        {"project_id": "K1"},
        {
            "project_id": "Z1",
            "level": "paired",
            "kind": "paired_cooperation",
            "beneficiaries_drawn": 3,
        },
    )
    checks = table(
        CHECKS,
        {"project_id": "K1", "status": "not_started", "funds_spent_yuan": 120.0, "issue": "未动工"},
        {"project_id": "Z1", "beneficiaries_confirmed": 1},
    )
    x = cs.cross_check(s, iv, projects, checks, PLAN)
    got = x.discrepancies.select("kind", "subject", "item", "recorded", "found", "reference").rows()
    assert got == [
        (
            "helper_claim",
            "P1",
            "income_per_capita_yuan",
            "9000元",
            "5000元",
            "interviews.csv 第17行; household_survey.csv 第203行",
        ),
        (
            "village_claim",
            "V1",
            "housing_safe",
            "全部建档立卡户均为“是”",
            "入户调查3户中2户为“否”",
            "interviews.csv 第30行; household_survey.csv 第204、205行",
        ),
        (
            "project",
            "K1",
            "funds_spent_yuan",
            "资金规模100元",
            "已支出120元（未动工）",
            "project_checks.csv 第2行",
        ),
        (
            "project",
            "K1",
            "status",
            "已支出120元",
            "项目未开工（未动工）",
            "project_checks.csv 第2行",
        ),
        (
            "project",
            "Z1",
            "beneficiaries_confirmed",
            "抽查受益户3户",
            "核实受益1户",
            "project_checks.csv 第3行",
        ),
    ]
    named = cs.discrepancies(x.claims, x.villages, x.projects, {"interviews": "访谈.xlsx"})
    assert named["reference"][0] == "访谈.xlsx 第17行; household_survey.csv 第203行"


def test_cross_check_handles_empty_returns() -> None:
    x = cs.cross_check(survey(), interviews(), table(PROJECTS), table(CHECKS), PLAN)
    assert all(df.height == 0 for df in x.tables().values())
    assert x.discrepancies.columns == list(cs.DISCREPANCY_SCHEMA)
