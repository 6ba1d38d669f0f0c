"""The rules of one year's plan, loaded from ``params/plan-*.yaml``.

Over ~600 lines because it is the plan's schema: one small frozen model per section.

Every number the software uses from the plan (quotas, substitution orders,
thresholds, team rules, dates, content-item codes) lives in the YAML and is
validated here into a frozen model; code holds the algorithms only. A wrong
key or value raises :class:`~xkaohe.errors.PlanError` naming it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xkaohe.errors import PlanError
from xkaohe.yamltext import excerpt, load_yaml_text

HouseholdStatus = Literal[
    "exited_2019", "exited_2016_2018", "new_2018_2019", "not_exited", "relapsed"
]
VillageType = Literal["poor", "nonpoor_many_poor"]
ProjectKind = Literal["county", "village", "household_policy", "paired_cooperation"]
Level = Literal["province", "city", "county", "township", "village"]
PositiveInt = Annotated[int, Field(ge=1)]
Share = Annotated[float, Field(ge=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Scope(_Model):
    cities: PositiveInt
    counties: PositiveInt
    paired_helper_counties: int = Field(ge=0)
    paired_helped_counties: int = Field(ge=0)


class CountyCategory(_Model):
    """A county type of 三(一)1 分类考核 and what the assessment focuses on for it.

    ``flag``: the frame carries this type as a boolean column of ``counties``
    named by ``code``, beside ``category`` (深度贫困县: a county can be
    deep-poverty and exited or exiting); otherwise it is a value of ``category``.
    """

    code: Literal["deep_poverty", "exit_2019", "exited", "non_key"]
    label: str
    focus: str
    flag: bool = False


class ContentItem(_Model):
    code: str = Field(pattern=r"^[A-Z][0-9]+$")
    label: str
    sub_items: tuple[str, ...] = ()


class Content(_Model):
    county: tuple[ContentItem, ...]
    city: tuple[ContentItem, ...]
    pairing: tuple[ContentItem, ...]

    def item(self, code: str) -> ContentItem:
        """The content item with this code, at any level."""
        for it in (*self.county, *self.city, *self.pairing):
            if it.code == code:
                return it
        raise KeyError(code)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(it.code for it in (*self.county, *self.city, *self.pairing))


class RelapseCause(_Model):
    """Why a relapsed household fell back (the survey's ``relapse_cause``; 三(一)1(8)).

    ``plan_named``: the plan asks about this cause by name (因脱贫质量不高和帮扶
    工作不实导致的返贫); reports single these out.
    """

    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    label: str
    plan_named: bool = False


class VillageQuota(_Model):
    type: VillageType
    count: int = Field(ge=0)


def _distinct_types(quotas: tuple[VillageQuota, ...], where: str) -> None:
    types = [q.type for q in quotas]
    if len(set(types)) != len(types):
        raise ValueError(f"a village type appears twice in {where}")


class Range(_Model):
    """A numeric condition on a county attribute: ``min <= value <= max`` (either may be absent)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("a range's 'min' is above its 'max'")
        return self

    def holds(self, value: object) -> bool:
        """Whether ``value`` (a number; anything else never matches) is within the range."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


Scalar = bool | int | float | str
"""An attribute value a condition compares with ``==`` (a string, a number or a flag)."""


class CountyQuotas(_Model):
    """One rule of ``villages.by_county``: the village quotas of the counties it matches.

    ``when`` maps a column of the frame's ``counties`` table to a value (equal),
    a list of values (any of them) or a range ``{min, max}``; every condition
    must hold. A null attribute matches nothing.
    """

    when: dict[str, Scalar | tuple[Scalar, ...] | Range] = Field(min_length=1)
    quotas: tuple[VillageQuota, ...] = Field(min_length=1)  # in walk order

    @model_validator(mode="after")
    def _distinct(self) -> CountyQuotas:
        _distinct_types(self.quotas, "a by_county rule's quotas")
        return self

    def matches(self, county: Mapping[str, object]) -> bool:
        """Whether every condition holds for a county (a ``counties`` row)."""
        for column, want in self.when.items():
            value = county.get(column)
            if value is None:
                return False
            if isinstance(want, Range):
                ok = want.holds(value)
            elif isinstance(want, tuple):
                ok = value in want
            else:
                ok = value == want and isinstance(value, bool) == isinstance(want, bool)
            if not ok:
                return False
        return True


class VillageRules(_Model):
    """Village quotas (五(七)1). ``by_county``: rules on county attributes, first match wins;
    a county no rule matches gets ``quotas``."""

    quotas: tuple[VillageQuota, ...]
    distinct_townships: bool
    many_poor_share: Share
    remoteness_tilt: float = Field(ge=0)
    inclusion_replicates: PositiveInt  # step 6, "pi-mc-v1": replicate walks per county
    by_county: tuple[CountyQuotas, ...] = ()

    @model_validator(mode="after")
    def _distinct(self) -> VillageRules:
        _distinct_types(self.quotas, "villages.quotas")
        return self

    @property
    def quota(self) -> dict[str, int]:
        return {q.type: q.count for q in self.quotas}

    @property
    def county_columns(self) -> tuple[str, ...]:
        """The ``counties`` columns the ``by_county`` rules read, in first-use order."""
        return tuple(dict.fromkeys(c for rule in self.by_county for c in rule.when))

    def rule_for(self, county: Mapping[str, object]) -> int:
        """The index of the first ``by_county`` rule matching a county; -1 for ``quotas``."""
        for i, rule in enumerate(self.by_county):
            if rule.matches(county):
                return i
        return -1

    def quotas_of(self, rule: int) -> tuple[VillageQuota, ...]:
        """The quotas of ``by_county`` rule ``rule`` (-1: the default ``quotas``)."""
        return self.quotas if rule < 0 else self.by_county[rule].quotas

    def quotas_for(self, county: Mapping[str, object]) -> tuple[VillageQuota, ...]:
        """The village quotas of a county (a ``counties`` row): what reports call planned."""
        return self.quotas_of(self.rule_for(county))


class HouseholdQuota(_Model):
    """A status's households per sampled village: ``count``, or a share with ``count`` the cap.

    With ``share``, a village draws ``ceil(share * N)`` households, at least
    ``min`` and at most ``count``; ``N`` is the village's frame households of
    this status (``share_of: status``) or all its frame households
    (``share_of: registered``). A shortfall is made up by the substitutes as
    for a fixed count.
    """

    status: HouseholdStatus
    count: int = Field(ge=0)
    share: Share | None = None
    share_of: Literal["status", "registered"] = "status"
    min: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _share_bounds(self) -> HouseholdQuota:
        if self.share is None and (self.min or self.share_of != "status"):
            raise ValueError(f"'{self.status}': 'min' and 'share_of' go with a 'share'")
        if self.min > self.count:
            raise ValueError(f"'{self.status}': 'min' is above 'count' (the cap)")
        return self


class HouseholdRules(_Model):
    quotas: tuple[HouseholdQuota, ...]
    substitutes: dict[HouseholdStatus, tuple[HouseholdStatus, ...]]
    full_coverage: tuple[HouseholdStatus, ...]
    general_per_village: int = Field(ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> HouseholdRules:
        quota_statuses = [q.status for q in self.quotas]
        if len(set(quota_statuses)) != len(quota_statuses):
            raise ValueError("a status appears twice in households.quotas")
        for status, subs in self.substitutes.items():
            if status not in quota_statuses:
                raise ValueError(f"substitutes for '{status}', which has no quota")
            if status in subs:
                raise ValueError(f"'{status}' cannot substitute for itself")
        overlap = set(quota_statuses) & set(self.full_coverage)
        if overlap:
            raise ValueError(f"{sorted(overlap)} both have a quota and full coverage")
        # full coverage takes every such household after the substitutions: one
        # taken as a substitute would be listed twice
        taken = {s for subs in self.substitutes.values() for s in subs} & set(self.full_coverage)
        if taken:
            raise ValueError(f"{sorted(taken)} both substitute and have full coverage")
        return self


class GroupRules(_Model):
    villages: dict[Literal["poor", "nonpoor"], int]
    groups_per_village: int = Field(ge=0)


class ProjectRules(_Model):
    county_level: int = Field(ge=0)
    per_village: dict[Literal["village", "household_policy"], int]
    paired_cooperation: int = Field(ge=0)
    beneficiaries_per_project: PositiveInt
    beneficiaries_min: int = Field(ge=0)


class InterviewQuota(_Model):
    role: str
    label: str
    count: PositiveInt


class InterviewRules(_Model):
    city: tuple[InterviewQuota, ...]
    county: tuple[InterviewQuota, ...]
    county_paired: tuple[InterviewQuota, ...]
    village: tuple[InterviewQuota, ...]
    helpers_per_village: int = Field(ge=0)


class Sampling(_Model):
    protocol: Literal["prn-order-v1"]
    villages: VillageRules
    households: HouseholdRules
    villager_groups: GroupRules
    projects: ProjectRules
    interviews: InterviewRules


JudgedRate = Literal["wrong_exit_rate", "omission_rate", "approval_rate"]


class Bound(_Model):
    """A rate's threshold: ``max`` (fail above) or ``min`` (fail below), exactly one."""

    max: Share | None = None
    min: Share | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Bound:
        if (self.max is None) == (self.min is None):
            raise ValueError("a threshold has exactly one of 'max' or 'min'")
        return self

    @property
    def side(self) -> Literal["max", "min"]:
        """``max``: the rate must not exceed ``value``; ``min``: must not fall below it."""
        return "max" if self.max is not None else "min"

    @property
    def value(self) -> float:
        """The threshold itself."""
        value = self.max if self.max is not None else self.min
        if value is None:  # excluded by _one_side
            raise ValueError("a threshold without a value")
        return float(value)


class ExitStandard(_Model):
    """The county exit standard, judged for the counties exiting this year (三(一)1)."""

    categories: tuple[Literal["deep_poverty", "exit_2019", "exited", "non_key"], ...]
    poverty_incidence_max: Share
    poor_villages_exited: bool
    remaining_statuses: tuple[HouseholdStatus, ...] = Field(min_length=1)
    exited_statuses: tuple[HouseholdStatus, ...] = Field(min_length=1)


class Indicators(_Model):
    income_line_yuan: float = Field(gt=0)
    confidence: float = Field(gt=0, lt=1)
    detection_power: float = Field(gt=0, lt=1)
    thresholds: dict[JudgedRate, Bound]
    exit_standard: ExitStandard

    def threshold(self, rate: str) -> Bound | None:
        """The threshold of ``rate``; None for a rate the plan does not judge."""
        for name, bound in self.thresholds.items():
            if name == rate:
                return bound
        return None

    @property
    def judged_rates(self) -> tuple[str, ...]:
        """The rates with a threshold, in plan order."""
        return tuple(self.thresholds)


class Consistency(_Model):
    helper_mismatch_max: Share
    village_claim_mismatch_max: Share
    income_tolerance: Share
    helper_awareness_min: Share


class ClaimEvidence(_Model):
    """What can confirm or contradict a claim about one item (plan ``claims.items``).

    ``table``: ``household_survey`` (the questionnaires), ``project_checks``
    (the team's project checks), ``beneficiaries`` (the questionnaires of the
    surveyed households the frame's project register lists as beneficiaries),
    ``county_register`` (a county total of the frame: ``persons`` of the
    households of ``statuses``, the project register's ``funds_yuan``,
    ``projects_done`` — its projects less the sampled ones the teams found
    unfinished — or ``poor_villages_exited``) or ``none`` (nothing the
    workbench holds can check it: the claim is shown, never judged).
    ``column``: the evidence column; a boolean meets the item when true, an
    enum when its value is one of ``ok``, a number when within ``tolerance``
    (relative) of the claimed value — or, with ``bound: at_most``, when the
    claimed number does not exceed it. ``among``: boolean survey columns that
    must all be true for a household to be one the claim is about (e.g.
    ``registered``, ``has_labour``). ``household_only``: only a claim about
    one household can be compared (numbers such as household size).
    """

    table: Literal["household_survey", "project_checks", "beneficiaries", "county_register", "none"]
    column: str = Field(default="", pattern=r"^([a-z][a-z0-9_]*)?$")
    among: tuple[str, ...] = ()
    ok: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tolerance: Share = 0.0
    bound: Literal["equal", "at_most"] = "equal"
    household_only: bool = False

    @model_validator(mode="after")
    def _column_given(self) -> ClaimEvidence:
        if self.table != "none" and not self.column:
            raise ValueError(f"an item checked against {self.table} needs its column")
        if self.table == "county_register" and self.column not in REGISTER_TOTALS:
            raise ValueError(
                f"county_register column {self.column!r} is not one of {', '.join(REGISTER_TOTALS)}"
            )
        return self


REGISTER_TOTALS = ("persons", "funds_yuan", "projects_done", "poor_villages_exited")
"""The county totals of the frame a ``county_register`` item can name."""
ROW_TABLES = ("household_survey", "project_checks", "beneficiaries")
"""The evidence tables of one row per household or project (the others are county totals)."""


class Claims(_Model):
    """The claim items (codes of :data:`xkaohe.codes.CLAIM_ITEM`) and their evidence.

    ``finish_year``: the year every remaining poor person is to have exited
    (三(一)1 深度贫困县: 分析是否能够如期完成脱贫攻坚目标任务); a county's pace
    is judged against it (:mod:`xkaohe.analyse.county_facts`).
    """

    items: dict[str, ClaimEvidence] = Field(min_length=1)
    finish_year: int = Field(ge=2000)


class Review(_Model):
    days_to_review: int = Field(ge=0)


class FieldWeek(_Model):
    """Daily returns of the field week (六(四)) and the signals the data desk watches."""

    # table -> the media every record of it needs (同步上传录音资料和照片)
    media_required: dict[str, tuple[Literal["audio", "photo"], ...]]
    entry_days_allowed: int = Field(ge=0)  # a row entered later than visit day + this is late
    pair_households_per_day_max: PositiveInt  # more households a day than one pair can visit


class TeamSize(_Model):
    base: int = Field(ge=0)
    per_county: int = Field(ge=0)

    def for_counties(self, n_counties: int) -> int:
        """Team size for a target with ``n_counties`` counties (四(二))."""
        return self.base + self.per_county * n_counties


class Teams(_Model):
    count: PositiveInt
    assessors_per_city: PositiveInt
    grassroots_levels: tuple[Level, ...]
    grassroots_share_min: Share
    leader_kind: str
    deputy_kind: str
    observer_kind: str
    observers_per_team: int = Field(ge=0)
    contacts_per_team: int = Field(ge=0)
    size: TeamSize
    no_mutual_assessment: bool
    exclude_home_city: bool
    # roster rules (四(二), 六(一)); defaults only so that older lottery certificates still read
    selection: Literal["drawn", "office_list"] = "drawn"
    one_cadre_per_unit: bool = False
    department_required: bool = False
    priority_departments: tuple[str, ...] = ()


class Timeline(_Model):
    teams_formed_by: dt.date
    observers_named_by: dt.date
    training_by: dt.date
    field_start: dt.date
    field_end: dt.date
    team_reports_by: dt.date
    self_assessment_by: dt.date
    provincial_report_by: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Timeline:
        if not self.training_by <= self.field_start <= self.field_end <= self.team_reports_by:
            raise ValueError(
                "dates must run training_by <= field_start <= field_end <= team_reports_by"
            )
        return self

    def in_field_week(self, day: dt.date) -> dt.date:
        """``day`` moved into the field week (六(四)): its first day if before, last if after."""
        return min(max(day, self.field_start), self.field_end)


class CountRange(_Model):
    min: int = Field(ge=0)
    max: int = Field(ge=0)


class Systemic(_Model):
    """When a content item counts as systemic (共性问题) rather than case-specific."""

    province_counties: int = Field(ge=1)
    city_counties: int = Field(ge=1)


CandidateRuleName = Literal[
    "wrong_exit_rate",
    "omission_rate",
    "approval_rate",
    "wrong_inclusion_rate",
    "helper_claims",
    "helper_awareness",
    "village_claims",
    "projects",
    "paired_funds",
    "paired_beneficiaries",
    "claims",
    "beneficiaries",
    "identification",
    "edge_monitoring",
]
"""The system's candidate rules (``xkaohe.analyse.candidates.RULES``), in report order."""


class CandidateRule(_Model):
    """Where a candidate rule files its problem (a 三 content item) and the suggestion it makes."""

    item: str = Field(pattern=r"^[A-Z][0-9]+$")
    suggestion: str = Field(min_length=1)


class Reports(_Model):
    experiences: CountRange
    problems_min: int = Field(ge=0)
    suggestion_required: bool
    systemic: Systemic
    candidates: dict[CandidateRuleName, CandidateRule]


class Signoff(_Model):
    """Who signs a team report (六(五): 经组长和副组长签字)."""

    roles: tuple[Literal["leader", "deputy"], ...] = Field(min_length=1)


class CodeLabel(_Model):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str


class DisciplineRule(CodeLabel):
    party: Literal["team", "assessed"]  # who the rule binds: 考核组 or 被考核地方
    aliases: tuple[str, ...] = ()  # other wordings accepted in the incidents register


class Discipline(_Model):
    """The discipline rules (八(二)(三)) and what may be done about a breach."""

    rules: tuple[DisciplineRule, ...] = Field(min_length=1)
    actions: tuple[CodeLabel, ...] = Field(min_length=1)
    reporters: tuple[CodeLabel, ...] = Field(min_length=1)


class Rectification(_Model):
    """The rectification register (七(二) 督促各地抓好整改落实)."""

    statuses: tuple[CodeLabel, ...] = Field(min_length=1)
    done_status: str
    evidence_required: bool

    @model_validator(mode="after")
    def _done_known(self) -> Rectification:
        if self.done_status not in {s.code for s in self.statuses}:
            raise ValueError("done_status must be one of the statuses")
        return self


class Assumption(_Model):
    """A value the plan text does not state (the YAML's "unconfirmed" notes, kept by the model).

    ``key``: the value's dotted path in the plan (``sampling.villages.many_poor_share``;
    a list item by its index, a mapping entry by its key; a note on a section
    covers everything in it). ``note``: what was assumed, in Chinese, as
    reports quote it.
    """

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
    note: str = Field(min_length=1)


def _covers(outer: str, inner: str) -> bool:
    """Whether dotted key ``outer`` is ``inner`` or one of its sections."""
    return inner == outer or inner.startswith(outer + ".")


class Plan(_Model):
    """A year's plan. Build it with :func:`load_plan`."""

    year: int
    title: str
    scope: Scope
    county_categories: tuple[CountyCategory, ...]
    content: Content
    relapse_causes: tuple[RelapseCause, ...] = Field(min_length=1)
    sampling: Sampling
    indicators: Indicators
    consistency: Consistency
    claims: Claims
    review: Review
    field_week: FieldWeek
    teams: Teams
    timeline: Timeline
    reports: Reports
    signoff: Signoff
    discipline: Discipline
    rectification: Rectification
    assumptions: tuple[Assumption, ...] = ()

    @model_validator(mode="after")
    def _assumption_keys(self) -> Plan:
        keys = [a.key for a in self.assumptions]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"assumptions name a key twice ({', '.join(twice)})")
        for key in keys:
            self.value_at(key)
        return self

    def value_at(self, key: str) -> object:
        """The plan's value at a dotted key (as :class:`Assumption` keys are written).

        Raises ValueError (a PlanError when the plan is parsed) naming a key
        the plan does not have.
        """
        value: object = self
        for part in key.split("."):
            if isinstance(value, BaseModel) and part in type(value).model_fields:
                value = getattr(value, part)
            elif isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, tuple) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                raise ValueError(f"assumption key '{key}' names nothing in the plan ('{part}')")
        return value

    def assumption(self, key: str) -> Assumption | None:
        """The note on ``key`` or on a section holding it; None when the plan text states it."""
        for a in self.assumptions:
            if _covers(a.key, key):
                return a
        return None

    def assumptions_under(self, *keys: str) -> tuple[Assumption, ...]:
        """The notes on, inside or around any of ``keys``, in plan order."""
        return tuple(
            a for a in self.assumptions if any(_covers(a.key, k) or _covers(k, a.key) for k in keys)
        )

    @model_validator(mode="after")
    def _candidate_items(self) -> Plan:
        unknown = {
            rule: c.item
            for rule, c in self.reports.candidates.items()
            if c.item not in self.content.codes
        }
        if unknown:
            listed = ", ".join(f"{rule}: {item}" for rule, item in unknown.items())
            raise ValueError(
                f"reports.candidates files problems under items the content lacks ({listed})"
            )
        return self

    def threshold(self, rate: str) -> Bound | None:
        """The threshold of ``rate`` (see :meth:`Indicators.threshold`)."""
        return self.indicators.threshold(rate)

    def category(self, code: str) -> CountyCategory:
        for c in self.county_categories:
            if c.code == code:
                return c
        raise KeyError(code)

    @model_validator(mode="after")
    def _relapse_codes(self) -> Plan:
        listed = [c.code for c in self.relapse_causes]
        if len(set(listed)) != len(listed):
            raise ValueError(f"relapse_causes lists a code twice ({', '.join(listed)})")
        return self

    def relapse_cause(self, code: str) -> RelapseCause:
        """The relapse cause with this code."""
        for c in self.relapse_causes:
            if c.code == code:
                return c
        raise KeyError(code)

    @property
    def plan_named_relapse_causes(self) -> tuple[str, ...]:
        """The codes of the relapse causes the plan names (三(一)1(8))."""
        return tuple(c.code for c in self.relapse_causes if c.plan_named)

    def categories_of(self, county: Mapping[str, object]) -> tuple[CountyCategory, ...]:
        """The types whose focus applies to a county (a ``counties`` row), in plan order."""
        return tuple(
            c
            for c in self.county_categories
            if (bool(county.get(c.code)) if c.flag else county.get("category") == c.code)
        )


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Validate the YAML text of a plan; raise PlanError naming every bad key."""
    data = load_yaml_text(text, source)
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            found = "nothing" if err["type"] == "missing" else excerpt(err.get("input"))
            lines.append(f"{source}: key '{key}': {err['msg']}; found {found}")
        raise PlanError("\n".join(lines)) from None


__all__ = [
    "REGISTER_TOTALS",
    "ROW_TABLES",
    "Assumption",
    "Bound",
    "CountyQuotas",
    "ExitStandard",
    "Plan",
    "Range",
    "parse_plan",
]
