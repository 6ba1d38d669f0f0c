"""Problems the system proposes to the teams (系统提示): one small function per rule.

Over ~600 lines because it is a registry of small rules, one function each.

Plan 八(二) forbids enlarging or shrinking a problem (不得放大或缩小问题), so a
candidate needs evidence: a rate proposes a problem only when it *fails*
(:mod:`xkaohe.analyse.verdicts`) or when the sample *found cases* — every
wrongly exited, omitted or wrongly included household is a case, named with
its household id, village and the file and row of its questionnaire. A rate
that is only ``not_found`` (未发现超标) proposes nothing. The cross-check
rules propose a problem only where the comparison found contradictions.

=====================  ==========================================================
rule                   raised when
=====================  ==========================================================
wrong_exit_rate        status fail, or wrongly exited households found (错退)
omission_rate          status fail, or omitted households found (漏评)
approval_rate          status fail (群众认可度; the non-approving households are
                       listed as evidence, not counted as cases)
wrong_inclusion_rate   households with evidence of ineligibility found (错评;
                       the plan sets no threshold)
helper_claims          a helper's mismatch rate > helper_mismatch_max
                       (驻村结对帮扶责任: helpers who do not know their households)
helper_awareness       the county's share of registered households that know
                       their helper < helper_awareness_min
village_claims         a village cadre's claim contradicted by more than
                       village_claim_mismatch_max of the households
projects               any discrepancy in a county or village project
paired_funds           funds overspent, or spent on a paired cooperation
                       project not started or abandoned (资金支持)
paired_beneficiaries   fewer beneficiaries of a cooperation project confirmed
                       than drawn (产业合作)
claims                 a claim of a meeting, document, city or county interview
                       or self-assessment contradicted by the evidence
                       (:mod:`xkaohe.analyse.claims`; a city's claim is raised in
                       each county whose households contradict it; village and
                       helper interviews are the two rules above, with the
                       plan's tolerances)
beneficiaries          a household the project register lists as a beneficiary
                       says it received nothing (五(五))
identification         registered households not identified as a whole
                       (未整户识别) or without 评议公示 (程序不规范), 三(一)1(7)
edge_monitoring        edge households not monitored (边缘户未纳入监测), 三(一)1(6)
=====================  ==========================================================

The content item each rule files its problem under (plan 三) and its standard
suggestion (意见建议, plan 五) are plan data (``reports.candidates``). A
candidate is one problem per county and rule, level ``county``; its evidence
lists the units and rows behind it. Wording follows the county's scope
(:func:`xkaohe.analyse.verdicts.scope`): for the counties exiting this year a
threshold is 标准, for the others a 参考线, and no candidate calls a county
未达标 on rates alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from xkaohe.analyse.consistency import (
    DEFAULT_SOURCES,
    ITEM_LABELS,
    CrossChecks,
    percent_text,
)
from xkaohe.analyse.verdicts import scope
from xkaohe.codes import CLAIM_ITEM, CLAIM_SOURCE, INTERVIEW_LEVEL
from xkaohe.errors import InputError, PlanError, Problem
from xkaohe.inputs import ROW
from xkaohe.plan import Plan
from xkaohe.schemas import require_columns

CANDIDATE_KEYS = ("county_code", "rule", "description", "evidence")
"""What every rule returns: one row per county with a problem."""


@dataclass(frozen=True)
class Evidence:
    """Everything a rule may look at; a missing table means its rules find nothing."""

    counties: pl.DataFrame
    indicators: pl.DataFrame | None = None
    households: pl.DataFrame | None = None
    checks: CrossChecks | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    claims: pl.DataFrame | None = None  # claim_checks (xkaohe.analyse.claims.check_claims)
    cases: pl.DataFrame | None = None  # xkaohe.analyse.claims.identification

    def file(self, table: str) -> str:
        """The file name a field table came from (for row references)."""
        return {**DEFAULT_SOURCES, **self.sources}.get(table, f"{table}.csv")


@dataclass(frozen=True)
class Rule:
    """A candidate rule: its name (a key of ``reports.candidates``) and its finder."""

    name: str
    source: Literal["indicator", "cross_check"]
    find: Callable[[Evidence, Plan], pl.DataFrame | None]


def _list_text(values: pl.Expr, sep: str = "；") -> pl.Expr:
    return values.sort().str.join(sep)


# ------------------------------------------------------------------ the rates


@dataclass(frozen=True)
class _RateWords:
    name: str  # the rate in Chinese
    unit: str  # of its denominator: 人 or 户
    counts: str  # what its numerator counts
    case: str | None  # the households column marking a case (None: no cases)
    listed: pl.Expr  # households listed as evidence
    listed_label: str


_RATES: dict[str, _RateWords] = {
    "wrong_exit_rate": _RateWords(
        "错退率", "人", "未达到脱贫标准", "wrong_exit", pl.col("wrong_exit"), "错退户"
    ),
    "omission_rate": _RateWords(
        "漏评率",
        "人",
        "符合识别标准但未纳入建档立卡",
        "omission",
        pl.col("omission"),
        "疑似漏评户",
    ),
    "approval_rate": _RateWords(
        "群众认可度", "户", "认可或基本认可", None, ~pl.col("approves"), "不认可的户"
    ),
    "wrong_inclusion_rate": _RateWords(
        "错评率",
        "户",
        "有错评线索",
        "wrong_inclusion",
        pl.col("wrong_inclusion"),
        "有错评线索的户",
    ),
}


def _case_refs(ev: Evidence, words: _RateWords) -> pl.DataFrame | None:
    """Per county: the listed households, each with its questionnaire's file and row."""
    if ev.households is None:
        return None
    hh = ev.households
    if ROW not in hh.columns:
        hh = hh.with_columns(pl.lit(None, pl.Int64).alias(ROW))
    require_columns(hh, "households", ["county_code", "village_code", "household_id"])
    file = ev.file("household_survey")
    ref = pl.format(
        f"户{{}}（村{{}}，{file} 第{{}}行）",
        "household_id",
        "village_code",
        pl.col(ROW).cast(pl.String).fill_null("?"),
    )
    return (
        hh.filter(words.listed.fill_null(False))
        .group_by("county_code")
        .agg(_cases=pl.len().cast(pl.Int64), _refs=_list_text(ref, "、"))
    )


def _rate_rule(rate: str) -> Callable[[Evidence, Plan], pl.DataFrame | None]:
    words = _RATES[rate]

    def find(ev: Evidence, plan: Plan) -> pl.DataFrame | None:
        if ev.indicators is None:
            return None
        bound = plan.threshold(rate)
        cols = [rate, f"{rate}_n"]
        if bound is not None:
            cols += [f"{rate}_est", f"{rate}_low", f"{rate}_high", f"{rate}_status"]
        require_columns(ev.indicators, "county_indicators", ["county_code", *cols])
        r, n = pl.col(rate), pl.col(f"{rate}_n")
        hits = (r * n).round(0).cast(pl.Int64)
        sample = pl.format(
            f"{words.name}为{{}}（抽样{{}}{words.unit}，其中{{}}{words.unit}{words.counts}）",
            percent_text(r),
            n,
            hits,
        )
        found = (r > 0).fill_null(False) if words.case is not None else pl.lit(False)
        ind = ev.indicators.join(_scopes(ev, plan), on="county_code", how="left")
        if bound is None:
            rows = ind.filter(found).with_columns(description=pl.concat_str(sample, pl.lit("。")))
        else:
            failed = (pl.col(f"{rate}_status") == "fail").fill_null(False)
            exiting = pl.col("_scope") == "exit_standard"
            line = pl.when(exiting).then(pl.lit("标准")).otherwise(pl.lit("参考线"))
            over, within = ("超过", "未超过") if bound.side == "max" else ("低于", "达到")
            limit = f"{bound.value * 100:g}%的"

            def pct(c: str) -> pl.Expr:
                return percent_text(pl.col(c)).fill_null("—")

            conf = f"{plan.indicators.confidence * 100:g}%置信区间"
            fail_text = pl.format(
                f"{{}}，{over}{limit}{{}}；设计加权估计{{}}，{conf}{{}}—{{}}。",
                sample,
                line,
                pct(f"{rate}_est"),
                pct(f"{rate}_low"),
                pct(f"{rate}_high"),
            )
            case_text = pl.format(
                f"入户调查发现{words.listed_label}：{{}}，{within}{limit}{{}}，所涉农户需逐户核实。",
                sample,
                line,
            )
            rows = ind.filter(failed | found).with_columns(
                description=pl.when(failed).then(fail_text).otherwise(case_text)
            )
        evidence = pl.format(
            f"依据入户调查数据计算的县级指标（county_indicators：{rate}={{}}，{rate}_n={{}}）",
            r.round(4),
            n,
        )
        refs = _case_refs(ev, words)
        if refs is not None:
            rows = rows.join(refs, on="county_code", how="left")
            evidence = pl.concat_str(
                evidence,
                pl.format(f"；{words.listed_label}{{}}户：{{}}", "_cases", "_refs").fill_null(""),
            )
        return rows.select(
            "county_code",
            pl.lit(rate).alias("rule"),
            "description",
            pl.concat_str(evidence, pl.lit("。")).alias("evidence"),
        )

    return find


def _scopes(ev: Evidence, plan: Plan) -> pl.DataFrame:
    """``county_code, _scope``: exit_standard or reference (reference without a category)."""
    category = pl.col("category") if "category" in ev.counties.columns else pl.lit(None, pl.String)
    return ev.counties.select("county_code", scope(category, plan).alias("_scope"))


# ------------------------------------------------------------ the cross-checks


def _helper_claims(ev: Evidence, plan: Plan) -> pl.DataFrame | None:
    """C4: helpers whose claims disagree with the households beyond the plan's share."""
    if ev.checks is None:
        return None
    h = ev.checks.helpers.filter(pl.col("checked") > 0)
    bad = pl.col("mismatch_flagged")
    return (
        h.group_by("county_code")
        .agg(
            n=pl.len(),
            bad=bad.sum(),
            checked=pl.col("checked").sum(),
            mismatches=pl.col("mismatches").sum(),
            who=_list_text(
                pl.format("{}（{}项中{}项不符）", "helper_id", "checked", "mismatches").filter(bad),
                "、",
            ),
        )
        .filter(pl.col("bad") > 0)
        .select(
            "county_code",
            pl.lit("helper_claims").alias("rule"),
            pl.format(
                "访谈帮扶责任人{}人，其中{}人对所帮扶户家庭人口、收入或“两不愁三保障”情况的"
                f"陈述与入户调查不符的比例超过{plan.consistency.helper_mismatch_max * 100:g}%"
                "（合计比对{}项，不符{}项）。",
                "n",
                "bad",
                "checked",
                "mismatches",
            ).alias("description"),
            pl.format("帮扶责任人{}；明细见比对清单。", "who").alias("evidence"),
        )
    )


def _helper_awareness(ev: Evidence, plan: Plan) -> pl.DataFrame | None:
    """C9: the county's registered households that do not know their helper."""
    if ev.checks is None:
        return None
    unaware = ev.checks.helpers.filter(pl.col("households_not_knowing") > 0)
    who = unaware.group_by("county_code").agg(
        who=_list_text(pl.format("{}（{}户不知晓）", "helper_id", "households_not_knowing"), "、")
    )
    county = (pl.col("unit") == "county") & (pl.col("awareness_ok") == False)  # noqa: E712
    return (
        ev.checks.rates.filter(county)
        .join(who, on="county_code", how="left")
        .select(
            "county_code",
            pl.lit("helper_awareness").alias("rule"),
            pl.format(
                "入户调查建档立卡户{}户中{}户不知晓本户帮扶责任人，知晓率{}，"
                f"低于{plan.consistency.helper_awareness_min * 100:g}%。",
                "registered_asked",
                pl.col("registered_asked") - pl.col("knows_helper"),
                percent_text(pl.col("helper_awareness")),
            ).alias("description"),
            pl.concat_str(
                pl.lit("入户调查“知晓帮扶责任人”一项"),
                pl.format("；涉及帮扶责任人{}", "who").fill_null(""),
                pl.lit("。"),
            ).alias("evidence"),
        )
    )


def _village_claims(ev: Evidence, plan: Plan) -> pl.DataFrame | None:
    """C1: village cadres' claims contradicted by the households."""
    if ev.checks is None:
        return None
    label = pl.col("item").replace_strict(ITEM_LABELS, default=pl.col("item"))
    refs = ev.checks.discrepancies.filter(pl.col("kind") == "village_claim").select(
        "county_code", "village_code", "item", "reference"
    )
    v = ev.checks.villages.filter(pl.col("flagged")).join(
        refs, on=["county_code", "village_code", "item"], how="left", nulls_equal=True
    )
    return (
        v.group_by("county_code")
        .agg(
            n=pl.col("village_code").n_unique(),
            what=_list_text(
                pl.format(
                    "村{}“{}”：调查建档立卡户{}户中{}户为“否”（{}）",
                    "village_code",
                    label,
                    "households",
                    "contradicting",
                    percent_text(pl.col("mismatch_rate")),
                )
            ),
            refs=_list_text(
                pl.format("村{}“{}”：{}", "village_code", label, pl.col("reference")), "；"
            ),
        )
        .select(
            "county_code",
            pl.lit("village_claims").alias("rule"),
            pl.format(
                "{}个村的村干部称全部建档立卡户达到标准，入户调查发现不符：{}。", "n", "what"
            ).alias("description"),
            pl.format("村干部访谈与入户调查比对：{}。", "refs").alias("evidence"),
        )
    )


_FUNDS_FLAGS = [
    ("funds_overspent", "资金支出超过项目资金规模"),
    ("spent_but_not_started", "已支出资金但项目未开工"),
    ("spent_but_abandoned", "已支出资金但项目已停工"),
]
_SHORT_FLAG = ("beneficiaries_short", "核实受益户少于抽查户数")


def _project_rule(
    rule: str, paired: bool, hit: pl.Expr, flags: list[tuple[str, str]]
) -> Callable[[Evidence, Plan], pl.DataFrame | None]:
    """A rule over the checked projects of one kind (县级/到村到户, or 结对合作)."""
    what = "结对合作项目" if paired else "项目"

    def find(ev: Evidence, plan: Plan) -> pl.DataFrame | None:
        if ev.checks is None:
            return None
        refs = (
            ev.checks.discrepancies.filter(pl.col("kind") == "project")
            .group_by("subject")
            .agg(
                refs=_list_text(
                    pl.format(
                        "{}登记{}、核查{}（{}）", "item_label", "recorded", "found", "reference"
                    ),
                    "，",
                )
            )
            .rename({"subject": "project_id"})
        )
        kind = pl.col("level") == "paired"
        p = ev.checks.projects.join(refs, on="project_id", how="left")
        parts = pl.concat_list(
            [
                pl.when(pl.col(f) > 0).then(pl.format(f"{text}{{}}个", pl.col(f)))
                for f, text in flags
            ]
        ).list.drop_nulls()
        return (
            p.filter((kind if paired else ~kind) & pl.col("checked"))
            .group_by("county_code")
            .agg(
                *[(pl.col(f) & hit).sum().alias(f) for f, _ in flags],
                checked=pl.len(),
                hit=hit.sum(),
                refs=_list_text(pl.format("项目{}：{}", "project_id", "refs").filter(hit), "；"),
            )
            .filter(pl.col("hit") > 0)
            .select(
                "county_code",
                pl.lit(rule).alias("rule"),
                pl.format(
                    f"抽查{what}{{}}个，其中{{}}个与项目记录不符：{{}}。",
                    "checked",
                    "hit",
                    parts.list.join("，"),
                ).alias("description"),
                pl.format("项目核查与项目记录比对：{}。", "refs").alias("evidence"),
            )
        )

    return find


_FUNDS_HIT = pl.any_horizontal([pl.col(f) for f, _ in _FUNDS_FLAGS])


# ------------------------------------------------------------------ claims (issue 13)


def _claims(ev: Evidence, plan: Plan) -> pl.DataFrame | None:
    """Claims contradicted by the evidence, one problem per county with all of them."""
    del plan
    if ev.claims is None:
        return None
    require_columns(
        ev.claims,
        "claim_checks",
        ("table", "level", "source", "county_code", "item", "verdict", "found", "references"),
    )
    covered = (pl.col("table") == "interviews") & pl.col("level").is_in(["village", "helper"])
    bad = ev.claims.filter((pl.col("verdict") == "contradicted") & ~covered.fill_null(False))
    # a city's claim is raised in each county whose households or projects contradict it
    bad = bad.with_columns(
        pl.when(pl.col("county_code").is_null())
        .then(pl.col("contradicting_counties").str.split(";"))
        .otherwise(pl.concat_list(pl.col("county_code")))
        .alias("county_code")
    ).explode("county_code")
    who = pl.format(
        "{}{}{}称“{}”",
        INTERVIEW_LEVEL.expr(pl.col("level")),
        CLAIM_SOURCE.expr(pl.col("source")),
        pl.when(pl.col("village_code").is_not_null())
        .then(pl.format("（村{}）", "village_code"))
        .when(pl.col("household_id").is_not_null())
        .then(pl.format("（户{}）", "household_id"))
        .otherwise(pl.lit("")),
        CLAIM_ITEM.expr(pl.col("item")),
    )
    return (
        bad.group_by("county_code")
        .agg(
            n=pl.len(),
            what=_list_text(pl.format("{}，{}", who, "found")),
            refs=_list_text(pl.format("{}：{}", who, "references")),
        )
        .select(
            "county_code",
            pl.lit("claims").alias("rule"),
            pl.format("{}项陈述与考核核实情况不符：{}。", "n", "what").alias("description"),
            pl.format("陈述与入户调查、项目核查和建档立卡数据比对：{}。", "refs").alias("evidence"),
        )
    )


def _case_rule(
    rule: str, parts: list[tuple[str, str]]
) -> Callable[[Evidence, Plan], pl.DataFrame | None]:
    """A rule over the per-county cases of :func:`xkaohe.analyse.claims.identification`."""

    def find(ev: Evidence, plan: Plan) -> pl.DataFrame | None:
        del plan
        if ev.cases is None:
            return None
        cols = [c for name, _ in parts for c in (name, f"{name}_asked", f"{name}_refs")]
        require_columns(ev.cases, "identification", ["county_code", *cols])
        hit = pl.any_horizontal([pl.col(name) > 0 for name, _ in parts])
        text = pl.concat_list(
            [
                pl.when(pl.col(name) > 0).then(
                    pl.format(f"入户调查{{}}户中{{}}户{words}", f"{name}_asked", name)
                )
                for name, words in parts
            ]
        ).list.drop_nulls()
        refs = pl.concat_list(
            [pl.when(pl.col(name) > 0).then(pl.col(f"{name}_refs")) for name, _ in parts]
        ).list.drop_nulls()
        return ev.cases.filter(hit).select(
            "county_code",
            pl.lit(rule).alias("rule"),
            pl.concat_str(text.list.join("；"), pl.lit("。")).alias("description"),
            pl.format("入户调查表：{}。", refs.list.join("；")).alias("evidence"),
        )

    return find


RULES: tuple[Rule, ...] = (
    Rule("wrong_exit_rate", "indicator", _rate_rule("wrong_exit_rate")),
    Rule("omission_rate", "indicator", _rate_rule("omission_rate")),
    Rule("approval_rate", "indicator", _rate_rule("approval_rate")),
    Rule("wrong_inclusion_rate", "indicator", _rate_rule("wrong_inclusion_rate")),
    Rule("helper_claims", "cross_check", _helper_claims),
    Rule("helper_awareness", "cross_check", _helper_awareness),
    Rule("village_claims", "cross_check", _village_claims),
    Rule(
        "projects",
        "cross_check",
        _project_rule("projects", False, pl.col("any_discrepancy"), [*_FUNDS_FLAGS, _SHORT_FLAG]),
    ),
    Rule(
        "paired_funds", "cross_check", _project_rule("paired_funds", True, _FUNDS_HIT, _FUNDS_FLAGS)
    ),
    Rule(
        "paired_beneficiaries",
        "cross_check",
        _project_rule("paired_beneficiaries", True, pl.col(_SHORT_FLAG[0]), [_SHORT_FLAG]),
    ),
    Rule("claims", "cross_check", _claims),
    Rule(
        "beneficiaries",
        "cross_check",
        _case_rule(
            "beneficiaries", [("benefit_missing", "项目台账登记为受益户但表示未享受到项目收益")]
        ),
    ),
    Rule(
        "identification",
        "cross_check",
        _case_rule(
            "identification",
            [
                ("not_whole", "建档立卡时有家庭成员未纳入（未整户识别）"),
                ("procedure_bad", "识别未经评议公示（程序不规范）"),
            ],
        ),
    ),
    Rule(
        "edge_monitoring",
        "cross_check",
        _case_rule("edge_monitoring", [("edge_unmonitored", "为边缘户或脱贫监测对象但未纳入监测")]),
    ),
)
"""Every candidate rule, in report order (numbering within a county follows it)."""


def _check_rules(plan: Plan) -> None:
    """The plan names an item and a suggestion for every rule, and the items exist."""
    rules = plan.reports.candidates
    missing = [r.name for r in RULES if r.name not in rules]
    unknown = sorted({c.item for c in rules.values()} - plan.content.codes)
    lines = []
    if missing:
        lines.append(f"reports.candidates lacks rule(s) {', '.join(missing)}")
    if unknown:
        lines.append(
            f"reports.candidates files problems under item(s) {', '.join(unknown)} that the "
            f"plan content lacks; it has {', '.join(sorted(plan.content.codes))}"
        )
    if lines:
        raise PlanError("; ".join(lines))


def candidate_problems(
    indicators: pl.DataFrame | None,
    checks: CrossChecks | None,
    counties: pl.DataFrame,
    plan: Plan,
    raised: dt.date | None = None,
    *,
    households: pl.DataFrame | None = None,
    sources: Mapping[str, str] | None = None,
    claims: pl.DataFrame | None = None,
    cases: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Problems proposed by the system from the indicators, households and cross-checks.

    Parameters
    ----------
    indicators
        County indicators (DESIGN.md, "Indicators"): ``county_code`` and, for
        each rate R, ``R, R_n`` (and ``R_est, R_low, R_high, R_status`` for the
        rates with a plan threshold). ``None`` for none.
    checks
        The cross-checks (:func:`xkaohe.analyse.consistency.cross_check`), or ``None``.
    counties
        The frame's counties: ``county_code, city_name`` and, for the wording
        by scope, ``category``.
    plan
        The plan: thresholds, ``reports.candidates``, ``timeline.field_end``.
    raised
        The date the problems are raised; the field week's last day by default.
    households
        The classified surveyed households (``county_code, village_code,
        household_id, _row`` and the case flags ``wrong_exit, omission,
        wrong_inclusion, approves``): each case is named in the evidence.
    sources
        Field table name -> file name, for the row references.
    claims
        ``claim_checks`` (:func:`xkaohe.analyse.claims.check_claims`), or ``None``.
    cases
        The per-county cases of :func:`xkaohe.analyse.claims.identification`, or ``None``.

    Returns
    -------
    pl.DataFrame
        The columns of the problems table (``problem_id`` like
        ``AUTO-<county>-01``, level ``county``, ``needs_review`` true,
        ``review_outcome`` pending, Chinese ``description``, ``evidence`` and
        ``suggestion``) plus ``source`` (indicator | cross_check) and ``rule``.
        Numbered per county in rule order.

    Raises
    ------
    InputError
        When a county of the indicators or cross-checks is not in ``counties``.
    PlanError
        When the plan lacks a rule's entry or an item the rules use.
    """
    _check_rules(plan)
    require_columns(counties, "counties", ("county_code", "city_name"))
    ev = Evidence(counties, indicators, households, checks, dict(sources or {}), claims, cases)
    schema = dict.fromkeys(CANDIDATE_KEYS, pl.String)
    parts = [pl.DataFrame(schema=schema)]
    for rule in RULES:
        found = rule.find(ev, plan)
        if found is not None:
            parts.append(found.select([pl.col(c).cast(pl.String) for c in schema]))
    found_all = pl.concat(parts)
    unknown = found_all.join(counties, on="county_code", how="anti")["county_code"]
    if unknown.len():
        raise InputError(
            Problem(
                "counties",
                None,
                "county_code",
                "every county of the indicators and cross-checks",
                f"no row for {', '.join(str(c) for c in unknown.unique().sort().to_list())}",
            )
        )
    order = {r.name: i for i, r in enumerate(RULES)}
    source = {r.name: r.source for r in RULES}
    items = {name: c.item for name, c in plan.reports.candidates.items()}
    suggestions = {name: c.suggestion for name, c in plan.reports.candidates.items()}
    when = raised or plan.timeline.field_end
    return (
        found_all.with_columns(_k=pl.col("rule").replace_strict(order, return_dtype=pl.Int64))
        .sort("county_code", "_k")
        .join(counties.select("county_code", "city_name"), on="county_code", how="left")
        .with_columns(_n=pl.int_range(1, pl.len() + 1).over("county_code"))
        .select(
            pl.format("AUTO-{}-{}", "county_code", pl.col("_n").cast(pl.String).str.zfill(2)).alias(
                "problem_id"
            ),
            pl.lit(when, pl.Date).alias("raised_date"),
            pl.lit(None, pl.String).alias("team_id"),
            pl.lit("county").alias("level"),
            pl.col("city_name").cast(pl.String),
            "county_code",
            pl.lit(None, pl.String).alias("village_code"),
            pl.col("rule").replace_strict(items, return_dtype=pl.String).alias("content_item"),
            "description",
            "evidence",
            pl.lit(True).alias("needs_review"),
            pl.lit(None, pl.Date).alias("review_date"),
            pl.lit("pending").alias("review_outcome"),
            pl.col("rule").replace_strict(suggestions, return_dtype=pl.String).alias("suggestion"),
            pl.col("rule").replace_strict(source, return_dtype=pl.String).alias("source"),
            "rule",
        )
    )


__all__ = ["CANDIDATE_KEYS", "RULES", "Evidence", "Rule", "candidate_problems"]
