"""What ``notebooks/county_report.ipynb`` shows: one county's results (plan 三(一)1, 五).

The typical structure of DOMAIN.md, "Reports": the sample achieved, the rates
(三率一度 and 错评) with their intervals and stored statuses, 两不愁三保障
item by item, identification and exit (精准识别、精准退出), the cross-checks
(五(一)(二)(三)(五) 比对: the claims of ``claim_checks``, through the comparison
view's loader and tables, :mod:`xkaohe.report.compare`), the projects, the
problems with evidence, the typical experiences, whether the report has what
plan 五 asks for, and the focus of the county's category (三(一)1: its
documented facts as checked, the stored pace of ``county_focus``) with the
county's stored verdict.

Nothing here decides: every status, verdict, review state and
classification is read from the results store (:func:`xkaohe.report.kit.load_results`
loads the county's slice, masked) and worded through :mod:`xkaohe.codes`.
The problem, project, discrepancy and experience tables are shared with the
pairing, city and provincial reports, which import them from here. Why one
module of ~850 lines: one notebook, one module (issue 9), and the shared tables
in one place rather than in a second module every report imports.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from xkaohe import codes
from xkaohe.analyse.indicators import ITEMS
from xkaohe.plan import ContentItem, Plan
from xkaohe.report.compare import Comparison
from xkaohe.report.figures import interval_chart, rate_chart
from xkaohe.report.kit import (
    DASH,
    Results,
    box,
    claim_value,
    confidence_text,
    county_types,
    esc,
    heading,
    interval_expr,
    item_labels,
    percent,
    percent_expr,
    planned_totals,
    review_text,
    standard_expr,
    status_cell,
    table_html,
    village_plan_text,
    wan,
    yes,
)

FOCUS_CLASSES = ("wrong_exit", "omission", "wrong_inclusion", "relapse")
"""The household classes the identification and exit section lists (精准识别、精准退出)."""


# ------------------------------------------------------------------ heading and verdict


def verdict_line(county: dict[str, Any]) -> str:
    """The county's stored verdict in its scope's wording (HTML, with the codes as data)."""
    verdict, scope = county.get("verdict"), county.get("scope")
    return (
        f'<p class="xk-verdict" data-county="{esc(county["county_code"])}" '
        f'data-verdict="{esc(verdict or "")}">三率一度结论（'
        f"{esc(codes.VERDICT_SCOPE.label(scope or 'reference', short=True))}）："
        f"<b>{esc(codes.verdict_label(verdict, scope))}</b></p>"
    )


def county_heading(r: Results) -> str:
    """Name, city, category and its focus, pairing, the teams and the verdict (HTML)."""
    c = r.county
    national = "，国家级贫困县" if c["national_poverty_county"] else ""
    paired = (
        f"<p>县域结对帮扶：由<b>{esc(c['paired_helper_county'])}</b>结对帮扶"
        "（结对帮扶情况另见结对帮扶考核报告）</p>"
        if c["paired_helper_county"]
        else ""
    )
    teams = sorted(r.households["team_id"].drop_nulls().unique().to_list())
    team_line = f"<p>考核组：{esc('、'.join(teams))}</p>" if teams else ""
    return heading(c, r.plan, national) + paired + team_line + verdict_line(c)


def verdict_sentence(county: dict[str, Any], rates: pl.DataFrame) -> str:
    """What the stored verdict says, in words a reader can act on.

    For a county whose thresholds are its exit standard the verdict is about
    exit; for any other the thresholds are a reference line and nothing here
    calls the county 未达标 or 需重点整改 on the rates alone (plan 八(二)).
    """
    verdict, scope = county.get("verdict"), county.get("scope")
    failing = [codes.RATE.label(r) for r in (county.get("failing") or "").split(";") if r]
    judged = rates.filter(pl.col("side").is_not_null())
    empty = judged.filter(pl.col("status") == "no_data")["label"].to_list()
    exit_standard = scope == "exit_standard"
    if verdict == "fail":
        if exit_standard:
            return "、".join(failing) + "的抽样比率超出标准，未达到贫困县退出标准。"
        return (
            "、".join(failing)
            + "的抽样比率超出参考线。本县不是今年拟摘帽县，参考线不作为达标判断，"
            "应结合具体户的情况核实。"
        )
    if verdict == "no_data":
        return "、".join(empty) + "没有调查样本，无法判断。"
    if verdict == "pass":
        return f"{judged.height}项指标的置信区间均在" + (
            "标准以内，达到贫困县退出标准。" if exit_standard else "参考线以内。"
        )
    if verdict == "not_found":
        line = "退出标准" if exit_standard else "参考线"
        return (
            f"{judged.height}项指标均未发现超出{line}，但样本量不足以确认"
            + ("达到退出标准" if exit_standard else "全部优于参考线")
            + "（各指标的检出限见上表）。"
        )
    return "结果库中没有本县的结论。"


# ------------------------------------------------------------------ sample


def sample_table(r: Results) -> pl.DataFrame:
    """Villages and households: planned by the plan, drawn in the sample, surveyed.

    "Planned" is the stored ``sample_plan`` (the county's own rule of the plan,
    village types included; household quotas of the villages drawn). Household
    categories are the quota each household fills (``selected_as``); statuses
    covered in full show how many the frame lists, the villager-group census
    has no plan, and general households are chosen on site.
    """
    hh, surveyed = r.sample_households, r.households
    planned = planned_totals(r.sample_plan)
    households = planned.filter(pl.col("kind") == "households")
    rows: list[tuple[str, str, str, int]] = [
        (
            "抽样村",
            village_plan_text(r.sample_plan),
            str(r.sample_villages.height),
            surveyed["village_code"].n_unique(),
        )
    ]
    quota = 0
    for status, basis, n in households.select("category", "basis", "planned").iter_rows():
        full = basis == "full_coverage"
        quota += 0 if full else n
        rows.append(
            (
                codes.SAMPLE_CATEGORY.label(status),
                f"全覆盖（{n}户）" if full else str(n),
                str(hh.filter(pl.col("selected_as") == status).height),
                surveyed.filter(pl.col("selected_as") == status).height,
            )
        )
    rows.append(
        (
            codes.SAMPLE_CATEGORY.label("group_census"),
            "全覆盖",
            str(hh.filter(pl.col("selected_as") == "group_census").height),
            surveyed.filter(pl.col("selected_as") == "group_census").height,
        )
    )
    general = int(planned.filter(pl.col("kind") == "general")["planned"].sum())
    rows += [
        (
            "一般农户",
            f"{general}（每村{r.plan.sampling.households.general_per_village}户）",
            "现场随机",
            surveyed.filter(~pl.col("registered")).height,
        ),
        (
            "调查户合计",
            f"{quota + general}（另加全覆盖户）",
            f"{hh.height}（不含一般农户）",
            surveyed.height,
        ),
    ]
    return pl.DataFrame(rows, schema=["类别", "计划", "抽取", "实际调查"], orient="row")


# ------------------------------------------------------------------ rates and items


def rate_table(rates: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """The rates (:func:`xkaohe.report.kit.rate_rows`) with Chinese headers and stored statuses."""
    limit = standard_expr(pl.col("side"), pl.col("threshold"))
    reference = pl.col("side").is_not_null() & (pl.col("scope") != "exit_standard").fill_null(True)
    sample = pl.when(pl.col("insufficient")).then(pl.lit("（样本不足）")).otherwise(pl.lit(""))
    return rates.select(
        pl.col("label").alias("指标"),
        percent_expr(pl.col("ratio")).alias("抽样比率（官方口径）"),
        percent_expr(pl.col("est")).alias("设计加权估计"),
        pl.concat_str(interval_expr(pl.col("low"), pl.col("high")), sample).alias(
            f"{confidence_text(plan.indicators.confidence)}置信区间"
        ),
        pl.format("{}{}", pl.col("n").fill_null(0), pl.col("unit")).alias("分母"),
        pl.when(reference)
        .then(pl.concat_str(pl.lit("参考线"), limit))
        .otherwise(limit)
        .alias("标准"),
        status_cell().alias("状态"),
    )


def status_note(r: Results) -> str:
    """What the statuses mean for this county (HTML)."""
    conf = confidence_text(r.plan.indicators.confidence)
    power = percent(r.plan.indicators.detection_power)
    common = (
        f"“未发现超标”指抽样比率没有超出{{line}}，但{conf}置信区间跨越{{line}}，样本量不足以确认；"
        f"括号中的检出限是本县样本有{power}把握发现超标的真实比率，比它小的超标可能发现不了。"
        "错评率方案未设标准，只作为识别问题的线索。"
    )
    if r.county.get("scope") == "exit_standard":
        return (
            "<p><b>状态说明：</b>本县是今年拟摘帽县，三率一度的标准就是贫困县退出标准。"
            f"“未达标”指抽样比率本身超出标准；“达标”指{conf}置信区间整体在标准以内；"
            + common.format(line="标准")
            + "</p>"
        )
    return (
        "<p><b>状态说明：</b>本县不是今年拟摘帽县，三率一度的标准只是参考线，不据此判定本县达标与否"
        "（方案八(二)：防止超标准超范围考核）。“超出参考线”指抽样比率超出参考线；"
        f"“优于参考线”指{conf}置信区间整体在参考线以内；" + common.format(line="参考线") + "</p>"
    )


def item_table(items: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """两不愁三保障 and water item by item, then income, helper awareness and approval."""
    return sorted_items(items).select(
        codes.SURVEY_ITEM.expr(pl.col("item")).alias("项目"),
        percent_expr(pl.col("rate")).alias("抽样比例"),
        percent_expr(pl.col("est")).alias("设计加权估计"),
        interval_expr(pl.col("low"), pl.col("high")).alias(
            f"{confidence_text(plan.indicators.confidence)}置信区间"
        ),
        pl.col("n").alias("调查户数"),
        pl.when(pl.col("item") == "approves")
        .then(pl.lit("全部调查户"))
        .otherwise(pl.lit("建档立卡户"))
        .alias("口径"),
    )


def sorted_items(items: pl.DataFrame) -> pl.DataFrame:
    """``county_items`` in the registry's order."""
    return items.sort(codes.SURVEY_ITEM.rank(pl.col("item")))


# ------------------------------------------------------------------ identification and exit


def classification_table(households: pl.DataFrame) -> pl.DataFrame:
    """Households and persons in each class of :data:`FOCUS_CLASSES`, with what it means."""
    rows = [
        (
            codes.HOUSEHOLD_CLASS.label(c),
            int(households[c].sum()),
            int(households.filter(pl.col(c))["household_size"].sum()),
            codes.HOUSEHOLD_CLASS.get(c).description,
        )
        for c in FOCUS_CLASSES
    ]
    return pl.DataFrame(rows, schema=["类别", "户数", "人数", "认定口径"], orient="row")


def shortfalls() -> pl.Expr:
    """Which of income and 两不愁三保障 a household falls short of, in Chinese."""
    parts = [
        pl.when(~pl.col(c).fill_null(True)).then(pl.lit(codes.SURVEY_ITEM.label(c, short=True)))
        for c in ("income_ok", *ITEMS)
    ]
    return pl.concat_list(parts).list.drop_nulls().list.join("、")


def household_type() -> pl.Expr:
    """A surveyed household's type: its registry status, or 一般农户."""
    return (
        pl.when(pl.col("registered"))
        .then(codes.HOUSEHOLD_STATUS.expr(pl.col("frame_status")))
        .otherwise(pl.lit("一般农户"))
    )


def flagged_households(households: pl.DataFrame) -> pl.DataFrame:
    """The households of :data:`FOCUS_CLASSES` (masked): which class, where, what fails."""
    classes = pl.concat_list(
        [pl.when(pl.col(c)).then(pl.lit(codes.HOUSEHOLD_CLASS.label(c))) for c in FOCUS_CLASSES]
    ).list.drop_nulls()
    hit = households.filter(pl.any_horizontal([pl.col(c).fill_null(False) for c in FOCUS_CLASSES]))
    return hit.sort("village_code", "household_id").select(
        classes.list.join("、").alias("类别"),
        pl.col("village_name").fill_null(pl.col("village_code")).alias("村"),
        pl.col("household_id").alias("户编号"),
        pl.col("head_name").fill_null(DASH).alias("户主"),
        pl.col("phone").fill_null(DASH).alias("联系电话"),
        household_type().alias("户类型"),
        pl.col("household_size").alias("人口"),
        pl.col("income_per_capita_yuan").round(0).cast(pl.Int64).alias("人均纯收入（元）"),
        shortfalls().alias("未达标项"),
        yes(pl.col("ineligible_evidence"), "有").alias("错评线索"),
    )


# ------------------------------------------------------------------ cross-checks


def _county_check(r: Results) -> dict[str, Any] | None:
    row = r.check_rates.filter(pl.col("unit") == "county")
    return row.row(0, named=True) if row.height else None


def helper_awareness_line(r: Results) -> str:
    """How many registered households know their helper, against the plan's line (text)."""
    c = _county_check(r)
    if c is None or not c["registered_asked"]:
        return "没有建档立卡户知晓帮扶责任人的调查数据。"
    return (
        f"建档立卡户知晓本户帮扶责任人{c['knows_helper']}/{c['registered_asked']}户"
        f"（{percent(c['helper_awareness'])}；标准{percent(r.plan.consistency.helper_awareness_min)}）。"
    )


def cross_check_summary(r: Results, c: Comparison) -> str:
    """What was compared and how much disagreed, from ``claim_checks`` (HTML).

    ``c`` is the county's comparison (:func:`xkaohe.report.compare.load_comparison`:
    its own claims and its city's), the same the comparison notebook shows.
    """
    if c.checks.height == 0:
        return f"<p>本县没有座谈、资料、访谈或自评中的陈述记录。{esc(helper_awareness_line(r))}</p>"
    counts = dict(c.checks.group_by("verdict").len().iter_rows())
    by_level = "；".join(
        f"{codes.INTERVIEW_LEVEL.label(lv)}{n}项" for lv, n in verdict_rows(c.checks).iter_rows()
    )
    verdicts = "、".join(
        f"{codes.CLAIM_VERDICT.label(v, short=True)}{counts.get(v, 0)}项"
        for v in codes.CLAIM_VERDICT.order
    )
    return (
        f"<p>座谈会、查阅资料、干部访谈和自评报告中的陈述共{c.checks.height}项（{esc(by_level)}，"
        f"含本市市级陈述），与入户调查、项目核查和建档立卡数据逐项比对：{esc(verdicts)}。"
        "“无法核实”指样本或考核数据中没有可比对的户、项目或来源，或陈述本身承认存在问题。"
        f"{esc(helper_awareness_line(r))}</p>"
    )


def verdict_rows(checks: pl.DataFrame) -> pl.DataFrame:
    """``level, n``: claims per level, in level order."""
    return (
        checks.group_by("level")
        .len("n")
        .sort(codes.INTERVIEW_LEVEL.rank(pl.col("level")), "level")
        .select("level", "n")
    )


def with_names(df: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """``df`` with its villages' names (the code where the frame has no name)."""
    return df.join(
        names.select("village_code", "village_name"),
        on="village_code",
        how="left",
        maintain_order="left",
    ).with_columns(pl.col("village_name").fill_null(pl.col("village_code").fill_null("")))


def discrepancy_table(discrepancies: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """Every specific contradiction, with the rows of the teams' files that show it."""
    kind = codes.DISCREPANCY_KIND.rank(pl.col("kind"))
    return (
        with_names(discrepancies, names)
        .sort(kind, "village_code", "subject", "item", nulls_last=True)
        .select(
            codes.DISCREPANCY_KIND.expr(pl.col("kind")).alias("类别"),
            pl.col("village_name").alias("村"),
            pl.col("subject").alias("核查对象"),
            pl.col("household_id").fill_null("").alias("户编号"),
            pl.col("item_label").alias("比对事项"),
            pl.col("recorded").alias("陈述或登记"),
            pl.col("found").alias("核实情况"),
            pl.col("reference").alias("数据出处"),
        )
    )


def project_flags() -> pl.Expr:
    """A checked project's findings (资金、进度、受益户), in Chinese."""
    return (
        pl.concat_list(
            [
                pl.when(pl.col(f.code).fill_null(False)).then(pl.lit(f.label))
                for f in codes.PROJECT_FLAG
            ]
        )
        .list.drop_nulls()
        .list.join("；")
    )


def project_table(projects: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """The sampled projects with the team's check and what it found."""
    level = codes.PROJECT_LEVEL.rank(pl.col("level"))
    return (
        with_names(projects, names)
        .sort(level, "village_code", "project_id", nulls_last=False)
        .select(
            codes.PROJECT_LEVEL.expr(pl.col("level"), short=True).alias("层级"),
            pl.col("village_name").alias("村"),
            pl.col("project_id").alias("项目编号"),
            pl.col("name").alias("项目名称"),
            codes.PROJECT_KIND.expr(pl.col("kind")).alias("项目类型"),
            wan(pl.col("funds_yuan")).alias("资金规模（万元）"),
            codes.PROJECT_STATUS.expr(pl.col("check_status")).fill_null("未核查").alias("核查进度"),
            wan(pl.col("funds_spent_yuan")).alias("已支出（万元）"),
            pl.col("beneficiaries_drawn").alias("抽查受益户"),
            pl.col("beneficiaries_confirmed").cast(pl.String).fill_null(DASH).alias("核实受益户"),
            project_flags().alias("发现问题"),
            pl.col("issue").fill_null("").alias("核查记录"),
        )
    )


# ------------------------------------------------------------------ problems


def content_overview(
    findings: pl.DataFrame, items: tuple[ContentItem, ...], with_text: bool = False
) -> pl.DataFrame:
    """The plan's content items one by one, with the reported findings filed under each.

    ``with_text`` also lists the problems' descriptions (for the few city and
    pairing findings).
    """
    shown = findings.filter(pl.col("in_report"))
    rows = []
    for it in items:
        mine = shown.filter(pl.col("content_item") == it.code).sort("problem_id")
        row: dict[str, object] = {"编号": it.code, "考核内容": it.label}
        if it.sub_items:
            row["子项"] = "、".join(it.sub_items)
        row["问题数"] = mine.height
        row["其中共性问题"] = mine.filter(pl.col("scope") == "systemic").height
        row["问题编号"] = "、".join(mine["problem_id"].to_list())
        if with_text:
            row["问题"] = "；".join(mine["description"].to_list()) or "未发现问题"
        rows.append(row)
    return pl.DataFrame(rows)


def problem_summary(findings: pl.DataFrame) -> str:
    """Counts: reported (共性/个性), confirmed, awaiting review, dismissed, merged (HTML)."""
    shown = findings.filter(pl.col("in_report"))
    team = shown.filter(pl.col("source") == "team").height
    systemic = shown.filter(pl.col("scope") == "systemic").height
    return (
        f"<p>列入报告的问题{shown.height}个（{codes.FINDING_SOURCE.label('team')}{team}个，"
        f"系统依据指标和比对核查提示{shown.height - team}个），其中"
        f"{codes.FINDING_SCOPE.label('systemic')}{systemic}个、"
        f"{codes.FINDING_SCOPE.label('case')}{shown.height - systemic}个；"
        f"已确认{shown.filter(pl.col('confirmed')).height}个，其余待复核。"
        f"经复核{codes.REVIEW_OUTCOME.label('dismissed')}、不列入报告的问题"
        f"{findings.filter(pl.col('review_outcome') == 'dismissed').height}个；"
        f"系统提示的问题中有{findings.filter(pl.col('covered_by').is_not_null()).height}个"
        "与考核组同一考核内容的问题重复，已合并，不另列。</p>"
    )


def problem_table(
    findings: pl.DataFrame, plan: Plan, names: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The reported findings in plan item order, with source, review and scope in Chinese.

    ``names`` (``village_code, village_name``) names the village of a village
    or household problem; without it the column shows the village code.
    """
    if names is None:
        names = pl.DataFrame(schema={"village_code": pl.String, "village_name": pl.String})
    labels = item_labels(plan)
    order = {code: i for i, code in enumerate(labels)}
    source = codes.FINDING_SOURCE.expr(pl.col("source"))
    level = codes.PROBLEM_LEVEL.expr(pl.col("level"))
    return (
        with_names(findings.filter(pl.col("in_report")), names)
        .sort(pl.col("content_item").replace_strict(order, default=len(order)), "problem_id")
        .select(
            pl.col("problem_id").alias("编号"),
            pl.col("content_item")
            .replace_strict(labels, default=pl.col("content_item"))
            .alias("考核内容"),
            pl.when(pl.col("village_code").is_null())
            .then(level)
            .otherwise(pl.format("{}（{}）", level, "village_name"))
            .alias("层级"),
            pl.col("description").alias("问题"),
            pl.col("evidence").fill_null("").alias("依据"),
            pl.when(pl.col("team_id").is_not_null() & (pl.col("source") == "team"))
            .then(pl.format("{}（{}）", source, "team_id"))
            .otherwise(source)
            .alias("来源"),
            review_text().alias("复核"),
            codes.FINDING_SCOPE.expr(pl.col("scope")).alias("性质"),
            pl.col("suggestion").fill_null("").alias("意见建议"),
        )
    )


def experience_table(experiences: pl.DataFrame) -> pl.DataFrame:
    """The typical experiences (典型经验), numbered."""
    return (
        experiences.sort("experience_id")
        .with_row_index("序号", offset=1)
        .select(
            pl.col("序号"),
            pl.col("title").alias("经验"),
            pl.col("description").fill_null("").alias("主要做法"),
        )
    )


def completeness_box(completeness: pl.DataFrame, plan: Plan) -> str:
    """Green when the report has what plan 五 asks for, red with the shortfall (HTML).

    ``completeness`` is the unit's row of the results table ``completeness``.
    """
    rules = plan.reports
    ask = (
        f"方案要求：典型经验{rules.experiences.min}—{rules.experiences.max}条，"
        f"突出问题不少于{rules.problems_min}个"
        + ("，每个问题附意见建议" if rules.suggestion_required else "")
        + "。"
    )
    if completeness.height == 0:
        return box("none", "报告要素：无记录", esc(ask))
    c = completeness.row(0, named=True)
    have = (
        f"典型经验{c['experiences']}条；已确认的突出问题{c['problems']}个，"
        f"其中附意见建议{c['problems_with_suggestion']}个。"
    )
    if c["ok"]:
        return box("ok", "报告要素齐全", esc(have + ask))
    return box(
        "bad", f"报告要素不全：{c['shortfall']}", esc(have + ask + "请考核组补充后再提交报告。")
    )


# ------------------------------------------------------------------ category focus


def _remaining_line(households: pl.DataFrame) -> str:
    left = households.filter(pl.col("frame_status") == "not_exited")
    ok = left.filter(pl.col("qualified")).height
    return f"调查未脱贫户{left.height}户，其中{ok}户收入和“两不愁三保障”已达到脱贫标准。"


def _relapse_line(households: pl.DataFrame) -> str:
    back = households.filter(pl.col("frame_status") == "relapsed")
    risk = back.filter(pl.col("relapse")).height
    return f"调查返贫户{back.height}户，其中{risk}户仍未达到标准（返贫风险）。"


def _projects_line(projects: pl.DataFrame) -> str:
    counts = (
        projects.filter(pl.col("checked"))
        .group_by("check_status")
        .len()
        .sort(codes.PROJECT_STATUS.rank(pl.col("check_status")))
    )
    parts = "、".join(f"{codes.PROJECT_STATUS.label(s)}{n}个" for s, n in counts.rows())
    bad = projects.filter(pl.col("any_discrepancy")).height
    return f"抽查项目{projects.height}个（{parts or '均未核查'}），发现资金或受益户问题{bad}个。"


def _rates_line(rates: pl.DataFrame) -> str:
    shown = rates.filter(pl.col("side").is_not_null()).with_columns(
        percent_expr(pl.col("ratio")).alias("_r"), status_cell().alias("_s")
    )
    return "；".join(f"{lab}{r}（{s}）" for lab, r, s in shown.select("label", "_r", "_s").rows())


NO_DATA = "无数据"
"""What the focus table says where no document gave the fact."""


def _facts(r: Results) -> pl.DataFrame:
    """The county's own county-level claims (documents, meetings, self-assessment), in order."""
    code = r.county["county_code"]
    return r.claim_checks.filter(
        (pl.col("county_code") == code)
        & (pl.col("level") == "county")
        & pl.col("household_id").is_null()
        & pl.col("village_code").is_null()
    ).sort("item", "date", "claim_id", nulls_last=True)


def fact_rows(r: Results, *items: str) -> list[tuple[str, str, str, str]]:
    """One row per fact item: (要点, 陈述, 考核核实, 核实结果); 无数据 where nobody claimed it.

    Several claims of one item (a document and a self-assessment) are joined with "；".
    """
    facts = _facts(r)
    rows = []
    for item in items:
        mine = facts.filter(pl.col("item") == item)
        point = codes.CLAIM_ITEM.label(item)
        if mine.height == 0:
            rows.append((point, NO_DATA, DASH, NO_DATA))
            continue
        said = mine.select(
            pl.format(
                "{}（{}）",
                claim_value(pl.col("value")),
                pl.coalesce("document", codes.CLAIM_SOURCE.expr(pl.col("source"))),
            )
        ).to_series()
        verdict = mine.select(
            pl.when(pl.col("reason").is_not_null())
            .then(
                pl.format(
                    "{}：{}",
                    codes.CLAIM_VERDICT.expr(pl.col("verdict"), short=True),
                    codes.CLAIM_REASON.expr(pl.col("reason")),
                )
            )
            .otherwise(codes.CLAIM_VERDICT.expr(pl.col("verdict"), short=True))
        ).to_series()
        found = mine.select(
            pl.when(pl.col("references").is_not_null())
            .then(pl.format("{}。不符：{}", "found", "references"))
            .when(pl.col("reason").is_not_null())
            .then(pl.lit(DASH))
            .otherwise(pl.col("found"))
        ).to_series()
        rows.append(
            (
                point,
                "；".join(said),
                "；".join(found.unique(maintain_order=True)),
                "；".join(verdict),
            )
        )
    return rows


def _focus(r: Results) -> dict[str, Any] | None:
    f = r.county_focus.filter(pl.col("county_code") == r.county["county_code"])
    return f.row(0, named=True) if f.height else None


def pace_rows(r: Results) -> list[tuple[str, str, str, str]]:
    """年度减贫进度 (target against the registry's exits) and 能否如期完成 (stored pace)."""
    f = _focus(r)
    if f is None:
        return [("年度减贫进度", NO_DATA, DASH, NO_DATA), ("能否如期完成", DASH, DASH, NO_DATA)]
    achieved = f"建档立卡数据本年度脱贫{f['achieved_persons']}人"
    if f["target_persons"] is None:
        pace = ("年度减贫进度", NO_DATA, achieved, NO_DATA)
    else:
        claimed = (
            "" if f["achieved_claimed"] is None else f"，资料称完成{f['achieved_claimed']:.0f}人"
        )
        pace = (
            "年度减贫进度",
            f"年度减贫目标{f['target_persons']:.0f}人{claimed}",
            f"{achieved}，为目标的{percent(f['pace'])}",
            "完成年度减贫目标" if f["target_met"] else "未完成年度减贫目标",
        )
    on_time = (
        "能否如期完成",
        DASH,
        f"剩余贫困人口{f['remaining_persons']}人；按本年度脱贫{f['achieved_persons']}人的进度，"
        f"距{f['finish_year']}年底还有{f['years_left']}年",
        codes.REDUCTION_PACE.label(f["on_time"]) if f["on_time"] else NO_DATA,
    )
    return [pace, on_time]


def _evidence_row(point: str, text: str) -> tuple[str, str, str, str]:
    """A point the survey itself answers: no claim, the finding, no verdict."""
    return (point, DASH, text, DASH)


FOUR_KEEPS = ("keep_responsibility", "keep_policy", "keep_help", "keep_supervision")
"""四个不摘 (三(一)1 已脱贫摘帽县), in the plan's order."""


def focus_table(r: Results) -> pl.DataFrame:
    """The county's category focus: each point with the claim, the evidence and the verdict.

    Deep poverty: pace against the target and whether it will finish on time,
    funds and projects, poor villages, exit quality; exiting this year: the
    exit standard; exited: remaining poor, consolidation and the 四个不摘;
    non-key: the annual target and consolidation. Facts come from the
    county's documents as checked in ``claim_checks`` and from
    ``county_focus``; 无数据 where no document gave them.
    """
    projects = county_projects(r)
    # one row for the rates whichever types ask (脱贫质量, 退出标准): the verdict line
    # below words them for the county's scope
    rates = _evidence_row("三率一度（错退率、漏评率、群众认可度）", _rates_line(r.rates))
    remaining = _evidence_row("剩余贫困人口帮扶", _remaining_line(r.households))
    relapse = _evidence_row("巩固提升脱贫成果（返贫风险）", _relapse_line(r.households))
    pace = pace_rows(r)
    by_category = {
        "deep_poverty": [
            pace[0],
            *fact_rows(r, "reduction_achieved"),
            pace[1],
            *fact_rows(r, "funds_invested", "projects_done"),
            _evidence_row("项目抽查", _projects_line(projects)),
            *fact_rows(r, "villages_exit_planned", "villages_exited"),
            rates,
        ],
        "exit_2019": [
            rates,
            *fact_rows(r, "villages_exited"),
            relapse,
            _evidence_row("项目抽查", _projects_line(projects)),
        ],
        "exited": [remaining, relapse, *fact_rows(r, *FOUR_KEEPS), rates],
        "non_key": [pace[0], *fact_rows(r, "reduction_achieved"), relapse, rates],
    }
    rows: dict[str, tuple[str, str, str]] = {}  # a point two types ask about is shown once
    for cat in county_types(r.plan, r.county):
        for point, *rest in by_category[cat.code]:
            rows.setdefault(point, (rest[0], rest[1], rest[2]))
    return pl.DataFrame(
        [(p, *v) for p, v in rows.items()],
        schema=["考察要点", "陈述（资料）", "考核核实", "核实结果"],
        orient="row",
    )


def category_focus(r: Results) -> str:
    """The plan's focus for the county's category, what the results say, the verdict (HTML)."""
    c = r.county
    note = (
        "综合贫困发生率不在入户抽样指标之内，需结合县级统计数据核实。"
        if c.get("scope") == "exit_standard"
        else ""
    )
    types = county_types(r.plan, c)
    return (
        f"<p><b>{esc('、'.join(t.label for t in types))}</b>的考核重点："
        f"{esc('；'.join(t.focus for t in types))}。</p>"
        "<p>“陈述（资料）”是考核组查阅资料、座谈和自评报告中本县给出的数字和说法；"
        "“考核核实”是与建档立卡数据、项目库、入户调查和项目核查比对的结果；"
        f"没有相应资料的写“{NO_DATA}”。</p>"
        + table_html(focus_table(r))
        + verdict_line(c)
        + f"<p>{esc(verdict_sentence(c, r.rates))}{esc(note)}</p>"
    )


def reject_table(rejects: pl.DataFrame) -> pl.DataFrame:
    """Field rows the checks turned back (file, row, column, expected, found)."""
    return rejects.sort("file", "row").select(
        pl.col("file").alias("文件"),
        pl.col("row").alias("行"),
        pl.col("column").alias("列"),
        pl.col("expected").alias("应为"),
        pl.col("found").alias("实为"),
    )


def county_findings(r: Results) -> pl.DataFrame:
    """The county's findings without the pairing items (those are in the pairing report)."""
    pairing = [it.code for it in r.plan.content.pairing]
    return r.findings.filter(~pl.col("content_item").is_in(pairing))


def county_projects(r: Results) -> pl.DataFrame:
    """The county's sampled projects, without the paired cooperation ones (their own report)."""
    return r.check_projects.filter(pl.col("level") != "paired")


def county_discrepancies(r: Results) -> pl.DataFrame:
    """The county's project discrepancies, without those of paired cooperation projects.

    Helpers' and village cadres' claims are in ``claim_checks`` (section 五's
    claim tables), so only the project register against the checks is listed.
    """
    paired = r.check_projects.filter(pl.col("level") == "paired")["project_id"].implode()
    return r.check_discrepancies.filter(
        (pl.col("kind") == "project") & ~pl.col("subject").is_in(paired)
    )


def rates_figure(r: Results) -> go.Figure:
    """The county's rates: estimates, intervals, official ratios and thresholds."""
    conf = confidence_text(r.plan.indicators.confidence)
    title = f"{r.county['county_name']}各项指标：设计加权估计、{conf}置信区间与标准线"
    return rate_chart(r.rates, title, confidence=r.plan.indicators.confidence)


def items_figure(r: Results) -> go.Figure:
    """两不愁三保障 and the other items: share with its interval, one row each."""
    rows = sorted_items(r.items).select(
        pl.lit("分项达标比例").alias("panel"),
        codes.SURVEY_ITEM.expr(pl.col("item")).alias("y"),
        pl.col("rate").alias("ratio"),
        "est",
        "low",
        "high",
        "n",
        pl.lit("户").alias("unit"),
        pl.lit("unjudged").alias("status"),
        pl.lit(None, pl.Float64).alias("threshold"),
        pl.lit(None, pl.String).alias("side"),
    )
    title = "“两不愁三保障”及饮水安全等分项达标比例"
    return interval_chart(rows, title, legend=(), confidence=r.plan.indicators.confidence)


__all__ = [
    "FOCUS_CLASSES",
    "category_focus",
    "classification_table",
    "completeness_box",
    "content_overview",
    "county_discrepancies",
    "county_findings",
    "county_heading",
    "county_projects",
    "cross_check_summary",
    "discrepancy_table",
    "experience_table",
    "fact_rows",
    "flagged_households",
    "focus_table",
    "helper_awareness_line",
    "household_type",
    "item_table",
    "items_figure",
    "problem_summary",
    "problem_table",
    "project_flags",
    "project_table",
    "rate_table",
    "rates_figure",
    "reject_table",
    "sample_table",
    "shortfalls",
    "sorted_items",
    "status_note",
    "verdict_line",
    "verdict_rows",
    "verdict_sentence",
    "with_names",
]
