"""Signed team reports and the feedback release gate (plan 六(五), 七(二), 八(三); issue 14)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from xkaohe.analyse.signoff import Signature, Team, judge
from xkaohe.cli import main
from xkaohe.errors import InputError, VerificationError
from xkaohe.io.signatures import PASSPHRASE_ENV, read_releases, release_path
from xkaohe.run.feedback_files import write_feedback
from xkaohe.run.signoff import (
    ReportRef,
    feedback_state,
    make_keys,
    record_team_reports,
    release_feedback,
    sign_report,
    signoff_status,
    verify_signatures,
)
from xkaohe.run.stages import report_jobs

PASS = b"correct horse"
WHEN = dt.datetime(2019, 11, 30, 9, 0, tzinfo=dt.UTC)
AFTER = dt.date(2019, 12, 2)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run with its team reports listed and stand-in HTML for each (no notebooks run)."""
    from xkaohe.run.stages import prepare_demo_run

    run = tmp_path_factory.mktemp("signoff") / "run"
    prepare_demo_run(run, field_lists=False)
    jobs = report_jobs(run)
    record_team_reports(
        run,
        (
            ReportRef(s.job.stem, s.job.notebook, s.job.group, s.county_codes or (), s.job.title)
            for s in jobs
        ),
    )
    (run / "reports").mkdir()
    for s in jobs:
        (run / "reports" / f"{s.job.stem}.html").write_text(f"<p>{s.job.title}</p>", "utf-8")
    write_feedback(run)
    return run


@pytest.fixture
def run(base: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(base, out)
    return out


def heads(run: Path, city: str) -> tuple[dict[str, str], dict[str, str]]:
    """Leader and deputy rows (person_id, name) of the team assessing ``city``."""
    teams = pl.read_csv(run / "lottery" / "teams.csv", infer_schema=False)
    members = pl.read_csv(run / "lottery" / "members.csv", infer_schema=False)
    team = teams.filter(pl.col("target_cities").str.split(";").list.contains(city)).row(
        0, named=True
    )
    name = dict(members.select("person_id", "name").iter_rows())
    return (
        {"person_id": team["leader_id"], "name": name[team["leader_id"]]},
        {"person_id": team["deputy_id"], "name": name[team["deputy_id"]]},
    )


def keys_for(run: Path, city: str, tmp: Path) -> tuple[Path, Path]:
    leader, deputy = heads(run, city)
    out = []
    for who in (leader, deputy):
        key = tmp / f"{who['person_id']}.key"
        if not key.exists():
            make_keys(who["name"], key, PASS, run, who["person_id"], now=WHEN)
        out.append(key)
    return out[0], out[1]


def city_stems(run: Path, city: str) -> list[str]:
    listed = json.loads((run / "signatures" / "reports.json").read_text("utf-8"))
    return sorted(s for s, v in listed.items() if v["city"] == city)


def sign_city(run: Path, city: str, tmp: Path) -> list[str]:
    leader, deputy = keys_for(run, city, tmp)
    stems = city_stems(run, city)
    for stem in stems:
        for key in (leader, deputy):
            sign_report(run, stem, key, PASS, now=WHEN)
    return stems


def first_city(run: Path) -> str:
    counties = pl.read_parquet(run / "results" / "counties.parquet").sort("county_code")
    return str(counties["city_name"][0])


def status(run: Path) -> dict[str, str]:
    return dict(signoff_status(run).select("stem", "status").iter_rows())


# ------------------------------------------------------------------ keys


def test_keys_are_ed25519_with_an_encrypted_private_key(run: Path, tmp_path: Path) -> None:
    leader, _ = heads(run, first_city(run))
    key = tmp_path / "k"
    made = make_keys(leader["name"], key, PASS, run, leader["person_id"])
    text = key.read_text("utf-8")
    assert "ENCRYPTED PRIVATE KEY" in text and PASS.decode() not in text
    assert (tmp_path / "k.pub").read_text("utf-8").count("PUBLIC KEY") == 2
    registry = json.loads((run / "signatures" / "keys.json").read_text("utf-8"))
    assert registry[leader["person_id"]]["fingerprint"] == made["fingerprint"]
    with pytest.raises(InputError, match="never overwritten"):
        make_keys(leader["name"], key, PASS)
    with pytest.raises(InputError, match="passphrase"):
        sign_report(run, city_stems(run, first_city(run))[0], key, b"wrong")


def test_keys_refuse_someone_who_is_not_a_leader_or_deputy(run: Path, tmp_path: Path) -> None:
    members = pl.read_csv(run / "lottery" / "members.csv", infer_schema=False)
    staff = members.filter(pl.col("role") == "member").row(0, named=True)
    with pytest.raises(InputError, match="leader or deputy"):
        make_keys(staff["name"], tmp_path / "k", PASS, run, staff["person_id"])


# ------------------------------------------------------------------ sign and verify


def test_signed_by_leader_and_deputy_verifies(run: Path, tmp_path: Path) -> None:
    city = first_city(run)
    stems = sign_city(run, city, tmp_path)
    got = status(run)
    assert {got[s] for s in stems} == {"signed"}
    assert {v for s, v in got.items() if s not in stems} == {"unsigned"}
    lines = verify_signatures(run)
    assert "signed" in lines[0] and not any(s + ":" in " ".join(lines) for s in stems)


def test_one_signature_is_partly_signed(run: Path, tmp_path: Path) -> None:
    city = first_city(run)
    leader, _ = keys_for(run, city, tmp_path)
    stem = city_stems(run, city)[0]
    sign_report(run, stem, leader, PASS, now=WHEN)
    assert status(run)[stem] == "partly_signed"
    verify_signatures(run)  # not a failure: nothing signed is wrong


def test_html_changed_after_signing_is_named(run: Path, tmp_path: Path) -> None:
    city = first_city(run)
    stems = sign_city(run, city, tmp_path)
    html = run / "reports" / f"{stems[0]}.html"
    html.write_text(html.read_text("utf-8") + "<p>改</p>", "utf-8")
    with pytest.raises(VerificationError, match=rf"{stems[0]}: changed"):
        verify_signatures(run)
    assert status(run)[stems[0]] == "changed"
    assert main(["verify-signatures", "--run", str(run)]) == 2


def test_results_changed_after_signing_is_named(run: Path, tmp_path: Path) -> None:
    city = first_city(run)
    stems = sign_city(run, city, tmp_path)
    county = next(s for s in stems if s.startswith("county_"))
    code = county.removeprefix("county_")
    path = run / "results" / "findings.parquet"
    df = pl.read_parquet(path)
    df.with_columns(
        pl.when(pl.col("county_code") == code)
        .then(pl.col("description") + "（改）")
        .otherwise(pl.col("description"))
        .alias("description")
    ).write_parquet(path)
    got = status(run)
    assert got[county] == "changed"
    assert got[f"city_{city}"] == "changed"  # the city report reads its counties' rows


def test_a_signature_by_another_teams_leader_is_rejected(run: Path, tmp_path: Path) -> None:
    cities = pl.read_parquet(run / "results" / "counties.parquet")["city_name"].unique().sort()
    mine = first_city(run)
    other = next(c for c in cities if heads(run, c)[0] != heads(run, mine)[0])
    stranger, _ = keys_for(run, other, tmp_path)
    stem = city_stems(run, mine)[0]
    with pytest.raises(InputError, match="leader or deputy of the team"):
        sign_report(run, stem, stranger, PASS, now=WHEN)
    sign_report(run, stem, stranger, PASS, now=WHEN, check_signer=False)  # forged
    assert status(run)[stem] == "wrong_signer"
    with pytest.raises(VerificationError, match="is not the leader or deputy"):
        verify_signatures(run)


def test_an_unregistered_key_is_a_wrong_signer(run: Path, tmp_path: Path) -> None:
    city = first_city(run)
    leader, _ = heads(run, city)
    key = tmp_path / "own.key"
    make_keys(leader["name"], key, PASS, person_id=leader["person_id"])  # not registered
    stem = city_stems(run, city)[0]
    sign_report(run, stem, key, PASS, now=WHEN)
    assert status(run)[stem] == "wrong_signer"


def test_an_edited_signature_record_is_invalid(run: Path, tmp_path: Path) -> None:
    city = first_city(run)
    stems = sign_city(run, city, tmp_path)
    path = run / "signatures" / f"{stems[0]}.json"
    data = json.loads(path.read_text("utf-8"))
    data["signatures"][0]["payload"]["signed_at"] = "2019-11-29T00:00:00+00:00"
    path.write_text(json.dumps(data), "utf-8")
    assert status(run)[stems[0]] == "invalid"


@pytest.mark.parametrize(
    ("flags", "team", "want"),
    [
        pytest.param({}, Team("T1", "L", "D"), "signed", id="rightly"),
        pytest.param({"valid": False}, Team("T1", "L", "D"), "invalid", id="edited"),
        pytest.param({"html_matches": False}, Team("T1", "L", "D"), "changed", id="changed"),
        pytest.param({}, Team("T1", "X", "D"), "wrong_signer", id="not-the-team"),
        pytest.param({}, None, "wrong_signer", id="no-team"),
        pytest.param({"registered": False}, Team("T1", "L", "D"), "wrong_signer", id="key"),
    ],
)
def test_judge_precedence(flags: dict[str, bool], team: Team | None, want: str) -> None:
    base = {
        "valid": True,
        "registered": True,
        "html_matches": True,
        "results_matches": True,
        "report_matches": True,
    }
    leader = Signature("L", "甲", "t", **(base | flags))
    deputy = Signature("D", "乙", "t", **base)
    assert judge([leader, deputy], team, ("leader", "deputy"))[0] == want


def test_cli_keys_sign_verify(run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASS.decode())
    city = first_city(run)
    leader, _ = heads(run, city)
    key = tmp_path / "cli.key"
    assert main(["keys", "--name", leader["name"], "--out", str(key), "--run", str(run)]) == 0
    stem = city_stems(run, city)[0]
    assert main(["sign", "--run", str(run), "--report", stem, "--key", str(key)]) == 0
    assert main(["verify-signatures", "--run", str(run)]) == 0
    index = (run / "reports" / "index.html").read_text("utf-8")
    assert "部分签字" in index and leader["name"] in index
    assert main(["sign", "--run", str(run), "--report", "nope", "--key", str(key)]) == 2
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    assert main(["sign", "--run", str(run), "--report", stem, "--key", str(key)]) == 2


# ------------------------------------------------------------------ release gate


def test_release_is_refused_during_the_field_week(run: Path, tmp_path: Path) -> None:
    sign_city(run, first_city(run), tmp_path)
    with pytest.raises(InputError, match="after the field week"):
        release_feedback(run, "省扶贫办 王某", dt.date(2019, 11, 27))
    assert not release_path(run).exists()


def test_release_only_signed_cities_and_record_it(run: Path, tmp_path: Path) -> None:
    city = first_city(run)
    sign_city(run, city, tmp_path)
    written, refused = release_feedback(run, "省扶贫办 王某", AFTER, now=WHEN)
    assert [e["city"] for e in written] == [city]
    assert len(refused) == pl.read_parquet(run / "results" / "counties.parquet")[
        "city_name"
    ].n_unique() - 1 and all("not all team reports signed" in r for r in refused)
    entry = read_releases(run)[0]
    assert entry["released_by"] == "省扶贫办 王某" and entry["previous"] == ""
    assert any(f.endswith("整改台账.xlsx") for f in entry["files"])
    state = dict(feedback_state(run).select("city", "state").iter_rows())
    assert state[city] == "released" and set(state.values()) == {"released", "draft"}
    again, _ = release_feedback(run, "省扶贫办 王某", AFTER, now=WHEN)
    assert again == []  # unchanged since its release: not released twice


def test_release_with_a_relative_run_folder(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # make report names its run "runs/demo": package folders are found resolved
    city = first_city(run)
    sign_city(run, city, tmp_path)
    monkeypatch.chdir(run.parent)
    written, _ = release_feedback(Path(run.name), "省扶贫办 王某", AFTER, now=WHEN)
    assert [(e["city"], e["folder"]) for e in written] == [(city, f"feedback/{city}")]


def test_release_record_is_chained_and_a_change_after_release_shows(
    run: Path, tmp_path: Path
) -> None:
    cities = pl.read_parquet(run / "results" / "counties.parquet").sort("county_code")["city_name"]
    first, second = cities.unique(maintain_order=True).to_list()[:2]
    sign_city(run, first, tmp_path)
    release_feedback(run, "甲", AFTER, cities=[first], now=WHEN)
    sign_city(run, second, tmp_path)
    release_feedback(run, "乙", AFTER, cities=[second], now=WHEN)
    assert [e["released_by"] for e in read_releases(run)] == ["甲", "乙"]
    readme = run / "feedback" / first / "README.txt"
    readme.write_text("改", "utf-8")
    state = dict(feedback_state(run).select("city", "state").iter_rows())
    assert state[first] == "changed_after_release" and state[second] == "released"
    path = release_path(run)
    path.write_text(path.read_text("utf-8").replace('"甲"', '"丁"'), "utf-8")
    with pytest.raises(InputError, match="release record was edited"):
        read_releases(run)


def test_cli_release_feedback_exit_codes(run: Path, tmp_path: Path) -> None:
    sign_city(run, first_city(run), tmp_path)
    args = ["release-feedback", "--run", str(run), "--by", "王某"]
    assert main([*args, "--as-of", "2019-11-28"]) == 2
    assert main([*args, "--as-of", "2019-12-05"]) == 2  # the other cities are refused
    assert main([*args, "--as-of", "2019-12-05", "--city", first_city(run)]) == 0


def test_the_demo_signoff_shows_every_case(run: Path) -> None:
    from xkaohe.run.rectification import rectification_progress
    from xkaohe.run.signoff import demo_signoff

    shown = demo_signoff(run)
    assert shown["signed"] and shown["changed"] in shown["signed"]
    got = status(run)
    assert got[shown["changed"]] == "changed"
    assert {got[s] for s in shown["signed"] if s != shown["changed"]} == {"signed"}
    with pytest.raises(VerificationError, match=rf"{shown['changed']}: changed"):
        verify_signatures(run)
    assert shown["unsigned_city"] not in shown["released"] and shown["released"]
    assert any(r.startswith(shown["unsigned_city"]) for r in shown["refused"])
    table, _ = rectification_progress(run, dt.date(2020, 1, 15))
    assert table["overdue"].sum() >= 1 and table["done_without_evidence"].sum() >= 1


# ------------------------------------------------------------------ the results-slice digest


def _write(path: Path, df: pl.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(path)
    return path


def test_slice_digest_is_sha256_of_the_canonical_text(tmp_path: Path) -> None:
    """Pinned by hand: columns by name, tab-separated, rows sorted, floats %.12g, null \\N."""
    import hashlib

    from xkaohe.io.fingerprints import slice_digest

    df = pl.DataFrame(
        {
            "county_code": ["341221", "341222", "341221"],
            "rate": [0.1 + 0.2, -0.0, None],
            "ok": [True, None, False],
            "day": [dt.date(2019, 11, 24), None, dt.date(2019, 11, 25)],
            "note": ["a\tb", "x", None],
        }
    )
    path = _write(tmp_path / "results" / "t.parquet", df)
    text = "\n".join(
        [
            "county_code\tday\tnote\tok\trate",
            "341221\t2019-11-24\ta\\tb\ttrue\t0.3",
            "341221\t2019-11-25\t\\N\tfalse\t\\N",
        ]
    )
    assert slice_digest(path, ("341221",), None) == hashlib.sha256(text.encode()).hexdigest()


def test_slice_digest_ignores_row_order_and_float_noise_but_not_values(tmp_path: Path) -> None:
    from xkaohe.io.fingerprints import slice_digest

    df = pl.DataFrame(
        {"county_code": ["1", "1", "2", None], "city_name": ["甲", "甲", "甲", "甲"],
         "v": [1 / 3, 2.5, 7.0, 1.0], "n": [1, 2, 3, 4]}
    )
    base = slice_digest(_write(tmp_path / "a" / "t.parquet", df), ("1",), "甲")
    shuffled = df.reverse().select("n", "v", "city_name", "county_code")
    assert slice_digest(_write(tmp_path / "b" / "t.parquet", shuffled), ("1",), "甲") == base
    noisy = df.with_columns(pl.col("v") * (1 + 1e-15))
    assert slice_digest(_write(tmp_path / "c" / "t.parquet", noisy), ("1",), "甲") == base
    other_county = df.with_columns(pl.when(pl.col("county_code") == "2").then(8.0)
                                   .otherwise(pl.col("v")).alias("v"))
    assert slice_digest(_write(tmp_path / "d" / "t.parquet", other_county), ("1",), "甲") == base
    for name, n in (("e", 2), ("f", 4)):  # a county row, then a city-level row
        changed = df.with_columns(pl.when(pl.col("n") == n).then(9.5).otherwise(pl.col("v")))
        assert slice_digest(_write(tmp_path / name / "t.parquet", changed), ("1",), "甲") != base
    assert slice_digest(_write(tmp_path / "g" / "t.parquet", df.drop("county_code")), ("1",),
                        "甲") == "-"
    cache: dict[Path, object] = {}  # the batch's way (whole table once) gives the same digests
    for codes, city in ((("1",), "甲"), (("2",), None), (("3",), "乙")):
        path = tmp_path / "a" / "t.parquet"
        assert slice_digest(path, codes, city, cache) == slice_digest(path, codes, city)
