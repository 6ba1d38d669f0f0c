"""The discipline register and the 督查组 (plan 八(二)(三); issue 14, item 5).

Unit tests build small inline registers; the integration tests use one small
synthetic run (``small_run``, copied) whose synthetic register the indicators
stage reads, checks and stores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from xkaohe.analyse.discipline import (
    discipline_summary,
    evidence_names,
    validate_incidents,
)
from xkaohe.errors import InputError
from xkaohe.inputs import ROW
from xkaohe.io.discipline import hash_evidence, object_name, read_incidents
from xkaohe.io.plan_file import load_plan
from xkaohe.results_spec import check_results

PLAN_PATH = Path(__file__).parent.parent / "params" / "plan-2019.yaml"
PLAN = load_plan(PLAN_PATH)
NOTEBOOKS = Path(__file__).parent.parent / "notebooks"

COUNTIES = pl.DataFrame(
    {"county_code": ["100101", "100102", "200201"], "city_name": ["甲市", "甲市", "乙市"]}
)
TEAMS = pl.DataFrame({"team_id": ["T01", "T02"], "target_cities": ["甲市", "乙市;丙市"]})
EVIDENCE = {"a.txt": ("a" * 64, 10), "photos/b.jpg": ("b" * 64, 20)}

Row = dict[str, Any]


def row(n: int, **changes: Any) -> Row:
    base: Row = {
        ROW: n + 1,
        "incident_id": f"D{n:03d}",
        "date": dt.date(2019, 11, 25),
        "city_name": "甲市",
        "county_code": "100101",
        "team_id": None,
        "reporter": "考核组",
        "rule": "干扰考核",
        "description": None,
        "evidence": "a.txt",
        "action": "制止、上报",
        "outcome": None,
    }
    return base | changes


def register(*rows: Row) -> pl.DataFrame:
    schema = {k: pl.String for k in rows[0]} | {ROW: pl.Int64, "date": pl.Date}
    return pl.DataFrame(list(rows), schema=schema)


# --------------------------------------------------------------------------- checking rows


def test_codes_labels_and_aliases_read_as_plan_codes_and_the_team_is_filled_in() -> None:
    rows = register(
        row(1),
        row(2, reporter="supervision", rule="饮酒", action="report", county_code=None,
            team_id="T01", evidence=None),
        row(3, city_name="乙市", county_code="200201", rule="提供虚假资料和错误信息",
            action="制止;上报；终止实地考核", evidence="a.txt; photos/b.jpg"),
    )
    incidents, evidence, problems = validate_incidents(
        rows, "incidents.csv", PLAN, COUNTIES, TEAMS, EVIDENCE
    )
    assert problems == []
    got = {r["incident_id"]: r for r in incidents.iter_rows(named=True)}
    assert (got["D001"]["rule"], got["D001"]["party"], got["D001"]["team_id"]) == (
        "interference", "assessed", "T01")
    assert (got["D002"]["reporter"], got["D002"]["rule"], got["D002"]["party"]) == (
        "supervision", "drinking", "team")
    assert got["D002"]["evidence_missing"] and got["D002"]["evidence_files"] == 0
    assert got["D003"]["actions"] == "stop;report;terminate" and got["D003"]["terminated"]
    assert got["D003"]["team_id"] == "T02" and got["D003"]["source_row"] == 4
    assert evidence.filter(pl.col("incident_id") == "D003")["file"].to_list() == [
        "a.txt", "photos/b.jpg"]
    assert evidence_names(rows) == ["a.txt", "photos/b.jpg"]


def test_every_bad_cell_is_named_with_file_row_and_column() -> None:
    rows = register(
        row(1, rule="偷懒"),
        row(2, reporter="省纪委"),
        row(3, action="批评"),
        row(4, action=None),
        row(5, city_name="丁市", county_code=None),
        row(6, county_code="200201"),
        row(7, team_id="T09"),
        row(8, team_id="T02"),
        row(9, evidence="a.txt;missing.png"),
    )
    _, _, problems = validate_incidents(rows, "incidents.csv", PLAN, COUNTIES, TEAMS,
                                        EVIDENCE | {"missing.png": None})
    text = [str(p) for p in problems]
    expected = [
        (2, r"rule \[违反纪律\]", "one of the plan's discipline rules", "'偷懒'"),
        (3, r"reporter \[报告方\]", "one of 考核组、督查组", "'省纪委'"),
        (4, r"action \[处置措施\]", "one or more of 制止、上报、终止实地考核", "'批评'"),
        (5, r"action \[处置措施\]", "one or more of", "None"),
        (6, r"city_name \[市名称\]", "a city of this run", "'丁市'"),
        (7, r"county_code \[县代码\]", "a county of 甲市", "'200201'"),
        (8, r"team_id \[考核组\]", r"a team of this run's lottery", "'T09'"),
        (9, r"team_id \[考核组\]", r"the team that assessed 甲市 \(T01\)", "'T02'"),
        (10, r"evidence \[证据文件\]", "a file kept with the register", "'missing.png'"),
    ]
    assert len(problems) == len(expected), text
    for (r, column, wanted, found), line in zip(expected, text, strict=True):
        assert re.search(rf"incidents.csv, row {r}, column '?{column}'?: expected {wanted}.*"
                         rf"found {found}", line), line


def test_without_a_lottery_team_ids_are_kept_as_given() -> None:
    rows = register(row(1, team_id="第三组"), row(2))
    incidents, _, problems = validate_incidents(rows, "f", PLAN, COUNTIES, None, EVIDENCE)
    assert problems == [] and incidents["team_id"].to_list() == ["第三组", None]


def test_summary_lists_every_unit_with_zeros() -> None:
    rows = register(
        row(1),
        row(2, rule="饮酒", reporter="督查组", county_code=None, evidence=None),
        row(3, city_name="乙市", county_code="200201", action="终止实地考核"),
    )
    incidents, _, _ = validate_incidents(rows, "f", PLAN, COUNTIES, TEAMS, EVIDENCE)
    s = discipline_summary(incidents, COUNTIES, TEAMS)
    got = {(r["level"], r["unit"]): r for r in s.iter_rows(named=True)}
    assert set(got) == {("city", "甲市"), ("city", "乙市"), ("county", "100101"),
                        ("county", "100102"), ("county", "200201"), ("team", "T01"),
                        ("team", "T02")}
    city = got[("city", "甲市")]
    assert (city["incidents"], city["assessed_breaches"], city["team_breaches"]) == (2, 1, 1)
    assert (city["by_supervision"], city["without_evidence"]) == (1, 1)
    assert got[("county", "100102")]["incidents"] == 0
    assert got[("team", "T02")]["terminated"] == 1
    assert got[("county", "100101")]["city_name"] == "甲市"
    assert got[("team", "T01")]["city_name"] is None  # no city slice takes a team's row


def test_the_report_table_masks_names_phones_and_words_codes_in_chinese() -> None:
    from xkaohe.privacy import KnownNames
    from xkaohe.report.discipline import Register, incident_table

    rows = register(row(1, description="联络员张建国（13912345678）全程陪同", action="制止;上报",
                        outcome="张建国已作检查"))
    incidents, evidence, _ = validate_incidents(rows, "f", PLAN, COUNTIES, TEAMS, EVIDENCE)
    reg = Register(incidents, evidence, discipline_summary(incidents, COUNTIES, TEAMS), PLAN,
                   {"100101": "甲县"}, KnownNames.build(["张建国"], ["甲县"]))
    got = incident_table(reg, incidents).row(0, named=True)
    assert "张建国" not in got["情况"] + got["处理结果"] and "13912345678" not in got["情况"]
    assert (got["地点"], got["违纪方"], got["违反纪律"], got["处置措施"], got["证据"]) == (
        "甲市 甲县", "被考核地方", "干扰考核", "制止、上报", "1 份")


# --------------------------------------------------------------------------- files


HEADERS = "编号,日期,市名称,县代码,考核组,报告方,违反纪律,情况描述,证据文件,处置措施,处理结果\n"


def test_the_register_reads_with_chinese_headers_and_bad_dates_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "discipline"
    folder.mkdir()
    path = folder / "incidents.csv"
    path.write_text(HEADERS + "D001,2019/11/25,甲市,100101,,考核组,干扰考核,,a.txt,制止,\n"
                    "D002,11月25日,甲市,,,考核组,饮酒,,,上报,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"incidents.csv, row 3, column '日期 \(date\)': expected "
                       r"a date like 2019-11-24; found '11月25日'"):
        read_incidents(folder)
    path.write_text(HEADERS + "D001,2019/11/25,甲市,100101,,考核组,干扰考核,,a.txt,制止,\n",
                    encoding="utf-8")
    rows, info = read_incidents(folder)
    assert rows is not None and info is not None
    assert rows["date"].to_list() == [dt.date(2019, 11, 25)] and rows[ROW].to_list() == [2]
    assert read_incidents(tmp_path / "nowhere") == (None, None)


def test_evidence_must_stay_inside_the_register_folder(tmp_path: Path) -> None:
    folder = tmp_path / "discipline"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "b.jpg").write_bytes(b"photo")
    (tmp_path / "secret.txt").write_text("outside")
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "linked").symlink_to(tmp_path, target_is_directory=True)
    got = hash_evidence(folder, ["photos/b.jpg", "photos\\b.jpg", "../secret.txt",
                                 str(tmp_path / "secret.txt"), "link.txt", "linked/secret.txt",
                                 "photos", "missing.txt", "objects/ab/cd"])
    sha = hashlib.sha256(b"photo").hexdigest()
    assert got["photos/b.jpg"] == (sha, 5) and got["photos\\b.jpg"] == (sha, 5)
    assert [k for k, v in got.items() if v is None] == sorted(
        ["../secret.txt", str(tmp_path / "secret.txt"), "link.txt", "linked/secret.txt",
         "photos", "missing.txt", "objects/ab/cd"])


# --------------------------------------------------------------------------- in a run


@pytest.fixture
def run(small_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(small_run, out, symlinks=True)
    return out


def _indicators(run: Path) -> int:
    from xkaohe.cli import main

    return main(["indicators", "--frame", str(run / "frame"), "--sample", str(run / "sample"),
                 "--field", str(run / "field"), "--plan", str(PLAN_PATH),
                 "--out", str(run / "results")])


def test_the_synthetic_register_is_checked_stored_and_its_evidence_kept(run: Path) -> None:
    from xkaohe.io.results import read_result
    from xkaohe.results_spec import Result

    incidents = read_result(run, Result.INCIDENTS)
    evidence = read_result(run, Result.INCIDENT_EVIDENCE)
    assert incidents.height >= 5
    assert set(incidents["party"]) == {"assessed", "team"}
    assert incidents["terminated"].any() and incidents["evidence_missing"].any()
    assert set(incidents["reporter"]) == {"team", "supervision"}
    for r in evidence.iter_rows(named=True):  # content-addressed, read-only, as hashed
        kept = run / r["object"]
        assert r["object"] == object_name(r["sha256"]) and kept.is_file()
        assert not kept.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == r["sha256"]
    manifest = json.loads((run / "results" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["discipline"]["file"].endswith("incidents.csv")
    check_results({Result.INCIDENTS: incidents, Result.INCIDENT_EVIDENCE: evidence})


def test_a_bad_register_stops_the_stage_and_nothing_is_half_imported(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register_csv = run / "discipline" / "incidents.csv"
    rows = pl.read_csv(register_csv, infer_schema=False)
    bad = rows.with_columns(
        pl.when(pl.col("incident_id") == rows["incident_id"][1]).then(pl.lit("偷懒"))
        .otherwise(pl.col("rule")).alias("rule"),
        pl.when(pl.col("incident_id") == rows["incident_id"][2]).then(pl.lit("gone/x.txt"))
        .otherwise(pl.col("evidence")).alias("evidence"),
    )
    bad.write_csv(register_csv)
    shutil.rmtree(run / "discipline" / "objects")
    before = {p.name: p.stat().st_mtime_ns for p in (run / "results").iterdir()}
    assert _indicators(run) == 2
    err = capsys.readouterr().err
    assert re.search(r"incidents.csv, row 3, column 'rule \[违反纪律\]': expected one of the "
                     r"plan's discipline rules", err), err
    assert re.search(r"row 4, column 'evidence \[证据文件\]'.*'gone/x.txt'", err), err
    assert "Traceback" not in err
    assert not (run / "discipline" / "objects").exists()  # no evidence kept
    assert {p.name: p.stat().st_mtime_ns for p in (run / "results").iterdir()} == before


def test_reports_show_the_section_masked_and_old_results_say_so(run: Path) -> None:
    from xkaohe.io.results import read_result
    from xkaohe.report import discipline
    from xkaohe.results_spec import Result

    incidents = read_result(run, Result.INCIDENTS)
    phone = incidents.filter(pl.col("description").str.contains(r"1\d{10}"))
    assert phone.height == 1
    county = phone["county_code"][0]
    html = discipline.county_section_html(run, county)
    assert re.search(r"共登记违反考核纪律的情况 1 起", html)
    assert not re.search(r"1\d{10}", html) and "****" in html
    city = discipline.city_section_html(run, phone["city_name"][0])
    assert phone["incident_id"][0] in city
    whole = discipline.section_html(run)
    assert f"全省共登记违反考核纪律的情况 {incidents.height} 起" in whole
    quiet = read_result(run, Result.COUNTIES).filter(
        ~pl.col("city_name").is_in(incidents["city_name"].implode()))["city_name"][0]
    assert "未登记违反考核纪律的情况" in discipline.city_section_html(run, quiet)
    reg = discipline.load_register(run)
    assert discipline.follow_up(reg).height == incidents.filter(
        pl.col("terminated") | pl.col("evidence_missing")).height
    assert discipline.rule_table(reg)["登记起数"].sum() == incidents.height
    assert discipline.evidence_table(reg).height == read_result(
        run, Result.INCIDENT_EVIDENCE).height
    for name in ("incidents", "incident_evidence", "discipline_summary"):
        (run / "results" / f"{name}.parquet").unlink()
    assert discipline.NO_REGISTER in discipline.section_html(run)
    old = discipline.load_register(run)
    assert not old.stored and discipline.city_table(old)["登记起数"].sum() == 0


def test_the_supervision_and_rectification_jobs_join_the_batch(run: Path) -> None:
    from xkaohe.run.feedback_files import write_feedback
    from xkaohe.run.signoff import _demo_register
    from xkaohe.run.stages import report_jobs

    jobs = {s.job.stem: s for s in report_jobs(run)}
    assert "supervision" in jobs and "rectification" not in jobs
    write_feedback(run)
    cities = {str(v["city"]) for v in json.loads(
        (run / "feedback" / "packages.json").read_text(encoding="utf-8")).values()}
    assert _demo_register(run, cities, PLAN.timeline.team_reports_by) is not None
    jobs = {s.job.stem: s for s in report_jobs(run)}
    rect = jobs["rectification"]
    assert rect.job.parameters == {"as_of": PLAN.timeline.provincial_report_by.isoformat()}
    assert "rectification" in rect.reads and rect.county_codes is None

    from xkaohe.report import rectification

    follow = rectification.load_follow_up(run, rect.job.parameters["as_of"])
    assert rectification.overdue_table(follow).height >= 1
    assert rectification.no_evidence_table(follow).height >= 1
    assert rectification.not_returned_table(follow).height >= 1
    city = rectification.city_table(follow)
    assert city["反馈问题"].sum() == follow.table.height
    assert "逾期未完成" in rectification.overview_html(follow)
    assert len(rectification.progress_figure(follow).data) == 5
    later = rectification.load_follow_up(run, "2021-01-01")  # every deadline passed
    assert rectification.overdue_table(later).height > rectification.overdue_table(follow).height


def test_rectification_before_any_feedback_says_so(small_run: Path) -> None:
    from xkaohe.report import rectification

    follow = rectification.load_follow_up(small_run)
    assert "尚未生成反馈包" in rectification.overview_html(follow)
    assert rectification.city_table(follow).height == 0


# --------------------------------------------------------------------------- synthetic


def test_the_synthetic_register_has_every_case_and_is_reproducible() -> None:
    from xkaohe.draw.lottery import draw_lottery
    from xkaohe.inputs import Roster
    from xkaohe.synth.discipline import synthesize_incidents
    from xkaohe.synth.frame import synthesize_frame, synthesize_roster

    frame = synthesize_frame("small", "demo")
    tables = synthesize_roster(frame["counties"], "demo")
    lottery = draw_lottery(Roster(tables["cities"], tables["assessors"]), PLAN, "demo")
    rows, files = synthesize_incidents(frame["counties"], lottery, PLAN, "demo")
    again, files_again = synthesize_incidents(frame["counties"], lottery, PLAN, "demo")
    assert rows.equals(again) and files == files_again
    hashed = {name: ("0" * 64, len(data)) for name, data in files.items()}
    typed = rows.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    incidents, evidence, problems = validate_incidents(
        typed, "incidents.csv", PLAN, frame["counties"], lottery.teams, hashed)
    assert problems == []
    assert incidents["terminated"].sum() == 1 and incidents["evidence_missing"].sum() == 1
    assert set(incidents["party"]) == {"assessed", "team"}
    assert all("演示数据" in data.decode("utf-8") for data in files.values())
    assert evidence.height == len(files)


# --------------------------------------------------------------------------- notebooks


@pytest.mark.parametrize("name", ["supervision.ipynb", "rectification.ipynb"])
def test_the_notebooks_are_thin_parameterised_and_without_outputs(name: str) -> None:
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    params = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1
    for line in "".join(params[0]["source"]).splitlines():
        assert re.fullmatch(r'\w+: str = ""  # .+', line), line
    for c in cells:
        if c["cell_type"] == "code":
            assert c["outputs"] == [] and c["execution_count"] is None
            code = "".join(c["source"])
            assert not re.search(r"^\s*(def|class|for|while|if) ", code, re.MULTILINE), code
    assert len({c["id"] for c in cells}) == len(cells)


def test_each_report_notebook_ends_with_the_discipline_section() -> None:
    for name, call in (("county_report.ipynb", "county_section_html(run, county_code)"),
                       ("city_report.ipynb", "city_section_html(run, city_name)"),
                       ("provincial_report.ipynb", "section_html(run)")):
        cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
        assert "考核纪律遵守情况" in "".join(cells[-2]["source"])
        assert call in "".join(cells[-1]["source"]), name
