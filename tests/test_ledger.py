"""The field ledger (issue 12; DESIGN.md "Field ledger"): ingest, versions, tamper evidence,
media and signals, on the synthetic week and on small crafted deliveries."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xkaohe.cli import main
from xkaohe.errors import InputError, VerificationError
from xkaohe.field import ledger as fl
from xkaohe.field import week as fw
from xkaohe.io import deliveries as io_deliveries
from xkaohe.io import ledger as io_ledger
from xkaohe.io.field import load_field
from xkaohe.io.ledger import Ledger
from xkaohe.io.render import footer_html
from xkaohe.report import ledger as report
from xkaohe.run.commands import (
    DEFAULT_PLAN,
    field_returns,
    ingest_week,
    note_ledger_use,
    run_indicators,
    run_ingest,
    run_lottery,
    run_synth,
    run_verify_ledger,
)
from xkaohe.run.sample import run_sample
from xkaohe.synth.deliveries import jpeg_bytes

FIXED = dt.datetime(2019, 11, 24, 21, 0, tzinfo=dt.UTC)
_BUILT: dict[str, Path] = {}


def fixed_clock() -> dt.datetime:
    return FIXED


def synthetic_run(factory: pytest.TempPathFactory) -> Path:
    """One synthetic run (frame, sample, lottery, deliveries) per session, shared read-only."""
    key = str(factory.getbasetemp())
    if key not in _BUILT:
        run = factory.mktemp("ledger-week")
        run_synth(run, "small", "demo", DEFAULT_PLAN)
        run_sample(run / "frame", DEFAULT_PLAN, "demo", run / "sample", field_lists=False)
        run_lottery(run / "roster", DEFAULT_PLAN, "demo", run / "lottery")
        _BUILT[key] = run
    return _BUILT[key]


def fresh_run(source: Path, where: Path) -> Path:
    """A new run folder using ``source``'s sample and lottery (its frame stays where it is)."""
    where.mkdir(parents=True, exist_ok=True)
    for part in ("sample", "lottery"):
        shutil.copytree(source / part, where / part)
    return where


def delivery(run: Path, team: str, day: str) -> Path:
    return run / "deliveries" / team / day


def planted(run: Path) -> pl.DataFrame:
    return pl.read_csv(run / "truth" / "deliveries.csv", try_parse_dates=True)


def snapshot(run: Path) -> dict[str, object]:
    """Everything the ledger holds: every table's rows and every stored object."""
    db = sqlite3.connect(run / "ledger" / "ledger.sqlite")
    try:
        made = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables = {
            t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() if t in made else []
            for t in ("entries", "files", "records", "media", "rejects")
        }
    finally:
        db.close()
    objects = sorted(
        (p.name, io_deliveries.sha256_of(p))
        for p in (run / "ledger" / "objects").rglob("*")
        if p.is_file()
    )
    return {"tables": tables, "objects": objects}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_run(tmp_path_factory)


@pytest.fixture(scope="module")
def week(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole synthetic week ingested day by day (read-only for the tests)."""
    run = fresh_run(source, tmp_path_factory.mktemp("week") / "run")
    shutil.copytree(source / "deliveries", run / "deliveries")
    ingest_week(run)
    return run


@pytest.fixture(scope="module")
def view(week: Path) -> fw.LedgerView:
    with Ledger.open_read(week) as ledger:
        return fw.load_view(ledger, fl.load_context(week))


# ------------------------------------------------------------------ the week


def test_the_week_is_recorded_entry_by_entry_and_verifies(week: Path) -> None:
    folders = sorted(week.glob("deliveries/*/*"))
    result = run_verify_ledger(week)
    assert result.problems == []
    assert result.entries == len(folders)
    days = sorted({p.name for p in folders})
    assert [d.isoformat() for d in result.heads["field_date"]] == days
    assert main(["verify-ledger", "--run", str(week)]) == 0
    # every file is stored once: the reused photo (one content, two names) is one object
    with Ledger.open_read(week) as ledger:
        files = ledger.files()
    stored = list((week / "ledger" / "objects").rglob("*.*"))
    assert len(stored) == files.select("sha256").n_unique() < files.height


def test_the_current_view_is_the_field_folder(week: Path, source: Path) -> None:
    field, head = field_returns(source / "field", week)
    assert head is not None
    folder = load_field(source / "field")
    for name, df in folder.tables().items():
        ledger_rows = fl.table_records(name, field.tables()[name]).select(
            "record_key", "record_hash"
        )
        folder_rows = fl.table_records(name, df).select("record_key", "record_hash")
        assert ledger_rows.sort("record_key").equals(folder_rows.sort("record_key")), name


def test_a_field_folder_that_disagrees_stops_indicators(
    week: Path, source: Path, tmp_path: Path
) -> None:
    edited = tmp_path / "field"
    shutil.copytree(source / "field", edited)
    survey = pl.read_csv(edited / "household_survey.csv", infer_schema=False)
    survey = survey.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("1.0"))
        .otherwise(pl.col("income_per_capita_yuan"))
        .alias("income_per_capita_yuan")
    )
    survey.write_csv(edited / "household_survey.csv")
    with pytest.raises(InputError, match=r"1 record\(s\) with other content: household_survey"):
        field_returns(edited, week)


def test_reingesting_a_day_changes_nothing_and_says_so(week: Path, tmp_path: Path) -> None:
    run = fresh_run(week, tmp_path / "run")
    day = sorted(week.glob("deliveries/*/2019-11-25"))
    first = run_ingest(run, day, now=fixed_clock)
    before = snapshot(run)
    again = run_ingest(run, day, now=fixed_clock)
    assert all(r.identical for r in again)
    assert [r.seq for r in again] == [r.seq for r in first]
    assert snapshot(run) == before


def test_every_planted_media_and_late_entry_problem_is_listed(
    view: fw.LedgerView, source: Path
) -> None:
    truth = planted(source)
    media = view.media_problems
    for kind in ("missing_audio", "reused"):
        want = set(truth.filter(pl.col("kind") == kind)["record_key"])
        got = set(media.filter(pl.col("problem") == kind)["record_key"])
        assert want and want == got, kind
    late = set(truth.filter(pl.col("kind") == "late_entry")["record_key"])
    assert late == set(view.late["record_key"])
    signals = view.signals
    for kind in ("visitor_not_in_team", "pair_overload"):
        want = set(truth.filter(pl.col("kind") == kind)["record_key"])
        assert want == set(signals.filter(pl.col("signal") == kind)["record_key"]), kind


def test_corrections_are_listed_cell_by_cell_with_their_review_state(
    view: fw.LedgerView, source: Path
) -> None:
    truth = planted(source)
    corrections = view.changes.filter(~pl.col("review_result"))
    after = truth.filter(pl.col("kind") == "correction_after_review")
    within = truth.filter(pl.col("kind") == "correction")
    assert set(corrections["record_key"]) == set(after["record_key"]) | set(within["record_key"])
    assert corrections.filter(pl.col("record_key").is_in(after["record_key"].implode()))[
        "reviewed"
    ].all()
    assert not corrections.filter(pl.col("record_key").is_in(within["record_key"].implode()))[
        "reviewed"
    ].any()
    size = corrections.filter(pl.col("column") == "household_size").row(0, named=True)
    assert int(size["old"]) == int(size["new"]) + 1
    reviews = view.changes.filter(pl.col("review_result"))
    assert set(reviews["column"]) <= {"review_date", "review_outcome"}
    assert reviews.height > 0


def test_the_progress_report_as_of_a_day_sees_only_that_far(week: Path) -> None:
    early = report.load_desk(week, "2019-11-25")
    assert early.view is not None
    assert early.view.entries["field_date"].max() == dt.date(2019, 11, 25)
    assert early.view.heads.height == 2
    html = report.summary_html(early)
    assert early.view.heads["entry_hash"][-1] in html
    assert report.arrivals(early).columns == ["考核组", "11月24日", "11月25日"]
    everything = report.load_desk(week)
    assert everything.view is not None
    assert everything.view.entries.height > early.view.entries.height
    for table in (
        report.corrections_table(everything),
        report.media_table(everything),
        report.signals_table(everything),
        report.heads_table(everything),
    ):
        assert table.height > 0
    nothing = report.load_desk(week.parent / "no-such-run")
    assert "尚无" in report.summary_html(nothing)


def test_report_footers_carry_the_chain_head_of_each_day(week: Path) -> None:
    footer = footer_html(week)
    with Ledger.open_read(week) as ledger:
        heads = fw.day_heads(ledger.entries())
    for h in heads["entry_hash"]:
        assert h[:16] in footer


# ------------------------------------------------------------------ tampering


@pytest.fixture
def small(source: Path, tmp_path: Path) -> Path:
    """Two days of two teams in a fresh run, with results recorded as a use of the ledger."""
    run = fresh_run(source, tmp_path / "run")
    paths = [delivery(source, t, d) for d in ("2019-11-24", "2019-11-25") for t in ("T01", "T02")]
    run_ingest(run, [p for p in paths if p.is_dir()], now=fixed_clock)
    assert run_verify_ledger(run).problems == []
    return run


def _sql(run: Path, *statements: str) -> None:
    db = sqlite3.connect(run / "ledger" / "ledger.sqlite", isolation_level=None)
    try:
        for s in statements:
            db.execute(s)
    finally:
        db.close()


def _drop_triggers() -> list[str]:
    return [f"DROP TRIGGER {t}" for t in io_ledger.TRIGGERS]


def _object(run: Path, seq: int, path: str) -> Path:
    db = sqlite3.connect(run / "ledger" / "ledger.sqlite")
    sha = db.execute("SELECT sha256 FROM files WHERE seq=? AND path=?", (seq, path)).fetchone()[0]
    db.close()
    return run / "ledger" / "objects" / io_ledger.object_name(sha, path)


def _insert_object(run: Path) -> None:
    (run / "ledger" / "objects" / "zz").mkdir()
    (run / "ledger" / "objects" / "zz" / "extra.wav").write_bytes(b"RIFF")


def _rewrite(obj: Path, data: bytes) -> None:
    os.chmod(obj, 0o644)
    obj.write_bytes(data)


TAMPERING: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "record",
        lambda run: _sql(
            run,
            *_drop_triggers(),
            'UPDATE records SET content = replace(content, \'"approval":"approve"\', '
            '\'"approval":"basic"\') WHERE seq = 2',
        ),
        r"entry 2 \(T02 2019-11-24\): record\(s\) edited after ingest",
    ),
    (
        "entry",
        lambda run: _sql(
            run, *_drop_triggers(), "UPDATE entries SET team_id = 'T09' WHERE seq = 2"
        ),
        r"entry 2 \(T09 2019-11-24\) was edited",
    ),
    (
        "deleted-entry",
        lambda run: _sql(run, *_drop_triggers(), "DELETE FROM entries WHERE seq = 2"),
        r"entry 2 is missing: it was deleted",
    ),
    (
        "reordered",
        lambda run: _sql(
            run,
            *_drop_triggers(),
            "UPDATE entries SET seq = -2 WHERE seq = 2",
            "UPDATE entries SET seq = 2 WHERE seq = 3",
            "UPDATE entries SET seq = 3 WHERE seq = -2",
        ),
        r"out of order",
    ),
    (
        "inserted-entry",
        lambda run: _sql(
            run,
            *_drop_triggers(),
            "UPDATE entries SET seq = -seq WHERE seq >= 3",
            "UPDATE entries SET seq = 1 - seq WHERE seq < 0",
            "INSERT INTO entries SELECT 3, team_id, field_date, received_at, source, content_hash, "
            "records_hash, n_records, prev_hash, entry_hash FROM entries WHERE seq = 4",
        ),
        r"both link to the same predecessor: one of them was inserted",
    ),
    (
        "stored-file",
        lambda run: _rewrite(_object(run, 1, "household_survey.csv"), b"household_id\n1\n"),
        r"entry 1 \(T01 2019-11-24\): stored file household_survey.csv .* was edited after ingest",
    ),
    (
        "deleted-file",
        lambda run: _object(run, 1, "household_survey.csv").unlink(),
        r"stored file household_survey.csv .* was deleted",
    ),
    (
        "inserted-file",
        lambda run: _insert_object(run),
        r"stored file objects/zz/extra.wav is not in the ledger: it was inserted",
    ),
    (
        "truncated",
        lambda run: _sql(run, *_drop_triggers(), "DELETE FROM entries WHERE seq = 4"),
        r"recorded the chain head .* \(entry 4\), which is not in the ledger",
    ),
]


@pytest.mark.parametrize(("how", "expected"), [pytest.param(f, m, id=i) for i, f, m in TAMPERING])
def test_verify_names_what_was_changed(
    small: Path, how: Callable[[Path], None], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with Ledger.create(small) as ledger:  # a recorded use: the results saw entry 4
        seq, head = ledger.head()
        ledger.add_use("results", seq, head, FIXED)
    how(small)
    with pytest.raises(VerificationError, match=expected):
        run_verify_ledger(small)
    assert main(["verify-ledger", "--run", str(small)]) == 2
    assert "was changed" in capsys.readouterr().err


def test_the_tampered_demo_copy_is_caught(source: Path, tmp_path: Path) -> None:
    truth = planted(source).filter(pl.col("kind") == "tampered").row(0, named=True)
    run = fresh_run(source, tmp_path / "run")
    original = delivery(source, truth["team_id"], truth["day"].isoformat())
    run_ingest(run, [original], now=fixed_clock)
    edited = source / "deliveries-tampered" / truth["team_id"] / truth["day"].isoformat()
    _rewrite(
        _object(run, 1, "household_survey.csv"), (edited / "household_survey.csv").read_bytes()
    )
    with pytest.raises(VerificationError, match=r"household_survey.csv .* was edited after ingest"):
        run_verify_ledger(run)


def test_the_ledger_refuses_updates_and_deletes(small: Path) -> None:
    for statement in ("UPDATE entries SET team_id = 'X'", "DELETE FROM records"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            _sql(small, statement)


# ------------------------------------------------------------------ deliveries


def copy_delivery(source: Path, team: str, day: str, to: Path) -> Path:
    target = to / team / day
    shutil.copytree(delivery(source, team, day), target)
    return target


def test_a_zip_is_the_same_delivery_as_its_folder(source: Path, tmp_path: Path) -> None:
    run = fresh_run(source, tmp_path / "run")
    folder = delivery(source, "T01", "2019-11-24")
    archive = tmp_path / "zips" / "T01" / "2019-11-24.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, "2019-11-24/" + p.relative_to(folder).as_posix())
    (first,) = run_ingest(run, [archive], now=fixed_clock)
    assert not first.identical and first.media > 0
    (second,) = run_ingest(run, [folder], now=fixed_clock)
    assert second.identical and second.seq == first.seq


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        pytest.param({"../evil.csv": b"x"}, "without '..'", id="parent"),
        pytest.param({"/etc/evil.csv": b"x"}, "relative file names", id="absolute"),
        pytest.param({"media/big.wav": bytes(20 << 20)}, "a file of at most", id="bomb"),
        pytest.param({"a.csv": b"x", "A.CSV": b"y"}, "each file name once", id="twice"),
    ],
)
def test_unsafe_zips_are_refused(
    source: Path, tmp_path: Path, members: dict[str, bytes], expected: str
) -> None:
    run = fresh_run(source, tmp_path / "run")
    archive = _zip(tmp_path / "in" / "T01" / "2019-11-24.zip", members)
    with pytest.raises(InputError, match=expected):
        run_ingest(run, [archive], now=fixed_clock)
    assert not list((run / "ledger" / "staging").iterdir())
    with Ledger.open_read(run) as ledger:
        assert ledger.entries().height == 0


def test_links_and_bad_names_are_refused(source: Path, tmp_path: Path) -> None:
    run = fresh_run(source, tmp_path / "run")
    folder = copy_delivery(source, "T01", "2019-11-24", tmp_path / "in")
    (folder / "media" / "link.wav").symlink_to("/etc/passwd")
    with pytest.raises(InputError, match="a symbolic link"):
        run_ingest(run, [folder], now=fixed_clock)
    undated = copy_delivery(source, "T01", "2019-11-24", tmp_path / "other")
    with pytest.raises(InputError, match="which is not a date"):
        run_ingest(run, [undated.rename(undated.with_name("yesterday"))], now=fixed_clock)


def test_an_unreadable_cell_stops_with_file_row_column_and_records_nothing(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = fresh_run(source, tmp_path / "run")
    good = delivery(source, "T02", "2019-11-24")
    bad = copy_delivery(source, "T01", "2019-11-24", tmp_path / "in")
    survey = pl.read_csv(bad / "household_survey.csv", infer_schema=False)
    survey.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("lots"))
        .otherwise(pl.col("household_size"))
        .alias("household_size")
    ).write_csv(bad / "household_survey.csv")
    code = main(["ingest", "--run", str(run), str(good), str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bad}/household_survey.csv, row 4, column 'household_size'" in err
    assert "staging" not in err
    with Ledger.open_read(run) as ledger:
        assert ledger.entries().height == 0


def test_unusable_rows_are_recorded_as_rejects_with_the_reason(
    source: Path, tmp_path: Path
) -> None:
    run = fresh_run(source, tmp_path / "run")
    folder = copy_delivery(source, "T01", "2019-11-24", tmp_path / "in")
    survey = pl.read_csv(folder / "household_survey.csv", infer_schema=False)
    survey.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("2019-12-25"))
        .otherwise(pl.col("visit_date"))
        .alias("visit_date")
    ).write_csv(folder / "household_survey.csv")
    (result,) = run_ingest(run, [folder], now=fixed_clock)
    assert result.rejects.filter(pl.col("column") == "visit_date").height == 1
    with Ledger.open_read(run) as ledger:
        assert ledger.rejects()["expected"].str.contains("field week").any()


def test_indicators_read_the_ledger_and_corrections_say_what_was_used(
    source: Path, tmp_path: Path
) -> None:
    run = fresh_run(source, tmp_path / "run")
    first = [delivery(source, t, "2019-11-24") for t in ("T01", "T02")]
    run_ingest(run, first, now=fixed_clock)
    results = run_indicators(
        source / "frame", run / "sample", run / "field", DEFAULT_PLAN, run / "results"
    )
    manifest = json.loads((run / "results" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["ledger"]["seq"] == 2
    delivered = sum(pl.read_csv(p / "household_survey.csv").height for p in first)
    assert results["households"].height == delivered
    note_ledger_use(run, "report")  # as the reports stage does once it rendered
    # two days later the team corrects one questionnaire of that day
    later = copy_delivery(source, "T01", "2019-11-24", tmp_path / "in").rename(
        tmp_path / "in" / "T01" / "2019-11-26"
    )
    shutil.rmtree(later / "media")
    for other in later.glob("*.csv"):
        if other.name != "household_survey.csv":
            other.unlink()
    survey = pl.read_csv(later / "household_survey.csv", infer_schema=False).head(1)
    survey.with_columns(pl.lit("99999.0").alias("income_per_capita_yuan")).write_csv(
        later / "household_survey.csv"
    )
    (result,) = run_ingest(run, [later], now=fixed_clock)
    assert result.corrected == 1 and result.new == 0
    desk = report.load_desk(run)
    assert desk.view is not None
    change = desk.view.changes.row(0, named=True)
    assert change["column"] == "income_per_capita_yuan" and change["new"] == "99999.0"
    assert change["reviewed"] and change["in_results"] and change["in_report"]
    shown = report.corrections_table(desk).row(0, named=True)
    assert (shown["复核后更正"], shown["原值已用于结果"], shown["原值已用于报告"]) == ("是",) * 3


# ------------------------------------------------------------------ media and signals


def test_media_checks_find_each_kind_of_problem(source: Path, tmp_path: Path) -> None:
    run = fresh_run(source, tmp_path / "run")
    folder = copy_delivery(source, "T01", "2019-11-24", tmp_path / "in")
    manifest = pl.read_csv(folder / "media" / "media.csv", infer_schema=False)
    audio = manifest.filter(pl.col("kind") == "audio").sort("file")
    photo = manifest.filter(pl.col("kind") == "photo").sort("file")
    # 1: a recording that is a text file (its manifest hash updated): wrong type
    text = b"not a recording"
    (folder / "media" / audio["file"][0]).write_bytes(text)
    # 2: a photo changed after the manifest was made: hash mismatch
    (folder / "media" / photo["file"][0]).write_bytes(jpeg_bytes([1, 2, 3, 4], b"edited"))
    # 3: a photo listed but not delivered; 4: a file nobody listed; 5: a record that does not exist
    (folder / "media" / photo["file"][1]).unlink()
    (folder / "media" / "photo" / "stray.jpg").write_bytes(jpeg_bytes([9, 9, 9, 9], b"stray"))
    fixed = manifest.with_columns(
        pl.when(pl.col("file") == audio["file"][0])
        .then(pl.lit(hashlib.sha256(text).hexdigest()))
        .otherwise(pl.col("sha256"))
        .alias("sha256")
    )
    ghost = fixed.head(1).with_columns(pl.lit("999999/none").alias("record_key"))
    pl.concat([fixed, ghost]).write_csv(folder / "media" / "media.csv")
    run_ingest(run, [folder], now=fixed_clock)
    desk = report.load_desk(run)
    assert desk.view is not None
    found = dict(desk.view.media_problems.group_by("problem").len().iter_rows())
    for kind in ("wrong_type", "hash_mismatch", "file_missing", "unlisted_file", "no_record"):
        assert found.get(kind, 0) >= 1, kind
    # each broken file also leaves its record without that medium
    assert found.get("missing_audio", 0) >= 2 and found.get("missing_photo", 0) >= 2
    assert "录音照片问题" in report.summary_html(desk)


def test_visits_outside_the_team_and_rows_of_another_team_are_signalled(
    source: Path, tmp_path: Path
) -> None:
    run = fresh_run(source, tmp_path / "run")
    theirs = copy_delivery(source, "T02", "2019-11-24", tmp_path / "in")
    mine = theirs.parent.parent / "T01" / "2019-11-24"
    mine.parent.mkdir()
    theirs.rename(mine)  # T02's visits delivered as T01's
    run_ingest(run, [mine], now=fixed_clock)
    desk = report.load_desk(run)
    assert desk.view is not None
    kinds = set(desk.view.signals["signal"])
    assert {"outside_assignment", "other_team_row", "visitor_not_in_team"} <= kinds
    assert (desk.view.signals["team_id"] == "T01").all()


# ------------------------------------------------------------------ order does not matter


versions_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),  # record
        st.integers(0, 5),  # field day
        st.sampled_from(["T01", "T02"]),  # team
        st.sampled_from(["x", "y", "z"]),  # content
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda v: (v[0], v[1], v[2]),
)


@settings(max_examples=200, deadline=None)
@given(versions_strategy, st.randoms(use_true_random=False))
def test_the_current_view_does_not_depend_on_ingest_order(
    rows: list[tuple[str, int, str, str]], rnd: object
) -> None:
    def frame(order: list[tuple[str, int, str, str]]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "table": ["t"] * len(order),
                "record_key": [k for k, _, _, _ in order],
                "record_hash": [c for _, _, _, c in order],
                "field_date": [dt.date(2019, 11, 24 + d) for _, d, _, _ in order],
                "team_id": [t for _, _, t, _ in order],
                "content_hash": [f"{t}{d}" for _, d, t, _ in order],
                "seq": list(range(1, len(order) + 1)),
            }
        )

    shuffled = list(rows)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = fl.current(frame(rows)).select("record_key", "record_hash").sort("record_key")
    b = fl.current(frame(shuffled)).select("record_key", "record_hash").sort("record_key")
    assert a.equals(b)


def _team_days(source: Path) -> list[Path]:
    """Five days of the team whose questionnaire was corrected after review."""
    chosen = planted(source).filter(pl.col("kind") == "correction_after_review").row(0, named=True)
    days = [(chosen["day"] - dt.timedelta(days=n)).isoformat() for n in range(4, -1, -1)]
    return [p for d in days if (p := delivery(source, chosen["team_id"], d)).is_dir()]


def _view_and_changes(run: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    with Ledger.open_read(run) as ledger:
        v = fl.versions(ledger)
        now = fl.current(v).select("table", "record_key", "record_hash").sort("table", "record_key")
        changed = fl.changes(v, ledger.uses(), fl.load_context(run).plan)
    return now, changed.drop("seq", "old_seq")


@pytest.fixture(scope="module")
def in_order(source: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, ...]:
    run = fresh_run(source, tmp_path_factory.mktemp("in-order") / "run")
    run_ingest(run, _team_days(source), now=fixed_clock)
    return _view_and_changes(run)


@settings(max_examples=6, deadline=None)
@given(st.permutations(range(5)))
def test_deliveries_ingested_in_any_order_give_the_same_view(
    source: Path,
    tmp_path_factory: pytest.TempPathFactory,
    in_order: tuple[pl.DataFrame, pl.DataFrame],
    order: list[int],
) -> None:
    run = fresh_run(source, tmp_path_factory.mktemp("order") / "run")
    paths = _team_days(source)
    run_ingest(run, [paths[i] for i in order if i < len(paths)], now=fixed_clock)
    now, changed = _view_and_changes(run)
    assert now.equals(in_order[0])
    assert changed.equals(in_order[1])
    assert changed.filter(~pl.col("review_result")).height > 0
