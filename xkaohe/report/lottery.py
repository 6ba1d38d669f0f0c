"""Tables and figures of the lottery for ``notebooks/lottery.ipynb``; the printable team lists."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import plotly.graph_objects as go
import polars as pl

from xkaohe.codes import ASSESSOR_LEVEL, MEMBER_ROLE
from xkaohe.draw.prn import PROTOCOL as PRN_PROTOCOL
from xkaohe.inputs import CITY_SEP, Lottery, Roster
from xkaohe.io.lottery_files import locate_input, read_certificate
from xkaohe.io.plan_file import load_plan
from xkaohe.io.roster import load_roster
from xkaohe.io.xlsx import Sheet
from xkaohe.plan import Plan
from xkaohe.privacy import mask_phone

LEVEL_LABELS = ASSESSOR_LEVEL.labels()
ROLE_LABELS = MEMBER_ROLE.labels()

# --------------------------------------------------------------------------- notebook tables


def lottery_plan(run: Path) -> Plan:
    """The plan the run's lottery was drawn with (its certificate names the file)."""
    plan = read_certificate(run / "lottery")["plan"]
    # the notebook runs in notebooks/: a relative path as given is found as resolved
    return load_plan(locate_input(str(plan["path"]), str(plan["resolved"])))


def summary_table(lottery: Lottery) -> pl.DataFrame:
    """Key facts of a draw as ``项目, 值`` rows (seed, protocol, counts, look-ahead counts)."""
    rules = lottery.rules
    facts = [
        ("抽签种子", lottery.seed),
        ("抽签规程", f"{lottery.protocol}（永久随机数 {PRN_PROTOCOL}）"),
        ("考核组数", str(lottery.teams.height)),
        ("考核人员总数", str(lottery.members.height)),
        ("入户走访小组数", str(lottery.pairs.height)),
        ("县乡村干部占比下限", f"{rules.grassroots_share_min:.0%}"),
        ("考核组人数公式", f"{rules.size.base} + {rules.size.per_county} × 被考核县数"),
        ("禁止两市互考", "是" if rules.no_mutual_assessment else "否"),
        ("组长回溯次数", str(lottery.leader_rejections)),
        ("人员余量跳过次数", str(lottery.pool_skips)),
    ]
    return pl.DataFrame(facts, schema={"项目": pl.String, "值": pl.String}, orient="row")


def pairs_summary(lottery: Lottery) -> pl.DataFrame:
    """Per team: pairs, pairs mixing grassroots with other levels, people left off the pairs."""
    grass = list(lottery.rules.grassroots_levels)
    mixed = pl.col("level_a").is_in(grass) != pl.col("level_b").is_in(grass)
    field = (
        lottery.members.filter(pl.col("role").is_in(["contact", "member"]))
        .group_by("team_id")
        .len("field")
    )
    return (
        lottery.pairs.group_by("team_id")
        .agg(pl.len().alias("pairs"), mixed.sum().alias("mixed"))
        .join(field, on="team_id", how="right")
        .with_columns(pl.col("pairs", "mixed").fill_null(0))
        .sort("team_id")
        .select(
            pl.col("team_id").alias("考核组"),
            pl.col("pairs").alias("入户小组数"),
            pl.col("mixed").alias("县乡村与其他层级混编"),
            (pl.col("field") - 2 * pl.col("pairs")).alias("未编入小组人数"),
        )
    )


def certificate_table(certificate: Mapping[str, Any]) -> pl.DataFrame:
    """A lottery certificate as ``项目, 值`` rows a reviewer can check.

    Files are named, not located: the full paths stay in ``certificate.json``
    (a report shows no path of the machine it was rendered on, and renders the
    same wherever the run lives); the SHA-256 values identify the files.
    """
    rows = [
        ("抽签规程", str(certificate.get("protocol"))),
        ("随机种子", str(certificate.get("seed"))),
        ("方案文件", PurePath(str(certificate["plan"]["path"])).name),
        ("方案文件 SHA-256", str(certificate["plan"]["sha256"])),
        ("名单目录", PurePath(str(certificate["roster"]["dir"])).name),
    ]
    rows += [
        (f"名单 {v['file']} SHA-256", str(v["sha256"]))
        for _, v in sorted(certificate["roster"]["files"].items())
    ]
    rows += [
        (f"结果 {k} SHA-256", str(v)) for k, v in sorted(certificate.get("outputs", {}).items())
    ]
    rows.append(("软件版本", str(certificate.get("package_version"))))
    return pl.DataFrame(rows, schema={"项目": pl.String, "值": pl.String}, orient="row")


def assignment_table(lottery: Lottery, *, share_as_number: bool = False) -> pl.DataFrame:
    """One row per team, Chinese headers: leader, deputy, source city, targets, size, grassroots.

    ``share_as_number``: the grassroots share as a number (for the xlsx, which
    formats it as a percentage) instead of text like "61.9%".
    """
    names = lottery.members.select("person_id", "name")
    share = pl.col("grassroots_share")
    return (
        lottery.teams.join(
            names.rename({"person_id": "leader_id", "name": "leader"}), on="leader_id", how="left"
        )
        .join(
            names.rename({"person_id": "deputy_id", "name": "deputy"}), on="deputy_id", how="left"
        )
        .sort("team_id")
        .select(
            pl.col("team_id").alias("考核组"),
            pl.col("leader").alias("组长"),
            pl.col("source_city").alias("组长所在市"),
            pl.col("deputy").alias("副组长"),
            pl.col("target_cities").str.replace_all(CITY_SEP, "、", literal=True).alias("被考核市"),
            pl.col("counties").alias("被考核县数"),
            pl.col("size").alias("人数"),
            pl.col("grassroots").alias("县乡村干部人数"),
            (share if share_as_number else (share * 100).round(1).cast(pl.String) + "%").alias(
                "县乡村干部占比"
            ),
        )
    )


def city_flows(lottery: Lottery) -> pl.DataFrame:
    """``team_id, source_city, target_city``: which city's team assesses which city."""
    return (
        lottery.teams.select(
            "team_id",
            pl.col("source_city").fill_null("省直"),
            pl.col("target_cities").str.split(CITY_SEP).alias("target_city"),
        )
        .explode("target_city")
        .sort("team_id", "target_city")
    )


def composition(lottery: Lottery) -> pl.DataFrame:
    """Per team and level: head count and share of the team; ``grassroots`` flags the levels."""
    levels = list(LEVEL_LABELS)
    return (
        lottery.members.group_by("team_id", "level")
        .len("count")
        .join(lottery.teams.select("team_id", "size"), on="team_id")
        .with_columns(
            (pl.col("count") / pl.col("size")).alias("share"),
            pl.col("level").is_in(list(lottery.rules.grassroots_levels)).alias("grassroots"),
            pl.col("level").replace_strict(LEVEL_LABELS).alias("level_label"),
            pl.col("level")
            .replace_strict({v: i for i, v in enumerate(levels)}, return_dtype=pl.Int64)
            .alias("_o"),
        )
        .sort("team_id", "_o")
        .drop("_o", "size")
    )


def pairs_table(lottery: Lottery) -> pl.DataFrame:
    """The household-visit pairs with names and levels, Chinese headers."""
    names = lottery.members.select("person_id", "name")
    level = pl.col("level_a").replace_strict(LEVEL_LABELS)
    return (
        lottery.pairs.join(names.rename({"person_id": "person_a", "name": "name_a"}), on="person_a")
        .join(names.rename({"person_id": "person_b", "name": "name_b"}), on="person_b")
        .sort("team_id", "pair_no")
        .select(
            pl.col("team_id").alias("考核组"),
            pl.col("pair_no").alias("组号"),
            pl.col("name_a").alias("成员甲"),
            level.alias("成员甲层级"),
            pl.col("name_b").alias("成员乙"),
            pl.col("level_b").replace_strict(LEVEL_LABELS).alias("成员乙层级"),
        )
    )


def figure_city_flows(lottery: Lottery) -> go.Figure:
    """Sankey diagram: the leader's city (left) to the cities its team assesses (right)."""
    import plotly.graph_objects as go

    flows = city_flows(lottery)
    left = sorted(set(flows["source_city"].to_list()))
    right = sorted(set(flows["target_city"].to_list()))
    labels = [f"{c}（派出）" for c in left] + [f"{c}（被考核）" for c in right]
    index = {("s", c): i for i, c in enumerate(left)} | {
        ("t", c): len(left) + i for i, c in enumerate(right)
    }
    fig = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 12, "thickness": 14},
            link={
                "source": [index[("s", c)] for c in flows["source_city"]],
                "target": [index[("t", c)] for c in flows["target_city"]],
                "value": [1] * flows.height,
                "customdata": flows["team_id"].to_list(),
                "hovertemplate": "%{customdata}: %{source.label} → %{target.label}<extra></extra>",
            },
        )
    )
    fig.update_layout(title="考核组派出市与被考核市", font={"size": 12}, height=600)
    return fig


def figure_composition(lottery: Lottery) -> go.Figure:
    """Stacked bars of each team's levels as shares, with the grassroots minimum as a line.

    The grassroots levels are stacked first, so the top of their segments is each
    team's grassroots share, read against the dashed minimum.
    """
    import plotly.graph_objects as go

    comp = composition(lottery)
    fig = go.Figure()
    grass = lottery.rules.grassroots_levels
    stacked = [*grass, *(v for v in reversed(LEVEL_LABELS) if v not in grass)]
    for level in stacked:  # grassroots at the bottom, so their top edge meets the line
        label = LEVEL_LABELS.get(level, level)
        part = comp.filter(pl.col("level") == level)
        if part.height:
            fig.add_bar(
                x=part["team_id"].to_list(),
                y=part["share"].to_list(),
                name=label,
                customdata=part["count"].to_list(),
                hovertemplate=f"%{{x}} {label}: %{{customdata}}人（%{{y:.0%}}）<extra></extra>",
            )
    share = lottery.rules.grassroots_share_min
    fig.add_hline(
        y=share,
        line_dash="dash",
        line_color="black",
        annotation_text=f"县乡村干部下限 {share:.0%}",
        annotation_position="top left",
    )
    fig.update_layout(
        barmode="stack",
        title="各考核组人员层级构成",
        yaxis_tickformat=".0%",
        yaxis_title="占考核组人数",
        xaxis_title="考核组",
        legend_title="层级",
    )
    return fig


# --------------------------------------------------------------------------- printable team lists


def team_list_sheets(lottery: Lottery, roster: Roster | None = None) -> list[Sheet]:
    """The printable xlsx: a summary sheet, the liaisons, then one sheet per team (Chinese).

    With the ``roster``: each member's department (部门) and, per team, how many
    come from the plan's priority departments (``teams.priority_departments``,
    四(二) 以…部门为主); the assessed places' liaisons (联络员, 四(二)) when the
    roster has ``liaisons.csv``. The liaisons' phones are printed in full: they
    are the officials' work contacts, given for the team to call, and the team
    lists are the teams' own working papers (reports mask them).
    """
    members = lottery.members
    departments = _departments(roster)
    members = members.join(departments, on="person_id", how="left")
    pair_no = pl.concat(
        [
            lottery.pairs.select("team_id", pl.col("person_a").alias("person_id"), "pair_no"),
            lottery.pairs.select("team_id", pl.col("person_b").alias("person_id"), "pair_no"),
        ]
    )
    priority = list(lottery.rules.priority_departments)
    summary = assignment_table(lottery, share_as_number=True).join(
        members.group_by("team_id")
        .agg(pl.col("department").is_in(priority).sum().alias("重点部门人数"))
        .rename({"team_id": "考核组"}),
        on="考核组",
        how="left",
    )
    sheets = [
        Sheet(
            "总表", summary, "市际交叉考核 考核组总表", percent=("县乡村干部占比",), landscape=False
        )
    ]
    if roster is not None and roster.liaisons is not None:
        sheets.append(
            Sheet("联络员", liaison_table(lottery, roster.liaisons), "被考核市、县联络员")
        )
    for team in lottery.teams.sort("team_id").iter_rows(named=True):
        tid = team["team_id"]
        sheet = (
            members.filter(pl.col("team_id") == tid)
            .join(pair_no, on=["team_id", "person_id"], how="left")
            .with_row_index("序号", offset=1)
            .select(
                pl.col("序号").cast(pl.Int64),
                pl.col("role").replace_strict(ROLE_LABELS).alias("角色"),
                pl.col("name").alias("姓名"),
                pl.col("person_id").alias("人员编号"),
                pl.col("unit").alias("单位"),
                pl.col("department").alias("部门"),
                pl.col("level").replace_strict(LEVEL_LABELS).alias("层级"),
                pl.col("home_city").fill_null("省直").alias("所在市"),
                pl.col("pair_no").alias("入户小组"),
            )
        )
        cities = str(team["target_cities"])
        title = f"市际交叉考核 {tid} 被考核市：{cities.replace(CITY_SEP, '、')}"
        tab = f"{tid} {cities.replace(CITY_SEP, '、')}"
        sheets.append(Sheet(tab, sheet, title, landscape=False))
    return sheets


def _departments(roster: Roster | None) -> pl.DataFrame:
    """``person_id, department`` of the roster (empty without one or without the column)."""
    schema = {"person_id": pl.String, "department": pl.String}
    if roster is None or "department" not in roster.assessors.columns:
        return pl.DataFrame(schema=schema)
    return roster.assessors.select("person_id", pl.col("department").cast(pl.String))


def run_liaisons(run: Path, lottery: Lottery) -> pl.DataFrame:
    """The liaisons of a run's roster (``roster/liaisons.csv``) for a report: phones masked."""
    roster_dir = run / "roster"
    roster = load_roster(roster_dir) if roster_dir.is_dir() else None
    if roster is None or roster.liaisons is None:
        empty = pl.DataFrame(schema=dict.fromkeys(LIAISON_COLUMNS, pl.String))
        return liaison_table(lottery, empty)
    return liaison_table(lottery, roster.liaisons, mask=True)


LIAISON_COLUMNS = ("city_name", "county_code", "name", "phone")


def liaison_table(lottery: Lottery, liaisons: pl.DataFrame, mask: bool = False) -> pl.DataFrame:
    """The assessed places' liaisons by team, city liaison first (Chinese headers).

    ``mask``: phones masked (:func:`xkaohe.privacy.mask_phone`) for a report;
    the printable team lists carry them in full.
    """
    team_of = (
        lottery.teams.select("team_id", pl.col("target_cities").str.split(CITY_SEP))
        .explode("target_cities")
        .rename({"target_cities": "city_name"})
    )
    phone = pl.col("phone")
    if mask:
        phone = phone.map_elements(mask_phone, return_dtype=pl.String)
    return (
        liaisons.join(team_of, on="city_name", how="left")
        .sort("team_id", "city_name", pl.col("county_code").is_not_null(), "county_code")
        .select(
            pl.col("team_id").alias("考核组"),
            pl.col("city_name").alias("被考核市"),
            pl.when(pl.col("county_code").is_null())
            .then(pl.lit("市"))
            .otherwise(pl.lit("县"))
            .alias("层级"),
            pl.col("county_code").alias("县代码"),
            pl.col("name").alias("联络员"),
            phone.alias("联系电话"),
        )
    )
