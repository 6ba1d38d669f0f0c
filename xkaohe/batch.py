"""Execute parameterised notebooks with papermill and render them to HTML.

Each job runs in a worker process (a failure never stops the others); the
result names the notebook, its parameters, the failing cell and the error.
Rendered HTML hides code, speaks Chinese, loads plotly.js from one shared
local copy (``reports/assets/plotly.min.js``) and has no external URL, so a
reviewer can open it on an offline intranet PC.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xkaohe.io.render import footer_html, write_report_html
from xkaohe.report import PLOTLYJS_ENV, RUN_ENV

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PLOTLYJS_SRC = "assets/plotly.min.js"


@dataclass(frozen=True)
class Job:
    """One notebook to execute with its parameters; ``stem`` names its outputs."""

    notebook: str
    stem: str
    title: str
    parameters: dict[str, Any] = field(default_factory=dict)
    group: str = ""  # what index.html lists it under (e.g. the city)


@dataclass(frozen=True)
class JobResult:
    job: Job
    ok: bool
    seconds: float
    html: str = ""
    error: str = ""


def _execute(job: Job, run: str, timeout: int, footer: str) -> JobResult:
    """Run in a worker: papermill, then HTML. Exceptions become a failed result."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    run_dir = Path(run)
    executed = run_dir / "notebooks" / f"{job.stem}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    os.environ[RUN_ENV] = str(run_dir)
    os.environ[PLOTLYJS_ENV] = PLOTLYJS_SRC
    try:
        pm.execute_notebook(
            str(NOTEBOOKS / job.notebook),
            str(executed),
            parameters={**job.parameters, "run_dir": str(run_dir)},
            cwd=str(NOTEBOOKS),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
            log_output=False,
        )
        html = run_dir / "reports" / f"{job.stem}.html"
        write_report_html(executed, html, job.title, footer)
        return JobResult(job, True, time.perf_counter() - start, html=str(html))
    except PapermillExecutionError as exc:
        where = f"cell {exc.exec_count}" if exc.exec_count else f"cell index {exc.cell_index}"
        message = f"{where}: {exc.ename}: {exc.evalue}"
        return JobResult(job, False, time.perf_counter() - start, error=message)
    except Exception as exc:  # a worker must report, never take the batch down
        return JobResult(
            job, False, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}"
        )


def run_jobs(
    jobs: Iterable[Job], run: Path, workers: int = 2, timeout: int = 600, progress: bool = True
) -> list[JobResult]:
    """Execute every job on ``workers`` processes; results in job order."""
    from tqdm import tqdm

    from xkaohe.io.render import install_plotlyjs

    job_list = list(jobs)
    install_plotlyjs(run / "reports" / PLOTLYJS_SRC)
    footer = footer_html(run)
    results: dict[int, JobResult] = {}
    with (
        ProcessPoolExecutor(max_workers=max(1, workers)) as pool,
        tqdm(total=len(job_list), desc="notebooks", unit="nb", disable=not progress) as bar,
    ):
        futures = {
            pool.submit(_execute, job, str(run), timeout, footer): i
            for i, job in enumerate(job_list)
        }
        for fut in as_completed(futures):
            res = fut.result()
            results[futures[fut]] = res
            bar.update(1)
            if not res.ok:
                bar.write(f"FAILED {res.job.notebook} {res.job.parameters}: {res.error}")
    return [results[i] for i in range(len(job_list))]
