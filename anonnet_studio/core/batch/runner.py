"""What a runner runs (`FileTask`) and the runner protocol, with the in-process runner.

A `FileTask` is a small picklable object: `setup()` runs once in each worker process
(load models there, not per file) and `run()` does one file and returns its
`FileResult`; it reports a failure of the file as a result, so one bad file never stops
a batch. A runner feeds jobs to tasks and reports back through two callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.progress import Progress, ProgressCallback, ProgressThrottle

JobProgressCallback = Callable[[str, Progress], None]  # (job key, progress of that job)
ResultCallback = Callable[[BatchJob, FileResult], None]


class FileTask(Protocol):
    def setup(self) -> None:
        """Once per worker process, after its thread counts are set."""

    def run(self, job: BatchJob, on_progress: ProgressCallback) -> FileResult:
        """One file; failures of the file come back as a "failed" result."""

    def needs_gpu(self, job: BatchJob) -> bool:
        """Whether `job` generates synthetic faces (a cluster gives it a GPU)."""


class Runner(Protocol):
    def run(
        self,
        task: FileTask,
        jobs: Sequence[BatchJob],
        on_progress: JobProgressCallback,
        on_result: ResultCallback,
    ) -> None:
        """Runs every job; `on_result` is called in the calling thread, once per job."""


def crashed(job: BatchJob, error: str) -> FileResult:
    """The result of a job whose worker died or raised instead of returning a result."""
    return FileResult(job.key, str(job.source), "failed", error=error)


class InlineRunner:
    """Runs the jobs one after another in this process (`--workers 1`)."""

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads

    def run(
        self,
        task: FileTask,
        jobs: Sequence[BatchJob],
        on_progress: JobProgressCallback,
        on_result: ResultCallback,
    ) -> None:
        if not jobs:
            return
        if self._threads is not None:
            from anonnet_studio.core.batch.threads import limit_threads

            limit_threads(self._threads)
        task.setup()
        for job in jobs:
            on_result(job, task.run(job, ProgressThrottle(_for_job(job.key, on_progress), 0.25)))


def _for_job(key: str, on_progress: JobProgressCallback) -> ProgressCallback:
    def forward(progress: Progress) -> None:
        on_progress(key, progress)

    return forward
