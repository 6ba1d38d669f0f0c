"""Synthetic province: a registry extract (the frame) and a roster, all made up.

Why one module of ~930 lines: the five frame tables are drawn from one seeded
stream in one order (counties, villages, households, projects), each table's
shapes depending on the ones before; the roster follows the same counties.
The sections below are the seams.

Everything here is **synthetic demo data**. The county list is the real one
(the 16 Anhui cities and their county-level divisions as of 2019, GB/T 2260
codes, the 31 poverty counties and their exit batches, DOMAIN.md); every
county whose membership in the 70, category or pairing is a demo assumption
carries ``synthetic = true`` in ``data/reference/anhui_counties.csv``, and every
guessed 深度贫困县 flag ``deep_poverty_guess = true`` (``data/reference/README.md``).
Villages, households, names, ID numbers, phones, projects and assessors are
invented.

Sizes follow the public orders of magnitude (DOMAIN.md, "Scale"): ``small``
(the 70 counties, about 900 villages, for tests and the demo), ``province``
(about 16,000 villages and 1.5 million registered households), ``national``
(about 830 counties, 128,000 villages, 30 million households; the counties
outside Anhui sit in synthetic provinces with codes 90xxxx-99xxxx that no real
division uses). The shapes are chosen so that every path of the sampling
protocol (DESIGN.md, "prn-order-v1") occurs: villages lacking a household
status, a county without poor villages, a county with a single township
(``small``), relapsed households in some villages only, projects of one kind
missing, paired projects with a single beneficiary.

All randomness comes from :func:`xkaohe.draw.seeded_rng`; the same scale and
seed give identical frames. Nothing is written to disk here (:mod:`xkaohe.io`
does that). Generation is vectorised over villages and households.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

from xkaohe.draw.prn import seeded_rng
from xkaohe.io.reference import read_anhui_counties

__all__ = ["SCALES", "reference_counties", "synthesize_frame", "synthesize_roster"]

SCALES = ("small", "province", "national")

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
_T = TypeVar("_T", bound=np.generic)


@dataclass(frozen=True)
class _Scale:
    """Size parameters of one scale (ranges are inclusive)."""

    townships: tuple[int, int]
    villages: tuple[int, int]
    households_mean: float  # mean registered households of a non-poor village
    households_clip: tuple[int, int]
    groups: tuple[int, int]
    synthetic_counties: int
    single_township: bool


_SCALES = {
    "small": _Scale((4, 7), (10, 16), 32.0, (15, 60), (3, 8), 0, True),
    "province": _Scale((15, 25), (180, 280), 80.0, (15, 600), (4, 15), 0, False),
    "national": _Scale((10, 16), (120, 190), 200.0, (15, 1200), (5, 20), 762, False),
}

_STATUSES = ("exited_2019", "exited_2016_2018", "new_2018_2019", "not_exited", "relapsed")
# Mean shares of exited_2019, exited_2016_2018, new_2018_2019, not_exited per
# county profile: its category, or deep_poverty for the counties carrying that
# flag (normalised after jitter; relapsed is drawn per village).
_STATUS_SHARES = {
    "exit_2019": (0.22, 0.60, 0.045, 0.135),
    "deep_poverty": (0.20, 0.58, 0.050, 0.170),
    "exited": (0.13, 0.69, 0.045, 0.135),
    "non_key": (0.17, 0.66, 0.045, 0.125),
}
_POOR_SHARE = {"exit_2019": 0.30, "deep_poverty": 0.35, "exited": 0.26, "non_key": 0.12}

# Roster: three pairs of neighbouring smaller cities share a team (demo assumption).
_SHARED_GROUP = {"马鞍山市": "芜湖市", "宿州市": "淮北市", "池州市": "铜陵市"}
_CITY_DEPTS = (
    "扶贫办",
    "教育局",
    "财政局",
    "农业农村局",
    "住房城乡建设局",
    "卫生健康委",
    "水利局",
    "人社局",
    "民政局",
    "医保局",
    "交通运输局",
    "审计局",
    "统计局",
)
_COUNTY_DEPTS = (
    "扶贫局",
    "教育局",
    "财政局",
    "农业农村局",
    "住建局",
    "卫健委",
    "水利局",
    "人社局",
    "民政局",
    "医保局",
    "交通运输局",
    "统计局",
)
_PROVINCE_UNITS = (
    "省扶贫办",
    "省教育厅",
    "省财政厅",
    "省农业农村厅",
    "省住房城乡建设厅",
    "省卫生健康委",
    "省水利厅",
    "省人力资源社会保障厅",
    "省民政厅",
    "省医保局",
    "省交通运输厅",
    "省自然资源厅",
    "省生态环境厅",
    "省林业局",
    "省审计厅",
    "省统计局",
    "省委组织部",
    "省发展改革委",
    "省商务厅",
    "省残联",
    "省妇联",
    "团省委",
)
_DEPARTMENTS = (  # unit name ending -> department (部门), for the roster's department column
    ("扶贫办", "扶贫"),
    ("扶贫局", "扶贫"),
    ("教育局", "教育"),
    ("教育厅", "教育"),
    ("财政局", "财政"),
    ("财政厅", "财政"),
    ("农业农村局", "农业农村"),
    ("农业农村厅", "农业农村"),
    ("住房城乡建设局", "住建"),
    ("住房城乡建设厅", "住建"),
    ("住建局", "住建"),
    ("卫生健康委", "卫健"),
    ("卫健委", "卫健"),
    ("水利局", "水利"),
    ("水利厅", "水利"),
    ("人社局", "人社"),
    ("人力资源社会保障厅", "人社"),
    ("民政局", "民政"),
    ("民政厅", "民政"),
    ("医保局", "医保"),
    ("交通运输局", "交通运输"),
    ("交通运输厅", "交通运输"),
    ("审计局", "审计"),
    ("审计厅", "审计"),
    ("统计局", "统计"),
    ("自然资源厅", "自然资源"),
    ("生态环境厅", "生态环境"),
    ("林业局", "林业"),
    ("组织部", "组织"),
    ("发展改革委", "发改"),
    ("商务厅", "商务"),
    ("残联", "残联"),
    ("妇联", "妇联"),
    ("团省委", "共青团"),
    ("镇政府", "扶贫"),  # township and village cadres: the grassroots poverty workers
    ("村委会", "扶贫"),
    ("安徽省委", "民主党派"),
)


def _department(unit: str) -> str:
    """A synthetic unit's department (its unit's name when none is known)."""
    return next((dept for end, dept in _DEPARTMENTS if unit.endswith(end)), unit)


_PARTIES = (
    "民革安徽省委",
    "民盟安徽省委",
    "民建安徽省委",
    "民进安徽省委",
    "农工党安徽省委",
    "致公党安徽省委",
    "九三学社安徽省委",
)

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
    "尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华国庆玉文志红德福春林海"
    "山成宝贵荣凤珍云梅兵建中永东玲翠金友家学光新民生长"
)
_PLACE_HEAD = "张李王刘陈杨赵黄周吴孙徐大小东西南北新老高前后上下双长马白朱石龙桃柳"
_PLACE_TAIL = "庄集店桥圩岗塘湾冲畈沟楼庙寺营寨铺坝口埠台林园湖河山岭港郢"
_LITERARY = "安宁平康泰丰永长清青云和兴隆福寿阳江川源溪远定昌乐德顺兰嘉华明盛广崇仁义"

_COUNTY_THEMES = (
    "农村公路提升工程",
    "安全饮水巩固提升工程",
    "产业扶贫园区",
    "集中式光伏扶贫电站",
    "易地扶贫搬迁安置点",
    "农村电网改造",
    "小型农田水利建设",
    "电商扶贫服务中心",
    "就业扶贫基地",
    "农产品冷链物流中心",
    "教育扶贫资助",
    "健康扶贫兜底保障",
)
_VILLAGE_THEMES = (
    "光伏电站",
    "道路硬化",
    "安全饮水工程",
    "扶贫车间",
    "文化广场",
    "特色种植基地",
    "桥梁建设",
    "沟渠清淤",
    "卫生室改造",
    "路灯安装",
)
_POLICY_THEMES = (
    "特色种养业奖补",
    "扶贫小额信贷贴息",
    "危房改造补助",
    "雨露计划助学",
    "光伏收益分配",
    "公益岗位补贴",
    "健康扶贫补充医保",
    "易地搬迁补助",
)
_PAIRED_THEMES = (
    "共建产业合作园",
    "劳务协作基地",
    "农产品产销对接",
    "共建扶贫车间",
    "消费扶贫专柜",
    "特色农业合作社",
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # GB 11643: check character for (weighted sum mod 11)
_CHUNK = 1 << 20  # households generated at a time; fixed, as the draws depend on it
_NAME_STRIDE = 7919  # a prime larger than every name pool: distinct names per county


def reference_counties() -> pl.DataFrame:
    """The Anhui reference table ``data/reference/anhui_counties.csv``.

    Returns
    -------
    pl.DataFrame
        One row per county-level division (105); every column is a string
        except ``has_poverty_task`` and ``synthetic`` (booleans). Empty cells
        are null.
    """
    return read_anhui_counties()


def synthesize_frame(scale: str, seed: str) -> dict[str, pl.DataFrame]:
    """A synthetic registry extract (the frame directory's five tables).

    Parameters
    ----------
    scale
        One of :data:`SCALES`.
    seed
        Run seed; every random number derives from it.

    Returns
    -------
    dict[str, pl.DataFrame]
        ``counties``, ``villages``, ``households``, ``projects``,
        ``project_beneficiaries`` with the canonical columns of DESIGN.md, in
        its order (counties with the ``deep_poverty`` flag). Extra columns
        after them: counties ``exit_batch``, ``poverty_county_level``,
        ``synthetic``; villages ``registered_households``.

    Raises
    ------
    ValueError
        If ``scale`` is not one of :data:`SCALES`.
    """
    if scale not in _SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    sc = _SCALES[scale]

    def rng(purpose: str) -> np.random.Generator:
        return seeded_rng(seed, f"synth/{scale}/{purpose}")

    counties = _anhui_counties()
    if sc.synthetic_counties:
        ref = reference_counties()
        taken = set(ref["county_name"].to_list()) | set(ref["city_name"].to_list())
        extra = _synthetic_counties(sc.synthetic_counties, taken, rng("national-counties"))
        counties = pl.concat([counties, extra])
    villages = _villages(counties, sc, rng("villages"))
    households, people = _households(villages, sc, rng("households"))
    projects, beneficiaries = _projects(
        counties, villages, households["household_id"], rng("projects")
    )
    villages = villages.with_columns(
        registered_poor_people=pl.Series(people),
        poor_village_exited=_poor_village_exits(villages, counties, rng("poor-village-exits")),
    )
    counties = counties.with_columns(
        rural_population=_rural_population(counties, villages, rng("rural-population"))
    )
    return {
        "counties": counties,
        "villages": villages.drop("_county_idx", "_category"),
        "households": households,
        "projects": projects,
        "project_beneficiaries": beneficiaries,
    }


def synthesize_roster(frame_counties: pl.DataFrame, seed: str) -> dict[str, pl.DataFrame]:
    """A synthetic roster: target groups of the cities and the assessor pool.

    Parameters
    ----------
    frame_counties
        The frame's ``counties`` table (``city_name`` and ``county_code`` used).
    seed
        Run seed.

    Returns
    -------
    dict[str, pl.DataFrame]
        ``cities`` (``city_name, target_group, counties_assessed``),
        ``liaisons`` (``city_name, county_code, name, phone``) and
        ``assessors`` (``person_id, name, home_city, unit, level, kind, department``): 34 per
        city (one poverty-office director, 8-11 city staff, the rest county,
        township and village cadres) plus provincial division cadres and
        democratic-party observers.
    """
    rng = seeded_rng(seed, "synth/roster")
    cities = (
        frame_counties.group_by("city_name")
        .agg(
            pl.len().cast(pl.Int64).alias("counties_assessed"),
            pl.col("county_code").min().alias("_first"),
        )
        .sort("_first")
    )
    groups: dict[str, str] = {}
    for city in cities["city_name"].to_list():
        partner = _SHARED_GROUP.get(city)
        groups[city] = groups.get(partner or "") or f"G{len(set(groups.values())) + 1:02d}"
    cities = cities.select(
        "city_name",
        pl.col("city_name").replace_strict(groups, return_dtype=pl.String).alias("target_group"),
        "counties_assessed",
    )
    n_groups = len(set(groups.values()))
    county_names = dict(
        frame_counties.group_by("city_name").agg(pl.col("county_name").sort()).iter_rows()
    )
    rows: list[tuple[str | None, str, str, str]] = []
    for city in cities["city_name"].to_list():
        rows += _city_assessors(city, county_names[city], rng)
    units = rng.permutation(len(_PROVINCE_UNITS))
    rows += [  # one division cadre per member unit (四(二)); more units than 22 only nationally
        (None, _province_unit(units, i), "province", "division_cadre")
        for i in range(max(20, n_groups + 7))
    ]
    rows += [
        (None, _PARTIES[i % len(_PARTIES)], "province", "party_observer")
        for i in range(max(16, n_groups + 3))
    ]
    names = _name_pool(max(4 * len(rows), 4096), rng).unique(maintain_order=True)
    picked = names.gather(rng.choice(names.len(), size=len(rows), replace=False))
    width = max(4, len(str(len(rows))))
    assessors = pl.DataFrame(
        {
            "person_id": [f"P{i + 1:0{width}d}" for i in range(len(rows))],
            "name": picked,
            "home_city": [r[0] for r in rows],
            "unit": [r[1] for r in rows],
            "level": [r[2] for r in rows],
            "kind": [r[3] for r in rows],
            "department": [_department(r[1]) for r in rows],
        },
        schema={
            "person_id": pl.String,
            "name": pl.String,
            "home_city": pl.String,
            "unit": pl.String,
            "level": pl.String,
            "kind": pl.String,
            "department": pl.String,
        },
    )
    return {
        "cities": cities,
        "assessors": assessors,
        "liaisons": _liaisons(frame_counties, seed),
    }


def _province_unit(order: np.ndarray, i: int) -> str:
    """The i-th provincial member unit in ``order``; past the last, a numbered office of one."""
    unit = _PROVINCE_UNITS[int(order[i % len(order)])]
    return unit if i < len(order) else f"{unit}第{i // len(order) + 1}处"


def _liaisons(frame_counties: pl.DataFrame, seed: str) -> pl.DataFrame:
    """One liaison per city (a division cadre) and per county (its poverty-office director).

    Plan 四(二): 被考核市确定1名处级干部为联络员，被考核县(市、区)由扶贫办主任为联络员.
    Names and phones are synthetic (a generator of their own, so the assessor pool
    stays as it was).
    """
    rng = seeded_rng(seed, "synth/liaisons")
    places = frame_counties.select("city_name", "county_code").sort("city_name", "county_code")
    cities = places["city_name"].unique().sort()
    rows = [(c, None) for c in cities.to_list()] + list(places.iter_rows())
    rows.sort(key=lambda r: (r[0], r[1] is not None, r[1] or ""))
    names = _name_pool(max(4 * len(rows), 4096), rng).unique(maintain_order=True)
    picked = names.gather(rng.choice(names.len(), size=len(rows), replace=False))
    phones = [
        f"1{p}{n:08d}"
        for p, n in zip(
            rng.choice(["35", "39", "58", "86"], len(rows)),
            rng.integers(0, 10**8, len(rows)),
            strict=True,
        )
    ]
    return pl.DataFrame(
        {
            "city_name": [r[0] for r in rows],
            "county_code": [r[1] for r in rows],
            "name": picked,
            "phone": phones,
        },
        schema={
            "city_name": pl.String,
            "county_code": pl.String,
            "name": pl.String,
            "phone": pl.String,
        },
    )


# --- counties -----------------------------------------------------------------------------


def _anhui_counties() -> pl.DataFrame:
    ref = reference_counties().filter(pl.col("has_poverty_task"))
    return ref.select(
        "county_code",
        "county_name",
        "city_name",
        "category",
        (pl.col("poverty_county_level") == "national")
        .fill_null(False)
        .alias("national_poverty_county"),
        "paired_helper_county",
        "deep_poverty",
        "exit_batch",
        "poverty_county_level",
        "synthetic",
    )


def _combos(chars: str, suffix: str, taken: set[str]) -> list[str]:
    """Two distinct characters plus a suffix, minus names already used."""
    return [a + b + suffix for a in chars for b in chars if a != b and a + b + suffix not in taken]


def _synthetic_counties(n: int, taken: set[str], rng: np.random.Generator) -> pl.DataFrame:
    """``n`` national poverty counties in 10 synthetic provinces (codes 90-99), 8 cities each."""
    n_cities = 80
    per_city = 5 + rng.multinomial(n - 5 * n_cities, np.full(n_cities, 1 / n_cities))
    city_of = np.repeat(np.arange(n_cities), per_city)
    within = np.arange(n) - np.repeat(np.cumsum(per_city) - per_city, per_city)
    codes = (90 + city_of // 8) * 10_000 + (city_of % 8 + 1) * 100 + 21 + within
    county_pool = _combos(_LITERARY, "县", taken)
    city_pool = _combos(_LITERARY, "市", taken)
    helper_pool = _combos(_LITERARY, "区", taken)
    names = [county_pool[i] for i in rng.choice(len(county_pool), n, replace=False)]
    cities = [city_pool[i] for i in rng.choice(len(city_pool), n_cities, replace=False)]
    category = rng.choice(np.array(["exited", "exit_2019"]), n, p=[0.56, 0.44])
    deep = rng.random(n) < 0.4  # about 334 of the 832 national poverty counties
    batch = np.where(category == "exit_2019", "2019", np.where(rng.random(n) < 0.5, "2017", "2018"))
    paired = rng.random(n) < 0.25
    helpers = np.array(helper_pool, dtype=object)[rng.choice(len(helper_pool), n, replace=False)]
    return pl.DataFrame(
        {
            "county_code": [str(c) for c in codes],
            "county_name": names,
            "city_name": [cities[c] for c in city_of],
            "category": category.tolist(),
            "national_poverty_county": np.ones(n, dtype=bool),
            "paired_helper_county": [
                h if p else None for h, p in zip(helpers, paired, strict=True)
            ],
            "deep_poverty": deep,
            "exit_batch": batch.tolist(),
            "poverty_county_level": ["national"] * n,
            "synthetic": np.ones(n, dtype=bool),
        },
        schema={
            "county_code": pl.String,
            "county_name": pl.String,
            "city_name": pl.String,
            "category": pl.String,
            "national_poverty_county": pl.Boolean,
            "paired_helper_county": pl.String,
            "deep_poverty": pl.Boolean,
            "exit_batch": pl.String,
            "poverty_county_level": pl.String,
            "synthetic": pl.Boolean,
        },
    )


# --- villages -----------------------------------------------------------------------------


def _runs(sizes: Ints) -> tuple[Ints, Ints]:
    """For runs of the given sizes laid end to end: each element's run and position in it."""
    run = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.cumsum(sizes) - sizes
    return run, np.arange(int(sizes.sum())) - starts[run]


def _place_names(base: Ints, pos: Ints, suffix: Ints, suffixes: tuple[str, ...]) -> pl.Series:
    """Chinese place names, distinct within a county (``base`` per unit, ``pos`` in county)."""
    pool = pl.Series([a + b for a in _PLACE_HEAD for b in _PLACE_TAIL if a != b])
    idx = (base + pos * _NAME_STRIDE) % pool.len()
    tails = pl.Series(suffixes).gather(suffix)
    return pool.gather(idx) + tails


def _villages(counties: pl.DataFrame, sc: _Scale, rng: np.random.Generator) -> pl.DataFrame:
    n_c = counties.height
    category = counties["category"].to_numpy()
    profile = np.where(counties["deep_poverty"].to_numpy(), "deep_poverty", category)
    n_town = rng.integers(sc.townships[0], sc.townships[1] + 1, n_c)
    non_key = np.flatnonzero(category == "non_key")
    no_poor, single = rng.choice(non_key, 2, replace=False)
    if sc.single_township:
        n_town[single] = 1
    n_vil = np.maximum(rng.integers(sc.villages[0], sc.villages[1] + 1, n_c), n_town)
    county, pos = _runs(n_vil)
    town = np.where(
        pos < n_town[county], pos, np.floor(rng.random(len(pos)) * n_town[county]).astype(np.int64)
    )
    order = np.lexsort((rng.random(len(pos)), town, county))
    county, town = county[order], town[order]
    _, number = _runs(np.unique(county * 1000 + town, return_counts=True)[1])
    n = len(county)

    poor_p = np.array([_POOR_SHARE[c] for c in profile])[county]
    poor = (rng.random(n) < poor_p) & (county != no_poor)
    dist = np.clip(rng.lognormal(np.log(4.0), 0.7, n) * np.where(poor, 1.3, 1.0), 0.5, 25.0)
    infra = 0.10 + 0.022 * dist + 0.08 * poor + rng.normal(0.0, 0.10, n)
    service = 0.08 + 0.020 * dist + 0.07 * poor + rng.normal(0.0, 0.12, n)
    mean = sc.households_mean * np.where(poor, 1.7, 1.0)
    registered = np.clip(np.rint(rng.lognormal(np.log(mean) - 0.1, 0.45)), *sc.households_clip)
    total = np.rint(registered * rng.uniform(3.0, 8.0, n)).astype(np.int64) + 1

    codes = counties["county_code"]
    town_code = codes.gather(county) + pl.Series(town + 1).cast(pl.String).str.zfill(3)
    base = rng.integers(0, 1 << 20, n_c)[county]
    town_name = _place_names(base, town, (town * 5 + base) % 3 // 2, ("镇", "乡"))
    village_name = _place_names(base + 11, pos, np.zeros(n, dtype=np.int64), ("村",))
    return pl.DataFrame(
        {
            "village_code": town_code + pl.Series(number + 1).cast(pl.String).str.zfill(3),
            "village_name": village_name,
            "township_code": town_code,
            "township_name": town_name,
            "county_code": codes.gather(county),
            "is_poor_village": poor,
            "registered_poor_people": np.zeros(n, dtype=np.int64),  # filled from households
            "households_total": total,
            "distance_to_township_km": np.round(dist, 1),
            "infrastructure_gap": np.round(np.clip(infra, 0.0, 1.0), 3),
            "public_service_gap": np.round(np.clip(service, 0.0, 1.0), 3),
            "registered_households": registered.astype(np.int64),
            "_county_idx": county,
            "_category": profile[county],
        }
    )


def _poor_village_exits(
    villages: pl.DataFrame, counties: pl.DataFrame, rng: np.random.Generator
) -> pl.Series:
    """Synthetic 贫困村出列: null for non-poor villages; by the county's category otherwise.

    Invented shares (no registry behind them): every poor village of an exited
    county has exited, 96% of those of a county exiting this year (so some of
    the nine miss the exit standard on villages), 85% elsewhere.
    """
    share = {"exited": 1.0, "exit_2019": 0.96}
    category = counties["category"].to_numpy()[villages["_county_idx"].to_numpy()]
    p = np.array([share.get(str(c), 0.85) for c in category])
    exited = rng.random(villages.height) < p
    poor = villages["is_poor_village"].to_numpy()
    return pl.Series("poor_village_exited", np.where(poor, exited, False)).set(
        pl.Series(~poor), None
    )


def _rural_population(
    counties: pl.DataFrame, villages: pl.DataFrame, rng: np.random.Generator
) -> pl.Series:
    """Synthetic 农村人口数: the county's village households times 3.6-4.4 persons each.

    Registered (户籍) rural population, members working away included, so more
    persons per household than live there (invented range).
    """
    households = np.bincount(
        villages["_county_idx"].to_numpy(),
        weights=villages["households_total"].to_numpy().astype(np.float64),
        minlength=counties.height,
    )
    persons = households * rng.uniform(3.6, 4.4, counties.height)
    return pl.Series("rural_population", np.rint(persons).astype(np.int64))


# --- households ---------------------------------------------------------------------------


def _status_cutoffs(villages: pl.DataFrame, rng: np.random.Generator) -> Floats:
    """Cumulative status probabilities per village (columns: the first four statuses)."""
    n = villages.height
    n_hh = villages["registered_households"].to_numpy()
    cat = (
        villages["_category"]
        .replace_strict({c: i for i, c in enumerate(_STATUS_SHARES)}, return_dtype=pl.Int64)
        .to_numpy()
    )
    p = np.array(list(_STATUS_SHARES.values()))[cat]
    p = p * rng.lognormal(0.0, 0.25, (n, 4))
    p[:, 3] *= np.where(villages["is_poor_village"].to_numpy(), 1.25, 1.0)
    for col, share in ((0, 0.05), (2, 0.05), (3, 0.04)):  # some villages lack a status
        p[rng.random(n) < share, col] = 0.0
    relapse = np.where(rng.random(n) < 0.3, np.minimum(0.5, 1.0 / n_hh), 0.0)
    p = p / p.sum(axis=1, keepdims=True) * (1.0 - relapse)[:, None]
    return np.cumsum(p, axis=1)


def _digit_sum(values: Ints, width: int, weights: tuple[int, ...]) -> Ints:
    """Weighted sum of the ``width`` decimal digits of each value (most significant first)."""
    total = np.zeros(len(values), dtype=np.int64)
    for i, weight in enumerate(weights):
        total += values // 10 ** (width - 1 - i) % 10 * weight
    return total


def _id_numbers(county_code: Ints, counts: Ints, rng: np.random.Generator) -> pl.Series:
    """18-character resident ID numbers (GB 11643 layout and check character).

    ``county_code`` per village, repeated ``counts`` times. The weighted digit
    sum is assembled from small lookup tables, never digit by digit over everyone.
    """
    n = int(counts.sum())
    year = rng.integers(1934, 1995, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    order = rng.integers(0, 1000, n)
    w = _ID_WEIGHTS
    total = np.repeat(_digit_sum(county_code, 6, w[:6]), counts)
    for part, width, weights in (
        (year, 4, w[6:10]),
        (month, 2, w[10:12]),
        (day, 2, w[12:14]),
        (order, 3, w[14:]),
    ):
        total += _digit_sum(np.arange(10**width), width, weights)[part]
    check = pl.Series(list(_ID_CHECK)).gather(total % 11)
    body = (
        np.repeat(county_code, counts) * 10**11 + year * 10**7 + month * 10**5 + day * 10**3 + order
    )
    return pl.Series(body).cast(pl.String) + check


@dataclass(frozen=True)
class _PerVillage:
    """Per-village inputs of household generation (all arrays indexed by village)."""

    code: pl.Series
    code_int: Ints
    county_int: Ints
    n_hh: Ints
    groups: Ints
    cutoffs: npt.NDArray[np.float32]
    helpers: Ints
    helper_start: Ints


def _households(
    villages: pl.DataFrame, sc: _Scale, rng: np.random.Generator
) -> tuple[pl.DataFrame, Ints]:
    """Registered households in village order, and the people per village.

    Generated in chunks of whole villages (about ``_CHUNK`` households each) so
    that temporaries stay small; the chunking depends only on the data, so the
    result is the same on every machine (but changes if ``_CHUNK`` does).
    """
    n_hh = villages["registered_households"].to_numpy()
    as_int = villages.select(pl.col("village_code", "county_code").cast(pl.Int64))
    load = rng.choice(np.arange(3, 9), villages.height, p=[0.30, 0.25, 0.18, 0.12, 0.08, 0.07])
    load = np.clip(load, 3, np.maximum(3, n_hh // 8))  # 8 helpers where the village allows
    helpers = np.maximum(1, -(-n_hh // load))
    per = _PerVillage(
        code=villages["village_code"],
        code_int=as_int["village_code"].to_numpy(),
        county_int=as_int["county_code"].to_numpy(),
        n_hh=n_hh,
        groups=np.minimum(rng.integers(sc.groups[0], sc.groups[1] + 1, villages.height), n_hh),
        cutoffs=_status_cutoffs(villages, rng).astype(np.float32),
        helpers=helpers,
        helper_start=np.cumsum(helpers) - helpers,
    )
    helper_village, helper_pos = _runs(helpers)
    helper_ids = (
        "H"
        + per.code.gather(helper_village)
        + pl.Series(helper_pos + 1).cast(pl.String).str.zfill(3)
    )
    names = _name_pool(8192, rng)
    group_names = pl.Series([f"{g}组" for g in range(1, sc.groups[1] + 1)])
    ends = np.cumsum(n_hh)
    bounds = np.unique(
        np.r_[0, np.searchsorted(ends, np.arange(_CHUNK, ends[-1], _CHUNK)), villages.height]
    )
    chunks, people = [], []
    for lo, hi in itertools.pairwise(bounds):
        chunk, size_by_village = _household_chunk(
            per, slice(lo, hi), helper_ids, names, group_names, rng
        )
        chunks.append(chunk)
        people.append(size_by_village)
    return pl.concat(chunks, rechunk=False), np.concatenate(people)


def _household_chunk(
    per: _PerVillage,
    part: slice,
    helper_ids: pl.Series,
    names: pl.Series,
    group_names: pl.Series,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, Ints]:
    """The households of the villages ``part``, and their people per village."""
    n_hh = per.n_hh[part]
    n_v = len(n_hh)
    n = int(n_hh.sum())

    def rep(x: npt.NDArray[_T]) -> npt.NDArray[_T]:
        return np.repeat(x[part], n_hh)

    seq = np.arange(n) - np.repeat(np.cumsum(n_hh) - n_hh, n_hh)
    n_rep = rep(per.n_hh)
    cols: dict[str, pl.Series | Ints] = {
        "household_id": pl.Series(rep(per.code_int) * 10_000 + seq + 1).cast(pl.String),
        "village_code": per.code.slice(part.start, n_v).gather(np.repeat(np.arange(n_v), n_hh)),
        "villager_group": group_names.gather(seq * rep(per.groups) // n_rep),
    }
    u = rng.random(n, dtype=np.float32)
    status = np.zeros(n, dtype=np.int8)
    for k in range(per.cutoffs.shape[1]):
        status += u > rep(per.cutoffs[:, k])
    cols["status"] = pl.Series(_STATUSES).gather(status)
    size = 1 + np.minimum(rng.poisson(1.4, n), 7)
    cols["household_size"] = size
    cols["head_name"] = names.gather(rng.integers(0, names.len(), n, dtype=np.int32))
    cols["head_id_number"] = _id_numbers(per.county_int[part], n_hh, rng)
    phone = 10**10 + rng.choice(np.array([3, 5, 7, 8, 9]), n) * 10**9 + rng.integers(0, 10**9, n)
    cols["phone"] = pl.Series(phone).cast(pl.String)
    cols["helper_id"] = helper_ids.gather(rep(per.helper_start) + seq * rep(per.helpers) // n_rep)
    people = np.add.reduceat(size, np.cumsum(n_hh) - n_hh).astype(np.int64)
    return pl.DataFrame(cols), people


def _name_pool(n: int, rng: np.random.Generator) -> pl.Series:
    """``n`` plausible Chinese names (surname plus one or two given characters)."""
    surnames = pl.Series(list(_SURNAMES))
    given = pl.Series(list(_GIVEN))
    weights = 1.0 / np.arange(1, surnames.len() + 1) ** 0.8  # common surnames first
    first = surnames.gather(rng.choice(surnames.len(), n, p=weights / weights.sum()))
    second = given.gather(rng.integers(0, given.len(), n))
    third = pl.Series(list(_GIVEN) + [""] * given.len()).gather(rng.integers(0, 2 * given.len(), n))
    return first + second + third


# --- projects -----------------------------------------------------------------------------


def _funds(median: float, n: int, rng: np.random.Generator) -> Ints:
    """Project funds in yuan, lognormal, rounded to hundreds."""
    return (np.rint(rng.lognormal(np.log(median), 0.7, n) / 100) * 100).astype(np.int64)


def _spread(start: Ints, size: Ints, k: Ints, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """``k`` distinct indices in ``[start, start + size)`` per unit: (unit, index) pairs."""
    k = np.minimum(k, size)
    first = rng.integers(0, size)
    step = rng.integers(1, np.maximum(1, size // k) + 1)
    unit, j = _runs(k)
    return unit, start[unit] + (first[unit] + j * step[unit]) % size[unit]


def _projects(
    counties: pl.DataFrame, villages: pl.DataFrame, hh_ids: pl.Series, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Projects of the four kinds, and beneficiaries for the household-level kinds."""
    n_c, n_v = counties.height, villages.height
    c_code, c_name = counties["county_code"], counties["county_name"]
    v_code, v_name = villages["village_code"], villages["village_name"]
    v_county = villages["_county_idx"].to_numpy()
    n_hh = villages["registered_households"].to_numpy()
    hh_start = np.cumsum(n_hh) - n_hh

    # county-level projects
    cc, ci = _runs(rng.integers(6, 21, n_c))
    county_p = pl.DataFrame(
        {
            "project_id": c_code.gather(cc) + "-C" + pl.Series(ci + 1).cast(pl.String).str.zfill(3),
            "county_code": c_code.gather(cc),
            "village_code": pl.Series([None] * len(cc), dtype=pl.String),
            "kind": "county",
            "name": c_name.gather(cc)
            + pl.Series(_COUNTY_THEMES).gather(rng.integers(0, len(_COUNTY_THEMES), len(cc))),
            "funds_yuan": _funds(3_000_000, len(cc), rng),
        }
    )
    # village and household-policy projects
    frames = [county_p]
    beneficiaries = []
    for kind, tag, themes, median in (
        ("village", "V", _VILLAGE_THEMES, 300_000),
        ("household_policy", "H", _POLICY_THEMES, 60_000),
    ):
        vv, vi = _runs(rng.choice(4, n_v, p=[0.15, 0.35, 0.30, 0.20]))
        ids = v_code.gather(vv) + f"-{tag}" + pl.Series(vi + 1).cast(pl.String)
        frames.append(
            pl.DataFrame(
                {
                    "project_id": ids,
                    "county_code": c_code.gather(v_county[vv]),
                    "village_code": v_code.gather(vv),
                    "kind": kind,
                    "name": v_name.gather(vv)
                    + pl.Series(themes).gather(rng.integers(0, len(themes), len(vv))),
                    "funds_yuan": _funds(median, len(vv), rng),
                }
            )
        )
        if kind == "household_policy":
            unit, hh = _spread(hh_start[vv], n_hh[vv], rng.integers(2, 11, len(vv)), rng)
            beneficiaries.append(
                pl.DataFrame({"project_id": ids.gather(unit), "household_id": hh_ids.gather(hh)})
            )
    # paired-cooperation projects in the national poverty counties with a helper
    paired = np.flatnonzero(
        counties["national_poverty_county"].to_numpy()
        & counties["paired_helper_county"].is_not_null().to_numpy()
    )
    pc, pi = _runs(rng.integers(5, 11, len(paired)))
    pc = paired[pc]
    ids = c_code.gather(pc) + "-P" + pl.Series(pi + 1).cast(pl.String).str.zfill(2)
    helper = counties["paired_helper_county"]
    frames.append(
        pl.DataFrame(
            {
                "project_id": ids,
                "county_code": c_code.gather(pc),
                "village_code": pl.Series([None] * len(pc), dtype=pl.String),
                "kind": "paired_cooperation",
                "name": helper.gather(pc)
                + "—"
                + c_name.gather(pc)
                + pl.Series(_PAIRED_THEMES).gather(rng.integers(0, len(_PAIRED_THEMES), len(pc))),
                "funds_yuan": _funds(1_000_000, len(pc), rng),
            }
        )
    )
    county_hh = np.bincount(v_county, weights=n_hh, minlength=n_c).astype(np.int64)
    county_start = np.cumsum(county_hh) - county_hh
    k = rng.choice(np.arange(1, 7), len(pc), p=[0.2, 0.2, 0.2, 0.15, 0.15, 0.1])
    unit, hh = _spread(county_start[pc], county_hh[pc], k, rng)
    beneficiaries.append(
        pl.DataFrame({"project_id": ids.gather(unit), "household_id": hh_ids.gather(hh)})
    )
    projects = pl.concat(frames).sort("county_code", "project_id")
    return projects, pl.concat(beneficiaries).sort("project_id", "household_id")


# --- roster -------------------------------------------------------------------------------


def _city_assessors(
    city: str, counties: list[str], rng: np.random.Generator
) -> list[tuple[str | None, str, str, str]]:
    """34 assessors of one city: director, city staff, county/township/village cadres."""
    rows: list[tuple[str | None, str, str, str]] = [(city, f"{city}扶贫办", "city", "director")]
    n_city = int(rng.integers(8, 12))
    depts = rng.choice(len(_CITY_DEPTS), n_city)
    rows += [(city, city + _CITY_DEPTS[d], "city", "staff") for d in depts]
    places = [a + b for a in _PLACE_HEAD for b in _PLACE_TAIL if a != b]
    for _ in range(33 - n_city):
        county = counties[int(rng.integers(len(counties)))]
        level = str(rng.choice(["county", "township", "village"], p=[0.5, 0.3, 0.2]))
        place = places[int(rng.integers(len(places)))]
        if level == "county":
            unit = county + _COUNTY_DEPTS[int(rng.integers(len(_COUNTY_DEPTS)))]
        elif level == "township":
            unit = f"{county}{place}镇政府"
        else:
            unit = f"{county}{place}村委会"
        rows.append((city, unit, level, "staff"))
    return rows
