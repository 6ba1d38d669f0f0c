"""Draw every county's sample by the protocol "prn-order-v1" (plan 五(七), 五(三)-(五)).

Why one module of ~950 lines: it follows the protocol's sections in order (villages,
households, villager groups, projects, assistance cadres, step 6's probabilities), each
short, and a reviewer checks it against DESIGN.md's numbered steps top to bottom;
split, the steps would lose their order. :class:`Draw` closes it: the same steps,
begun before the households are read (step 6 beside the reading). The village walk itself is
:mod:`xkaohe.draw.walk`, the lottery's rules :mod:`xkaohe.draw.lottery_rules`.

The protocol is normative and written out in DESIGN.md; this module follows
its numbered steps and names them in comments. All units are ordered by their
permanent random numbers (:mod:`xkaohe.draw.prn`), so a draw does not depend on
row order, library versions or platform, and a reviewer can re-derive it.

Work is done for all counties at once with polars. The village walk (steps
3-5) and the inclusion probabilities of step 6 ("pi-mc-v1") run per county in
:mod:`xkaohe.draw.walk`: one implementation, walked once with the real prn for
the draw and R times with PCG64 uniforms for the probabilities.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import TypeVar

import numpy as np
import polars as pl

from xkaohe.draw.prn import prn_series
from xkaohe.draw.walk import County, Rules, inclusion, method_record, walk
from xkaohe.errors import InputError, Problem
from xkaohe.inputs import Frame, HouseholdsWanted
from xkaohe.plan import HouseholdQuota, InterviewQuota, Plan

T = TypeVar("T")
VILLAGE_TYPES = ("poor", "nonpoor_many_poor")


@dataclass(frozen=True)
class SamplePackage:
    """The tables of a sample package (DESIGN.md, "Sample package")."""

    villages: pl.DataFrame
    households: pl.DataFrame
    villager_groups: pl.DataFrame
    projects: pl.DataFrame
    project_households: pl.DataFrame
    interviewees: pl.DataFrame
    general_quota: pl.DataFrame
    village_candidates: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """Name -> table, in the order the package lists them."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def for_county(self, county_code: str) -> SamplePackage:
        """The slice of one county (city-level interview rows included)."""
        out = {}
        for name, df in self.tables().items():
            if name == "project_households":
                ids = self.projects.filter(pl.col("county_code") == county_code)["project_id"]
                out[name] = df.filter(pl.col("project_id").is_in(ids.implode()))
            elif name == "interviewees":
                city = self.interviewees.filter(pl.col("county_code") == county_code)["city_name"]
                out[name] = df.filter(
                    (pl.col("county_code") == county_code)
                    | (pl.col("county_code").is_null() & pl.col("city_name").is_in(city.implode()))
                )
            else:
                out[name] = df.filter(pl.col("county_code") == county_code)
        return SamplePackage(**out)

    def by_county(self, county_codes: list[str]) -> dict[str, SamplePackage]:
        """:meth:`for_county` of each code, the same rows in the same order.

        One pass over each table for all counties: filtering every table once
        per county costs seconds for the national sample's 832 counties.
        """
        rows = self.county_rows(county_codes)
        tables = self.tables()
        return {
            code: SamplePackage(
                **{
                    name: df.select(pl.all().gather(rows[code][name]))
                    for name, df in tables.items()
                }
            )
            for code in county_codes
        }

    def county_rows(self, county_codes: list[str]) -> dict[str, dict[str, pl.Series]]:
        """Code -> table -> the positions of the rows :meth:`for_county` keeps, ascending."""
        out: dict[str, dict[str, pl.Series]] = {code: {} for code in county_codes}
        none = pl.Series("_i", [], dtype=pl.UInt32)
        for name, df in self.tables().items():
            rows = (
                self._owners(name, df)
                .filter(pl.col("county_code").is_in(county_codes))
                .unique()
                .sort("county_code", "_i")
                .partition_by("county_code", as_dict=True, include_key=False)
            )
            for code in county_codes:
                mine = rows.get((code,))
                out[code][name] = none if mine is None else mine["_i"]
        return out

    def _owners(self, name: str, df: pl.DataFrame) -> pl.DataFrame:
        """``_i, county_code``: each row of table ``name`` and the counties whose slice
        holds it (the rules of :meth:`for_county`)."""
        rows = df.with_row_index("_i")
        if name == "project_households":
            return rows.join(
                self.projects.select("project_id", "county_code"), on="project_id"
            ).select("_i", "county_code")
        own = rows.filter(pl.col("county_code").is_not_null()).select("_i", "county_code")
        if name != "interviewees":
            return own
        # city-level rows belong to every county whose own rows name that city
        cities = df.filter(pl.col("county_code").is_not_null()).select("city_name", "county_code")
        city_rows = (
            rows.filter(pl.col("county_code").is_null())
            .select("_i", "city_name")
            .join(cities.unique(), on="city_name")
            .select("_i", "county_code")
        )
        return pl.concat([own, city_rows])


# ---------------------------------------------------------------- villages


def village_candidates(frame: Frame, plan: Plan, seed: str) -> pl.DataFrame:
    """Every village of the frame with its remoteness, tilt weight, type and key.

    Steps 1-2 of the village protocol; ``village_type`` is null for villages
    that are candidates of neither type.
    """
    rules = plan.sampling.villages
    v = frame.villages
    # Arithmetic in numpy, element by element: polars may turn "column / constant"
    # into a multiplication by the reciprocal, which moves the last bit
    # depending on the other counties in the draw.
    smaller = (
        v.select(pl.col("distance_to_township_km").rank("min").over("county_code") - 1)
        .to_series()
        .to_numpy()
        .astype(np.float64)
    )
    n = v.select(pl.len().over("county_code")).to_series().to_numpy().astype(np.float64)
    pct = np.where(n > 1, smaller / np.maximum(n - 1, 1), 0.0)
    remoteness = (
        pct + v["infrastructure_gap"].to_numpy() + v["public_service_gap"].to_numpy()
    ) / 3.0
    v = v.with_columns(
        distance_percentile=pl.Series(pct),
        remoteness=pl.Series(remoteness),
        tilt_weight=pl.Series(1.0 + rules.remoteness_tilt * remoteness),
    )
    # Step 1: the top ceil(m * share) non-poor villages by registered poor people.
    nonpoor = (
        v.filter(~pl.col("is_poor_village"))
        .sort(
            ["county_code", "registered_poor_people", "village_code"],
            descending=[False, True, False],
        )
        .with_columns(
            _rank=pl.int_range(pl.len()).over("county_code"),
            _cut=(pl.len().over("county_code") * rules.many_poor_share).ceil(),
        )
        .filter(pl.col("_rank") < pl.col("_cut"))
        .select("village_code")
    )
    vtype = (
        pl.when(pl.col("is_poor_village"))
        .then(pl.lit("poor"))
        .when(pl.col("village_code").is_in(nonpoor["village_code"].implode()))
        .then(pl.lit("nonpoor_many_poor"))
    )
    v = v.with_columns(
        village_type=vtype,
        prn=prn_series(seed, "village", v["village_code"]),
        quota_rule=pl.col("county_code").replace_strict(
            county_quota_rules(frame.counties, plan), default=-1, return_dtype=pl.Int64
        ),
    )
    # Step 3: the order-sampling key, divided in numpy as the walk divides it.
    return v.with_columns(xi=pl.Series(v["prn"].to_numpy() / v["tilt_weight"].to_numpy()))


def county_quota_rules(counties: pl.DataFrame, plan: Plan) -> dict[str, int]:
    """Each county's ``villages.by_county`` rule (first match; -1: the default quotas).

    A column a rule names that the frame's ``counties`` lacks is a user error.
    """
    rules = plan.sampling.villages
    missing = [c for c in rules.county_columns if c not in counties.columns]
    if missing:
        raise InputError(
            Problem(
                "counties",
                None,
                ", ".join(missing),
                "the columns the plan's sampling.villages.by_county rules name",
                "no such column",
            )
        )
    if not rules.by_county:
        return {}
    cols = ["county_code", *rules.county_columns]
    return {
        row["county_code"]: rules.rule_for(row)
        for row in counties.select(list(dict.fromkeys(cols))).iter_rows(named=True)
    }


def walk_rules(plan: Plan, rule: int = -1) -> tuple[tuple[str, ...], Rules]:
    """A quota order and the walk's rules (a trailing 0 quota for unlisted types).

    ``rule``: a ``villages.by_county`` rule's index; -1, the default quotas.
    """
    rules = plan.sampling.villages
    quotas = rules.quotas_of(rule)
    order = tuple(q.type for q in quotas)
    quota = np.array([*(q.count for q in quotas), 0], dtype=np.int16)
    return order, Rules(quota, rules.distinct_townships)


def candidate_blocks(
    candidates: pl.DataFrame, order: tuple[str, ...]
) -> list[tuple[str, slice, County]]:
    """Each county's code, rows and walk inputs (``candidates`` sorted by county, village_code)."""
    types = (
        candidates["village_type"]
        .replace_strict(
            {t: i for i, t in enumerate(order)}, default=len(order), return_dtype=pl.Int8
        )
        .to_numpy()
    )
    towns = (
        candidates.select(pl.col("township_code").rank("dense").over("county_code") - 1)
        .to_series()
        .cast(pl.Int32)
        .to_numpy()
    )
    weights = candidates["tilt_weight"].to_numpy()
    out = []
    start = 0
    for code, size in candidates.group_by("county_code", maintain_order=True).len().iter_rows():
        part = slice(start, start + size)
        out.append((code, part, County(weights[part], types[part], towns[part])))
        start += size
    return out


def county_walks(
    candidates: pl.DataFrame, plan: Plan
) -> list[tuple[str, slice, County, tuple[str, ...], Rules]]:
    """:func:`candidate_blocks` with each county's own quota order and walk rules.

    A county of a ``villages.by_county`` rule (``quota_rule`` >= 0) walks with
    that rule's quotas, its types indexed in that rule's order.
    """
    order, rules = walk_rules(plan)
    rule_of = candidates["quota_rule"].to_numpy()
    out = []
    for code, part, county in candidate_blocks(candidates, order):
        rule = int(rule_of[part.start])
        if rule < 0:
            out.append((code, part, county, order, rules))
            continue
        own_order, own_rules = walk_rules(plan, rule)
        types = candidate_blocks(candidates[part], own_order)[0][2].types
        out.append((code, part, County(county.weights, types, county.towns), own_order, own_rules))
    return out


def inclusion_threads() -> int:
    """Threads for step 6: the cores this process may use, at most 4 (memory)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cores or 1))


def _candidates_by_code(candidates: pl.DataFrame) -> pl.DataFrame:
    return candidates.filter(pl.col("village_type").is_not_null()).sort(
        "county_code", "village_code"
    )


def inclusion_probabilities(candidates: pl.DataFrame, plan: Plan, seed: str) -> pl.DataFrame:
    """Step 6 ("pi-mc-v1"): ``village_code, inclusion_prob, inclusion_prob_se`` of every candidate.

    Per county, R replicate walks of steps 3-5 (:func:`xkaohe.draw.walk.inclusion`).
    """
    cands = _candidates_by_code(candidates)
    replicates = plan.sampling.villages.inclusion_replicates
    p = np.empty(cands.height)
    se = np.empty(cands.height)
    counties = county_walks(cands, plan)
    # Counties are independent and numpy releases the GIL in the heavy steps:
    # threads share the work across cores; the numbers do not depend on them.
    with ThreadPoolExecutor(max_workers=inclusion_threads()) as pool:
        results = pool.map(lambda c: inclusion(c[2], c[4], replicates, seed, c[0]), counties)
        for (_, part, *_), (p_county, se_county) in zip(counties, results, strict=True):
            p[part], se[part] = p_county, se_county
    return pl.DataFrame(
        {
            "village_code": cands["village_code"],
            "inclusion_prob": pl.Series(p, dtype=pl.Float64),
            "inclusion_prob_se": pl.Series(se, dtype=pl.Float64),
        }
    )


def inclusion_record(plan: Plan) -> dict[str, object]:
    """The certificate's account of step 6: method, R, generator, how seeded."""
    return method_record(plan.sampling.villages.inclusion_replicates)


def walk_villages(
    candidates: pl.DataFrame, plan: Plan, seed: str, inclusion: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Steps 3-6: every candidate with its walk outcome and inclusion probability.

    The walk is that of :func:`xkaohe.draw.walk.walk` with one replicate, the
    candidates' prn; ``walk_order`` is null for candidates not drawn.
    ``inclusion``: step 6 of these candidates when already computed (:class:`Draw`).
    """
    cands = _walked(candidates, plan)
    if inclusion is None:
        inclusion = inclusion_probabilities(cands, plan, seed)
    return cands.join(inclusion, on="village_code", how="left")


def _walked(candidates: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Steps 3-5 (:func:`walk_villages` without step 6)."""
    cands = _candidates_by_code(candidates)
    prn = cands["prn"].to_numpy()
    rank = np.zeros(cands.height, np.int16)
    slot = np.full(cands.height, -1, np.int8)
    relaxed = np.zeros(cands.height, np.bool_)
    for _, part, county, order, rules in county_walks(cands, plan):
        real = walk(prn[None, part], county, rules)
        # The slot as an index of VILLAGE_TYPES (counties may order their quotas
        # differently); the trailing -1 keeps "not drawn" (slot -1) as -1.
        as_type = np.array([*(VILLAGE_TYPES.index(t) for t in order), -1], np.int8)
        rank[part], slot[part] = real.rank[0], as_type[real.slot[0]]
        relaxed[part] = real.relaxed[0]
    drawn = pl.col("walk_order") > 0
    filled = pl.col("_slot").replace_strict(dict(enumerate(VILLAGE_TYPES)), default=None)
    cands = cands.with_columns(
        walk_order=pl.Series(rank, dtype=pl.Int64),
        relaxed_township=pl.Series(relaxed, dtype=pl.Boolean),
        _slot=pl.Series(slot, dtype=pl.Int64),
    ).with_columns(
        walk_order=pl.when(drawn).then(pl.col("walk_order")),
        relaxed_township=pl.when(drawn).then(pl.col("relaxed_township")),
        substituted_for=pl.when(drawn & (filled != pl.col("village_type"))).then(filled),
    )
    return cands.drop("_slot")


def draw_villages(candidates: pl.DataFrame, plan: Plan, seed: str) -> pl.DataFrame:
    """The sampled villages of every county (steps 3-6)."""
    return _drawn(walk_villages(candidates, plan, seed))


def _drawn(walked: pl.DataFrame) -> pl.DataFrame:
    return (
        walked.filter(pl.col("walk_order").is_not_null())
        .select(
            "county_code",
            "village_code",
            "township_code",
            "village_type",
            "prn",
            "tilt_weight",
            "inclusion_prob",
            "inclusion_prob_se",
            "relaxed_township",
            "substituted_for",
            "village_name",
            "township_name",
            "is_poor_village",
            "registered_poor_people",
            "distance_to_township_km",
            "infrastructure_gap",
            "public_service_gap",
            "distance_percentile",
            "remoteness",
            "xi",
            "walk_order",
        )
        .sort("county_code", "walk_order")
    )


# -------------------------------------------------------------- households


def _smallest(df: pl.DataFrame, by: list[str], k: pl.Expr | int) -> pl.DataFrame:
    """The k smallest rows by (prn, key) within each group ``by``."""
    ranked = df.sort([*by, "prn", "household_id"]).with_columns(_k=pl.int_range(pl.len()).over(by))
    return ranked.filter(pl.col("_k") < k).drop("_k")


def household_targets(hh: pl.DataFrame, villages: pl.DataFrame, q: HouseholdQuota) -> pl.DataFrame:
    """``village_code, _want``: the households of ``q``'s status each sampled village draws.

    A fixed ``count``, or ``ceil(share * N)`` within ``[min, count]`` (see
    :class:`xkaohe.plan.HouseholdQuota`); ``hh`` is the villages' frame households.
    """
    codes = villages.select("village_code")
    if q.share is None:
        return codes.with_columns(_want=pl.lit(q.count, pl.Int64))
    pool = hh if q.share_of == "registered" else hh.filter(pl.col("status") == q.status)
    n = codes.join(pool.group_by("village_code").len(), on="village_code", how="left")
    # ceil in float with a tolerance: 0.1 * 30 is 3.0000000000000004, which is 3 households.
    want = np.ceil(n["len"].fill_null(0).to_numpy() * q.share - 1e-9).astype(np.int64)
    want = np.clip(want, q.min, q.count)
    return codes.with_columns(_want=pl.Series(want, dtype=pl.Int64))


def draw_households(frame: Frame, villages: pl.DataFrame, plan: Plan, seed: str) -> pl.DataFrame:
    """Quota households with substitutions, and full coverage (steps 1-3)."""
    rules = plan.sampling.households
    hh = frame.households.join(
        villages.select("village_code", "county_code"), on="village_code", how="inner"
    )
    hh = hh.with_columns(prn=prn_series(seed, "household", hh["household_id"]))
    keep = ["county_code", "village_code", "household_id", "status", "prn"]
    pieces: list[pl.DataFrame] = []
    targets = [household_targets(hh, villages, q) for q in rules.quotas]
    # Step 1: each status's quota, k smallest prn.
    for step, q in enumerate(rules.quotas):
        got = _smallest(
            hh.filter(pl.col("status") == q.status).join(targets[step], on="village_code"),
            ["village_code"],
            pl.col("_want"),
        )
        pieces.append(
            got.select(keep).with_columns(selected_as=pl.lit(q.status), _order=pl.lit(step))
        )
    chosen = pl.concat(pieces)
    # Step 2: shortfalls, in plan order, from the substitutes in order.
    for step, q in enumerate(rules.quotas):
        for sub in rules.substitutes.get(q.status, ()):
            have = chosen.filter(pl.col("selected_as") == q.status).group_by("village_code").len()
            short = (
                targets[step]
                .join(have, on="village_code", how="left")
                .with_columns(_short=pl.col("_want") - pl.col("len").fill_null(0))
                .filter(pl.col("_short") > 0)
            )
            if short.height == 0:
                break
            pool = (
                hh.filter(pl.col("status") == sub)
                .join(chosen.select("household_id"), on="household_id", how="anti")
                .join(short.select("village_code", "_short"), on="village_code", how="inner")
            )
            got = _smallest(pool, ["village_code"], pl.col("_short"))
            chosen = pl.concat(
                [
                    chosen,
                    got.select(keep).with_columns(
                        selected_as=pl.lit(q.status), _order=pl.lit(len(rules.quotas) + step)
                    ),
                ]
            )
    # Step 3: full coverage (relapsed households).
    for status in rules.full_coverage:
        got = hh.filter(pl.col("status") == status).select(keep)
        chosen = pl.concat(
            [
                chosen,
                got.with_columns(selected_as=pl.lit(status), _order=pl.lit(2 * len(rules.quotas))),
            ]
        )
    return chosen


def draw_groups(frame: Frame, villages: pl.DataFrame, plan: Plan, seed: str) -> pl.DataFrame:
    """The census villager groups of each county (villager-group protocol)."""
    rules = plan.sampling.villager_groups
    v = villages.with_columns(
        kind=pl.when(pl.col("is_poor_village")).then(pl.lit("poor")).otherwise(pl.lit("nonpoor")),
        group_village_prn=prn_series(seed, "group-village", villages["village_code"]),
    )
    wanted = pl.col("kind").replace_strict(rules.villages, default=0, return_dtype=pl.Int64)
    gv = (
        v.sort("county_code", "kind", "group_village_prn", "village_code")
        .with_columns(_k=pl.int_range(pl.len()).over("county_code", "kind"))
        .filter(pl.col("_k") < wanted)
    )
    groups = (
        frame.households.join(gv.select("village_code"), on="village_code", how="inner")
        .group_by("village_code", "villager_group")
        .agg(households_registered=pl.len().cast(pl.Int64))
    )
    groups = groups.with_columns(
        prn=prn_series(
            seed,
            "group",
            groups.select(pl.concat_str("village_code", pl.lit("/"), "villager_group")).to_series(),
        )
    )
    picked = (
        groups.sort("village_code", "prn", "villager_group")
        .with_columns(_k=pl.int_range(pl.len()).over("village_code"))
        .filter(pl.col("_k") < rules.groups_per_village)
    )
    return (
        picked.join(
            gv.select(
                "county_code",
                "village_code",
                "village_type",
                "is_poor_village",
                "group_village_prn",
            ),
            on="village_code",
        )
        .select(
            "county_code",
            "village_code",
            "villager_group",
            "village_type",
            "is_poor_village",
            "group_village_prn",
            "prn",
            "households_registered",
        )
        .sort("county_code", "village_code")
    )


def add_group_census(
    frame: Frame, households: pl.DataFrame, groups: pl.DataFrame, seed: str, order: int
) -> pl.DataFrame:
    """All registered households of the census groups; already selected ones stay as they are."""
    census = frame.households.join(
        groups.select("county_code", "village_code", "villager_group"),
        on=["village_code", "villager_group"],
        how="inner",
    ).join(households.select("household_id"), on="household_id", how="anti")
    census = census.with_columns(
        prn=prn_series(seed, "household", census["household_id"]),
        selected_as=pl.lit("group_census"),
        _order=pl.lit(order),
    ).select(households.columns)
    return pl.concat([households, census])


# ---------------------------------------------------------------- projects


def _k_smallest(df: pl.DataFrame, by: list[str], key: str, k: pl.Expr | int) -> pl.DataFrame:
    ranked = df.sort([*by, "prn", key]).with_columns(_k=pl.int_range(pl.len()).over(by))
    return ranked.filter(pl.col("_k") < k).drop("_k")


def draw_projects(
    frame: Frame, counties: pl.DataFrame, villages: pl.DataFrame, plan: Plan, seed: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """County, village and paired-cooperation projects, and beneficiaries to visit."""
    rules = plan.sampling.projects
    p = frame.projects.join(counties.select("county_code"), on="county_code", how="semi")
    p = p.with_columns(prn=prn_series(seed, "project", p["project_id"]))
    cols = ["county_code", "project_id", "kind", "prn", "village_code", "name", "funds_yuan"]
    county = _k_smallest(
        p.filter(pl.col("kind") == "county"), ["county_code"], "project_id", rules.county_level
    ).with_columns(level=pl.lit("county"))
    # Per sampled village: each kind's quota, then the other kinds make up a shortfall.
    total = sum(rules.per_village.values())
    in_v = p.filter(pl.col("kind").is_in(list(rules.per_village))).join(
        villages.select("village_code"), on="village_code", how="semi"
    )
    quota_of = pl.col("kind").replace_strict(rules.per_village, return_dtype=pl.Int64)
    first = (
        in_v.sort("village_code", "kind", "prn", "project_id")
        .with_columns(_k=pl.int_range(pl.len()).over("village_code", "kind"))
        .filter(pl.col("_k") < quota_of)
        .drop("_k")
    )
    short = (
        first.group_by("village_code")
        .len()
        .join(villages.select("village_code"), on="village_code", how="right")
        .with_columns(_short=total - pl.col("len").fill_null(0))
        .filter(pl.col("_short") > 0)
    )
    extra = _k_smallest(
        in_v.join(first.select("project_id"), on="project_id", how="anti").join(
            short.select("village_code", "_short"), on="village_code"
        ),
        ["village_code"],
        "project_id",
        pl.col("_short"),
    )
    village = pl.concat([first.select(cols), extra.select(cols)]).with_columns(
        level=pl.lit("village")
    )
    paired_counties = counties.filter(
        pl.col("national_poverty_county") & pl.col("paired_helper_county").is_not_null()
    ).select("county_code")
    coop = _k_smallest(
        p.filter(pl.col("kind") == "paired_cooperation").join(
            paired_counties, on="county_code", how="semi"
        ),
        ["county_code"],
        "project_id",
        rules.paired_cooperation,
    ).with_columns(level=pl.lit("paired"))
    ben = frame.project_beneficiaries.join(coop.select("project_id"), on="project_id", how="semi")
    ben = ben.with_columns(
        prn=prn_series(
            seed,
            "beneficiary",
            ben.select(pl.concat_str("project_id", pl.lit("/"), "household_id")).to_series(),
        )
    )
    visit = _k_smallest(ben, ["project_id"], "household_id", rules.beneficiaries_per_project)
    visited = frame.households.filter(pl.col("household_id").is_in(visit["household_id"].implode()))
    visit = visit.join(
        visited.select("household_id", "village_code", "head_name", "villager_group"),
        on="household_id",
        how="left",
    ).select("project_id", "household_id", "prn", "village_code", "head_name", "villager_group")
    n_visit = visit.group_by("project_id").agg(beneficiaries_drawn=pl.len())
    projects = pl.concat(
        [
            county.select([*cols, "level"]),
            village.select([*cols, "level"]),
            coop.select([*cols, "level"]),
        ]
    )
    projects = (
        projects.join(n_visit, on="project_id", how="left")
        .with_columns(
            beneficiaries_drawn=pl.col("beneficiaries_drawn").fill_null(0).cast(pl.Int64),
        )
        .with_columns(
            few_beneficiaries=(pl.col("level") == "paired")
            & (pl.col("beneficiaries_drawn") < rules.beneficiaries_min),
            _lvl=pl.col("level").replace_strict(
                {"county": 0, "village": 1, "paired": 2}, return_dtype=pl.Int64
            ),
        )
    )
    projects = projects.sort(
        "county_code", "_lvl", "village_code", "prn", "project_id", nulls_last=False
    ).drop("_lvl")
    visit = visit.join(projects.select("project_id", "county_code"), on="project_id").sort(
        "county_code", "project_id", "prn", "household_id"
    )
    return projects, visit.select(
        "project_id",
        "household_id",
        "prn",
        "county_code",
        "village_code",
        "head_name",
        "villager_group",
    )


# ------------------------------------------------------------- interviews


def draw_interviewees(
    frame: Frame,
    counties: pl.DataFrame,
    villages: pl.DataFrame,
    households: pl.DataFrame,
    plan: Plan,
    seed: str,
) -> pl.DataFrame:
    """Interview quotas of 五(三) and the drawn assistance cadres (帮扶责任人)."""
    rules = plan.sampling.interviews
    quota_cols = ["city_name", "county_code", "village_code", "level", "role", "label", "count"]

    def quotas(level: str, items: tuple[InterviewQuota, ...], units: pl.DataFrame) -> pl.DataFrame:
        spec = pl.DataFrame(
            {
                "level": level,
                "role": [q.role for q in items],
                "label": [q.label for q in items],
                "count": [q.count for q in items],
            },
            schema={"level": pl.String, "role": pl.String, "label": pl.String, "count": pl.Int64},
        )
        return units.join(spec, how="cross")

    city_of = counties.select("county_code", "city_name")
    cities = (
        city_of.select("city_name")
        .unique()
        .with_columns(county_code=pl.lit(None, pl.String), village_code=pl.lit(None, pl.String))
    )
    ctys = city_of.with_columns(village_code=pl.lit(None, pl.String))
    paired = (
        counties.filter(
            pl.col("national_poverty_county") & pl.col("paired_helper_county").is_not_null()
        )
        .select("county_code", "city_name")
        .with_columns(village_code=pl.lit(None, pl.String))
    )
    vils = villages.select("county_code", "village_code").join(city_of, on="county_code")
    rows = pl.concat(
        [
            quotas("city", rules.city, cities).select(quota_cols),
            quotas("county", rules.county, ctys).select(quota_cols),
            quotas("county", rules.county_paired, paired).select(quota_cols),
            quotas("village", rules.village, vils).select(quota_cols),
        ]
    )
    # Assistance cadres: helpers of the sampled households first, then the village's others.
    k = rules.helpers_per_village
    all_helpers = (
        frame.households.filter(pl.col("helper_id").is_not_null())
        .join(villages.select("village_code", "county_code"), on="village_code")
        .select("county_code", "village_code", "helper_id")
        .unique()
    )
    in_sample = households.join(
        frame.households.select("household_id", "helper_id"), on="household_id"
    ).filter(pl.col("helper_id").is_not_null())
    all_helpers = all_helpers.join(
        in_sample.select("village_code", "helper_id").unique().with_columns(_tier=pl.lit(0)),
        on=["village_code", "helper_id"],
        how="left",
    ).with_columns(_tier=pl.col("_tier").fill_null(1))
    all_helpers = all_helpers.with_columns(prn=prn_series(seed, "helper", all_helpers["helper_id"]))
    helpers = (
        all_helpers.sort("village_code", "_tier", "prn", "helper_id")
        .with_columns(_k=pl.int_range(pl.len()).over("village_code"))
        .filter(pl.col("_k") < k)
        .join(city_of, on="county_code")
        .with_columns(
            level=pl.lit("helper"),
            role=pl.lit("assistance_cadre"),
            label=pl.lit("帮扶责任人"),
            count=pl.lit(1, pl.Int64),
            from_sample=pl.col("_tier") == 0,
        )
    )
    helpers = helpers.select([*quota_cols, "helper_id", "prn", "from_sample"])
    rows = rows.with_columns(
        helper_id=pl.lit(None, pl.String),
        prn=pl.lit(None, pl.Float64),
        from_sample=pl.lit(None, pl.Boolean),
    )
    order = {"city": 0, "county": 1, "village": 2, "helper": 3}
    out = pl.concat([rows, helpers]).with_columns(
        _lvl=pl.col("level").replace_strict(order, return_dtype=pl.Int64)
    )
    return out.sort(
        ["city_name", "county_code", "village_code", "_lvl", "prn", "helper_id"],
        nulls_last=False,
        maintain_order=True,
    ).drop("_lvl")


# ------------------------------------------------------------------- all


def select_counties(frame: Frame, county_codes: list[str] | None) -> pl.DataFrame:
    """The counties to draw; unknown codes are a user error."""
    if not county_codes:
        return frame.counties
    known = set(frame.counties["county_code"].to_list())
    missing = [c for c in county_codes if c not in known]
    if missing:
        raise InputError(
            Problem("--county", None, None, "county codes listed in counties", ", ".join(missing))
        )
    return frame.counties.filter(pl.col("county_code").is_in(county_codes))


def _scoped(frame: Frame, county_codes: list[str] | None) -> Frame:
    """The frame with only the chosen counties and their villages."""
    counties = select_counties(frame, county_codes)
    villages_in = frame.villages.join(counties.select("county_code"), on="county_code", how="semi")
    return Frame(
        counties,
        villages_in,
        frame.households,
        frame.projects,
        frame.project_beneficiaries,
        frame.files,
    )


def households_read(
    frame: Frame, plan: Plan, seed: str, county_codes: list[str] | None = None
) -> HouseholdsWanted:
    """The households :func:`draw_sample` may look at, from the other four tables alone.

    Those of the sampled villages (steps 1-5 of the village protocol; step 6
    does not change them) and the beneficiaries of paired-cooperation
    projects; ``frame.households`` is not looked at (a lean reading of the frame
    asks before it reads them). A draw from these households alone is the draw
    from all of them.
    """
    walked = _walked(village_candidates(_scoped(frame, county_codes), plan, seed), plan)
    return _households_of(frame, walked)


def _households_of(frame: Frame, walked: pl.DataFrame) -> HouseholdsWanted:
    drawn = walked.filter(pl.col("walk_order").is_not_null())
    paired = frame.projects.filter(pl.col("kind") == "paired_cooperation")
    visited = frame.project_beneficiaries.join(paired, on="project_id", how="semi")
    return HouseholdsWanted(drawn["village_code"], visited["household_id"].unique())


def draw_sample(
    frame: Frame,
    plan: Plan,
    seed: str,
    county_codes: list[str] | None = None,
    inclusion: pl.DataFrame | None = None,
) -> SamplePackage:
    """Draw the whole sample package for the chosen counties (all by default).

    ``inclusion``: step 6 of this frame's candidates when already computed (:class:`Draw`).
    """
    scoped = _scoped(frame, county_codes)
    counties, villages_in = scoped.counties, scoped.villages
    walked = walk_villages(village_candidates(scoped, plan, seed), plan, seed, inclusion)
    villages = _drawn(walked)
    # Every later step looks only at the sampled villages' households: filter the
    # (possibly 30-million-row) registry once instead of joining it again and again.
    local = Frame(
        counties,
        villages_in,
        frame.households.filter(pl.col("village_code").is_in(villages["village_code"].implode())),
        frame.projects,
        frame.project_beneficiaries,
        frame.files,
    )
    chosen = draw_households(local, villages, plan, seed)
    groups = draw_groups(local, villages, plan, seed)
    chosen = add_group_census(local, chosen, groups, seed, order=99)
    details = local.households.select(
        "household_id", "villager_group", "household_size", "head_name", "phone", "helper_id"
    )
    households = (
        chosen.join(details, on="household_id", how="left")
        .sort("county_code", "village_code", "_order", "prn", "household_id")
        .drop("_order")
    )
    projects, project_households = draw_projects(scoped, counties, villages, plan, seed)
    interviewees = draw_interviewees(local, counties, villages, households, plan, seed)
    general = villages.select("county_code", "village_code").with_columns(
        count=pl.lit(plan.sampling.households.general_per_village, pl.Int64)
    )
    return SamplePackage(
        villages=villages,
        households=households,
        villager_groups=groups,
        projects=projects,
        project_households=project_households,
        interviewees=interviewees,
        general_quota=general,
        village_candidates=candidate_table(walked),
    )


class Draw:
    """One draw (plan, seed, counties), begun before the frame's households are read.

    :meth:`households_wanted` is what :func:`xkaohe.io.frame.load_frame` asks once the
    other four tables are read: it says which households the draw needs and starts
    step 6 (the Monte Carlo walks, the draw's largest cost, which need only the
    villages) in the background, so it runs while the households file streams in;
    :meth:`sample` then draws with it. The package is that of :func:`draw_sample`.
    """

    def __init__(self, plan: Plan, seed: str, county_codes: list[str] | None = None) -> None:
        self.plan, self.seed, self.county_codes = plan, seed, county_codes
        self._started: tuple[Frame, Future[pl.DataFrame]] | None = None

    def households_wanted(self, frame: Frame) -> HouseholdsWanted:
        """The households the draw needs (:func:`households_read`); starts step 6."""
        scoped = _scoped(frame, self.county_codes)
        walked = _walked(village_candidates(scoped, self.plan, self.seed), self.plan)
        if self._step6(frame) is None:
            step6 = _in_background(inclusion_probabilities, walked, self.plan, self.seed)
            self._started = (frame, step6)
        return _households_of(frame, walked)

    def sample(self, frame: Frame) -> SamplePackage:
        """:func:`draw_sample` of ``frame``, with step 6 as started (when for these villages)."""
        started = self._step6(frame)
        inclusion = started.result() if started is not None else None
        return draw_sample(frame, self.plan, self.seed, self.county_codes, inclusion)

    def _step6(self, frame: Frame) -> Future[pl.DataFrame] | None:
        """Step 6 as started for ``frame``'s counties and villages (the only tables it reads)."""
        if self._started is None:
            return None
        begun, future = self._started
        same = begun.counties.equals(frame.counties) and begun.villages.equals(frame.villages)
        return future if same else None


def _in_background(function: Callable[..., T], *args: object) -> Future[T]:
    """``function(*args)`` on a daemon thread: a run that stops on a user's error does not
    wait for it to finish."""
    future: Future[T] = Future()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(function(*args))
            except BaseException as exc:  # handed to whoever asks for the result
                future.set_exception(exc)

    threading.Thread(target=run, name="step-6", daemon=True).start()
    return future


def candidate_table(walked: pl.DataFrame) -> pl.DataFrame:
    """Every candidate with its key and inclusion probability, for reviewers and notebooks."""
    return (
        walked.with_columns(drawn=pl.col("walk_order").is_not_null())
        .select(
            "county_code",
            "village_code",
            "township_code",
            "village_type",
            "is_poor_village",
            "registered_poor_people",
            "distance_percentile",
            "infrastructure_gap",
            "public_service_gap",
            "remoteness",
            "tilt_weight",
            "prn",
            "xi",
            "drawn",
            "walk_order",
            "inclusion_prob",
            "inclusion_prob_se",
        )
        .sort("county_code", "xi", "village_code")
    )
