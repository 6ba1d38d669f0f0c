"""The report kit: what every notebook module uses to load, format and show.

* **Loading.** One loader per scope — :func:`load_results` (the whole run,
  one city, or one county: the county, pairing, city and provincial reports,
  the explorer and field progress read it) and :func:`load_county_sample`.
  Every file is read through :mod:`xkaohe.io`, and personal data is masked
  **once, as it is loaded** (:func:`xkaohe.privacy.mask_frame`; plan 八: no
  leaking of household material): names, phones and ID numbers in their
  columns, and known names and numbers in every free text.
* **Reading, not deciding.** Rates, intervals, rate statuses, county
  verdicts, review states and classifications are read as the analysis layer
  stored them; the kit reshapes (:func:`rate_rows`, the rates in long form,
  once) and labels them through :mod:`xkaohe.codes`.
* **Formatting.** One precision rule for shares (:func:`percent`: at most one
  decimal, trailing zeros dropped), one interval form, one em dash for a
  missing value, one escaping.
* **Showing.** :func:`show` (a table or a sentence when it is empty),
  :func:`box`, :func:`show_figure` (one shared local plotly.js in rendered
  reports), :func:`synthetic_banner`.

Somewhat over 600 lines: the loaders and the formatting every notebook shares
are kept together, so that there is one place for each.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe import codes
from xkaohe.analyse.indicators import RATES
from xkaohe.analyse.sample_plan import sample_plan
from xkaohe.draw.sampling import SamplePackage
from xkaohe.errors import InputError, Problem
from xkaohe.io.files import read_json
from xkaohe.io.lottery_files import read_lottery
from xkaohe.io.people import known_names
from xkaohe.io.plan_file import load_plan
from xkaohe.io.results import read_manifest, read_result, results_dir, run_plan
from xkaohe.io.run import (
    is_synthetic,
    read_counties,
    read_household_statuses,
    read_village_names,
)
from xkaohe.io.sample_package import read_package
from xkaohe.plan import CountyCategory, Plan
from xkaohe.privacy import mask_frame
from xkaohe.results_spec import Result
from xkaohe.schemas import FALSE_WORDS, TRUE_WORDS

RUN_ENV = "XKAOHE_RUN"
DEFAULT_RUN = Path("..") / "runs" / "demo"
PLOTLYJS_ENV = "XKAOHE_PLOTLYJS"  # set by the batch runner: relative src of the shared plotly.js
DASH = "—"


def resolve_run_dir(run_dir: str | Path = "") -> Path:
    """The run folder a notebook reads: the parameter, else ``$XKAOHE_RUN``, else ../runs/demo."""
    chosen = str(run_dir) or os.environ.get(RUN_ENV, "") or str(DEFAULT_RUN)
    return Path(chosen).expanduser().resolve()


# ------------------------------------------------------------------ formatting


def esc(value: object) -> str:
    """``value`` as HTML text."""
    return html.escape(str(value))


def percent_expr(x: pl.Expr) -> pl.Expr:
    """A share as a percentage with at most one decimal (0.0246 -> "2.5%"); null -> "—"."""
    r = (x * 100).round(1)
    whole = r == r.round(0)
    text = (
        pl.when(whole).then(r.round(0).cast(pl.Int64).cast(pl.String)).otherwise(r.cast(pl.String))
    )
    return pl.concat_str(text, pl.lit("%")).fill_null(DASH)


def percent(x: float | None) -> str:
    """:func:`percent_expr` of one number."""
    return str(pl.select(percent_expr(pl.lit(x, pl.Float64))).item())


def interval_expr(low: pl.Expr, high: pl.Expr) -> pl.Expr:
    """An interval as "1%—6%"; "—" when either end is missing."""
    return (
        pl.when(low.is_null() | high.is_null())
        .then(pl.lit(DASH))
        .otherwise(pl.format("{}—{}", percent_expr(low), percent_expr(high)))
    )


def interval(low: float | None, high: float | None) -> str:
    """:func:`interval_expr` of two numbers."""
    return str(pl.select(interval_expr(pl.lit(low, pl.Float64), pl.lit(high, pl.Float64))).item())


def confidence_text(confidence: float) -> str:
    """0.95 -> "95%"."""
    return f"{confidence * 100:g}%"


def date_text(d: dt.date) -> str:
    """2019-12-01 -> "2019年12月1日"."""
    return f"{d.year}年{d.month}月{d.day}日"


def yes(flag: pl.Expr, text: str = "是") -> pl.Expr:
    """``text`` where ``flag`` is true, "" elsewhere."""
    return pl.when(flag.fill_null(False)).then(pl.lit(text)).otherwise(pl.lit(""))


def wan(yuan: pl.Expr) -> pl.Expr:
    """Yuan as 万元 with two decimals; null -> "—"."""
    return (yuan / 10_000).round(2).cast(pl.String).fill_null(DASH)


def standard_expr(side: pl.Expr, threshold: pl.Expr) -> pl.Expr:
    """A threshold as "≤2%" or "≥90%"; "不设标准" without one."""
    return (
        pl.when(side == "max")
        .then(pl.concat_str(pl.lit("≤"), percent_expr(threshold)))
        .when(side == "min")
        .then(pl.concat_str(pl.lit("≥"), percent_expr(threshold)))
        .otherwise(pl.lit(codes.RATE_STATUS.label("unjudged")))
    )


def standard_text(side: str | None, threshold: float | None) -> str:
    """:func:`standard_expr` of one threshold."""
    return str(
        pl.select(standard_expr(pl.lit(side, pl.String), pl.lit(threshold, pl.Float64))).item()
    )


def item_labels(plan: Plan, with_code: bool = True) -> dict[str, str]:
    """Content item code -> "C1 label" (or the label alone) for every item of plan 三."""
    items = (*plan.content.county, *plan.content.city, *plan.content.pairing)
    return {it.code: f"{it.code} {it.label}" if with_code else it.label for it in items}


def review_text() -> pl.Expr:
    """A finding's review state, with the outcome once reviewed: "按时复核（属实）"."""
    state = codes.REVIEW_STATE.expr(pl.col("review_state"))
    done = pl.col("review_state").is_in(["on_time", "late"])
    outcome = codes.REVIEW_OUTCOME.expr(pl.col("review_outcome"))
    return pl.when(done).then(pl.format("{}（{}）", state, outcome)).otherwise(state)


# ------------------------------------------------------------------ display

_loaded_plotlyjs = False

_TABLE_STYLE = (
    "<style>.xk-table{border-collapse:collapse;font-size:13px;margin:6px 0 14px}"
    ".xk-table th{background:#eef3f8;border:1px solid #c9d3dd;padding:4px 8px;"
    "white-space:nowrap}.xk-table td{border:1px solid #dde3e9;padding:3px 8px}"
    ".xk-table th,.xk-table td{text-align:left !important;vertical-align:top}"
    ".xk-table tr.xk-hl td{background:#fff3cd}</style>"
)
# Chinese text reads from the left; the notebook theme right-aligns table cells.

BOXES = {
    "ok": ("#e8f5e9", "#2e7d32"),
    "bad": ("#fdecea", "#c62828"),
    "info": ("#e8f0fe", "#1a73e8"),
    "key": ("#fff7e6", "#ff7f0e"),
    "none": ("#f2f2f2", "#888888"),
}


def start_notebook() -> None:
    """Fresh display state for a notebook run in a reused (warm) kernel."""
    global _loaded_plotlyjs
    _loaded_plotlyjs = False


def table_html(
    df: pl.DataFrame, highlight: Iterable[int] = (), max_rows: int = 500, empty: str = "无。"
) -> str:
    """A plain, printable HTML table (no dtypes, no index), or ``empty`` when it has no rows."""
    if df.height == 0:
        return f"<p>{esc(empty)}</p>"
    marked = set(highlight)
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    body = []
    for i, row in enumerate(df.head(max_rows).iter_rows()):
        cells = "".join(f"<td>{'' if v is None else esc(v)}</td>" for v in row)
        body.append(f"<tr class='xk-hl'>{cells}</tr>" if i in marked else f"<tr>{cells}</tr>")
    more = f"<p>（仅显示前 {max_rows} 行，共 {df.height} 行）</p>" if df.height > max_rows else ""
    return (
        f"{_TABLE_STYLE}<table class='xk-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{more}"
    )


def show_html(markup: str) -> None:
    """Display HTML in a notebook."""
    from IPython.display import HTML, display

    display(HTML(markup))


def show(df: pl.DataFrame, empty: str = "无。", highlight: Iterable[int] = ()) -> None:
    """Display a table in a notebook, or the sentence ``empty`` when it has no rows."""
    show_html(table_html(df, highlight, empty=empty))


def show_figure(fig: Any) -> None:
    """Interactive in JupyterLab; in rendered reports a div using the shared local plotly.js."""
    global _loaded_plotlyjs
    src = os.environ.get(PLOTLYJS_ENV)
    if not src:
        fig.show()
        return
    script = "" if _loaded_plotlyjs else f'<script src="{src}"></script>'
    _loaded_plotlyjs = True
    show_html(script + fig.to_html(full_html=False, include_plotlyjs=False))


def box(kind: str, title: str, body: str) -> str:
    """A coloured paragraph (HTML): ``kind`` ok, bad, info, key or none; ``body`` is HTML."""
    colour, border = BOXES[kind]
    head = f"<b>{esc(title)}</b><br>" if title else ""
    return (
        f'<div style="background:{colour};border-left:6px solid {border};padding:10px 14px;'
        f'margin:8px 0 14px;border-radius:4px;line-height:1.7">{head}{body}</div>'
    )


def bullets(lines: Iterable[str]) -> str:
    """Lines (HTML) as a list."""
    return (
        "<ul style='line-height:1.8;margin:6px 0'>"
        + "".join(f"<li>{x}</li>" for x in lines)
        + "</ul>"
    )


def synthetic_banner(synthetic: bool) -> str:
    """The loud banner every report built from demo data carries."""
    if not synthetic:
        return ""
    return (
        '<div style="background:#b00020;color:white;padding:10px 14px;font-size:16px;'
        'font-weight:bold;border-radius:4px">演示数据：本报告由合成的模拟数据生成，'
        "不反映任何真实地区的情况。</div>"
    )


def rows_where(df: pl.DataFrame, column: str, values: Iterable[Any]) -> list[int]:
    """Positions of the rows whose ``column`` is one of ``values`` (to highlight)."""
    wanted = set(values)
    return [i for i, v in enumerate(df[column].to_list()) if v in wanted]


def rows_nonempty(df: pl.DataFrame, column: str) -> list[int]:
    """Positions of the rows whose ``column`` is a non-empty text or a number above zero."""
    return [
        i for i, v in enumerate(df[column].to_list()) if v and (not isinstance(v, int) or v > 0)
    ]


# ------------------------------------------------------------------ the rates in long form


def rate_rows(indicators: pl.DataFrame, counties: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """``county_indicators`` in long form: one row per county and rate (the one reshaping).

    ``counties`` gives each county's ``scope`` (``county_verdicts``; null
    reads as a reference line).

    Returns
    -------
    pl.DataFrame
        ``county_code, order, rate, label, unit`` (人 or 户), ``ratio`` (the
        official ratio), ``est, low, high`` (design-weighted estimate and its
        interval), ``n, detect, insufficient``, ``status`` (the stored code;
        ``no_data`` without households, ``unjudged`` without a threshold),
        ``threshold, side`` (null without a threshold) and ``scope``.
    """
    parts = []
    for order, rate in enumerate(RATES):
        r, bound = rate.name, plan.threshold(rate.name)

        def col(suffix: str, dtype: Any, r: str = r) -> pl.Expr:
            name = f"{r}{suffix}"
            return (pl.col(name) if name in indicators.columns else pl.lit(None, dtype)).cast(dtype)

        status = (
            col("_status", pl.String).fill_null("no_data")
            if bound is not None
            else pl.when(col("", pl.Float64).is_null())
            .then(pl.lit("no_data"))
            .otherwise(pl.lit("unjudged"))
        )
        parts.append(
            indicators.select(
                "county_code",
                pl.lit(order, pl.Int64).alias("order"),
                pl.lit(r).alias("rate"),
                pl.lit(codes.RATE.label(r)).alias("label"),
                pl.lit("人" if rate.persons else "户").alias("unit"),
                col("", pl.Float64).alias("ratio"),
                col("_est", pl.Float64).alias("est"),
                col("_low", pl.Float64).alias("low"),
                col("_high", pl.Float64).alias("high"),
                col("_n", pl.Int64).alias("n"),
                col("_detect", pl.Float64).alias("detect"),
                col("_insufficient", pl.Boolean).fill_null(False).alias("insufficient"),
                status.alias("status"),
                pl.lit(None if bound is None else bound.value, pl.Float64).alias("threshold"),
                pl.lit(None if bound is None else bound.side, pl.String).alias("side"),
            )
        )
    scope = counties.select("county_code", "scope")
    return pl.concat(parts).join(scope, on="county_code", how="left").sort("county_code", "order")


def claim_value(value: pl.Expr) -> pl.Expr:
    """A claim's value as said, with yes/no words in Chinese (true -> 是); numbers as given.

    Digits stay digits: "1" claimed as a count is a count, not a yes.
    """
    word = value.str.strip_chars().str.to_lowercase()
    yes_ = [w for w in TRUE_WORDS if not w.isdigit()]
    no_ = [w for w in FALSE_WORDS if not w.isdigit()]
    return (
        pl.when(word.is_in(yes_))
        .then(pl.lit("是"))
        .when(word.is_in(no_))
        .then(pl.lit("否"))
        .otherwise(value)
    )


def status_cell() -> pl.Expr:
    """A rate's status in its county's wording; with the detection limit when 未发现超标."""
    label = codes.by_scope(pl.col("status"), pl.col("scope"))
    limit = pl.format("{}（检出限{}）", label, percent_expr(pl.col("detect")))
    return (
        pl.when((pl.col("status") == "not_found") & pl.col("detect").is_not_null())
        .then(limit)
        .otherwise(label)
    )


def verdict_cell(short: bool = True) -> pl.Expr:
    """A county's stored verdict in its scope's wording."""
    return codes.by_scope(pl.col("verdict"), pl.col("scope"), "verdict", short)


# ------------------------------------------------------------------ loading


def _unknown(parameter: str, value: str, known: list[str], run: Path) -> InputError:
    shown = "、".join(known[:12]) + ("…" if len(known) > 12 else "")
    return InputError(
        Problem(
            f"notebook parameter {parameter}",
            None,
            None,
            f"one of the run's values ({shown})",
            f"'{value}', which is not in {run / 'results'}",
        )
    )


def protected_words(plan: Plan, *tables: pl.DataFrame) -> list[str]:
    """Words a name mask must spare: the plan's labels and every place name in ``tables``."""
    words: set[str] = set(item_labels(plan, with_code=False).values())
    for it in (*plan.content.county, *plan.content.city, *plan.content.pairing):
        words.update(it.sub_items)
    words.update(c.label for c in plan.county_categories)
    for df in tables:
        for c in ("city_name", "county_name", "township_name", "village_name"):
            if c in df.columns:
                words.update(str(v) for v in df[c].drop_nulls().unique().to_list())
    return sorted(words)


@dataclass(frozen=True)
class Results:
    """A run's results store — whole, one city's or one county's — masked as loaded.

    Every table is the results table of the same name (``Result``), sliced
    to the scope; ``counties`` also has ``city_order`` (cities in the order
    of their first county code) and the stored verdict (``verdict, scope,
    failing``; null when the run has no ``county_verdicts``); ``rates`` is
    :func:`rate_rows`. ``households`` carry the masked head's name and phone
    and the village's name; ``sample_*`` and ``project_households`` are the
    sample package's rows (masked); ``village_names`` the frame's names of the
    scope's villages; ``teams`` the lottery's teams (None without a lottery).
    ``sample_plan`` is what the plan asks of each county's sample, by its
    per-county rule (:func:`xkaohe.analyse.sample_plan.sample_plan`): every
    "planned" count a report shows comes from it.
    """

    run: Path
    plan: Plan
    as_of: dt.date
    synthetic: bool
    counties: pl.DataFrame
    rates: pl.DataFrame
    items: pl.DataFrame
    households: pl.DataFrame
    findings: pl.DataFrame
    experiences: pl.DataFrame
    completeness: pl.DataFrame
    rejects: pl.DataFrame
    check_rates: pl.DataFrame
    check_helpers: pl.DataFrame
    check_villages: pl.DataFrame
    check_projects: pl.DataFrame
    check_discrepancies: pl.DataFrame
    check_claims: pl.DataFrame
    claim_checks: pl.DataFrame
    county_focus: pl.DataFrame
    sample_plan: pl.DataFrame
    sample_villages: pl.DataFrame
    sample_households: pl.DataFrame
    project_households: pl.DataFrame
    interviewees: pl.DataFrame
    general_quota: pl.DataFrame
    village_names: pl.DataFrame
    teams: pl.DataFrame | None

    @property
    def county(self) -> dict[str, Any]:
        """The one county of a county slice."""
        if self.counties.height != 1:
            raise ValueError(f"a slice of {self.counties.height} counties, not one")
        return self.counties.row(0, named=True)

    def named_rates(self) -> pl.DataFrame:
        """:attr:`rates` with each county's name and city, cities in the province's order."""
        names = self.counties.select("county_code", "county_name", "city_name", "city_order")
        return self.rates.join(names, on="county_code").sort("city_order", "county_code", "order")

    def county_name(self, county_code: str) -> str:
        row = self.counties.filter(pl.col("county_code") == county_code)
        return str(row["county_name"][0]) if row.height else county_code


_FREE_TEXT = {
    "findings": ("description", "evidence", "suggestion"),
    "experiences": ("title", "description"),
    "check_projects": ("issue",),
    "check_discrepancies": ("recorded", "found"),
    "claim_checks": ("value", "document", "found", "role"),
}


def _verdicts(run: Path) -> pl.DataFrame:
    try:
        return read_result(run, Result.COUNTY_VERDICTS).select(
            "county_code", "verdict", "scope", "failing"
        )
    except InputError:  # a run computed before verdicts were stored
        return pl.DataFrame(
            schema={c: pl.String for c in ("county_code", "verdict", "scope", "failing")}
        )


def load_results(
    run: Path, county_code: str | None = None, city: str | None = None, helped: bool = False
) -> Results:
    """The results of ``run``: the whole run, one ``city`` or one ``county_code``.

    Parameters
    ----------
    run
        The run folder (``frame/``, ``sample/``, ``results/``, ``lottery/``).
    county_code, city
        The slice; both None for the whole run. An empty ``county_code``
        means the run's first county, an empty ``city`` the city of its first
        county.
    helped
        With ``county_code``: only a county with a paired helper county
        (the pairing report), the first such county by default.

    Raises
    ------
    InputError
        When the county or city is not in the run, naming the ones that are.
    """
    plan = run_plan(run)
    everyone = read_result(run, Result.COUNTIES).sort("county_code")
    counties = everyone.with_columns(
        city_order=pl.col("county_code").min().over("city_name").rank("dense").cast(pl.Int64)
    ).join(_verdicts(run), on="county_code", how="left")
    if county_code is not None:
        pool = everyone.filter(pl.col("paired_helper_county").is_not_null()) if helped else everyone
        code = county_code or str(pool["county_code"].first())
        counties = counties.filter(pl.col("county_code").is_in(pool["county_code"].implode()))
        counties = counties.filter(pl.col("county_code") == code)
        if counties.height == 0:
            what = "county_code (a county with a paired helper county)" if helped else "county_code"
            raise _unknown(what, code, pool["county_code"].to_list(), run)
    elif city is not None:
        name = city or str(everyone["city_name"][0])
        counties = counties.filter(pl.col("city_name") == name)
        if counties.height == 0:
            known = everyone["city_name"].unique(maintain_order=True).to_list()
            raise _unknown("city_name", name, known, run)
    counties = counties.sort("city_order", "county_code")
    whole = county_code is None and city is None
    codes_ = counties["county_code"].to_list()
    cities = counties["city_name"].unique().to_list()

    def table(name: Result) -> pl.DataFrame:
        df = read_result(run, name)
        if whole:
            return df
        if name in (Result.FINDINGS, Result.EXPERIENCES, Result.COMPLETENESS):
            keep = pl.col("city_name").is_in(cities)
            if county_code is not None:
                keep = keep & (
                    pl.col("county_code" if "county_code" in df else "code") == codes_[0]
                )
                keep = keep & ((pl.col("unit") == "county") if "unit" in df else pl.lit(True))
            return df.filter(keep)
        return df.filter(pl.col("county_code").is_in(codes_))

    package = read_package(run / "sample")
    sample = SamplePackage(**package)
    if not whole:
        parts = [sample.for_county(c).tables() for c in codes_]
        mine = {k: pl.concat([p[k] for p in parts]).unique(maintain_order=True) for k in package}
    else:
        mine = package
    names = read_village_names(run / "frame", codes_)
    lottery = run / "lottery"
    teams = read_lottery(lottery) if (lottery / "teams.csv").exists() else None
    # every name the run knows (the frame's heads, the roster's assessors), whatever the
    # scope; the place names of the whole run spared: one mask per run, built once
    people_known = known_names(
        run,
        protected_words(
            plan, everyone, read_village_names(run / "frame", everyone["county_code"].to_list())
        ),
    )
    masked = {
        name: mask_frame(table(Result(name)), people_known, columns)
        for name, columns in _FREE_TEXT.items()
    }
    people = mask_frame(mine["households"], people_known, columns=())
    households = (
        table(Result.HOUSEHOLDS)
        .join(people.select("household_id", "head_name", "phone"), on="household_id", how="left")
        .join(names, on="village_code", how="left", maintain_order="left")
    )
    indicators = table(Result.COUNTY_INDICATORS)
    return Results(
        run=run,
        plan=plan,
        as_of=dt.date.fromisoformat(str(read_manifest(run)["as_of"])),
        synthetic=is_synthetic(run),
        counties=counties,
        rates=rate_rows(indicators, counties, plan),
        items=table(Result.COUNTY_ITEMS),
        households=households,
        findings=masked["findings"],
        experiences=masked["experiences"],
        completeness=table(Result.COMPLETENESS),
        rejects=table(Result.REJECTS),
        check_rates=table(Result.CHECK_RATES),
        check_helpers=table(Result.CHECK_HELPERS),
        check_villages=table(Result.CHECK_VILLAGES),
        check_projects=masked["check_projects"],
        check_discrepancies=masked["check_discrepancies"],
        check_claims=table(Result.CHECK_CLAIMS),
        claim_checks=masked["claim_checks"],
        county_focus=table(Result.COUNTY_FOCUS),
        sample_plan=table(Result.SAMPLE_PLAN),
        sample_villages=mine["villages"],
        sample_households=people,
        project_households=mask_frame(mine["project_households"], people_known, columns=()),
        interviewees=mine["interviewees"],
        general_quota=mine["general_quota"],
        village_names=names,
        teams=None if teams is None else teams.teams,
    )


# ------------------------------------------------------------------ one county's sample


@dataclass(frozen=True)
class CountySample:
    """One county's sample package, as the county sampling notebook shows it (masked).

    ``planned``: the county's rows of the results table ``sample_plan`` (what the
    plan's per-county rule asks of its sample).
    """

    county: dict[str, Any]
    tables: dict[str, pl.DataFrame]
    certificate: dict[str, Any]
    plan: Plan
    synthetic: bool
    planned: pl.DataFrame


def load_county_sample(run: Path, county_code: str | int = "") -> CountySample:
    """The sample of ``county_code`` (default: the first county) in ``run/sample``.

    Raises
    ------
    InputError
        When the county is not in the run's frame, naming the counties that are.
    """
    package = read_package(run / "sample")
    certificate = read_json(run / "sample" / "certificate.json")
    counties = read_counties(run / "frame").sort("county_code")
    code = str(county_code) or str(package["villages"]["county_code"].min())
    row = counties.filter(pl.col("county_code") == code)
    if row.height == 0:
        raise _unknown("county_code", code, counties["county_code"].to_list(), run)
    mine = SamplePackage(**package).for_county(code).tables()
    names = read_village_names(run / "frame", [code])
    for name in ("villages", "households", "villager_groups", "village_candidates"):
        if "village_name" not in mine[name].columns:
            mine[name] = mine[name].join(
                names, on="village_code", how="left", maintain_order="left"
            )
    mine["households"] = mask_frame(mine["households"], columns=())
    mine["project_households"] = mask_frame(mine["project_households"], columns=())
    plan = load_plan(certificate["plan"]["path"])
    return CountySample(
        county=row.row(0, named=True),
        tables=mine,
        certificate=certificate,
        plan=plan,
        synthetic=is_synthetic(run),
        planned=_planned(run, row, mine["villages"], plan),
    )


def _planned(run: Path, county: pl.DataFrame, villages: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """The county's rows of ``sample_plan``.

    The sampling report is read as soon as the sample is drawn (五(七), before the
    field week), when the run has no results store yet: then the same rule
    (:func:`xkaohe.analyse.sample_plan.sample_plan`) is applied to this county's
    frame rows, which is what ``xkaohe indicators`` will store.
    """
    code = str(county["county_code"][0])
    if (results_dir(run) / f"{Result.SAMPLE_PLAN}.parquet").exists():
        return read_result(run, Result.SAMPLE_PLAN, county_code=code)
    mine = villages.select("village_code")
    statuses = read_household_statuses(run / "frame").join(mine, on="village_code", how="semi")
    return sample_plan(county, villages.select("county_code", "village_code"), statuses, plan)


def of_type(cat: CountyCategory) -> pl.Expr:
    """The counties of a type of 三(一)1: a value of ``category``, or a flag column (深度贫困县)."""
    if cat.flag:
        return pl.col(cat.code).fill_null(False)
    return pl.col("category") == cat.code


def county_types(plan: Plan, county: Mapping[str, Any]) -> tuple[CountyCategory, ...]:
    """The plan's county types of one county (its category and flags), in plan order."""
    return plan.categories_of(county)


def heading(county: Mapping[str, Any], plan: Plan, extra: str = "") -> str:
    """A county's heading (HTML): name, city, its types (category and flags) and their focus."""
    types = county_types(plan, county)
    return (
        f"<h2>{esc(county['city_name'])} {esc(county['county_name'])}"
        f"（{esc(county['county_code'])}）</h2>"
        f"<p>考核类别：<b>{esc('、'.join(c.label for c in types))}</b>{extra}</p>"
        f"<p>分类考核重点：{esc('；'.join(c.focus for c in types))}</p>"
    )


def planned_totals(planned: pl.DataFrame) -> pl.DataFrame:
    """Rows of ``sample_plan`` summed per kind and category, in the order they first appear
    (a county's walk order, the plan's household order): ``kind, category, basis, planned``."""
    return (
        planned.with_row_index("_first")
        .group_by("kind", "category")
        .agg(pl.col("basis").first(), pl.col("planned").sum(), pl.col("_first").min())
        .sort("_first")
        .drop("_first")
    )


def village_plan_text(planned: pl.DataFrame) -> str:
    """The villages ``sample_plan`` rows plan, with their types: ``4（贫困村3个、非贫困村1个）``."""
    v = planned_totals(planned.filter(pl.col("kind") == "villages"))
    parts = "、".join(
        f"{codes.VILLAGE_TYPE.label(c, short=True)}{n}个"
        for c, n in v.select("category", "planned").iter_rows()
        if n
    )
    return f"{int(v['planned'].sum())}（{parts}）" if parts else str(int(v["planned"].sum()))


__all__ = [
    "DASH",
    "PLOTLYJS_ENV",
    "RUN_ENV",
    "CountySample",
    "Results",
    "box",
    "bullets",
    "claim_value",
    "confidence_text",
    "county_types",
    "date_text",
    "esc",
    "heading",
    "interval",
    "interval_expr",
    "item_labels",
    "load_county_sample",
    "load_results",
    "of_type",
    "percent",
    "percent_expr",
    "planned_totals",
    "protected_words",
    "rate_rows",
    "resolve_run_dir",
    "review_text",
    "rows_nonempty",
    "rows_where",
    "show",
    "show_figure",
    "show_html",
    "standard_expr",
    "standard_text",
    "start_notebook",
    "status_cell",
    "synthetic_banner",
    "table_html",
    "verdict_cell",
    "village_plan_text",
    "wan",
    "yes",
]
