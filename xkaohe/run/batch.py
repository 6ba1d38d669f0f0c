"""Execute parameterised notebooks and render them to offline HTML, fast and safely.

Speed: each worker process starts ONE kernel and keeps it warm
(:class:`WarmKernel`); a notebook is parameterised the papermill way (its
``parameters`` cell followed by an ``injected-parameters`` cell), run in that
kernel after its namespace is reset, and rendered to HTML in the worker
itself. So the ~3 s of kernel start and imports is paid once per worker, not
once per notebook. What a notebook's half second used to go on, and what
removed it (profile in issue 16):

* the namespace reset's full garbage collection walked every object of the
  imported libraries (plotly, polars, pandas: 0.3-1 s a notebook on a busy
  machine). The kernel imports the report modules once when it starts and
  freezes what survives (:func:`gc.freeze`), so a collection only looks at
  what the last notebook left; the kernel keeps no input history database;
* parsing the plan (pure-Python YAML) and reading the results store, the
  sample package and the frame's counties and villages again for every
  notebook: the readers remember what they read while the files are
  unchanged (:mod:`xkaohe.io.memo`), so a warm kernel serves every slice
  from memory;
* a new kernel client (sockets, a kernel-info round trip) for every notebook,
  never closed: one client per warm kernel now;
* writing the executed notebook and reading it back to render it, with
  nbconvert validating it after each of twelve (mostly disabled)
  preprocessors: rendered from memory by one lean exporter per process
  (:func:`xkaohe.io.render.report_html`).

Rendering is deterministic: the injected cell and the plotly figures get
fixed ids, so the same results give the same HTML byte for byte, whichever
machine or executor rendered it (``--executor dask``:
:mod:`xkaohe.run.dask_executor`).

Safety: a failing notebook never stops the others; its result names the
notebook, parameters, the cell and the error, and its executed copy is kept
for debugging. A cell that runs longer than the timeout is interrupted, the
kernel is restarted, and the batch goes on; a kernel that dies is replaced.
Kernels are shut down when their worker ends.

Ctrl-C (SIGINT to the driver, or to the whole terminal's process group)
stops the batch within seconds: queued notebooks are cancelled; each worker
is told to stop (SIGUSR1: nbclient takes over SIGINT and SIGTERM while a
notebook runs, shuts the kernel down on them and lets the worker carry on
with the next notebook), interrupts its running kernel, kills it and exits;
a worker that does not exit in :data:`STOP_GRACE` seconds is killed (its
kernel then exits by itself: a kernel watches its parent). What finished is
kept — its HTML and the ``on_done`` callback (the fingerprints) ran as each
notebook finished — and :class:`Interrupted` carries those results up, so the
caller can write the index before exiting with status 130. Workers ignore
SIGINT themselves: only the driver decides, so no worker dies mid-write.

Rendered HTML hides code, speaks Chinese, loads plotly.js from one shared
local copy (``reports/assets/plotly.min.js``) and has no external URL.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.util import Finalize
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from jupyter_core.utils import run_sync
from tqdm import tqdm

from xkaohe.io.files import atomic_path
from xkaohe.io.paths import inside
from xkaohe.io.render import footer_html, install_plotlyjs, write_report_html
from xkaohe.io.resources import notebooks_dir
from xkaohe.report.kit import PLOTLYJS_ENV, RUN_ENV

NOTEBOOKS = notebooks_dir()  # the checkout's notebooks/, or the wheel's copy
PLOTLYJS_SRC = "assets/plotly.min.js"
KERNEL = "python3"
KERNEL_ARGS = ("--HistoryManager.enabled=False",)  # no SQLite history written per cell
ASYNC_CLIENT = "jupyter_client.asynchronous.AsyncKernelClient"
STARTUP_TIMEOUT = 120  # seconds for a kernel to start and import the report modules
STOP_GRACE = 5.0  # seconds a worker gets to stop its kernel and exit after Ctrl-C
_POLL = 0.2  # seconds between looks at the interrupt flag while notebooks run
INJECTED_ID = "injected-parameters"  # papermill gives the cell a random id: fixed, for same HTML
# Run once when a kernel starts: the report modules imported (a module that fails to
# import fails its own notebooks, with its error), then everything alive frozen out of
# the garbage collector's sight: ~100k objects of plotly, polars and pandas.
_WARM_UP = """\
import gc, importlib, pkgutil
import xkaohe.report
for _m in pkgutil.iter_modules(xkaohe.report.__path__):
    try:
        importlib.import_module("xkaohe.report." + _m.name)
    except Exception:
        pass
import plotly.graph_objects, plotly.io
gc.collect()
gc.freeze()
"""
# Run before every notebook in a warm kernel: a clean namespace and fresh report state.
# %reset ends with a full collection, of what the last notebook left only (the rest is
# frozen); what survives it is long-lived (module state, io.memo) and is frozen too.
_RESET = (
    "get_ipython().run_line_magic('reset', '-f')\n"
    "import xkaohe.report.kit\n"
    "xkaohe.report.kit.start_notebook()\n"
    "__import__('gc').freeze()"
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


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the batch; ``results`` are the notebooks that finished before it."""

    def __init__(self, results: list[JobResult], total: int) -> None:
        super().__init__(f"{len(results)} of {total} notebooks finished before the interrupt")
        self.results = results
        self.total = total


class JobRunner(Protocol):
    """What executes a batch: :func:`run_jobs` here, or a Dask cluster's runner.

    Results come back in job order; ``on_done`` sees each result as it
    arrives; Ctrl-C raises :class:`Interrupted` with what finished.
    """

    def __call__(
        self,
        jobs: Iterable[Job],
        run: Path,
        workers: int = 2,
        timeout: int = 600,
        progress: bool = True,
        on_done: Callable[[JobResult], None] | None = None,
    ) -> list[JobResult]: ...


# ---------------------------------------------------------------- worker side


class WarmKernel:
    """One Python kernel, and the client that talks to it, kept for many notebooks."""

    def __init__(self) -> None:
        self.km: Any = None  # jupyter_client KernelManager
        self.kc: Any = None  # its (asynchronous) client, reused by every notebook

    def ready(self) -> tuple[Any, Any]:
        """The running kernel and its client; a new kernel (warmed up) if there is none."""
        if self.km is None or not self.km.is_alive():
            self.stop()
            self._start()
        return self.km, self.kc

    def _start(self) -> None:
        from jupyter_client.manager import KernelManager

        # An asynchronous client, as nbclient expects: with a blocking one, nbclient's
        # wait for output blocks its event loop, and a cell's timeout never fires.
        km = KernelManager(kernel_name=KERNEL, client_class=ASYNC_CLIENT)
        km.start_kernel(
            cwd=str(NOTEBOOKS),
            extra_arguments=list(KERNEL_ARGS),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        kc: Any = km.client()  # an AsyncKernelClient (client_class)
        kc.start_channels()
        try:  # run_sync: this thread's one event loop, the one nbclient runs in too
            run_sync(kc.wait_for_ready)(timeout=STARTUP_TIMEOUT)
            run_sync(kc.execute_interactive)(
                _WARM_UP, store_history=False, timeout=STARTUP_TIMEOUT, output_hook=_ignore
            )
        except BaseException:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            raise
        self.km, self.kc = km, kc

    def stop(self) -> None:
        """Shut the kernel down (a stuck or dead one is replaced by the next :meth:`ready`)."""
        km, kc = self.km, self.kc
        self.km = self.kc = None
        if kc is not None:
            with suppress(Exception):
                kc.stop_channels()
        if km is not None:
            km.shutdown_kernel(now=True)

    def interrupt(self) -> None:
        """SIGINT to the kernel: its running cell fails, and the notebook with it."""
        if self.km is not None:
            with suppress(Exception):
                self.km.interrupt_kernel()

    def kill(self) -> None:
        """Interrupt the kernel, then kill its process group (it runs in its own session)."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is None:
            return
        for sig in (signal.SIGINT, getattr(signal, "SIGKILL", signal.SIGTERM)):
            if process.poll() is not None:
                break
            with suppress(ProcessLookupError, PermissionError):
                if sys.platform == "win32":
                    process.kill()
                else:
                    os.killpg(process.pid, sig)
            with suppress(subprocess.TimeoutExpired):
                process.wait(0.5)
        with suppress(Exception):  # best effort: the process is gone either way
            self.km.cleanup_connection_file()


def _ignore(msg: dict[str, Any]) -> None:
    """Output of the warm-up cell: nobody reads it."""


_warm = WarmKernel()  # this worker process's kernel


_STOP = getattr(signal, "SIGUSR1", signal.SIGTERM)
"""How the driver tells a worker to stop: a signal nbclient leaves alone (SIGTERM on Windows)."""
_in_worker = False  # set in a batch worker process: its signal handlers are ours to keep


def _quiet_interrupts() -> None:
    """A worker ignores SIGINT (Ctrl-C is the driver's); nbclient resets it after a notebook."""
    if _in_worker and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _on_stop(signum: int, frame: FrameType | None) -> None:
    """The driver's stop signal after Ctrl-C (:data:`_STOP`): stop the kernel now and leave.

    Leaving is certain: an exception from stopping the kernel would otherwise
    surface in the running notebook, fail it, and let this worker take the next.
    """
    try:
        _warm.kill()
    finally:
        os._exit(130)


def kernel_environment(run: str | None = None) -> None:
    """Environment the kernels started from this process inherit (before they start)."""
    if run is not None:
        os.environ[RUN_ENV] = run
    os.environ[PLOTLYJS_ENV] = PLOTLYJS_SRC
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def _init_worker(run: str) -> None:
    """Environment for the kernels of this worker; the kernel is shut down at exit."""
    global _in_worker
    kernel_environment(run)
    _in_worker = True
    _quiet_interrupts()  # Ctrl-C is the driver's to handle
    signal.signal(_STOP, _on_stop)
    Finalize(None, _warm.stop, exitpriority=10)
    atexit.register(_warm.stop)


def _failed_cell(nb: Any) -> str:
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {i}"
    return "a cell"


def execute_job(
    job: Job, run: str, timeout: int, footer: str, kernel: WarmKernel | None = None
) -> JobResult:
    """Parameterise, execute in a warm kernel (this process's by default), render. Never raises."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    warm = kernel if kernel is not None else _warm
    start = time.perf_counter()
    run_dir = Path(run).resolve()  # notebooks run from notebooks/: hand them an absolute path
    nb: Any = None
    try:
        executed = inside(run_dir, run_dir / "notebooks" / f"{job.stem}.ipynb")
        html = inside(run_dir, run_dir / "reports" / f"{job.stem}.html")
        source = NOTEBOOKS / job.notebook
        if not source.is_file():
            return JobResult(job, False, 0.0, error=f"notebook {source} not found")
        nb = load_notebook_node(str(source))  # papermill's cell metadata
        nb = parameterize_notebook(  # the batch's kernel is Python, whatever the metadata says
            nb, {**job.parameters, "run_dir": str(run_dir)}, kernel_name=KERNEL, language="python"
        )
        for cell in nb.cells:
            if INJECTED_ID in cell.metadata.get("tags", []):
                cell.id = INJECTED_ID
        reset = nbformat.v4.new_code_cell(_RESET)
        nb.cells.insert(0, reset)
        km, kc = warm.ready()
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        client.kc = kc  # the warm kernel's client: no new sockets and handshake per notebook
        try:
            client.execute()
        finally:
            _quiet_interrupts()
            atexit.unregister(client._cleanup_kernel)
            nb.cells.remove(reset)
            with atomic_path(executed) as tmp:
                nbformat.write(nb, str(tmp))
        write_report_html(nb, html, job.title, footer)
        return JobResult(job, True, time.perf_counter() - start, html=str(html))
    except CellExecutionError as exc:
        where = _failed_cell(nb) if nb is not None else "a cell"
        return JobResult(
            job, False, time.perf_counter() - start, error=f"{where}: {exc.ename}: {exc.evalue}"
        )
    except (CellTimeoutError, DeadKernelError, TimeoutError) as exc:
        warm.stop()  # a stuck or dead kernel is replaced for the next notebook
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


def prepare_reports(run: Path) -> str:
    """The shared plotly.js in place; the footer every report of ``run`` carries."""
    install_plotlyjs(run / "reports" / PLOTLYJS_SRC)
    return footer_html(run)


@contextmanager
def interrupt_flag() -> Iterator[threading.Event]:
    """An event set by Ctrl-C while the block runs (the main thread only; else never set)."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued; tell every worker to stop its kernel and exit; kill stragglers."""
    processes = list(getattr(pool, "_processes", {}).values())  # the executor keeps them here
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive() and p.pid is not None:
            with suppress(ProcessLookupError):
                os.kill(p.pid, _STOP)  # the worker's _on_stop
    deadline = time.monotonic() + STOP_GRACE
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(1.0)


def run_jobs(
    jobs: Iterable[Job],
    run: Path,
    workers: int = 2,
    timeout: int = 600,
    progress: bool = True,
    on_done: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Execute every job on ``workers`` warm-kernel processes; results in job order.

    Raises
    ------
    Interrupted
        On Ctrl-C, after the workers and their kernels are stopped; carries the
        results of the notebooks that finished (``on_done`` has seen each).
    """
    job_list = list(jobs)
    if not job_list:
        return []
    footer = prepare_reports(run)
    results: dict[int, JobResult] = {}
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(job_list))),
        initializer=_init_worker,
        initargs=(str(run),),
    )
    with (
        tqdm(total=len(job_list), desc="报告", unit="nb", disable=not progress or None) as bar,
        interrupt_flag() as interrupted,
    ):
        try:
            futures: dict[Future[JobResult], int] = {
                pool.submit(execute_job, job, str(run), timeout, footer): i
                for i, job in enumerate(job_list)
            }
            pending = set(futures)
            while pending and not interrupted.is_set():
                done, pending = wait(pending, timeout=_POLL, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=futures.__getitem__):
                    i = futures[fut]
                    try:
                        res = fut.result()
                    except BrokenProcessPool as exc:  # a worker was killed: report, go on
                        res = JobResult(
                            job_list[i], False, 0.0, error=f"worker process died: {exc}"
                        )
                    results[i] = res
                    bar.update(1)
                    if on_done is not None:
                        on_done(res)
                    if not res.ok:
                        bar.write(
                            f"失败 FAILED {res.job.notebook} {res.job.parameters}: {res.error}"
                        )
        except KeyboardInterrupt:  # Ctrl-C outside the wait (off the main thread's handler)
            interrupted.set()
        if interrupted.is_set():
            signal_guard = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main() else None
            try:
                _stop_pool(pool)
            finally:
                if signal_guard is not None:
                    signal.signal(signal.SIGINT, signal_guard)
            raise Interrupted([results[i] for i in sorted(results)], len(job_list))
    pool.shutdown(wait=True)
    return [results[i] for i in range(len(job_list))]


def _main() -> bool:
    return threading.current_thread() is threading.main_thread()
