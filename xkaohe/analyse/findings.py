"""Findings: problems raised, their daily review, and whether each report is complete.

* Plan 五(六) 问题复核: every evening a team sums up the day's problems; those
  that need review go to the county and are checked with local departments
  the next day (``plan.review.days_to_review``). :func:`review_status` says
  for each problem whether that happened on time.
* Plan 五 (opening paragraph): each city and county report sums up 3–5
  typical experiences and at least 3 prominent problems, with suggestions
  tied to the problems (``plan.reports``). :func:`completeness` checks it.
* Plan 三 gives the content items (C1..C9 county, M1..M6 city, P1..P6 county
  pairing) a problem is filed under; 七(二) feeds problems back one-to-one to
  each city and county (:func:`feedback_findings`).

Besides the teams' own problems, the system proposes candidates
(:func:`candidate_problems`) from the county indicators (DESIGN.md,
"Indicators") and from the cross-checks (:mod:`xkaohe.analyse.consistency`):

=====================  ====  ==================================================
rule                   item  raised when
=====================  ====  ==================================================
wrong_exit_rate        C8    status fail or at_risk (错退)
omission_rate          C7    status fail or at_risk (漏评)
approval_rate          C9    status fail or at_risk (群众认可度)
wrong_inclusion_rate   C7    rate > 0 (错评; the plan sets no threshold)
helper_claims          C4    a helper's mismatch rate > helper_mismatch_max
                             (驻村结对帮扶责任: helpers who do not know their
                             households)
helper_awareness       C9    the county's share of registered households that
                             know their helper < helper_awareness_min
village_claims         C1    a village cadre's claim contradicted by more than
                             village_claim_mismatch_max of the households
projects               C6    any discrepancy in a county or village project
paired_funds           P5    funds overspent, or spent on a paired cooperation
                             project not started or abandoned (资金支持)
paired_beneficiaries   P2    fewer beneficiaries of a cooperation project
                             confirmed than drawn (产业合作)
=====================  ====  ==================================================

A candidate is one problem per county and rule, level ``county``; its
evidence lists the units and rows behind it. A candidate is *covered* when a
team problem of the same county and content item exists that review did not
dismiss: it stays in the findings with ``covered_by`` but leaves the reports.

Scope (DOMAIN.md, "Reports"): a finding is *systemic* (共性问题) when its
content item is confirmed, in a report, in at least
``reports.systemic.province_counties`` counties of the province or
``reports.systemic.city_counties`` counties of one city (its own city); otherwise it
is a *case* (个性问题). Counting is by distinct county, so ten problems of one
county make no pattern.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from xkaohe.analyse.consistency import ITEM_LABELS, CrossChecks, percent_text
from xkaohe.errors import InputError, PlanError, Problem
from xkaohe.plan import Bound, Plan, Systemic
from xkaohe.schemas import PROBLEMS, require_columns

ROW = "_row"
PROBLEM_COLUMNS: tuple[str, ...] = tuple(c.name for c in PROBLEMS.columns)
SOURCES = ("team", "indicator", "cross_check")
REVIEW_STATES = ("not_needed", "on_time", "late", "overdue", "pending", "proposed")
REVIEW_STATE_LABELS = {
    "not_needed": "无需复核",
    "on_time": "按时复核",
    "late": "逾期复核",
    "overdue": "逾期未复核",
    "pending": "待复核",
    "proposed": "系统提示，待考核组核实",
}
"""Chinese of a finding's place in the daily review (plan 五(六))."""

RULE_ITEMS: dict[str, str] = {
    "wrong_exit_rate": "C8",
    "omission_rate": "C7",
    "approval_rate": "C9",
    "wrong_inclusion_rate": "C7",
    "helper_claims": "C4",
    "helper_awareness": "C9",
    "village_claims": "C1",
    "projects": "C6",
    "paired_funds": "P5",
    "paired_beneficiaries": "P2",
}
"""The content item each candidate rule files its problem under (plan 三)."""

SUGGESTIONS: dict[str, str] = {
    "wrong_exit_rate": "对已脱贫户开展“回头看”，逐户核实收入和“两不愁三保障”情况，"
    "对不符合退出标准的及时纠正并落实帮扶措施。",
    "omission_rate": "对非建档立卡农户开展排查，将符合识别标准的农户按程序及时纳入，"
    "并落实帮扶措施。",
    "approval_rate": "加强政策宣传和入户走访，回应群众诉求，提高群众对脱贫攻坚工作的认可度。",
    "wrong_inclusion_rate": "对有错评线索的建档立卡户逐户核实，不符合条件的按程序予以清退。",
    "helper_claims": "压实帮扶责任人责任，督促定期入户走访，准确掌握帮扶对象家庭人口、"
    "收入和“两不愁三保障”情况。",
    "helper_awareness": "加强帮扶责任人与帮扶对象的联系，落实入户走访制度，"
    "提高贫困户对帮扶责任人和帮扶措施的知晓度。",
    "village_claims": "村级组织对照“两不愁三保障”及饮水安全标准逐户排查，如实掌握和报告情况，"
    "对未达标户立即整改。",
    "projects": "加强扶贫项目和资金监管，核实项目进度与资金支付情况，确保资金使用与项目实施相符、"
    "受益对象精准。",
    "paired_funds": "规范结对帮扶资金拨付和使用，按项目进度支付资金，确保资金及时发挥效益。",
    "paired_beneficiaries": "完善结对合作项目利益联结机制，确保项目带动贫困户稳定受益。",
}
"""The standard suggestion (意见建议) of each candidate rule, in Chinese."""

INDICATOR_TEXT: dict[str, tuple[str, str, str]] = {
    "wrong_exit_rate": ("错退率", "人", "未达到脱贫标准"),
    "omission_rate": ("漏评率", "人", "符合识别标准但未纳入建档立卡"),
    "approval_rate": ("群众认可度", "户", "认可或基本认可"),
    "wrong_inclusion_rate": ("错评率", "户", "有错评线索"),
}
"""Per rate: its Chinese name, the unit of its denominator, what the numerator counts."""


# ------------------------------------------------------------------ helpers


def _check_rule_items(plan: Plan) -> None:
    unknown = sorted(set(RULE_ITEMS.values()) - plan.content.codes)
    if unknown:
        raise PlanError(
            f"plan content lacks item(s) {', '.join(unknown)} that the candidate rules "
            f"file problems under; it has {', '.join(sorted(plan.content.codes))}"
        )


def _with_row(df: pl.DataFrame) -> pl.DataFrame:
    if ROW in df.columns:
        return df.with_columns(pl.col(ROW).cast(pl.Int64))
    return df.with_columns(pl.lit(None, pl.Int64).alias(ROW))


def _as_problems(df: pl.DataFrame, table: str = "problems") -> list[Problem]:
    return [
        Problem(table, r, column, expected, found)
        for r, column, expected, found in df.select(
            ROW, "_column", "_expected", "_found"
        ).iter_rows()
    ]


def _list_text(values: pl.Expr, sep: str = "；") -> pl.Expr:
    return values.sort().str.join(sep)


def _blank(text: pl.Expr) -> pl.Expr:
    return text.is_null() | (text.str.strip_chars().str.len_chars() == 0)


PROBLEM_DTYPES: dict[str, type[pl.DataType]] = {
    "problem_id": pl.String,
    "raised_date": pl.Date,
    "team_id": pl.String,
    "level": pl.String,
    "city_name": pl.String,
    "county_code": pl.String,
    "village_code": pl.String,
    "content_item": pl.String,
    "description": pl.String,
    "evidence": pl.String,
    "needs_review": pl.Boolean,
    "review_date": pl.Date,
    "review_outcome": pl.String,
    "suggestion": pl.String,
}


# --------------------------------------------------------------- candidates

_CANDIDATE_KEYS = ("county_code", "rule", "description", "evidence")


def _indicator_candidates(indicators: pl.DataFrame, plan: Plan) -> list[pl.DataFrame]:
    conf = f"{plan.indicators.confidence * 100:g}%置信区间"
    bounds: dict[str, Bound] = {str(k): b for k, b in plan.indicators.thresholds.items()}
    out: list[pl.DataFrame] = []
    for rate, (name, unit, counts) in INDICATOR_TEXT.items():
        cols = [rate, f"{rate}_n"]
        if rate in bounds:
            cols += [f"{rate}_est", f"{rate}_low", f"{rate}_high", f"{rate}_status"]
        require_columns(indicators, "county_indicators", ["county_code", *cols])
        r, n = pl.col(rate), pl.col(f"{rate}_n")
        k = (r * n).round(0).cast(pl.Int64)
        sample = pl.format(
            f"{name}为{{}}（抽样{{}}{unit}，其中{{}}{unit}{counts}）", percent_text(r), n, k
        )
        evidence = pl.format(
            f"依据入户调查数据计算的县级指标（county_indicators：{rate}={{}}，{rate}_n={{}}）",
            r.round(4),
            n,
        )
        bound = bounds.get(rate)
        if bound is None:
            hits = indicators.filter(r > 0).with_columns(
                description=pl.concat_str(sample, pl.lit("。"))
            )
        else:
            if bound.max is not None:
                side_fail, side_pass, limit = "超过", "未超过", bound.max
            else:
                side_fail, side_pass, limit = "低于", "达到", float(bound.min or 0.0)
            std = f"{limit * 100:g}%的标准"

            def pct(c: str) -> pl.Expr:
                return percent_text(pl.col(c)).fill_null("—")

            interval = pl.format(f"{conf}{{}}—{{}}", pct(f"{rate}_low"), pct(f"{rate}_high"))
            fail = pl.format(
                f"{{}}，{side_fail}{std}；设计加权估计{{}}，{{}}。",
                sample,
                pct(f"{rate}_est"),
                interval,
            )
            risk = pl.format(
                f"{{}}，{side_pass}{std}，但{{}}跨越标准线，存在不达标风险；设计加权估计{{}}。",
                sample,
                interval,
                pct(f"{rate}_est"),
            )
            status = pl.col(f"{rate}_status")
            hits = indicators.filter(status.is_in(["fail", "at_risk"])).with_columns(
                description=pl.when(status == "fail").then(fail).otherwise(risk)
            )
        out.append(
            hits.select(
                "county_code",
                pl.lit(rate).alias("rule"),
                "description",
                evidence.alias("evidence"),
            )
        )
    return out


def _cross_check_candidates(checks: CrossChecks, plan: Plan) -> list[pl.DataFrame]:
    rules = plan.consistency
    out: list[pl.DataFrame] = []
    # helper_claims (C4): helpers whose claims disagree beyond the plan's share.
    h = checks.helpers.filter(pl.col("checked") > 0)
    bad = pl.col("mismatch_flagged")
    out.append(
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
                f"访谈帮扶责任人{{}}人，其中{{}}人对所帮扶户家庭人口、收入或“两不愁三保障”情况的"
                f"陈述与入户调查不符的比例超过{rules.helper_mismatch_max * 100:g}%"
                f"（合计比对{{}}项，不符{{}}项）。",
                "n",
                "bad",
                "checked",
                "mismatches",
            ).alias("description"),
            pl.format("帮扶责任人{}；明细见比对清单。", "who").alias("evidence"),
        )
    )
    # helper_awareness (C9): the county's households that do not know their helper.
    unaware = checks.helpers.filter(pl.col("households_not_knowing") > 0)
    who = unaware.group_by("county_code").agg(
        who=_list_text(pl.format("{}（{}户不知晓）", "helper_id", "households_not_knowing"), "、")
    )
    out.append(
        checks.rates.filter((pl.col("unit") == "county") & (pl.col("awareness_ok") == False))  # noqa: E712
        .join(who, on="county_code", how="left")
        .select(
            "county_code",
            pl.lit("helper_awareness").alias("rule"),
            pl.format(
                f"入户调查建档立卡户{{}}户中{{}}户不知晓本户帮扶责任人，知晓率{{}}，"
                f"低于{rules.helper_awareness_min * 100:g}%。",
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
    # village_claims (C1): village cadres' claims contradicted by the households.
    label = pl.col("item").replace_strict(ITEM_LABELS, default=pl.col("item"))
    refs = checks.discrepancies.filter(pl.col("kind") == "village_claim").select(
        "county_code", "village_code", "item", "reference"
    )
    v = checks.villages.filter(pl.col("flagged")).join(
        refs, on=["county_code", "village_code", "item"], how="left", nulls_equal=True
    )
    out.append(
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
    # projects (C6) and paired cooperation projects (P5 funds, P2 beneficiaries).
    prefs = (
        checks.discrepancies.filter(pl.col("kind") == "project")
        .group_by("subject")
        .agg(
            refs=_list_text(
                pl.format("{}登记{}、核查{}（{}）", "item_label", "recorded", "found", "reference"),
                "，",
            )
        )
        .rename({"subject": "project_id"})
    )
    p = checks.projects.join(prefs, on="project_id", how="left")
    funds = (
        pl.col("funds_overspent") | pl.col("spent_but_not_started") | pl.col("spent_but_abandoned")
    )
    groups: list[tuple[str, pl.Expr, pl.Expr, list[tuple[str, str]]]] = [
        (
            "projects",
            pl.col("level") != "paired",
            pl.col("any_discrepancy"),
            [
                ("funds_overspent", "资金支出超过项目资金规模"),
                ("spent_but_not_started", "已支出资金但项目未开工"),
                ("spent_but_abandoned", "已支出资金但项目已停工"),
                ("beneficiaries_short", "核实受益户少于抽查户数"),
            ],
        ),
        (
            "paired_funds",
            pl.col("level") == "paired",
            funds,
            [
                ("funds_overspent", "资金支出超过项目资金规模"),
                ("spent_but_not_started", "已支出资金但项目未开工"),
                ("spent_but_abandoned", "已支出资金但项目已停工"),
            ],
        ),
        (
            "paired_beneficiaries",
            pl.col("level") == "paired",
            pl.col("beneficiaries_short"),
            [("beneficiaries_short", "核实受益户少于抽查户数")],
        ),
    ]
    for rule, scope, hit, flags in groups:
        what = "结对合作项目" if rule.startswith("paired") else "项目"
        parts = pl.concat_list(
            [
                pl.when(pl.col(f) > 0).then(pl.format(f"{text}{{}}个", pl.col(f)))
                for f, text in flags
            ]
        ).list.drop_nulls()
        out.append(
            p.filter(scope & pl.col("checked"))
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
    return out


def candidate_problems(
    indicators: pl.DataFrame | None,
    checks: CrossChecks | None,
    counties: pl.DataFrame,
    plan: Plan,
    raised: dt.date | None = None,
) -> pl.DataFrame:
    """Problems proposed by the system from the indicators and the cross-checks.

    Parameters
    ----------
    indicators
        County indicators (DESIGN.md, "Indicators"): ``county_code`` and, for
        each rate R, ``R, R_n`` (and ``R_est, R_low, R_high, R_status`` for the
        rates with a plan threshold). ``None`` for none.
    checks
        The cross-checks (:func:`xkaohe.consistency.cross_check`), or ``None``.
    counties
        The frame's counties: ``county_code, city_name``.
    plan
        The plan: thresholds, content items, and ``timeline.field_end``.
    raised
        The date the problems are raised; the field week's last day by default.

    Returns
    -------
    pl.DataFrame
        The columns of the problems table (``problem_id`` like
        ``AUTO-<county>-01``, level ``county``, ``needs_review`` true,
        ``review_outcome`` pending, Chinese ``description``, ``evidence`` and
        ``suggestion``) plus ``source`` (indicator | cross_check) and ``rule``
        (see the module docstring). Numbered per county in rule order.

    Raises
    ------
    InputError
        When a county of the indicators or cross-checks is not in ``counties``.
    PlanError
        When the plan lacks a content item the rules use.
    """
    _check_rule_items(plan)
    require_columns(counties, "counties", ("county_code", "city_name"))
    parts: list[pl.DataFrame] = []
    if indicators is not None:
        parts += _indicator_candidates(indicators, plan)
    if checks is not None:
        parts += _cross_check_candidates(checks, plan)
    schema = dict.fromkeys(_CANDIDATE_KEYS, pl.String)
    found = pl.concat(
        [
            pl.DataFrame(schema=schema),
            *[p.select([pl.col(c).cast(pl.String) for c in schema]) for p in parts],
        ]
    )
    unknown = found.join(counties, on="county_code", how="anti")["county_code"].unique().sort()
    if unknown.len():
        raise InputError(
            Problem(
                "counties",
                None,
                "county_code",
                "every county of the indicators and cross-checks",
                f"no row for {', '.join(str(c) for c in unknown.to_list())}",
            )
        )
    order = {r: i for i, r in enumerate(RULE_ITEMS)}
    when = raised or plan.timeline.field_end
    return (
        found.with_columns(_k=pl.col("rule").replace_strict(order, return_dtype=pl.Int64))
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
            pl.col("rule").replace_strict(RULE_ITEMS, return_dtype=pl.String).alias("content_item"),
            "description",
            "evidence",
            pl.lit(True).alias("needs_review"),
            pl.lit(None, pl.Date).alias("review_date"),
            pl.lit("pending").alias("review_outcome"),
            pl.col("rule").replace_strict(SUGGESTIONS, return_dtype=pl.String).alias("suggestion"),
            pl.when(pl.col("rule").is_in(list(INDICATOR_TEXT)))
            .then(pl.lit("indicator"))
            .otherwise(pl.lit("cross_check"))
            .alias("source"),
            "rule",
        )
    )


# ------------------------------------------------------------------- review


def review_status(problems: pl.DataFrame, plan: Plan, as_of: dt.date) -> pl.DataFrame:
    """Where each problem stands in the daily review (五(六)).

    Parameters
    ----------
    problems
        Problems with ``raised_date, needs_review, review_date,
        review_outcome`` (null outcome reads as pending; null
        ``needs_review`` as true).
    plan
        The plan; ``review.days_to_review`` sets the due day.
    as_of
        The day the status is taken.

    Returns
    -------
    pl.DataFrame
        ``problems`` plus ``review_due`` (``raised_date + days_to_review`` when
        the problem needs review), ``review_state`` (``not_needed``;
        ``on_time``: confirmed or dismissed on or before the due day;
        ``late``: after it; ``overdue``: not reviewed and ``as_of`` past the
        due day; ``pending``: not reviewed, not yet overdue), ``confirmed``
        (confirmed by review, or not needing review and not dismissed) and
        ``in_report`` (false for dismissed problems, which stay in the table).

    Raises
    ------
    InputError
        For every row with a review outcome but no review date, a review date
        before the raised date, or an unknown outcome; all at once.
    """
    require_columns(
        problems,
        "problems",
        ("problem_id", "raised_date", "needs_review", "review_date", "review_outcome"),
    )
    days = plan.review.days_to_review
    outcome = pl.col("review_outcome").fill_null("pending")
    reviewed = outcome.is_in(["confirmed", "dismissed"])
    df = _with_row(problems).with_columns(pl.col("needs_review").fill_null(True), _outcome=outcome)
    bad = pl.concat(
        [
            df.filter(~pl.col("_outcome").is_in(["pending", "confirmed", "dismissed"])).select(
                ROW,
                _column=pl.lit("review_outcome"),
                _expected=pl.lit("pending, confirmed or dismissed"),
                _found=pl.format("'{}'", "_outcome"),
            ),
            df.filter(reviewed & pl.col("review_date").is_null()).select(
                ROW,
                _column=pl.lit("review_date"),
                _expected=pl.lit("the date of the review that gave the outcome"),
                _found=pl.format("outcome '{}' and no date (problem {})", "_outcome", "problem_id"),
            ),
            df.filter(pl.col("review_date") < pl.col("raised_date")).select(
                ROW,
                _column=pl.lit("review_date"),
                _expected=pl.lit("a date on or after raised_date"),
                _found=pl.format(
                    "{} before {} (problem {})", "review_date", "raised_date", "problem_id"
                ),
            ),
        ]
    ).sort(ROW, nulls_last=True)
    if bad.height:
        raise InputError(_as_problems(bad))
    due = pl.col("review_due")
    state = (
        pl.when(~pl.col("needs_review"))
        .then(pl.lit("not_needed"))
        .when(reviewed & (pl.col("review_date") <= due))
        .then(pl.lit("on_time"))
        .when(reviewed)
        .then(pl.lit("late"))
        .when(pl.lit(as_of, pl.Date) > due)
        .then(pl.lit("overdue"))
        .otherwise(pl.lit("pending"))
    )
    out = df.with_columns(
        review_due=pl.when(pl.col("needs_review")).then(
            pl.col("raised_date") + pl.duration(days=days)
        )
    ).with_columns(
        review_state=state,
        confirmed=(outcome == "confirmed") | (~pl.col("needs_review") & (outcome != "dismissed")),
        in_report=outcome != "dismissed",
    )
    return out.drop("_outcome") if ROW in problems.columns else out.drop("_outcome", ROW)


# ----------------------------------------------------------------- findings


def merge_findings(
    team_problems: pl.DataFrame,
    candidates: pl.DataFrame,
    plan: Plan,
    as_of: dt.date,
    systemic: Systemic | None = None,
) -> pl.DataFrame:
    """The findings table: the teams' problems and the system's candidates.

    Parameters
    ----------
    team_problems
        The problems table as the teams entered it (``_row`` optional).
    candidates
        The output of :func:`candidate_problems`.
    plan
        The plan: content items, ``review.days_to_review``.
    as_of
        The day the review status is taken.
    systemic
        When an item is systemic; by default the plan's ``reports.systemic``.

    Returns
    -------
    pl.DataFrame
        The problems columns plus ``source`` (team | indicator | cross_check),
        ``rule`` (null for team problems), ``covered_by`` (the team problem a
        candidate duplicates), the columns of :func:`review_status`
        (``in_report`` also false for covered candidates), ``scope``
        (systemic | case) and ``_row`` (the team's row; null for candidates).
        Sorted by county (city-level problems first), source, problem id.

    Raises
    ------
    InputError
        For team problems whose content item is not one of the plan's, whose
        id repeats, or whose review fields are inconsistent; all at once.
    """
    rule = systemic or plan.reports.systemic
    require_columns(team_problems, "problems", PROBLEM_COLUMNS)
    team = _with_row(team_problems)
    codes = sorted(plan.content.codes)
    bad = pl.concat(
        [
            team.filter(~pl.col("content_item").is_in(codes)).select(
                ROW,
                _column=pl.lit("content_item [考核内容]"),
                _expected=pl.lit(f"an item code of the plan ({', '.join(codes)})"),
                _found=pl.format("'{}' (problem {})", "content_item", "problem_id"),
            ),
            team.filter(pl.len().over("problem_id") > 1).select(
                ROW,
                _column=pl.lit("problem_id [问题编号]"),
                _expected=pl.lit("a problem id used once"),
                _found=pl.format("'{}' more than once", "problem_id"),
            ),
        ]
    ).sort(ROW, nulls_last=True)
    if bad.height:
        raise InputError(_as_problems(bad))
    cast = [pl.col(c).cast(t) for c, t in PROBLEM_DTYPES.items()]
    team = team.select(
        *cast,
        pl.lit("team").alias("source"),
        pl.lit(None, pl.String).alias("rule"),
        pl.lit(None, pl.String).alias("covered_by"),
        ROW,
    )
    cover = (
        team.filter(
            pl.col("county_code").is_not_null()
            & (pl.col("review_outcome").fill_null("pending") != "dismissed")
        )
        .group_by("county_code", "content_item")
        .agg(covered_by=pl.col("problem_id").min())
    )
    cand = (
        candidates.select(*cast, pl.col("source").cast(pl.String), pl.col("rule").cast(pl.String))
        .join(cover, on=["county_code", "content_item"], how="left")
        .with_columns(pl.lit(None, pl.Int64).alias(ROW))
    )
    merged = review_status(pl.concat([team, cand]), plan, as_of).with_columns(
        in_report=pl.col("in_report") & pl.col("covered_by").is_null(),
        # A candidate nobody has reviewed is the system's proposal to the team,
        # not a review the team let slip: it is never "overdue".
        review_state=pl.when(
            (pl.col("source") != "team") & pl.col("review_state").is_in(["pending", "overdue"])
        )
        .then(pl.lit("proposed"))
        .otherwise(pl.col("review_state")),
    )
    counted = (
        merged.filter(
            pl.col("confirmed") & pl.col("in_report") & pl.col("county_code").is_not_null()
        )
        .select("city_name", "county_code", "content_item")
        .unique()
    )
    province = counted.group_by("content_item").agg(_np=pl.col("county_code").n_unique())
    city = counted.group_by("city_name", "content_item").agg(_nc=pl.col("county_code").n_unique())
    src = {s: i for i, s in enumerate(SOURCES)}
    return (
        merged.join(province, on="content_item", how="left")
        .join(city, on=["city_name", "content_item"], how="left", nulls_equal=True)
        .with_columns(
            scope=pl.when(
                (pl.col("_np").fill_null(0) >= rule.province_counties)
                | (pl.col("_nc").fill_null(0) >= rule.city_counties)
            )
            .then(pl.lit("systemic"))
            .otherwise(pl.lit("case")),
            _s=pl.col("source").replace_strict(src, return_dtype=pl.Int64),
        )
        .sort("county_code", "_s", "problem_id", nulls_last=False)
        .drop("_np", "_nc", "_s")
        .select(pl.exclude(ROW), ROW)
    )


# ------------------------------------------------------------- completeness


def completeness(
    findings: pl.DataFrame,
    experiences: pl.DataFrame,
    counties: pl.DataFrame,
    plan: Plan,
) -> pl.DataFrame:
    """Whether each county and city report has what plan 五 asks for.

    A county's report counts the findings and experiences with its
    ``county_code``; a city's report those of its city with no county code
    (its own city-level work). Pairing findings (plan 三(二) items, the
    ``content.pairing`` codes) belong to the separate pairing report and are
    not counted. Only confirmed findings still in the report count.

    Parameters
    ----------
    findings
        The output of :func:`merge_findings`.
    experiences
        The experiences table: ``city_name, county_code``.
    counties
        The frame's counties: ``county_code, county_name, city_name``; the
        units checked are these counties and their cities.
    plan
        The plan; ``plan.reports`` holds the rules.

    Returns
    -------
    pl.DataFrame
        ``unit`` (city | county), ``code`` (county code; the city name for a
        city), ``name``, ``city_name``, ``experiences``, ``problems``
        (confirmed, in report), ``problems_with_suggestion``,
        ``experiences_ok`` (min <= experiences <= max), ``problems_ok``
        (problems >= problems_min), ``suggestions_ok`` (every counted problem
        has a suggestion, when suggestions are required), ``ok`` and
        ``shortfall`` (what is missing, in Chinese; null when ok). Each city
        comes before its counties.
    """
    require_columns(
        findings,
        "findings",
        ("city_name", "county_code", "content_item", "suggestion", "confirmed", "in_report"),
    )
    require_columns(experiences, "experiences", ("city_name", "county_code"))
    require_columns(counties, "counties", ("county_code", "county_name", "city_name"))
    rules = plan.reports
    pairing = [it.code for it in plan.content.pairing]
    counted = findings.filter(
        pl.col("confirmed") & pl.col("in_report") & ~pl.col("content_item").is_in(pairing)
    ).with_columns(_sugg=~_blank(pl.col("suggestion")))
    units = pl.concat(
        [
            counties.select(
                pl.lit("city").alias("unit"),
                pl.col("city_name").alias("code"),
                pl.col("city_name").alias("name"),
                "city_name",
            ).unique(),
            counties.select(
                pl.lit("county").alias("unit"),
                pl.col("county_code").alias("code"),
                pl.col("county_name").alias("name"),
                "city_name",
            ),
        ]
    )

    def key(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(
            unit=pl.when(pl.col("county_code").is_null())
            .then(pl.lit("city"))
            .otherwise(pl.lit("county")),
            code=pl.coalesce("county_code", "city_name"),
        )

    exp = key(experiences).group_by("unit", "code").agg(experiences=pl.len().cast(pl.Int64))
    prob = (
        key(counted)
        .group_by("unit", "code")
        .agg(
            problems=pl.len().cast(pl.Int64),
            problems_with_suggestion=pl.col("_sugg").sum().cast(pl.Int64),
        )
    )
    lo, hi, pmin = rules.experiences.min, rules.experiences.max, rules.problems_min
    n_exp, n_prob = pl.col("experiences"), pl.col("problems")
    missing = n_prob - pl.col("problems_with_suggestion")
    out = (
        units.join(exp, on=["unit", "code"], how="left")
        .join(prob, on=["unit", "code"], how="left")
        .with_columns(
            [
                pl.col(c).fill_null(0)
                for c in ("experiences", "problems", "problems_with_suggestion")
            ]
        )
        .with_columns(
            experiences_ok=(n_exp >= lo) & (n_exp <= hi),
            problems_ok=n_prob >= pmin,
            suggestions_ok=pl.lit(not rules.suggestion_required) | (missing == 0),
        )
        .with_columns(
            ok=pl.col("experiences_ok") & pl.col("problems_ok") & pl.col("suggestions_ok")
        )
    )
    parts = pl.concat_list(
        pl.when(n_exp < lo).then(pl.format(f"典型经验{{}}条，少于{lo}条", n_exp)),
        pl.when(n_exp > hi).then(pl.format(f"典型经验{{}}条，多于{hi}条", n_exp)),
        pl.when(~pl.col("problems_ok")).then(
            pl.format(f"已确认的突出问题{{}}个，少于{pmin}个", n_prob)
        ),
        pl.when(~pl.col("suggestions_ok")).then(pl.format("{}个问题缺少意见建议", missing)),
    ).list.drop_nulls()
    return (
        out.with_columns(
            shortfall=pl.when(~pl.col("ok")).then(parts.list.join("；")),
            _u=(pl.col("unit") == "county").cast(pl.Int8),
        )
        .sort("city_name", "_u", "code")
        .select(
            "unit",
            "code",
            "name",
            "city_name",
            "experiences",
            "problems",
            "problems_with_suggestion",
            "experiences_ok",
            "problems_ok",
            "suggestions_ok",
            "ok",
            "shortfall",
        )
    )


def feedback_findings(findings: pl.DataFrame, city_name: str) -> pl.DataFrame:
    """What is fed back to one city (七(二)): its and its counties' reported findings.

    Parameters
    ----------
    findings
        The output of :func:`merge_findings`.
    city_name
        The city.

    Returns
    -------
    pl.DataFrame
        The city's findings that are confirmed and in the report, in the
        problems columns plus ``scope``; no other city's rows.
    """
    return findings.filter(
        (pl.col("city_name") == city_name) & pl.col("confirmed") & pl.col("in_report")
    ).select(*PROBLEM_COLUMNS, "scope")


__all__ = [
    "RULE_ITEMS",
    "SUGGESTIONS",
    "candidate_problems",
    "completeness",
    "feedback_findings",
    "merge_findings",
    "review_status",
]
