"""A small picklable `FileTask` for the batch runner tests (no models, no video)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.progress import Progress, ProgressCallback


@dataclass(frozen=True)
class CopyTask:
    """Writes the source's bytes reversed to the job's video; a source starting with
    b"fail" is a failed file, b"crash" ends the worker process outright, and b"lock"
    ends it while it holds its progress queue's write lock (a worker dying in the middle
    of sending progress, made certain instead of a race)."""

    def setup(self) -> None:
        """Nothing to load."""

    def needs_gpu(self, job: BatchJob) -> bool:
        return False

    def run(self, job: BatchJob, on_progress: ProgressCallback) -> FileResult:
        data = job.source.read_bytes()
        if data.startswith(b"crash"):
            os._exit(7)
        if data.startswith(b"lock"):
            from anonnet_studio.core.batch import local

            local._WORKER["events"]._wlock.acquire()
            os._exit(7)
        on_progress(Progress("Rendering", 1, 1))
        if data.startswith(b"fail"):
            return FileResult(job.key, str(job.source), "failed", error="bad file")
        job.out_dir.mkdir(parents=True, exist_ok=True)
        job.video.write_bytes(data[::-1])
        return FileResult(
            job.key, str(job.source), "done", verdict="PASS", people=os.getpid(), frames=1
        )
