"""The synthetic week's claims and identification evidence (issue 13), with their planted truth.

Evidence fields of the questionnaires (三(一)1(6)(7), 五(五)), one planted case
of each kind, and claims at every level and from every source: honest ones
say "true" only where no surveyed household (or checked project) of their
unit contradicts them and admit the gap ("false") elsewhere; the planted ones
say "true" against the evidence. Marked synthetic like the rest of the week
(:mod:`xkaohe.synth.field`, which calls these).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from xkaohe.draw.sampling import SamplePackage
from xkaohe.plan import ROW_TABLES, Plan
from xkaohe.synth.common import EXITED, LEVEL_ORDER, smallest

_LABOUR_P, _EDGE_P = 0.7, 0.08
_CASES = ("not_whole", "procedure_bad", "edge_unmonitored", "benefit_missing", "no_industry")
_CLAIM_SETS: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    # name: (source, level, role, items)
    "city_meeting": ("meeting", "city", "leader_in_charge",
                     ("housing_safe", "water_safe", "education_ok")),
    "county_document": ("document", "county", None,
                        ("education_ok", "medical_ok", "industry_coverage", "whole_household",
                         "procedure_ok", "beneficiaries_received", "project_results",
                         "edge_monitored")),
    "county_interview": ("interview", "county", "main_leader",
                         ("food_clothing_ok", "housing_safe", "water_safe")),
    "village_meeting": ("meeting", "village", "village_secretary",
                        ("whole_household", "procedure_ok", "edge_monitored", "education_ok")),
    "self_assessment": ("self_assessment", "county", None,
                        ("education_ok", "housing_safe", "water_safe", "edge_monitored",
                         "beneficiaries_received")),
    "city_self_assessment": ("self_assessment", "city", None, ("housing_safe", "water_safe")),
    # 四个不摘 (三(一)1), read in the county's documents; 帮扶不摘 on its own so one is planted
    "county_keeps": ("document", "county", None,
                     ("keep_responsibility", "keep_policy", "keep_supervision")),
    "county_keep_help": ("document", "county", None, ("keep_help",)),
}
_DOCUMENT = {"document": "县脱贫攻坚年度工作总结", "self_assessment": "自评报告"}


def evidence_fields(hh: pl.DataFrame, frame: dict[str, pl.DataFrame], helpers: pl.DataFrame,
                     rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The claim-evidence answers of the surveyed households and one planted case of each kind.

    Cases (``truth/identification_cases``): a registered household with a member left out
    (未整户识别), one identified without 评议公示, an edge household not monitored, a
    household the project register lists that received nothing, and a registered
    household with labour and a drawn helper that has no household industry support.
    """
    n = hh.height
    reg = hh["registered"].to_numpy()
    listed = hh["household_id"].is_in(
        frame["project_beneficiaries"]["household_id"].implode()).to_numpy()
    with_helper = hh["household_id"].is_in(helpers["household_id"].implode()).to_numpy()
    labour = reg & (rng.random(n) < _LABOUR_P)
    edge = ~reg & (rng.random(n) < _EDGE_P)
    key = rng.random(n)
    taken = np.zeros(n, dtype=bool)
    case = {}
    # distinct counties where possible, so each case is its own county's only one
    used: set[str] = set()
    county = hh["county_code"].to_list()
    for name, eligible in (("not_whole", reg), ("procedure_bad", reg), ("edge_unmonitored", edge),
                           ("benefit_missing", listed), ("no_industry", labour & with_helper)):
        pool = eligible & ~taken
        fresh = pool & ~np.isin(np.array(county, dtype=object), list(used))
        pick = smallest(np.where(fresh if fresh.any() else pool, key, np.inf),
                         1 if pool.any() else 0)
        case[name] = pick
        taken |= pick
        used |= {county[i] for i in np.flatnonzero(pick)}
    out = hh.with_columns(
        has_labour=pl.when(pl.col("registered")).then(pl.Series(labour, dtype=pl.Boolean)),
        industry_support=pl.when(pl.Series(labour)).then(
            pl.Series(~case["no_industry"], dtype=pl.Boolean)),
        received_project_benefit=pl.when(pl.Series(listed)).then(
            pl.Series(~case["benefit_missing"], dtype=pl.Boolean)),
        whole_household=pl.when(pl.col("registered")).then(
            pl.Series(~case["not_whole"], dtype=pl.Boolean)),
        members_left_out=pl.when(pl.col("registered")).then(
            pl.Series(case["not_whole"].astype(np.int64))),
        procedure_ok=pl.when(pl.col("registered")).then(
            pl.Series(~case["procedure_bad"], dtype=pl.Boolean)),
        edge_household=pl.Series(edge, dtype=pl.Boolean),
        monitored=pl.when(pl.Series(edge)).then(
            pl.Series(~case["edge_unmonitored"], dtype=pl.Boolean)),
    )
    kind = pl.Series(np.select([case[c] for c in _CASES], list(_CASES), ""), dtype=pl.String)
    cases = out.with_columns(kind=kind).filter(pl.col("kind") != "").select(
        "kind", "county_code", "village_code", "household_id").sort("kind")
    return out, cases


def _county_facts(frame: dict[str, pl.DataFrame], checks: pl.DataFrame, counties: pl.DataFrame,
                  plan: Plan, rng: np.random.Generator) -> pl.DataFrame:
    """The year's county facts of the documents (三(一)1 分类考核), true to the frame.

    Achieved exits are the persons of the registry's households of the item's statuses,
    funds the project register's, projects done the register's less the sampled ones the
    teams found unfinished, poor villages exited the registry's; the target is invented
    around the achieved figure (about one county in four behind it). Planted (truth
    ``planted``): one county overstates its achieved exits (``achieved``), one claims every
    registered project done although the teams found some unfinished (``projects``).
    """
    rules = plan.claims.items
    hh = frame["households"].join(frame["villages"].select("village_code", "county_code"),
                                  on="village_code")
    exited = list(rules["reduction_achieved"].statuses)
    achieved = hh.filter(pl.col("status").is_in(exited)).group_by("county_code").agg(
        achieved=pl.col("household_size").sum().cast(pl.Int64))
    funds = frame["projects"].group_by("county_code").agg(
        funds=pl.col("funds_yuan").cast(pl.Float64).sum().round(0).cast(pl.Int64),
        registered=pl.len().cast(pl.Int64))
    open_ = checks.filter(pl.col("status") != "completed").sort("project_id").group_by(
        "county_code").agg(unfinished=pl.len().cast(pl.Int64),
                           unfinished_ids=pl.col("project_id").str.join(";"))
    poor = pl.col("is_poor_village").fill_null(False)
    vill = frame["villages"].group_by("county_code").agg(
        exited_villages=(poor & pl.col("poor_village_exited").fill_null(False)).sum()
        .cast(pl.Int64))
    c = (counties.sort("county_code").join(achieved, on="county_code", how="left")
         .join(funds, on="county_code", how="left").join(open_, on="county_code", how="left")
         .join(vill, on="county_code", how="left")
         .with_columns(pl.col("achieved", "funds", "registered", "unfinished", "exited_villages")
                       .fill_null(0))
         .with_columns(done=pl.col("registered") - pl.col("unfinished"),
                       target=(pl.col("achieved") * pl.Series(rng.uniform(0.85, 1.05, counties
                                                                            .height)))
                       .round(0).cast(pl.Int64)))
    key = pl.Series(rng.random(c.height))
    over = c.with_columns(_k=key).filter(pl.col("achieved") > 0).sort("_k")["county_code"][:1]
    short = c.with_columns(_k=key).filter(pl.col("unfinished") > 0, pl.col("registered") > 0,
                                          ~pl.col("county_code").is_in(over.implode())).sort(
        "_k")["county_code"][:1]
    is_over = pl.col("county_code").is_in(over.implode())
    is_short = pl.col("county_code").is_in(short.implode())
    facts = {
        "reduction_target": (pl.format("{}人", "target"), None, None),
        "reduction_achieved": (
            pl.format("{}人", pl.when(is_over).then((pl.col("achieved") * 1.25).round(0)
                                                      .cast(pl.Int64) + 5)
                      .otherwise(pl.col("achieved"))),
            pl.when(is_over).then(pl.lit("achieved")), pl.when(is_over).then("county_code")),
        "funds_invested": (pl.format("{}元", "funds"), None, None),
        "projects_done": (
            pl.format("{}个", pl.when(is_short).then("registered").otherwise("done")),
            pl.when(is_short).then(pl.lit("projects")),
            pl.when(is_short).then("unfinished_ids")),
        "villages_exit_planned": (pl.format("{}个", "exited_villages"), None, None),
        "villages_exited": (pl.format("{}个", "exited_villages"), None, None),
    }
    rows = [c.select(
        "city_name", "county_code", pl.col("day0").alias("day"),
        pl.lit(None, pl.String).alias("village_code"), set=pl.lit("county_facts"),
        source=pl.lit("document"), level=pl.lit("county"), role=pl.lit(None, pl.String),
        document=pl.lit(_DOCUMENT["document"]), household_id=pl.lit(None, pl.String),
        person_id=pl.lit(None, pl.String), item=pl.lit(item), value=value,
        evidence=pl.lit(1, pl.Int64),
        planted=pl.lit(None, pl.String) if plant is None else plant.cast(pl.String),
        failing=pl.lit("") if ids is None else ids.cast(pl.String).fill_null(""))
        for item, (value, plant, ids) in facts.items()]
    return pl.concat(rows)


def _unit_failures(hh: pl.DataFrame, checks: pl.DataFrame, frame: dict[str, pl.DataFrame],
                   counties: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Per item and unit (city, county, village): the ids of the evidence that fails it."""
    line = plan.indicators.income_line_yuan
    h = hh.with_columns(is_exited=pl.col("status").is_in(list(EXITED)).fill_null(False),
                        income_ok=pl.col("income_per_capita_yuan") >= line).join(
        counties.select("county_code", "city_name"), on="county_code", how="left")
    ben = frame["project_beneficiaries"].select("household_id").unique().join(
        h, on="household_id", how="inner")
    pc = (checks.select("county_code", "village_code", "project_id", "result")
          .filter(pl.col("result").is_not_null())
          .join(counties.select("county_code", "city_name"), on="county_code", how="left")
          .rename({"project_id": "household_id"}))
    parts = []
    for item, rule in plan.claims.items.items():
        if rule.household_only or rule.table not in ROW_TABLES:
            continue
        src = {"household_survey": h, "beneficiaries": ben, "project_checks": pc}[rule.table]
        among = pl.all_horizontal([pl.col(c).fill_null(False) for c in rule.among] or [True])
        ok = (pl.col(rule.column).is_in(list(rule.ok)) if rule.ok
              else pl.col(rule.column).cast(pl.Boolean))
        parts.append(src.filter(among & pl.col(rule.column).is_not_null()).select(
            pl.lit(item).alias("item"), "city_name", "county_code", "village_code",
            "household_id", (~ok).alias("fails")))
    long = pl.concat(parts)
    out = []
    for unit, key in (("city", "city_name"), ("county", "county_code"),
                      ("village", "village_code")):
        out.append(long.group_by("item", key).agg(
            evidence=pl.len(), failing=pl.col("household_id").filter(pl.col("fails")).sort()
            .str.join(";")).select("item", pl.lit(unit).alias("unit"),
                                   pl.col(key).alias("code"), "evidence", "failing"))
    return pl.concat(out)


def synthesize_claims(hh: pl.DataFrame, checks: pl.DataFrame, frame: dict[str, pl.DataFrame],
            sample: SamplePackage, helpers: pl.DataFrame, counties: pl.DataFrame,
            villages: pl.DataFrame,
            cases: pl.DataFrame, plan: Plan,
            rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The claims table and its truth: every claim, whether it is true, and the plants.

    Planted (truth ``planted``): a city meeting's, a county interview's and a village
    meeting's "true" against failing households, a helper's "true" for the household
    without industry support, a county self-assessment that overstates, a county's
    摘帽不摘帮扶 against exited households that do not know their helper
    (``keep_help``), and the false county facts of :func:`_county_facts`.
    """
    fails = _unit_failures(hh, checks, frame, counties, plan)
    start = plan.timeline.field_start
    cty = counties.select("county_code", "city_name", "day0")
    city_day = cty.group_by("city_name").agg(day=pl.col("day0").min())
    units = {
        "city": city_day.select(pl.col("city_name").alias("code"), "city_name",
                                pl.lit(None, pl.String).alias("county_code"),
                                pl.lit(None, pl.String).alias("village_code"), "day"),
        "county": cty.select(pl.col("county_code").alias("code"), "city_name", "county_code",
                             pl.lit(None, pl.String).alias("village_code"),
                             pl.col("day0").alias("day")),
        "village": villages.join(cty.select("county_code", "city_name"), on="county_code")
        .select(pl.col("village_code").alias("code"), "city_name", "county_code",
                "village_code", "day"),
    }
    rows = []
    for name, (source, level, role, items) in _CLAIM_SETS.items():
        u = units[level].join(pl.DataFrame({"item": list(items)}), how="cross").join(
            fails.filter(pl.col("unit") == level).drop("unit"), on=["item", "code"],
            how="left")
        rows.append(u.with_columns(
            set=pl.lit(name), source=pl.lit(source), level=pl.lit(level),
            role=pl.lit(role, pl.String),
            document=pl.lit(_DOCUMENT.get(source), pl.String),
            household_id=pl.lit(None, pl.String), person_id=pl.lit(None, pl.String),
            evidence=pl.col("evidence").fill_null(0), failing=pl.col("failing").fill_null("")))
    claims = pl.concat(rows, how="diagonal_relaxed").sort("set", "code", "item")
    # Plants: one unit of each set below where the evidence fails the item says "true".
    key = pl.Series(rng.random(claims.height))
    claims = claims.with_columns(_key=key, planted=pl.lit(None, pl.String))
    wanted = {"city_meeting": "city", "county_interview": "county",
              "village_meeting": "village", "self_assessment": "self_assessment",
              "county_keep_help": "keep_help"}
    prefer = {"village_meeting": cases.filter(pl.col("kind") == "not_whole")["village_code"],
              "self_assessment": cases.filter(pl.col("kind") == "edge_unmonitored")[
                  "county_code"]}
    for name, label in wanted.items():
        able = (pl.col("set") == name) & (pl.col("failing") != "")
        if name in prefer:
            code = prefer[name]
            first = claims.filter(able & pl.col("code").is_in(code.implode()))
            if first.height:
                able = able & pl.col("code").is_in(code.implode())
        pick = claims.filter(able).sort("_key").head(1).select("set", "code", "item")
        claims = claims.join(pick.with_columns(_p=pl.lit(label)), on=["set", "code", "item"],
                             how="left").with_columns(pl.coalesce("planted", "_p")
                                                      .alias("planted")).drop("_p")
    claims = claims.with_columns(
        value=pl.when((pl.col("failing") == "") | pl.col("planted").is_not_null())
        .then(pl.lit("true")).otherwise(pl.lit("false")))
    # A helper's claims about the industry support of the households they help.
    links = helpers.join(hh.select("household_id", "village_code", "has_labour",
                                   "industry_support"), on=["household_id", "village_code"],
                         how="inner").filter(pl.col("has_labour").fill_null(False))
    no_industry = cases.filter(pl.col("kind") == "no_industry")["household_id"]
    helper = links.join(cty.select("county_code", "city_name"), on="county_code").join(
        villages.select("village_code", "day"), on="village_code").select(
        pl.col("helper_id").alias("person_id"), "city_name", "county_code", "village_code",
        "household_id", "day", set=pl.lit("helper_interview"), source=pl.lit("interview"),
        level=pl.lit("helper"), role=pl.lit("assistance_cadre"),
        document=pl.lit(None, pl.String), item=pl.lit("industry_coverage"),
        evidence=pl.lit(1, pl.Int64),
        planted=pl.when(pl.col("household_id").is_in(no_industry.implode()))
        .then(pl.lit("helper")),
        failing=pl.when(pl.col("industry_support")).then(pl.lit(""))
        .otherwise(pl.col("household_id")),
        value=pl.lit("true"))
    # Drawn cadres none of whose households was surveyed (no interview in the interviews
    # table) are interviewed too: "my households all know me", with no evidence in the sample.
    unlinked = (sample.interviewees.filter(pl.col("level") == "helper")
                .select("helper_id", "county_code", "village_code").unique("helper_id")
                .join(helpers.select("helper_id").unique(), on="helper_id", how="anti")
                .join(cty.select("county_code", "city_name"), on="county_code")
                .join(villages.select("village_code", "day"), on="village_code")
                .select(pl.col("helper_id").alias("person_id"), "city_name", "county_code",
                        "village_code", "day", set=pl.lit("helper_interview"),
                        source=pl.lit("interview"), level=pl.lit("helper"),
                        role=pl.lit("assistance_cadre"), document=pl.lit(None, pl.String),
                        household_id=pl.lit(None, pl.String), item=pl.lit("knows_helper"),
                        evidence=pl.lit(0, pl.Int64), planted=pl.lit(None, pl.String),
                        failing=pl.lit(""), value=pl.lit("true")))
    facts = _county_facts(frame, checks, counties, plan, rng)
    claims = pl.concat([claims.drop("_key", "code"), helper, unlinked, facts],
                       how="diagonal_relaxed")
    days = (plan.timeline.field_end - plan.timeline.field_start).days + 1
    claims = claims.with_columns(
        date=pl.when(pl.col("source") == "self_assessment")
        .then(pl.lit(plan.timeline.self_assessment_by, pl.Date))
        .otherwise(pl.lit(start, pl.Date) + pl.duration(
            days=pl.col("day").clip(upper_bound=days - 1))),
        _lvl=pl.col("level").replace_strict(LEVEL_ORDER, return_dtype=pl.Int64),
    ).sort("city_name", "county_code", "_lvl", "village_code", "set", "household_id", "item",
           "person_id", nulls_last=False)
    width = max(5, len(str(claims.height)))
    claims = claims.with_columns(claim_id=pl.format(
        "K{}", (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(width)))
    truth = claims.select(
        "claim_id", "set", "source", "level", "city_name", "county_code", "village_code",
        "household_id", "item", "value", "planted",
        true_claim=(pl.col("value") == "false") | (pl.col("failing") == ""),
        contradicting=pl.when((pl.col("value") != "false") & (pl.col("failing") != ""))
        .then(pl.col("failing")),
        evidence="evidence")
    return claims, truth


def skip_interviews(heads: pl.DataFrame, counties: pl.DataFrame,
                     rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Planted skipped interviews (五(三)): a city's and a county's department heads, a
    village's poverty specialist; truth ``skipped_interviews`` (unit, role, skipped)."""
    city_of = counties.select("county_code", "city_name")
    h = heads.join(city_of, on="county_code", how="left").with_columns(
        _key=pl.Series(rng.random(heads.height)))
    plans = (("city", "department_head", 1), ("county", "department_head", 2),
             ("village", "poverty_specialist", 1))
    drop = []
    for level, role, k in plans:
        part = h.filter((pl.col("level") == level) & (pl.col("role") == role))
        unit = "city_name" if level == "city" else f"{level}_code"
        first = part.sort("_key").head(1)[unit]
        drop.append(part.filter(pl.col(unit).is_in(first.implode())).sort("_seq").tail(k))
    dropped = pl.concat(drop)
    truth = dropped.group_by("level", "role", "city_name", "county_code", "village_code").agg(
        skipped=pl.len().cast(pl.Int64)).with_columns(
        pl.when(pl.col("level") == "city").then(pl.lit(None, pl.String))
        .otherwise(pl.col("county_code")).alias("county_code")).sort("level", "role")
    kept = heads.join(dropped.select("interview_id"), on="interview_id", how="anti")
    return kept, truth
