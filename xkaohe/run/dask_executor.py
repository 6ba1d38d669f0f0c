"""Render the report batch on an existing Dask cluster (``xkaohe run --executor dask``).

The local executor (:func:`xkaohe.run.batch.run_jobs`) keeps one warm kernel
per worker process of this machine; this one hands the same jobs to the
workers of a ``dask.distributed`` cluster, and behaves the same way:

* **Warm kernels.** :class:`WarmKernels`, a worker plugin registered with
  ``client.register_plugin``, gives every worker thread one
  :class:`~xkaohe.run.batch.WarmKernel`, started at its first notebook and
  kept for the next ones (and the next batches: the plugin is idempotent),
  shut down when the worker closes. Each task is
  :func:`~xkaohe.run.batch.execute_job` itself: the same parameterisation,
  execution, timeout and rendering as a local run, so the HTML is identical
  byte for byte.
* **Failures and timeouts** come back as failed results naming the notebook,
  the cell and the error; a cell past the timeout is interrupted and its
  kernel replaced; a worker that dies under a notebook fails that notebook
  (after Dask's own retries on other workers), never the batch.
* **Progress, fingerprints, summary.** Results arrive at the driver as they
  finish: the progress bar, the ``on_done`` callback (fingerprints) and the
  returned list (in job order) are the local run's. Ctrl-C cancels what is
  queued, interrupts the running kernels and raises
  :class:`~xkaohe.run.batch.Interrupted` with what finished.

**The run folder must be on a filesystem every worker mounts at the same
path** (NFS, a cluster's shared home or scratch): workers read the results
store and write ``notebooks/`` and ``reports/`` there directly; only job
descriptions and results (a few hundred bytes each) travel through Dask.
Every worker must also have the same xkaohe installed (code and notebooks):
the batch checks both, and the run folder, on every worker before it starts,
and refuses with a message naming the worker otherwise.

Dask is an optional extra (``pip install 'xkaohe[dask]'``); nothing else in
xkaohe imports this module, so a local run needs no Dask. The cluster itself
is started by the user — ``dask scheduler`` and ``dask worker`` by hand, a
batch system through dask-jobqueue, or Kubernetes through dask-kubernetes or
the Dask helm chart (README, "Reports on a Dask cluster").
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import Client, Future, WorkerPlugin, get_worker
from tqdm import tqdm

from xkaohe.errors import InputError, Problem
from xkaohe.io.fingerprints import code_digest, folder_digest
from xkaohe.io.resources import package_dir
from xkaohe.run.batch import (
    NOTEBOOKS,
    Interrupted,
    Job,
    JobResult,
    WarmKernel,
    execute_job,
    interrupt_flag,
    kernel_environment,
    prepare_reports,
)

PLUGIN = "xkaohe-warm-kernels"
CONNECT_TIMEOUT = 30.0  # seconds to reach the scheduler and to see a first worker
_POLL = 0.2  # seconds between looks at the interrupt flag while notebooks run


class WarmKernels(WorkerPlugin):
    """One warm kernel per worker thread (a worker started with ``--nthreads N`` gets N)."""

    idempotent = True  # registering again (a second batch) keeps the running kernels
    name = PLUGIN

    def setup(self, worker: Any) -> None:
        kernel_environment()  # before any kernel of this worker starts
        self._kernels: dict[int, WarmKernel] = {}
        self._lock = threading.Lock()

    def teardown(self, worker: Any) -> None:
        with self._lock:
            kernels, self._kernels = list(self._kernels.values()), {}
        for kernel in kernels:
            kernel.stop()

    def kernel(self) -> WarmKernel:
        """The calling thread's kernel (each task runs in one of the worker's threads)."""
        with self._lock:
            return self._kernels.setdefault(threading.get_ident(), WarmKernel())

    def interrupt(self) -> None:
        """Interrupt every running notebook of this worker (Ctrl-C at the driver)."""
        with self._lock:
            kernels = list(self._kernels.values())
        for kernel in kernels:
            kernel.interrupt()


def _plugin() -> WarmKernels:
    plugin = get_worker().plugins[PLUGIN]
    if not isinstance(plugin, WarmKernels):
        raise TypeError(f"worker plugin {PLUGIN!r} is a {type(plugin).__name__}")
    return plugin


def _render(job: Job, run: str, timeout: int, footer: str) -> JobResult:
    """One task: the job in this worker thread's warm kernel (never raises)."""
    return execute_job(job, run, timeout, footer, kernel=_plugin().kernel())


def _interrupt_worker() -> None:
    _plugin().interrupt()


def _notebooks_digest() -> str:
    return folder_digest(NOTEBOOKS, "*.ipynb", recursive=False)  # not .ipynb_checkpoints/


def installation() -> dict[str, str]:
    """Digests of the installed xkaohe's code and notebooks, as on disk now."""
    return {
        "code": code_digest(package_dir()),
        "notebooks": _notebooks_digest(),
    }


LOADED_CODE = installation()["code"]
"""The code this process loaded (when it imported this module): a worker started before
xkaohe was upgraded runs the old code though the files on disk are new."""


def _worker_view(run: str) -> dict[str, Any]:
    """What a worker runs: the code it loaded, the notebooks it would read, the run folder."""
    return {
        "code": LOADED_CODE,
        "notebooks": _notebooks_digest(),
        "run": (Path(run) / "results").is_dir(),
    }


def check_workers(client: Client, run: Path) -> int:
    """The number of workers, after checking each one sees ``run`` and runs this xkaohe.

    Raises
    ------
    InputError
        No worker joined, a worker cannot see the run folder (not on a
        shared filesystem, or mounted elsewhere), or runs another xkaohe.
    """
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise InputError(
            Problem(
                "--scheduler",
                None,
                None,
                "a scheduler with at least one worker",
                f"no worker joined the scheduler in {CONNECT_TIMEOUT:g} s",
            )
        ) from None
    views: dict[str, dict[str, Any]] = client.run(_worker_view, str(run))
    here = installation()  # what this machine's fingerprints record: the files as they are
    problems = []
    for address, view in sorted(views.items()):
        if not view["run"]:
            problems.append(
                Problem(
                    str(run),
                    None,
                    None,
                    "the run folder on a filesystem every worker mounts at the same path",
                    f"worker {address} sees no {run / 'results'}",
                )
            )
        for part in ("code", "notebooks"):
            if view[part] != here[part]:
                problems.append(
                    Problem(
                        f"worker {address}",
                        None,
                        None,
                        f"the same xkaohe {part} as this machine (install the same version)",
                        f"{part} digest {view[part][:12]}… (here {here[part][:12]}…)",
                    )
                )
    if problems:
        raise InputError(problems)
    return len(views)


def _connect(scheduler: str) -> Client:
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        why = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise InputError(
            Problem(
                "--scheduler",
                None,
                None,
                "the address of a running Dask scheduler (e.g. tcp://host:8786)",
                f"{scheduler}: {why}",
            )
        ) from None


def _outcome(fut: Future[JobResult], job: Job) -> JobResult:
    """A finished task as a job result: a task that failed in Dask fails its notebook only."""
    if fut.status == "finished":
        res = fut.result()
        if isinstance(res, JobResult):
            return res
        return JobResult(job, False, 0.0, error=f"the task returned {type(res).__name__}")
    if fut.status == "error":
        exc = fut.exception()
        return JobResult(job, False, 0.0, error=f"worker failed: {type(exc).__name__}: {exc}")
    return JobResult(job, False, 0.0, error=f"the task was {fut.status} by the cluster")


@dataclass(frozen=True)
class DaskRunner:
    """A :class:`~xkaohe.run.batch.JobRunner` on the cluster of ``scheduler``.

    ``workers`` is ignored: the cluster's workers and their threads decide
    how many notebooks run at once.
    """

    scheduler: str

    def __call__(
        self,
        jobs: Iterable[Job],
        run: Path,
        workers: int = 2,
        timeout: int = 600,
        progress: bool = True,
        on_done: Callable[[JobResult], None] | None = None,
    ) -> list[JobResult]:
        job_list = list(jobs)
        if not job_list:
            return []
        run_dir = run.resolve()  # the same path on every worker (a shared filesystem)
        footer = prepare_reports(run_dir)
        client = _connect(self.scheduler)
        try:
            check_workers(client, run_dir)
            client.register_plugin(WarmKernels(), name=PLUGIN)
            return self._run(client, job_list, run_dir, timeout, footer, progress, on_done)
        finally:
            client.close()

    def _run(
        self,
        client: Client,
        job_list: list[Job],
        run: Path,
        timeout: int,
        footer: str,
        progress: bool,
        on_done: Callable[[JobResult], None] | None,
    ) -> list[JobResult]:
        batch = uuid.uuid4().hex[:8]  # task keys unique to this batch
        results: dict[int, JobResult] = {}
        with (
            tqdm(total=len(job_list), desc="报告", unit="nb", disable=not progress or None) as bar,
            interrupt_flag() as interrupted,
        ):
            futures: dict[Future[JobResult], int] = {}
            for i, job in enumerate(job_list):  # submitted in job order: provincial last
                fut = client.submit(
                    _render,
                    job,
                    str(run),
                    timeout,
                    footer,
                    key=f"xkaohe-{batch}-{i}-{job.stem}",
                    pure=False,
                    priority=-i,
                )
                futures[fut] = i
            pending = set(futures)
            try:
                while pending and not interrupted.is_set():
                    done = sorted((f for f in pending if f.done()), key=futures.__getitem__)
                    if not done:
                        interrupted.wait(_POLL)
                        continue
                    for fut in done:
                        pending.discard(fut)
                        i = futures[fut]
                        res = _outcome(fut, job_list[i])
                        results[i] = res
                        bar.update(1)
                        if on_done is not None:
                            on_done(res)
                        if not res.ok:
                            bar.write(
                                f"失败 FAILED {res.job.notebook} {res.job.parameters}: {res.error}"
                            )
            except KeyboardInterrupt:  # Ctrl-C outside the handler (not the main thread)
                interrupted.set()
            if interrupted.is_set():
                client.cancel(list(pending))
                client.run(_interrupt_worker, on_error="ignore")
                raise Interrupted([results[i] for i in sorted(results)], len(job_list))
        return [results[i] for i in range(len(job_list))]


__all__ = ["LOADED_CODE", "PLUGIN", "DaskRunner", "WarmKernels", "check_workers", "installation"]
