"""``xkaohe run``: the whole cycle of one run, by stages, from a parameter file.

A run parameter file (YAML, e.g. ``params/run-demo.yaml``) names the run
folder, the plan, the seed and where the inputs are::

    run: runs/demo
    plan: params/plan-2019.yaml
    seed: demo
    workers: 2

Stages, in order: ``sample`` (draw), ``lottery`` (teams), ``indicators``
(results store), ``reports`` (every notebook: sampling, county, pairing,
city, then provincial), ``feedback`` (per-city packages) and ``index``.
``--only`` narrows the reports to one county (code) or one city (name) —
the city's report, its counties' and their pairing reports. The reports run
on this machine's warm-kernel workers, or (``executor: dask`` with
``scheduler: ADDRESS``, or ``--executor dask --scheduler ADDRESS``) on a Dask
cluster: :mod:`xkaohe.run.dask_executor`.

A report is executed again only when its inputs changed: the notebook, its
parameters, the package code, and the slice of the results it reads (its
county's or city's rows; the provincial report reads everything).
Fingerprints live in ``reports/.fingerprints.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xkaohe import codes
from xkaohe.analyse.rectification import follow_up_date
from xkaohe.errors import InputError, PlanError, Problem
from xkaohe.io.files import read_text
from xkaohe.io.fingerprints import (
    code_digest,
    file_digest,
    input_tables,
    read_store,
    slice_digest,
    write_store,
)
from xkaohe.io.memo import stamp
from xkaohe.io.paths import report_stem
from xkaohe.io.plan_file import load_plan
from xkaohe.io.render import write_index
from xkaohe.io.resources import package_dir
from xkaohe.io.results import read_result, run_plan
from xkaohe.io.run import is_synthetic, mark_synthetic, read_counties
from xkaohe.io.yaml import write_yaml
from xkaohe.plan import Plan
from xkaohe.report.discipline import index_note as discipline_note
from xkaohe.report.rectification import index_note as rectification_note
from xkaohe.report.signoff import feedback_labels, index_labels
from xkaohe.results_spec import Result
from xkaohe.run.batch import NOTEBOOKS, Interrupted, Job, JobResult, JobRunner, run_jobs
from xkaohe.run.commands import (
    DEFAULT_PLAN,
    ingest_week,
    note_ledger_use,
    run_indicators,
    run_lottery,
    run_synth,
)
from xkaohe.run.feedback_files import write_feedback
from xkaohe.run.sample import run_sample
from xkaohe.run.signoff import (
    ReportRef,
    demo_signoff,
    feedback_state,
    record_team_reports,
    signoff_status,
)
from xkaohe.yamltext import load_yaml_text


class RunParams(BaseModel):
    """A run parameter file; relative paths are relative to the current directory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: Path
    plan: Path
    seed: str
    frame: Path | None = None  # default: <run>/frame
    roster: Path | None = None  # default: <run>/roster
    field: Path | None = None  # default: <run>/field
    workers: int = Field(default=2, ge=1)
    timeout_seconds: int = Field(default=600, ge=10)
    as_of: dt.date | None = None  # review states and deadlines; default: the run date
    executor: Literal["local", "dask"] = "local"  # where the reports run
    scheduler: str | None = None  # the Dask scheduler's address, for executor: dask
    columns: Path | None = None  # header map of the inputs (params/columns.yaml), as --columns

    def input_dir(self, name: str) -> Path:
        given: Path | None = getattr(self, name)
        return given if given is not None else self.run / name


def load_run_params(path: Path) -> RunParams:
    data = load_yaml_text(read_text(path), str(path))
    try:
        return RunParams.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{path}: key '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()
        ]
        raise PlanError("\n".join(lines)) from None


def write_run_params(path: Path, params: RunParams) -> None:
    data = {
        k: str(v) if isinstance(v, Path | dt.date) else v
        for k, v in params.model_dump(exclude_none=True).items()
    }
    write_yaml(path, data)


# ------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Scoped:
    """A job and the slice of the results it reads."""

    job: Job
    county_codes: tuple[str, ...] | None  # None: the whole run
    city: str | None = None
    reads: tuple[str, ...] = ("results", "sample", "lottery")  # folders of tables it reads


def report_jobs(run: Path, only: str | None = None) -> list[Scoped]:
    """Every report of the run (or of one county or city), provincial last."""
    counties = read_counties(run / "frame").sort("city_name", "county_code")
    if only:
        chosen = counties.filter((pl.col("county_code") == only) | (pl.col("city_name") == only))
        if chosen.height == 0:
            raise InputError(
                Problem("--only", None, None, "a county code or city name of the run", repr(only))
            )
    else:
        chosen = counties
    jobs: list[Scoped] = []
    if not only and (run / "lottery").is_dir():
        jobs.append(
            Scoped(
                Job("lottery.ipynb", "lottery", "考核组组建与抽签结果", {}, "全省"),
                None,
                reads=("lottery",),  # a correction of the results never re-renders it
            )
        )
    whole_city = (
        only is not None
        and chosen["city_name"].n_unique() == 1
        and only in set(chosen["city_name"])
    )
    for city in chosen["city_name"].unique(maintain_order=True).to_list():
        mine = chosen.filter(pl.col("city_name") == city)
        if not only or whole_city:
            codes = tuple(counties.filter(pl.col("city_name") == city)["county_code"].to_list())
            jobs.append(
                Scoped(
                    Job(
                        "city_report.ipynb",
                        report_stem("city", city),
                        f"{city} 交叉考核报告",
                        {"city_name": city},
                        city,
                    ),
                    codes,
                    city,
                )
            )
            # 比对核查 (issue 13): every claim of the city and its counties with its evidence;
            # per city only, as each county report carries its county's comparison
            jobs.append(
                Scoped(
                    Job(
                        "compare.ipynb",
                        report_stem("compare", city),
                        f"{city} 比对核查：陈述与考核核实情况",
                        {"where": city},
                        city,
                    ),
                    codes,
                    city,
                )
            )
        for code, name, national, helper in mine.select(
            "county_code", "county_name", "national_poverty_county", "paired_helper_county"
        ).iter_rows():
            jobs.append(
                Scoped(
                    Job(
                        "county_report.ipynb",
                        report_stem("county", code),
                        f"{name} 交叉考核报告",
                        {"county_code": code},
                        city,
                    ),
                    (code,),
                    city,  # its 比对核查 shows the city's own claims too
                )
            )
            if national and helper:
                jobs.append(
                    Scoped(
                        Job(
                            "paired_report.ipynb",
                            report_stem("paired", code),
                            f"{name} 县域结对帮扶考核报告",
                            {"county_code": code},
                            city,
                        ),
                        (code,),
                    )
                )
            jobs.append(
                Scoped(
                    Job(
                        "county_sample.ipynb",
                        report_stem("sample", code),
                        f"{name} 抽样情况",
                        {"county_code": code},
                        city,
                    ),
                    (code,),
                )
            )
    if not only:
        jobs.append(
            Scoped(Job("field_progress.ipynb", "field_progress", "实地核查进度", {}, "全省"), None)
        )
        supervision = Job("supervision.ipynb", "supervision", "督查组：纪律遵守情况", {}, "全省")
        jobs.append(Scoped(supervision, None))  # 八(二)(三): the discipline register
        jobs += _rectification_job(run)
        jobs.append(
            Scoped(
                Job("provincial_report.ipynb", "provincial", "全省交叉考核总报告", {}, "全省"), None
            )
        )
    missing = sorted({s.job.notebook for s in jobs if not (NOTEBOOKS / s.job.notebook).exists()})
    if missing:  # a deleted notebook must not silently drop its reports
        raise InputError(
            Problem(str(NOTEBOOKS), None, None, "every report notebook", f"missing: {missing}")
        )
    return jobs


def _rectification_job(run: Path) -> list[Scoped]:
    """七(二): the rectification follow-up, once registers have come back (judged on
    :func:`~xkaohe.analyse.rectification.follow_up_date`, so it renders again each day)."""
    if not (run / "rectification" / "registers.parquet").is_file():
        return []
    day = follow_up_date(run_plan(run), is_synthetic(run), dt.date.today())
    as_of = {"as_of": day.isoformat()}
    job = Job("rectification.ipynb", "rectification", "整改落实情况", as_of, "全省")
    return [Scoped(job, None, reads=("results", "rectification", "feedback"))]


# ------------------------------------------------------------ fingerprints


def fingerprint(
    run: Path, scoped: Scoped, code: str, cache: dict[Path, pl.DataFrame] | None = None
) -> str:
    """What a report's output depends on; equal fingerprints mean nothing to redo."""
    h = hashlib.sha256()
    h.update(file_digest(NOTEBOOKS / scoped.job.notebook).encode())
    h.update(json.dumps(scoped.job.parameters, sort_keys=True, ensure_ascii=False).encode())
    h.update(code.encode())
    for path in input_tables(run):
        if path.parent.name not in scoped.reads:
            continue
        h.update(f"{path.parent.name}/{path.name}".encode())
        h.update(_slice_digest(path, scoped.county_codes, scoped.city, cache).encode())
    return h.hexdigest()


_SLICES: dict[tuple[object, ...], str] = {}
"""Slice digests by the table file's state: the index asks for every fingerprint again right
after the batch (1.8 s on the province), and a table changes only by being written anew."""


def _slice_digest(
    path: Path,
    codes: tuple[str, ...] | None,
    city: str | None,
    cache: dict[Path, pl.DataFrame] | None,
) -> str:
    key = (stamp([path]), codes, city)
    if key not in _SLICES:
        if len(_SLICES) > 100_000:  # a long-lived process: forget old states
            _SLICES.clear()
        _SLICES[key] = slice_digest(path, codes, city, cache)
    return _SLICES[key]


def _html(run: Path, scoped: Scoped) -> Path:
    return run / "reports" / f"{scoped.job.stem}.html"


def plan_reports(
    run: Path, jobs: list[Scoped]
) -> tuple[list[tuple[Scoped, str]], list[Scoped]]:
    """Split ``jobs`` into those to execute (with their new fingerprint) and those unchanged.

    Unchanged: the fingerprint recorded when the report last rendered equals
    today's and its HTML exists. That is also what the index may link.
    """
    known = read_store(run / "reports")
    code = code_digest(package_dir())
    todo, unchanged = [], []
    tables: dict[Path, pl.DataFrame] = {}  # each input table read once for all the jobs
    for scoped in jobs:
        fp = fingerprint(run, scoped, code, tables)
        if known.get(scoped.job.stem) == fp and _html(run, scoped).exists():
            unchanged.append(scoped)
        else:
            todo.append((scoped, fp))
    return todo, unchanged


def render_reports(
    run: Path,
    workers: int,
    timeout: int,
    only: str | None = None,
    progress: bool = True,
    runner: JobRunner = run_jobs,
    stems: set[str] | None = None,
) -> list[JobResult]:
    """Execute the reports whose inputs changed (on ``runner``); the others are skipped.

    ``stems``: execute only these reports (the demo's second pass: those that had
    no data before the sign-off), whatever else changed.
    """
    known = read_store(run / "reports")
    todo, unchanged = plan_reports(run, report_jobs(run, only))
    if stems is not None:
        unchanged += [s for s, _ in todo if s.job.stem not in stems]
        todo = [(s, fp) for s, fp in todo if s.job.stem in stems]
    skipped = {
        s.job.stem: JobResult(s.job, True, 0.0, str(_html(run, s)), skipped=True) for s in unchanged
    }

    def remember(res: JobResult) -> None:
        fp = next(f for s, f in todo if s.job.stem == res.job.stem)
        if res.ok:
            known[res.job.stem] = fp
        else:
            known.pop(res.job.stem, None)
        write_store(run / "reports", known)

    done = runner([s.job for s, _ in todo], run, workers, timeout, progress, on_done=remember)
    by_stem = {r.job.stem: r for r in done} | skipped
    return [by_stem[s.job.stem] for s in report_jobs(run, only)]


# ------------------------------------------------------------------ stages


@dataclass(frozen=True)
class Stage:
    """One stage of ``xkaohe run``: its name, what it says, and what it does.

    An action gets the parameters, the run folder, ``--only`` and the
    executor the reports run on.
    """

    name: str
    label: str
    action: Callable[[RunParams, Path, str | None, JobRunner], list[JobResult]]


def _sample(params: RunParams, run: Path, only: str | None, runner: JobRunner) -> list[JobResult]:
    run_sample(
        params.input_dir("frame"), params.plan, params.seed, run / "sample", columns=params.columns
    )
    return []


def _lottery(params: RunParams, run: Path, only: str | None, runner: JobRunner) -> list[JobResult]:
    if params.input_dir("roster").is_dir():  # a run without a roster has no lottery
        run_lottery(
            params.input_dir("roster"), params.plan, params.seed, run / "lottery", params.columns
        )
    return []


def _indicators(
    params: RunParams, run: Path, only: str | None, runner: JobRunner
) -> list[JobResult]:
    run_indicators(
        params.input_dir("frame"),
        run / "sample",
        params.input_dir("field"),
        params.plan,
        run / "results",
        params.as_of,
        params.columns,
    )
    return []


def _reports(params: RunParams, run: Path, only: str | None, runner: JobRunner) -> list[JobResult]:
    record_team_reports(
        run,
        (
            ReportRef(s.job.stem, s.job.notebook, s.job.group, s.county_codes or (), s.job.title)
            for s in report_jobs(run, only)
        ),
    )
    rendered = render_reports(run, params.workers, params.timeout_seconds, only, runner=runner)
    if any(r.ok and not r.skipped for r in rendered):
        note_ledger_use(run, "report")  # they show the field ledger as the results read it
    return rendered


def _feedback(params: RunParams, run: Path, only: str | None, runner: JobRunner) -> list[JobResult]:
    write_feedback(run)
    return []


REGISTRY: tuple[Stage, ...] = (
    Stage("sample", "抽样 sample", _sample),
    Stage("lottery", "抽签 lottery", _lottery),
    Stage("indicators", "指标 indicators", _indicators),
    Stage("reports", "报告 reports", _reports),
    Stage("feedback", "反馈 feedback", _feedback),
    Stage("index", "目录 index", lambda params, run, only, runner: []),  # written after the others
)


STAGES = tuple(stage.name for stage in REGISTRY)


def run_stages(
    params: RunParams,
    stages: tuple[str, ...] = STAGES,
    only: str | None = None,
    say: Callable[[str], None] = print,
    explicit: bool = False,
    runner: JobRunner | None = None,
) -> list[JobResult]:
    """Run the chosen stages in registry order; returns the report results (empty if none ran).

    ``explicit``: the stages were named (``--stage``), so one that cannot run is an error.
    ``runner``: what executes the reports; None is this machine's workers, which only
    ``executor: local`` allows (``xkaohe run`` hands a Dask run its cluster's runner).
    """
    run = params.run.resolve()
    if runner is None:
        if params.executor != "local":
            raise InputError(
                Problem(
                    "executor",
                    None,
                    None,
                    "local (a Dask run starts from xkaohe run)",
                    params.executor,
                )
            )
        runner = run_jobs
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise InputError(Problem("--stage", None, None, ", ".join(STAGES), ", ".join(unknown)))
    roster = params.input_dir("roster")
    if explicit and "lottery" in stages and not roster.is_dir():
        raise InputError(
            Problem(str(roster), None, None, "a roster for the lottery stage", "no such directory")
        )
    results: list[JobResult] = []
    try:
        for stage in REGISTRY:
            if stage.name not in stages:
                continue
            if stage.name != "reports":  # the batch has its own progress bar
                say(f"{stage.label} ...")
            results += stage.action(params, run, only, runner)
    except Interrupted as stop:  # Ctrl-C in the batch: index what finished, then stop
        if "index" in stages:
            failed = {r.job.stem: r.error for r in stop.results if not r.ok}
            refresh_index(run, load_plan(params.plan), failed)
        raise
    if "index" in stages:
        failed = {r.job.stem: r.error for r in results if not r.ok}
        refresh_index(run, load_plan(params.plan), failed)
    return results


def refresh_index(
    run: Path, plan: Plan | None = None, failed: dict[str, str] | None = None
) -> Path:
    """Write ``reports/index.html`` again, with every team report's sign-off state."""
    plan = plan or run_plan(run)
    labels = index_labels(signoff_status(run, plan)) if (run / "signatures").is_dir() else {}
    jobs = report_jobs(run)
    current = {s.job.stem for s in plan_reports(run, jobs)[1]}
    notes = feedback_labels(feedback_state(run)) | {"supervision": discipline_note(run)}
    notes |= {
        s.job.stem: rectification_note(run, str(s.job.parameters["as_of"]))
        for s in jobs
        if s.job.stem == "rectification"
    }
    return write_index(
        run,
        index_status(run),
        f"{plan.title} 报告目录",
        failed,
        labels,
        current=current,
        notes=notes,
    )


def index_status(run: Path) -> pl.DataFrame:
    """Per county: the stored verdict in its scope's wording and colour, completeness (index)."""
    verdicts = read_result(run, Result.COUNTY_VERDICTS)
    comp = (
        read_result(run, Result.COMPLETENESS)
        .filter(pl.col("unit") == "county")
        .select(pl.col("code").alias("county_code"), "ok", "shortfall")
    )
    colour = pl.col("verdict").replace_strict(codes.VERDICT.colours(), default=codes.NO_DATA_COLOUR)
    return verdicts.select(
        "county_code",
        "verdict",
        codes.by_scope(pl.col("verdict"), pl.col("scope"), "verdict").alias("verdict_label"),
        colour.alias("verdict_colour"),
    ).join(comp, on="county_code", how="left")


def prepare_demo_run(
    out: Path,
    scale: str = "small",
    seed: str = "demo",
    plan_path: Path = DEFAULT_PLAN,
    field_lists: bool = True,
) -> None:
    """Everything of the demo cycle before the notebooks: synthesis, sample, lottery, results."""

    run_synth(out, scale, seed, plan_path, deliveries=False)  # the field folder, not ingested
    mark_synthetic(out, f"synthetic demo province, scale {scale}, seed {seed!r}")
    run_sample(out / "frame", plan_path, seed, out / "sample", field_lists=field_lists)
    run_lottery(out / "roster", plan_path, seed, out / "lottery")
    run_indicators(out / "frame", out / "sample", out / "field", plan_path, out / "results")


def run_demo(
    out: Path,
    scale: str = "small",
    workers: int = 2,
    seed: str = "demo",
    plan_path: Path = DEFAULT_PLAN,
    say: Callable[[str], None] = print,
) -> list[JobResult]:
    """``xkaohe demo``: synthesise, every stage of ``xkaohe run``, then the sign-off; run.yaml.

    When every report rendered, the demo's sign-off (:func:`xkaohe.run.signoff.demo_signoff`:
    keys, signatures, one report changed after signing, one city unsigned, feedback
    released for the others, a returned register) and the reports that only now have
    their data (the rectification follow-up) are rendered, and the index written again.
    ``make report`` runs this same command.
    """

    run_synth(out, scale, seed, plan_path)
    mark_synthetic(out, f"synthetic demo province, scale {scale}, seed {seed!r}")
    params = RunParams(run=out, plan=plan_path, seed=seed, workers=workers)
    write_run_params(out / "run.yaml", params)
    drawn = run_stages(params, ("sample", "lottery"), say=say)
    ingest_week(out)  # the field week arrives day by day (DESIGN.md "Field ledger")
    rest = tuple(s for s in STAGES if s not in ("sample", "lottery"))
    results = drawn + run_stages(params, rest, say=say)
    if not all(r.ok for r in results):
        return results
    shown = demo_signoff(out)  # sign-off, release and a returned register (synthetic)
    say(
        f"sign-off (synthetic): {len(shown['signed'])} team reports signed, "
        f"{shown['changed']} changed after signing, {shown['unsigned_city']} not signed; "
        f"feedback released for {len(shown['released'])} cities"
    )
    # the reports that only now have data (the rectification follow-up); signed ones stay
    new = {s.job.stem for s in report_jobs(out)} - {r.job.stem for r in results}
    again = render_reports(out, workers, params.timeout_seconds, stems=new)
    refresh_index(out)
    return results + [r for r in again if r.job.stem in new]
