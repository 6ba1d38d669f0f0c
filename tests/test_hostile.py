"""Hostile and damaged inputs (issue 11): names, YAML bombs, damaged stores, long garbage."""

from __future__ import annotations

import html
import shutil
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xkaohe.cli import main
from xkaohe.errors import InputError, PlanError
from xkaohe.io.files import MAX_TEXT_BYTES, read_text
from xkaohe.io.fingerprints import write_store
from xkaohe.io.frame import SAMPLING_COLUMNS, load_frame
from xkaohe.io.paths import inside, report_stem, safe_name
from xkaohe.io.plan_file import load_plan
from xkaohe.io.run import mark_synthetic
from xkaohe.io.xlsx import unique_tab_names
from xkaohe.plan import parse_plan
from xkaohe.run import stages
from xkaohe.run.commands import run_synth
from xkaohe.run.stages import RunParams, load_run_params, write_run_params
from xkaohe.yamltext import MAX_DEPTH, excerpt, load_yaml_text

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "params" / "plan-2019.yaml"

# ----------------------------------------------------------------- bounded YAML


def billion_laughs(levels: int = 10) -> str:
    """The classic alias bomb: 9**levels strings from a file of about 1 KB."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "parse",
    [
        pytest.param(lambda t: parse_plan(t, "bomb.yaml"), id="plan"),
        pytest.param(lambda t: load_yaml_text(t, "bomb.yaml"), id="yaml"),
    ],
)
def test_billion_laughs_fails_fast_with_a_clear_message(parse: object) -> None:
    text = billion_laughs()
    assert len(text) < 2000
    start = time.perf_counter()
    with pytest.raises(PlanError, match=r"bomb\.yaml, line 2, .*aliases \(\*l0\) are not allowed"):
        parse(text)  # type: ignore[operator]
    assert time.perf_counter() - start < 1.0  # measured: well under a millisecond


def test_run_parameter_file_refuses_aliases(tmp_path: Path) -> None:
    params = tmp_path / "run.yaml"
    params.write_text(f"run: &r {tmp_path}\nplan: *r\nseed: s\n", encoding="utf-8")
    with pytest.raises(PlanError, match="aliases"):
        load_run_params(params)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a: " + "[" * 20_000 + "]" * 20_000, id="flow"),
        pytest.param("a:\n" + "".join(" " * i + "- \n" for i in range(1, 200)), id="block"),
    ],
)
def test_deep_nesting_is_refused(text: str) -> None:
    with pytest.raises(PlanError, match=f"nested more than {MAX_DEPTH}|nested too deeply"):
        load_yaml_text(text, "deep.yaml")


def test_plan_file_size_is_capped(tmp_path: Path) -> None:
    big = tmp_path / "plan.yaml"
    big.write_text("# " + "x" * MAX_TEXT_BYTES + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"at most 1,048,576 bytes; found a larger one"):
        load_plan(big)
    assert read_text(PLAN)  # the real plan fits


def test_messages_quote_only_an_excerpt_of_a_bad_value() -> None:
    text = PLAN.read_text(encoding="utf-8").replace("title:", f"title_x: {'长' * 100_000}\ntitle:")
    with pytest.raises(PlanError) as err:
        parse_plan(text, "p.yaml")
    assert len(str(err.value)) < 400


def test_excerpt_is_bounded_for_huge_shared_values() -> None:
    row = ["lol"] * 9
    for _ in range(12):  # 9**12 leaves, shared: a full repr would never finish
        row = [row] * 9
    start = time.perf_counter()
    out = excerpt({"k": row, "s": "长" * 10_000})
    assert len(out) <= 80 and time.perf_counter() - start < 0.1


# ------------------------------------------------------- names are data, never paths

HOSTILE_CITIES = {
    "铜陵市": "../../逃逸市",  # one county: its reports are rendered below
    "淮北市": "a/b市",
    "淮南市": "a_b市",  # differs from a/b市 only in the replaced character
    "马鞍山市": "a\\b市",
    "蚌埠市": "蚌埠市'",  # a trailing apostrophe broke xlsxwriter
    "宣城市": "x\x00y市",
    "池州市": "长" * 150 + "市",
    "黄山市": "..",
}


def _rename(folder: Path, mapping: dict[str, str]) -> None:
    """Replace every cell equal to an old name by the new one, in every CSV below ``folder``."""
    for path in folder.rglob("*.csv"):
        df = pl.read_csv(path, infer_schema=False)
        df = df.with_columns(
            pl.col(c).replace(mapping) for c, t in df.schema.items() if t == pl.String
        )
        df.write_csv(path)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """A small synthetic run four folders deep whose city and county names attack paths."""
    root = tmp_path_factory.mktemp("hostile")
    run = root / "a" / "b" / "c" / "run"
    run_synth(run, "small", "demo", deliveries=False)
    counties = pl.read_csv(run / "frame" / "counties.csv", infer_schema=False)
    assert set(HOSTILE_CITIES) <= set(counties["city_name"])
    by_city = counties.sort("county_code").group_by("city_name", maintain_order=True).first()
    first = dict(by_city.select("city_name", "county_name").iter_rows())
    county_names = {
        first["合肥市"]: "../../../县",
        first["芜湖市"]: "c/d县",
        first["阜阳市"]: "某县'",
        first["宿州市"]: "县" * 200,
    }
    _rename(run, HOSTILE_CITIES | county_names)
    mark_synthetic(run, "hostile names")
    write_run_params(run / "run.yaml", RunParams(run=run, plan=PLAN, seed="demo"))
    params = str(run / "run.yaml")
    assert main(["run", "--params", params, "--stage", "sample", "lottery", "indicators"]) == 0
    assert main(["run", "--params", params, "--stage", "feedback"]) == 0
    only = HOSTILE_CITIES["铜陵市"]
    assert main(["run", "--params", params, "--stage", "reports", "index", "--only", only]) == 0
    return root, run, sorted(set(counties["city_name"]) - set(HOSTILE_CITIES))


def test_nothing_is_written_outside_the_run_folder(hostile: tuple[Path, Path, list[str]]) -> None:
    root, run, _ = hostile
    outside = sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p != run and run not in p.parents
    )
    assert outside == ["a", "a/b", "a/b/c"]
    for p in run.rglob("*"):  # no name carries a separator, a NUL or a dot-dot component
        assert "\x00" not in p.name and "\\" not in p.name and p.name not in {".", ".."}
        assert len(p.name.encode("utf-8")) <= 255


def test_every_city_and_county_gets_its_own_outputs(hostile: tuple[Path, Path, list[str]]) -> None:
    _, run, _ = hostile
    counties = pl.read_csv(run / "frame" / "counties.csv", infer_schema=False)
    n_cities = counties["city_name"].n_unique()
    assert len([p for p in (run / "feedback").iterdir() if p.is_dir()]) == n_cities
    assert {safe_name(c) for c in counties["city_name"]} == {
        p.name for p in (run / "feedback").iterdir() if p.is_dir()
    }
    lists = list((run / "sample" / "field_lists").glob("*.xlsx"))
    assert len(lists) == counties.height  # every county its own list: none overwritten
    city = HOSTILE_CITIES["铜陵市"]
    (code,) = counties.filter(pl.col("city_name") == city)["county_code"].to_list()
    reports = run / "reports"
    for stem in (report_stem("city", city), report_stem("county", code)):
        assert (reports / f"{stem}.html").is_file(), stem
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f'href="{report_stem("city", city)}.html"' in index
    assert html.escape(city) in index  # the name itself is shown, escaped


def test_a_county_code_that_cannot_be_a_file_name_is_refused_at_reading(
    hostile: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    _, run, _ = hostile
    frame = tmp_path / "frame"
    shutil.copytree(run / "frame", frame)
    counties = pl.read_csv(frame / "counties.csv", infer_schema=False)
    code = counties["county_code"][2]
    for path in frame.glob("*.csv"):
        df = pl.read_csv(path, infer_schema=False)
        if "county_code" in df.columns:
            df.with_columns(pl.col("county_code").replace({code: "../x"})).write_csv(path)
    with pytest.raises(InputError, match=r"counties\.csv, row 4, column 'county_code'.*file names"):
        load_frame(frame, SAMPLING_COLUMNS)


def test_excel_tab_names_are_legal_and_distinct_ignoring_case() -> None:
    names = unique_tab_names(["蚌埠市'", "'a", "A", "a", "History", "x" * 40, "a/b", "a:b"])
    assert all(n and n[0] != "'" and n[-1] != "'" and len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert "history" not in {n.lower() for n in names}


@pytest.mark.parametrize(
    "text",
    ["../x", "a/b", "a\\b", "x\x00y", "..", ".", "", "CON", "con.txt", "A_B", "长" * 300, "a."],
)
def test_safe_name_is_one_plain_component(text: str) -> None:
    name = safe_name(text)
    assert name == safe_name(text)  # stable
    assert name not in {"", ".", ".."} and not name.startswith((".", "-"))
    assert not set(name) & set("/\\\x00:*?\"<>|'")
    assert len(name.encode("utf-8")) <= 130 and name == name.lower()


@given(st.lists(st.text(min_size=0, max_size=12), min_size=2, max_size=30, unique=True))
def test_safe_names_never_collide(texts: list[str]) -> None:
    names = [safe_name(t) for t in texts]
    assert len({n.lower() for n in names}) == len(texts)


def test_inside_refuses_a_path_that_leaves_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    assert inside(run, run / "reports" / "x.html") == (run / "reports" / "x.html").resolve()
    with pytest.raises(InputError, match="refusing to write outside"):
        inside(run, run / "feedback" / ".." / ".." / "x")
    (run / "link").symlink_to(tmp_path)
    with pytest.raises(InputError, match="refusing to write outside"):
        inside(run, run / "link" / "x")


# ------------------------------------------------------------ damage named, never silent


@pytest.fixture
def run_copy(small_run: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    write_run_params(run / "run.yaml", RunParams(run=run, plan=PLAN, seed="demo"))
    return run


@pytest.mark.parametrize("stage", ["index", "feedback"])
def test_a_truncated_results_table_names_itself_and_its_stage(
    run_copy: Path, stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = run_copy / "results" / "findings.parquet"
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    assert main(["run", "--params", str(run_copy / "run.yaml"), "--stage", stage]) == 2
    err = capsys.readouterr().err
    assert "findings.parquet" in err and "indicators stage" in err
    assert "Traceback" not in err and len(err) < 2000


def test_a_missing_notebook_is_an_error_not_a_silent_gap(
    run_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notebooks = tmp_path / "notebooks"
    shutil.copytree(stages.NOTEBOOKS, notebooks)
    (notebooks / "county_report.ipynb").unlink()
    monkeypatch.setattr(stages, "NOTEBOOKS", notebooks)
    assert main(["run", "--params", str(run_copy / "run.yaml"), "--stage", "reports"]) == 2
    err = capsys.readouterr().err
    assert "county_report.ipynb" in err and "Traceback" not in err


def test_the_index_links_only_reports_of_the_present_state(run_copy: Path) -> None:
    jobs = stages.report_jobs(run_copy)
    reports = run_copy / "reports"
    reports.mkdir(exist_ok=True)
    todo, _ = stages.plan_reports(run_copy, jobs)
    (fresh, fp), (stale, _) = todo[0], todo[1]
    for scoped in (fresh, stale):  # both HTML files exist on disk ...
        (reports / f"{scoped.job.stem}.html").write_text("<html></html>", encoding="utf-8")
    # ... but only one was rendered from today's inputs; the other is left from before
    write_store(reports, {fresh.job.stem: fp, stale.job.stem: "an older fingerprint"})
    assert main(["run", "--params", str(run_copy / "run.yaml"), "--stage", "index"]) == 0
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f'href="{fresh.job.stem}.html"' in index
    assert f'href="{stale.job.stem}.html"' not in index


def test_a_garbage_header_is_quoted_once_and_short(tmp_path: Path) -> None:
    frame = tmp_path / "frame"
    frame.mkdir()
    garbage = "垃圾" * 150_000  # a 900 KB header cell
    (frame / "counties.csv").write_text(f"{garbage},x\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_frame(frame, SAMPLING_COLUMNS)
    text = str(err.value)
    assert text.count("垃圾垃圾") <= 20 and len(text) < 10_000


def test_the_run_summary_counts_rejected_rows_per_table(
    run_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    survey = run_copy / "field" / "household_survey.csv"
    rows = pl.read_csv(survey, infer_schema=False)
    pl.concat([rows, rows.head(5_000)]).write_csv(survey)  # 5,000 duplicated rows
    assert main(["run", "--params", str(run_copy / "run.yaml"), "--stage", "indicators"]) == 0
    err = capsys.readouterr().err
    assert "rejected field rows:" in err and "household_survey" in err
    assert str(run_copy / "results" / "rejects.csv") in err
    rejects = pl.read_csv(run_copy / "results" / "rejects.csv", infer_schema=False)
    assert rejects.filter(pl.col("table") == "household_survey").height >= 5_000


def test_a_stage_asked_for_that_cannot_run_is_an_error(
    run_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(run_copy / "roster")
    assert main(["run", "--params", str(run_copy / "run.yaml"), "--stage", "lottery"]) == 2
    assert "a roster for the lottery stage" in capsys.readouterr().err
