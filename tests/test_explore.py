"""The explorer without a browser, the field-progress analysis and its report, both notebooks."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from xkaohe import codes
from xkaohe.analyse import progress as pg
from xkaohe.errors import InputError
from xkaohe.io.plan_file import load_plan
from xkaohe.plan import Plan
from xkaohe.report import explore as ex
from xkaohe.report import field_progress as fp
from xkaohe.report import kit
from xkaohe.report.kit import Results

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
PLAN = REPO / "params" / "plan-2019.yaml"
D = dt.date


def N(day: int) -> dt.date:
    """A day of November 2019 (the field week)."""
    return dt.date(2019, 11, day)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(PLAN)


@pytest.fixture(scope="module")
def data(small_run: Path) -> Results:
    return kit.load_results(small_run)


@pytest.fixture(scope="module")
def explorer(data: Results) -> ex.Explorer:
    return ex.Explorer(data)


def _counties() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "county_code": ["340202", "340121", "340122", "340203"],
            "county_name": ["镜湖区", "长丰县", "肥东县", "弋江区"],
            "city_name": ["芜湖市", "合肥市", "合肥市", "芜湖市"],
        }
    )


# ------------------------------------------------------------------ options


def test_cities_in_province_order_and_counties_depend_on_the_city() -> None:
    counties = _counties()
    assert ex.city_options(counties) == ["合肥市", "芜湖市"]
    assert ex.county_options(counties, "芜湖市") == [
        ("镜湖区（340202）", "340202"),
        ("弋江区（340203）", "340203"),
    ]
    assert ex.county_options(counties, "合肥市")[0] == ("长丰县（340121）", "340121")
    assert ex.county_options(counties, "不存在市") == []


def test_village_and_household_options_are_the_countys_own(data: Results) -> None:
    code = data.counties["county_code"][0]
    villages = ex.village_options(data.sample_villages, code)
    assert villages[0] == ("全部抽样村", ex.ALL)
    own = set(data.sample_villages.filter(pl.col("county_code") == code)["village_code"])
    assert {v for _, v in villages[1:]} == own
    village = villages[1][1]
    options = ex.household_options(data.households, code, village)
    expected = data.households.filter(pl.col("village_code") == village)["household_id"]
    assert {h for _, h in options[1:]} == set(expected)
    assert any("一般农户" in label for label, _ in options)  # general households included


# ------------------------------------------------------------------ masking


def test_no_full_name_phone_or_id_reaches_any_table(
    small_run: Path, data: Results, explorer: ex.Explorer
) -> None:
    frame = pl.read_csv(small_run / "frame" / "households.csv", infer_schema=False)
    sample = pl.read_csv(small_run / "sample" / "households.csv", infer_schema=False)
    secrets = frame.join(sample.select("household_id"), on="household_id", how="semi")
    names = [n for n in secrets["head_name"].to_list() if n and len(n) >= 2]
    numbers = [*secrets["phone"].to_list(), *secrets["head_id_number"].to_list()]
    seen: list[str] = []
    for code in data.counties["county_code"].to_list()[:6]:
        explorer.select(code)
        seen += [explorer.households.value, explorer.findings.value, explorer.projects.value]
        seen += [explorer.discrepancies.value, str(explorer.household.options)]
        for _, hid in explorer.household.options[1:4]:
            explorer.household.value = hid
            seen.append(explorer.detail.value)
    text = "\n".join(seen)
    assert "**" in text and "****" in text  # masked values are shown
    assert not [n for n in numbers if n and n in text]
    shown = set(re.findall(r"<td>([^<*]{2,4})</td>", text))
    assert not shown & set(names)
    for df in (data.households, data.sample_households):
        assert df["head_name"].drop_nulls().str.contains(r"\*").all()


# ------------------------------------------------------------------ rates


def test_county_rates_in_chinese_with_the_stored_status_and_nulls_never_zeros(plan: Plan) -> None:
    indicators = pl.DataFrame(
        {
            "county_code": ["340121"],
            "wrong_exit_rate": [0.03],
            "wrong_exit_rate_est": [0.031],
            "wrong_exit_rate_low": [0.01],
            "wrong_exit_rate_high": [0.06],
            "wrong_exit_rate_n": [100],
            "wrong_exit_rate_status": ["fail"],
            "omission_rate": [None],
            "approval_rate": [0.95],
            "approval_rate_status": ["pass"],
        },
        schema_overrides={"omission_rate": pl.Float64},
    )
    scope = pl.DataFrame({"county_code": ["340121"], "scope": ["exit_standard"]})
    rates = ex.county_rates(kit.rate_rows(indicators, scope, plan), "340121")
    assert rates["rate"].to_list() == [
        "wrong_exit_rate",
        "omission_rate",
        "approval_rate",
        "wrong_inclusion_rate",
    ]
    first = rates.row(0, named=True)
    assert (first["ratio"], first["status"], first["threshold"], first["side"]) == (
        0.03,
        "fail",
        0.02,
        "max",
    )
    assert rates.row(2, named=True)["side"] == "min"
    assert rates.row(1, named=True)["ratio"] is None  # no surveyed households: null
    assert rates.row(1, named=True)["status"] == "no_data"
    assert rates.row(3, named=True)["threshold"] is None
    table = ex.rates_table(rates)
    assert table.row(0) == ("错退率", "3%", "100人", "3.1%", "1%—6%", "≤2%", "未达标")
    assert table.row(1)[1] == "—" and table.row(1)[6] == "无样本"
    reference = kit.rate_rows(indicators, scope.with_columns(scope=pl.lit("reference")), plan)
    assert ex.rates_table(reference).row(0)[6] == "超出参考线"


def test_the_rates_figure_is_updated_in_place_when_the_county_changes(
    data: Results, explorer: ex.Explorer
) -> None:
    first, second = data.counties["county_code"].to_list()[:2]
    fig = explorer.rates_fig
    traces = list(fig.data)
    explorer.select(first)
    before = [t.x for t in fig.data], fig.layout.title.text
    explorer.select(second)
    after = [t.x for t in fig.data], fig.layout.title.text
    assert explorer.rates_fig is fig and list(fig.data) == traces  # same objects
    assert before != after
    assert data.county_name(second) in after[1]
    expected = ex.county_rates(data.rates, second)["ratio"].to_list()
    assert [fig.data[2 * i + 1].x[0] for i in range(4)] == expected


# ------------------------------------------------------------------ findings


def _findings() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "problem_id": ["P1", "P2", "P3", "P4", "P5"],
            "raised_date": [N(24), N(25), N(25), N(26), N(27)],
            "city_name": ["合肥市", "合肥市", "合肥市", "芜湖市", "合肥市"],
            "county_code": ["340121", None, "340122", "340202", "340121"],
            "level": ["county", "city", "county", "village", "household"],
            "content_item": ["C7", "M1", "C7", "C1", "C8"],
            "needs_review": [True, False, True, True, True],
            "review_outcome": ["confirmed", None, None, "dismissed", None],
            "review_state": ["on_time", "not_needed", "overdue", "late", "pending"],
        }
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({}, ["P1", "P2", "P3", "P4", "P5"], id="no-filter"),
        pytest.param({"county_code": "340121"}, ["P1", "P5"], id="county"),
        pytest.param(
            {"county_code": "340121", "city": "合肥市"}, ["P1", "P2", "P5"], id="county+city-level"
        ),
        pytest.param({"city": "合肥市"}, ["P1", "P2", "P3", "P5"], id="city"),
        pytest.param({"content_item": "C7"}, ["P1", "P3"], id="item"),
        pytest.param({"review_state": "overdue"}, ["P3"], id="state"),
        pytest.param({"review_outcome": "pending"}, ["P3", "P5"], id="outcome-pending"),
        pytest.param({"review_outcome": "dismissed"}, ["P4"], id="outcome"),
        pytest.param({"level": "household"}, ["P5"], id="level"),
        pytest.param({"city": "合肥市", "content_item": "C7", "level": "county"}, ["P1", "P3"]),
    ],
)
def test_filter_findings(filters: dict[str, str], expected: list[str]) -> None:
    assert ex.filter_findings(_findings(), **filters)["problem_id"].to_list() == expected


def test_the_filter_widgets_narrow_the_findings_table(data: Results, explorer: ex.Explorer) -> None:
    state = "on_time"
    chosen = data.findings.filter(pl.col("review_state") == state)
    code = chosen["county_code"].drop_nulls()[0]
    explorer.select(code)
    explorer.review_state.value = state
    expected = chosen.filter(
        (pl.col("county_code") == code)
        | (pl.col("county_code").is_null() & (pl.col("city_name") == explorer.city.value))
    ).height
    try:
        shown = explorer.findings.value
        assert f"共 {expected} 个问题" in shown
        label = codes.REVIEW_STATE.label(state)
        assert shown.count(f"<td>{label}（") == shown.count("<tr>") - 1 == expected
    finally:
        explorer.review_state.value = ex.ALL
    table = ex.findings_table(
        ex.filter_findings(data.findings, county_code=code), data.sample_villages, data
    )
    assert {"考核内容", "复核", "复核结论", "层级"} <= set(table.columns)
    assert table["考核内容"].str.contains(r"^[CMP]\d ").all()


# ------------------------------------------------------------------ households and drill


def test_households_for_includes_general_households_in_chinese(data: Results) -> None:
    code = data.counties["county_code"][0]
    table = ex.households_for(data.households, code)
    assert table.height == data.households.filter(pl.col("county_code") == code).height
    assert "一般农户" in table["户类型"].to_list()
    assert set(table["分类"]) <= set(codes.HOUSEHOLD_CLASS.labels().values())
    village = data.sample_villages.filter(pl.col("county_code") == code)["village_code"][0]
    one = ex.households_for(data.households, code, village)
    assert 0 < one.height < table.height


def test_household_detail_shows_answers_and_helper_claims(data: Results) -> None:
    claims = data.check_claims
    contradicted = claims.filter(pl.col("status") == "contradicts")["household_id"][0]
    detail = ex.household_detail(data.households, claims, contradicted)
    answers = dict(detail.answers.iter_rows())
    assert {"家庭人口数", "人均纯收入元", "住房安全有保障", "分类"} <= set(answers)
    assert answers["住房安全有保障"] in ("是", "否")
    assert codes.CLAIM_STATUS.label("contradicts") in detail.claims["比对"].to_list()
    assert detail.claims.height == claims.filter(pl.col("household_id") == contradicted).height
    general = data.households.filter(~pl.col("registered"))["household_id"][0]
    assert ex.household_detail(data.households, claims, general).claims.height == 0
    with pytest.raises(KeyError, match="not among the surveyed"):
        ex.household_detail(data.households, claims, "nobody")


def test_drilling_from_county_to_village_to_household(data: Results, explorer: ex.Explorer) -> None:
    city = explorer.city.options[1]
    explorer.city.value = city
    county = explorer.county.value
    assert county in {v for _, v in ex.county_options(data.counties, city)}
    assert data.county_name(county) in explorer.heading.value
    village = explorer.village.options[1][1]
    explorer.village.value = village
    name = data.sample_villages.filter(pl.col("village_code") == village)["village_name"][0]
    rows = explorer.households.value.count("<tr>") - 1
    assert rows == data.households.filter(pl.col("village_code") == village).height
    assert name in explorer.households.value
    hid = explorer.household.options[1][1]
    explorer.household.value = hid
    assert hid in explorer.detail.value and "入户调查结果" in explorer.detail.value
    explorer.village.value = ex.ALL
    assert explorer.household.value == ex.ALL


def test_projects_and_discrepancies_are_the_countys(data: Results) -> None:
    code = data.check_discrepancies["county_code"][0]
    disc = ex.discrepancies_for(data.check_discrepancies, data.sample_villages, code)
    assert disc.height == data.check_discrepancies.filter(pl.col("county_code") == code).height
    assert set(disc["类别"]) <= set(codes.DISCREPANCY_KIND.labels().values())
    projects = ex.projects_for(data.check_projects, data.sample_villages, code)
    assert projects.height == data.check_projects.filter(pl.col("county_code") == code).height
    assert set(projects["进度"]) <= {*codes.PROJECT_STATUS.labels().values(), ""}


def test_widgets_carry_stable_css_classes(explorer: ex.Explorer) -> None:
    for name, css in [
        ("city", "xk-city"),
        ("county", "xk-county"),
        ("households", "xk-households"),
        ("findings", "xk-findings"),
        ("rates_box", "xk-rates"),
        ("detail", "xk-detail"),
    ]:
        assert css in getattr(explorer, name)._dom_classes


def test_selection_time_is_measured(data: Results, explorer: ex.Explorer) -> None:
    """Prints the per-selection time (a benchmark figure, never asserted)."""
    times = ex.time_selections(explorer, data.counties["county_code"].to_list()[:10])
    assert len(times) == 10
    print(f"per selection: median {sorted(times)[5] * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")


# ------------------------------------------------------------------ progress (analysis)


def _survey() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "household_id": ["a1", "a2", "g1", "b1", "g2"],
            "county_code": ["A", "A", "A", "B", "B"],
            "team_id": ["T1", "T1", "T1", "T2", "T2"],
            "registered": [True, True, False, True, False],
            "visit_date": [N(24), N(26), N(24), N(25), N(25)],
        }
    )


def _progress_inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    sample = pl.DataFrame(
        {"county_code": ["A", "A", "A", "B"], "household_id": ["a1", "a2", "a3", "b1"]}
    )
    quota = pl.DataFrame({"county_code": ["A", "B"], "village_code": ["v", "w"], "count": [4, 4]})
    counties = pl.DataFrame(
        {"county_code": ["A", "B"], "county_name": ["甲县", "乙县"], "city_name": ["X市", "X市"]}
    )
    return sample, quota, counties


def test_visits_count_the_sample_visited_by_the_day() -> None:
    sample, quota, counties = _progress_inputs()
    rejects = pl.DataFrame({"table": ["household_survey"], "county_code": ["B"]})
    v = pg.visits(_survey(), sample, quota, counties, N(25), rejects)
    assert v.select("county_code", "sampled", "visited", "missing").rows() == [
        ("A", 3, 1, 2),
        ("B", 1, 1, 0),
    ]
    assert v["general_visited"].to_list() == [1, 1]
    assert v["rejected"].to_list() == [0, 1]
    assert v["last_visit"].to_list() == [N(24), N(25)]
    later = pg.visits(_survey(), sample, quota, counties, N(29))
    assert later["visited"].to_list() == [2, 1]


def test_daily_visits_and_the_team_day_table() -> None:
    daily = pg.daily(_survey(), N(29))
    assert daily.rows() == [
        ("T1", N(24), 2, 2),
        ("T1", N(26), 1, 3),
        ("T2", N(25), 2, 2),
    ]
    table = fp.team_days(daily)
    assert table.columns == ["考核组", "11月24日", "11月25日", "11月26日", "合计"]
    assert table.rows() == [("T1", 2, 0, 1, 3), ("T2", 0, 2, 0, 2)]


def test_review_states_on_a_day_are_the_one_rule(plan: Plan) -> None:
    f = pl.DataFrame(
        {
            "problem_id": ["r", "o", "d", "p", "n", "later", "late-review"],
            "city_name": ["X市"] * 7,
            "county_code": ["A", "A", "B", None, "A", "A", "B"],
            "needs_review": [True, True, True, True, False, True, True],
            "raised_date": [N(24), N(24), N(25), N(26), N(24), N(28), N(24)],
            "review_date": [N(25), None, None, None, None, None, N(28)],
            "review_outcome": ["confirmed", None, "pending", None, None, None, "dismissed"],
            "source": ["team"] * 7,
        }
    )
    system = pl.DataFrame(
        {
            "problem_id": ["S1", "S2"],
            "city_name": ["X市"] * 2,
            "source": ["indicator", "cross_check"],
            "covered_by": [None, "r"],  # S2 duplicates a team problem: left out
            "county_code": ["A", "A"],
            "needs_review": [True, True],
            "raised_date": [N(24), N(24)],
        }
    )
    findings = pl.concat([f, system], how="diagonal_relaxed")
    taken = pg.reviews(findings, plan, N(26), run_as_of=N(29))
    assert dict(taken.select("problem_id", "review_state").iter_rows()) == {
        "r": "on_time",
        "o": "overdue",
        "d": "pending",  # due today: still pending, as in every report
        "p": "pending",
        "late-review": "overdue",  # reviewed only on the 28th
        "S1": "proposed",  # the system's proposal awaits the team, never overdue
    }
    _, _, counties = _progress_inputs()
    counts = pg.review_counts(taken, counties)
    assert counts.select(
        "unit", "code", "needs_review", "overdue", "pending", "proposed"
    ).rows() == [
        ("city", "X市", 1, 0, 1, 0),
        ("county", "A", 3, 1, 0, 1),
        ("county", "B", 2, 1, 1, 0),
    ]
    assert fp.review_counts_table(counts)["单位"].to_list() == ["X市（市级）", "甲县", "乙县"]
    on_the_run_date = pg.reviews(findings, plan, N(29), run_as_of=N(29))
    assert set(on_the_run_date["problem_id"]) == {"r", "o", "d", "p", "later", "late-review", "S1"}
    assert on_the_run_date.filter(pl.col("problem_id") == "late-review")["review_state"].item() == (
        "late"  # the recorded review counts on the results' own date
    )


def test_deadline_risk_names_the_reasons() -> None:
    sample, quota, counties = _progress_inputs()
    visits = pg.visits(_survey(), sample, quota, counties, N(29))
    counts = pl.DataFrame(
        {"unit": ["county", "county"], "code": ["A", "B"], "overdue": [0, 2], "proposed": [0, 1]},
    )
    completeness = pl.DataFrame(
        {
            "unit": ["county", "county"],
            "code": ["A", "B"],
            "ok": [True, False],
            "shortfall": [None, "典型经验2条，少于3条"],
        }
    )
    risk = pg.deadline_risk(visits, counts, completeness, D(2019, 12, 1), N(29))
    assert risk["behind"].to_list() == [True, True]
    assert risk["reasons"].to_list() == [
        "尚有1户抽样户未走访",
        "2个问题逾期未复核；1条系统提示待考核组核实；报告内容不全：典型经验2条，少于3条",
    ]
    assert risk["days_left"].to_list() == [2, 2]
    assert fp.risk_table(risk).height == 2


def test_field_progress_on_the_run_date_agrees_with_the_stored_states(data: Results) -> None:
    p = fp.progress(data)
    assert p.as_of == data.as_of and p.deadline == data.plan.timeline.team_reports_by
    stored = data.findings.filter(
        pl.col("covered_by").is_null() & (pl.col("review_state") != "not_needed")
    )
    mine = p.reviews.select("problem_id", "review_state").sort("problem_id")
    assert mine.equals(stored.select("problem_id", "review_state").sort("problem_id"))
    for state in pg.REVIEW_COUNTED:
        assert (
            int(p.review_counts[state].sum())
            == stored.filter(pl.col("review_state") == state).height
        )
    assert int(p.visits["sampled"].sum()) == data.sample_households.height
    first = data.counties["city_name"][0]
    early = fp.progress(data, "2019-11-25", city=first)
    assert early.visits["missing"].sum() > 0 and early.behind.height > 0
    assert early.visits["city_name"].unique().to_list() == [first]
    assert "截至 <b>2019-11-25</b>" in fp.summary(early)
    for fig in (
        fp.visits_figure(early.visits),
        fp.daily_figure(early.daily_team),
        fp.reviews_figure(early.review_counts),
    ):
        assert len(fig.data) >= 1
    with pytest.raises(InputError, match="as_of"):
        fp.progress(data, "26/11/2019")
    with pytest.raises(InputError, match="city"):
        fp.progress(data, city="火星市")


# ------------------------------------------------------------------ notebooks


@pytest.mark.parametrize(
    ("notebook", "parameters", "text"),
    [
        pytest.param("explore.ipynb", {}, "xk-households", id="explore"),
        pytest.param(
            "field_progress.ipynb", {"as_of": "2019-11-27"}, "各考核组每日累计走访", id="progress"
        ),
    ],
)
def test_the_notebooks_run(
    small_run: Path, tmp_path: Path, notebook: str, parameters: dict[str, str], text: str
) -> None:
    import papermill as pm

    out = tmp_path / notebook
    pm.execute_notebook(
        str(NOTEBOOKS / notebook),
        str(out),
        parameters={**parameters, "run_dir": str(small_run)},
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    page = out.read_text(encoding="utf-8")
    assert '"output_type": "error"' not in page
    assert text in page
