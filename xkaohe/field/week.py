"""The field week as the supervisors see it: arrivals, media checks, signals, the daily view.

Plan 六(四) (录音资料和照片 with every questionnaire and interview) and the
supervision of the teams (八(二)(三)). Built on the ledger's versions
(:mod:`xkaohe.field.ledger`); these checks only point the supervisors at what
to look at — they prove nothing about a delivery's truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from xkaohe import schemas
from xkaohe.codes import FIELD_SIGNAL, MEDIA_PROBLEM
from xkaohe.field.ledger import (
    DATE_COLUMN,
    ORDER,
    SPECS,
    Context,
    as_field,
    changes,
    conflicts,
    current,
    decode,
    file_type,
    key_expr,
    versions,
)
from xkaohe.inputs import CITY_SEP, Field, Lottery
from xkaohe.io.ledger import Ledger
from xkaohe.plan import Plan

FILE_TYPES = {"audio": ("wav", "mp3", "amr", "m4a"), "photo": ("jpeg", "png", "heic")}
"""Which file types a media ``kind`` accepts (told apart by their first bytes)."""

MEDIA_PROBLEMS = MEDIA_PROBLEM.labels()
"""Media problem codes and their Chinese labels (:data:`xkaohe.codes.MEDIA_PROBLEM`)."""

SIGNALS = FIELD_SIGNAL.labels()
"""Signals of careless or bent field work and their labels (:data:`xkaohe.codes.FIELD_SIGNAL`)."""

_MEDIA_PROBLEM_SCHEMA = {
    "problem": pl.String,
    "table": pl.String,
    "record_key": pl.String,
    "file": pl.String,
    "sha256": pl.String,
    "seq": pl.Int64,
    "team_id": pl.String,
    "field_date": pl.Date,
    "detail": pl.String,
}
_SIGNAL_SCHEMA = {
    "team_id": pl.String,
    "day": pl.Date,
    "signal": pl.String,
    "table": pl.String,
    "record_key": pl.String,
    "detail": pl.String,
}


# ------------------------------------------------------------------ media


def _media_key(table: str) -> pl.Expr:
    cols = schemas.MEDIA_KEYS.get(table, SPECS[table].unique)
    return pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in cols], separator=schemas.KEY_SEP
    )


def arrivals(versions: pl.DataFrame) -> pl.DataFrame:
    """The first version of every record: who delivered it, which day, the day it is about
    (``row_date``), its key as people read it and as a media manifest names it."""
    first = versions.sort("table", "record_key", *ORDER).unique(
        ["table", "record_key"], keep="first", maintain_order=True
    )
    schema = {
        "table": pl.String,
        "record_key": pl.String,
        "key": pl.String,
        "seq": pl.Int64,
        "team_id": pl.String,
        "field_date": pl.Date,
        "row_date": pl.Date,
        "media_key": pl.String,
    }
    pieces = [pl.DataFrame(schema=schema)]
    for name in SPECS:
        d = decode(first, name)
        if d.height == 0:
            continue
        date = DATE_COLUMN.get(name)
        pieces.append(
            d.select(
                pl.lit(name).alias("table"),
                pl.col("_key").alias("record_key"),
                key_expr("_key").alias("key"),
                pl.col("_seq").alias("seq"),
                pl.col("_by").alias("team_id"),
                pl.col("_day").alias("field_date"),
                (pl.col(date) if date else pl.lit(None, pl.Date)).alias("row_date"),
                _media_key(name).alias("media_key"),
            ).cast(schema)  # type: ignore[arg-type]
        )
    return pl.concat(pieces)


def media_problems(
    entries: pl.DataFrame,
    files: pl.DataFrame,
    media: pl.DataFrame,
    first: pl.DataFrame,
    plan: Plan,
) -> pl.DataFrame:
    """Records without their media, media without a record, missing, unlisted, altered or
    wrongly typed files, and one file used for two different records (六(四)).

    ``first``: :func:`arrivals` — who delivered each record first, and its media key.
    """
    info = entries.select("seq", "team_id", "field_date")
    f = files.select("seq", pl.col("path").alias("file"), pl.col("sha256").alias("actual"), "head")
    types = {h: file_type(h) for h in f["head"].unique().to_list() if h is not None}
    accepted = pl.DataFrame(
        [(k, t) for k, ts in FILE_TYPES.items() for t in ts],
        schema={"kind": pl.String, "type": pl.String},
        orient="row",
    ).with_columns(pl.lit(True).alias("type_ok"))
    m = (
        media.join(f, on=["seq", "file"], how="left")
        .join(info, on="seq", how="left")
        .with_columns(pl.col("head").replace_strict(types, default=None).alias("type"))
        .join(accepted, on=["kind", "type"], how="left")
        .with_columns(pl.col("type_ok").fill_null(False))
    )
    known = (
        first.select("table", pl.col("media_key").alias("record_key"))
        .unique()
        .with_columns(pl.lit(True).alias("_known"))
    )
    m = m.join(known, on=["table", "record_key"], how="left")
    pieces = [pl.DataFrame(schema=_MEDIA_PROBLEM_SCHEMA)]

    def emit(df: pl.DataFrame, problem: str, detail: pl.Expr) -> None:
        pieces.append(
            df.select(
                pl.lit(problem).alias("problem"),
                "table",
                "record_key",
                "file",
                "sha256",
                "seq",
                "team_id",
                "field_date",
                detail.alias("detail"),
            ).cast(_MEDIA_PROBLEM_SCHEMA)  # type: ignore[arg-type]
        )

    emit(m.filter(pl.col("actual").is_null()), "file_missing", pl.lit("清单列出但未上传"))
    present = m.filter(pl.col("actual").is_not_null())
    emit(
        present.filter(pl.col("actual") != pl.col("sha256")),
        "hash_mismatch",
        pl.format("实际 {}…", pl.col("actual").str.slice(0, 12)),
    )
    emit(
        present.filter(~pl.col("type_ok")),
        "wrong_type",
        pl.format("{}：实际为 {}", pl.col("kind"), pl.col("type").fill_null("unknown")),
    )
    emit(m.filter(pl.col("_known").is_null()), "no_record", pl.lit("无对应记录"))
    listed = media.select("seq", "file").unique()
    unlisted = (
        files.filter(pl.col("role") == "media")
        .select("seq", pl.col("path").alias("file"), "sha256")
        .join(listed, on=["seq", "file"], how="anti")
        .join(info, on="seq", how="left")
        .with_columns(
            pl.lit(None, pl.String).alias("table"), pl.lit(None, pl.String).alias("record_key")
        )
    )
    emit(unlisted, "unlisted_file", pl.lit("未列入 media.csv"))

    good = present.filter((pl.col("actual") == pl.col("sha256")) & pl.col("type_ok"))
    reused = (
        good.unique(["actual", "table", "record_key"], keep="first")
        .filter(pl.len().over("actual") > 1)
        .sort("actual", "table", "record_key")
    )
    emit(
        reused,
        "reused",
        pl.format("同一文件 {}… 也用于其他记录", pl.col("actual").str.slice(0, 12)),
    )
    have = good.select("table", "record_key", "kind").unique()
    for table, kinds in plan.field_week.media_required.items():
        need = first.filter(pl.col("table") == table).unique(["table", "media_key"], keep="first")
        for kind in kinds:
            lacking = need.join(
                have.filter(pl.col("kind") == kind).select("table", "record_key"),
                left_on=["table", "media_key"],
                right_on=["table", "record_key"],
                how="anti",
            )
            emit(
                lacking.with_columns(
                    pl.col("media_key").alias("record_key"),
                    pl.lit(None, pl.String).alias("file"),
                    pl.lit(None, pl.String).alias("sha256"),
                ),
                f"missing_{kind}",
                pl.lit("无有效文件"),
            )
    return pl.concat(pieces).sort("problem", "table", "record_key", "file", "seq", nulls_last=True)


# ------------------------------------------------------------------ signals


def late_rows(first: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """Rows entered after their day: first delivered later than ``entry_days_allowed`` after it."""
    allowed = plan.field_week.entry_days_allowed
    return (
        first.filter(pl.col("row_date").is_not_null())
        .with_columns(
            (pl.col("field_date") - pl.col("row_date")).dt.total_days().alias("days_late")
        )
        .filter(pl.col("days_late") > allowed)
        .select(
            "team_id",
            "field_date",
            "table",
            pl.col("key").alias("record_key"),
            "row_date",
            "days_late",
            "seq",
        )
        .sort("field_date", "team_id", "table", "record_key")
    )


def _team_counties(lottery: Lottery, counties: pl.DataFrame) -> pl.DataFrame:
    return (
        lottery.teams.select("team_id", pl.col("target_cities").str.split(CITY_SEP))
        .explode("target_cities")
        .select("team_id", pl.col("target_cities").str.strip_chars().alias("city_name"))
        .join(counties.select("county_code", "city_name"), on="city_name")
        .select("team_id", "county_code")
        .unique()
    )


def _signal(df: pl.DataFrame, signal: str, table: str | pl.Expr, detail: pl.Expr) -> pl.DataFrame:
    return df.select(
        pl.col("_by").alias("team_id"),
        pl.col("day"),
        pl.lit(signal).alias("signal"),
        (pl.lit(table) if isinstance(table, str) else table).alias("table"),
        pl.col("_shown").alias("record_key"),
        detail.alias("detail"),
    ).cast(_SIGNAL_SCHEMA)  # type: ignore[arg-type]


def signals(view: pl.DataFrame, first: pl.DataFrame, context: Context) -> pl.DataFrame:
    """Per team per day: late rows, visits outside the team's counties, visitors outside the
    team, rows of another team, and more households a day than a pair can visit.

    ``view``: the current versions; ``first``: :func:`arrivals`. The team is the
    one that delivered the current version; the day is the day the row is about.
    """
    plan = context.plan
    pieces = [pl.DataFrame(schema=_SIGNAL_SCHEMA)]
    late = late_rows(first, plan)
    pieces.append(
        late.select(
            "team_id",
            pl.col("field_date").alias("day"),
            pl.lit("late_entry").alias("signal"),
            "table",
            "record_key",
            pl.format(
                "{} 的记录于 {} 报送（晚 {} 天）", "row_date", "field_date", "days_late"
            ).alias("detail"),
        ).cast(_SIGNAL_SCHEMA)  # type: ignore[arg-type]
    )
    survey = decode(view, "household_survey").with_columns(
        key_expr("_key").alias("_shown"), pl.col("visit_date").alias("day")
    )
    pieces.append(
        _signal(
            survey.filter(pl.col("team_id") != pl.col("_by")),
            "other_team_row",
            "household_survey",
            pl.format("记录填写考核组 {}，由 {} 报送", "team_id", "_by"),
        )
    )
    visited = survey.filter(pl.col("visitors").is_not_null()).with_columns(
        pl.col("visitors")
        .str.split(schemas.VISITOR_SEP)
        .list.eval(pl.element().str.strip_chars())
        .list.filter(pl.element() != "")
        .list.sort()
        .alias("_v")
    )
    most = plan.field_week.pair_households_per_day_max
    load = (
        visited.group_by("_by", "day", pl.col("_v").list.join(schemas.VISITOR_SEP).alias("_shown"))
        .agg(pl.len().alias("households"))
        .filter(pl.col("households") > most)
    )
    pieces.append(
        _signal(
            load,
            "pair_overload",
            "household_survey",
            pl.format("{} 户（上限 {}）", "households", pl.lit(most)),
        )
    )
    if context.lottery is None:
        return pl.concat(pieces).sort("day", "team_id", "signal", "table", "record_key", "detail")
    members = context.lottery.members.select(
        pl.col("team_id").alias("_by"), pl.col("person_id").alias("_p"), pl.lit(True).alias("_in")
    ).unique()
    outsiders = (
        visited.explode("_v")
        .rename({"_v": "_p"})
        .join(members, on=["_by", "_p"], how="left")
        .filter(pl.col("_in").is_null())
    )
    pieces.append(
        _signal(
            outsiders,
            "visitor_not_in_team",
            "household_survey",
            pl.format("走访人员 {} 不是 {} 的成员", "_p", "_by"),
        )
    )
    assigned = _team_counties(context.lottery, context.counties).select(
        pl.col("team_id").alias("_by"), "county_code", pl.lit(True).alias("_in")
    )
    villages = context.sample["villages"].select("village_code", "county_code")
    projects = context.sample["projects"].select("project_id", "county_code")
    checks = decode(view, "project_checks").join(projects, on="project_id", how="inner")
    where = [
        survey.join(villages, on="village_code", how="inner").select(
            "_by", "day", pl.lit("household_survey").alias("table"), "_shown", "county_code"
        ),
        decode(view, "interviews").select(
            "_by",
            pl.col("date").alias("day"),
            pl.lit("interviews").alias("table"),
            key_expr("_key").alias("_shown"),
            "county_code",
        ),
        checks.select(
            "_by",
            pl.col("date").alias("day"),
            pl.lit("project_checks").alias("table"),
            key_expr("_key").alias("_shown"),
            "county_code",
        ),
    ]
    outside = (
        pl.concat(where)
        .filter(pl.col("county_code").is_not_null())
        .join(assigned, on=["_by", "county_code"], how="left")
        .filter(pl.col("_in").is_null())
    )
    pieces.append(
        _signal(
            outside,
            "outside_assignment",
            pl.col("table"),
            pl.format("县 {} 不在 {} 的考核范围", "county_code", "_by"),
        )
    )
    return pl.concat(pieces).sort("day", "team_id", "signal", "table", "record_key", "detail")


# ------------------------------------------------------------------ the view


@dataclass(frozen=True)
class LedgerView:
    """Everything the data desk reads about the field week as of one day."""

    as_of: dt.date | None
    entries: pl.DataFrame
    versions: pl.DataFrame
    current: pl.DataFrame
    field: Field
    changes: pl.DataFrame
    conflicts: pl.DataFrame
    media_problems: pl.DataFrame
    late: pl.DataFrame
    signals: pl.DataFrame
    rejects: pl.DataFrame
    arrivals: pl.DataFrame  # per entry: records, new, corrected, media files, rejects, late rows
    heads: pl.DataFrame  # field_date, seq, entry_hash: the chain head of each day


def day_heads(entries: pl.DataFrame) -> pl.DataFrame:
    """The last entry of each field day: its hash commits to everything before it."""
    return (
        entries.sort("seq")
        .group_by("field_date", maintain_order=True)
        .last()
        .select("field_date", "seq", "entry_hash")
        .sort("field_date")
    )


def load_view(ledger: Ledger, context: Context, as_of: dt.date | None = None) -> LedgerView:
    """The ledger as of the end of ``as_of`` (every day when None), with all its checks."""
    entries = ledger.entries()
    if as_of is not None:
        entries = entries.filter(pl.col("field_date") <= as_of)
    seqs = entries["seq"].implode()
    v = versions(ledger, as_of)
    now = current(v)
    first = arrivals(v)
    files = ledger.files().filter(pl.col("seq").is_in(seqs))
    media = ledger.media().filter(pl.col("seq").is_in(seqs))
    uses = ledger.uses()
    ch = changes(v, uses, context.plan)
    rejects = ledger.rejects().filter(pl.col("seq").is_in(seqs))
    late = late_rows(first, context.plan)
    firsts = first.group_by("seq").agg(pl.len().alias("new"))
    corrected = ch.group_by("seq").agg(pl.col("record_key").n_unique().alias("corrected"))
    per_entry = (
        entries.select("seq", "team_id", "field_date", "received_at", "n_records", "entry_hash")
        .join(firsts, on="seq", how="left")
        .join(corrected, on="seq", how="left")
        .join(
            files.filter(pl.col("role") == "media")
            .group_by("seq")
            .agg(pl.len().alias("media_files")),
            on="seq",
            how="left",
        )
        .join(rejects.group_by("seq").agg(pl.len().alias("rejects")), on="seq", how="left")
        .join(late.group_by("seq").agg(pl.len().alias("late_rows")), on="seq", how="left")
        .with_columns(
            pl.col("new", "corrected", "media_files", "rejects", "late_rows")
            .fill_null(0)
            .cast(pl.Int64)
        )
        .sort("field_date", "team_id", "seq")
    )
    return LedgerView(
        as_of,
        entries,
        v,
        now,
        as_field(now),
        ch,
        conflicts(v),
        media_problems(entries, files, media, first, context.plan),
        late,
        signals(now, first, context),
        rejects,
        per_entry,
        day_heads(entries),
    )


__all__ = [
    "MEDIA_PROBLEMS",
    "SIGNALS",
    "LedgerView",
    "arrivals",
    "day_heads",
    "late_rows",
    "load_view",
    "media_problems",
    "signals",
]
