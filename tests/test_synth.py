"""Tests for :mod:`xkaohe.synth.frame`: the synthetic province and roster.

Fast tests use the ``small`` scale; one ``slow`` test checks the province's size.
Reference values: DOMAIN.md ("Anhui facts for the demo roster") for the
counties, GB 11643-1999 for the ID-number check character (its worked example
11010519491231002X).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xkaohe.inputs import Frame
from xkaohe.io.frame import check_frame
from xkaohe.synth import frame as synth

SEED = "test-synth"
STATUSES = {"exited_2019", "exited_2016_2018", "new_2018_2019", "not_exited", "relapsed"}
GRASSROOTS = ("county", "township", "village")

EXIT_BATCHES = {  # DOMAIN.md: the 31 poverty counties, their level and exit batch
    "2017": {"岳西县": "national", "谯城区": "provincial", "怀远县": "provincial",
             "蒙城县": "provincial"},
    "2018": {**dict.fromkeys(["颍上县", "寿县", "潜山市", "宿松县", "砀山县", "灵璧县", "泗县",
                              "裕安区", "舒城县", "利辛县"], "national"),
             **dict.fromkeys(["涡阳县", "埇桥区", "颍泉区", "颍州区", "太和县", "界首市",
                              "定远县", "金安区"], "provincial")},
    "2019": dict.fromkeys(["萧县", "临泉县", "阜南县", "颍东区", "霍邱县", "金寨县", "石台县",
                           "太湖县", "望江县"], "national"),
}
KNOWN_PAIRS = {"临泉县": "庐阳区", "颍东区": "巢湖市", "舒城县": "宣州区", "阜南县": "肥西县"}

COLUMNS: dict[str, dict[str, Any]] = {
    "counties": {"county_code": pl.String, "county_name": pl.String, "city_name": pl.String,
                 "category": pl.String, "national_poverty_county": pl.Boolean,
                 "paired_helper_county": pl.String, "deep_poverty": pl.Boolean},
    "villages": {"village_code": pl.String, "village_name": pl.String,
                 "township_code": pl.String, "township_name": pl.String,
                 "county_code": pl.String, "is_poor_village": pl.Boolean,
                 "registered_poor_people": pl.Int64, "households_total": pl.Int64,
                 "distance_to_township_km": pl.Float64, "infrastructure_gap": pl.Float64,
                 "public_service_gap": pl.Float64},
    "households": {"household_id": pl.String, "village_code": pl.String,
                   "villager_group": pl.String, "status": pl.String,
                   "household_size": pl.Int64, "head_name": pl.String,
                   "head_id_number": pl.String, "phone": pl.String, "helper_id": pl.String},
    "projects": {"project_id": pl.String, "county_code": pl.String, "village_code": pl.String,
                 "kind": pl.String, "name": pl.String, "funds_yuan": pl.Int64},
    "project_beneficiaries": {"project_id": pl.String, "household_id": pl.String},
    "cities": {"city_name": pl.String, "target_group": pl.String,
               "counties_assessed": pl.Int64},
    "assessors": {"person_id": pl.String, "name": pl.String, "home_city": pl.String,
                  "unit": pl.String, "level": pl.String, "kind": pl.String},
}


@pytest.fixture(scope="module")
def frame() -> dict[str, pl.DataFrame]:
    # polars frames are immutable here: the tests only read them
    return synth.synthesize_frame("small", SEED)


@pytest.fixture(scope="module")
def roster(frame: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return synth.synthesize_roster(frame["counties"], SEED)


def id_check(body: str) -> str:
    """GB 11643-1999 check character of the first 17 digits."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def status_counts(households: pl.DataFrame) -> pl.DataFrame:
    return households.group_by("village_code").agg(
        (pl.col("status") == s).sum().alias(s) for s in sorted(STATUSES))


# --- reproducibility and API -------------------------------------------------------------


def test_same_seed_gives_identical_frames(frame: dict[str, pl.DataFrame]) -> None:
    again = synth.synthesize_frame("small", SEED)
    assert list(again) == ["counties", "villages", "households", "projects",
                           "project_beneficiaries"]
    for name, table in frame.items():
        assert table.equals(again[name]), name


def test_same_seed_gives_identical_roster(frame: dict[str, pl.DataFrame],
                                         roster: dict[str, pl.DataFrame]) -> None:
    again = synth.synthesize_roster(frame["counties"], SEED)
    for name, table in roster.items():
        assert table.equals(again[name]), name


def test_different_seed_differs(frame: dict[str, pl.DataFrame]) -> None:
    other = synth.synthesize_frame("small", SEED + "-other")
    for name in ("villages", "households", "projects", "project_beneficiaries"):
        assert not frame[name].equals(other[name]), name


def test_unknown_scale_raises() -> None:
    with pytest.raises(ValueError, match="unknown scale 'planet'"):
        synth.synthesize_frame("planet", SEED)


def test_scales_constant() -> None:
    assert synth.SCALES == ("small", "province", "national")


@pytest.mark.parametrize("table", list(COLUMNS))
def test_columns_and_dtypes(table: str, frame: dict[str, pl.DataFrame],
                            roster: dict[str, pl.DataFrame]) -> None:
    df = {**frame, **roster}[table]
    expected = COLUMNS[table]
    assert df.columns[: len(expected)] == list(expected)
    assert {c: df.schema[c] for c in expected} == expected


def test_frame_passes_cross_table_checks(frame: dict[str, pl.DataFrame]) -> None:
    assert check_frame(Frame.from_tables(frame)) == []


# --- counties ----------------------------------------------------------------------------


def test_reference_table_matches_domain_facts() -> None:
    ref = synth.reference_counties()
    assert ref.height == 105
    assert ref["city_name"].n_unique() == 16
    assert ref["county_code"].is_unique().all()
    assert ref["county_code"].str.contains(r"^34\d{4}$").all()
    assert {n: d for n, d in ref.schema.items() if d != pl.String} == {
        "has_poverty_task": pl.Boolean, "deep_poverty": pl.Boolean,
        "deep_poverty_guess": pl.Boolean, "synthetic": pl.Boolean}
    assert ref["has_poverty_task"].sum() == 70
    poverty = ref.filter(pl.col("poverty_county_level").is_not_null())
    found = {b: dict(poverty.filter(pl.col("exit_batch") == b)
                     .select("county_name", "poverty_county_level").iter_rows())
             for b in ("2017", "2018", "2019")}
    assert found == EXIT_BATCHES
    assert poverty.height == 31
    assert (poverty["poverty_county_level"] == "national").sum() == 20
    assert poverty["has_poverty_task"].all()
    helpers = ref["paired_helper_county"].drop_nulls()
    assert helpers.len() == 20 and helpers.is_unique().all()
    assert helpers.is_in(ref["county_name"].implode()).all()
    codes = dict(ref.select("county_name", "county_code").iter_rows())
    assert {codes[n] for n in ("临泉县", "阜南县", "颍东区", "舒城县", "金寨县", "霍邱县")} == {
        "341221", "341225", "341203", "341523", "341524", "341522"}


def test_counties_scope(frame: dict[str, pl.DataFrame]) -> None:
    c = frame["counties"]
    assert c.height == 70
    assert c["city_name"].n_unique() == 16
    assert set(c["category"]) == {"exit_2019", "exited", "non_key"}
    assert (c["category"] == "exit_2019").sum() == 9
    assert (c["category"] == "exited").sum() == 22
    deep = c.filter(pl.col("deep_poverty"))
    assert 3 <= deep.height <= 8  # a flag beside the category (issue 10, item 7)
    assert set(deep["category"]) == {"exit_2019", "exited"}  # exiting and exited ones
    assert deep["poverty_county_level"].is_not_null().all()  # never a non-poverty county
    national = c.filter(pl.col("national_poverty_county"))
    assert national.height == 20
    assert national["paired_helper_county"].is_not_null().all()
    assert c.filter(~pl.col("national_poverty_county"))["paired_helper_county"].is_null().all()
    pairs = dict(c.select("county_name", "paired_helper_county").drop_nulls().iter_rows())
    assert {k: pairs[k] for k in KNOWN_PAIRS} == KNOWN_PAIRS
    assert not c.filter(pl.col("county_name").is_in(list(KNOWN_PAIRS)))["synthetic"].any()


# --- ids and codes -----------------------------------------------------------------------


@pytest.mark.parametrize(("table", "key"), [
    pytest.param("counties", ("county_code",), id="counties"),
    pytest.param("villages", ("village_code",), id="villages"),
    pytest.param("households", ("household_id",), id="households"),
    pytest.param("projects", ("project_id",), id="projects"),
    pytest.param("project_beneficiaries", ("project_id", "household_id"), id="beneficiaries"),
])
def test_keys_unique(table: str, key: tuple[str, ...], frame: dict[str, pl.DataFrame]) -> None:
    assert frame[table].select(pl.struct(key).is_unique().all()).item()


def test_code_lengths_and_prefixes(frame: dict[str, pl.DataFrame]) -> None:
    c, v, h = frame["counties"], frame["villages"], frame["households"]
    assert c["county_code"].str.contains(r"^\d{6}$").all()
    assert v["village_code"].str.contains(r"^\d{12}$").all()
    assert v["township_code"].str.contains(r"^\d{9}$").all()
    assert (v["village_code"].str.slice(0, 6) == v["county_code"]).all()
    assert (v["village_code"].str.slice(0, 9) == v["township_code"]).all()
    assert v["county_code"].is_in(c["county_code"].implode()).all()
    assert h["household_id"].str.contains(r"^\d{16}$").all()
    assert (h["household_id"].str.slice(0, 12) == h["village_code"]).all()
    with_county = h.join(v.select("village_code", "county_code"), on="village_code")
    assert (with_county["head_id_number"].str.slice(0, 6) == with_county["county_code"]).all()
    assert h["head_id_number"].str.contains(r"^\d{17}[\dX]$").all()
    assert h["phone"].str.contains(r"^1[3-9]\d{9}$").all()
    assert h["villager_group"].str.contains(r"^\d+组$").all()


def test_id_check_reference_value() -> None:
    assert id_check("11010519491231002") == "X"  # GB 11643-1999 worked example


def test_id_numbers_have_valid_check_character(frame: dict[str, pl.DataFrame]) -> None:
    ids = frame["households"]["head_id_number"].head(2000).to_list()
    assert all(i[17] == id_check(i[:17]) for i in ids)
    assert any(i.endswith("X") for i in frame["households"]["head_id_number"])


def test_head_names_look_chinese(frame: dict[str, pl.DataFrame]) -> None:
    assert frame["households"]["head_name"].str.contains(r"^[\u4e00-\u9fff]{2,3}$").all()


# --- villages and households -------------------------------------------------------------


def test_registered_poor_people_is_sum_of_household_sizes(
        frame: dict[str, pl.DataFrame]) -> None:
    v, h = frame["villages"], frame["households"]
    sums = h.group_by("village_code").agg(pl.col("household_size").sum().alias("people"),
                                          pl.len().alias("n"))
    joined = v.join(sums, on="village_code", how="left")
    assert joined["n"].is_not_null().all()  # every village has registered households
    assert (joined["registered_poor_people"] == joined["people"]).all()
    assert (joined["households_total"] > joined["n"]).all()


def test_small_scale_shape(frame: dict[str, pl.DataFrame]) -> None:
    v, h = frame["villages"], frame["households"]
    per_county = v.group_by("county_code").agg(
        pl.len().alias("villages"), pl.col("township_code").n_unique().alias("towns"),
        pl.col("is_poor_village").sum().alias("poor"))
    assert per_county["villages"].is_between(10, 16).all()
    assert per_county["towns"].is_between(1, 7).all()
    assert (per_county["towns"] == 1).sum() >= 1
    assert (per_county["poor"] == 0).sum() >= 1
    assert 0.12 <= v["is_poor_village"].mean() <= 0.30  # type: ignore[operator]
    per_village = h.group_by("village_code").agg(
        pl.len().alias("n"), pl.col("villager_group").n_unique().alias("groups"))
    assert per_village["n"].is_between(15, 60).all()
    assert per_village["groups"].is_between(3, 8).all()
    assert 2.2 <= h["household_size"].mean() <= 2.8  # type: ignore[operator]
    assert h["household_size"].min() >= 1  # type: ignore[operator]
    assert set(h["status"]) == STATUSES
    mean_hh = v.join(per_village, on="village_code").group_by("is_poor_village").agg(
        pl.col("n").mean())
    poor_mean = dict(mean_hh.iter_rows())
    assert poor_mean[True] > poor_mean[False]


def test_status_shares(frame: dict[str, pl.DataFrame]) -> None:
    share = dict(frame["households"]["status"].value_counts(normalize=True).iter_rows())
    assert 0.55 <= share["exited_2016_2018"] <= 0.70
    assert 0.10 <= share["exited_2019"] <= 0.20
    assert 0.05 <= share["not_exited"] <= 0.16
    assert 0.02 <= share["new_2018_2019"] <= 0.06
    assert 0.002 <= share["relapsed"] <= 0.015


def test_substitution_paths_occur(frame: dict[str, pl.DataFrame]) -> None:
    counts = status_counts(frame["households"])
    for status in ("exited_2019", "new_2018_2019", "not_exited"):
        assert (counts[status] == 0).any(), f"no village lacks {status}"
    relapsed = counts["relapsed"]
    assert relapsed.sum() > 0
    assert (relapsed == 0).mean() > 0.5  # type: ignore[operator]


def test_remoteness(frame: dict[str, pl.DataFrame]) -> None:
    v = frame["villages"]
    assert v["distance_to_township_km"].is_between(0.5, 25.0).all()
    for col in ("infrastructure_gap", "public_service_gap"):
        assert v[col].is_between(0.0, 1.0).all()
        assert (v[col] == v[col].round(3)).all()
        assert v.select(pl.corr("distance_to_township_km", col)).item() > 0.3
    by_poor = dict(v.group_by("is_poor_village").agg(
        pl.col("distance_to_township_km").mean()).iter_rows())
    assert by_poor[True] > by_poor[False]


def test_helpers(frame: dict[str, pl.DataFrame]) -> None:
    h = frame["households"]
    helpers = h.group_by("helper_id").agg(pl.col("village_code").n_unique().alias("villages"),
                                          pl.len().alias("households"))
    assert (helpers["villages"] == 1).all()
    assert helpers["households"].is_between(1, 8).all()
    assert helpers["households"].mean() >= 3  # type: ignore[operator]
    per_village = h.group_by("village_code").agg(pl.col("helper_id").n_unique())
    assert (per_village["helper_id"] < 8).any()
    assert (per_village["helper_id"] >= 8).mean() > 0.5  # type: ignore[operator]


# --- projects ----------------------------------------------------------------------------


def test_projects(frame: dict[str, pl.DataFrame]) -> None:
    c, v, p = frame["counties"], frame["villages"], frame["projects"]
    assert set(p["kind"]) == {"county", "village", "household_policy", "paired_cooperation"}
    no_village = p.filter(pl.col("kind").is_in(["county", "paired_cooperation"]))
    assert no_village["village_code"].is_null().all()
    assert p.filter(pl.col("kind").is_in(["village", "household_policy"]))[
        "village_code"].is_not_null().all()
    assert (p["funds_yuan"] > 0).all()
    county_counts = p.filter(pl.col("kind") == "county").group_by("county_code").len()
    assert county_counts.height == 70 and county_counts["len"].is_between(6, 20).all()
    per_village = (p.filter(pl.col("village_code").is_not_null())
                   .pivot("kind", index="village_code", values="project_id",
                          aggregate_function="len"))
    per_village = v.select("village_code").join(per_village, on="village_code", how="left")
    kinds = per_village.select(pl.col("village", "household_policy").fill_null(0))
    assert kinds.max().row(0) <= (3, 3)
    assert ((kinds["village"] == 0) ^ (kinds["household_policy"] == 0)).any()
    assert ((kinds["village"] == 0) & (kinds["household_policy"] == 0)).any()
    paired = p.filter(pl.col("kind") == "paired_cooperation").group_by("county_code").len()
    helped = c.filter(pl.col("paired_helper_county").is_not_null())["county_code"]
    assert set(paired["county_code"]) == set(helped)
    assert paired["len"].is_between(5, 10).all()


def test_beneficiaries(frame: dict[str, pl.DataFrame]) -> None:
    v, h, p = frame["villages"], frame["households"], frame["projects"]
    b = (frame["project_beneficiaries"]
         .join(p.select("project_id", "kind", "county_code", pl.col("village_code")
                        .alias("project_village")), on="project_id")
         .join(h.select("household_id", "village_code"), on="household_id")
         .join(v.select("village_code", pl.col("county_code").alias("household_county")),
               on="village_code"))
    assert b.height == frame["project_beneficiaries"].height
    assert set(b["kind"]) == {"household_policy", "paired_cooperation"}
    policy = b.filter(pl.col("kind") == "household_policy")
    assert (policy["project_village"] == policy["village_code"]).all()
    paired = b.filter(pl.col("kind") == "paired_cooperation")
    assert (paired["county_code"] == paired["household_county"]).all()
    n_policy = policy.group_by("project_id").len()["len"]
    assert n_policy.is_between(2, 10).all()
    n_paired = paired.group_by("project_id").len()["len"]
    assert n_paired.is_between(1, 6).all() and (n_paired == 1).any()
    every_policy = p.filter(pl.col("kind") == "household_policy")["project_id"]
    assert every_policy.is_in(policy["project_id"].implode()).all()


# --- roster ------------------------------------------------------------------------------


def test_roster_cities(roster: dict[str, pl.DataFrame]) -> None:
    cities = roster["cities"]
    assert cities.height == 16
    assert cities["target_group"].n_unique() == 13
    assert cities["counties_assessed"].sum() == 70
    assert (cities.group_by("target_group").len()["len"] <= 2).all()


def test_roster_assessors(roster: dict[str, pl.DataFrame]) -> None:
    a = roster["assessors"]
    assert a["person_id"].is_unique().all()
    assert a.filter(pl.col("home_city").is_null())["level"].eq("province").all()
    per_city = a.filter(pl.col("home_city").is_not_null()).group_by("home_city").agg(
        pl.len().alias("n"),
        (pl.col("kind") == "director").sum().alias("directors"),
        pl.col("level").is_in(GRASSROOTS).mean().alias("grassroots"))
    assert per_city.height == 16
    assert (per_city["n"] == 34).all()
    assert (per_city["directors"] == 1).all()
    assert (per_city["grassroots"] >= 0.6).all()
    provincial = a.filter(pl.col("home_city").is_null())
    kinds = dict(provincial.group_by("kind").len().iter_rows())
    assert kinds.keys() == {"division_cadre", "party_observer"}
    assert kinds["division_cadre"] >= 13 and kinds["party_observer"] >= 13
    directors = a.filter(pl.col("kind") == "director")
    assert (directors["level"] == "city").all()
    assert directors["unit"].str.ends_with("扶贫办").all()
    assert set(a["level"]) == {"province", "city", "county", "township", "village"}


# --- properties and scale ----------------------------------------------------------------


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.text(min_size=1, max_size=12))
def test_invariants_hold_for_any_seed(seed: str) -> None:
    f = synth.synthesize_frame("small", seed)
    v, h = f["villages"], f["households"]
    assert check_frame(Frame.from_tables(f)) == []
    assert h["household_id"].is_unique().all()
    people = h.group_by("village_code").agg(pl.col("household_size").sum())
    joined = v.join(people, on="village_code")
    assert (joined["registered_poor_people"] == joined["household_size"]).all()
    counts = status_counts(h)
    for status in ("exited_2019", "new_2018_2019", "not_exited"):
        assert (counts[status] == 0).any()
    towns = v.group_by("county_code").agg(pl.col("township_code").n_unique(),
                                          pl.col("is_poor_village").sum())
    assert (towns["township_code"] == 1).any() and (towns["is_poor_village"] == 0).any()


@pytest.mark.slow
def test_province_scale_size() -> None:
    f = synth.synthesize_frame("province", SEED)
    assert f["counties"].height == 70
    assert 14_000 <= f["villages"].height <= 18_000
    assert 1_300_000 <= f["households"].height <= 1_700_000
    towns = f["villages"].group_by("county_code").agg(pl.col("township_code").n_unique())
    assert towns["township_code"].is_between(15, 25).all()
    assert f["households"]["household_id"].is_unique().all()
