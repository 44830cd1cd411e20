"""A thread-safe job queue with one fast lane for preview frames.

Long jobs (analysis, generation, export) run in submission order. Preview frames jump the
queue and only the newest one waits: when the user scrubs, frames they have already
scrubbed past are dropped instead of rendered.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field

from anonnet_studio.core.progress import CancelToken
from anonnet_studio.workers.requests import JobKind, JobRequest
from anonnet_studio.workers.results import JobInfo


@dataclass(eq=False)
class Job:
    info: JobInfo
    request: JobRequest
    cancel: CancelToken = field(default_factory=CancelToken)

    @property
    def job_id(self) -> int:
        return self.info.job_id


class JobQueue:
    """Pending jobs plus the one that is running. `take()` blocks the worker thread only."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self._pending: deque[Job] = deque()
        self._preview: Job | None = None
        self._running: Job | None = None
        self._closed = False

    def submit(self, request: JobRequest) -> Job:
        """Queue a request; a preview replaces any preview still waiting. After `close()`
        the job comes back already cancelled (the editor is shutting down)."""
        with self._lock:
            job = Job(JobInfo(next(self._ids), request.kind, request.describe()), request)
            if self._closed:
                job.cancel.cancel()
                return job
            if request.kind is JobKind.PREVIEW:
                self._preview = job
            else:
                self._pending.append(job)
            self._lock.notify_all()
            return job

    def take(self, timeout: float | None = None) -> Job | None:
        """The next job (previews first), or None when closed or after `timeout` seconds."""
        with self._lock:
            while not self._closed and self._preview is None and not self._pending:
                if not self._lock.wait(timeout):
                    return None
            if self._closed:
                return None
            job = self._pop_preview() or self._pending.popleft()
            self._running = job
            return job

    def take_preview(self) -> Job | None:
        """The waiting preview, if any, without blocking (served between units of a long
        job so the preview stays live during an export)."""
        with self._lock:
            return self._pop_preview()

    def finished(self, job: Job) -> None:
        with self._lock:
            if self._running is job:
                self._running = None

    def cancel(self, job_id: int) -> Job | None:
        """Cancel a job: a waiting one is removed (and returned), a running one is told to
        stop at its next check. Returns None for unknown or already finished jobs."""
        with self._lock:
            for job in self._pending:
                if job.job_id == job_id:
                    self._pending.remove(job)
                    job.cancel.cancel()
                    return job
            if self._running is not None and self._running.job_id == job_id:
                self._running.cancel.cancel()
            return None

    def cancel_all(self) -> list[Job]:
        """Cancel everything; returns the jobs removed from the queue."""
        with self._lock:
            removed = list(self._pending)
            self._pending.clear()
            self._preview = None
            for job in removed:
                job.cancel.cancel()
            if self._running is not None:
                self._running.cancel.cancel()
            return removed

    def close(self) -> None:
        """Wake the worker and make `take()` return None from now on."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    @property
    def running(self) -> JobInfo | None:
        with self._lock:
            return self._running.info if self._running is not None else None

    def pending(self) -> list[JobInfo]:
        """Waiting long jobs, in the order they will run (previews are not listed)."""
        with self._lock:
            return [job.info for job in self._pending]

    def _pop_preview(self) -> Job | None:
        job, self._preview = self._preview, None
        return job
