"""Claims at every level against the evidence (:mod:`xkaohe.analyse.claims`, issue 13).

The demo tests run on the shared small synthetic run (``small_run``) and its
planted truth (``truth/claims.csv``, ``identification_cases.csv``,
``skipped_interviews.csv``); the unit tests build small inline frames.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from xkaohe.analyse import claims as cl
from xkaohe.io.plan_file import load_plan
from xkaohe.schemas import CLAIMS, EVIDENCE_COLUMNS

PLAN = load_plan(Path(__file__).resolve().parent.parent / "params" / "plan-2019.yaml")
DAY = dt.date(2019, 11, 25)


def read(run: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(run / "results" / f"{name}.parquet")


def truth(run: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(run / "truth" / f"{name}.csv", infer_schema_length=0)


def survey_rows(run: Path) -> dict[str, int]:
    """household_id -> its row in household_survey.csv (header = row 1)."""
    s = pl.read_csv(run / "field" / "household_survey.csv", infer_schema_length=0)
    key = "household_id" if "household_id" in s.columns else s.columns[0]
    return {h: i + 2 for i, h in enumerate(s[key].to_list())}


# ------------------------------------------------------------------ the demo


def check_rows(run: Path) -> dict[str, int]:
    """project_id -> its row in project_checks.csv (header = row 1)."""
    s = pl.read_csv(run / "field" / "project_checks.csv", infer_schema_length=0)
    key = "project_id" if "project_id" in s.columns else s.columns[0]
    return {p: i + 2 for i, p in enumerate(s[key].to_list())}


def exited_persons(run: Path, county: str) -> int:
    """Persons of the frame's 2019 exits in ``county`` (the registry's own count)."""
    hh = pl.read_csv(run / "frame" / "households.csv", infer_schema_length=0)
    villages = pl.read_csv(run / "frame" / "villages.csv", infer_schema_length=0)
    return int(
        hh.join(villages.select("village_code", "county_code"), on="village_code")
        .filter(pl.col("county_code") == county, pl.col("status") == "exited_2019")[
            "household_size"
        ]
        .cast(pl.Int64)
        .sum()
    )


PLANTS = {
    "city",
    "county",
    "village",
    "helper",
    "self_assessment",
    "keep_help",  # 摘帽不摘帮扶 against exited households that do not know their helper
    "achieved",  # an overstated count of the year's exits
    "projects",  # every registered project "done" though the teams found some unfinished
}


def test_every_planted_contradiction_is_found_with_its_references(small_run: Path) -> None:
    checks = read(small_run, "claim_checks").filter(pl.col("table") == "claims")
    planted = truth(small_run, "claims").filter(pl.col("planted").is_not_null())
    assert set(planted["planted"]) == PLANTS
    rows, project_rows = survey_rows(small_run), check_rows(small_run)
    got = planted.join(checks, on="claim_id", how="left")
    assert (got["verdict"] == "contradicted").all()
    for plant, claim, county, expected, ids, refs in got.select(
        "planted", "claim_id", "county_code", "contradicting", "contradicting_ids", "references"
    ).iter_rows():
        assert sorted(ids.split(";")) == sorted(expected.split(";")), claim
        if plant == "achieved":  # the registry's count, from the frame file
            assert ids == county
            assert "households.csv（建档立卡数据）" in refs
            assert f"{exited_persons(small_run, county)}人" in refs
            continue
        for unit in expected.split(";"):
            if plant == "projects":
                assert f"project_checks.csv 第{project_rows[unit]}行（项目{unit}，" in refs
            else:
                assert f"household_survey.csv 第{rows[unit]}行（{unit}）" in refs


FACTS = (
    "reduction_target",
    "reduction_achieved",
    "funds_invested",
    "projects_done",
    "villages_exit_planned",
    "villages_exited",
    "keep_responsibility",
    "keep_policy",
    "keep_help",
    "keep_supervision",
)


def test_every_county_delivers_its_facts_and_no_true_one_is_flagged(small_run: Path) -> None:
    checks = read(small_run, "claim_checks").filter(pl.col("item").is_in(FACTS))
    counties = read(small_run, "counties")
    per = checks.group_by("county_code").agg(pl.col("item").n_unique())
    assert per.height == counties.height and (per["item"] == len(FACTS)).all()
    t = truth(small_run, "claims").join(checks, on="claim_id")
    honest = t.filter(pl.col("planted").is_null())
    assert (honest["verdict"] != "contradicted").all()
    # the register figures are checked, not waved through
    totals = [i for i, r in PLAN.claims.items.items() if r.table == "county_register"]
    register = honest.filter(pl.col("item").is_in(totals))
    assert len(totals) == 4 and register.height == 4 * counties.height - 2  # less the 2 plants
    assert (register["verdict"] == "agree").all()
    # what nothing in the run can check is said to be so, never judged
    unchecked = t.filter(
        pl.col("item").is_in(
            ["reduction_target", "villages_exit_planned", "keep_responsibility", "keep_supervision"]
        )
    )
    assert set(unchecked.select("verdict", "reason").unique().rows()) == {
        ("not_checkable", "no_source")
    }


def test_county_focus_is_stored_from_the_documents_and_the_registry(small_run: Path) -> None:
    focus = read(small_run, "county_focus")
    checks = read(small_run, "claim_checks").filter(pl.col("item") == "reduction_target")
    assert focus.height == read(small_run, "counties").height
    row = focus.row(0, named=True)
    claim = checks.filter(pl.col("claim_id") == row["target_claim_id"])
    assert f"{int(row['target_persons'])}人" == claim["value"].item()
    assert row["achieved_persons"] == exited_persons(small_run, row["county_code"])
    assert row["pace"] == pytest.approx(row["achieved_persons"] / row["target_persons"])
    expect = row["remaining_persons"] <= row["achieved_persons"] * row["years_left"]
    assert row["on_time"] == ("on_track" if expect else "at_risk")
    assert set(focus["on_time"]) <= {"on_track", "at_risk"}


def test_no_true_claim_is_flagged(small_run: Path) -> None:
    checks = read(small_run, "claim_checks").filter(pl.col("table") == "claims")
    t = truth(small_run, "claims")
    assert checks.height == t.height
    joined = t.join(checks, on="claim_id")
    flagged = joined.filter(pl.col("verdict") == "contradicted")
    assert flagged["planted"].null_count() == 0
    assert (
        joined.filter(pl.col("true_claim") == "true")["verdict"]
        .is_in(["agree", "not_checkable"])
        .all()
    )
    # honest claims are checked, not waved through: most have evidence and agree
    assert (joined["verdict"] == "agree").sum() > joined.height // 2


def test_interviews_count_as_claims(small_run: Path) -> None:
    checks = read(small_run, "claim_checks").filter(pl.col("table") == "interviews")
    assert checks.height > 0 and set(checks["source"]) == {"interview"}
    # a city interview is about its city: no county of its own
    assert (
        checks.filter(pl.col("level") == "city")["county_code"].null_count()
        == checks.filter(pl.col("level") == "city").height
    )
    # the free-text items of city and county interviews have no evidence rule
    upper = checks.filter(pl.col("level").is_in(["city", "county"]))
    assert set(upper["reason"].drop_nulls()) <= {"unknown_item", "admits_gap", "no_evidence"}


def test_candidate_problems_name_each_planted_claim(small_run: Path) -> None:
    findings = read(small_run, "findings").filter(pl.col("rule") == "claims")
    planted = truth(small_run, "claims").filter(pl.col("planted").is_not_null())
    checks = read(small_run, "claim_checks").select("claim_id", "contradicting_counties")
    expected: set[str] = set()
    for level, county, ids, where in (
        planted.join(checks, on="claim_id")
        .select("level", "county_code", "contradicting", "contradicting_counties")
        .iter_rows()
    ):
        # a city's claim is raised in each county whose households contradict it
        counties = where.split(";") if level == "city" else [county]
        for c in counties:
            text = findings.filter(pl.col("county_code") == c)
            assert text.height == 1, (level, c)
            assert any(h in text["evidence"].item() for h in ids.split(";")), (level, c)
        expected |= set(counties)
    # nothing else: every claims finding comes from a planted claim
    assert set(findings["county_code"]) == expected


def test_identification_cases_are_found_and_proposed(small_run: Path) -> None:
    cases = truth(small_run, "identification_cases")
    ident = read(small_run, "identification")
    findings = read(small_run, "findings")
    rule = {
        "not_whole": "identification",
        "procedure_bad": "identification",
        "edge_unmonitored": "edge_monitoring",
        "benefit_missing": "beneficiaries",
    }
    for kind, county, household in cases.select("kind", "county_code", "household_id").iter_rows():
        if kind == "no_industry":  # found through the helper's contradicted claim
            continue
        row = ident.filter(pl.col("county_code") == county)
        assert row[kind].item() == 1 and household in row[f"{kind}_refs"].item()
        f = findings.filter(pl.col("county_code") == county, pl.col("rule") == rule[kind])
        assert f.height == 1 and household in f["evidence"].item()
    # only where planted
    for kind in rule:
        assert ident[kind].sum() == cases.filter(pl.col("kind") == kind).height
    assert set(findings.filter(pl.col("rule").is_in(list(set(rule.values()))))["county_code"]) == (
        set(cases.filter(pl.col("kind") != "no_industry")["county_code"])
    )


def test_interview_coverage_matches_quotas_and_flags_the_skips(small_run: Path) -> None:
    cov = read(small_run, "interview_coverage")
    skipped = truth(small_run, "skipped_interviews").with_columns(pl.col("skipped").cast(pl.Int64))
    short = cov.filter(~pl.col("complete")).select(
        "level", "role", "city_name", "county_code", "village_code", "missing"
    )
    expected = skipped.select(
        "level",
        "role",
        "city_name",
        "county_code",
        "village_code",
        pl.col("skipped").alias("missing"),
    )
    assert short.sort(pl.all()).equals(expected.sort(pl.all()))
    quotas = {q.role: q.count for q in PLAN.sampling.interviews.village}
    village = cov.filter(pl.col("level") == "village")
    assert (
        village.select(
            pl.col("role").replace_strict(quotas, return_dtype=pl.Int64) == pl.col("planned")
        )
        .to_series()
        .all()
    )
    complete = cov.filter(pl.col("complete"))
    assert (complete["done"] >= complete["planned"]).all()


def test_self_assessment_view(small_run: Path) -> None:
    view = cl.self_assessment(read(small_run, "claim_checks"))
    planted = truth(small_run, "claims").filter(pl.col("planted") == "self_assessment")
    bad = view.filter(pl.col("verdict") == "contradicted")
    assert bad["claim_id"].to_list() == planted["claim_id"].to_list()
    assert set(view["level"]) == {"city", "county"}


# ------------------------------------------------------------------ unit rules


def claims_table(*rows: dict[str, Any]) -> pl.DataFrame:
    base = {c.name: None for c in CLAIMS.columns} | {
        "claim_id": "K1",
        "date": DAY,
        "source": "meeting",
        "level": "county",
        "city_name": "A市",
        "county_code": "C1",
        "item": "education_ok",
        "value": "true",
    }
    schema = {c.name: (pl.Date if c.kind == "date" else pl.String) for c in CLAIMS.columns}
    return pl.DataFrame([base | r for r in rows], schema=schema).with_row_index("_row", offset=2)


def households(*rows: dict[str, Any]) -> pl.DataFrame:
    base = {
        "county_code": "C1",
        "city_name": "A市",
        "village_code": "V1",
        "household_id": "H1",
        "registered": True,
        "is_exited": False,
        "income_ok": True,
        "household_size": 3,
        "income_per_capita_yuan": 5000.0,
        "food_clothing_ok": True,
        "education_ok": True,
        "medical_ok": True,
        "housing_safe": True,
        "water_safe": True,
        "knows_helper": True,
    }
    return pl.DataFrame([base | r for r in rows]).with_row_index("_row", offset=2)


def check(claims: pl.DataFrame, hh: pl.DataFrame) -> pl.DataFrame:
    counties = pl.DataFrame({"county_code": ["C1"], "city_name": ["A市"]})
    every = cl.all_claims(claims, pl.DataFrame(), counties)
    ev = cl.evidence_rows(
        hh,
        pl.DataFrame(schema={"project_id": pl.String, "household_id": pl.String}),
        pl.DataFrame(
            schema={"project_id": pl.String, "county_code": pl.String, "result": pl.String}
        ),
        PLAN,
    )
    return cl.check_claims(every, ev, PLAN)


@pytest.mark.parametrize(
    ("value", "answers", "verdict", "reason"),
    [
        pytest.param("true", [True, True], "agree", None, id="all-meet"),
        pytest.param("是", [True, False], "contradicted", None, id="one-household-fails"),
        pytest.param("false", [True, False], "not_checkable", "admits_gap", id="admits-gap"),
        pytest.param("maybe", [True], "not_checkable", "unreadable", id="unreadable"),
        pytest.param("true", [None], "not_checkable", "no_evidence", id="no-answer"),
    ],
)
def test_a_unit_claim(value: str, answers: list[Any], verdict: str, reason: str | None) -> None:
    hh = households(*[{"household_id": f"H{i}", "education_ok": a} for i, a in enumerate(answers)])
    out = check(claims_table({"value": value}), hh)
    assert out.select("verdict", "reason").row(0) == (verdict, reason)
    if verdict == "contradicted":
        assert out["contradicting_ids"].item() == "H1"
        assert out["references"].item() == "household_survey.csv 第3行（H1）"
        assert out["found"].item() == "入户调查2户中1户不符合"


def test_general_households_do_not_count_for_registered_items() -> None:
    hh = households({"household_id": "G1", "registered": False, "education_ok": False})
    out = check(claims_table({}), hh)
    assert out.select("verdict", "reason").row(0) == ("not_checkable", "no_evidence")


@pytest.mark.parametrize(
    ("item", "value", "verdict"),
    [
        pytest.param("income_per_capita_yuan", "5,900元", "agree", id="income-within-tolerance"),
        pytest.param("income_per_capita_yuan", "0.7万", "contradicted", id="income-off"),
        pytest.param("household_size", "3人", "agree", id="size-equal"),
        pytest.param("household_size", "4", "contradicted", id="size-differs"),
        pytest.param("education_ok", "否", "contradicted", id="bool-differs"),
    ],
)
def test_a_claim_about_one_household(item: str, value: str, verdict: str) -> None:
    c = claims_table(
        {
            "level": "helper",
            "household_id": "H1",
            "village_code": "V1",
            "item": item,
            "value": value,
        }
    )
    assert check(c, households({}))["verdict"].item() == verdict


def test_a_number_for_a_whole_unit_is_not_checkable() -> None:
    out = check(claims_table({"item": "household_size", "value": "3"}), households({}))
    assert out.select("verdict", "reason").row(0) == ("not_checkable", "household_only")


def test_a_city_claim_is_checked_against_its_counties() -> None:
    hh = households(
        {"county_code": "C1"}, {"household_id": "H2", "county_code": "C2", "housing_safe": False}
    )
    c = claims_table({"level": "city", "county_code": None, "item": "housing_safe"})
    out = check(c, hh)
    assert out.select("scope", "verdict", "contradicting_counties").row(0) == (
        "city",
        "contradicted",
        "C2",
    )


def test_an_interview_row_becomes_a_claim() -> None:
    iv = pl.DataFrame(
        {
            "interview_id": ["I1", "I2"],
            "date": [DAY, DAY],
            "level": ["city", "village"],
            "role": ["department_head", "village_secretary"],
            "person_id": [None, None],
            "county_code": ["C1", "C1"],
            "village_code": [None, "V1"],
            "household_id": [None, None],
            "item": ["funds_allocated", "water_safe"],
            "claim": ["true", "是"],
        },
        schema_overrides={
            "person_id": pl.String,
            "household_id": pl.String,
            "village_code": pl.String,
        },
    ).with_row_index("_row", offset=2)
    counties = pl.DataFrame({"county_code": ["C1"], "city_name": ["A市"]})
    out = cl.interview_claims(iv, counties)
    assert out.select("claim_id", "county_code", "city_name", "row").rows() == [
        ("I1/funds_allocated/", None, "A市", 2),
        ("I2/water_safe/", "C1", "A市", 3),
    ]


def test_an_older_export_without_evidence_columns_reads() -> None:
    hh = households({}).drop([c for c in EVIDENCE_COLUMNS if c in households({}).columns])
    out = check(claims_table({"item": "whole_household"}), hh)
    assert out.select("verdict", "reason").row(0) == ("not_checkable", "no_evidence")
    ident = cl.identification(hh, pl.DataFrame(schema={"household_id": pl.String}))
    assert ident["not_whole"].item() == 0 and ident["not_whole_refs"].item() is None


# ------------------------------------------------------------------ the comparison view


def test_comparison_of_a_county_a_city_and_a_wrong_name(small_run: Path) -> None:
    from xkaohe.errors import InputError
    from xkaohe.report import compare

    planted = truth(small_run, "claims").filter(pl.col("planted") == "county")
    county = planted["county_code"].item()
    c = compare.load_comparison(small_run, county)
    assert set(c.checks["county_code"].drop_nulls()) == {county}
    bad = compare.claim_table(c, verdict="contradicted")
    assert bad.height >= 1 and (bad["核实结果"] == "不符").all()
    assert compare.claim_table(c, level="county", item=planted["item"].item()).height >= 1
    city = compare.load_comparison(small_run, c.checks["city_name"][0])
    assert city.checks.height > c.checks.height
    short = compare.coverage_table(compare.load_comparison(small_run), only_short=True)
    assert (
        short["缺"].sum() == truth(small_run, "skipped_interviews")["skipped"].cast(pl.Int64).sum()
    )
    with pytest.raises(InputError, match="county code"):
        compare.load_comparison(small_run, "no-such-place")


def test_completeness_counts_the_missing_interviews() -> None:
    from xkaohe.analyse.findings import completeness

    counties = pl.DataFrame(
        {"county_code": ["C1", "C2"], "county_name": ["甲县", "乙县"], "city_name": ["A市"] * 2}
    )
    findings = pl.DataFrame(
        schema={
            "city_name": pl.String,
            "county_code": pl.String,
            "content_item": pl.String,
            "suggestion": pl.String,
            "confirmed": pl.Boolean,
            "in_report": pl.Boolean,
        }
    )
    experiences = pl.DataFrame(schema={"city_name": pl.String, "county_code": pl.String})
    coverage = pl.DataFrame(
        {
            "level": ["city", "county", "village", "helper"],
            "city_name": ["A市"] * 4,
            "county_code": [None, "C1", "C1", "C2"],
            "village_code": [None, None, "V1", "V2"],
            "role": [
                "department_head",
                "department_head",
                "poverty_specialist",
                "assistance_cadre",
            ],
            "planned": [5, 5, 1, 8],
            "done": [5, 3, 0, 8],
            "missing": [0, 2, 1, 0],
            "complete": [True, False, False, True],
        }
    )
    out = completeness(findings, experiences, counties, PLAN, coverage=coverage)
    got = out.select("code", "interviews_planned", "interviews_missing", "interviews_ok").rows()
    assert got == [("A市", 5, 0, True), ("C1", 6, 3, False), ("C2", 8, 0, True)]
    assert "计划访谈6人，缺3人" in out.filter(pl.col("code") == "C1")["shortfall"].item()
    assert "interviews_ok" not in completeness(findings, experiences, counties, PLAN).columns


# ------------------------------------------------------------------ county facts (三(一)1)


def register(checked: list[tuple[str, str | None]] | None = None) -> pl.DataFrame:
    """County C1's register totals: 3 exited-2019 households of 2 persons, 3 projects."""
    from xkaohe.analyse.county_facts import register_evidence

    villages = pl.DataFrame(
        {
            "village_code": ["V1", "V2"],
            "county_code": ["C1", "C1"],
            "is_poor_village": [True, True],
            "poor_village_exited": [True, False],
        }
    )
    households = pl.DataFrame(
        {
            "village_code": ["V1", "V1", "V2", "V2"],
            "status": ["exited_2019", "exited_2019", "exited_2019", "not_exited"],
            "household_size": [2, 2, 2, 5],
        }
    )
    projects = pl.DataFrame(
        {"project_id": ["P1", "P2", "P3"], "county_code": ["C1"] * 3, "funds_yuan": [1e5] * 3}
    )
    rows = checked or []
    checks = pl.DataFrame(
        {
            "project_id": [p for p, _ in rows],
            "county_code": ["C1"] * len(rows),
            "status": [s for _, s in rows],
            "_row": list(range(2, 2 + len(rows))),
        },
        schema={
            "project_id": pl.String,
            "county_code": pl.String,
            "status": pl.String,
            "_row": pl.Int64,
        },
    )
    counties = pl.DataFrame({"county_code": ["C1"], "city_name": ["A市"]})
    return register_evidence(households, villages, projects, checks, counties, PLAN)


def check_facts(
    claims: pl.DataFrame, checked: list[tuple[str, str | None]] | None = None
) -> pl.DataFrame:
    counties = pl.DataFrame({"county_code": ["C1"], "city_name": ["A市"]})
    return cl.check_claims(cl.all_claims(claims, pl.DataFrame(), counties), register(checked), PLAN)


@pytest.mark.parametrize(
    ("item", "value", "checked", "verdict", "ids"),
    [
        pytest.param("reduction_achieved", "6人", None, "agree", None, id="exits-as-registered"),
        pytest.param(
            "reduction_achieved", "9人", None, "contradicted", "C1", id="exits-overstated"
        ),
        pytest.param("funds_invested", "31万元", None, "agree", None, id="funds-within-10pct"),
        pytest.param("funds_invested", "50万元", None, "contradicted", "C1", id="funds-off"),
        pytest.param("villages_exited", "1个", None, "agree", None, id="villages-as-registered"),
        pytest.param("villages_exited", "2", None, "contradicted", "C1", id="villages-overstated"),
        pytest.param(
            "projects_done",
            "2个",
            [("P2", "in_progress")],
            "agree",
            None,
            id="done-at-most-register-less-unfinished",
        ),
        pytest.param(
            "projects_done",
            "3个",
            [("P2", "in_progress"), ("P1", "completed")],
            "contradicted",
            "P2",
            id="done-despite-unfinished",
        ),
        pytest.param("projects_done", "3", None, "agree", None, id="done-nothing-unfinished"),
    ],
)
def test_a_county_fact_against_the_register(
    item: str,
    value: str,
    checked: list[tuple[str, str | None]] | None,
    verdict: str,
    ids: str | None,
) -> None:
    out = check_facts(claims_table({"source": "document", "item": item, "value": value}), checked)
    assert out.select("verdict", "contradicting_ids").row(0) == (verdict, ids)
    if item == "projects_done" and verdict == "contradicted":
        assert "project_checks.csv 第2行（项目P2，在建）" in out["references"].item()
        assert (
            out["found"].item().startswith("projects.csv（项目库）登记项目3个，抽查发现未完工1个")
        )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"item": "reduction_target", "value": "10人"}, "no_source", id="target"),
        pytest.param({"item": "keep_supervision", "value": "是"}, "no_source", id="supervision"),
        pytest.param({"item": "keep_supervision", "value": "maybe"}, "unreadable", id="unreadable"),
        pytest.param(
            {"item": "reduction_achieved", "value": "6", "level": "city", "county_code": None},
            "county_only",
            id="city-total",
        ),
        pytest.param({"item": "reduction_achieved", "value": "很多"}, "unreadable", id="words"),
    ],
)
def test_a_county_fact_that_cannot_be_checked(changes: dict[str, Any], reason: str) -> None:
    out = check_facts(claims_table({"source": "document"} | changes))
    assert out.select("verdict", "reason").row(0) == ("not_checkable", reason)


def test_keep_help_is_contradicted_by_an_exited_household_without_its_helper() -> None:
    hh = households(
        {"household_id": "H1", "is_exited": True, "knows_helper": True},
        {"household_id": "H2", "is_exited": True, "knows_helper": False},
        {"household_id": "H3", "is_exited": False, "knows_helper": False},  # not exited
    )
    out = check(claims_table({"source": "document", "item": "keep_help"}), hh)
    assert out.select("verdict", "contradicting_ids", "checked").row(0) == ("contradicted", "H2", 2)


@pytest.mark.parametrize(
    ("target", "remaining", "pace", "met", "on_time"),
    [
        pytest.param("5人", 5, 6 / 5, True, "on_track", id="ahead-and-on-track"),
        pytest.param("8人", 7, 6 / 8, False, "at_risk", id="behind-and-at-risk"),
        pytest.param(None, 0, None, None, "on_track", id="no-target-nothing-left"),
    ],
)
def test_reduction_pace(
    target: str | None, remaining: int, pace: float | None, met: bool | None, on_time: str
) -> None:
    from xkaohe.analyse.county_facts import reduction_pace

    villages = pl.DataFrame({"village_code": ["V1"], "county_code": ["C1"]})
    households = pl.DataFrame(
        {
            "village_code": ["V1", "V1"],
            "status": ["exited_2019", "not_exited"],
            "household_size": [6, remaining],
        }
    )
    counties = pl.DataFrame({"county_code": ["C1"], "city_name": ["A市"]})
    given = {"source": "document", "item": "reduction_target", "value": target}
    claims = claims_table(given if target else {"item": "education_ok"})  # no target given
    checks = cl.check_claims(cl.all_claims(claims, pl.DataFrame(), counties), register(), PLAN)
    out = reduction_pace(checks, households, villages, counties, PLAN).row(0, named=True)
    assert out["achieved_persons"] == 6 and out["remaining_persons"] == remaining
    assert out["years_left"] == PLAN.claims.finish_year - PLAN.timeline.field_start.year == 1
    assert (out["pace"] is None) if pace is None else out["pace"] == pytest.approx(pace)
    assert out["target_met"] == met and out["on_time"] == on_time


def test_comparisons_read_the_run_s_names_once(
    small_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm kernel renders report after report: the names that mask the claims' text
    (every household head of the frame: 30 million nationally) are read once, not per
    report, while the files stay the same."""
    from xkaohe.io import memo, people
    from xkaohe.report import compare

    memo.forget()
    reads: list[Path] = []
    real = people.read_known_names

    def counted(run: Path, county_codes: list[str] | None = None) -> list[str]:
        reads.append(run)
        return real(run, county_codes)

    monkeypatch.setattr(people, "read_known_names", counted)
    counties = compare.load_comparison(small_run).counties["county_code"].to_list()
    for code in counties[:3]:
        compare.load_comparison(small_run, code)
    assert len(reads) == 1
