"""Synthetic field returns for the drawn sample, with planted truth.

Everything here is **synthetic demo data**: what the teams would enter into the
assessment information system during the field week (plan 六(二); DESIGN.md,
"Field returns"), invented for the sample that :func:`xkaohe.draw.sampling.draw_sample`
drew from the synthetic frame of :mod:`xkaohe.synth.frame`. The five field tables
use the canonical columns and values of :data:`xkaohe.schemas.FIELD_TABLES`.
Claims and identification evidence are :mod:`xkaohe.synth.claims`.

Why one module of ~1,300 lines: the questionnaires, interviews, project checks
and problems are drawn from one random stream per part, in one order, and
every planted fault must agree across them (a planted wrong exit shows in the
survey, in the helper's claim and in the team's problem). Split into files,
that shared order and the planted truth table would have to travel between
them; the sections below (units, household survey, projects, interviews,
problems) are the seams.

What the visits find is mostly good news, as in the 2018 national exit checks
(DOMAIN.md, "Realistic rates": county rates are mostly exactly 0). A few faults
are **planted**, and the second dict returned says where (``truth/``, for
tests only):

* ``counties`` — about 6 % of the counties (at least 3) are bad: a wrong-exit
  share of about 12 % of the county's sampled exited households (at least 4,
  income below the plan's line or one of 两不愁三保障/饮水安全 not met), an
  omission share of about 15 % of its general households (at least 3), and/or
  approval of 78-84 %. Every other county is clean: no unqualified exited or
  general household and approval of at least 93 %. The table has the sample
  ratios as DESIGN.md defines them, and per county the wrong-inclusion
  evidence (0.5 % of registered households, anywhere), the unaware cadres
  and the households' awareness of their cadre.
* ``helpers_unaware`` — in about 15 % of the counties (at least 3), a quarter
  of the drawn assistance cadres (at least 2) do not know their households:
  wrong household size, income off by more than half, and those households
  say they do not know their cadre. Elsewhere at least
  ``consistency.helper_awareness_min`` of registered households know theirs.
* ``overclaim_villages`` — about 3 % of the villages (at least 3): the village
  cadres claim every registered household meets an item while
  ``floor(village_claim_mismatch_max * n) + 2`` of the n surveyed registered
  households do not. Elsewhere at most one surveyed household of a village
  fails any one item, so no other village exceeds the plan's tolerance.
* ``project_discrepancies`` — about 3 % of the sampled projects (at least 3):
  spending above the approved funds, a stopped project with money spent, or
  fewer paired-cooperation beneficiaries confirmed than drawn.
* ``short_completeness`` — a few counties whose report (plan 五) keeps fewer
  confirmed problems than ``reports.problems_min``, fewer experiences than
  ``reports.experiences.min``, or a kept problem without a suggestion.
* ``general_households`` — how each general household was found (quota or
  villager-group census).
* ``relapses`` — every surveyed relapsed household with the cause planted
  (三(一)1(8); each of the plan's causes at least once when there are as many
  relapsed households) and the year it had exited; exited households carry
  their exit year too.
* ``claims`` (issue 13) — every claim of the ``claims`` table (city and village
  meetings, county documents and interviews, helpers' claims, county and city
  self-assessments) with ``true_claim`` and ``planted``: honest claims say "true"
  only where no surveyed household or checked project of their unit fails the
  item; one city meeting, one county interview, one village meeting, one
  helper and one county self-assessment say "true" against failing evidence
  (``contradicting`` lists it).
* ``identification_cases`` — one planted case each of 未整户识别, 程序不规范,
  边缘户未纳入监测, a register-listed beneficiary who received nothing and a
  household with labour but no industry support (distinct counties where possible).
* ``skipped_interviews`` — planted gaps in the 五(三) interviews: a city's and a
  county's department heads, a village's poverty specialist.
* ``paired_visits`` — the questionnaires of the drawn beneficiaries of paired
  cooperation projects (五(四): 2-3 per project) that are not also drawn
  households of the village sample; they are clean and stay outside the
  county rates.

Every planted fault is also reported by its team as a problem, under the
plan item whose sub-item names it (C8 错退, C7 漏评 and 错评, C9 帮扶工作满意度
for approval and awareness, C1 问题查找 for over-claims, C4 驻村结对帮扶责任,
C6 项目和资金管理, P5 资金支持 and P2 产业合作 for paired projects).

Conventions: a city interview carries its city's first county code
(``county_code`` is required in the interviews table); a drawn cadre none of
whose households was surveyed has no interview (a long-form interview needs a
claim). All randomness comes from :func:`xkaohe.draw.seeded_rng`; the same
inputs and seed give identical tables. Generation is vectorised over
households; the only Python loops run over counties or text templates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

from xkaohe.codes import SURVEY_ITEM
from xkaohe.draw.prn import seeded_rng
from xkaohe.draw.sampling import SamplePackage
from xkaohe.plan import Plan
from xkaohe.schemas import (
    CLAIM_ITEMS,
    FIELD_TABLES,
    KIND_DTYPES,
    TableSpec,
    normalise_counties,
)
from xkaohe.synth.claims import evidence_fields, skip_interviews, synthesize_claims
from xkaohe.synth.common import EXITED, LEVEL_ORDER, Bools, Floats, Ints, smallest

__all__ = ["FAULTS", "ITEMS", "synthesize_field"]


ITEMS = ("food_clothing_ok", "education_ok", "medical_ok", "housing_safe", "water_safe")
FAULTS = ("wrong_exit", "omission", "low_approval")
_ITEM_ZH = {item: SURVEY_ITEM.label(item, short=True) for item in ITEMS}

# Shape of the synthetic returns (not plan numbers): shares of units planted.
_BAD_SHARE, _BAD_MIN = 0.06, 3
_FAULT_CYCLE = (("wrong_exit",), ("omission",), ("low_approval",), ("wrong_exit", "omission"),
                ("wrong_exit", "low_approval"), ("omission", "low_approval"))
_CATEGORY_WEIGHT = {"deep_poverty": 3.0, "exit_2019": 2.0, "exited": 1.5, "non_key": 1.0}
_WRONG_EXIT_SHARE, _WRONG_EXIT_MIN = 0.12, 4
_OMISSION_SHARE, _OMISSION_MIN = 0.15, 3
_LOW_APPROVAL = (0.16, 0.22)          # disapproving share in a low-approval county
_CLEAN_DISAPPROVE_MAX = 0.07          # at most this share disapproves elsewhere
_UNAWARE_COUNTIES, _UNAWARE_SHARE = 0.15, 0.25  # counties, then their drawn helpers
_OVERCLAIM_SHARE, _DISCREPANCY_SHARE = 0.03, 0.03
_INELIGIBLE_P = 0.005                 # registered households with evidence of 错评
_UNKNOWN_HELPER_P = 0.02              # households not knowing an aware helper
_SHORT_PROBLEMS_SHARE, _SHORT_EXPERIENCES_SHARE, _SHORT_SUGGESTIONS_SHARE = 0.04, 0.03, 0.03
# Household classes: exited, other registered, relapsed, general.
_INCOME_MEDIAN = np.array([9500.0, 4200.0, 3000.0, 14000.0])
_INCOME_SIGMA = np.array([0.45, 0.40, 0.35, 0.50])
_ITEM_FALSE_P = np.array([0.003, 0.006, 0.006, 0.02, 0.012])  # non-exited registered only
_FAULT_ITEM_P = np.array([0.0, 0.15, 0.20, 0.40, 0.25])        # which item a fault breaks

# City, county and paired-cadre statements that no evidence in the run can check:
# free text, as a team would write it down (the checked items are codes of
# codes.CLAIM_ITEM, delivered by xkaohe.synth.claims).
_CITY_ITEMS = ("问题整改任务已完成", "脱贫攻坚主体责任已落实", "扶贫资金已足额拨付",
               "扶贫项目监管到位")
_COUNTY_ITEMS = ("年度减贫任务已完成", "问题整改任务已完成", "各项扶贫政策已落实到户",
                 "建档立卡动态调整已完成", "扶贫资金已及时到位")
_PAIRED_ITEMS = ("结对合作项目按计划推进", "结对帮扶资金已到位")
_PAIRED_ROLES = ("seconded_cadre", "technical_expert")

_PROBLEM_TEXT = {
    "C1": ("部分农户危房改造后未进行住房安全等级鉴定，住房安全保障底数不清",
           "集中供水工程管护机制不健全，水质检测不及时",
           "控辍保学台账不完善，送教上门记录不全",
           "家庭医生签约服务流于形式，慢性病患者随访记录缺失"),
    "C2": ("上年度考核反馈问题整改台账不完整，部分问题整改成效不明显",
           "限期整改任务推进缓慢，个别任务未按时销号",
           "整改措施针对性不强，存在以文件落实整改的情况"),
    "C3": ("扶贫领域形式主义问题仍有发生，基层填表报数负担较重",
           "部分干部作风不实，入户走访记录与实际情况不符",
           "作风问题查摆不深入，整改措施泛泛而谈"),
    "C4": ("部分行业部门扶贫责任落实不到位，部门间数据共享不畅",
           "驻村工作队成员在岗时间不足，考勤管理不严",
           "帮扶责任人走访频次不足，帮扶手册记录不完整"),
    "C5": ("扶贫小额信贷到期续贷管理不规范，存在逾期风险",
           "产业奖补政策宣传不到位，部分农户不了解申报程序",
           "就业扶贫公益岗位设置随意，部分岗位人员实际未上岗",
           "易地扶贫搬迁安置点后续扶持措施不够具体"),
    "C6": ("边缘户和脱贫监测户摸底不全，动态监测机制运行不畅",
           "建档立卡信息系统数据与实际不一致，数据质量有待提高",
           "扶贫项目库建设不规范，部分项目论证不充分",
           "扶贫资金拨付进度偏慢，部分资金结余较多"),
    "P1": ("结对帮扶联席会议制度落实不到位，双方对接不够紧密",),
    "P2": ("共建产业合作园区入驻企业较少，带贫效果不明显",),
    "P3": ("劳务协作以组织招聘会为主，稳定就业人数偏少",),
    "P4": ("挂职干部和专业技术人才交流数量未达到协议要求",),
    "P5": ("结对帮扶资金到位滞后，部分资金未及时安排项目",),
    "P6": ("携手奔小康行动村企结对覆盖面不广，帮扶形式单一",),
    "M1": ("对所辖县问题整改督促指导不够，整改跟踪问效机制不健全",),
    "M2": ("市直部门扶贫责任分工不够明确，统筹协调不足",),
    "M3": ("部分扶贫政策市级配套细则出台滞后",),
    "M4": ("对县级脱贫攻坚工作调度不够，各县工作推进不平衡",),
    "M5": ("市级财政专项扶贫资金投入增幅偏低，资金安排与任务不匹配",),
    "M6": ("扶贫项目监管不到位，部分项目建成后管护机制缺失",),
}
_HOUSEHOLD_TEXT = (
    ("C5", "有1户农户符合产业奖补条件但未享受奖补资金"),
    ("C5", "有1户贫困户扶贫小额信贷已逾期，未及时处置"),
    ("C6", "有1户农户家庭人口信息与建档立卡系统记录不一致"),
    ("C4", "有1户贫困户帮扶手册填写不规范，帮扶措施记录缺失"),
)
_SUGGESTION = {
    "C1": "全面排查住房、饮水、教育、医疗保障情况，建立问题清单动态清零",
    "C2": "建立整改销号台账，对照清单逐项整改到位",
    "C3": "持续整治扶贫领域形式主义、官僚主义，切实减轻基层负担",
    "C4": "压实各级各部门责任，加强驻村工作队和帮扶责任人日常管理",
    "C5": "加大政策宣传和落实力度，确保各项扶贫政策应享尽享",
    "C6": "加强数据比对和动态监测，规范项目资金管理",
    "C7": "开展全面排查，对符合条件的农户及时纳入帮扶",
    "C8": "对错退户重新核实，及时纳入帮扶并落实帮扶措施",
    "C9": "改进帮扶方式，加强政策宣传和群众沟通，提升群众满意度",
    "P": "健全结对帮扶协作机制，加大资金、产业和人才支持力度",
    "M": "加强市级统筹指导和督促检查，推动问题整改落实",
}
_EVIDENCE = ("会议记录及相关文件", "访谈记录", "项目档案资料", "统计报表", "村级档案台账",
             "入户调查表及现场照片", "录音录像资料")
_EVIDENCE_UPPER = 4  # city and county problems draw from the first four only
_EXPERIENCES = (
    ("创新“四带一自”产业扶贫模式",
     "通过龙头企业、合作社、家庭农场和种养大户带动，贫困户自主发展特色种养业，户均增收明显。"),
    ("推行扶贫车间就近就业", "在村级建设扶贫车间，吸纳贫困劳动力就近就业，实现挣钱顾家两不误。"),
    ("光伏扶贫收益精准分配", "村级光伏电站收益主要用于设置公益岗位和奖励补助，激发内生动力。"),
    ("健康脱贫综合医疗保障", "落实先诊疗后付费和综合医保政策，有效防止因病致贫返贫。"),
    ("教育扶贫全程资助", "建立从学前教育到高等教育的全程资助体系，确保贫困家庭学生应助尽助。"),
    ("边缘户动态监测预警", "建立边缘户和脱贫监测户台账，定期排查，及时落实帮扶措施防止返贫致贫。"),
    ("扶贫项目资金公告公示", "全面推行扶贫项目资金公告公示制度，主动接受群众监督。"),
    ("“四季攻势”压茬推进", "按季度制定攻坚任务清单，挂图作战，逐项销号。"),
    ("党建引领村级集体经济发展", "通过党支部领办合作社，村级集体经济收入稳步增长。"),
    ("消费扶贫拓宽销路", "建设消费扶贫专柜和电商平台，帮助贫困户销售农特产品。"),
    ("易地搬迁后续扶持", "在安置点配套建设产业园和社区服务中心，确保搬迁群众稳得住、能致富。"),
    ("志智双扶激发内生动力", "开展感恩奋进宣讲和道德评议，激发贫困群众脱贫内生动力。"),
    ("扶贫小额信贷风险防控", "建立风险补偿金和到期提醒机制，贷款逾期率保持低位。"),
    ("农村危房改造质量管控", "实行改造前鉴定、改造中监督、改造后验收全流程管理。"),
    ("城乡供水一体化", "推进城乡供水一体化，农村自来水普及率明显提高。"),
)


def synthesize_field(frame: dict[str, pl.DataFrame], sample: SamplePackage, plan: Plan,
                     seed: str, lottery_teams: pl.DataFrame | None = None
                     ) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """Simulated field returns for ``sample`` and the truth planted in them.

    Parameters
    ----------
    frame
        The frame tables of :func:`xkaohe.synth.synthesize_frame` (canonical columns).
    sample
        The sample drawn from that frame.
    plan
        The plan: income line, field week, interview roles, content items,
        review days, completeness rules and the over-claim tolerance.
    seed
        Run seed; every random number derives from it.
    lottery_teams
        The lottery's ``teams`` table (``team_id``, ``target_cities`` as
        ``"A;B"``). Without it, cities ordered by their first county code get
        ``T01``, ``T02``, ... cycling through ``plan.teams.count`` teams.

    Returns
    -------
    tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]
        ``(field, truth)``. ``field``: ``household_survey``, ``interviews``,
        ``project_checks``, ``problems``, ``experiences``, each with exactly its
        spec's columns and dtypes. ``truth``: ``counties``, ``helpers_unaware``,
        ``overclaim_villages``, ``project_discrepancies``, ``short_completeness``,
        ``general_households``, ``relapses``, ``paired_visits``.

    Raises
    ------
    ValueError
        If ``lottery_teams`` assigns no team to a sampled city.
    """
    def rng(purpose: str) -> np.random.Generator:
        return seeded_rng(seed, f"synth-field/{purpose}")

    days = (plan.timeline.field_end - plan.timeline.field_start).days + 1
    counties = _counties(frame, sample, plan, lottery_teams, days, rng("counties"))
    villages = _villages(frame, sample, counties, days, rng("villages"))
    hh = _survey(frame, sample, plan, counties, villages, days, rng("survey")).join(
        counties.select("county_code", "team_id"), on="county_code", how="left",
        maintain_order="left")
    helpers = _helper_links(sample, hh, counties, rng("helpers"))
    hh = _knows_helper(hh, helpers, counties, plan, rng("knows-helper"))
    hh = _exit_and_relapse(hh, plan, rng("relapse"))
    hh, cases = evidence_fields(hh, frame, helpers, rng("evidence"))
    paired = _paired_visits(frame, sample, plan, counties, villages, hh, days,
                            rng("paired-visits"))
    checks, discrepancies = _project_checks(frame, sample, villages, counties,
                                            plan.timeline.field_start, days, rng("projects"))
    interviews, skipped = _interviews(sample, plan, hh, helpers, villages, counties,
                                      rng("interviews"), rng("skipped-interviews"))
    claims, claim_truth = synthesize_claims(hh, checks, frame, sample, helpers, counties, villages,
                                  cases, plan, rng("claims"))
    planted = _planted_problems(hh, helpers, discrepancies, counties, villages, plan)
    problems, experiences, short = _findings(planted, counties, villages, plan, days,
                                             rng("findings"))
    field = {
        "household_survey": _conform(
            pl.concat([hh, paired], how="diagonal_relaxed").sort(
                "village_code", pl.col("registered").not_(), "household_id"),
            "household_survey"),
        "interviews": _conform(interviews, "interviews"),
        "project_checks": _conform(checks, "project_checks"),
        "problems": _conform(problems, "problems"),
        "experiences": _conform(experiences, "experiences"),
        "claims": _conform(claims, "claims"),
    }
    truth = {
        "counties": _county_truth(hh, helpers, counties),
        "helpers_unaware": helpers.filter(pl.col("unaware")).select(
            "helper_id", "household_id", "county_code", "village_code").sort(
            "helper_id", "household_id"),
        "overclaim_villages": _overclaim_truth(hh),
        "project_discrepancies": discrepancies.select("project_id", "county_code", "kind"),
        "short_completeness": short,
        "general_households": hh.filter(~pl.col("registered")).select(
            "county_code", "village_code", "household_id", "villager_group",
            pl.when(pl.col("villager_group").is_null()).then(pl.lit("quota"))
            .otherwise(pl.lit("group_census")).alias("source")).sort(
            "village_code", "household_id"),
        "relapses": hh.filter(pl.col("status") == "relapsed").select(
            "county_code", "village_code", "household_id", "relapse_cause", "exit_year",
            "qualified").sort("village_code", "household_id"),
        "paired_visits": paired.select("county_code", "project_id", "village_code",
                                       "household_id").sort("project_id", "household_id"),
        "claims": claim_truth,
        "identification_cases": cases,
        "skipped_interviews": skipped,
    }
    return field, truth


# --- helpers ------------------------------------------------------------------------------


def _rank_within(groups: Ints, key: Floats) -> Ints:
    """0-based rank of each row's ``key`` within its group (ties by row order)."""
    order = np.lexsort((key, groups))
    g = groups[order]
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1] if len(g) else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, len(g)])
    rank = np.empty(len(g), dtype=np.int64)
    rank[order] = np.arange(len(g)) - np.repeat(starts, lengths)
    return rank


def _pick(eligible: Bools, groups: Ints, key: Floats, k: Ints) -> Bools:
    """The ``k`` eligible rows with the smallest ``key`` in each group (``k`` per row)."""
    rank = _rank_within(groups, np.where(eligible, key, np.inf))
    return eligible & (rank < k)


def _count_in(groups: Ints, mask: Bools, n_groups: int) -> Ints:
    """Per row: how many rows of its group are in ``mask``."""
    return np.bincount(groups, weights=mask, minlength=n_groups).astype(np.int64)[groups]


def _n_planted(n: int, share: float, minimum: int) -> int:
    return min(n, max(minimum, round(share * n)))


def _codes(s: pl.Series) -> Ints:
    """Dense 0-based integer codes of a (non-null) series, in sorted order of values."""
    return (s.rank("dense").to_numpy().astype(np.int64) - 1) if len(s) else np.zeros(0, np.int64)


def _index(values: pl.Series, keys: pl.Series) -> Ints:
    """Position in ``keys`` of each value (every value is one of the keys)."""
    lookup = dict(zip(keys.to_list(), range(keys.len()), strict=True))
    return values.replace_strict(lookup, return_dtype=pl.Int64).to_numpy()


def _dates(start: dt.date, day: Ints) -> pl.Series:
    return pl.Series((np.datetime64(start, "D") + day.astype("timedelta64[D]")), dtype=pl.Date)


def _choice(pool: Sequence[str], idx: Ints) -> pl.Series:
    return pl.Series(list(pool), dtype=pl.String).gather(idx)


# --- units --------------------------------------------------------------------------------


def _team_of_city(cities: pl.DataFrame, plan: Plan,
                  lottery_teams: pl.DataFrame | None) -> pl.DataFrame:
    """``city_name, team_id``: from the lottery, or ``T01``... by first county code."""
    if lottery_teams is None:
        ordered = cities.sort("_first")
        n = plan.teams.count
        return ordered.select("city_name", pl.format(
            "T{}", ((pl.int_range(pl.len()) % n) + 1).cast(pl.String).str.zfill(2))
            .alias("team_id"))
    teams = lottery_teams.select("team_id", pl.col("target_cities").str.split(";")).explode(
        "target_cities").select("team_id", pl.col("target_cities").str.strip_chars()
                                .alias("city_name")).unique("city_name", keep="first",
                                                            maintain_order=True)
    out = cities.select("city_name").join(teams, on="city_name", how="left",
                                          maintain_order="left")
    missing = out.filter(pl.col("team_id").is_null())["city_name"].to_list()
    if missing:
        raise ValueError(f"lottery_teams assigns no team to {', '.join(missing)}; expected "
                         "every sampled city in some team's target_cities")
    return out


def _counties(frame: dict[str, pl.DataFrame], sample: SamplePackage, plan: Plan,
              lottery_teams: pl.DataFrame | None, days: int,
              rng: np.random.Generator) -> pl.DataFrame:
    """Sampled counties: city, team, first field day and planted faults."""
    c = (normalise_counties(frame["counties"])
         .join(sample.villages.select("county_code").unique(), on="county_code", how="semi")
         .sort("county_code")
         .select("county_code", "county_name", "city_name", "category", "deep_poverty",
                 (pl.col("national_poverty_county")
                  & pl.col("paired_helper_county").is_not_null()).alias("paired")))
    cities = c.group_by("city_name").agg(_first=pl.col("county_code").min())
    teams = _team_of_city(cities, plan, lottery_teams)
    c = c.join(teams, on="city_name", how="left", maintain_order="left")
    n = c.height
    day0 = rng.integers(0, max(1, days - 1), n)
    weight = np.where(c["deep_poverty"].to_numpy(), _CATEGORY_WEIGHT["deep_poverty"],
                      c["category"].replace_strict(_CATEGORY_WEIGHT, default=1.0,
                                                   return_dtype=pl.Float64).to_numpy())
    key = -np.log(rng.random(n)) / weight  # weighted draw without replacement (exp. keys)
    bad = smallest(key, _n_planted(n, _BAD_SHARE, _BAD_MIN))
    order = np.full(n, -1, dtype=np.int64)
    order[np.flatnonzero(bad)] = np.arange(int(bad.sum()))
    faults = {f: np.array([o >= 0 and f in _FAULT_CYCLE[o % len(_FAULT_CYCLE)] for o in order])
              for f in FAULTS}
    return c.with_columns(day0=pl.Series(day0, dtype=pl.Int64),
                          **{f: pl.Series(v, dtype=pl.Boolean) for f, v in faults.items()})


def _villages(frame: dict[str, pl.DataFrame], sample: SamplePackage, counties: pl.DataFrame,
              days: int, rng: np.random.Generator) -> pl.DataFrame:
    """Sampled villages with their name and visit day (the county's first day + 0-2)."""
    v = (sample.villages.select("county_code", "village_code").sort("village_code")
         .join(frame["villages"].select("village_code", "village_name"), on="village_code",
               how="left", maintain_order="left")
         .join(counties.select("county_code", "day0"), on="county_code", how="left",
               maintain_order="left"))
    day = np.minimum(v["day0"].to_numpy() + rng.integers(0, 3, v.height), days - 1)
    return v.with_columns(day=pl.Series(day, dtype=pl.Int64))


# --- household survey ---------------------------------------------------------------------


def _visited(frame: dict[str, pl.DataFrame], sample: SamplePackage, villages: pl.DataFrame,
             rng: np.random.Generator) -> pl.DataFrame:
    """Every sampled household, then the general households (quota, then census groups)."""
    reg = (sample.households.select("village_code", "household_id")
           .join(frame["households"].select("household_id", "status", "household_size",
                                            "helper_id"),
                 on="household_id", how="left", maintain_order="left")
           .with_columns(registered=pl.lit(True), villager_group=pl.lit(None, pl.String)))
    quota = sample.general_quota.select("village_code", "count").sort("village_code")
    groups = sample.villager_groups.select("village_code", "villager_group").sort(
        "village_code", "villager_group")
    extra = rng.integers(3, 11, groups.height)
    gen = pl.concat([
        quota.select(pl.col("village_code").repeat_by("count")).explode("village_code")
        .with_columns(villager_group=pl.lit(None, pl.String)),
        groups.select(pl.col("village_code").gather(np.repeat(np.arange(groups.height), extra)),
                      pl.col("villager_group").gather(
                          np.repeat(np.arange(groups.height), extra))),
    ]).filter(pl.col("village_code").is_not_null())
    gen = gen.sort("village_code", maintain_order=True).with_columns(
        household_id=pl.format("{}G{}", "village_code",
                               (pl.int_range(pl.len()).over("village_code") + 1)
                               .cast(pl.String).str.zfill(3)),
        status=pl.lit(None, pl.String), household_size=pl.lit(None, pl.Int64),
        helper_id=pl.lit(None, pl.String), registered=pl.lit(False))
    both = pl.concat([reg, gen.select(reg.columns)])
    return both.join(villages.select("village_code", "county_code", "day"), on="village_code",
                     how="left", maintain_order="left")


def _survey(frame: dict[str, pl.DataFrame], sample: SamplePackage, plan: Plan,
            counties: pl.DataFrame, villages: pl.DataFrame, days: int,
            rng: np.random.Generator) -> pl.DataFrame:
    """The household survey, with working columns: frame status, helper, planted flags."""
    hh = _visited(frame, sample, villages, rng)
    n = hh.height
    line = plan.indicators.income_line_yuan
    status = hh["status"]
    exited = status.is_in(list(EXITED)).fill_null(False).to_numpy()
    registered = hh["registered"].to_numpy()
    cls = np.where(~registered, 3, np.where(exited, 0, np.where(
        (status == "relapsed").fill_null(False).to_numpy(), 2, 1))).astype(np.int64)
    cty = counties.sort("county_code")
    county = _index(hh["county_code"], cty["county_code"])
    village = _codes(hh["village_code"])
    is_fault = {f: cty[f].to_numpy()[county] for f in FAULTS}

    # Size, visit day, income, the five items.
    frame_size = hh["household_size"].fill_null(1).to_numpy()
    shift = np.where(rng.random(n) < 0.05, rng.choice(np.array([-1, 1]), n), 0)
    size = np.where(registered, np.maximum(1, frame_size + shift),
                    1 + np.minimum(rng.poisson(2.0, n), 7)).astype(np.int64)
    vday = hh["day"].to_numpy()
    late = rng.random(n) < 0.12
    day = np.where(late & (vday < days - 1), vday + 1, np.where(late & (vday > 0), vday - 1, vday))
    income = rng.lognormal(np.log(_INCOME_MEDIAN[cls]), _INCOME_SIGMA[cls])
    floor = np.select([cls == 0, cls == 3], [line * rng.uniform(1.08, 1.5, n),
                                             line * rng.uniform(1.3, 2.0, n)], 0.0)
    income = np.maximum(income, floor)
    items = ~((rng.random((n, len(ITEMS))) < _ITEM_FALSE_P) & np.isin(cls, (1, 2))[:, None])

    # Planted wrong exits and omissions: bigger households first (key u / size).
    n_c = cty.height
    key = rng.random(n) / size
    wrong = _pick(exited & is_fault["wrong_exit"], county, key, np.maximum(
        _WRONG_EXIT_MIN, np.ceil(_WRONG_EXIT_SHARE * _count_in(county, exited, n_c)))
        .astype(np.int64))
    general = cls == 3
    omitted = _pick(general & is_fault["omission"], county, key, np.maximum(
        _OMISSION_MIN, np.ceil(_OMISSION_SHARE * _count_in(county, general, n_c)))
        .astype(np.int64))
    by_item = rng.random(n) < np.where(wrong, 0.35, 0.2)
    which = rng.choice(len(ITEMS), n, p=_FAULT_ITEM_P)
    items[np.flatnonzero((wrong | omitted) & by_item), which[(wrong | omitted) & by_item]] = False

    # Over-claiming villages: enough non-exited registered households fail one item.
    thr = plan.consistency.village_claim_mismatch_max
    n_v = int(village.max()) + 1 if n else 0
    other = np.isin(cls, (1, 2))
    need_v = np.floor(thr * np.bincount(village, weights=registered, minlength=n_v)) + 2
    able = np.bincount(village, weights=other, minlength=n_v) >= need_v
    vkey = np.where(able, rng.random(n_v), np.inf)
    over_v = smallest(vkey, min(int(able.sum()), _n_planted(n_v, _OVERCLAIM_SHARE, 3)))
    over_item = rng.choice(len(ITEMS), n_v, p=_FAULT_ITEM_P)[village]
    overclaimed = _pick(other & over_v[village], village, rng.random(n),
                        need_v.astype(np.int64)[village])
    items[np.flatnonzero(overclaimed), over_item[overclaimed]] = False

    # Elsewhere at most one failing household per village and item (planted faults first).
    tie = rng.random(n) - 2.0 * (wrong | omitted)
    for j in range(len(ITEMS)):
        free = ~items[:, j] & ~(overclaimed & (over_item == j))
        keep = _pick(free, village, tie, np.ones(n, dtype=np.int64))
        items[free & ~keep, j] = True
    broken = (wrong | omitted) & items.all(axis=1) & (income >= line)
    income = np.where(wrong | omitted, np.where(
        broken | ~by_item, line * rng.uniform(0.55, 0.95, n), income), income)

    # Wrong inclusion, knowing the helper, approval.
    ineligible = registered & ~wrong & (rng.random(n) < _INELIGIBLE_P)
    income = np.where(ineligible, income * 1.6, income)
    approval = _approval(county, is_fault["low_approval"], n_c, rng)
    return hh.select("county_code", "village_code", "household_id", "registered", "status",
                     "helper_id", "villager_group").with_columns(
        visit_date=_dates(plan.timeline.field_start, day),
        household_size=pl.Series(size, dtype=pl.Int64),
        income_per_capita_yuan=pl.Series(np.round(income), dtype=pl.Float64),
        **{c: pl.Series(items[:, j], dtype=pl.Boolean) for j, c in enumerate(ITEMS)},
        ineligible_evidence=pl.when(pl.col("registered")).then(
            pl.Series(ineligible, dtype=pl.Boolean)),
        approval=pl.Series(approval, dtype=pl.String),
        planted_wrong_exit=pl.Series(wrong, dtype=pl.Boolean),
        planted_omission=pl.Series(omitted, dtype=pl.Boolean),
        overclaim_item=pl.when(pl.Series(overclaimed)).then(
            _choice(ITEMS, over_item)),
        qualified=pl.Series(items.all(axis=1) & (np.round(income) >= line), dtype=pl.Boolean),
        day=pl.Series(day, dtype=pl.Int64),
    )


def _exit_years(status: pl.Series, plan: Plan, rng: np.random.Generator) -> pl.Series:
    """The year each exited or relapsed household exited (null for the others).

    exited_2019 exited in the plan's year; exited_2016_2018 and relapsed
    households in one of the three years before it.
    """
    n = status.len()
    earlier = rng.integers(plan.year - 3, plan.year, n)
    year = np.where((status == "exited_2019").fill_null(False).to_numpy(), plan.year, earlier)
    has = status.is_in(["exited_2019", "exited_2016_2018", "relapsed"]).fill_null(False)
    return pl.Series(year, dtype=pl.Int64).zip_with(has, pl.Series([None] * n, dtype=pl.Int64))


def _exit_and_relapse(hh: pl.DataFrame, plan: Plan, rng: np.random.Generator) -> pl.DataFrame:
    """``exit_year`` and ``relapse_cause`` (三(一)1(8)) of the surveyed households.

    Relapsed households in random order take the plan's causes one each, so
    every cause is planted once when there are enough of them; the rest draw
    a cause at random.
    """
    n = hh.height
    years = _exit_years(hh["status"], plan, rng)
    relapsed = (hh["status"] == "relapsed").fill_null(False).to_numpy()
    causes = [c.code for c in plan.relapse_causes]
    rank = _rank_within(np.zeros(n, np.int64), np.where(relapsed, rng.random(n), np.inf))
    pick = np.where(rank < len(causes), rank, rng.integers(0, len(causes), n)) % len(causes)
    return hh.with_columns(
        exit_year=years,
        relapse_cause=pl.when(pl.Series(relapsed)).then(_choice(causes, pick)),
    )


def _paired_visits(frame: dict[str, pl.DataFrame], sample: SamplePackage, plan: Plan,
                   counties: pl.DataFrame, villages: pl.DataFrame, surveyed: pl.DataFrame,
                   days: int, rng: np.random.Generator) -> pl.DataFrame:
    """Questionnaires of the drawn paired-project beneficiaries (五(四)) not already surveyed.

    Visited by the county's team on the village's day when the village is
    sampled, else on one day within two of the county's first. All clean: the
    pairing report reads them, the county rates never do.
    """
    beneficiaries = (
        sample.project_households.select("project_id", "household_id", "village_code")
        .join(sample.projects.select("project_id", "county_code"), on="project_id", how="left")
        .sort("village_code", "household_id", "project_id")
        .unique(["village_code", "household_id"], keep="first", maintain_order=True)
        .join(surveyed.select("village_code", "household_id"), on=["village_code",
                                                                   "household_id"], how="anti")
        .join(frame["households"].select("household_id", "status", "household_size",
                                         "helper_id", "villager_group"),
              on="household_id", how="left", maintain_order="left")
        .join(counties.select("county_code", "team_id", "day0"), on="county_code", how="left",
              maintain_order="left")
        .join(villages.select("village_code", "day"), on="village_code", how="left",
              maintain_order="left")
    )
    n = beneficiaries.height
    status = beneficiaries["status"]
    exited = status.is_in(list(EXITED)).fill_null(False).to_numpy()
    cls = np.where(exited, 0, np.where((status == "relapsed").fill_null(False).to_numpy(), 2, 1))
    line = plan.indicators.income_line_yuan
    income = np.maximum(rng.lognormal(np.log(_INCOME_MEDIAN[cls]), _INCOME_SIGMA[cls]),
                        line * rng.uniform(1.08, 1.5, n))
    village = _codes(beneficiaries["village_code"])  # one day per village
    offset = rng.integers(0, 3, int(village.max()) + 1 if n else 0)[village]
    first = np.minimum(beneficiaries["day0"].to_numpy() + offset, days - 1)
    day = np.where(beneficiaries["day"].is_null().to_numpy(), first,
                   beneficiaries["day"].fill_null(0).to_numpy())
    out = beneficiaries.select(
        "county_code", "project_id", "village_code", "household_id", "status", "helper_id",
        "villager_group", "team_id",
        registered=pl.lit(True),
        visit_date=_dates(plan.timeline.field_start, day),
        household_size=pl.col("household_size").fill_null(1),
        income_per_capita_yuan=pl.Series(np.round(income), dtype=pl.Float64),
        **{c: pl.lit(True) for c in ITEMS},
        ineligible_evidence=pl.lit(False),
        knows_helper=pl.Series(rng.random(n) < 0.97, dtype=pl.Boolean),
        approval=pl.Series(np.where(rng.random(n) < 0.8, "approve", "basic"), dtype=pl.String),
        qualified=pl.lit(True),
        day=pl.Series(day, dtype=pl.Int64),
    )
    return _exit_and_relapse(out, plan, rng)


def _approval(county: Ints, low: Bools, n_c: int, rng: np.random.Generator) -> npt.NDArray[
        np.str_]:
    """Approval answers: few disapprove, except in the planted low-approval counties."""
    n = len(county)
    u = rng.random(n)
    dis = u < 0.035
    per = np.bincount(county, minlength=n_c)[county]
    cap = np.floor(_CLEAN_DISAPPROVE_MAX * per).astype(np.int64)
    target = np.ceil(rng.uniform(*_LOW_APPROVAL, n_c)[county] * per).astype(np.int64)
    dis = np.where(low, _pick(np.ones(n, dtype=bool), county, np.where(dis, -1.0, u), target),
                   _pick(dis, county, u, cap))
    return np.where(dis, "disapprove", np.where(rng.random(n) < 0.2, "basic", "approve"))


def _helper_links(sample: SamplePackage, hh: pl.DataFrame, counties: pl.DataFrame,
                  rng: np.random.Generator) -> pl.DataFrame:
    """Drawn assistance cadres and their surveyed households; some planted as unaware.

    Unawareness is zero-heavy like the rates: it is planted in a few counties,
    in a quarter of their drawn cadres (at least 2).
    """
    drawn = sample.interviewees.filter(pl.col("level") == "helper").select(
        "county_code", "village_code", "helper_id").unique("helper_id").sort("helper_id")
    links = drawn.join(hh.filter(pl.col("registered")).select("helper_id", "household_id"),
                       on="helper_id", how="inner").sort("helper_id", "household_id")
    ids = links.select("helper_id", "county_code").unique("helper_id").sort("helper_id")
    county = _index(ids["county_code"], counties["county_code"])
    n_c = counties.height
    chosen = smallest(rng.random(n_c), _n_planted(n_c, _UNAWARE_COUNTIES, 3))
    per = np.bincount(county, minlength=n_c)
    k = np.maximum(2, np.round(_UNAWARE_SHARE * per)).astype(np.int64)[county]
    unaware = ids["helper_id"].filter(pl.Series(
        _pick(chosen[county], county, rng.random(ids.height), k)))
    return links.with_columns(unaware=pl.col("helper_id").is_in(unaware.implode()))


def _knows_helper(hh: pl.DataFrame, helpers: pl.DataFrame, counties: pl.DataFrame, plan: Plan,
                  rng: np.random.Generator) -> pl.DataFrame:
    """Whether a registered household knows its helper (null for general households).

    Households of unaware cadres do not; a few others do not either, but
    outside the counties with unaware cadres never so many that the county's
    share falls below ``consistency.helper_awareness_min``.
    """
    n = hh.height
    county = _index(hh["county_code"], counties["county_code"])
    n_c = counties.height
    registered = hh["registered"].to_numpy()
    unaware_hh = hh["household_id"].is_in(
        helpers.filter(pl.col("unaware"))["household_id"].implode()).to_numpy()
    planted = np.bincount(county, weights=unaware_hh, minlength=n_c) > 0
    per = np.bincount(county, weights=registered, minlength=n_c)
    cap = np.where(planted, n, np.maximum(
        0, np.floor((1 - plan.consistency.helper_awareness_min) * per) - 1)).astype(np.int64)
    u = rng.random(n)
    forgot = _pick(registered & ~unaware_hh & (u < _UNKNOWN_HELPER_P), county, u, cap[county])
    return hh.with_columns(knows_helper=pl.when(pl.col("registered")).then(
        pl.Series(~(unaware_hh | forgot), dtype=pl.Boolean)))


def _overclaim_truth(hh: pl.DataFrame) -> pl.DataFrame:
    """Planted over-claims with the surveyed registered households contradicting them."""
    reg = hh.filter(pl.col("registered"))
    planted = reg.filter(pl.col("overclaim_item").is_not_null()).select(
        "village_code", pl.col("overclaim_item").alias("item")).unique()
    long = reg.unpivot(list(ITEMS), index=["county_code", "village_code"], variable_name="item",
                       value_name="ok")
    counts = long.group_by("county_code", "village_code", "item").agg(
        contradicting=(~pl.col("ok")).sum().cast(pl.Int64),
        registered_surveyed=pl.len().cast(pl.Int64))
    return counts.join(planted, on=["village_code", "item"], how="semi").select(
        "village_code", "county_code", "item", "contradicting", "registered_surveyed").sort(
        "village_code", "item")


def _county_truth(hh: pl.DataFrame, helpers: pl.DataFrame,
                  counties: pl.DataFrame) -> pl.DataFrame:
    """Planted faults per county and the sample ratios they give (DESIGN.md definitions)."""
    exited = pl.col("status").is_in(list(EXITED)).fill_null(False)
    general = ~pl.col("registered")
    unq = ~pl.col("qualified")
    size = pl.col("household_size")

    def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
        total = size.filter(den).sum()
        return pl.when(total > 0).then(size.filter(den & num).sum() / total)

    rates = hh.group_by("county_code").agg(
        wrong_exit_households=(exited & unq).sum().cast(pl.Int64),
        omission_households=(general & unq).sum().cast(pl.Int64),
        wrong_exit_ratio=ratio(unq, exited).cast(pl.Float64),
        omission_ratio=ratio(unq, general).cast(pl.Float64),
        approval_ratio=pl.col("approval").is_in(["approve", "basic"]).mean().cast(pl.Float64),
        wrong_inclusion_households=pl.col("ineligible_evidence").sum().cast(pl.Int64),
        wrong_inclusion_ratio=pl.col("ineligible_evidence").mean().cast(pl.Float64),
        helper_awareness=pl.col("knows_helper").mean().cast(pl.Float64),
    )
    unaware = helpers.filter(pl.col("unaware")).group_by("county_code").agg(
        unaware_helpers=pl.col("helper_id").n_unique().cast(pl.Int64))
    labels = pl.concat_str([pl.when(pl.col(f)).then(pl.lit(f)) for f in FAULTS],
                           separator="+", ignore_nulls=True)
    return (
        counties.select("county_code", "county_name", "city_name", "category", *FAULTS)
        .join(rates, on="county_code", how="left", maintain_order="left")
        .join(unaware, on="county_code", how="left", maintain_order="left")
        .with_columns(planted=pl.when(pl.any_horizontal(*FAULTS)).then(labels)
                      .otherwise(pl.lit("clean")),
                      unaware_helpers=pl.col("unaware_helpers").fill_null(0))
        .select("county_code", "county_name", "city_name", "category", "planted", *FAULTS,
                "wrong_exit_households", "omission_households", "wrong_exit_ratio",
                "omission_ratio", "approval_ratio", "wrong_inclusion_households",
                "wrong_inclusion_ratio", "unaware_helpers", "helper_awareness")
    )


# --- projects -----------------------------------------------------------------------------


def _project_checks(frame: dict[str, pl.DataFrame], sample: SamplePackage,
                    villages: pl.DataFrame, counties: pl.DataFrame, start: dt.date, days: int,
                    rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One check per sampled project; a few planted discrepancies (with an ``issue``)."""
    drawn = sample.project_households.group_by("project_id").agg(
        drawn=pl.len().cast(pl.Int64))
    listed = frame["project_beneficiaries"].group_by("project_id").agg(
        listed=pl.len().cast(pl.Int64))
    p = (sample.projects.select("county_code", "project_id", "kind")
         .join(frame["projects"].select("project_id", "village_code", "name",
                                        pl.col("funds_yuan").cast(pl.Float64)),
               on="project_id", how="left", maintain_order="left")
         .join(drawn, on="project_id", how="left", maintain_order="left")
         .join(listed, on="project_id", how="left", maintain_order="left")
         .join(villages.select("village_code", pl.col("day").alias("vday")),
               on="village_code", how="left", maintain_order="left")
         .join(counties.select("county_code", "day0"), on="county_code", how="left",
               maintain_order="left")
         .with_columns(pl.col("drawn", "listed").fill_null(0)))
    n = p.height
    paired = (p["kind"] == "paired_cooperation").to_numpy()
    funds = p["funds_yuan"].fill_null(0.0).to_numpy()
    n_drawn = p["drawn"].to_numpy()
    u = rng.random(n)
    status = np.where(u < 0.68, "completed", np.where(u < 0.95, "in_progress", "not_started"))
    share = np.select([status == "completed", status == "in_progress"],
                      [rng.uniform(0.85, 1.0, n), rng.uniform(0.2, 0.8, n)], 0.0)
    spent = np.floor(funds * share / 100) * 100
    confirmed = np.where(paired, n_drawn, p["listed"].to_numpy())
    day = np.where(p["vday"].is_null().to_numpy(),
                   np.minimum(p["day0"].to_numpy() + rng.integers(0, 3, n), days - 1),
                   p["vday"].fill_null(0).to_numpy())

    # Planted: fewer beneficiaries than drawn (paired), overspending, stopped but spent.
    n_pick = _n_planted(n, _DISCREPANCY_SHARE, 3)
    can_short = paired & (n_drawn >= 1)
    key = rng.random(n)
    short = smallest(np.where(can_short, key, np.inf),
                      min(int(can_short.sum()), max(1, n_pick // 3)))
    rest = ~short & (funds > 0)
    money = smallest(np.where(rest, key, np.inf), min(int(rest.sum()), n_pick - int(short.sum())))
    over = money & (_rank_within(np.zeros(n, np.int64), np.where(money, key, np.inf)) % 2 == 0)
    stopped = money & ~over
    status = np.where(over, "completed", np.where(stopped, "abandoned", status))
    spent = np.where(over, np.round(funds * rng.uniform(1.12, 1.4, n), -2),
                     np.where(stopped, np.round(funds * rng.uniform(0.3, 0.7, n), -2), spent))
    confirmed = np.where(short, n_drawn - 1, confirmed)
    kind = np.select([over, stopped, short], ["overspent", "abandoned_spent",
                                              "beneficiaries_short"], "")
    p = p.with_columns(
        date=_dates(start, day),
        status=pl.Series(status, dtype=pl.String),
        funds_spent_yuan=pl.when(pl.col("funds_yuan").is_not_null()).then(
            pl.Series(spent, dtype=pl.Float64)),
        beneficiaries_confirmed=pl.when(pl.Series(paired | (p["kind"] == "household_policy")
                                                  .to_numpy())).then(
            pl.Series(confirmed, dtype=pl.Int64)),
        kind_planted=pl.Series(kind, dtype=pl.String),
        day=pl.Series(day, dtype=pl.Int64),
        # 五(五) 项目成效: as far as the project has come
        result=pl.Series(np.select([status == "completed", status == "in_progress",
                                    status == "abandoned"], ["reached", "partly", "not"],
                                   ""), dtype=pl.String).replace("", None),
    )
    spent_s = pl.col("funds_spent_yuan").cast(pl.Int64).cast(pl.String)
    issue = (pl.when(pl.col("kind_planted") == "overspent")
             .then(pl.format("已支出资金{}元，超过批复资金{}元，存在超支", spent_s,
                             pl.col("funds_yuan").cast(pl.Int64).cast(pl.String)))
             .when(pl.col("kind_planted") == "abandoned_spent")
             .then(pl.format("项目已停工，但已支出资金{}元，资金使用效益未发挥", spent_s))
             .when(pl.col("kind_planted") == "beneficiaries_short")
             .then(pl.format("抽查{}户受益户，仅{}户核实受益，受益户与项目台账不符",
                             pl.col("drawn").cast(pl.String),
                             pl.col("beneficiaries_confirmed").cast(pl.String))))
    p = p.with_columns(issue=issue)
    planted = p.filter(pl.col("kind_planted") != "").select(
        "project_id", "county_code", "village_code", pl.col("kind_planted").alias("kind"),
        pl.col("kind").alias("project_kind"), "name", "issue", "day")
    return p, planted


# --- interviews ---------------------------------------------------------------------------



def _repeat_quota(df: pl.DataFrame) -> pl.DataFrame:
    """One row per person to interview (the quota rows carry ``count``)."""
    idx = np.repeat(np.arange(df.height), df["count"].to_numpy())
    return df.drop("count").select(pl.all().gather(idx)).with_columns(
        _seq=pl.int_range(pl.len()).over("county_code", "village_code", "role"))


def _interview_heads(sample: SamplePackage, helpers: pl.DataFrame, villages: pl.DataFrame,
                     counties: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """One row per interview: who, where and on which field day; ids in a stable order."""
    q = sample.interviewees
    # A city interview has no county of its own, but ``county_code`` is required
    # (schemas.INTERVIEWS): it carries the city's first county code.
    city = counties.group_by("city_name").agg(city_code=pl.col("county_code").min(),
                                              day=pl.col("day0").min())
    cities = _repeat_quota(
        q.filter(pl.col("level") == "city").select("city_name", "level", "role", "count")
        .join(city, on="city_name", how="inner", maintain_order="left")
        .select(pl.col("city_code").alias("county_code"),
                pl.lit(None, pl.String).alias("village_code"), "level", "role", "count", "day"))
    cty = _repeat_quota(
        q.filter(pl.col("level") == "county").select("county_code", "level", "role", "count")
        .join(counties.select("county_code", pl.col("day0").alias("day")), on="county_code",
              how="inner", maintain_order="left")
        .select("county_code", pl.lit(None, pl.String).alias("village_code"), "level", "role",
                "count", "day"))
    vil = _repeat_quota(
        q.filter(pl.col("level") == "village").select("village_code", "level", "role", "count")
        .join(villages.select("village_code", "county_code", "day"), on="village_code",
              how="inner", maintain_order="left")
        .select("county_code", "village_code", "level", "role", "count", "day"))
    people = pl.concat([cities, cty, vil]).with_columns(person_id=pl.lit(None, pl.String))
    cadres = (helpers.select("county_code", "village_code", "helper_id").unique("helper_id")
              .join(villages.select("village_code", "day"), on="village_code", how="left",
                    maintain_order="left")
              .sort("helper_id"))
    by_phone = rng.random(cadres.height) < 0.1  # phoned the next evening
    cadres = cadres.select(
        "county_code", "village_code", level=pl.lit("helper"), role=pl.lit("assistance_cadre"),
        day=pl.col("day") + pl.Series(by_phone.astype(np.int64)), _seq=pl.lit(0, pl.Int64),
        person_id=pl.col("helper_id"))
    heads = pl.concat([people.select(cadres.columns), cadres]).with_columns(
        _lvl=pl.col("level").replace_strict(LEVEL_ORDER, return_dtype=pl.Int64))
    heads = heads.sort("county_code", "_lvl", "village_code", "role", "_seq", "person_id",
                       nulls_last=False)
    width = max(6, len(str(heads.height)))
    return heads.with_columns(
        interview_id=pl.format("I{}", (pl.int_range(pl.len()) + 1).cast(pl.String)
                               .str.zfill(width)))


def _interviews(sample: SamplePackage, plan: Plan, hh: pl.DataFrame, helpers: pl.DataFrame,
                villages: pl.DataFrame, counties: pl.DataFrame, rng: np.random.Generator,
                skip_rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Interviews in long form (one row per claim), and the planted skipped interviews."""
    days = (plan.timeline.field_end - plan.timeline.field_start).days + 1
    heads = _interview_heads(sample, helpers, villages, counties, rng).with_columns(
        pl.col("day").clip(upper_bound=days - 1))
    heads, skipped = skip_interviews(heads, counties, skip_rng)
    cols = ["interview_id", "day", "level", "role", "person_id", "county_code", "village_code"]

    # City and county: two free-text claims each, not cross-checked.
    upper = heads.filter(pl.col("level").is_in(["city", "county"]))
    pools = (_CITY_ITEMS, _COUNTY_ITEMS, _PAIRED_ITEMS)
    offset = np.cumsum([0, *[len(x) for x in pools]])[:-1]
    which = np.where(upper["level"].to_numpy() == "city", 0,
                     np.where(upper["role"].is_in(list(_PAIRED_ROLES)).to_numpy(), 2, 1))
    size = np.array([len(x) for x in pools])[which]
    a = rng.integers(0, size)
    b = (a + 1 + np.floor(rng.random(len(a)) * (size - 1)).astype(np.int64)) % size
    names = [x for pool in pools for x in pool]
    two = pl.concat([
        upper.select(cols).with_columns(
            item=_choice(names, offset[which] + k), _ord=pl.lit(j, pl.Int64),
            household_id=pl.lit(None, pl.String),
            claim=pl.Series(np.where(rng.random(upper.height) < 0.95, "true", "false")))
        for j, k in enumerate((a, b))])

    # Village cadres: every registered household meets each item.
    vil = heads.filter(pl.col("level") == "village").select(cols).join(
        pl.DataFrame({"item": list(ITEMS), "_ord": np.arange(len(ITEMS))}), how="cross"
    ).with_columns(household_id=pl.lit(None, pl.String), claim=pl.lit("true"))

    # Assistance cadres: each surveyed household they help.
    links = (helpers.join(heads.filter(pl.col("level") == "helper").select(
        *cols[:5], pl.col("person_id").alias("helper_id")), on="helper_id", how="inner")
        .join(hh.select("household_id", "household_size", "income_per_capita_yuan", *ITEMS),
              on="household_id", how="left", maintain_order="left")
        .sort("interview_id", "household_id"))
    claims = _helpersynthesize_claims(links, rng)
    out = pl.concat([two.select(*cols, "household_id", "item", "claim", "_ord"),
                     vil.select(*cols, "household_id", "item", "claim", "_ord"),
                     claims.select(*cols, "household_id", "item", "claim", "_ord")])
    out = out.sort("interview_id", "household_id", "_ord", nulls_last=False)
    return out.with_columns(date=_dates(plan.timeline.field_start, out["day"].to_numpy())), skipped


def _helpersynthesize_claims(links: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """A helper's claims about one household: right (income within 7 %), or off if unaware."""
    n = links.height
    unaware = links["unaware"].to_numpy()
    size = links["household_size"].to_numpy()
    income = links["income_per_capita_yuan"].to_numpy()
    slip = rng.random(n) < 0.02
    step = rng.choice(np.array([-1, 1, 2]), n)
    step = np.where(size + step < 1, 1, step)
    claimed_size = np.where(unaware | slip, size + step, size)
    factor = np.where(unaware, np.where(rng.random(n) < 0.5, rng.uniform(0.3, 0.45, n),
                                        rng.uniform(1.6, 2.5, n)),
                      rng.uniform(0.93, 1.07, n))
    claimed_income = np.round(income * factor, -1).astype(np.int64)
    wide = links.select("interview_id", "day", "level", "role", "person_id", "county_code",
                        "village_code", "household_id").with_columns(
        household_size=pl.Series(claimed_size).cast(pl.String),
        income_per_capita_yuan=pl.Series(claimed_income).cast(pl.String),
        **{c: pl.when(pl.Series(unaware)).then(pl.lit("true")).otherwise(
            links[c].cast(pl.String)) for c in ITEMS})
    order = {c: i for i, c in enumerate(CLAIM_ITEMS)}
    return wide.unpivot(list(CLAIM_ITEMS), index=wide.columns[:8], variable_name="item",
                        value_name="claim").with_columns(
        _ord=pl.col("item").replace_strict(order, return_dtype=pl.Int64))


# --- problems and experiences -------------------------------------------------------------


def _code_for(plan: Plan, words: str) -> str:
    """The plan's content item whose label or a sub-item is ``words`` (e.g. 错退 -> C8)."""
    for it in (*plan.content.county, *plan.content.city, *plan.content.pairing):
        if words == it.label or words in it.sub_items:
            return it.code
    raise ValueError(f"the plan has no content item or sub-item {words!r}")


def _planted_problems(hh: pl.DataFrame, helpers: pl.DataFrame, discrepancies: pl.DataFrame,
                      counties: pl.DataFrame, villages: pl.DataFrame,
                      plan: Plan) -> pl.DataFrame:
    """What the teams report about the planted faults (one problem per fault and unit)."""
    cols = ["level", "county_code", "village_code", "content_item", "description", "evidence",
            "day"]
    ids = pl.col("household_id").sort().str.join("、")
    county_name = counties.select("county_code", "county_name")
    village_name = villages.select("village_code", "village_name")

    def per_county(flag: str, code: str, text: str) -> pl.DataFrame:
        return (hh.filter(pl.col(flag)).group_by("county_code")
                .agg(k=pl.len(), persons=pl.col("household_size").sum(), ids=ids,
                     day=pl.col("day").max())
                .join(county_name, on="county_code", how="left", maintain_order="left")
                .select(level=pl.lit("county"), county_code="county_code",
                        village_code=pl.lit(None, pl.String), content_item=pl.lit(code),
                        description=pl.format(text, "county_name", "k", "persons"),
                        evidence=pl.format("入户调查表，户编号：{}", "ids"), day="day"))

    wrong = per_county("planted_wrong_exit", _code_for(plan, "错退"),
                       "{}抽查的已脱贫户中有{}户{}人收入低于扶贫标准或“两不愁三保障”未达标，存在错退")
    omitted = per_county("planted_omission", _code_for(plan, "漏评"),
                         "{}抽查的一般农户中有{}户{}人符合建档立卡识别标准但未纳入，存在漏评")
    included = per_county("ineligible_evidence", _code_for(plan, "错评"),
                          "{}抽查的建档立卡户中有{}户{}人家庭成员有财政供养人员或购置商品房、车辆，存在错评线索")
    aware = (hh.filter(pl.col("registered")).group_by("county_code")
             .agg(share=pl.col("knows_helper").mean(), day=pl.col("day").max())
             .filter(pl.col("share") < plan.consistency.helper_awareness_min)
             .join(county_name, on="county_code", how="left", maintain_order="left")
             .select(level=pl.lit("county"), county_code="county_code",
                     village_code=pl.lit(None, pl.String),
                     content_item=pl.lit(_code_for(plan, "帮扶工作满意度")),
                     description=pl.format("{}贫困户对帮扶责任人知晓率为{}%，帮扶工作不够扎实",
                                           "county_name",
                                           (pl.col("share") * 100).round(1).cast(pl.String)),
                     evidence=pl.lit("入户调查表"), day="day"))
    low = (hh.join(counties.filter(pl.col("low_approval")).select("county_code", "county_name"),
                   on="county_code", how="inner")
           .group_by("county_code", "county_name")
           .agg(n=pl.len(), k=(pl.col("approval") == "disapprove").sum(), day=pl.col("day").max())
           .select(level=pl.lit("county"), county_code="county_code",
                   village_code=pl.lit(None, pl.String),
                   content_item=pl.lit(_code_for(plan, "帮扶工作满意度")),
                   description=pl.format("{}群众认可度偏低，抽查的{}户中有{}户表示不认可",
                                         "county_name", "n", "k"),
                   evidence=pl.lit("入户调查表及录音资料"), day="day"))
    zh = pl.col("overclaim_item").replace_strict(_ITEM_ZH, return_dtype=pl.String)
    over = (hh.filter(pl.col("overclaim_item").is_not_null())
            .group_by("county_code", "village_code", "overclaim_item")
            .agg(k=pl.len(), ids=ids, day=pl.col("day").max())
            .join(village_name, on="village_code", how="left", maintain_order="left")
            .select(level=pl.lit("village"), county_code="county_code",
                    village_code="village_code", content_item=pl.lit(_code_for(plan, "问题查找")),
                    description=pl.format("{}村干部称建档立卡户{}均已达标，但入户核查发现{}户{}未达标",
                                          "village_name", zh, "k", zh),
                    evidence=pl.format("村干部访谈记录、入户调查表，户编号：{}", "ids"), day="day"))
    unaware = (helpers.filter(pl.col("unaware"))
               .join(hh.select("household_id", "day"), on="household_id", how="left",
                     maintain_order="left")
               .group_by("county_code")
               .agg(ids=pl.col("helper_id").unique().sort().str.join("、"),
                    k=pl.col("helper_id").n_unique(), day=pl.col("day").max())
               .join(county_name, on="county_code", how="left", maintain_order="left")
               .select(level=pl.lit("county"), county_code="county_code",
                       village_code=pl.lit(None, pl.String),
                       content_item=pl.lit(_code_for(plan, "驻村结对帮扶责任")),
                       description=pl.format(
                           "{}有{}名帮扶责任人对帮扶户家庭人口、收入等情况不熟悉，帮扶户不知晓帮扶责任人",
                           "county_name", "k"),
                       evidence=pl.format("帮扶责任人访谈记录、入户调查表，帮扶责任人编号：{}",
                                          "ids"), day="day"))
    projects = discrepancies.select(
        level=pl.when(pl.col("village_code").is_null()).then(pl.lit("county"))
        .otherwise(pl.lit("village")),
        county_code="county_code", village_code="village_code",
        content_item=pl.when(pl.col("project_kind") != "paired_cooperation")
        .then(pl.lit(_code_for(plan, "扶贫项目和资金管理")))
        .when(pl.col("kind") == "beneficiaries_short").then(pl.lit(_code_for(plan, "产业合作")))
        .otherwise(pl.lit(_code_for(plan, "资金支持"))),
        description=pl.format("{}：{}", "name", "issue"),
        evidence=pl.lit("项目档案资料、现场核查照片"), day="day")
    parts = [df.select(cols)
             for df in (wrong, omitted, included, low, aware, over, unaware, projects)]
    return pl.concat([df.with_columns(pl.col("day").cast(pl.Int64), pl.col(
        "level", "content_item", "description", "evidence").cast(pl.String)) for df in parts])


def _text_pool(plan: Plan, prefix: str) -> list[tuple[str, str]]:
    """(code, text) pairs of the random problems for the plan's items starting with ``prefix``."""
    items = {"C": plan.content.county, "P": plan.content.pairing, "M": plan.content.city}[prefix]
    return [(it.code, text) for it in items for text in _PROBLEM_TEXT.get(it.code, ())]


def _distinct(counts: Ints, pool: int, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """For unit i, ``counts[i]`` distinct draws from ``range(pool)``: (unit, pick) per row."""
    order = np.argsort(rng.random((len(counts), max(pool, 1))), axis=1)
    unit = np.repeat(np.arange(len(counts)), counts)
    pos = np.arange(len(unit)) - np.repeat(np.cumsum(counts) - counts, counts)
    return unit, order[unit, pos]


def _findings(planted: pl.DataFrame, counties: pl.DataFrame, villages: pl.DataFrame,
              plan: Plan, days: int, rng: np.random.Generator
              ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Problems and experiences of every county and city, and the units left short.

    A report counts the confirmed problems of plan 三(一) items (pairing items
    go to the pairing report), so the targets below count those only.
    """
    pm = plan.reports.problems_min
    pairing = [it.code for it in plan.content.pairing]
    cty = counties.sort("county_code")
    n_c = cty.height
    idx = _index(planted["county_code"], cty["county_code"])
    n_any = np.bincount(idx, minlength=n_c)
    n_counted = np.bincount(idx, weights=~planted["content_item"].is_in(pairing).to_numpy(),
                            minlength=n_c).astype(np.int64)
    free = n_any == 0
    n_short = min(int(free.sum()), _n_planted(n_c, _SHORT_PROBLEMS_SHARE, 1)) if pm >= 2 else 0
    short = smallest(np.where(free, rng.random(n_c), np.inf), n_short)
    lo = max(1, pm - 2)
    target = np.where(short, rng.integers(lo, max(lo + 1, pm), n_c),
                      rng.integers(pm, pm + 4, n_c))
    extra = np.maximum(target - n_counted, 0)
    paired = cty["paired"].to_numpy() & (rng.random(n_c) < 0.5)
    county = np.r_[np.repeat(np.arange(n_c), extra), np.flatnonzero(paired)].astype(np.int64)
    is_pairing = np.r_[np.zeros(int(extra.sum()), bool), np.ones(int(paired.sum()), bool)]
    rows = _random_problems(county, is_pairing, cty, villages, plan, days, rng)

    cities = cty.group_by("city_name").agg(pl.col("county_code").min()).sort("county_code")
    n_city = cities.height
    m_pool = _text_pool(plan, "M")
    per_city = np.minimum(rng.integers(pm, pm + 2, n_city), len(m_pool))
    unit, pick = _distinct(per_city, len(m_pool), rng)
    city_rows = pl.DataFrame({
        "level": "city", "city_name": cities["city_name"].gather(unit),
        "county_code": pl.Series([None] * len(unit), dtype=pl.String),
        "village_code": pl.Series([None] * len(unit), dtype=pl.String),
        "content_item": _choice([c for c, _ in m_pool], pick),
        "description": cities["city_name"].gather(unit) + _choice([t for _, t in m_pool], pick),
        "day": rng.integers(0, days, len(unit)),
    }, schema_overrides={"day": pl.Int64})
    planted = planted.join(cty.select("county_code", "city_name"), on="county_code",
                           how="left", maintain_order="left").with_columns(planted=pl.lit(True))
    random_rows = pl.concat([rows, city_rows.with_columns(
        evidence=pl.lit(None, pl.String))], how="diagonal_relaxed")
    ev = rng.random(random_rows.height)
    upper = random_rows["level"].is_in(["city", "county"]).to_numpy()
    pool = np.where(upper, _EVIDENCE_UPPER, len(_EVIDENCE))
    random_rows = random_rows.with_columns(
        planted=pl.lit(False),
        evidence=pl.when(pl.Series(ev < 0.9)).then(_choice(
            _EVIDENCE, np.minimum(np.floor(ev / 0.9 * pool), pool - 1).astype(np.int64))))
    no_suggestion = cty["county_code"].filter(pl.Series(smallest(
        np.where(short, np.inf, rng.random(n_c)),
        _n_planted(n_c, _SHORT_SUGGESTIONS_SHARE, 1) if plan.reports.suggestion_required
        else 0)))
    problems = _review(pl.concat([planted, random_rows.select(planted.columns)]), plan,
                       no_suggestion, rng)
    problems = problems.join(cty.select("city_name", "team_id").unique("city_name"),
                             on="city_name", how="left", maintain_order="left")
    experiences = _experiences(cty, cities, plan, rng)
    return problems, experiences, _short_truth(problems, experiences, cty, plan)


def _random_problems(county: Ints, pairing: Bools, cty: pl.DataFrame, villages: pl.DataFrame,
                     plan: Plan, days: int, rng: np.random.Generator) -> pl.DataFrame:
    """Ordinary problems of the counties listed (one row per entry of ``county``).

    ``pairing`` rows are county-level problems of the county pairing (plan 三(二)).
    """
    m = len(county)
    pools = [_text_pool(plan, "C"), _text_pool(plan, "P"),
             [(c, t) for c, t in _HOUSEHOLD_TEXT if c in plan.content.codes]]
    flat = [x for pool in pools for x in pool]
    offset = np.cumsum([0, *[len(p) for p in pools]])[:-1]
    size = np.array([len(p) for p in pools])
    v = rng.random(m)
    level = np.where(pairing, "county", np.where(v < 0.4, "county",
                                                  np.where(v < 0.8, "village", "household")))
    cat = np.where(pairing, 1, np.where(level == "household", 2, 0))
    pick = offset[cat] + np.floor(rng.random(m) * size[cat]).astype(np.int64)
    vtab = villages.sort("village_code")
    per = np.bincount(_index(vtab["county_code"], cty["county_code"]), minlength=cty.height)
    start = np.cumsum(per) - per
    vil = start[county] + np.floor(rng.random(m) * per[county]).astype(np.int64)
    at_village = level != "county"
    cday = np.minimum(cty["day0"].to_numpy()[county] + rng.integers(0, 3, m), days - 1)
    place = np.where(at_village, vtab["village_name"].to_numpy()[vil],
                     cty["county_name"].to_numpy()[county])
    return pl.DataFrame({
        "level": level,
        "city_name": cty["city_name"].gather(county),
        "county_code": cty["county_code"].gather(county),
        "village_code": vtab["village_code"].gather(vil).zip_with(
            pl.Series(at_village), pl.Series([None] * m, dtype=pl.String)),
        "content_item": _choice([c for c, _ in flat], pick),
        "description": pl.Series(place, dtype=pl.String) + _choice([t for _, t in flat], pick),
        "day": np.where(at_village, vtab["day"].to_numpy()[vil], cday),
    }, schema_overrides={"day": pl.Int64, "level": pl.String})


def _review(problems: pl.DataFrame, plan: Plan, no_suggestion: pl.Series,
            rng: np.random.Generator) -> pl.DataFrame:
    """Order and number the problems; add the review (五(六)) and a suggestion.

    The first ``problems_min`` counted problems of each unit (planted ones
    first; pairing items are not counted) are confirmed, so a unit is short
    only where planted. In the ``no_suggestion`` counties the last of those
    lacks a suggestion; elsewhere only uncounted problems may lack one.
    """
    lvl = {"city": 0, "county": 1, "village": 2, "household": 3}
    pm = plan.reports.problems_min
    p = problems.with_columns(_lvl=pl.col("level").replace_strict(lvl, return_dtype=pl.Int64))
    p = p.sort("city_name", "county_code", "day", "_lvl", "village_code", "content_item",
               "description", "evidence", "planted", nulls_last=False, maintain_order=True)
    n = p.height
    planted = p["planted"].to_numpy()
    pairing = p["content_item"].is_in([it.code for it in plan.content.pairing]).to_numpy()
    unit = _codes(p.select(pl.coalesce("county_code", "city_name")).to_series())
    rank = _rank_within(unit, np.where(planted, 0.0, 1.0) + 2.0 * pairing + np.arange(n) / n)
    solid = ~pairing & (rank < pm)
    needs = planted | (rng.random(n) < 0.4)
    r = rng.random(n)
    # Days late (-1: not reviewed yet); solid and planted problems are reviewed.
    lag = np.where(r < 0.80, 0, np.where(r < 0.88, rng.integers(1, 3, n), -1))
    lag = np.where(solid | planted, np.maximum(lag, 0), lag)
    dismissed = (rng.random(n) >= 0.85) & ~solid & ~planted
    outcome = np.where(lag < 0, "pending", np.where(dismissed, "dismissed", "confirmed"))
    counted = ~pairing & ((outcome == "confirmed") | ~needs)
    chosen = p["county_code"].is_in(no_suggestion.implode()).fill_null(False).to_numpy()
    bare = np.where(counted, solid & (rank == pm - 1) & chosen, rng.random(n) < 0.2)
    day = p["day"].to_numpy()
    review_day = day + plan.review.days_to_review + np.maximum(lag, 0)
    code = p["content_item"]
    key = pl.when(code.str.starts_with("C")).then(code).otherwise(code.str.slice(0, 1))
    sugg = p.select(key.replace_strict(_SUGGESTION, default=None, return_dtype=pl.String)
                    ).to_series()
    start = plan.timeline.field_start
    width = max(5, len(str(n)))
    return p.with_columns(
        problem_id=pl.format("W{}", (pl.int_range(pl.len()) + 1).cast(pl.String)
                             .str.zfill(width)),
        raised_date=_dates(start, day),
        needs_review=pl.Series(needs, dtype=pl.Boolean),
        review_date=pl.when(pl.Series(needs & (lag >= 0))).then(_dates(start, review_day)),
        review_outcome=pl.when(pl.Series(needs)).then(pl.Series(outcome, dtype=pl.String)),
        suggestion=pl.when(pl.Series(~bare)).then(sugg),
    ).drop("_lvl")


def _experiences(cty: pl.DataFrame, cities: pl.DataFrame, plan: Plan,
                 rng: np.random.Generator) -> pl.DataFrame:
    """3-5 typical experiences per county and city; a few counties short."""
    emin, emax = plan.reports.experiences.min, plan.reports.experiences.max
    n_c, n_city = cty.height, cities.height
    short = smallest(rng.random(n_c), _n_planted(n_c, _SHORT_EXPERIENCES_SHARE, 1)
                      if emin >= 1 else 0)
    pool = len(_EXPERIENCES)
    count = np.minimum(np.concatenate([
        np.where(short, emin - 1, rng.integers(emin, emax + 1, n_c)),
        rng.integers(emin, emax + 1, n_city)]), pool).astype(np.int64)
    unit, pick = _distinct(count, pool, rng)
    city = pl.concat([cty["city_name"], cities["city_name"]])
    code = pl.concat([cty["county_code"], pl.Series([None] * n_city, dtype=pl.String)])
    place = pl.concat([cty["county_name"], cities["city_name"]])
    out = pl.DataFrame({
        "city_name": city.gather(unit),
        "county_code": code.gather(unit),
        "title": _choice([t for t, _ in _EXPERIENCES], pick),
        "description": place.gather(unit) + _choice([d for _, d in _EXPERIENCES], pick),
        "_pos": np.arange(len(unit)),
    }).sort("city_name", "county_code", "_pos", nulls_last=False)
    width = max(4, len(str(out.height)))
    return out.with_columns(experience_id=pl.format(
        "E{}", (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(width)))


def _short_truth(problems: pl.DataFrame, experiences: pl.DataFrame, cty: pl.DataFrame,
                 plan: Plan) -> pl.DataFrame:
    """Counties and cities whose report falls short of plan 五 (``plan.reports``).

    Counted problems are those a report keeps: of a plan 三(一) item (not
    pairing), confirmed by review or not needing it, not dismissed. ``kind``
    problems: ``count`` counted, ``required`` problems_min; experiences:
    ``count`` experiences, ``required`` the minimum; suggestions: ``count``
    counted problems with a suggestion, ``required`` counted problems.
    """
    rules = plan.reports
    pairing = [it.code for it in plan.content.pairing]
    units = pl.concat([
        cty.select("city_name").unique().sort("city_name").select(
            unit=pl.lit("city"), code="city_name", city_name="city_name",
            county_code=pl.lit(None, pl.String)),
        cty.select(unit=pl.lit("county"), code="county_code", city_name="city_name",
                   county_code="county_code"),
    ])
    outcome = pl.col("review_outcome").fill_null("pending")
    kept = problems.filter(~pl.col("content_item").is_in(pairing) & (outcome != "dismissed")
                           & ((outcome == "confirmed") | ~pl.col("needs_review")))
    keys = ["city_name", "county_code"]
    counts = [
        kept.group_by(keys).agg(problems=pl.len().cast(pl.Int64),
                                suggestions=pl.col("suggestion").is_not_null().sum()
                                .cast(pl.Int64)),
        experiences.group_by(keys).agg(experiences=pl.len().cast(pl.Int64)),
    ]
    for df in counts:
        units = units.join(df, on=keys, how="left", maintain_order="left", nulls_equal=True)
    units = units.with_columns(pl.col("problems", "suggestions", "experiences").fill_null(0))
    need = {"problems": pl.lit(rules.problems_min, pl.Int64),
            "experiences": pl.lit(rules.experiences.min, pl.Int64),
            "suggestions": pl.col("problems") if rules.suggestion_required
            else pl.col("suggestions")}
    return pl.concat([
        units.select("unit", "code", kind=pl.lit(kind), count=pl.col(kind),
                     required=need[kind].cast(pl.Int64))
        .filter(pl.col("count") < pl.col("required"))
        for kind in ("problems", "experiences", "suggestions")])


# --- output -------------------------------------------------------------------------------

def _conform(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """Exactly the spec's columns, in its order and types."""
    spec: TableSpec = next(s for s in FIELD_TABLES if s.name == name)
    return df.select([(pl.col(c.name) if c.name in df.columns else pl.lit(None))
                      .cast(KIND_DTYPES[c.kind]).alias(c.name) for c in spec.columns])
