"""Every code set once, as data: each code with its Chinese label, short label and colour.

Over ~600 lines because it is data: one declaration per code set, nothing else.

The pattern is PUDL's ``metadata/codes.py``: a code set lists its codes in
their natural order (the plan's, where the plan has one) and, for each, the
Chinese label a report prints, a short label for tight tables and charts, an
optional colour and the other spellings accepted on input. The input enums of
:mod:`xkaohe.schemas`, the reports, the feedback packages, the explorer, the
lottery tables and the index all read this module, so a label or a colour
cannot differ between two of them.

Year ranges are written with the em dash, as the plan writes them
(2016—2018年); on input any dash is accepted (:meth:`CodeSet.spellings`
folds them as :mod:`xkaohe.io.tables` does).

The rate statuses and county verdicts are the shared contract of DESIGN.md
("Indicators"): decided once in :mod:`xkaohe.analyse.verdicts` and stored as
codes. Their wording depends on the county's ``scope``: for the counties
exiting this year (``exit_standard``) the thresholds are the exit standard
and a failing rate is 未达标; for every other county (``reference``) the
threshold is only a reference line and no wording may call the county
未达标 or 需重点整改 on the rates alone (plan 八(二): 防止超标准超范围考核) —
:func:`status_label` and :func:`verdict_label` pick the wording.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

NO_DATA_COLOUR = "#9e9e9e"
"""The one colour of "no data" (no surveyed household, no status) in every chart."""

_DASHES = ("—", "–", "－", "~", "～", "至")  # folded to "-" on input (io.tables does the same)


@dataclass(frozen=True)
class Code:
    """One code: its Chinese label, short label, colour and other accepted spellings."""

    code: str
    label: str
    short: str = ""
    colour: str = ""
    aliases: tuple[str, ...] = ()
    description: str = ""

    @property
    def short_label(self) -> str:
        return self.short or self.label


@dataclass(frozen=True)
class CodeSet:
    """An ordered set of codes (the order reports list them in)."""

    name: str
    title: str
    codes: tuple[Code, ...]

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __contains__(self, code: object) -> bool:
        return any(c.code == code for c in self.codes)

    @property
    def order(self) -> tuple[str, ...]:
        """The codes, in order."""
        return tuple(c.code for c in self.codes)

    def get(self, code: str) -> Code:
        for c in self.codes:
            if c.code == code:
                return c
        raise KeyError(f"{code!r} is not a code of {self.name} ({', '.join(self.order)})")

    def labels(self, short: bool = False) -> dict[str, str]:
        """``{code: label}`` in order (``short``: the short labels)."""
        return {c.code: c.short_label if short else c.label for c in self.codes}

    def label(self, code: str | None, short: bool = False) -> str:
        """The label of ``code``; an unknown code is returned as it is, None as ""."""
        if code is None:
            return ""
        return self.labels(short).get(code, code)

    def colours(self) -> dict[str, str]:
        """``{code: colour}`` of the codes that have one."""
        return {c.code: c.colour for c in self.codes if c.colour}

    def colour(self, code: str | None) -> str:
        """The colour of ``code``; the no-data grey for None or a code without one."""
        return self.colours().get(code or "", NO_DATA_COLOUR)

    def spellings(self) -> dict[str, str]:
        """Every accepted input spelling (code, label, aliases; dashes folded) -> code."""
        out: dict[str, str] = {}
        for c in self.codes:
            for word in (c.code, c.label, *c.aliases):
                for dash in _DASHES:
                    word = word.replace(dash, "-")
                out.setdefault(word, c.code)
        return out

    def expr(self, codes: pl.Expr, short: bool = False) -> pl.Expr:
        """``codes`` as labels (polars); an unknown code passes through, null stays null."""
        return codes.replace_strict(self.labels(short), default=codes, return_dtype=pl.String)

    def rank(self, codes: pl.Expr) -> pl.Expr:
        """The position of each code in the set (unknown codes last), for sorting."""
        order = {c: i for i, c in enumerate(self.order)}
        return codes.replace_strict(order, default=len(order), return_dtype=pl.Int64)

    def pick(self, *codes: str) -> tuple[Code, ...]:
        """The named codes, to build another set from them."""
        return tuple(self.get(c) for c in codes)


def _set(name: str, title: str, *codes: Code) -> CodeSet:
    return CodeSet(name, title, codes)


C = Code

# ------------------------------------------------------------------ frame and sample

COUNTY_CATEGORY = _set(
    "county_category",
    "考核类别",
    C("deep_poverty", "深度贫困县", "深度贫困"),
    C("exit_2019", "拟摘帽县", "拟摘帽"),
    C("exited", "已脱贫摘帽县", "已摘帽"),
    C("non_key", "非重点县", "非重点"),
)
HOUSEHOLD_STATUS = _set(
    "household_status",
    "户类型",
    C("exited_2019", "2019年脱贫户"),
    C("exited_2016_2018", "2016—2018年脱贫户"),
    C("new_2018_2019", "2018—2019年新识别贫困户"),
    C("not_exited", "未脱贫户"),
    C("relapsed", "返贫户"),
)
SAMPLE_CATEGORY = _set(
    "sample_category",
    "抽样类别",
    *HOUSEHOLD_STATUS.codes,
    C("group_census", "村民小组全覆盖户", "村民小组全覆盖"),
)
"""The quota a drawn household fills (``selected_as``): a status, or the villager-group census."""
VILLAGE_TYPE = _set(
    "village_type",
    "村类型",
    C("poor", "贫困村", colour="#d62728"),
    C("nonpoor_many_poor", "贫困人口较多的非贫困村", "非贫困村", colour="#1f77b4"),
)
PROJECT_KIND = _set(
    "project_kind",
    "项目类型",
    C("county", "县级项目"),
    C("village", "到村项目"),
    C("household_policy", "到户政策项目"),
    C("paired_cooperation", "结对合作项目"),
)
PROJECT_LEVEL = _set(
    "project_level",
    "项目层级",
    C("county", "县级项目", "县级"),
    C("village", "到村、到户项目", "村级"),
    C("paired", "结对合作项目", "结对合作"),
)
INTERVIEW_LEVEL = _set(
    "interview_level",
    "访谈层级",
    C("city", "市级"),
    C("county", "县级"),
    C("village", "村级"),
    C("helper", "帮扶责任人"),
)

# ------------------------------------------------------------------ roster and lottery

ASSESSOR_LEVEL = _set(
    "assessor_level",
    "层级",
    C("province", "省级"),
    C("city", "市级"),
    C("county", "县级"),
    C("township", "乡镇级"),
    C("village", "村级"),
)
ASSESSOR_KIND = _set(
    "assessor_kind",
    "人员类别",
    C("director", "市扶贫办主任"),
    C("division_cadre", "省直处级干部"),
    C("party_observer", "民主党派"),
    C("staff", "工作人员"),
)
MEMBER_ROLE = _set(
    "member_role",
    "角色",
    C("leader", "组长"),
    C("deputy", "副组长"),
    C("contact", "联系人"),
    C("member", "组员"),
    C("observer", "民主党派观察员"),
)

# ------------------------------------------------------------------ field returns

APPROVAL = _set(
    "approval",
    "认可度",
    C("approve", "认可"),
    C("basic", "基本认可"),
    C("disapprove", "不认可"),
)
PROJECT_STATUS = _set(
    "project_status",
    "项目进度",
    C("not_started", "未开工"),
    C("in_progress", "在建"),
    C("completed", "已完工"),
    C("abandoned", "已停工"),
)
PROBLEM_LEVEL = _set(
    "problem_level",
    "问题层级",
    C("city", "市级"),
    C("county", "县级"),
    C("village", "村级"),
    C("household", "户级"),
)
REVIEW_OUTCOME = _set(
    "review_outcome",
    "复核结论",
    C("pending", "待复核"),
    C("confirmed", "属实", aliases=("经复核属实",)),
    C("dismissed", "不属实", aliases=("经复核不属实",)),
)

# ------------------------------------------------------------------ findings

REVIEW_STATE = _set(
    "review_state",
    "复核状态",
    C("on_time", "按时复核", colour="#2ca02c"),
    C("late", "逾期复核", colour="#98df8a"),
    C("pending", "待复核（未逾期）", "待复核", colour="#1f77b4"),
    C("overdue", "逾期未复核", colour="#d62728"),
    C("proposed", "系统提示，待考核组核实", "系统提示待核实", colour="#9467bd"),
    C("not_needed", "无需复核", colour="#c7c7c7"),
)
"""Where a finding stands in the daily review (plan 五(六)); decided by
:func:`xkaohe.analyse.findings.review_status`. ``pending``: not yet reviewed
and its due day not passed."""
FINDING_SOURCE = _set(
    "finding_source",
    "问题来源",
    C("team", "考核组发现", "考核组"),
    C("indicator", "系统提示（指标测算）", "指标测算"),
    C("cross_check", "系统提示（比对核查）", "比对核查"),
)
FINDING_SCOPE = _set(
    "finding_scope",
    "问题性质",
    C("systemic", "共性问题", colour="#6a3d9a"),
    C("case", "个性问题", colour="#a6cee3"),
)
CONTENT_LEVEL = _set(
    "content_level",
    "考核内容层级",
    C("county", "县级"),
    C("city", "市级"),
    C("pairing", "县域结对帮扶"),
)
"""The three lists of content items of plan 三."""

# ------------------------------------------------------------------ cross-checks

DISCREPANCY_KIND = _set(
    "discrepancy_kind",
    "比对来源",
    C("helper_claim", "帮扶责任人陈述"),
    C("village_claim", "村干部陈述"),
    C("project", "项目核查"),
)
PROJECT_FLAG = _set(
    "project_flag",
    "项目核查发现",
    C("funds_overspent", "资金支出超过项目资金规模"),
    C("spent_but_not_started", "已支出资金但项目未开工"),
    C("spent_but_abandoned", "已支出资金但项目已停工"),
    C("beneficiaries_short", "核实受益户少于抽查户数"),
    C("not_checked", "考核组未核查"),
)
CLAIM_STATUS = _set(
    "claim_status",
    "比对结果",
    C("agrees", "一致"),
    C("contradicts", "不一致"),
    C("not_surveyed", "该户未调查"),
    C("unreadable", "无法识别"),
    C("no_answer", "该户未回答"),
    C("other_item", "其他项目"),
)

# ------------------------------------------------------------------ claims (issue 13)

CLAIM_SOURCE = _set(
    "claim_source",
    "陈述来源",
    C("meeting", "座谈会", aliases=("情况交流座谈会", "村级座谈会")),
    C("document", "资料查阅", aliases=("查阅资料",)),
    C("interview", "访谈", aliases=("干部访谈",)),
    C("self_assessment", "自评报告", "自评"),
)
"""Where a claim was heard or read (五(一)(二)(三), 六(二) 自评报告)."""
CLAIM_ITEM = _set(
    "claim_item",
    "陈述事项",
    C("food_clothing_ok", "不愁吃穿", aliases=("稳定实现不愁吃穿",)),
    C("education_ok", "义务教育无因贫辍学", "义务教育", aliases=("义务教育有保障",)),
    C("medical_ok", "基本医疗保险全覆盖、基本医疗有保障", "基本医疗", aliases=("基本医疗有保障",)),
    C("housing_safe", "住房安全有保障", "住房安全"),
    C("water_safe", "饮水安全有保障", "饮水安全"),
    C("income_ok", "脱贫户收入稳定超过扶贫标准", "收入达标"),
    C("knows_helper", "帮扶责任人联系到户", "帮扶到户"),
    C("industry_coverage", "到户产业项目覆盖所有有劳动力贫困户", "产业覆盖"),
    C("edge_monitored", "边缘户已全部纳入监测", "边缘户监测"),
    C("whole_household", "建档立卡户均整户识别", "整户识别"),
    C("procedure_ok", "识别退出均经评议公示", "评议公示"),
    C("beneficiaries_received", "项目登记受益户均已受益", "项目受益"),
    C("project_results", "扶贫项目均达到预期效果", "项目成效"),
    # County facts of the year, read in documents (五(二) 查阅资料; 三(一)1 分类考核)
    C("reduction_target", "年度减贫目标人数", "减贫目标", aliases=("年度减贫任务",)),
    C("reduction_achieved", "年度实际减贫人数", "实际减贫", aliases=("年度脱贫人数",)),
    C("funds_invested", "年度扶贫资金投入元", "资金投入", aliases=("扶贫资金投入",)),
    C("projects_done", "年度完成扶贫项目数", "完成项目", aliases=("完成项目数",)),
    C("villages_exit_planned", "计划出列贫困村数", "计划出列村"),
    C("villages_exited", "已出列贫困村数", "已出列村", aliases=("贫困村出列数",)),
    # 四个不摘 (三(一)1 已脱贫摘帽县): 摘帽不摘责任、不摘政策、不摘帮扶、不摘监管
    C("keep_responsibility", "摘帽不摘责任", "不摘责任"),
    C("keep_policy", "摘帽不摘政策", "不摘政策"),
    C("keep_help", "摘帽不摘帮扶", "不摘帮扶"),
    C("keep_supervision", "摘帽不摘监管", "不摘监管"),
    C("household_size", "家庭人口数"),
    C("income_per_capita_yuan", "人均纯收入元", "人均纯收入"),
)
"""The measurable plan items a claim can be about (the evidence for each: plan ``claims``)."""
CLAIM_VERDICT = _set(
    "claim_verdict",
    "核实结果",
    C("agree", "与考核发现一致", "一致", colour="#2ca02c"),
    C("contradicted", "与考核发现不符", "不符", colour="#d62728"),
    C("not_checkable", "样本中无可核实数据", "无法核实", colour=NO_DATA_COLOUR),
)
"""A claim against the evidence (:mod:`xkaohe.analyse.claims`)."""
CLAIM_REASON = _set(
    "claim_reason",
    "无法核实原因",
    C("no_evidence", "样本中无可比对的户或项目"),
    C("admits_gap", "陈述本身承认存在问题"),
    C("unreadable", "陈述内容无法识别"),
    C("unknown_item", "不是可比对的事项"),
    C("household_only", "该事项只能逐户比对"),
    C("county_only", "该事项只能按县比对"),
    C("no_source", "考核数据中没有可核实该事项的来源"),
)
"""Why a claim is ``not_checkable``."""
REDUCTION_PACE = _set(
    "reduction_pace",
    "减贫进度",
    C("on_track", "按本年度减贫进度能够如期完成", "能如期完成", colour="#2ca02c"),
    C("at_risk", "按本年度减贫进度难以如期完成", "难以如期完成", colour="#d62728"),
)
"""Whether a county's remaining poor can exit by the plan's finish year at this year's pace
(三(一)1 深度贫困县: 分析是否能够如期完成脱贫攻坚目标任务; :mod:`xkaohe.analyse.county_facts`)."""
PROJECT_RESULT = _set(
    "project_result",
    "项目成效",
    C("reached", "达到预期效果", "达到"),
    C("partly", "部分达到预期效果", "部分达到"),
    C("not", "未达到预期效果", "未达到"),
)
"""What a project check found the project achieved (五(五) 项目实施效果)."""

# ------------------------------------------------------------------ indicators

SURVEY_ITEM = _set(
    "survey_item",
    "调查项目",
    C("food_clothing_ok", "不愁吃穿"),
    C("education_ok", "义务教育有保障", "义务教育"),
    C("medical_ok", "基本医疗有保障", "基本医疗"),
    C("housing_safe", "住房安全有保障", "住房安全"),
    C("water_safe", "饮水安全有保障", "饮水安全"),
    C("income_ok", "收入稳定超过标准", "收入"),
    C("knows_helper", "知晓帮扶责任人"),
    C("approves", "认可或基本认可", "认可"),
)
"""两不愁三保障 and water, income, helper awareness and approval (``county_items``)."""
CHECK_ITEM = _set(
    "check_item",
    "比对事项",
    C("household_size", "家庭人口数"),
    C("income_per_capita_yuan", "人均纯收入元"),
    *SURVEY_ITEM.pick(
        "food_clothing_ok", "education_ok", "medical_ok", "housing_safe", "water_safe"
    ),
    C("funds_spent_yuan", "资金使用"),
    C("status", "项目进度"),
    C("beneficiaries_confirmed", "受益户"),
)
"""What a helper's or cadre's claim, or a project's ledger, is compared on (比对)."""
HOUSEHOLD_CLASS = _set(
    "household_class",
    "分类",
    C(
        "wrong_exit",
        "错退",
        description="已脱贫户（2019年和2016—2018年）收入或“两不愁三保障”及饮水安全未达标",
    ),
    C("omission", "漏评", description="非建档立卡户收入或“两不愁三保障”及饮水安全未达标"),
    C(
        "wrong_inclusion",
        "错评",
        description="建档立卡户有错评线索（如家庭成员为公职人员、有车辆或商品房）",
    ),
    C(
        "relapse",
        "返贫未达标",
        description="返贫户仍未达到收入和“两不愁三保障”标准；返贫原因见 relapse_cause（方案"
        "三(一)1(8)：因脱贫质量不高和帮扶工作不实导致的返贫单列），原因未填的不作判断",
    ),
    C("qualified", "达标"),
    C("not_qualified_registered", "未达标（未脱贫户）"),
    C("not_qualified_general", "未达标（一般农户）"),
)
RATE = _set(
    "rate",
    "指标",
    C("wrong_exit_rate", "错退率"),
    C("omission_rate", "漏评率"),
    C("approval_rate", "群众认可度"),
    C("wrong_inclusion_rate", "错评率"),
)

# ------------------------------------------------------------------ field ledger

FIELD_TABLE = _set(
    "field_table",
    "上报数据表",
    C("household_survey", "入户调查表"),
    C("interviews", "访谈记录"),
    C("project_checks", "项目核查"),
    C("problems", "问题清单"),
    C("experiences", "典型经验"),
)
MEDIA_PROBLEM = _set(
    "media_problem",
    "录音照片问题",
    C("missing_audio", "缺少录音"),
    C("missing_photo", "缺少照片"),
    C("no_record", "文件无对应记录"),
    C("file_missing", "清单所列文件未上传"),
    C("unlisted_file", "文件未列入清单"),
    C("hash_mismatch", "文件与清单哈希不符"),
    C("wrong_type", "文件类型不符"),
    C("reused", "同一文件用于不同记录（疑似造假）"),
)
"""Problems with a delivery's media (六(四) 同步上传录音资料和照片)."""
FIELD_SIGNAL = _set(
    "field_signal",
    "走访信号",
    C("late_entry", "走访后补录"),
    C("outside_assignment", "走访对象不在本组考核范围"),
    C("visitor_not_in_team", "走访人员不是本组成员"),
    C("pair_overload", "走访小组单日户数异常"),
    C("other_team_row", "记录所属考核组与报送组不符"),
)
"""Signals of careless or bent field work, per team per day."""
IDENTIFICATION_CASE = _set(
    "identification_case",
    "识别问题",
    C("not_whole", "未整户识别"),
    C("procedure_bad", "程序不规范（未评议公示）"),
    C("edge_unmonitored", "边缘户未纳入监测"),
    C("benefit_missing", "登记受益户未受益"),
)

# ------------------------------------------------------------------ sign-off

SIGNOFF_STATUS = _set(
    "signoff_status",
    "签字状态",
    C("signed", "已签字", colour="#2e7d32"),
    C("partly_signed", "部分签字", colour="#8a6d00"),
    C("unsigned", "未签字", colour=NO_DATA_COLOUR),
    C("changed", "签字后被改动", colour="#b00020"),
    C("wrong_signer", "签字人不符", colour="#b00020"),
    C("invalid", "签字记录被篡改", colour="#b00020"),
)
"""A team report's sign-off (六(五)), decided in :mod:`xkaohe.analyse.signoff`."""
REPORT_KIND = _set(
    "report_kind",
    "报告类型",
    C("city", "市级报告"),
    C("county", "县级报告"),
    C("paired", "结对帮扶报告"),
)
DISCIPLINE_PARTY = _set(
    "discipline_party",
    "违纪方",
    C("assessed", "被考核地方", colour="#e6a700"),
    C("team", "考核组", colour="#b00020"),
)
"""Whom a discipline rule binds (the plan's ``discipline.rules[].party``, 八(二)(三))."""
RECTIFICATION_STAGE = _set(
    "rectification_stage",
    "整改进展",
    C("done", "已完成", colour="#2e7d32"),
    C("done_without_evidence", "已完成但无佐证", colour="#e6a700"),
    C("in_progress", "整改中（未到期）", colour="#90a4ae"),
    C("overdue", "逾期未完成", colour="#b00020"),
    C("not_returned", "台账未报回", colour=NO_DATA_COLOUR),
)
"""Where a fed-back problem stands (七(二)), decided in :mod:`xkaohe.analyse.rectification`."""
FEEDBACK_STATE = _set(
    "feedback_state",
    "反馈包状态",
    C("draft", "草稿（未发布）", colour=NO_DATA_COLOUR),
    C("released", "已发布", colour="#2e7d32"),
    C("changed_after_release", "发布后被改动", colour="#b00020"),
)
"""A city's feedback packages (八(三), 七(二)): :func:`xkaohe.run.signoff.feedback_state`."""

# ------------------------------------------------------------------ statuses and verdicts

_PASS, _NOT_FOUND, _FAIL = "#2ca02c", "#e6a700", "#d62728"

RATE_STATUS = _set(
    "rate_status",
    "状态",
    C("fail", "未达标", colour=_FAIL),
    C("not_found", "未发现超标", colour=_NOT_FOUND),
    C("pass", "达标", colour=_PASS),
    C("no_data", "无样本", colour=NO_DATA_COLOUR),
    C("unjudged", "不设标准", colour="#1f77b4"),
)
"""A rate's stored status (``R_status``) where the threshold is the county's exit standard.

``no_data`` (no surveyed household: the stored status is null) and
``unjudged`` (a rate the plan sets no threshold for) are display codes."""
RATE_STATUS_REFERENCE = _set(
    "rate_status_reference",
    "状态（参考线）",
    C("fail", "超出参考线", colour=_FAIL),
    C("not_found", "未发现超标", colour=_NOT_FOUND),
    C("pass", "优于参考线", colour=_PASS),
    C("no_data", "无样本", colour=NO_DATA_COLOUR),
    C("unjudged", "不设标准", colour="#1f77b4"),
)
"""The same statuses where the threshold is only a reference line (plan 八(二))."""
VERDICT = _set(
    "verdict",
    "结论",
    C("fail", "未达到贫困县退出标准", "未达标", colour=_FAIL),
    C("no_data", "无样本，无法判断", "无样本", colour=NO_DATA_COLOUR),
    C(
        "not_found",
        "未发现超标（样本不足以确认达标）",
        "未发现超标",
        colour=_NOT_FOUND,
        description="没有指标超出标准，但样本量不足以确认每项指标都在标准以内",
    ),
    C("pass", "达到贫困县退出标准", "达标", colour=_PASS),
)
"""A county's verdict (``county_verdicts``) where the thresholds are its exit standard."""
VERDICT_REFERENCE = _set(
    "verdict_reference",
    "结论（参考线）",
    C("fail", "有指标超出参考线", "超出参考线", colour=_FAIL),
    C("no_data", "无样本，无法判断", "无样本", colour=NO_DATA_COLOUR),
    C(
        "not_found",
        "未发现超标（样本不足以确认）",
        "未发现超标",
        colour=_NOT_FOUND,
        description="没有指标超出参考线，但样本量不足以确认每项指标都优于参考线",
    ),
    C("pass", "各项指标优于参考线", "优于参考线", colour=_PASS),
)
"""The same verdicts where the thresholds are only a reference line (plan 八(二))."""
VERDICT_SCOPE = _set(
    "verdict_scope",
    "标准性质",
    C("exit_standard", "退出标准（今年拟摘帽县）", "退出标准"),
    C("reference", "参考线（不作为达标判断）", "参考线"),
)


def status_set(scope: str | None) -> CodeSet:
    """The wording of rate statuses for a county of ``scope`` (reference unless exit_standard)."""
    return RATE_STATUS if scope == "exit_standard" else RATE_STATUS_REFERENCE


def verdict_set(scope: str | None) -> CodeSet:
    """The wording of verdicts for a county of ``scope`` (reference unless exit_standard)."""
    return VERDICT if scope == "exit_standard" else VERDICT_REFERENCE


def status_label(status: str | None, scope: str | None, short: bool = False) -> str:
    """A rate status in the county's wording; None (no household) reads 无样本."""
    return status_set(scope).label(status or "no_data", short)


def verdict_label(verdict: str | None, scope: str | None, short: bool = False) -> str:
    """A county verdict in the county's wording; None reads 无样本，无法判断."""
    return verdict_set(scope).label(verdict or "no_data", short)


def by_scope(codes: pl.Expr, scope: pl.Expr, kind: str = "status", short: bool = False) -> pl.Expr:
    """Statuses (``kind="status"``) or verdicts in each row's scope wording (polars)."""
    exit_set, ref_set = (
        (RATE_STATUS, RATE_STATUS_REFERENCE) if kind == "status" else (VERDICT, VERDICT_REFERENCE)
    )
    filled = codes.fill_null("no_data")
    return (
        pl.when(scope == "exit_standard")
        .then(exit_set.expr(filled, short))
        .otherwise(ref_set.expr(filled, short))
    )


CODE_SETS: dict[str, CodeSet] = {
    s.name: s
    for s in (
        COUNTY_CATEGORY,
        HOUSEHOLD_STATUS,
        SAMPLE_CATEGORY,
        VILLAGE_TYPE,
        PROJECT_KIND,
        PROJECT_LEVEL,
        INTERVIEW_LEVEL,
        ASSESSOR_LEVEL,
        ASSESSOR_KIND,
        MEMBER_ROLE,
        APPROVAL,
        PROJECT_STATUS,
        PROBLEM_LEVEL,
        REVIEW_OUTCOME,
        REVIEW_STATE,
        FINDING_SOURCE,
        FINDING_SCOPE,
        CONTENT_LEVEL,
        DISCREPANCY_KIND,
        PROJECT_FLAG,
        CLAIM_STATUS,
        CLAIM_SOURCE,
        CLAIM_ITEM,
        CLAIM_VERDICT,
        CLAIM_REASON,
        REDUCTION_PACE,
        PROJECT_RESULT,
        SURVEY_ITEM,
        CHECK_ITEM,
        HOUSEHOLD_CLASS,
        RATE,
        FIELD_TABLE,
        MEDIA_PROBLEM,
        FIELD_SIGNAL,
        IDENTIFICATION_CASE,
        SIGNOFF_STATUS,
        REPORT_KIND,
        DISCIPLINE_PARTY,
        RECTIFICATION_STAGE,
        FEEDBACK_STATE,
        RATE_STATUS,
        RATE_STATUS_REFERENCE,
        VERDICT,
        VERDICT_REFERENCE,
        VERDICT_SCOPE,
    )
}
"""Every code set by name."""

__all__ = [
    "APPROVAL",
    "ASSESSOR_KIND",
    "ASSESSOR_LEVEL",
    "CHECK_ITEM",
    "CLAIM_ITEM",
    "CLAIM_REASON",
    "CLAIM_SOURCE",
    "CLAIM_STATUS",
    "CLAIM_VERDICT",
    "CODE_SETS",
    "CONTENT_LEVEL",
    "COUNTY_CATEGORY",
    "DISCIPLINE_PARTY",
    "DISCREPANCY_KIND",
    "FEEDBACK_STATE",
    "FIELD_SIGNAL",
    "FIELD_TABLE",
    "FINDING_SCOPE",
    "FINDING_SOURCE",
    "HOUSEHOLD_CLASS",
    "HOUSEHOLD_STATUS",
    "IDENTIFICATION_CASE",
    "INTERVIEW_LEVEL",
    "MEDIA_PROBLEM",
    "MEMBER_ROLE",
    "NO_DATA_COLOUR",
    "PROBLEM_LEVEL",
    "PROJECT_FLAG",
    "PROJECT_KIND",
    "PROJECT_LEVEL",
    "PROJECT_RESULT",
    "PROJECT_STATUS",
    "RATE",
    "RATE_STATUS",
    "RATE_STATUS_REFERENCE",
    "RECTIFICATION_STAGE",
    "REDUCTION_PACE",
    "REPORT_KIND",
    "REVIEW_OUTCOME",
    "REVIEW_STATE",
    "SAMPLE_CATEGORY",
    "SIGNOFF_STATUS",
    "SURVEY_ITEM",
    "VERDICT",
    "VERDICT_REFERENCE",
    "VERDICT_SCOPE",
    "VILLAGE_TYPE",
    "Code",
    "CodeSet",
    "by_scope",
    "status_label",
    "status_set",
    "verdict_label",
    "verdict_set",
]
