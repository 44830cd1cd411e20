"""`--workers N`: the files spread over N local processes (spawned, not forked).

Each worker sets its thread counts and calls `task.setup()` once (the models stay loaded
for every file it gets); progress comes back through a queue that a thread of the parent
forwards. Ctrl+C reaches only the parent (workers ignore SIGINT); it stops the workers
with SIGTERM, which they turn into the same unwinding as Ctrl+C, so their temp files are
removed. A worker also gets SIGTERM when the parent dies (Linux), so a killed batch does
not leave orphans rendering on. A worker that dies outright (a crash in a native
decoder) breaks the pool: the files it was running are retried one at a time, so only
the file that kills its worker is reported as failed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import FrameType
from typing import Any

from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.batch.runner import (
    FileTask,
    JobProgressCallback,
    ResultCallback,
    crashed,
)
from anonnet_studio.core.batch.threads import limit_threads, threads_per_worker
from anonnet_studio.core.progress import Progress, ProgressThrottle

_STOP_GRACE_S = 20.0


class ProcessPoolRunner:
    def __init__(self, workers: int, threads: int | None = None) -> None:
        self.workers = max(1, workers)
        self.threads = threads or threads_per_worker(self.workers)

    def run(
        self,
        task: FileTask,
        jobs: Sequence[BatchJob],
        on_progress: JobProgressCallback,
        on_result: ResultCallback,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        pending, suspects = list(jobs), list[BatchJob]()
        while pending or suspects:
            if pending:
                broken, pending = self._one_pool(
                    task, pending, self.workers, context, on_progress, on_result
                )
                suspects += broken
                continue
            # A job that was running when a pool broke runs alone: if its pool breaks
            # again, it is the file that kills the worker; otherwise it just finishes.
            job = suspects.pop(0)
            broken, _ = self._one_pool(task, [job], 1, context, on_progress, on_result)
            if broken:
                on_result(job, crashed(job, "the worker process died while processing it"))

    def _one_pool(
        self,
        task: FileTask,
        jobs: list[BatchJob],
        workers: int,
        context: Any,
        on_progress: JobProgressCallback,
        on_result: ResultCallback,
    ) -> tuple[list[BatchJob], list[BatchJob]]:
        """Runs `jobs` in one pool, at most `workers` at a time. If the pool breaks,
        returns (the jobs that were running then, the jobs not started yet)."""
        # Each pool has its own progress queue: a worker that dies while sending
        # progress keeps the queue's write lock forever, and would silence every later
        # worker if the queue were shared.
        with _progress_channel(context, on_progress) as events:
            return self._run_in_pool(task, jobs, workers, context, events, on_result)

    def _run_in_pool(
        self,
        task: FileTask,
        jobs: list[BatchJob],
        workers: int,
        context: Any,
        events: Any,
        on_result: ResultCallback,
    ) -> tuple[list[BatchJob], list[BatchJob]]:
        queue = list(jobs)
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)),
            mp_context=context,
            initializer=_init_worker,
            initargs=(task, self.threads, events, os.getpid()),
        )
        running: dict[Future[FileResult], BatchJob] = {}
        try:
            while queue or running:
                # Only as many submitted as there are workers, so a broken pool tells
                # which jobs were in it.
                while queue and len(running) < workers:
                    job = queue.pop(0)
                    running[pool.submit(_run_job, job)] = job
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        # Not shutdown(wait=True): it waits for every worker without
                        # a time limit, and a worker stuck on a lock the dead one
                        # held would hang the batch.
                        _stop_workers(pool)
                        return [job, *running.values()], queue  # every running job broke
                    except Exception as exc:  # an error outside the task's own handling
                        result = crashed(job, f"{type(exc).__name__}: {exc}")
                    on_result(job, result)
        except BaseException:
            _stop_workers(pool)
            raise
        pool.shutdown(wait=True)
        return [], []


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancels what has not started and stops the running workers cleanly (SIGTERM)."""
    # The executor has no public way to stop running work; its process table is the
    # only handle on the workers.
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        process.join(_STOP_GRACE_S)
        if process.is_alive():
            process.kill()
            process.join()


@contextlib.contextmanager
def _progress_channel(context: Any, on_progress: JobProgressCallback) -> Iterator[Any]:
    """A queue the workers put progress on, and a thread that forwards it."""
    events: Any = context.Queue()
    stop = threading.Event()
    forwarder = threading.Thread(
        target=_forward, args=(events, on_progress, stop), name="batch-progress", daemon=True
    )
    forwarder.start()
    try:
        yield events
    finally:
        stop.set()
        forwarder.join()
        events.close()


def _forward(events: Any, on_progress: JobProgressCallback, stop: threading.Event) -> None:
    """Forwards progress until `stop`, then what is still queued."""
    while True:
        stopping = stop.is_set()
        try:
            key, progress = events.get(timeout=0.05 if stopping else 0.2)
        except queue_module.Empty:
            if stopping:
                return
            continue
        except (EOFError, OSError, ValueError):
            return
        with contextlib.suppress(Exception):  # a display problem must not stop the batch
            on_progress(key, progress)


# --- in the worker process --------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(task: FileTask, threads: int, events: Any, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    limit_threads(threads)
    _WORKER.update(task=task, events=events, in_job=False)
    task.setup()


def _run_job(job: BatchJob) -> FileResult:
    task: FileTask = _WORKER["task"]
    events = _WORKER["events"]

    def send(progress: Progress) -> None:
        with contextlib.suppress(Exception):
            events.put_nowait((job.key, progress))

    try:
        _WORKER["in_job"] = True
        return task.run(job, ProgressThrottle(send, interval_s=0.25))
    except KeyboardInterrupt:
        # SIGTERM (the batch stops, or died): the file's temp outputs are gone by now. End
        # the process; the executor would otherwise wait for more work that never comes.
        os._exit(_SIGTERM_EXIT)
    finally:
        _WORKER["in_job"] = False


_SIGTERM_EXIT = 128 + signal.SIGTERM


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Inside a file: unwinds it like Ctrl+C, so its temp files are removed. Between
    files there is nothing to clean, and an interrupt there would escape into the
    executor's loop (which reports it and waits for more work): exit at once."""
    if not _WORKER.get("in_job"):
        os._exit(_SIGTERM_EXIT)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the cleanup finish
    raise KeyboardInterrupt


def _die_with_parent(parent_pid: int) -> None:
    """SIGTERM this worker when the batch process dies, even by SIGKILL (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(1)
