"""What notebooks call: find the run, load their slice, present it in Chinese.

Notebooks stay thin (STYLE.md 1): each table they show is shaped here, each
chart drawn in :mod:`xkaohe.report.figures`, and every file read goes through
:mod:`xkaohe.io`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xkaohe.draw.sampling import SamplePackage
from xkaohe.io.files import read_json
from xkaohe.io.plan_file import load_plan
from xkaohe.io.run import is_synthetic, read_counties, read_village_names
from xkaohe.io.sample_package import read_package, zh
from xkaohe.plan import Plan

RUN_ENV = "XKAOHE_RUN"
DEFAULT_RUN = Path("..") / "runs" / "demo"


def resolve_run_dir(run_dir: str | Path = "") -> Path:
    """The run folder a notebook reads: the parameter, else ``$XKAOHE_RUN``, else ../runs/demo.

    Notebooks run from ``notebooks/``, so the default is the demo run beside it.
    """
    chosen = str(run_dir) or os.environ.get(RUN_ENV, "") or str(DEFAULT_RUN)
    return Path(chosen).expanduser().resolve()


# ------------------------------------------------------------ masking


def mask_name(name: pl.Expr) -> pl.Expr:
    """张三丰 -> 张**: keep the surname only."""
    return (
        pl.when(name.is_null())
        .then(None)
        .otherwise(
            name.str.slice(0, 1) + pl.lit("*").repeat_by(name.str.len_chars() - 1).list.join("")
        )
    )


def mask_phone(phone: pl.Expr) -> pl.Expr:
    """13812345678 -> 138****5678 (null stays null)."""
    return (
        pl.when(phone.is_null())
        .then(None)
        .when(phone.str.len_chars() >= 7)
        .then(phone.str.slice(0, 3) + pl.lit("****") + phone.str.slice(-4))
        .otherwise(pl.lit("****"))
    )


def mask_id_number(id_number: pl.Expr) -> pl.Expr:
    """An 18-character ID number -> its first 6 and last 2 characters (null stays null)."""
    return (
        pl.when(id_number.is_null())
        .then(None)
        .when(id_number.str.len_chars() >= 8)
        .then(id_number.str.slice(0, 6) + pl.lit("**********") + id_number.str.slice(-2))
        .otherwise(pl.lit("********"))
    )


PERSONAL_COLUMNS = {"head_name": mask_name, "phone": mask_phone, "head_id_number": mask_id_number}
"""Columns holding personal data, and how each is masked."""


def mask_people(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with every personal column (name, phone, ID number) masked; nulls stay null."""
    return df.with_columns(
        [mask(pl.col(c)).alias(c) for c, mask in PERSONAL_COLUMNS.items() if c in df.columns]
    )


# ------------------------------------------------------ county sample


@dataclass(frozen=True)
class CountySample:
    """One county's sample, as the county sampling notebook shows it."""

    code: str
    name: str
    city: str
    category: str
    paired_helper: str | None
    tables: dict[str, pl.DataFrame]
    certificate: dict[str, Any]
    plan: Plan
    synthetic: bool

    @property
    def category_label(self) -> str:
        return self.plan.category(self.category).label

    @property
    def category_focus(self) -> str:
        return self.plan.category(self.category).focus


def load_county_sample(run: Path, county_code: str | int = "") -> CountySample:
    """The sample of ``county_code`` (default: the first county) in ``run/sample``."""
    package = read_package(run / "sample")
    certificate = read_json(run / "sample" / "certificate.json")
    counties = read_counties(run / "frame")
    code = str(county_code) or str(package["villages"]["county_code"].min())
    row = counties.filter(pl.col("county_code") == code)
    if row.height == 0:
        raise KeyError(f"county {code} is not in {run / 'frame'}")
    info = row.row(0, named=True)
    mine = SamplePackage(**package).for_county(code).tables()
    names = read_village_names(run / "frame", [code])
    for name in ("villages", "households", "villager_groups", "village_candidates"):
        mine[name] = mine[name].join(names, on="village_code", how="left", maintain_order="left")
    return CountySample(
        code=code,
        name=info["county_name"],
        city=info["city_name"],
        category=info["category"],
        paired_helper=info.get("paired_helper_county"),
        tables=mine,
        certificate=certificate,
        plan=load_plan(certificate["plan"]["path"]),
        synthetic=is_synthetic(run),
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


def village_table(cs: CountySample) -> pl.DataFrame:
    """The drawn villages, in walk order, with Chinese headers."""
    v = cs.tables["villages"].sort("walk_order")
    return v.select(
        pl.col("walk_order").alias("抽取顺序"),
        pl.col("township_name").alias("乡镇"),
        pl.col("village_name").alias("村"),
        zh(pl.col("village_type")).alias("村类型"),
        zh(pl.col("substituted_for")).fill_null("").alias("替代类型"),
        pl.when(pl.col("relaxed_township"))
        .then(pl.lit("是"))
        .otherwise(pl.lit(""))
        .alias("同乡镇放宽"),
        pl.col("remoteness").round(3).alias("偏远指数"),
        pl.col("tilt_weight").round(3).alias("倾斜权重"),
        pl.col("prn").round(4).alias("随机数"),
        pl.col("inclusion_prob").round(3).alias("入样概率(近似)"),
    )


_SELECTED_ORDER = [
    "exited_2019",
    "exited_2016_2018",
    "new_2018_2019",
    "not_exited",
    "relapsed",
    "group_census",
]


def household_summary(cs: CountySample) -> pl.DataFrame:
    """Households per village and category: planned quota against drawn, substitutions."""
    hh = cs.tables["households"]
    quota = {q.status: q.count for q in cs.plan.sampling.households.quotas}
    counts = hh.group_by("village_name", "selected_as").agg(
        drawn=pl.len(), substituted=(pl.col("status") != pl.col("selected_as")).sum()
    )
    counts = counts.with_columns(
        planned=pl.col("selected_as").replace_strict(quota, default=None, return_dtype=pl.Int64),
        _o=pl.col("selected_as").replace_strict(
            {s: i for i, s in enumerate(_SELECTED_ORDER)}, default=99, return_dtype=pl.Int64
        ),
    ).sort("village_name", "_o")
    return counts.select(
        pl.col("village_name").alias("村"),
        zh(pl.col("selected_as")).alias("抽样类别"),
        pl.col("planned").alias("计划户数"),
        pl.col("drawn").alias("抽取户数"),
        pl.col("substituted").alias("其中替代户"),
    )


def household_table(cs: CountySample) -> pl.DataFrame:
    """The household list, personal data masked, substitutions marked."""
    hh = cs.tables["households"]
    return hh.select(
        pl.col("village_name").alias("村"),
        pl.col("villager_group").alias("村民小组"),
        pl.col("household_id").alias("户编号"),
        mask_name(pl.col("head_name")).alias("户主"),
        pl.col("household_size").alias("人口"),
        zh(pl.col("status")).alias("户类型"),
        zh(pl.col("selected_as")).alias("抽样类别"),
        pl.when(
            pl.col("selected_as").is_in(_SELECTED_ORDER[:4])
            & (pl.col("status") != pl.col("selected_as"))
        )
        .then(pl.lit("替代"))
        .otherwise(pl.lit(""))
        .alias("替代"),
    )


def substitution_rows(table: pl.DataFrame) -> list[int]:
    """Row positions of substituted households in :func:`household_table` (to highlight)."""
    return [i for i, v in enumerate(table["替代"].to_list()) if v]


def group_table(cs: CountySample) -> pl.DataFrame:
    g = cs.tables["villager_groups"]
    return g.select(
        pl.col("village_name").alias("村"),
        pl.when(pl.col("is_poor_village"))
        .then(pl.lit("贫困村"))
        .otherwise(pl.lit("非贫困村"))
        .alias("村别"),
        pl.col("villager_group").alias("全覆盖村民小组"),
        pl.col("households_registered").alias("建档立卡户数"),
    )


def project_table(cs: CountySample) -> pl.DataFrame:
    p = cs.tables["projects"]
    return p.select(
        zh(pl.col("level")).alias("层级"),
        pl.col("village_code").fill_null("").alias("村代码"),
        pl.col("project_id").alias("项目编号"),
        pl.col("name").alias("项目名称"),
        zh(pl.col("kind")).alias("项目类型"),
        pl.col("funds_yuan").alias("资金(元)"),
        pl.col("beneficiaries_drawn").alias("抽查受益户"),
        pl.when(pl.col("few_beneficiaries"))
        .then(pl.lit(f"不足{cs.plan.sampling.projects.beneficiaries_min}户"))
        .otherwise(pl.lit(""))
        .alias("提示"),
    )


def interview_table(cs: CountySample) -> pl.DataFrame:
    i = cs.tables["interviewees"]
    quotas = (
        i.filter(pl.col("level") != "helper")
        .group_by("level", "label", maintain_order=True)
        .agg(pl.col("count").sum())
    )
    return quotas.select(
        zh(pl.col("level")).alias("层级"),
        pl.col("label").alias("访谈对象"),
        pl.col("count").alias("人数（合计）"),
    )


def helper_table(cs: CountySample) -> pl.DataFrame:
    i = cs.tables["interviewees"].filter(pl.col("level") == "helper")
    names = cs.tables["villages"].select("village_code", "village_name")
    return i.join(names, on="village_code", how="left", maintain_order="left").select(
        pl.col("village_name").alias("村"),
        pl.col("helper_id").alias("帮扶责任人编号"),
        pl.when(pl.col("from_sample"))
        .then(pl.lit("抽样户的帮扶责任人"))
        .otherwise(pl.lit("本村其他帮扶责任人"))
        .alias("来源"),
    )


def certificate_table(cs: CountySample) -> pl.DataFrame:
    """The certificate as two columns a reviewer can read and check."""
    c = cs.certificate
    rows = [
        ("抽样规程", c["protocol"]),
        ("随机种子", c["seed"]),
        ("方案文件 SHA-256", c["plan"]["sha256"]),
        ("软件版本", c["package_version"]),
    ]
    rows += [
        (f"底册 {v['file']} SHA-256", v["sha256"]) for _, v in sorted(c["frame"]["files"].items())
    ]
    return pl.DataFrame(rows, schema=["项目", "值"], orient="row")


# ------------------------------------------------------------ display

PLOTLYJS_ENV = "XKAOHE_PLOTLYJS"  # set by the batch runner: relative src of the shared plotly.js
_loaded_plotlyjs = False

_TABLE_STYLE = (
    "<style>.xk-table{border-collapse:collapse;font-size:13px;margin:6px 0 14px}"
    ".xk-table th{background:#eef3f8;border:1px solid #c9d3dd;padding:4px 8px;text-align:left}"
    ".xk-table td{border:1px solid #dde3e9;padding:3px 8px}"
    ".xk-table tr.xk-hl td{background:#fff3cd}</style>"
)


def start_notebook() -> None:
    """Fresh display state for a notebook run in a reused (warm) kernel."""
    global _loaded_plotlyjs
    _loaded_plotlyjs = False


def table_html(df: pl.DataFrame, highlight: list[int] | None = None, max_rows: int = 500) -> str:
    """A plain, printable HTML table (no dtypes, no index); ``highlight`` row positions."""
    import html

    marked = set(highlight or [])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for i, row in enumerate(df.head(max_rows).iter_rows()):
        cells = "".join(f"<td>{'' if v is None else html.escape(str(v))}</td>" for v in row)
        body.append(f"<tr class='xk-hl'>{cells}</tr>" if i in marked else f"<tr>{cells}</tr>")
    more = f"<p>（仅显示前 {max_rows} 行，共 {df.height} 行）</p>" if df.height > max_rows else ""
    return (
        f"{_TABLE_STYLE}<table class='xk-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{more}"
    )


def show(df: pl.DataFrame, highlight: list[int] | None = None) -> None:
    """Display a table in a notebook."""
    from IPython.display import HTML, display

    display(HTML(table_html(df, highlight)))


def show_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


def show_figure(fig: Any) -> None:
    """Interactive in JupyterLab; in rendered reports a div using the shared local plotly.js."""
    global _loaded_plotlyjs
    src = os.environ.get(PLOTLYJS_ENV)
    if not src:
        fig.show()
        return
    from IPython.display import HTML, display

    script = "" if _loaded_plotlyjs else f'<script src="{src}"></script>'
    _loaded_plotlyjs = True
    display(HTML(script + fig.to_html(full_html=False, include_plotlyjs=False)))


def county_heading(cs: CountySample) -> str:
    """The county's name, city, category and the plan's focus for that category."""
    import html

    paired = f"；结对帮扶县：{html.escape(cs.paired_helper)}" if cs.paired_helper else ""
    return (
        f"<h2>{html.escape(cs.city)} {html.escape(cs.name)}（{cs.code}）</h2>"
        f"<p>考核类别：<b>{html.escape(cs.category_label)}</b>{paired}</p>"
        f"<p>分类考核重点：{html.escape(cs.category_focus)}</p>"
    )


def sample_counts(cs: CountySample) -> str:
    """One sentence: what was drawn against the plan."""
    rules = cs.plan.sampling
    planned_v = sum(q.count for q in rules.villages.quotas)
    planned_h = sum(q.count for q in rules.households.quotas)
    hh = cs.tables["households"]
    quota_rows = hh.filter(pl.col("selected_as").is_in([q.status for q in rules.households.quotas]))
    return (
        f"抽取村 {cs.tables['villages'].height} 个（计划 {planned_v} 个）；"
        f"按类别抽取建档立卡户 {quota_rows.height} 户（计划每村 {planned_h} 户），"
        f"返贫户与村民小组全覆盖另计，全部抽样户 {hh.height} 户；"
        f"每村另随机走访一般农户 {rules.households.general_per_village} 户。"
    )
