"""The explorer's logic without a browser, the field-progress shapers, and both notebooks."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from xkaohe.errors import InputError
from xkaohe.io.plan_file import load_plan
from xkaohe.plan import Plan
from xkaohe.report import explore as ex

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
def data(small_run: Path) -> ex.RunData:
    return ex.load_run(small_run)


@pytest.fixture(scope="module")
def explorer(data: ex.RunData) -> ex.Explorer:
    return ex.Explorer(data)


def _counties() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "county_code": ["340202", "340121", "340122", "340203"],
            "county_name": ["镜湖区", "长丰县", "肥东县", "弋江区"],
            "city_name": ["芜湖市", "合肥市", "合肥市", "芜湖市"],
        }
    )


# ------------------------------------------------------------- options


def test_cities_in_province_order_and_counties_depend_on_the_city() -> None:
    counties = _counties()
    assert ex.city_options(counties) == ["合肥市", "芜湖市"]
    assert ex.county_options(counties, "芜湖市") == [
        ("镜湖区（340202）", "340202"),
        ("弋江区（340203）", "340203"),
    ]
    assert ex.county_options(counties, "合肥市")[0] == ("长丰县（340121）", "340121")
    assert ex.county_options(counties, "不存在市") == []


def test_village_and_household_options_are_the_countys_own(data: ex.RunData) -> None:
    code = data.counties["county_code"][0]
    villages = ex.village_options(data.villages, code)
    assert villages[0] == ("全部抽样村", ex.ALL)
    own = set(data.villages.filter(pl.col("county_code") == code)["village_code"])
    assert {v for _, v in villages[1:]} == own
    village = villages[1][1]
    options = ex.household_options(data.households, code, village)
    ids = {h for _, h in options[1:]}
    expected = data.households.filter(pl.col("village_code") == village)["household_id"]
    assert ids == set(expected)
    assert any("一般农户" in label for label, _ in options)  # general households included


# --------------------------------------------------------------- masking


def test_mask_people_masks_every_personal_column_and_keeps_nulls() -> None:
    df = pl.DataFrame(
        {
            "head_name": ["张三丰", None],
            "phone": ["13812345678", None],
            "head_id_number": ["340121196309178943", None],
            "household_id": ["1", "2"],
        }
    )
    out = ex.mask_people(df)
    assert out.row(0) == ("张**", "138****5678", "340121**********43", "1")
    assert out.row(1) == (None, None, None, "2")


def test_no_full_name_phone_or_id_reaches_any_table(
    small_run: Path, data: ex.RunData, explorer: ex.Explorer
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
        for column in ("head_name", "phone", "head_id_number"):
            if column in df.columns:
                assert df[column].drop_nulls().str.contains(r"\*").all()


# ----------------------------------------------------------------- rates


def test_rates_for_gives_four_rates_with_thresholds_and_nulls_never_zeros(plan: Plan) -> None:
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
    rates = ex.rates_for(indicators, "340121", plan)
    assert rates["rate"].to_list() == [
        "wrong_exit_rate",
        "omission_rate",
        "approval_rate",
        "wrong_inclusion_rate",
    ]
    first = rates.row(0, named=True)
    assert (first["value"], first["status"], first["threshold"], first["side"]) == (
        0.03,
        "fail",
        0.02,
        "max",
    )
    assert rates.row(2, named=True)["side"] == "min"
    assert rates.row(1, named=True)["value"] is None  # no surveyed households: null
    assert rates.row(3, named=True)["threshold"] is None
    missing = ex.rates_for(indicators, "999999", plan)
    assert missing["value"].null_count() == 4
    table = ex.rates_table(rates)
    assert table.row(0) == ("错退率", "3%", "100人", "3.1%", "1%—6%", "不高于2%", "未达标")
    assert table.row(1)[1] == "—"


def test_the_rates_figure_is_updated_in_place_when_the_county_changes(
    data: ex.RunData, explorer: ex.Explorer
) -> None:
    first, second = data.counties["county_code"].to_list()[:2]
    fig = explorer.rates_fig
    traces = list(fig.data)
    explorer.select(first)
    before = [t.y for t in fig.data], fig.layout.title.text
    explorer.select(second)
    after = [t.y for t in fig.data], fig.layout.title.text
    assert explorer.rates_fig is fig and list(fig.data) == traces  # same objects
    assert before != after
    assert data.county_name(second) in after[1]
    expected = ex.rates_for(data.indicators, second, data.plan)["value"].to_list()
    assert [fig.data[2 * i].y[0] for i in range(4)] == expected


# -------------------------------------------------------------- findings


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


def test_the_filter_widgets_narrow_the_findings_table(
    data: ex.RunData, explorer: ex.Explorer
) -> None:
    overdue = data.findings.filter(pl.col("review_state") == "overdue")
    code = overdue["county_code"].drop_nulls()[0]
    explorer.select(code)
    explorer.review_state.value = "overdue"
    expected = overdue.filter(
        (pl.col("county_code") == code)
        | (pl.col("county_code").is_null() & (pl.col("city_name") == explorer.city.value))
    ).height
    try:
        shown = explorer.findings.value
        assert f"共 {expected} 个问题" in shown
        assert shown.count("<td>逾期未复核</td>") == shown.count("<tr>") - 1 == expected
        assert "<td>按时复核</td>" not in shown
    finally:
        explorer.review_state.value = ex.ALL
    table = ex.findings_table(
        ex.filter_findings(data.findings, county_code=code), data.villages, data.plan
    )
    assert {"考核内容", "复核", "复核结论", "层级"} <= set(table.columns)
    assert table["考核内容"].str.contains(r"^[CMP]\d ").all()


# ---------------------------------------------------- households and drill


def test_households_for_includes_general_households_in_chinese(data: ex.RunData) -> None:
    code = data.counties["county_code"][0]
    table = ex.households_for(data.households, code)
    assert table.height == data.households.filter(pl.col("county_code") == code).height
    assert "一般农户" in table["户类型"].to_list()
    assert set(table["分类"]) <= set(ex.CLASS_LABELS.values())
    village = data.villages.filter(pl.col("county_code") == code)["village_code"][0]
    one = ex.households_for(data.households, code, village)
    assert 0 < one.height < table.height


def test_household_detail_shows_answers_and_helper_claims(data: ex.RunData) -> None:
    contradicted = data.claims.filter(pl.col("status") == "contradicts")["household_id"][0]
    detail = ex.household_detail(data.households, data.claims, contradicted)
    answers = dict(detail.answers.iter_rows())
    assert {"家庭人口数", "人均纯收入元", "住房安全有保障", "分类"} <= set(answers)
    assert answers["住房安全有保障"] in ("是", "否")
    assert "不一致" in detail.claims["比对"].to_list()
    assert detail.claims.height == data.claims.filter(pl.col("household_id") == contradicted).height
    general = data.households.filter(~pl.col("registered"))["household_id"][0]
    assert ex.household_detail(data.households, data.claims, general).claims.height == 0
    with pytest.raises(KeyError, match="not among the surveyed"):
        ex.household_detail(data.households, data.claims, "nobody")


def test_drilling_from_county_to_village_to_household(
    data: ex.RunData, explorer: ex.Explorer
) -> None:
    city = explorer.city.options[1]
    explorer.city.value = city
    county = explorer.county.value
    assert county in {v for _, v in ex.county_options(data.counties, city)}
    assert data.county_name(county) in explorer.heading.value
    village = explorer.village.options[1][1]
    explorer.village.value = village
    name = data.villages.filter(pl.col("village_code") == village)["village_name"][0]
    rows = explorer.households.value.count("<tr>") - 1
    assert rows == data.households.filter(pl.col("village_code") == village).height
    assert name in explorer.households.value
    hid = explorer.household.options[1][1]
    explorer.household.value = hid
    assert hid in explorer.detail.value and "入户调查结果" in explorer.detail.value
    explorer.village.value = ex.ALL
    assert explorer.household.value == ex.ALL


def test_projects_and_discrepancies_are_the_countys(data: ex.RunData) -> None:
    code = data.discrepancies["county_code"][0]
    disc = ex.discrepancies_for(data.discrepancies, data.villages, code)
    assert disc.height == data.discrepancies.filter(pl.col("county_code") == code).height
    assert set(disc["类别"]) <= set(ex.KIND_LABELS.values())
    projects = ex.projects_for(data.projects, data.villages, code)
    assert projects.height == data.projects.filter(pl.col("county_code") == code).height
    assert set(projects["进度"]) <= {*ex.PROJECT_STATUS_ZH.values(), ""}


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


def test_selection_time_is_measured(data: ex.RunData, explorer: ex.Explorer) -> None:
    """Prints the per-selection time (a benchmark figure, never asserted)."""
    times = ex.time_selections(explorer, data.counties["county_code"].to_list()[:10])
    assert len(times) == 10
    print(f"per selection: median {sorted(times)[5] * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")


# -------------------------------------------------------------- progress


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


def test_progress_visits_counts_the_sample_visited_by_the_day() -> None:
    sample, quota, counties = _progress_inputs()
    rejects = pl.DataFrame({"table": ["household_survey"], "county_code": ["B"]})
    v = ex.progress_visits(_survey(), sample, quota, counties, N(25), rejects)
    assert v.select("county_code", "sampled", "visited", "missing").rows() == [
        ("A", 3, 1, 2),
        ("B", 1, 1, 0),
    ]
    assert v["general_visited"].to_list() == [1, 1]
    assert v["rejected"].to_list() == [0, 1]
    assert v["last_visit"].to_list() == [N(24), N(25)]
    later = ex.progress_visits(_survey(), sample, quota, counties, N(29))
    assert later["visited"].to_list() == [2, 1]


def test_progress_daily_and_the_team_day_table() -> None:
    daily = ex.progress_daily(_survey(), N(29))
    assert daily.rows() == [
        ("T1", N(24), 2, 2),
        ("T1", N(26), 1, 3),
        ("T2", N(25), 2, 2),
    ]
    table = ex.progress_team_days(daily)
    assert table.columns == ["考核组", "11月24日", "11月25日", "11月26日", "合计"]
    assert table.rows() == [("T1", 2, 0, 1, 3), ("T2", 0, 2, 0, 2)]


def test_progress_reviews_states_as_of_a_day() -> None:
    f = pl.DataFrame(
        {
            "problem_id": ["r", "o", "d", "p", "n", "later", "late-review"],
            "city_name": ["X市"] * 7,
            "county_code": ["A", "A", "B", None, "A", "A", "B"],
            "needs_review": [True, True, True, True, False, True, True],
            "raised_date": [N(24), N(24), N(25), N(26), N(24), N(28), N(24)],
            "review_due": [N(25), N(25), N(26), N(27), None, N(29), N(25)],
            "review_date": [N(25), None, None, None, None, None, N(28)],
            "review_outcome": ["confirmed", None, "pending", None, None, None, "dismissed"],
            "source": ["team"] * 7,
        }
    )
    system = pl.DataFrame(
        {
            "problem_id": ["S1", "S2"],
            "source": ["indicator", "cross_check"],
            "covered_by": [None, "r"],  # S2 duplicates a team problem: left out
            "county_code": ["A", "A"],
            "needs_review": [True, True],
            "raised_date": [N(24), N(24)],
            "review_due": [N(25), N(25)],
        }
    )
    f = pl.concat([f, system], how="diagonal_relaxed")
    r = ex.progress_reviews(f, N(26))
    assert dict(r.select("problem_id", "progress").iter_rows()) == {
        "r": "reviewed",
        "o": "overdue",
        "d": "due",
        "p": "pending",
        "late-review": "overdue",  # reviewed only on the 28th
        "S1": "proposed",  # the system's proposal awaits the team, never overdue
    }
    _, _, counties = _progress_inputs()
    counts = ex.progress_review_counts(r, counties)
    assert counts.select("unit", "code", "needs_review", "overdue", "due", "proposed").rows() == [
        ("city", "X市", 1, 0, 0, 0),
        ("county", "A", 3, 1, 0, 1),
        ("county", "B", 2, 1, 1, 0),
    ]
    assert ex.review_counts_table(counts)["单位"].to_list() == ["X市（市级）", "甲县", "乙县"]


def test_progress_risk_names_the_reasons() -> None:
    sample, quota, counties = _progress_inputs()
    visits = ex.progress_visits(_survey(), sample, quota, counties, N(29))
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
    risk = ex.progress_risk(visits, counts, completeness, D(2019, 12, 1), N(29))
    assert risk["at_risk"].to_list() == [True, True]
    assert risk["reasons"].to_list() == [
        "尚有1户抽样户未走访",
        "2个问题逾期未复核；1条系统提示待考核组核实；报告内容不全：典型经验2条，少于3条",
    ]
    assert risk["days_left"].to_list() == [2, 2]
    assert ex.risk_table(risk).height == 2


def test_field_progress_agrees_with_the_results_review_state(data: ex.RunData) -> None:
    p = ex.field_progress(data)
    assert p.as_of == data.as_of and p.deadline == data.plan.timeline.team_reports_by
    # the results' "overdue", plus team reviews dated after the day (still open on it)
    # that were already due before it
    f = data.findings
    after = pl.col("review_date") > data.as_of
    overdue = f.filter(
        (pl.col("review_state") == "overdue")
        | (
            (pl.col("review_state") == "late")
            & after
            & (pl.col("source") == "team")
            & (pl.col("review_due") < data.as_of)
        )
    )
    proposed = f.filter(
        pl.col("covered_by").is_null()
        & (
            (pl.col("review_state") == "proposed")
            | ((pl.col("source") != "team") & after.fill_null(False))
        )
    )
    assert int(p.review_counts["overdue"].sum()) == overdue.height
    assert int(p.review_counts["proposed"].sum()) == proposed.height > 0
    assert int(p.visits["sampled"].sum()) == data.sample_households.height
    early = ex.field_progress(data, "2019-11-25", city=data.counties["city_name"][0])
    assert early.visits["missing"].sum() > 0 and early.at_risk.height > 0
    assert early.visits["city_name"].unique().to_list() == [data.counties["city_name"][0]]
    assert "截至 <b>2019-11-25</b>" in ex.progress_summary(early)
    for fig in (
        ex.progress_visits_figure(early.visits),
        ex.progress_daily_figure(early.daily_team),
        ex.progress_reviews_figure(early.review_counts),
    ):
        assert len(fig.data) >= 1
    with pytest.raises(InputError, match="as_of"):
        ex.field_progress(data, "26/11/2019")
    with pytest.raises(InputError, match="city"):
        ex.field_progress(data, city="火星市")


# -------------------------------------------------------------- notebooks


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
