"""The synthetic field week as the teams deliver it: one delivery per team and day, with media.

Over ~600 lines because the planted delivery faults (corrections, late rows,
missing and reused media, a tampered copy) share one week's split into deliveries.

Everything here is **synthetic demo data**. Plan 六(四): every evening of the
field week each team enters the day's questionnaires, interviews, project
checks and problems into the assessment information system and uploads the
recordings and photos; the next day's review (五(六)) updates the problems.
:func:`synthesize_deliveries` cuts the finished week of
:func:`xkaohe.synth.field.synthesize_field` into those daily deliveries
(DESIGN.md "Field ledger": ``deliveries/<team_id>/<YYYY-MM-DD>/``), so that
ingesting them all gives back exactly the field tables — and plants what
the data desk must notice (``planted``, for tests only):

* ``correction_after_review`` — questionnaires first delivered with other
  answers and corrected after their next-day review, and one problem whose
  suggestion was rewritten after its review;
* ``correction`` — one questionnaire corrected the next day (within review);
* ``late_entry`` — questionnaires delivered the day after the visit;
* ``missing_audio`` — one questionnaire delivered without its recording;
* ``reused`` — one photo delivered for two households;
* ``visitor_not_in_team`` — one household visited with a person from another team;
* ``pair_overload`` — one visiting pair given more households in a day than the
  plan's ``field_week.pair_households_per_day_max``;
* ``tampered`` — a copy of one delivered table with one cell changed, to show
  ``verify-ledger`` catching a stored file edited after ingest.

Problems are delivered on the day raised (review pending) and again on their
review day with the outcome, as 五(六) has it — so some deliveries come after
the field week, up to the last review day. Experiences arrive on the last
field day. Each questionnaire and interview has a short WAV recording (8 kHz,
0.1 s, made with :mod:`wave`) and a 16x16 JPEG photo (a baseline JPEG of four
flat blocks, encoded here): small, valid, and different for every record.
Household visits are shared among the team's lottery pairs (``pairs.csv``).
All randomness derives from the seed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from xkaohe import schemas
from xkaohe.draw.prn import seeded_rng
from xkaohe.draw.sampling import SamplePackage
from xkaohe.inputs import CITY_SEP, Lottery
from xkaohe.plan import Plan

__all__ = [
    "Delivery",
    "FieldWeek",
    "delivery_files",
    "jpeg_bytes",
    "synthesize_deliveries",
    "wav_bytes",
]

# Shape of the planted problems (not plan numbers).
_CORRECTED_AFTER_REVIEW, _LATE = 2, 5
_AUDIO_RATE, _AUDIO_SAMPLES = 8000, 800


@dataclass(frozen=True)
class Delivery:
    """One team's export for one day: field tables, media files and their manifest."""

    team_id: str
    day: dt.date
    tables: dict[str, pl.DataFrame]
    media: dict[str, bytes]  # path under media/ -> content
    manifest: pl.DataFrame  # file, sha256, kind, table, record_key


@dataclass(frozen=True)
class FieldWeek:
    """The field tables as delivered (with visitors), the deliveries, and what was planted."""

    field: dict[str, pl.DataFrame]
    deliveries: list[Delivery]
    tampered: list[Delivery]
    planted: pl.DataFrame  # kind, team_id, day, table, record_key, detail


# ------------------------------------------------------------------ media bytes


def _wav_header(frames: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(_AUDIO_RATE)
        w.writeframes(bytes(frames))
    return buf.getvalue()[:-frames]


_WAV_HEADER = _wav_header(_AUDIO_SAMPLES)  # every recording has the same length


def wav_bytes(digests: Sequence[bytes], rng: np.random.Generator) -> list[bytes]:
    """0.1 s 8-bit mono WAVs: a tone set by each digest plus faint noise (unique per record)."""
    t = np.arange(_AUDIO_SAMPLES) / _AUDIO_RATE
    freq = np.array([300 + int.from_bytes(d[:2], "big") % 600 for d in digests], dtype=float)
    tone = 128 + 60 * np.sin(2 * np.pi * freq[:, None] * t[None, :])
    noise = rng.integers(-3, 4, (len(digests), _AUDIO_SAMPLES))
    samples = np.clip(tone + noise, 0, 255).astype(np.uint8)
    return [_WAV_HEADER + row.tobytes() for row in samples]


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def _huffman(bits: Sequence[int], values: Sequence[int]) -> dict[int, str]:
    """Canonical Huffman codes (ITU T.81 Annex C) from code counts per length."""
    codes: dict[int, str] = {}
    code, k = 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[k]] = format(code, f"0{length}b")
            code += 1
            k += 1
        code <<= 1
    return codes


_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)  # T.81 Table K.3 (luminance DC)
_DC_CODES = _huffman(_DC_BITS, range(12))


def jpeg_bytes(levels: Sequence[int], comment: bytes) -> bytes:
    """A 16x16 grayscale baseline JPEG of four flat 8x8 blocks (grey ``levels``, 0-255).

    Only DC coefficients are coded (every AC run ends at once); the
    quantisation table is all ones, so a flat block's DC is 8 x (level - 128).
    ``comment`` goes into a COM segment.
    """
    if len(levels) != 4:
        raise ValueError("four block levels expected")
    bits, previous = [], 0
    for level in levels:
        dc = 8 * (int(level) - 128)
        diff, previous = dc - previous, dc
        size = abs(diff).bit_length()
        bits.append(_DC_CODES[size])
        if size:
            bits.append(format(diff if diff > 0 else diff + (1 << size) - 1, f"0{size}b"))
        bits.append("0")  # end of block: the one code of the AC table
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    data = bytearray()
    for i in range(0, len(stream), 8):
        byte = int(stream[i : i + 8], 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0x00)  # byte stuffing
    return b"".join(
        [
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xFE, comment),
            _segment(0xDB, b"\x00" + bytes([1] * 64)),
            _segment(0xC0, bytes([8, 0, 16, 0, 16, 1, 1, 0x11, 0])),
            _segment(0xC4, bytes([0x00, *_DC_BITS, *range(12)])),
            _segment(0xC4, bytes([0x10, 1, *([0] * 15), 0x00])),
            _segment(0xDA, bytes([1, 1, 0x00, 0, 63, 0])),
            bytes(data),
            b"\xff\xd9",
        ]
    )


def _photo(digest: bytes) -> bytes:
    return jpeg_bytes(list(digest[:4]), b"xkaohe synthetic demo photo " + digest.hex().encode())


# ------------------------------------------------------------------ who and when


def _team_of_county(lottery: Lottery, counties: pl.DataFrame) -> pl.DataFrame:
    return (
        lottery.teams.select("team_id", pl.col("target_cities").str.split(CITY_SEP))
        .explode("target_cities")
        .select("team_id", pl.col("target_cities").str.strip_chars().alias("city_name"))
        .join(counties.select("county_code", "city_name"), on="city_name")
        .unique("county_code", keep="first")
        .select("county_code", "team_id")
    )


def _visitors(survey: pl.DataFrame, lottery: Lottery) -> pl.DataFrame:
    """Each questionnaire's visiting pair: the team's pairs in turn, within a day, in the order
    of ``survey`` (sorted by village and household)."""
    pairs = lottery.pairs.sort("team_id", "pair_no").select(
        "team_id",
        pl.int_range(pl.len(), dtype=pl.Int64).over("team_id").alias("_slot"),
        pl.concat_str("person_a", "person_b", separator=schemas.VISITOR_SEP).alias("visitors"),
    )
    n_pairs = pairs.group_by("team_id").agg(pl.len().cast(pl.Int64).alias("_n"))
    return (
        survey.drop("visitors", strict=False)
        .join(n_pairs, on="team_id", how="left", maintain_order="left")
        .with_columns(
            (
                pl.int_range(pl.len(), dtype=pl.Int64).over("team_id", "visit_date") % pl.col("_n")
            ).alias("_slot")
        )
        .join(pairs, on=["team_id", "_slot"], how="left", maintain_order="left")
        .drop("_n", "_slot")
    )


def _media_key(table: str) -> pl.Expr:
    cols = schemas.MEDIA_KEYS[table]
    return pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in cols], separator=schemas.KEY_SEP
    )


def _days(day: pl.Expr, n: int) -> pl.Expr:
    return day + pl.duration(days=n)


def _plant_visits(
    survey: pl.DataFrame, lottery: Lottery, most: int, planted: list[dict[str, object]]
) -> pl.DataFrame:
    """One pair visiting more households in a day than ``most``; one visitor from another team."""
    load = survey.group_by("team_id", "visit_date", "visitors").len()
    t, d, busiest, n = load.sort(
        ["len", "team_id", "visit_date", "visitors"], descending=[True, False, False, False]
    ).row(0)
    others = survey.filter(
        (pl.col("team_id") == t) & (pl.col("visit_date") == d) & (pl.col("visitors") != busiest)
    )
    moved = others.head(max(0, most + 1 - n)).select("village_code", "household_id")
    survey = (
        survey.join(
            moved.with_columns(pl.lit(busiest).alias("_v")),
            on=["village_code", "household_id"],
            how="left",
        )
        .with_columns(pl.coalesce("_v", "visitors").alias("visitors"))
        .drop("_v")
    )
    planted.append(
        _plant("pair_overload", t, d, "household_survey", busiest, f"{n + moved.height}")
    )
    outsider = lottery.members.filter(pl.col("team_id") != t)["person_id"].sort()[0]
    target = survey.filter((pl.col("team_id") == t) & (pl.col("visitors") != busiest)).row(
        0, named=True
    )
    mate = str(target["visitors"]).split(schemas.VISITOR_SEP)[0]
    hit = (pl.col("village_code") == target["village_code"]) & (
        pl.col("household_id") == target["household_id"]
    )
    key = f"{target['village_code']}/{target['household_id']}"
    planted.append(
        _plant("visitor_not_in_team", t, target["visit_date"], "household_survey", key, outsider)
    )
    return survey.with_columns(
        pl.when(hit)
        .then(pl.lit(f"{mate}{schemas.VISITOR_SEP}{outsider}"))
        .otherwise(pl.col("visitors"))
        .alias("visitors")
    )


def _plant(
    kind: str, team: object, day: object, table: str, key: str, detail: str
) -> dict[str, object]:
    return {
        "kind": kind,
        "team_id": team,
        "day": day,
        "table": table,
        "record_key": key,
        "detail": detail,
    }


def _pick(df: pl.DataFrame, n: int, rng: np.random.Generator) -> pl.DataFrame:
    """``n`` rows of ``df`` at random (reproducibly: ``df`` is sorted first)."""
    if df.height == 0 or n == 0:
        return df.head(0)
    idx = np.sort(rng.choice(df.height, size=min(n, df.height), replace=False))
    out: pl.DataFrame = df[[int(i) for i in idx]]
    return out


_SWAP_APPROVAL = {"approve": "basic", "basic": "approve", "disapprove": "basic"}


def _survey_versions(
    survey: pl.DataFrame, plan: Plan, rng: np.random.Generator, planted: list[dict[str, object]]
) -> pl.DataFrame:
    """Each delivered version of the questionnaires (``_team``, ``_day``)."""
    end, review = plan.timeline.field_end, plan.review.days_to_review
    key = ["village_code", "household_id"]
    rows = survey.with_columns(pl.col("team_id").alias("_team"), pl.col("visit_date").alias("_day"))
    early = rows.filter(pl.col("visit_date") <= end - dt.timedelta(days=review + 1)).sort(key)
    after = _pick(early, _CORRECTED_AFTER_REVIEW + 1, rng)
    within, after = after.head(1), after.tail(after.height - 1)
    late = _pick(
        rows.filter(pl.col("visit_date") < end)
        .join(after.select(key), on=key, how="anti")
        .join(within.select(key), on=key, how="anti")
        .sort(key),
        _LATE,
        rng,
    )
    first_after = after.with_columns(
        (pl.col("income_per_capita_yuan") * 1.3).round(0),
        pl.col("approval").replace_strict(_SWAP_APPROVAL),
    )
    first_within = within.with_columns(pl.col("household_size") + 1)
    corrected = pl.concat([after.select(key), within.select(key), late.select(key)])
    finals = rows.join(corrected, on=key, how="anti")
    for df, lag, kind in (
        (after, review + 1, "correction_after_review"),
        (within, review, "correction"),
        (late, 1, "late_entry"),
    ):
        finals = pl.concat(
            [finals, df.with_columns(_days(pl.col("visit_date"), lag).alias("_day"))]
        )
        for r in df.iter_rows(named=True):
            planted.append(
                _plant(
                    kind,
                    r["team_id"],
                    r["visit_date"] + dt.timedelta(days=lag),
                    "household_survey",
                    f"{r['village_code']}/{r['household_id']}",
                    f"visited {r['visit_date']}",
                )
            )
    return pl.concat([finals, first_after, first_within])


def _problem_versions(
    problems: pl.DataFrame, plan: Plan, planted: list[dict[str, object]]
) -> pl.DataFrame:
    """Problems on the day raised (review pending), again on their review day (五(六)); one
    rewritten two days after its review."""
    end = plan.timeline.field_end
    p = problems.with_columns(pl.col("team_id").alias("_team"))
    reviewed = pl.col("needs_review") & pl.col("review_date").is_not_null()
    raised = p.filter(reviewed).with_columns(
        pl.col("raised_date").alias("_day"),
        pl.lit(None, pl.Date).alias("review_date"),
        pl.lit("pending").alias("review_outcome"),
    )
    final = p.with_columns(
        pl.when(reviewed).then(pl.col("review_date")).otherwise(pl.col("raised_date")).alias("_day")
    )
    late_fix = (
        p.filter(
            reviewed
            & (pl.col("review_outcome") == "confirmed")
            & pl.col("suggestion").is_not_null()
            & (pl.col("review_date") <= end - dt.timedelta(days=2))
        )
        .sort("problem_id")
        .head(1)
    )
    if late_fix.height:
        r = late_fix.row(0, named=True)
        at_review = late_fix.with_columns(
            pl.col("review_date").alias("_day"), pl.lit("（待补充）").alias("suggestion")
        )
        fixed = late_fix.with_columns(_days(pl.col("review_date"), 2).alias("_day"))
        final = pl.concat([final.filter(pl.col("problem_id") != r["problem_id"]), at_review, fixed])
        raised = raised.with_columns(  # written without a suggestion until after the review
            pl.when(pl.col("problem_id") == r["problem_id"])
            .then(pl.lit("（待补充）"))
            .otherwise(pl.col("suggestion"))
            .alias("suggestion")
        )
        planted.append(
            _plant(
                "correction_after_review",
                r["team_id"],
                r["review_date"] + dt.timedelta(days=2),
                "problems",
                r["problem_id"],
                f"reviewed {r['review_date']}",
            )
        )
    return pl.concat([raised, final.select(raised.columns)])


def _media(
    table: str, firsts: pl.DataFrame, seed: str, rng: np.random.Generator
) -> tuple[pl.DataFrame, dict[str, bytes]]:
    """A recording and a photo for each record named in ``firsts`` (media key, _team, _day)."""
    named = firsts.select("media_key", "_team", "_day").rows()
    digests = [
        hashlib.sha256(f"{seed}:media:{table}:{key}".encode()).digest() for key, _, _ in named
    ]
    sounds = wav_bytes(digests, rng)
    rows, blobs = [], {}
    for (key, team, day), digest, sound in zip(named, digests, sounds, strict=True):
        for kind, ext, data in (("audio", "wav", sound), ("photo", "jpg", _photo(digest))):
            name = f"{kind}/{digest.hex()[:20]}.{ext}"
            blobs[name] = data
            rows.append((team, day, name, hashlib.sha256(data).hexdigest(), kind, table, key))
    manifest = pl.DataFrame(
        rows,
        schema={
            "_team": pl.String,
            "_day": pl.Date,
            "file": pl.String,
            "sha256": pl.String,
            "kind": pl.String,
            "table": pl.String,
            "record_key": pl.String,
        },
        orient="row",
    )
    return manifest, blobs


def synthesize_deliveries(
    field: dict[str, pl.DataFrame],
    counties: pl.DataFrame,
    sample: SamplePackage,
    lottery: Lottery,
    plan: Plan,
    seed: str,
) -> FieldWeek:
    """Cut the finished field week into daily deliveries with media, planting the faults above.

    Parameters
    ----------
    field
        The five field tables of :func:`xkaohe.synth.field.synthesize_field`.
    counties
        The frame's counties (``county_code``, ``city_name``).
    sample
        The sample the field returns answer (its projects' counties).
    lottery
        The drawn teams, members and household-visit pairs.
    plan
        The plan: field week, review days, the pair limit.
    seed
        Run seed; every random choice derives from it.

    Returns
    -------
    FieldWeek
        ``field``: the field tables as the deliveries add up to (the survey
        with its visitors); ``deliveries`` in (day, team) order; ``tampered``;
        ``planted``.
    """
    rng = seeded_rng(seed, "synth-deliveries")
    planted: list[dict[str, object]] = []
    most = plan.field_week.pair_households_per_day_max
    survey = _visitors(field["household_survey"].sort("village_code", "household_id"), lottery)
    survey = _plant_visits(survey, lottery, most, planted)
    survey = survey.select([c.name for c in schemas.HOUSEHOLD_SURVEY.columns])
    final = dict(field) | {"household_survey": survey}

    teams = _team_of_county(lottery, counties)
    city_team = (
        teams.join(counties.select("county_code", "city_name"), on="county_code")
        .unique("city_name", keep="first")
        .select("city_name", "team_id")
    )
    projects = sample.projects.select("project_id", "county_code")
    versions = {
        "household_survey": _survey_versions(survey, plan, rng, planted),
        "interviews": field["interviews"]
        .join(teams.rename({"team_id": "_team"}), on="county_code", how="left")
        .with_columns(pl.col("date").alias("_day")),
        "project_checks": field["project_checks"]
        .join(projects, on="project_id", how="left")
        .join(teams.rename({"team_id": "_team"}), on="county_code", how="left")
        .with_columns(pl.col("date").alias("_day")),
        "problems": _problem_versions(field["problems"], plan, planted),
        "experiences": field["experiences"]
        .join(city_team.rename({"team_id": "_team"}), on="city_name", how="left")
        .with_columns(pl.lit(plan.timeline.field_end).alias("_day")),
    }
    if "claims" in field:  # claims (issue 13): a county's by its team, a city's by the city's team
        versions["claims"] = (
            field["claims"]
            .join(teams.rename({"team_id": "_county_team"}), on="county_code", how="left")
            .join(city_team.rename({"team_id": "_city_team"}), on="city_name", how="left")
            .with_columns(
                pl.coalesce("_county_team", "_city_team").alias("_team"),
                pl.col("date").alias("_day"),
            )
        )
    manifests: list[pl.DataFrame] = []
    blobs: dict[str, bytes] = {}
    for table in plan.field_week.media_required:
        v = versions[table].with_columns(_media_key(table).alias("media_key"))
        firsts = v.sort("media_key", "_day").unique("media_key", keep="first", maintain_order=True)
        manifest, files = _media(table, firsts, seed, rng)
        manifests.append(manifest)
        blobs |= files
    manifest = pl.concat(manifests)
    manifest, blobs = _plant_media(manifest, blobs, planted)

    deliveries = []
    days = pl.concat([v.select("_team", "_day") for v in versions.values()]).unique()
    for team, day in days.sort("_day", "_team").iter_rows():
        tables = {}
        for spec in schemas.FIELD_TABLES:
            rows = versions[spec.name].filter((pl.col("_team") == team) & (pl.col("_day") == day))
            if rows.height:
                tables[spec.name] = rows.select([c.name for c in spec.columns]).sort(
                    list(spec.unique), nulls_last=False
                )
        mine = manifest.filter((pl.col("_team") == team) & (pl.col("_day") == day)).drop(
            "_team", "_day"
        )
        media = {f: blobs[f] for f in mine["file"].unique().sort().to_list()}
        deliveries.append(
            Delivery(team, day, tables, media, mine.sort("table", "record_key", "kind"))
        )
    tampered = _tamper(deliveries, plan, planted)
    return FieldWeek(
        final,
        deliveries,
        tampered,
        pl.DataFrame(
            planted,
            schema={
                "kind": pl.String,
                "team_id": pl.String,
                "day": pl.Date,
                "table": pl.String,
                "record_key": pl.String,
                "detail": pl.String,
            },
        ).sort("kind", "day", "team_id", "record_key"),
    )


def _plant_media(
    manifest: pl.DataFrame, blobs: dict[str, bytes], planted: list[dict[str, object]]
) -> tuple[pl.DataFrame, dict[str, bytes]]:
    """Drop one questionnaire's recording; give a second household the first one's photo."""
    photos = manifest.filter(
        (pl.col("table") == "household_survey") & (pl.col("kind") == "photo")
    ).sort("_day", "_team", "record_key")
    # two households of one delivery: the first one's photo is copied for the second
    same = photos.filter(pl.len().over("_team", "_day") >= 3)
    a, b, c = same.row(0, named=True), same.row(1, named=True), same.row(2, named=True)
    blobs[b["file"]] = blobs[a["file"]]
    manifest = manifest.with_columns(
        pl.when(pl.col("file") == b["file"])
        .then(pl.lit(a["sha256"]))
        .otherwise(pl.col("sha256"))
        .alias("sha256")
    )
    planted.append(
        _plant(
            "reused", b["_team"], b["_day"], "household_survey", b["record_key"], a["record_key"]
        )
    )
    planted.append(
        _plant(
            "reused", a["_team"], a["_day"], "household_survey", a["record_key"], b["record_key"]
        )
    )
    # a third household of that delivery lost its recording
    gone = manifest.filter(
        (pl.col("record_key") == c["record_key"])
        & (pl.col("kind") == "audio")
        & (pl.col("table") == "household_survey")
    )["file"][0]
    del blobs[gone]
    planted.append(
        _plant("missing_audio", c["_team"], c["_day"], "household_survey", c["record_key"], "")
    )
    return manifest.filter(pl.col("file") != gone), blobs


def _tamper(
    deliveries: list[Delivery], plan: Plan, planted: list[dict[str, object]]
) -> list[Delivery]:
    """A copy of one delivered questionnaire table with one income changed (for the tamper demo)."""
    day = plan.timeline.field_start + dt.timedelta(days=2)
    d = next(x for x in deliveries if x.day >= day and "household_survey" in x.tables)
    survey = d.tables["household_survey"]
    first = survey.row(0, named=True)
    edited = survey.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.col("income_per_capita_yuan") * 2)
        .otherwise(pl.col("income_per_capita_yuan"))
        .alias("income_per_capita_yuan")
    )
    planted.append(
        _plant(
            "tampered",
            d.team_id,
            d.day,
            "household_survey",
            f"{first['village_code']}/{first['household_id']}",
            "income_per_capita_yuan doubled in the stored copy",
        )
    )
    return [Delivery(d.team_id, d.day, {"household_survey": edited}, {}, d.manifest.head(0))]


def delivery_files(
    deliveries: Sequence[Delivery],
) -> Iterator[tuple[str, dt.date, dict[str, pl.DataFrame], dict[str, bytes]]]:
    """Deliveries as :func:`xkaohe.io.deliveries.write_deliveries` takes them (manifest: media)."""
    for d in deliveries:
        manifest = {"media": d.manifest} if d.manifest.height else {}
        yield d.team_id, d.day, d.tables | manifest, d.media
