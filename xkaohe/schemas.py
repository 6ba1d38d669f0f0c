"""What each input table is: canonical columns, Chinese header aliases, types.

Over ~600 lines because it is data: one declaration per input table and contract.

Readers (:mod:`xkaohe.io.tables`) accept either header and either value
spelling; everything downstream sees only canonical names and values. The
specs follow DESIGN.md's data contracts; the Chinese aliases for the frame are
the ones DESIGN.md gives in brackets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from xkaohe import codes
from xkaohe.errors import InputError, Problem

Kind = Literal["text", "bool", "int", "float", "enum", "date"]
KIND_DTYPES: dict[str, type[pl.DataType]] = {
    "text": pl.String,
    "bool": pl.Boolean,
    "int": pl.Int64,
    "float": pl.Float64,
    "enum": pl.String,
    "date": pl.Date,
}
"""The polars type a column of each kind is read as."""

REJECT_COLUMNS: dict[str, type[pl.DataType]] = {
    "table": pl.String,
    "file": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "expected": pl.String,
    "found": pl.String,
    "county_code": pl.String,
}
"""A field-return row that reads but cannot be used (``rejects.csv``; the ledger keeps them too)."""

MEDIA_ROW_COLUMNS: dict[str, type[pl.DataType]] = {
    "row": pl.Int64,
    "file": pl.String,
    "sha256": pl.String,
    "kind": pl.String,
    "table": pl.String,
    "record_key": pl.String,
}
"""A media manifest's row as the ledger stores it."""

TRUE_WORDS = ("true", "1", "是", "yes", "y", "t", "对")
FALSE_WORDS = ("false", "0", "否", "no", "n", "f", "错")


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    ``values`` maps every accepted spelling of an enum (canonical and Chinese)
    to its canonical value. ``nullable`` allows empty cells in a required column.
    """

    name: str
    alias: str
    kind: Kind = "text"
    required: bool = True
    nullable: bool = False
    values: dict[str, str] = field(default_factory=dict)
    low: float | None = None
    high: float | None = None
    pattern: str | None = None  # a text value must match (codes that become file names)

    @property
    def label(self) -> str:
        """How a message names the column: canonical, with the Chinese header."""
        return f"{self.name} [{self.alias}]"


@dataclass(frozen=True)
class TableSpec:
    """One input table: its file stem, columns and unique key."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # a duplicate is an input error
    unique: tuple[str, ...] = ()  # a duplicate row is rejected, not an error (field returns)

    def narrowed(self, names: frozenset[str]) -> TableSpec:
        """The same table with only the named columns (and always its key)."""
        keep = names | set(self.key)
        return TableSpec(
            self.name, tuple(c for c in self.columns if c.name in keep), self.key, self.unique
        )

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def enum(code_set: codes.CodeSet) -> dict[str, str]:
    """Accepted spellings of a code set (:mod:`xkaohe.codes`: code, Chinese label, aliases)."""
    return code_set.spellings()


COUNTY_CATEGORY = codes.COUNTY_CATEGORY
HOUSEHOLD_STATUS = codes.HOUSEHOLD_STATUS
PROJECT_KIND = codes.PROJECT_KIND
VILLAGE_TYPE = codes.VILLAGE_TYPE

C = Column

FILE_CODE = r"^[0-9A-Za-z][0-9A-Za-z_-]{0,31}$"
"""A code that becomes part of file names (``county_<code>.html``): refused at reading otherwise."""

COUNTIES = TableSpec(
    "counties",
    (
        C("county_code", "县代码", pattern=FILE_CODE),
        C("county_name", "县名称"),
        C("city_name", "市名称"),
        C("category", "考核类别", "enum", values=enum(COUNTY_CATEGORY)),
        C("national_poverty_county", "是否国家级贫困县", "bool"),
        C("paired_helper_county", "结对帮扶县", required=False, nullable=True),
        # 深度贫困县 is a flag beside the category (三(一)1 分类考核: a county can be
        # deep-poverty and exited or exiting); empty or absent reads as false.
        C("deep_poverty", "是否深度贫困县", "bool", required=False, nullable=True),
        # The exit standard's denominator (综合贫困发生率, 三(一)1 二是); optional so
        # older frames still read: without it the incidence is not computed.
        C("rural_population", "农村人口数", "int", low=0, required=False, nullable=True),
    ),
    key=("county_code",),
)
LEGACY_CATEGORY = {"deep_poverty": "exited"}
"""Old frames gave 深度贫困县 as a ``category``; it reads as the flag plus this category.

By 2019 every Anhui poverty county has either exited (the 2017 and 2018
batches) or is one of the nine the plan names as exiting this year, which a
frame marks ``exit_2019``; so a county an old frame calls only 深度贫困县 has
exited. ``exited`` also keeps it out of the exit-standard verdict, whose
thresholds bind only the counties exiting this year (八(二)).
"""


def normalise_counties(counties: pl.DataFrame) -> pl.DataFrame:
    """The counties table with ``deep_poverty`` a boolean flag and no legacy category.

    ``deep_poverty`` is true where the frame says so or gives the legacy
    category ``deep_poverty`` (then the category becomes
    :data:`LEGACY_CATEGORY`'s); false where empty or absent.
    """
    flag = (
        pl.col("deep_poverty").cast(pl.Boolean)
        if "deep_poverty" in counties.columns
        else pl.lit(None, pl.Boolean)
    )
    legacy = pl.col("category").is_in(list(LEGACY_CATEGORY)).fill_null(False)
    return counties.with_columns(
        pl.col("category").replace(LEGACY_CATEGORY),
        (flag.fill_null(False) | legacy).alias("deep_poverty"),
    )


VILLAGES = TableSpec(
    "villages",
    (
        C("village_code", "村代码"),
        C("village_name", "村名称"),
        C("township_code", "乡镇代码"),
        C("township_name", "乡镇名称"),
        C("county_code", "县代码"),
        C("is_poor_village", "是否贫困村", "bool"),
        C("registered_poor_people", "建档立卡贫困人口数", "int", low=0),
        C("households_total", "总户数", "int", low=0),
        C("distance_to_township_km", "距乡镇距离公里", "float", low=0),
        C("infrastructure_gap", "基础设施短板指数", "float", low=0, high=1),
        C("public_service_gap", "公共服务短板指数", "float", low=0, high=1),
        # Whether a poor village has exited (贫困村出列), for the exit standard;
        # empty for non-poor villages and in older frames.
        C("poor_village_exited", "贫困村是否出列", "bool", required=False, nullable=True),
    ),
    key=("village_code",),
)
HOUSEHOLDS = TableSpec(
    "households",
    (
        C("household_id", "户编号"),
        C("village_code", "村代码"),
        C("villager_group", "村民小组"),
        C("status", "户类型", "enum", values=enum(HOUSEHOLD_STATUS)),
        C("household_size", "家庭人口数", "int", low=1),
        C("head_name", "户主姓名", nullable=True),
        C("head_id_number", "户主身份证号", nullable=True),
        C("phone", "联系电话", nullable=True),
        C("helper_id", "帮扶责任人编号", nullable=True),
    ),
    key=("household_id",),
)
PROJECTS = TableSpec(
    "projects",
    (
        C("project_id", "项目编号"),
        C("county_code", "县代码"),
        C("village_code", "村代码", nullable=True),
        C("kind", "项目类型", "enum", values=enum(PROJECT_KIND)),
        C("name", "项目名称", nullable=True),
        C("funds_yuan", "资金规模元", "float", low=0, nullable=True),
    ),
    key=("project_id",),
)
PROJECT_BENEFICIARIES = TableSpec(
    "project_beneficiaries",
    (C("project_id", "项目编号"), C("household_id", "户编号")),
    key=("project_id", "household_id"),
)
FRAME_TABLES = (COUNTIES, VILLAGES, HOUSEHOLDS, PROJECTS, PROJECT_BENEFICIARIES)

# Roster (DESIGN.md, "Roster and the lottery").
ASSESSOR_KIND = codes.ASSESSOR_KIND
LEVEL = codes.ASSESSOR_LEVEL

CITIES = TableSpec(
    "cities",
    (
        C("city_name", "市名称"),
        C("target_group", "考核分组"),
        C("counties_assessed", "被考核县数", "int", low=0),
    ),
    key=("city_name",),
)
ASSESSORS = TableSpec(
    "assessors",
    (
        C("person_id", "人员编号"),
        C("name", "姓名"),
        C("home_city", "所在市", nullable=True),
        C("unit", "工作单位"),
        C("level", "层级", "enum", values=enum(LEVEL)),
        C("kind", "人员类别", "enum", values=enum(ASSESSOR_KIND)),
        # 四(二): members come mainly from the 三保障/饮水安全 and major-policy departments;
        # optional so older rosters read; the lottery requires it when the plan's
        # teams.department_required is set
        C("department", "部门", required=False, nullable=True),
    ),
    key=("person_id",),
)
# 四(二): the assessed city names a division-level cadre as its liaison (联络员), each
# assessed county its poverty-office director: county_code empty for the city's own.
LIAISONS = TableSpec(
    "liaisons",
    (
        C("city_name", "市名称"),
        C("county_code", "县代码", required=False, nullable=True),
        C("name", "姓名"),
        C("phone", "联系电话"),
    ),
    key=("city_name", "county_code"),
)
# 六(一) with the plan's teams.selection: office_list: the office names every team's
# people; the lot only assigns the teams to the target groups. ``team`` is the office's
# name for a team (its source city, say), the same on all of the team's rows.
OFFICE_MEMBERS = TableSpec(
    "office_members",
    (
        C("team", "考核组"),
        C("person_id", "人员编号"),
        C("role", "角色", "enum", values=enum(codes.MEMBER_ROLE)),
    ),
    key=("person_id",),
)
ROSTER_TABLES = (CITIES, ASSESSORS)
ROSTER_OPTIONAL = (LIAISONS, OFFICE_MEMBERS)

# The discipline register (八(二)(三); xkaohe.io.discipline): one row per incident a team
# or the 督查组 reports. reporter, rule and action hold the plan's codes or labels
# (discipline: reporters, rules, actions; several actions separated by ; or 、),
# checked against the plan by xkaohe.analyse.discipline; evidence names files kept
# with the register (relative paths, separated by ;). team_id may be left empty: it is
# then the team that assessed the place (from the run's lottery).
INCIDENTS = TableSpec(
    "incidents",
    (
        C("incident_id", "编号"),
        C("date", "日期", "date"),
        C("city_name", "市名称"),
        C("county_code", "县代码", required=False, nullable=True),
        C("team_id", "考核组", required=False, nullable=True),
        C("reporter", "报告方"),
        C("rule", "违反纪律"),
        C("description", "情况描述", required=False, nullable=True),
        C("evidence", "证据文件", required=False, nullable=True),
        C("action", "处置措施"),
        C("outcome", "处理结果", required=False, nullable=True),
    ),
    key=("incident_id",),
)


def require_columns(df: Any, table: str, columns: Iterable[str]) -> None:
    """Raise :class:`~xkaohe.errors.InputError` naming every missing column and those present."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            Problem(
                table,
                None,
                ", ".join(missing),
                f"column(s) {', '.join(missing)}",
                f"only {', '.join(df.columns) or 'no columns'}",
            )
        )


# ------------------------------------------------------------------ outputs
# The sample package is a contract with the field teams' and reviewers' own
# scripts (DESIGN.md, "Sample package"): checked before anything is written.


def _sample_contracts() -> dict[str, Any]:
    import pandera.polars as pa

    text, real, flag = pl.String, pl.Float64, pl.Boolean
    unit = pa.Check.in_range(0, 1, include_min=False)
    statuses = list(HOUSEHOLD_STATUS.order)

    def col(dtype: Any, *checks: Any, nullable: bool = False, unique: bool = False) -> Any:
        return pa.Column(dtype, list(checks), nullable=nullable, unique=unique)

    def village_key() -> dict[str, Any]:
        # a drawn village and a candidate carry the same key, type, prn and tilt
        return {
            "county_code": col(text),
            "village_code": col(text, unique=True),
            "township_code": col(text),
            "village_type": col(text, pa.Check.isin(list(VILLAGE_TYPE.order))),
            "prn": col(real, unit),
            "tilt_weight": col(real, pa.Check.ge(1)),
        }

    def probabilities() -> dict[str, Any]:
        # pi-mc-v1: never 0 (Fattorini's estimator), se at most 0.5
        return {
            "inclusion_prob": col(real, pa.Check.in_range(0, 1, include_min=False)),
            "inclusion_prob_se": col(real, pa.Check.in_range(0, 0.5)),
        }

    return {
        "villages": pa.DataFrameSchema(
            {
                **village_key(),
                **probabilities(),
                "relaxed_township": col(flag),
                "substituted_for": col(
                    text, pa.Check.isin(list(VILLAGE_TYPE.order)), nullable=True
                ),
            }
        ),
        "village_candidates": pa.DataFrameSchema(
            {
                **village_key(),
                "xi": col(real, pa.Check.gt(0)),
                "drawn": col(flag),
                **probabilities(),
            }
        ),
        "households": pa.DataFrameSchema(
            {
                "county_code": col(text),
                "village_code": col(text),
                "household_id": col(text, unique=True),
                "status": col(text, pa.Check.isin(statuses)),
                "selected_as": col(text, pa.Check.isin([*statuses, "group_census"])),
                "prn": col(real, unit),
            }
        ),
        "villager_groups": pa.DataFrameSchema(
            {
                "county_code": col(text),
                "village_code": col(text),
                "villager_group": col(text),
                "village_type": col(text, pa.Check.isin(list(VILLAGE_TYPE.order))),
            }
        ),
        "projects": pa.DataFrameSchema(
            {
                "county_code": col(text),
                "project_id": col(text),
                "kind": col(text, pa.Check.isin(list(PROJECT_KIND.order))),
                "prn": col(real, unit),
            }
        ),
        "project_households": pa.DataFrameSchema(
            {
                "project_id": col(text),
                "household_id": col(text),
                "prn": col(real, unit),
            }
        ),
        "interviewees": pa.DataFrameSchema(
            {
                "county_code": col(text, nullable=True),
                "village_code": col(text, nullable=True),
                "level": col(text, pa.Check.isin(["city", "county", "village", "helper"])),
                "role": col(text),
                "count": col(pl.Int64, pa.Check.ge(1)),
                "helper_id": col(text, nullable=True),
            }
        ),
        "general_quota": pa.DataFrameSchema(
            {
                "village_code": col(text),
                "count": col(pl.Int64, pa.Check.ge(0)),
            }
        ),
    }


def check_sample_package(tables: dict[str, Any]) -> None:
    """Validate the package against its contract; a failure is a bug, not a user error."""
    import pandera.errors

    for name, schema in _sample_contracts().items():
        try:
            schema.validate(tables[name], lazy=True)
        except pandera.errors.SchemaErrors as exc:
            raise RuntimeError(
                f"sample package table '{name}' breaks its contract:\n{exc}"
            ) from None


# ------------------------------------------------------------ field returns
# What teams enter each day (DESIGN.md, "Field returns"); same reading rules.

APPROVAL = codes.APPROVAL
INTERVIEW_LEVEL = codes.INTERVIEW_LEVEL
PROJECT_STATUS = codes.PROJECT_STATUS
PROBLEM_LEVEL = codes.PROBLEM_LEVEL
REVIEW_OUTCOME = codes.REVIEW_OUTCOME

HOUSEHOLD_SURVEY = TableSpec(
    "household_survey",
    (
        C("household_id", "户编号"),
        C("village_code", "村代码"),
        C("visit_date", "走访日期", "date"),
        C("team_id", "考核组"),
        C("registered", "是否建档立卡户", "bool"),
        C("household_size", "家庭人口数", "int", low=1),
        C("income_per_capita_yuan", "人均纯收入元", "float", low=0),
        C("food_clothing_ok", "不愁吃穿", "bool"),
        C("education_ok", "义务教育有保障", "bool"),
        C("medical_ok", "基本医疗有保障", "bool"),
        C("housing_safe", "住房安全有保障", "bool"),
        C("water_safe", "饮水安全有保障", "bool"),
        C("ineligible_evidence", "错评线索", "bool", nullable=True),
        C("knows_helper", "知晓帮扶责任人", "bool", nullable=True),
        C("approval", "认可度", "enum", values=enum(APPROVAL)),
        # 三(一)1(8): the year an exited or relapsed household exited (建档立卡 began
        # in 2014) and why a relapsed one fell back: a code or label of the plan's
        # relapse_causes, checked against the plan by xkaohe.field.checks
        C("exit_year", "脱贫年度", "int", required=False, nullable=True, low=2014),
        C("relapse_cause", "返贫原因", required=False, nullable=True),
        # who visited: assessor person_ids joined by VISITOR_SEP (optional; the
        # field ledger checks them against the team's members and pairs)
        C("visitors", "走访人员", required=False, nullable=True),
        # Evidence for claims (issue 13; optional so older exports read): 到户产业 (五(五)),
        # project benefit of a household the register lists (五(五)), 整户识别 and
        # 评议公示 (三(一)1(7)), 边缘户/监测户 (三(一)1(6))
        C("has_labour", "有劳动能力", "bool", required=False, nullable=True),
        C("industry_support", "享受到户产业扶持", "bool", required=False, nullable=True),
        C("received_project_benefit", "享受到项目收益", "bool", required=False, nullable=True),
        C("whole_household", "整户识别", "bool", required=False, nullable=True),
        C("members_left_out", "未识别家庭成员数", "int", required=False, nullable=True, low=0),
        C("procedure_ok", "评议公示程序规范", "bool", required=False, nullable=True),
        C("edge_household", "边缘户或脱贫监测对象", "bool", required=False, nullable=True),
        C("monitored", "已纳入监测", "bool", required=False, nullable=True),
    ),
    unique=("village_code", "household_id"),
)
EVIDENCE_COLUMNS = (
    "has_labour",
    "industry_support",
    "received_project_benefit",
    "whole_household",
    "members_left_out",
    "procedure_ok",
    "edge_household",
    "monitored",
)
"""The survey's optional claim-evidence columns (absent in older exports: read as empty)."""
VISITOR_SEP = ";"
INTERVIEWS = TableSpec(
    "interviews",
    (
        C("interview_id", "访谈编号"),
        C("date", "访谈日期", "date"),
        C("level", "访谈层级", "enum", values=enum(INTERVIEW_LEVEL)),
        C("role", "访谈对象"),
        C("person_id", "人员编号", nullable=True),
        C("county_code", "县代码"),
        C("village_code", "村代码", nullable=True),
        C("household_id", "户编号", nullable=True),
        C("item", "访谈事项"),
        C("claim", "陈述内容", nullable=True),
    ),
    unique=("interview_id", "item", "household_id"),
)
PROJECT_CHECKS = TableSpec(
    "project_checks",
    (
        C("project_id", "项目编号"),
        C("date", "核查日期", "date"),
        C("status", "项目状态", "enum", values=enum(PROJECT_STATUS)),
        C("funds_spent_yuan", "已支出资金元", "float", low=0, nullable=True),
        C("beneficiaries_confirmed", "核实受益户数", "int", low=0, nullable=True),
        C("issue", "发现问题", nullable=True),
        # 五(五): 项目实施效果 (optional so older exports read)
        C(
            "result",
            "项目成效",
            "enum",
            required=False,
            nullable=True,
            values=enum(codes.PROJECT_RESULT),
        ),
    ),
    unique=("project_id",),
)
PROBLEMS = TableSpec(
    "problems",
    (
        C("problem_id", "问题编号"),
        C("raised_date", "发现日期", "date"),
        C("team_id", "考核组"),
        C("level", "问题层级", "enum", values=enum(PROBLEM_LEVEL)),
        C("city_name", "市名称"),
        C("county_code", "县代码", nullable=True),
        C("village_code", "村代码", nullable=True),
        C("content_item", "考核内容"),
        C("description", "问题描述"),
        C("evidence", "佐证材料", nullable=True),
        C("needs_review", "需复核", "bool"),
        C("review_date", "复核日期", "date", nullable=True),
        C("review_outcome", "复核结果", "enum", values=enum(REVIEW_OUTCOME), nullable=True),
        C("suggestion", "意见建议", nullable=True),
    ),
    unique=("problem_id",),
)
EXPERIENCES = TableSpec(
    "experiences",
    (
        C("experience_id", "经验编号"),
        C("city_name", "市名称"),
        C("county_code", "县代码", nullable=True),
        C("title", "标题"),
        C("description", "内容"),
    ),
    unique=("experience_id",),
)
CLAIMS = TableSpec(
    "claims",
    (
        # One statement about one measurable plan item (issue 13): heard at a meeting
        # (五(一) 情况交流座谈会), read in a document (五(二) 查阅资料), said in an
        # interview (五(三)) or written in a self-assessment report (六(二) 自评报告).
        C("claim_id", "陈述编号"),
        C("date", "日期", "date"),
        C("source", "来源", "enum", values=enum(codes.CLAIM_SOURCE)),
        C("level", "层级", "enum", values=enum(INTERVIEW_LEVEL)),
        C("role", "陈述人身份", nullable=True),
        C("person_id", "人员编号", nullable=True),
        C("document", "资料名称", nullable=True),
        C("city_name", "市名称"),
        C("county_code", "县代码", nullable=True),
        C("village_code", "村代码", nullable=True),
        C("household_id", "户编号", nullable=True),
        C("project_id", "项目编号", nullable=True),
        C("item", "陈述事项", "enum", values=enum(codes.CLAIM_ITEM)),
        C("value", "陈述内容"),
    ),
    unique=("claim_id",),
)
FIELD_TABLES = (HOUSEHOLD_SURVEY, INTERVIEWS, PROJECT_CHECKS, PROBLEMS, EXPERIENCES, CLAIMS)

# Record keys (DESIGN.md "Field ledger"). A field table's ``unique`` columns are
# also its record key in the field ledger (:mod:`xkaohe.field.ledger`): a
# delivered row whose key the ledger already holds, with other content, is a
# new version of that record (a correction), never a second record. So
# household_survey is keyed by village_code + household_id (a general
# household's id is unique only within its village), interviews by
# interview_id + item + household_id (one claim), project_checks by
# project_id, problems by problem_id, experiences by experience_id.
#
# The media of a delivery (六(四): 同步上传录音资料和照片) are listed in
# ``media/media.csv``. Its ``record_key`` names one record by the MEDIA_KEYS
# columns of its table, values joined by KEY_SEP; an interview's recording
# covers all its claims, so interviews are named by interview_id alone.
MEDIA_KEYS = {
    "household_survey": ("village_code", "household_id"),
    "interviews": ("interview_id",),
    "project_checks": ("project_id",),
    "problems": ("problem_id",),
    "experiences": ("experience_id",),
    "claims": ("claim_id",),
}
KEY_SEP = "/"
MEDIA_KIND = {"audio": "audio", "录音": "audio", "photo": "photo", "照片": "photo"}
MEDIA = TableSpec(
    "media",
    (
        C("file", "文件"),  # path inside the delivery's media/ folder
        C("sha256", "SHA-256"),
        C("kind", "类型", "enum", values=MEDIA_KIND),
        C("table", "表"),
        C("record_key", "记录编号"),
    ),
    key=("file", "table", "record_key"),
)

# Interview items: a helper's (帮扶责任人) claim about one household uses the
# survey's column names; a village cadre's claim about the village's registered
# households uses them too ("true" = all of them meet it).
CLAIM_ITEMS = (
    "household_size",
    "income_per_capita_yuan",
    "food_clothing_ok",
    "education_ok",
    "medical_ok",
    "housing_safe",
    "water_safe",
)
