"""The plan's sample design in words, for the reports' method paragraphs (五(五)(七)).

A report's narrative used to state the 2019 design (4 villages, 12 households
per village ...) in its notebook's text, and so misdescribed any other year's
plan. These sentences are written from the plan and from the stored
``sample_plan`` (a county's own rule, :mod:`xkaohe.analyse.sample_plan`), so the
words follow the plan file as the numbers do. Presentation only: nothing is
decided here.
"""

from __future__ import annotations

import polars as pl

from xkaohe import codes
from xkaohe.plan import ContentItem, HouseholdQuota, Plan, Range, VillageQuota
from xkaohe.report.kit import confidence_text, date_text, esc, percent, planned_totals

__all__ = [
    "content_text",
    "county_design",
    "county_projects_text",
    "elements_text",
    "exit_standard_text",
    "general_text",
    "group_text",
    "helper_text",
    "household_text",
    "paired_projects_text",
    "pairing_text",
    "paragraph",
    "project_text",
    "province_design",
    "rule_text",
    "status_text",
    "systemic_text",
    "teams_text",
    "thresholds_text",
    "timeline_text",
    "villages_text",
]


def _quota_text(q: HouseholdQuota) -> str:
    label = codes.SAMPLE_CATEGORY.label(q.status)
    if q.share is None:
        return f"{label}{q.count}户"
    pool = "该类户" if q.share_of == "status" else "建档立卡户"
    return f"{label}按本村{pool}的{percent(q.share)}抽取（至少{q.min}户、至多{q.count}户）"


def household_text(plan: Plan) -> str:
    """Per sampled village: each status's quota, substitutions, full coverage (one sentence)."""
    rules = plan.sampling.households
    full = "、".join(codes.SAMPLE_CATEGORY.label(s) for s in rules.full_coverage)
    text = "每村按类别抽取：" + "、".join(_quota_text(q) for q in rules.quotas)
    text += "；某类不足时按方案顺序替代"
    return text + (f"；{full}全覆盖。" if full else "。")


def general_text(plan: Plan) -> str:
    """The general households visited at random in each sampled village."""
    n = plan.sampling.households.general_per_village
    return f"每村另由考核组现场随机走访一般农户{n}户，不在抽样清单中。"


def _condition(plan: Plan, column: str, want: object) -> str:
    labels: dict[str, str] = {c.code: c.label for c in plan.county_categories}
    flags = {c.code for c in plan.county_categories if c.flag}
    if column == "category":
        wanted = want if isinstance(want, tuple) else (want,)
        return "或".join(labels.get(str(w), str(w)) for w in wanted)
    if column in flags and want is True:
        return labels[column]
    if isinstance(want, Range):
        if want.min is not None and want.max is not None:
            return f"{column}在{want.min:g}至{want.max:g}之间"
        if want.max is not None:
            return f"{column}不超过{want.max:g}"
        return f"{column}不少于{want.min:g}"
    if isinstance(want, tuple):
        return f"{column}为{'或'.join(str(w) for w in want)}"
    return f"{column}为{want}"


def rule_text(plan: Plan, rule: int) -> str:
    """A ``villages.by_county`` rule's conditions in words (-1: the default quotas)."""
    if rule < 0:
        return "方案的一般规定"
    when = plan.sampling.villages.by_county[rule].when
    return "且".join(_condition(plan, c, w) for c, w in when.items())


def _types(quotas: pl.DataFrame) -> str:
    return "、".join(
        f"{codes.VILLAGE_TYPE.label(c)}{n}个"
        for c, n in quotas.select("category", "planned").iter_rows()
        if n
    )


def villages_text(plan: Plan, planned: pl.DataFrame) -> str:
    """One county's villages: how many of each type, by which rule, how they are walked."""
    villages = planned_totals(planned.filter(pl.col("kind") == "villages"))
    rules = planned.filter(pl.col("kind") == "villages")["rule"].unique().to_list()
    rule = int(rules[0]) if len(rules) == 1 else -1
    how = f"（按方案分县规则：{rule_text(plan, rule)}）" if rule >= 0 else ""
    if rule < 0 and plan.sampling.villages.by_county:
        how = "（方案的分县规则都不适用本县，按一般规定）"
    where = "，每个乡镇至多1个" if plan.sampling.villages.distinct_townships else ""
    return f"本县抽取{int(villages['planned'].sum())}个村{how}：{_types(villages)}{where}。"


def group_text(plan: Plan) -> str:
    """The villager groups surveyed in full (五(七)2)."""
    g = plan.sampling.villager_groups
    poor, nonpoor = g.villages.get("poor", 0), g.villages.get("nonpoor", 0)
    return (
        f"从{poor}个贫困村和{nonpoor}个非贫困村中各抽取{g.groups_per_village}个村民小组，"
        "小组内建档立卡户全部入户调查，一般农户由考核组现场逐户走访。"
    )


def project_text(plan: Plan) -> str:
    """The projects checked (五(五)) and the beneficiaries of cooperation projects."""
    p = plan.sampling.projects
    per = "、".join(
        f"{codes.PROJECT_KIND.label(kind)}{n}个" for kind, n in p.per_village.items() if n
    )
    return (
        f"县级项目{p.county_level}个；每个抽样村{per}（缺一类时由另一类补足）；"
        f"接受县域结对帮扶的国家级贫困县另抽合作项目{p.paired_cooperation}个，"
        f"每个项目抽查受益户{p.beneficiaries_min}—{p.beneficiaries_per_project}户"
        f"（不足{p.beneficiaries_min}户的全部抽查）。"
    )


def timeline_text(plan: Plan) -> str:
    """The field week and the report deadlines (六)."""
    t = plan.timeline
    return (
        f"方案六：实地考核{date_text(t.field_start)}至{date_text(t.field_end)}，考核组报告"
        f"（经组长、副组长签字）{date_text(t.team_reports_by)}前报送，全省总报告"
        f"{date_text(t.provincial_report_by)}前完成。"
    )


def thresholds_text(plan: Plan) -> str:
    """The judged rates and their lines: ``错退率不高于2%、…、群众认可度不低于90%``."""
    return "、".join(
        f"{codes.RATE.label(rate)}{'不高于' if bound.side == 'max' else '不低于'}"
        f"{percent(bound.value)}"
        for rate, bound in plan.indicators.thresholds.items()
    )


def exit_standard_text(plan: Plan) -> str:
    """How the counties exiting this year are judged (三(一)1), in the provincial report."""
    labels = "、".join(plan.category(c).label for c in plan.indicators.exit_standard.categories)
    return (
        f"今年计划退出的县（{labels}）按贫困县退出标准逐项判断：{thresholds_text(plan)}。"
        f"表中为抽样比率（{confidence_text(plan.indicators.confidence)}置信区间）和状态，"
        "结论由考核结果库给出。"
    )


def status_text(plan: Plan) -> str:
    """What 未发现超标 and the detection limit mean, with the plan's confidence and power."""
    return (
        "“未发现超标”指抽样比率没有超出标准，但"
        f"{confidence_text(plan.indicators.confidence)}置信区间跨越标准线，样本不足以确认；"
        f"括号中的检出限是该县样本有{percent(plan.indicators.detection_power)}把握发现超标的"
        "真实比率。"
    )


def content_text(plan: Plan) -> str:
    """The content items of 三 the problems are counted under."""

    def items(of: tuple[ContentItem, ...]) -> str:
        return f"{len(of)}项（{of[0].code}—{of[-1].code}）" if of else "0项"

    c = plan.content
    return (
        f"按方案三列出的县级{items(c.county)}、市级{items(c.city)}和县域结对帮扶"
        f"{items(c.pairing)}考核内容统计。"
    )


def systemic_text(plan: Plan) -> str:
    """When a problem is systemic (共性) rather than case-specific (个性)."""
    s = plan.reports.systemic
    return (
        f"某项内容在全省{s.province_counties}个以上县、或同一市{s.city_counties}个以上县"
        "被确认，即为共性问题，否则为个性问题。"
    )


def pairing_text(plan: Plan) -> str:
    """The county pairing section's subject (三(二)): the helped counties and the items."""
    items = plan.content.pairing
    labels = "、".join(i.label for i in items)
    codes_ = f"{items[0].code}—{items[-1].code}" if items else ""
    return (
        f"{plan.scope.paired_helped_counties}个接受县域结对帮扶的国家级贫困县：结对合作项目"
        f"抽查结果，以及{labels}{len(items)}项内容（{codes_}）发现的问题。"
    )


def elements_text(plan: Plan, unit: str) -> str:
    """What a report must contain (五): experiences, problems, suggestions; ``unit``: 县 …"""
    r = plan.reports
    suggest = "，并针对问题提出意见建议" if r.suggestion_required else ""
    return (
        f"方案五要求每个{unit}的考核报告总结{r.experiences.min}—{r.experiences.max}条典型经验、"
        f"至少{r.problems_min}个突出问题{suggest}。"
    )


def teams_text(plan: Plan) -> str:
    """How the teams are formed (四, 六(一)), for the lottery report."""
    t = plan.teams
    return (
        f"每组确定{t.contacts_per_team}名联系人，并邀请民主党派人士参加；考核组人数按被考核市的"
        f"县（市、区）个数确定（{t.size.base}人加每县{t.size.per_county}人），县乡村三级扶贫干部"
        f"占考核组总人数的{percent(t.grassroots_share_min)}以上。"
    )


def paragraph(text: str) -> str:
    """A sentence of this module as an HTML paragraph (escaped)."""
    return f"<p>{esc(text)}</p>"


def county_projects_text(plan: Plan) -> str:
    """The county report's projects checked (五(五)); cooperation projects are the pairing's."""
    p = plan.sampling.projects
    per = "、".join(
        f"{codes.PROJECT_KIND.label(kind)}{n}个" for kind, n in p.per_village.items() if n
    )
    return f"县级项目{p.county_level}个，每个抽样村{per}（缺一类时由另一类补足）。"


def paired_projects_text(plan: Plan) -> str:
    """The cooperation projects checked in a helped county (五(五))."""
    n = plan.sampling.projects.paired_cooperation
    return f"每个受帮扶县抽查结对合作项目{n}个，核查项目进度、资金支出和受益户。"


def helper_text(plan: Plan) -> str:
    """The interviews (五(三)) and the assistance cadres drawn per village."""
    n = plan.sampling.interviews.helpers_per_village
    return (
        f"市、县、村三级干部按方案五(三)的人数访谈；每个抽样村另抽取帮扶责任人{n}人，"
        "优先抽取抽样户的帮扶责任人。"
    )


def county_design(plan: Plan, planned: pl.DataFrame) -> str:
    """The county report's sample paragraph (HTML): its villages, households, general households."""
    return f"<p>{esc(villages_text(plan, planned) + household_text(plan) + general_text(plan))}</p>"


def _quota_frame(quotas: tuple[VillageQuota, ...]) -> pl.DataFrame:
    return pl.DataFrame(
        [(q.type, q.count) for q in quotas],
        schema={"category": pl.String, "planned": pl.Int64},
        orient="row",
    )


def province_design(plan: Plan, planned: pl.DataFrame) -> str:
    """How the provincial "planned" column is counted (HTML): teams, each county's rule."""
    rules = plan.sampling.villages
    counts = dict(
        planned.filter(pl.col("kind") == "villages")
        .group_by("rule")
        .agg(pl.col("county_code").n_unique())
        .iter_rows()
    )
    lines = []
    for i, rule in enumerate(rules.by_county):
        quotas = _quota_frame(rule.quotas)
        lines.append(
            f"{rule_text(plan, i)}：每县抽{int(quotas['planned'].sum())}个村（{_types(quotas)}，"
            f"{counts.get(i, 0)}个县）"
        )
    default = _quota_frame(rules.quotas)
    which = "其余县：每县" if lines else "每县"
    share = f"，{counts.get(-1, 0)}个县" if lines else ""
    lines.append(f"{which}抽{int(default['planned'].sum())}个村（{_types(default)}{share}）")
    return (
        f"<p>“计划”按方案计算：考核组{plan.teams.count}个；"
        f"{esc('；'.join(lines))}；{esc(household_text(plan))}"
        f"{esc(general_text(plan))}全覆盖户按底册户数计划，抽中的村民小组全部入户，方案不定户数。</p>"
    )
