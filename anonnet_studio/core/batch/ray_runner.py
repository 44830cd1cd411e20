"""`--ray auto|ADDRESS`: one Ray task per file, on a local or an existing cluster.

Ray schedules; nothing here does. A task that generates synthetic faces asks for one GPU.
Each Ray worker process keeps the task's models between the files it gets (`setup()`
runs once per worker and task). Progress comes back through a Ray queue to the same
bar. Inputs and outputs must be on storage that every node sees at the same paths.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.batch.runner import (
    FileTask,
    JobProgressCallback,
    ResultCallback,
    crashed,
)
from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.core.progress import Progress, ProgressThrottle

_POLL_S = 0.25


class RayRunner:
    def __init__(
        self,
        address: str | None = None,
        *,
        cpus_per_task: float = 1,
        init_options: dict[str, Any] | None = None,
    ) -> None:
        self.address = address  # None: ray.init() finds or starts a local cluster
        self.cpus_per_task = cpus_per_task
        self.init_options = dict(init_options or {})

    def run(
        self,
        task: FileTask,
        jobs: Sequence[BatchJob],
        on_progress: JobProgressCallback,
        on_result: ResultCallback,
    ) -> None:
        if not jobs:
            return
        ray = import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, **self.init_options)
        try:
            self._run(ray, task, jobs, on_progress, on_result)
        finally:
            if started_here:
                ray.shutdown()

    def _run(
        self,
        ray: Any,
        task: FileTask,
        jobs: Sequence[BatchJob],
        on_progress: JobProgressCallback,
        on_result: ResultCallback,
    ) -> None:
        from ray.util.queue import Queue

        events = Queue()
        remote = ray.remote(_run_on_ray)
        refs: dict[Any, BatchJob] = {}
        for job in jobs:
            options = remote.options(
                num_cpus=self.cpus_per_task,
                num_gpus=1 if task.needs_gpu(job) else 0,
                max_retries=1,  # a worker that died is retried once, like the local pool
            )
            refs[options.remote(task, job, events, max(1, int(self.cpus_per_task)))] = job
        try:
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=_POLL_S)
                _drain(events, on_progress)
                for ref in ready:
                    job = refs.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as exc:  # the task died or Ray lost it
                        result = crashed(job, f"{type(exc).__name__}: {exc}")
                    on_result(job, result)
            _drain(events, on_progress)
        except BaseException:
            for ref in refs:  # Ctrl+C: running tasks get KeyboardInterrupt and clean up
                with contextlib.suppress(Exception):
                    ray.cancel(ref)
            raise


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise AnonNetError(
            "Ray is not installed.", hint="Install the cluster extra: pip install '.[cluster]'."
        ) from exc
    return ray


def _drain(events: Any, on_progress: JobProgressCallback) -> None:
    with contextlib.suppress(Exception):
        size = events.qsize()
        if size:
            for key, progress in events.get_nowait_batch(size):
                on_progress(key, progress)


# --- in a Ray worker process ------------------------------------------------------------

_PREPARED: list[Any] = []  # the task this worker process has set up, if any


def _run_on_ray(task: FileTask, job: BatchJob, events: Any, threads: int) -> FileResult:
    if not _PREPARED or _PREPARED[0] != task:
        from anonnet_studio.core.batch.threads import limit_threads

        limit_threads(threads)
        task.setup()
        _PREPARED[:] = [task]

    def send(progress: Progress) -> None:
        with contextlib.suppress(Exception):
            events.put_nowait((job.key, progress))

    return task.run(job, ProgressThrottle(send, interval_s=0.5))
