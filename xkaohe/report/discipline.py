"""考核纪律遵守情况: the discipline register in the reports and the 督查组's notebook (plan 八).

What is counted and how a row is checked is decided once in
:mod:`xkaohe.analyse.discipline` and stored in the results store
(``incidents``, ``incident_evidence``, ``discipline_summary``); this module
words it in Chinese. Rules, actions and reporters are worded as the plan's
``discipline`` section labels them; whom a rule binds through
:data:`xkaohe.codes.DISCIPLINE_PARTY`. Free text (descriptions, outcomes) passes
:func:`xkaohe.privacy.mask_text` with every name the run knows
(:func:`xkaohe.io.people.known_names`: household heads, assessors, liaisons,
team members).

Notebooks: the city, county and provincial reports append
:func:`section_html`; ``notebooks/supervision.ipynb`` (the 督查组) uses the rest.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from xkaohe.analyse.discipline import LIST_SEP, discipline_summary, empty_incidents
from xkaohe.codes import DISCIPLINE_PARTY
from xkaohe.io.discipline import read_discipline
from xkaohe.io.people import known_names
from xkaohe.io.results import read_result, run_plan
from xkaohe.plan import Plan
from xkaohe.privacy import KnownNames, mask_text
from xkaohe.report.kit import box, esc, protected_words, table_html
from xkaohe.results_spec import Result

PARTY_LABELS = DISCIPLINE_PARTY.labels()
NO_REGISTER = (
    "本次运行的考核结果库中没有纪律登记表（结果库在加入纪律登记之前生成，请重新运行指标阶段）。"
)


@dataclass(frozen=True)
class Register:
    """The stored register of a run, its plan, the county names and the names to mask.

    ``stored`` is False for results computed before the register existed (the
    tables are then empty and the reports say so).
    """

    incidents: pl.DataFrame
    evidence: pl.DataFrame
    summary: pl.DataFrame
    plan: Plan
    county_names: dict[str, str]
    known: KnownNames
    stored: bool = True


def load_register(run: Path) -> Register:
    """The run's discipline tables from the results store."""
    incidents = read_discipline(run, Result.INCIDENTS)
    evidence = read_discipline(run, Result.INCIDENT_EVIDENCE)
    summary = read_discipline(run, Result.DISCIPLINE_SUMMARY)
    counties = read_result(run, Result.COUNTIES)
    stored = incidents is not None and evidence is not None and summary is not None
    if incidents is None or evidence is None or summary is None:
        incidents, evidence = empty_incidents()
        evidence = evidence.with_columns(pl.lit(None, pl.String).alias("object"))
        summary = discipline_summary(incidents, counties, None)
    plan = run_plan(run)
    return Register(
        incidents,
        evidence,
        summary,
        plan,
        dict(counties.select("county_code", "county_name").iter_rows()),
        known_names(run, protected_words(plan, counties)),
        stored,
    )


def _first_county(run: Path) -> tuple[str, str]:
    """``(county_code, city_name)`` of the run's first county (a notebook's empty parameter)."""
    counties = read_result(run, Result.COUNTIES).sort("county_code")
    return str(counties["county_code"][0]), str(counties["city_name"][0])


def scoped(reg: Register, county_code: str = "", city_name: str = "") -> pl.DataFrame:
    """The incidents of a county, of a city (its own and its counties'), or all of them."""
    if county_code:
        return reg.incidents.filter(pl.col("county_code") == county_code)
    if city_name:
        return reg.incidents.filter(pl.col("city_name") == city_name)
    return reg.incidents


def _codes_to_labels(column: str, labels: dict[str, str]) -> pl.Expr:
    return (
        pl.col(column)
        .str.split(LIST_SEP)
        .list.eval(pl.element().replace(labels))
        .list.join("、")
        .alias(column)
    )


def incident_table(reg: Register, incidents: pl.DataFrame) -> pl.DataFrame:
    """The incidents for a report (Chinese headers; free text masked), by date then number."""
    d = reg.plan.discipline
    rules = {r.code: r.label for r in d.rules}
    reporters = {r.code: r.label for r in d.reporters}
    actions = {a.code: a.label for a in d.actions}
    masked = incidents.sort("date", "incident_id")
    masked = masked.with_columns(
        pl.Series(c, [mask_text(t or "", reg.known) for t in masked[c].to_list()], pl.String)
        for c in ("description", "outcome")
    )
    return masked.with_columns(
        _codes_to_labels("actions", actions),
        pl.col("county_code").replace_strict(reg.county_names, default=None).alias("_county"),
    ).select(
        pl.col("incident_id").alias("编号"),
        pl.col("date").dt.strftime("%Y-%m-%d").alias("日期"),
        pl.concat_str(
            [pl.col("city_name"), pl.col("_county").fill_null("市本级")], separator=" "
        ).alias("地点"),
        pl.col("team_id").fill_null("—").alias("考核组"),
        pl.col("reporter").replace_strict(reporters, default=pl.col("reporter")).alias("报告方"),
        pl.col("party").replace_strict(PARTY_LABELS, default=pl.col("party")).alias("违纪方"),
        pl.col("rule").replace_strict(rules, default=pl.col("rule")).alias("违反纪律"),
        pl.col("description").alias("情况"),
        pl.col("actions").alias("处置措施"),
        pl.col("outcome").alias("处理结果"),
        pl.when(pl.col("evidence_missing"))
        .then(pl.lit("未留存"))
        .otherwise(pl.col("evidence_files").cast(pl.String) + " 份")
        .alias("证据"),
    )


def summary_sentence(incidents: pl.DataFrame, where: str) -> str:
    """One sentence counting ``incidents`` (HTML-escaped); ``where`` names the place."""
    if incidents.height == 0:
        return f"实地考核期间，{esc(where)}未登记违反考核纪律的情况。"
    n = incidents.height
    assessed = incidents.filter(pl.col("party") == "assessed").height
    team = incidents.filter(pl.col("party") == "team").height
    terminated = incidents.filter(pl.col("terminated")).height
    by_supervision = incidents.filter(pl.col("reporter") == "supervision").height
    missing = incidents.filter(pl.col("evidence_missing")).height
    parts = [
        f"实地考核期间，{esc(where)}共登记违反考核纪律的情况 {n} 起：",
        f"{PARTY_LABELS['assessed']}违反纪律 {assessed} 起，",
        f"{PARTY_LABELS['team']}违反纪律 {team} 起",
        f"；其中督查组发现 {by_supervision} 起" if by_supervision else "",
        f"，终止实地考核 {terminated} 起" if terminated else "",
        f"，{missing} 起未留存证据" if missing else "",
        "。",
    ]
    return "".join(parts)


def section_html(run: Path, county_code: str = "", city_name: str = "") -> str:
    """考核纪律遵守情况 of a county (``county_code``), a city (``city_name``) or, with
    neither, the whole province: one sentence of counts and the incidents."""
    reg = load_register(run)
    if not reg.stored:
        return f"<p>{esc(NO_REGISTER)}</p>"
    if county_code:
        where = f"{reg.county_names.get(county_code, county_code)}"
    elif city_name:
        where = city_name
    else:
        where = "全省"
    incidents = scoped(reg, county_code, city_name)
    kind = "ok" if incidents.height == 0 else "bad" if incidents["terminated"].any() else "info"
    body = box(kind, "", summary_sentence(incidents, where))
    if incidents.height:
        body += table_html(incident_table(reg, incidents), max_rows=incidents.height + 1)
    return body


def index_note(run: Path) -> str:
    """The supervision report's note in ``index.html``: incidents, terminated, no evidence."""
    reg = load_register(run)
    if not reg.stored:
        return ""
    i = reg.incidents
    return (
        f"登记违纪 {i.height} 起，终止实地考核 {i['terminated'].sum()} 起，"
        f"未留存证据 {i['evidence_missing'].sum()} 起"
    )


def county_section_html(run: Path, county_code: str = "") -> str:
    """:func:`section_html` for a county report (empty: the run's first county)."""
    return section_html(run, county_code=county_code or _first_county(run)[0])


def city_section_html(run: Path, city_name: str = "") -> str:
    """:func:`section_html` for a city report (empty: the city of the run's first county)."""
    return section_html(run, city_name=city_name or _first_county(run)[1])


# ------------------------------------------------------------------ the 督查组's notebook


def overview_html(reg: Register) -> str:
    """The register in one box: how many incidents, by whom, what was done."""
    if not reg.stored:
        return box("info", "纪律登记概况", esc(NO_REGISTER))
    return box("key", "纪律登记概况", summary_sentence(reg.incidents, "全省"))


def city_table(reg: Register) -> pl.DataFrame:
    """Per city: incidents in the city and its counties, by party, terminated, without evidence."""
    return _counts_table(reg.summary.filter(pl.col("level") == "city"), "被考核市")


def team_table(reg: Register) -> pl.DataFrame:
    """Per team: incidents where it worked, its own breaches, those the places committed."""
    return _counts_table(reg.summary.filter(pl.col("level") == "team"), "考核组")


def _counts_table(rows: pl.DataFrame, unit: str) -> pl.DataFrame:
    return rows.sort("unit").select(
        pl.col("unit").alias(unit),
        pl.col("incidents").alias("登记起数"),
        pl.col("assessed_breaches").alias(f"{PARTY_LABELS['assessed']}违纪"),
        pl.col("team_breaches").alias(f"{PARTY_LABELS['team']}违纪"),
        pl.col("by_supervision").alias("督查组发现"),
        pl.col("terminated").alias("终止实地考核"),
        pl.col("without_evidence").alias("未留存证据"),
    )


def rule_table(reg: Register) -> pl.DataFrame:
    """Per rule of the plan (八(三)), in plan order: whom it binds and how often it was broken."""
    counts = dict(reg.incidents.group_by("rule").len().iter_rows())
    rows = [
        (r.label, PARTY_LABELS.get(r.party, r.party), int(counts.get(r.code, 0)))
        for r in reg.plan.discipline.rules
    ]
    return pl.DataFrame(
        rows,
        schema={"纪律要求": pl.String, "约束对象": pl.String, "登记起数": pl.Int64},
        orient="row",
    )


def evidence_table(reg: Register) -> pl.DataFrame:
    """Every evidence file: its incident, name, size, SHA-256 and where the run keeps it."""
    return reg.evidence.sort("incident_id", "file").select(
        pl.col("incident_id").alias("编号"),
        pl.col("file").alias("证据文件"),
        pl.col("bytes").alias("字节"),
        pl.col("sha256").alias("SHA-256"),
        pl.col("object").alias("保存位置（运行目录内，只读）"),
    )


def follow_up(reg: Register) -> pl.DataFrame:
    """Incidents that need the 督查组: field work terminated, or no evidence kept (八(三))."""
    need = reg.incidents.filter(pl.col("terminated") | pl.col("evidence_missing"))
    return incident_table(reg, need)


def timeline_figure(reg: Register) -> go.Figure:
    """Incidents per day of the field week, by whom the rule binds."""
    t = reg.plan.timeline
    days = pl.date_range(t.field_start, t.field_end, eager=True).alias("date")
    fig = go.Figure()
    for code in DISCIPLINE_PARTY.order:
        per_day = (
            reg.incidents.filter(pl.col("party") == code)
            .group_by("date")
            .len()
            .join(days.to_frame(), on="date", how="right")
            .sort("date")
            .with_columns(pl.col("len").fill_null(0))
        )
        fig.add_bar(
            x=per_day["date"].dt.strftime("%m-%d").to_list(),
            y=per_day["len"].to_list(),
            name=PARTY_LABELS[code],
            marker_color=DISCIPLINE_PARTY.colours().get(code),
        )
    fig.update_layout(
        barmode="stack",
        title="实地考核期间每日登记的违纪情况",
        xaxis_title="日期",
        yaxis_title="起数",
        height=320,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
    )
    return fig


def rules_text(plan: Plan) -> str:
    """The plan's discipline rules, grouped by whom they bind, as an HTML list."""
    lines = []
    for code in DISCIPLINE_PARTY.order:
        rules = [r.label for r in plan.discipline.rules if r.party == code]
        if rules:
            lines.append(f"<b>{esc(PARTY_LABELS[code])}</b>：{html.escape('；'.join(rules))}")
    actions = "、".join(a.label for a in plan.discipline.actions)
    lines.append(
        f"<b>处置</b>：{esc(actions)}（方案八(二)(三)：立即制止并及时上报，留存证据；情况严重且不及时改正的可终止实地考核）"
    )
    return "<ul style='line-height:1.8'>" + "".join(f"<li>{x}</li>" for x in lines) + "</ul>"


__all__ = [
    "NO_REGISTER",
    "PARTY_LABELS",
    "Register",
    "city_section_html",
    "city_table",
    "county_section_html",
    "evidence_table",
    "follow_up",
    "incident_table",
    "index_note",
    "load_register",
    "overview_html",
    "rule_table",
    "rules_text",
    "scoped",
    "section_html",
    "summary_sentence",
    "team_table",
    "timeline_figure",
]
