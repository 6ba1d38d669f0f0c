"""Execute parameterised notebooks and render them to offline HTML, fast and safely.

Speed: each worker process starts ONE kernel and keeps it warm; a notebook is
parameterised the papermill way (its ``parameters`` cell followed by an
``injected-parameters`` cell), run in that kernel after its namespace is
reset, and rendered to HTML in the worker itself. So the ~3 s of kernel start
and imports is paid once per worker, not once per notebook.

Safety: a failing notebook never stops the others; its result names the
notebook, parameters, the cell and the error, and its executed copy is kept
for debugging. A cell that runs longer than the timeout is interrupted, the
kernel is restarted, and the batch goes on; a kernel that dies is replaced.
Kernels are shut down when their worker ends.

Rendered HTML hides code, speaks Chinese, loads plotly.js from one shared
local copy (``reports/assets/plotly.min.js``) and has no external URL.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Any

from tqdm import tqdm

from xkaohe.io.render import footer_html, install_plotlyjs, write_report_html
from xkaohe.io.resources import notebooks_dir
from xkaohe.report.kit import PLOTLYJS_ENV, RUN_ENV

NOTEBOOKS = notebooks_dir()  # the checkout's notebooks/, or the wheel's copy
PLOTLYJS_SRC = "assets/plotly.min.js"
KERNEL = "python3"
# Run before every notebook in a warm kernel: a clean namespace and fresh report state.
_RESET = (
    "get_ipython().run_line_magic('reset', '-f')\n"
    "import xkaohe.report.kit\n"
    "xkaohe.report.kit.start_notebook()"
)


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
    skipped: bool = False  # inputs unchanged since the last successful run


# ---------------------------------------------------------------- worker side

_kernel: Any = None  # this worker's warm KernelManager


def _start_kernel() -> Any:
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=KERNEL)
    km.start_kernel(cwd=str(NOTEBOOKS), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return km


def _stop_kernel() -> None:
    global _kernel
    if _kernel is not None:
        try:
            _kernel.shutdown_kernel(now=True)
        finally:
            _kernel = None


def _init_worker(run: str) -> None:
    """Environment for the kernels of this worker; the kernel is shut down at exit."""
    os.environ[RUN_ENV] = run
    os.environ[PLOTLYJS_ENV] = PLOTLYJS_SRC
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    Finalize(None, _stop_kernel, exitpriority=10)
    atexit.register(_stop_kernel)


def _failed_cell(nb: Any) -> str:
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {i}"
    return "a cell"


def execute_job(job: Job, run: str, timeout: int, footer: str) -> JobResult:
    """Run in a worker: parameterise, execute in the warm kernel, render. Never raises."""
    global _kernel
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    start = time.perf_counter()
    run_dir = Path(run).resolve()  # notebooks run from notebooks/: hand them an absolute path
    executed = run_dir / "notebooks" / f"{job.stem}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    nb: Any = None
    try:
        nb = load_notebook_node(str(NOTEBOOKS / job.notebook))  # papermill's cell metadata
        nb = parameterize_notebook(nb, {**job.parameters, "run_dir": str(run_dir)})
        reset = nbformat.v4.new_code_cell(_RESET)
        nb.cells.insert(0, reset)
        if _kernel is None or not _kernel.is_alive():
            _stop_kernel()
            _kernel = _start_kernel()
        client = NotebookClient(
            nb,
            km=_kernel,
            timeout=timeout,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        try:
            client.execute()
        finally:
            atexit.unregister(client._cleanup_kernel)
            nb.cells.remove(reset)
            nbformat.write(nb, str(executed))
        html = run_dir / "reports" / f"{job.stem}.html"
        write_report_html(executed, html, job.title, footer)
        return JobResult(job, True, time.perf_counter() - start, html=str(html))
    except CellExecutionError as exc:
        where = _failed_cell(nb) if nb is not None else "a cell"
        return JobResult(
            job, False, time.perf_counter() - start, error=f"{where}: {exc.ename}: {exc.evalue}"
        )
    except (CellTimeoutError, DeadKernelError, TimeoutError) as exc:
        _stop_kernel()  # a stuck or dead kernel is replaced for the next notebook
        return JobResult(
            job,
            False,
            time.perf_counter() - start,
            error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
        )
    except Exception as exc:  # a worker must report, never take the batch down
        return JobResult(
            job, False, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}"
        )


# ---------------------------------------------------------------- driver side


def run_jobs(
    jobs: Iterable[Job],
    run: Path,
    workers: int = 2,
    timeout: int = 600,
    progress: bool = True,
    on_done: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Execute every job on ``workers`` warm-kernel processes; results in job order."""
    job_list = list(jobs)
    if not job_list:
        return []
    install_plotlyjs(run / "reports" / PLOTLYJS_SRC)
    footer = footer_html(run)
    results: dict[int, JobResult] = {}
    with (
        tqdm(total=len(job_list), desc="报告", unit="nb", disable=not progress or None) as bar,
        ProcessPoolExecutor(
            max_workers=max(1, min(workers, len(job_list))),
            initializer=_init_worker,
            initargs=(str(run),),
        ) as pool,
    ):
        futures = {
            pool.submit(execute_job, job, str(run), timeout, footer): i
            for i, job in enumerate(job_list)
        }
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                res = fut.result()
            except BrokenProcessPool as exc:  # a worker was killed: report, go on
                res = JobResult(job_list[i], False, 0.0, error=f"worker process died: {exc}")
            results[i] = res
            bar.update(1)
            if on_done is not None:
                on_done(res)
            if not res.ok:
                bar.write(f"失败 FAILED {res.job.notebook} {res.job.parameters}: {res.error}")
    return [results[i] for i in range(len(job_list))]
