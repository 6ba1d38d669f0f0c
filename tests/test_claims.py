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


def test_every_planted_contradiction_is_found_with_its_references(small_run: Path) -> None:
    checks = read(small_run, "claim_checks").filter(pl.col("table") == "claims")
    planted = truth(small_run, "claims").filter(pl.col("planted").is_not_null())
    assert set(planted["planted"]) == {"city", "county", "village", "helper", "self_assessment"}
    rows = survey_rows(small_run)
    got = planted.join(checks, on="claim_id", how="left")
    assert (got["verdict"] == "contradicted").all()
    for claim, expected, ids, refs in got.select(
        "claim_id", "contradicting", "contradicting_ids", "references"
    ).iter_rows():
        assert sorted(ids.split(";")) == sorted(expected.split(";")), claim
        for household in expected.split(";"):
            assert f"household_survey.csv 第{rows[household]}行（{household}）" in refs


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
