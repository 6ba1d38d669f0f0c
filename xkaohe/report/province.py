"""What ``notebooks/provincial_report.ipynb`` shows: the provincial summary (plan 六).

Plan 六 asks for a provincial summary by 20 December, after the teams' city,
county and pairing reports of 1 December, for the leadership group
(省扶贫开发领导小组). Sections: 1 the sample against the plan (五(七));
2 every county's rates with their intervals (forest charts); 3 the counties
whose thresholds are their exit standard (三(一)1); 4 the county categories
and their focus; 5 the cities; 6 problems by content item (三), 共性 vs 个性;
7 the cross-checks (五(三)(五)); 8 county pairing (三(二)); 9 typical
experiences; 10 what a sample of this size can tell; 11 the deadlines (六);
12 field rows rejected.

Everything is read from the whole results store
(:func:`xkaohe.report.kit.load_results`): statuses, verdicts and review
states and the counties' detection limits as stored, labels from
:mod:`xkaohe.codes`.

Why one module of ~1,300 lines: the report has twelve sections, each a few small
shapers, in the notebook's order; one notebook, one module (issue 9), so a reviewer
finds a section's code by its number here instead of across several files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from xkaohe import codes
from xkaohe.plan import CountyCategory
from xkaohe.report import county as cty
from xkaohe.report.figures import bars, rate_chart
from xkaohe.report.kit import (
    DASH,
    Results,
    box,
    bullets,
    confidence_text,
    date_text,
    esc,
    interval_expr,
    item_labels,
    of_type,
    percent,
    percent_expr,
    planned_totals,
    standard_expr,
    standard_text,
    status_cell,
    table_html,
    verdict_cell,
)


def _reported(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.filter(pl.col("in_report"))


def _with_types(df: pl.DataFrame, r: Results) -> pl.DataFrame:
    """``df`` (with ``county_code``) with one boolean column per county type of the plan."""
    types = r.counties.select(
        "county_code", *[of_type(cat).alias(f"_t_{cat.code}") for cat in r.plan.county_categories]
    )
    return df.join(types, on="county_code", how="inner")


def verdict_counts_text(
    verdicts: pl.Series, scope: str | None = None, names: dict[str, list[str]] | None = None
) -> str:
    """ "2个县未达到贫困县退出标准（…），7个县未发现超标（…）": counts by stored verdict.

    Worded by ``scope`` (reference lines unless ``exit_standard``); ``names``
    optionally lists counties per verdict, after its count.
    """
    words = codes.verdict_set(scope)
    said = []
    for code in words.order:
        n = int((verdicts == code).sum())
        listed = (names or {}).get(code)
        if n:
            said.append(
                f"{n}个县{words.label(code)}" + (f"（{'、'.join(listed)}）" if listed else "")
            )
    return "，".join(said) or "没有县"


# ------------------------------------------------------------------ 1 the sample


def overview_html(r: Results) -> str:
    """Heading: the plan, the date of the results, what was assessed (HTML)."""
    by_cat = "、".join(
        f"{c.label}{r.counties.filter(of_type(c)).height}个" for c in r.plan.county_categories
    )
    helped = r.counties.filter(
        pl.col("national_poverty_county") & pl.col("paired_helper_county").is_not_null()
    ).height
    teams = r.teams.height if r.teams is not None else r.households["team_id"].n_unique()
    return (
        f"<h2>{esc(r.plan.title)}：全省汇总</h2>"
        f"<p>结果库数据截至<b>{date_text(r.as_of)}</b>。{teams}个考核组对"
        f"{r.counties['city_name'].n_unique()}个市、{r.counties.height}个有扶贫任务的县（市、区）"
        f"开展交叉考核，其中{by_cat}；接受县域结对帮扶的国家级贫困县{helped}个。</p>"
    )


def sample_achieved(r: Results) -> pl.DataFrame:
    """Units and households: what the plan asks, what was drawn, what was surveyed.

    Villages and households planned are the stored ``sample_plan`` summed over
    the counties (each county by its own rule of the plan).

    Returns
    -------
    pl.DataFrame
        ``项目, 计划, 抽取, 实际调查, 完成率（实际/计划）``.
    """
    plan, hh = r.plan, r.households
    planned = planned_totals(r.sample_plan)
    drawn = dict(r.sample_households.group_by("selected_as").len().rows())
    surveyed = dict(hh.filter(pl.col("registered")).group_by("selected_as").len().rows())
    villages = int(planned.filter(pl.col("kind") == "villages")["planned"].sum())
    rows: list[tuple[str, int | None, bool, int | None, int]] = [
        (
            "考核组",
            plan.teams.count,
            False,
            None if r.teams is None else r.teams.height,
            hh["team_id"].drop_nulls().n_unique(),
        ),
        (
            "市",
            plan.scope.cities,
            False,
            r.counties["city_name"].n_unique(),
            hh["city_name"].n_unique(),
        ),
        (
            "县（市、区）",
            plan.scope.counties,
            False,
            r.counties.height,
            hh["county_code"].n_unique(),
        ),
        ("抽样村", villages, False, r.sample_villages.height, hh["village_code"].n_unique()),
    ]
    quota_planned = 0
    households = planned.filter(pl.col("kind") == "households")
    for status, basis, n in households.select("category", "basis", "planned").iter_rows():
        full = basis == "full_coverage"
        quota_planned += 0 if full else n
        label = codes.SAMPLE_CATEGORY.label(status)
        rows.append((label, n, full, drawn.get(status, 0), surveyed.get(status, 0)))
    rows.append(
        (
            codes.SAMPLE_CATEGORY.label("group_census"),
            None,
            True,
            drawn.get("group_census", 0),
            surveyed.get("group_census", 0),
        )
    )
    general_planned = int(planned.filter(pl.col("kind") == "general")["planned"].sum())
    rows.append(
        (
            "一般农户（现场走访，含村民小组全覆盖）",
            general_planned,
            False,
            int(r.general_quota["count"].sum()),
            hh.filter(~pl.col("registered")).height,
        )
    )
    rows.append(("调查户合计", quota_planned + general_planned, False, None, hh.height))
    table = pl.DataFrame(
        rows,
        schema=["项目", "_plan", "_full", "_drawn", "实际调查"],
        orient="row",
        infer_schema_length=None,
    )
    share = percent_expr(pl.col("实际调查") / pl.col("_plan"))
    shown = pl.col("_plan").cast(pl.String)
    return table.select(
        "项目",
        pl.when(pl.col("_full"))
        .then(pl.format("全覆盖（{}户）", shown).fill_null("全覆盖"))
        .otherwise(shown)
        .alias("计划"),
        pl.col("_drawn").cast(pl.String).fill_null(DASH).alias("抽取"),
        "实际调查",
        pl.when(pl.col("项目") == "调查户合计")
        .then(pl.format("{}（含全覆盖户）", share))
        .otherwise(share)
        .alias("完成率（实际/计划）"),
    )


def _span(values: pl.Series) -> str:
    """``4`` when every county has the same number, else ``3—5``."""
    low, high = int(values.min()), int(values.max())  # type: ignore[arg-type]
    return str(low) if low == high else f"{low}—{high}"


def county_plan(r: Results) -> pl.DataFrame:
    """Per county, from the stored ``sample_plan``: ``county_code, villages`` (planned) and
    ``households`` (quota and general households planned; full coverage not counted)."""
    p = r.sample_plan
    counted = (pl.col("kind") == "general") | (
        (pl.col("kind") == "households") & (pl.col("basis") != "full_coverage")
    )
    return (
        p.group_by("county_code")
        .agg(
            villages=pl.col("planned").filter(pl.col("kind") == "villages").sum(),
            households=pl.col("planned").filter(counted).sum(),
        )
        .sort("county_code")
    )


def sample_note(r: Results) -> str:
    """One paragraph on the sample: substitutions and households per county (HTML)."""
    rules = r.plan.sampling
    per_county = county_plan(r)
    sub = r.sample_households.filter(
        pl.col("selected_as").is_in([q.status for q in rules.households.quotas])
        & (pl.col("status") != pl.col("selected_as"))
    ).height
    sizes: list[int] = r.households.group_by("county_code").len()["len"].to_list() or [0]
    full = "、".join(codes.SAMPLE_CATEGORY.label(s) for s in rules.households.full_coverage)
    by_rule = "（各县按其适用的分县抽样规则）" if rules.villages.by_county else ""
    return (
        f"<p>抽样清单中有{sub}户是某类户数不足时按方案顺序替代的户。按方案{by_rule}"
        f"每县抽{_span(per_county['villages'])}个村、按类别和一般农户计"
        f"{_span(per_county['households'])}户，另加{full + '和' if full else ''}村民小组全覆盖；"
        f"各县实际调查{min(sizes)}—{max(sizes)}户。</p>"
    )


# ------------------------------------------------------------------ 2 the rates


def judged(r: Results) -> pl.DataFrame:
    """:meth:`Results.named_rates` of the rates the plan sets a threshold for."""
    return r.named_rates().filter(pl.col("side").is_not_null())


def status_counts(r: Results) -> pl.DataFrame:
    """Counties per judged rate and stored status (worded as reference lines: all counties)."""
    words = codes.RATE_STATUS_REFERENCE
    shown = [c for c in words.order if c != "unjudged"]
    return (
        judged(r)
        .group_by("order", "label", "side", "threshold")
        .agg([(pl.col("status") == c).sum().cast(pl.Int64).alias(words.label(c)) for c in shown])
        .sort("order")
        .select(
            pl.col("label").alias("指标"),
            standard_expr(pl.col("side"), pl.col("threshold")).alias("标准"),
            *[words.label(c) for c in shown],
        )
    )


def rate_figure(r: Results, rate: str) -> go.Figure:
    """The forest chart of one judged rate: every county, grouped by city.

    Raises
    ------
    KeyError
        For a rate the plan sets no threshold for.
    """
    if r.plan.threshold(rate) is None:
        known = ", ".join(r.plan.indicators.judged_rates)
        raise KeyError(f"{rate!r} is not a rate with a threshold in the plan ({known})")
    rows = judged(r).filter(pl.col("rate") == rate)
    conf = confidence_text(r.plan.indicators.confidence)
    title = f"各县{codes.RATE.label(rate)}及{conf}置信区间（按市分组）"
    return rate_chart(rows, title, "forest", confidence=r.plan.indicators.confidence)


# ------------------------------------------------------------------ 3 the exit standard


def exit_rows(r: Results) -> pl.DataFrame:
    """The counties whose thresholds are their exit standard, with reported problems.

    Returns
    -------
    pl.DataFrame
        Their ``counties`` rows (stored ``verdict, scope, failing``) plus
        ``problems`` (findings in the report) and ``confirmed``.
    """
    probs = (
        _reported(r.findings)
        .filter(pl.col("county_code").is_not_null())
        .group_by("county_code")
        .agg(problems=pl.len().cast(pl.Int64), confirmed=pl.col("confirmed").sum().cast(pl.Int64))
    )
    return (
        r.counties.filter(pl.col("scope") == "exit_standard")
        .join(probs, on="county_code", how="left", maintain_order="left")
        .with_columns(pl.col("problems", "confirmed").fill_null(0))
    )


def exit_table(rows: pl.DataFrame, r: Results) -> pl.DataFrame:
    """:func:`exit_rows` with each judged rate as ``比率（区间）状态`` and the stored verdict."""
    cells = judged(r).with_columns(
        pl.format(
            "{}（{}）{}",
            percent_expr(pl.col("ratio")),
            interval_expr(pl.col("low"), pl.col("high")),
            status_cell(),
        ).alias("cell")
    )
    heads = {
        lab: f"{lab}（{standard_text(side, t)}）"
        for lab, side, t in cells.select("label", "side", "threshold")
        .unique(maintain_order=True)
        .rows()
    }
    wide = cells.pivot(on="label", index="county_code", values="cell")
    return rows.join(wide, on="county_code", how="left", maintain_order="left").select(
        pl.col("city_name").alias("市"),
        pl.col("county_name").alias("县（市、区）"),
        *[pl.col(lab).alias(head) for lab, head in heads.items()],
        pl.format("{}（已确认{}）", "problems", "confirmed").alias("列入报告的问题"),
        verdict_cell(short=False).alias("结论"),
    )


def exit_sentences(rows: pl.DataFrame, r: Results) -> str:
    """One sentence per county from its stored verdict, and the counts (HTML)."""
    items = []
    for row in rows.iter_rows(named=True):
        rates = r.rates.filter(pl.col("county_code") == row["county_code"])
        values = "，".join(
            f"{lab}{percent(v)}" if v is not None else f"{lab}无样本"
            for lab, v in rates.filter(pl.col("side").is_not_null()).select("label", "ratio").rows()
        )
        advice = ""
        if row["verdict"] == "fail":
            advice = "建议暂缓退出，逐户核实后整改。"
        elif row["verdict"] == "not_found":
            advice = "建议在退出专项评估中以足够样本核实。"
        items.append(
            f"<b>{esc(row['county_name'])}</b>（{esc(row['city_name'])}）：{esc(values)}。"
            f"{esc(cty.verdict_sentence(row, rates))}{advice}"
            f"列入报告的问题{row['problems']}个（已确认{row['confirmed']}个）。"
        )
    counts = verdict_counts_text(rows["verdict"], "exit_standard")
    head = f"<p>{rows.height}个拟摘帽县中，{counts}。</p>"
    return head + bullets(items)


# ------------------------------------------------------------------ 4 the categories


def category_rows(r: Results) -> pl.DataFrame:
    """Per county type of the plan: counties, stored verdicts, reported problems.

    Returns
    -------
    pl.DataFrame
        ``category, label, counties``, one count per verdict code, ``problems,
        confirmed, systemic``.
    """
    probs = _with_types(_reported(r.findings), r)
    rows = []
    for cat in r.plan.county_categories:
        v = r.counties.filter(of_type(cat))["verdict"]
        f = probs.filter(pl.col(f"_t_{cat.code}"))
        rows.append(
            {
                "category": cat.code,
                "label": cat.label,
                "counties": v.len(),
                **{k: int((v == k).sum()) for k in codes.VERDICT.order},
                "problems": f.height,
                "confirmed": int(f["confirmed"].sum()),
                "systemic": int((f["scope"] == "systemic").sum()),
            }
        )
    return pl.DataFrame(rows)


def category_table(rows: pl.DataFrame) -> pl.DataFrame:
    """:func:`category_rows` with Chinese headers (verdicts worded as reference lines)."""
    words = codes.VERDICT_REFERENCE
    return rows.select(
        pl.col("label").alias("考核类别"),
        pl.col("counties").alias("县数"),
        *[pl.col(k).alias(words.label(k, short=True)) for k in words.order],
        pl.col("problems").alias("列入报告的问题"),
        pl.col("confirmed").alias("其中已确认"),
        pl.col("systemic").alias("其中共性问题"),
    )


def category_items(r: Results) -> pl.DataFrame:
    """Reported problems of each category's counties by content item (items with a problem)."""
    counted = (
        _with_types(_reported(r.findings), r)
        .group_by("content_item")
        .agg(
            *[
                pl.col(f"_t_{c.code}").sum().cast(pl.Int64).alias(c.label)
                for c in r.plan.county_categories
            ],
            pl.len().cast(pl.Int64).alias("合计"),
        )
    )
    labels = item_labels(r.plan)
    base = pl.DataFrame({"content_item": list(labels), "考核内容": list(labels.values())})
    return base.join(counted, on="content_item", how="inner", maintain_order="left").drop(
        "content_item"
    )


def _top_items(f: pl.DataFrame, r: Results, k: int = 3) -> str:
    labels = item_labels(r.plan)
    top = f.group_by("content_item").len().sort(["len", "content_item"], descending=[True, False])
    return "、".join(f"{labels.get(c, c)}（{n}个）" for c, n in top.head(k).iter_rows())


def _names(df: pl.DataFrame, r: Results) -> str:
    """The counties of ``df`` (``county_code``) by name, in code order."""
    return "、".join(r.county_name(c) for c in sorted(set(df["county_code"].to_list())))


def fact_lines(r: Results, cat: CountyCategory, v: pl.DataFrame) -> list[str]:
    """What the counties' documents said to the category's focus, as checked (text lines).

    Every category: the documents' county figures against the registry and
    the project register; deep poverty: annual target met and on-time pace
    (stored ``county_focus``); non-key: the annual target; exited: each of
    the 四个不摘 by verdict.
    """
    mine = v["county_code"].implode()
    focus = r.county_focus.filter(pl.col("county_code").is_in(mine))
    totals = [i for i, e in r.plan.claims.items.items() if e.table == "county_register"]
    figures = r.claim_checks.filter(
        pl.col("county_code").is_in(mine)
        & (pl.col("level") == "county")
        & pl.col("item").is_in(totals)
    )
    wrong = figures.filter(pl.col("verdict") == "contradicted")
    labels = "、".join(codes.CLAIM_ITEM.label(i, short=True) for i in totals)
    lines = [
        f"资料中的县级数字（{labels}）{figures.height}项与建档立卡数据、项目库比对，"
        + (f"不符{wrong.height}项（{_names(wrong, r)}）。" if wrong.height else "均一致。")
        if figures.height
        else f"资料中的县级数字（{labels}）：无数据。"
    ]
    if cat.code in ("deep_poverty", "non_key"):
        given = focus.filter(pl.col("target_persons").is_not_null())
        short = given.filter(~pl.col("target_met"))
        lines.append(
            f"资料中有年度减贫目标的{given.height}个县（共{v.height}个）中，"
            f"{given.height - short.height}个按建档立卡数据完成年度减贫目标"
            + (f"，未完成的：{_names(short, r)}。" if short.height else "。")
        )
    if cat.code == "deep_poverty":
        risk = focus.filter(pl.col("on_time") == "at_risk")
        lines.append(
            f"{codes.REDUCTION_PACE.label('at_risk')}的{risk.height}个县"
            + (f"：{_names(risk, r)}。" if risk.height else "。")
        )
    if cat.code == "exited":
        claims = r.claim_checks.filter(
            pl.col("county_code").is_in(mine) & (pl.col("level") == "county")
        )
        for item in cty.FOUR_KEEPS:
            c = claims.filter(pl.col("item") == item)
            counts = dict(c.group_by("verdict").len().iter_rows())
            told = "、".join(
                f"{codes.CLAIM_VERDICT.label(x, short=True)}{counts[x]}项"
                for x in codes.CLAIM_VERDICT.order
                if counts.get(x)
            )
            bad = c.filter(pl.col("verdict") == "contradicted")
            lines.append(
                f"{codes.CLAIM_ITEM.label(item)}："
                + (
                    f"{c['county_code'].n_unique()}个县的资料有陈述，{told}"
                    if c.height
                    else "无数据"
                )
                + (f"（不符：{_names(bad, r)}）。" if bad.height else "。")
            )
    return lines


def category_focus(r: Results) -> str:
    """For each category: the plan's focus question and what the results say to it (HTML)."""
    probs = _with_types(_reported(r.findings), r)
    hh = _with_types(r.households, r)
    parts = []
    for cat in r.plan.county_categories:
        v = r.counties.filter(of_type(cat))
        f = probs.filter(pl.col(f"_t_{cat.code}"))
        h = hh.filter(pl.col(f"_t_{cat.code}"))
        scopes = v["scope"].unique().to_list()
        scope = scopes[0] if len(scopes) == 1 else None
        fails = v.filter(pl.col("verdict") == "fail")["county_name"].to_list()
        relapsed = h.filter(pl.col("frame_status") == "relapsed")
        left = h.filter(pl.col("frame_status") == "not_exited")
        lines = [
            f"{v.height}个县中，{verdict_counts_text(v['verdict'], scope, {'fail': fails})}。",
            f"列入报告的问题{f.height}个（已确认{int(f['confirmed'].sum())}个）"
            + (f"，主要集中在{_top_items(f, r)}。" if f.height else "。"),
            f"调查未脱贫户{left.height}户，其中{int(left['qualified'].sum())}户收入和"
            f"“两不愁三保障”已达标；返贫户{relapsed.height}户，"
            f"其中{int(relapsed['relapse'].sum())}户仍未达标（返贫风险）。",
            *fact_lines(r, cat, v),
        ]
        parts.append(
            f"<h3>{esc(cat.label)}</h3><p><b>分类考核重点：</b>{esc(cat.focus)}</p>"
            + bullets(esc(x) for x in lines)
        )
    return "".join(parts)


# ------------------------------------------------------------------ 5 the cities


def city_rows(r: Results) -> pl.DataFrame:
    """Per city (province order): counties by stored verdict, problems, overdue, experiences.

    Returns
    -------
    pl.DataFrame
        ``city_order, city_name, counties``, one count per verdict code,
        ``failed`` (the failing counties and their failing rates, as text;
        null if none), ``problems, confirmed, systemic, case, city_level,
        overdue, experiences``.
    """
    failing = (
        pl.col("failing")
        .fill_null("")
        .str.split(";")
        .list.eval(
            pl.element()
            .filter(pl.element() != "")
            .replace_strict(codes.RATE.labels(), default=pl.element())
        )
        .list.join("、")
    )
    by_verdict = (
        r.counties.with_columns(
            _f=pl.when(pl.col("verdict") == "fail").then(
                pl.format("{}（{}）", "county_name", failing)
            )
        )
        .group_by("city_name")
        .agg(
            pl.col("city_order").first(),
            failed=pl.col("_f").drop_nulls().str.join("；"),
            counties=pl.len().cast(pl.Int64),
            **{k: (pl.col("verdict") == k).sum().cast(pl.Int64) for k in codes.VERDICT.order},
        )
    )
    rep = _reported(r.findings)
    probs = rep.group_by("city_name").agg(
        problems=pl.len().cast(pl.Int64),
        confirmed=pl.col("confirmed").sum().cast(pl.Int64),
        systemic=(pl.col("scope") == "systemic").sum().cast(pl.Int64),
        case=(pl.col("scope") == "case").sum().cast(pl.Int64),
        city_level=pl.col("county_code").is_null().sum().cast(pl.Int64),
    )
    overdue = (
        r.findings.filter(pl.col("review_state") == "overdue")
        .group_by("city_name")
        .agg(overdue=pl.len().cast(pl.Int64))
    )
    exp = r.experiences.group_by("city_name").agg(experiences=pl.len().cast(pl.Int64))
    out = by_verdict
    for extra in (probs, overdue, exp):
        out = out.join(extra, on="city_name", how="left")
    fill = ["problems", "confirmed", "systemic", "case", "city_level", "overdue", "experiences"]
    return out.with_columns(pl.col(fill).fill_null(0), pl.col("failed").replace("", None)).sort(
        "city_order"
    )


def city_table(rows: pl.DataFrame) -> pl.DataFrame:
    """:func:`city_rows` with Chinese headers; the failing counties named with their rates."""
    words = codes.VERDICT_REFERENCE
    return rows.select(
        pl.col("city_name").alias("市"),
        pl.col("counties").alias("县数"),
        *[pl.col(k).alias(words.label(k, short=True)) for k in words.order],
        pl.col("failed").fill_null(DASH).alias("有指标超出标准线的县（指标）"),
        pl.col("problems").alias("列入报告的问题"),
        pl.col("confirmed").alias("已确认"),
        pl.col("systemic").alias(codes.FINDING_SCOPE.label("systemic")),
        pl.col("case").alias(codes.FINDING_SCOPE.label("case")),
        pl.col("city_level").alias("其中市本级"),
        pl.col("overdue").alias(codes.REVIEW_STATE.label("overdue")),
        pl.col("experiences").alias("典型经验"),
    )


def city_figure(rows: pl.DataFrame) -> go.Figure:
    """Counties by stored verdict, per city (stacked bars)."""
    words = codes.VERDICT_REFERENCE
    series = [
        (k, words.label(k, short=True), words.colour(k)) for k in words.order if rows[k].sum()
    ]
    return bars(rows, "city_name", series, "各市所辖县考核结论（个县）", unit="个县")


# ------------------------------------------------------------------ 6 content items


def item_counts(r: Results) -> pl.DataFrame:
    """Findings per content item of the plan (all items, plan order).

    Returns
    -------
    pl.DataFrame
        ``code, level, label, raised, in_report, confirmed, awaiting,
        systemic, case, dismissed, merged``; ``in_report`` sums to the
        findings in the report.
    """
    f = r.findings
    agg = f.group_by("content_item").agg(
        raised=pl.len(),
        in_report=pl.col("in_report").sum(),
        confirmed=(pl.col("in_report") & pl.col("confirmed")).sum(),
        awaiting=(pl.col("in_report") & ~pl.col("confirmed")).sum(),
        systemic=(pl.col("in_report") & (pl.col("scope") == "systemic")).sum(),
        case=(pl.col("in_report") & (pl.col("scope") == "case")).sum(),
        dismissed=(pl.col("review_outcome") == "dismissed").sum(),
        merged=pl.col("covered_by").is_not_null().sum(),
    )
    c = r.plan.content
    items = (
        [("county", it) for it in c.county]
        + [("city", it) for it in c.city]
        + [("pairing", it) for it in c.pairing]
    )
    base = pl.DataFrame(
        {
            "code": [it.code for _, it in items],
            "level": [lv for lv, _ in items],
            "label": [it.label for _, it in items],
        }
    )
    counts = [
        "raised",
        "in_report",
        "confirmed",
        "awaiting",
        "systemic",
        "case",
        "dismissed",
        "merged",
    ]
    return base.join(
        agg.rename({"content_item": "code"}), on="code", how="left", maintain_order="left"
    ).with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))


def item_table(counts: pl.DataFrame) -> pl.DataFrame:
    """:func:`item_counts` with Chinese headers and a total row."""
    heads = {
        "in_report": "列入报告",
        "confirmed": "已确认",
        "awaiting": codes.REVIEW_STATE.label("pending", short=True),
        "systemic": codes.FINDING_SCOPE.label("systemic"),
        "case": codes.FINDING_SCOPE.label("case"),
        "dismissed": f"复核{codes.REVIEW_OUTCOME.label('dismissed')}（不列入）",
        "merged": "系统线索已并入考核组问题",
    }
    body = counts.select(
        codes.CONTENT_LEVEL.expr(pl.col("level")).alias("层级"),
        pl.format("{} {}", "code", "label").alias("考核内容"),
        *heads,
    )
    total = pl.DataFrame(
        {"层级": ["合计"], "考核内容": [""], **{c: [int(counts[c].sum())] for c in heads}}
    )
    return pl.concat([body, total.cast(body.schema)]).rename(heads)


def item_figure(counts: pl.DataFrame) -> go.Figure:
    """Reported problems by content item, stacked by scope (items with problems only)."""
    shown = counts.filter(pl.col("in_report") > 0).with_columns(
        name=pl.format("{} {}", "code", "label")
    )
    series = [(s.code, s.label, s.colour) for s in codes.FINDING_SCOPE]
    return bars(shown, "name", series, "列入报告的问题：按考核内容")


def item_summary(counts: pl.DataFrame) -> str:
    """One paragraph: totals, 共性 vs 个性, the items with most problems (HTML)."""
    rep = int(counts["in_report"].sum())
    if rep == 0:
        return "<p>没有列入报告的问题。</p>"
    top = counts.filter(pl.col("in_report") > 0).sort(
        ["in_report", "code"], descending=[True, False]
    )
    tops = "、".join(
        f"{c} {lab}（{n}个）"
        for c, lab, n in top.select("code", "label", "in_report").head(3).iter_rows()
    )
    systemic = counts.filter(pl.col("systemic") > 0)["code"].to_list()
    return (
        f"<p>列入报告的问题共{rep}个，其中已确认{int(counts['confirmed'].sum())}个、"
        f"待复核{int(counts['awaiting'].sum())}个；共性问题{int(counts['systemic'].sum())}个，"
        f"个性问题{int(counts['case'].sum())}个。问题最多的考核内容是{esc(tops)}。"
        f"属于共性问题的考核内容：{esc('、'.join(systemic)) or '无'}。"
        f"经复核不属实、不列入报告的{int(counts['dismissed'].sum())}个。</p>"
    )


# ------------------------------------------------------------------ 7 cross-checks


def cross_check_table(r: Results) -> pl.DataFrame:
    """The province's cross-checks: what was compared, how much disagreed, what was flagged.

    Returns
    -------
    pl.DataFrame
        ``核查事项, 核查数, 不一致, 不一致比例, 标记标准, 被标记, 涉及县数``.
    """
    c = r.check_rates.filter(pl.col("unit") == "county")
    cons = r.plan.consistency
    helpers = r.check_helpers.filter(pl.col("mismatch_flagged"))
    villages = r.check_villages.filter(pl.col("flagged"))
    proj = r.check_projects.filter(pl.col("level") != "paired")
    bad = proj.filter(pl.col("any_discrepancy"))
    unaware = c.filter(~pl.col("awareness_ok"))
    s = {k: int(c[k].sum()) for k in c.columns if c[k].dtype == pl.Int64}
    rows = [
        (
            "帮扶责任人陈述与入户调查比对（项）",
            s["helper_claims_checked"],
            s["helper_mismatches"],
            f"本人陈述不一致比例超过{percent(cons.helper_mismatch_max)}",
            f"帮扶责任人{helpers['helper_id'].n_unique()}名（共{r.check_helpers.height}名）",
            helpers["county_code"].n_unique(),
        ),
        (
            "建档立卡户知晓帮扶责任人（户）",
            s["registered_asked"],
            s["registered_asked"] - s["knows_helper"],
            f"县知晓率低于{percent(cons.helper_awareness_min)}",
            f"{unaware.height}个县",
            unaware.height,
        ),
        (
            "村干部“全部达标”陈述与入户调查比对（户次）",
            s["village_claim_households"],
            s["village_claim_contradicting"],
            f"村内不一致户比例超过{percent(cons.village_claim_mismatch_max)}",
            f"{villages['village_code'].n_unique()}个村",
            villages["county_code"].n_unique(),
        ),
        (
            "扶贫项目实地核查（个）",
            proj.height,
            bad.height,
            "进度、资金或受益户与台账不符",
            f"{bad.height}个项目",
            bad["county_code"].n_unique(),
        ),
    ]
    table = pl.DataFrame(
        rows,
        schema=["核查事项", "核查数", "不一致", "标记标准", "被标记", "涉及县数"],
        orient="row",
    )
    return table.with_columns(
        percent_expr(pl.col("不一致") / pl.col("核查数")).alias("不一致比例")
    ).select("核查事项", "核查数", "不一致", "不一致比例", "标记标准", "被标记", "涉及县数")


def discrepancy_table(r: Results) -> pl.DataFrame:
    """Disagreements by kind and item, and in how many counties (cooperation projects aside)."""
    paired = r.check_projects.filter(pl.col("level") == "paired")["project_id"].implode()
    return (
        r.check_discrepancies.filter(~pl.col("subject").is_in(paired))
        .group_by("kind", "item_label")
        .agg(n=pl.len(), counties=pl.col("county_code").n_unique())
        .sort(  # complete: ties in count are ordered by kind and item (same inputs, same table)
            codes.DISCREPANCY_KIND.rank(pl.col("kind")),
            pl.col("n"),
            pl.col("kind"),
            pl.col("item_label"),
            descending=[False, True, False, False],
            nulls_last=True,
        )
        .select(
            codes.DISCREPANCY_KIND.expr(pl.col("kind")).alias("比对来源"),
            pl.col("item_label").alias("比对事项"),
            pl.col("n").alias("不一致处"),
            pl.col("counties").alias("涉及县数"),
        )
    )


def cross_check_summary(r: Results) -> str:
    """One paragraph on the cross-checks (HTML)."""
    helper, aware, village, project = cross_check_table(r).iter_rows(named=True)
    cons = r.plan.consistency
    flagged = r.check_helpers.filter(pl.col("mismatch_flagged"))
    return (
        f"<p>帮扶责任人对所帮扶户情况的陈述，{helper['核查数']}项中有{helper['不一致']}项"
        f"与入户调查不符（{helper['不一致比例']}）；{r.check_helpers.height}名帮扶责任人中，"
        f"{flagged.height}名本人陈述不一致比例超过{percent(cons.helper_mismatch_max)}，"
        f"涉及{helper['涉及县数']}个县。建档立卡户中有{aware['不一致']}户不知道自己的帮扶责任人"
        f"（{aware['不一致比例']}），{aware['涉及县数']}个县知晓率低于"
        f"{percent(cons.helper_awareness_min)}。村干部称“全部达标”的事项，"
        f"{village['核查数']}户次中有{village['不一致']}户次不符，{village['被标记']}不符比例超过"
        f"{percent(cons.village_claim_mismatch_max)}。抽查项目{project['核查数']}个，"
        f"{project['不一致']}个进度、资金或受益户与台账不符，涉及{project['涉及县数']}个县。</p>"
    )


# ------------------------------------------------------------------ 8 pairing, 9 experiences


def pairing_rows(r: Results) -> pl.DataFrame:
    """The helped counties (national poverty counties with a helper county), one row each."""
    pairing = [it.code for it in r.plan.content.pairing]
    labels = item_labels(r.plan, with_code=False)
    helped = r.counties.filter(
        pl.col("national_poverty_county") & pl.col("paired_helper_county").is_not_null()
    ).select("city_name", "county_code", "county_name", "paired_helper_county")
    flags = [f.code for f in codes.PROJECT_FLAG if f.code in r.check_projects.columns]
    proj = (
        r.check_projects.filter(pl.col("level") == "paired")
        .group_by("county_code")
        .agg(
            projects=pl.len().cast(pl.Int64),
            discrepant=pl.col("any_discrepancy").sum().cast(pl.Int64),
            **{f: pl.col(f).sum().cast(pl.Int64) for f in flags},
        )
    )
    probs = (
        _reported(r.findings)
        .filter(pl.col("content_item").is_in(pairing))
        .group_by("county_code")
        .agg(
            problems=pl.len().cast(pl.Int64),
            confirmed=pl.col("confirmed").sum().cast(pl.Int64),
            items=pl.col("content_item").unique().sort(),
        )
    )
    out = (
        helped.join(proj, on="county_code", how="left", maintain_order="left")
        .join(probs, on="county_code", how="left", maintain_order="left")
        .with_columns(
            pl.col("projects", "discrepant", "problems", "confirmed", *flags).fill_null(0)
        )
    )
    used = [f for f in flags if out[f].sum() > 0]
    return out.select(
        pl.col("city_name").alias("市"),
        pl.col("county_name").alias("县（市、区）"),
        pl.col("paired_helper_county").alias("结对帮扶县"),
        pl.col("projects").alias("合作项目抽查"),
        pl.col("discrepant").alias("项目不一致"),
        *[pl.col(f).alias(codes.PROJECT_FLAG.label(f)) for f in used],
        pl.col("problems").alias("结对帮扶问题（列入报告）"),
        pl.col("confirmed").alias("其中已确认"),
        pl.col("items")
        .list.eval(pl.element().replace_strict(labels, default=pl.element()))
        .list.join("、")
        .fill_null("")
        .alias("涉及内容"),
    )


def pairing_summary(r: Results) -> str:
    """One paragraph on county pairing (HTML)."""
    rows = pairing_rows(r)
    if rows.height == 0:
        return "<p>本次运行没有接受县域结对帮扶的县。</p>"
    with_problems = rows.filter(pl.col("结对帮扶问题（列入报告）") > 0).height
    return (
        f"<p>{rows.height}个接受县域结对帮扶的国家级贫困县（计划{r.plan.scope.paired_helped_counties}个）"
        f"共抽查结对合作项目{int(rows['合作项目抽查'].sum())}个，"
        f"其中{int(rows['项目不一致'].sum())}个进度、资金或受益户与台账不符；"
        f"{with_problems}个县发现结对帮扶问题，列入报告{int(rows['结对帮扶问题（列入报告）'].sum())}个"
        f"（已确认{int(rows['其中已确认'].sum())}个）。</p>"
    )


def experience_selection(r: Results, per_city: int = 2) -> pl.DataFrame:
    """Up to ``per_city`` typical experiences per city, the city's own and its counties' in turn."""
    order = r.counties.group_by("city_name").agg(pl.col("city_order").first())
    return (
        r.experiences.join(
            r.counties.select("county_code", "county_name"), on="county_code", how="left"
        )
        .join(order, on="city_name", how="left")
        .with_columns(_own=pl.col("county_code").is_not_null())
        .sort("city_order", "_own", "experience_id")
        .with_columns(_rank=pl.int_range(pl.len()).over("city_name", "_own"))
        .sort("city_order", "_rank", "_own")
        .filter(pl.int_range(pl.len()).over("city_name") < per_city)
        .select(
            pl.col("city_name").alias("市"),
            pl.col("county_name").fill_null("市本级").alias("县（市、区）"),
            pl.col("title").alias("经验"),
            pl.col("description").fill_null("").alias("主要做法"),
        )
    )


# ------------------------------------------------------------------ 10 what the sample can tell


def sample_limits(r: Results) -> pl.DataFrame:
    """What the plan's sample of a county can tell about each judged rate, from the store.

    Returns
    -------
    pl.DataFrame
        ``rate, label, side, threshold``; ``households`` (the plan's
        households of the rate's population per county, from the stored
        ``sample_plan``: the exited statuses for wrong exit, the general
        households for omission, all for approval; the median county, with
        ``households_low, households_high`` the range over the counties);
        ``one_found`` (the ratio when one of them is wrong; for approval,
        when one disapproves); ``zero_bound`` (the median over the counties
        that found none of the interval end on the threshold's side: how far
        an all-clear sample still reaches) and ``detect_median, detect_low,
        detect_high`` (the stored detection limits, ``R_detect``, over the
        counties).
    """
    planned = _rate_households(r)
    upper = pl.col("side") == "max"
    clear = pl.when(upper).then(pl.col("ratio") == 0).otherwise(pl.col("ratio") == 1)
    end = pl.when(upper).then(pl.col("high")).otherwise(pl.col("low"))
    return (
        judged(r)
        .group_by("order", "rate", "label", "side", "threshold")
        .agg(
            zero_bound=end.filter(clear).median(),
            detect_median=pl.col("detect").median(),
            detect_low=pl.col("detect").min(),
            detect_high=pl.col("detect").max(),
        )
        .sort("order")
        .join(planned, on="rate", how="left")
        .with_columns(pl.col("households", "households_low", "households_high").fill_null(0))
        .with_columns(
            one_found=pl.when(upper)
            .then(1 / pl.col("households"))
            .otherwise(1 - 1 / pl.col("households"))
        )
    )


def _rate_households(r: Results) -> pl.DataFrame:
    """Per rate: the households of its population the stored plan gives a county (median
    over the counties, and its range): exited statuses for wrong exit, general
    households for omission, every planned household for approval."""
    p = r.sample_plan.filter(pl.col("kind") != "villages")
    exited = r.plan.indicators.exit_standard.exited_statuses
    rates = {
        "wrong_exit_rate": pl.col("category").is_in(exited) & (pl.col("kind") == "households"),
        "omission_rate": pl.col("kind") == "general",
        "approval_rate": pl.lit(True),
    }
    codes_ = p.select("county_code").unique()
    parts = []
    for rate, keep in rates.items():
        per = codes_.join(
            p.filter(keep).group_by("county_code").agg(n=pl.col("planned").sum()),
            on="county_code",
            how="left",
        ).fill_null(0)
        parts.append(
            per.select(
                rate=pl.lit(rate),
                households=pl.col("n").median().round(0).cast(pl.Int64),
                households_low=pl.col("n").min().cast(pl.Int64),
                households_high=pl.col("n").max().cast(pl.Int64),
            )
        )
    return pl.concat(parts)


def limits_intro(r: Results) -> str:
    """Why a county's sample cannot tell much: its planned size, from the stored plan (HTML)."""
    per_county = county_plan(r)
    households = int(per_county["households"].median() or 0)  # type: ignore[arg-type]
    return (
        f"<p>方案每县只抽{_span(per_county['villages'])}个村、约{households}户（另加全覆盖户），"
        "国家贫困县退出专项评估每县调查24—26个村、1400—1600户。样本小，置信区间就宽。"
        "下面用方案规定的样本量说明：抽查在什么情况下能下结论，在什么情况下不能。</p>"
    )


def detection_table(r: Results) -> pl.DataFrame:
    """:func:`sample_limits` with Chinese headers."""
    villages = _span(county_plan(r)["villages"])
    beyond = (
        pl.when(pl.col("side") == "max")
        .then(pl.col("zero_bound") > pl.col("threshold"))
        .otherwise(pl.col("zero_bound") < pl.col("threshold"))
    )
    return sample_limits(r).select(
        pl.col("label").alias("指标"),
        standard_expr(pl.col("side"), pl.col("threshold")).alias("标准"),
        pl.when(pl.col("households_low") == pl.col("households_high"))
        .then(pl.format("{}个村{}户", pl.lit(villages), "households"))
        .otherwise(
            pl.format(
                "{}个村，{}—{}户（中位数{}户）",
                pl.lit(villages),
                "households_low",
                "households_high",
                "households",
            )
        )
        .alias("每县计划样本"),
        percent_expr(pl.col("one_found")).alias("发现1户不达标（不认可）时的抽样比率"),
        percent_expr(pl.col("zero_bound")).alias("零发现县的区间端点（中位数）"),
        pl.format(
            "{}（{}—{}）",
            percent_expr(pl.col("detect_median")),
            percent_expr(pl.col("detect_low")),
            percent_expr(pl.col("detect_high")),
        ).alias("各县检出限：中位数（范围）"),
        pl.when(beyond.fill_null(True))
        .then(pl.lit("能发现超标，不能确认达标"))
        .otherwise(pl.lit("零发现时可以确认达标"))
        .alias("结论"),
    )


def widest_intervals(r: Results, top: int = 10) -> pl.DataFrame:
    """The ``top`` widest intervals among all counties and judged rates."""
    return (
        judged(r)
        .filter(pl.col("low").is_not_null() & pl.col("high").is_not_null())
        .with_columns(width=pl.col("high") - pl.col("low"))
        .sort(["width", "county_code", "order"], descending=[True, False, False])
        .head(top)
        .select(
            pl.col("city_name").alias("市"),
            pl.col("county_name").alias("县（市、区）"),
            pl.col("label").alias("指标"),
            percent_expr(pl.col("ratio")).alias("抽样比率"),
            interval_expr(pl.col("low"), pl.col("high")).alias(
                f"{confidence_text(r.plan.indicators.confidence)}置信区间"
            ),
            percent_expr(pl.col("width")).alias("区间宽度"),
            pl.col("n").alias("分母"),
            percent_expr(pl.col("detect")).alias("检出限"),
        )
    )


def limits_text(r: Results) -> str:
    """What the sample can and cannot tell, in plain words for the leadership (HTML)."""
    limits = sample_limits(r).filter(pl.col("side") == "max")
    if limits.height == 0:
        return ""
    we = limits.row(0, named=True)
    conf = confidence_text(r.plan.indicators.confidence)
    power = percent(r.plan.indicators.detection_power)
    not_found = codes.RATE_STATUS.label("not_found")
    lines = [
        f"<b>能发现问题：</b>按方案，每县约调查{we['households']}户已脱贫户。只要发现1户错退，"
        f"抽样错退率就约为{percent(we['one_found'])}，超过{percent(we['threshold'])}的标准"
        "——所以抽查<b>能够发现一个县超标</b>。",
        f"<b>不能证明达标：</b>本次一户错退也没有发现的县，{conf}置信区间的上限中位数仍为"
        f"<b>{percent(we['zero_bound'])}</b>，远高于{percent(we['threshold'])}。也就是说，"
        f"本次样本<b>不能证明一个县的错退率低于{percent(we['threshold'])}</b>；"
        f"报告中大多数县显示“{not_found}”，是样本量的限制，不是发现了问题。",
        f"<b>漏掉问题的可能：</b>各县的检出限（样本有{power}把握发现超标的真实错退率）中位数为"
        f"{percent(we['detect_median'])}（{percent(we['detect_low'])}—{percent(we['detect_high'])}）；"
        "真实错退率低于检出限的超标，抽查很可能发现不了（按户的二项分布计，"
        "实际按村整群抽样，把握更小）。",
    ]
    return box(
        "key",
        "抽样调查能说明什么、不能说明什么",
        bullets(lines)
        + f"<b>建议：</b>把本次超出标准的县作为确定的问题，督促立即整改；对“{not_found}”的"
        "拟摘帽县，不以本次考核作为达标依据，在退出专项评估中以足够样本核实。",
    )


# ------------------------------------------------------------------ 11 deadlines, 12 rejects


@dataclass(frozen=True)
class Deadlines:
    """The two report deadlines of plan 六 against the results' date and review states."""

    as_of: dt.date
    team_reports_by: dt.date
    provincial_report_by: dt.date
    team_overdue: int
    system_proposed: int
    late_reviews: int
    incomplete_reports: int
    reports: int


def deadlines(r: Results) -> Deadlines:
    """Stored review states and report completeness on the results' ``as_of`` date."""
    f = r.findings
    return Deadlines(
        as_of=r.as_of,
        team_reports_by=r.plan.timeline.team_reports_by,
        provincial_report_by=r.plan.timeline.provincial_report_by,
        team_overdue=f.filter(
            (pl.col("review_state") == "overdue") & (pl.col("source") == "team")
        ).height,
        system_proposed=f.filter(
            (pl.col("review_state") == "proposed") & pl.col("in_report")
        ).height,
        late_reviews=f.filter(pl.col("review_state") == "late").height,
        incomplete_reports=r.completeness.filter(~pl.col("ok")).height,
        reports=r.completeness.height,
    )


def deadline_table(d: Deadlines) -> pl.DataFrame:
    """Each deadline: its date, the results' date, and whether it is met (Chinese)."""
    blockers = [
        text
        for n, text in (
            (d.team_overdue, f"考核组问题{codes.REVIEW_STATE.label('overdue')}{d.team_overdue}个"),
            (d.system_proposed, f"系统提示问题未经考核组复核{d.system_proposed}个"),
            (d.incomplete_reports, f"{d.incomplete_reports}份市、县报告要素不全"),
        )
        if n
    ]
    if d.as_of > d.team_reports_by:
        team = f"已逾期{(d.as_of - d.team_reports_by).days}天"
    elif blockers:
        team = f"结果按期汇总，但{'；'.join(blockers)}，报告尚不完整"
    else:
        team = "按期完成"
    days_left = (d.provincial_report_by - d.as_of).days
    open_reviews = d.team_overdue + d.system_proposed
    if days_left < 0:
        provincial = f"已逾期{-days_left}天"
    elif open_reviews:
        provincial = f"未到截止日（还有{days_left}天）；定稿前须完成{open_reviews}个问题的复核"
    else:
        provincial = f"未到截止日（还有{days_left}天），问题复核已完成，可以定稿"
    return pl.DataFrame(
        {
            "事项": ["考核组报告（市、县、结对帮扶报告）", "全省交叉考核总报告"],
            "截止日期": [date_text(d.team_reports_by), date_text(d.provincial_report_by)],
            "结果库日期": [date_text(d.as_of)] * 2,
            "判断": [team, provincial],
        }
    )


def overdue_table(r: Results) -> pl.DataFrame:
    """Overdue team reviews per assessed city, and which teams."""
    order = r.counties.group_by("city_name").agg(pl.col("city_order").first())
    return (
        r.findings.filter(pl.col("review_state") == "overdue")
        .group_by("city_name")
        .agg(
            team=pl.len().cast(pl.Int64),
            teams=pl.col("team_id").drop_nulls().unique().sort().str.join("、"),
            due=pl.col("review_due").min(),
        )
        .join(order, on="city_name")
        .sort("city_order")
        .select(
            pl.col("city_name").alias("被考核市"),
            pl.col("team").alias(f"考核组问题{codes.REVIEW_STATE.label('overdue')}"),
            pl.col("teams").replace("", DASH).alias("涉及考核组"),
            pl.col("due").cast(pl.String).alias("最早应复核日"),
        )
    )


def deadline_note(d: Deadlines) -> str:
    """One paragraph on the deadlines (HTML)."""
    return (
        f"<p>方案六规定：考核组报告于{date_text(d.team_reports_by)}前报送，全省总报告于"
        f"{date_text(d.provincial_report_by)}前完成；问题须在提出后次日复核。按结果库"
        f"{date_text(d.as_of)}的状态：考核组提出的问题{codes.REVIEW_STATE.label('overdue')}"
        f"{d.team_overdue}个，{codes.REVIEW_STATE.label('late')}{d.late_reviews}个；"
        f"{codes.REVIEW_STATE.label('proposed')}的问题{d.system_proposed}个"
        f"（未复核前只作线索，不作结论）；{d.reports}份市、县报告中{d.incomplete_reports}份要素不全。</p>"
    )


def reject_counts(r: Results) -> pl.DataFrame:
    """Rejected field rows by table and file: rows, distinct problems, counties."""
    return (
        r.rejects.group_by("table", "file")
        .agg(
            rows=pl.col("row").n_unique(),
            problems=pl.len(),
            counties=pl.col("county_code").drop_nulls().n_unique(),
        )
        .sort("table", "file")
        .select(
            pl.col("table").alias("数据表"),
            pl.col("file").alias("文件"),
            pl.col("rows").alias("退回行数"),
            pl.col("problems").alias("问题数"),
            pl.col("counties").alias("涉及县数"),
        )
    )


def rejects_html(r: Results) -> str:
    """:func:`reject_counts` as a table, or a sentence when nothing was rejected (HTML)."""
    return table_html(
        reject_counts(r),
        empty="考核组上报的入户调查、访谈、项目核查、问题和经验数据全部通过校验，没有被退回的记录。",
    )


def key_points(r: Results) -> str:
    """The few lines the leadership group reads first (HTML)."""
    villages = _span(county_plan(r)["villages"])
    fails = r.counties.filter(pl.col("verdict") == "fail")
    exit_ = r.counties.filter(pl.col("scope") == "exit_standard")
    rep = _reported(r.findings)
    d = deadlines(r)
    failed = [f"{c}{k}" for c, k in fails.select("city_name", "county_name").iter_rows()]
    lines = [
        f"{exit_.height}个拟摘帽县中，"
        f"{verdict_counts_text(exit_['verdict'], 'exit_standard')}（见第三部分）。",
        f"全部{r.counties.height}个县中，"
        f"{verdict_counts_text(r.counties['verdict'], None, {'fail': failed})}；"
        "非拟摘帽县的标准只作参考线，不据此判定达标与否。",
        f"列入报告的问题{rep.height}个，已确认{int(rep['confirmed'].sum())}个，其中"
        f"{codes.FINDING_SCOPE.label('systemic')}{rep.filter(pl.col('scope') == 'systemic').height}"
        "个（见第六部分）。",
        f"每县只调查{villages}个村、几十户，能发现超标的县，但不能证明一个县达标（见第十部分）。",
        f"截至{date_text(d.as_of)}，尚有{d.team_overdue + d.system_proposed}个问题未复核、"
        f"{d.incomplete_reports}份市、县报告要素不全（见第十一部分）。",
    ]
    return box("key", "要点", bullets(esc(x) for x in lines))


__all__ = [
    "Deadlines",
    "category_focus",
    "category_items",
    "category_rows",
    "category_table",
    "city_figure",
    "city_rows",
    "city_table",
    "county_plan",
    "cross_check_summary",
    "cross_check_table",
    "deadline_note",
    "deadline_table",
    "deadlines",
    "detection_table",
    "discrepancy_table",
    "exit_rows",
    "exit_sentences",
    "exit_table",
    "experience_selection",
    "fact_lines",
    "item_counts",
    "item_figure",
    "item_summary",
    "item_table",
    "judged",
    "key_points",
    "limits_intro",
    "limits_text",
    "overdue_table",
    "overview_html",
    "pairing_rows",
    "pairing_summary",
    "rate_figure",
    "reject_counts",
    "rejects_html",
    "sample_achieved",
    "sample_limits",
    "sample_note",
    "status_counts",
    "verdict_counts_text",
    "widest_intervals",
]
