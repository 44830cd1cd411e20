"""`ComputeWorker`: the one compute thread, its job queue, and the signals the GUI observes.

The GUI submits frozen requests and gets plain data back through queued signals; it never
waits for the thread. Jobs run one at a time in order, except preview frames, which jump
the queue and are also served between units of work of a long job (at each progress
report), so the preview stays live while an export runs.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal

from anonnet_studio.core.diagnostics import record_crash
from anonnet_studio.core.errors import AnonNetError, OperationCancelled
from anonnet_studio.core.progress import EtaEstimator, Progress, ProgressCallback
from anonnet_studio.workers.handlers import run_request
from anonnet_studio.workers.job_queue import Job, JobQueue
from anonnet_studio.workers.requests import JobKind, JobRequest
from anonnet_studio.workers.results import JobInfo, JobProgress
from anonnet_studio.workers.services import ComputeServices

_log = logging.getLogger(__name__)


class _ComputeThread(QThread):
    def __init__(self, worker: ComputeWorker) -> None:
        super().__init__()
        self.setObjectName("anonnet-compute")
        self._worker = worker

    def run(self) -> None:
        self._worker._run_loop()


class ComputeWorker(QObject):
    """Owns the compute thread. Signals carry `JobInfo` first; results are plain data."""

    job_queued = Signal(object)  # JobInfo
    job_started = Signal(object)  # JobInfo
    job_progressed = Signal(object)  # JobProgress
    job_finished = Signal(object, object)  # JobInfo, result dataclass
    job_failed = Signal(object, str)  # JobInfo, message for the user
    job_crashed = Signal(object, object)  # JobInfo, CrashReport: a bug; job_failed follows
    job_cancelled = Signal(object)  # JobInfo
    preview_ready = Signal(object)  # PreviewFrame
    preview_failed = Signal(object, str)  # JobInfo, message

    def __init__(self, services: ComputeServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._queue = JobQueue()
        self._thread = _ComputeThread(self)

    # -- GUI thread API -------------------------------------------------------------------

    def start(self) -> None:
        if not self._thread.isRunning():
            self._thread.start(QThread.Priority.LowPriority)

    def submit(self, request: JobRequest) -> JobInfo:
        """Queue a job and return at once; watch the signals for its `job_id`."""
        job = self._queue.submit(request)
        if job.info.kind is JobKind.PREVIEW:
            return job.info
        if job.cancel.cancelled:  # submitted after shutdown
            self.job_cancelled.emit(job.info)
        else:
            self.job_queued.emit(job.info)
        return job.info

    def cancel(self, job_id: int) -> None:
        """Stop a job: removed if waiting, told to stop (promptly) if running."""
        removed = self._queue.cancel(job_id)
        if removed is not None:
            self.job_cancelled.emit(removed.info)

    def cancel_all(self) -> None:
        for job in self._queue.cancel_all():
            self.job_cancelled.emit(job.info)

    @property
    def running_job(self) -> JobInfo | None:
        return self._queue.running

    def pending_jobs(self) -> list[JobInfo]:
        return self._queue.pending()

    def is_busy(self) -> bool:
        return self._queue.running is not None or bool(self._queue.pending())

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and stop the thread; True when it stopped within the timeout."""
        self.cancel_all()
        self._queue.close()
        if not self._thread.isRunning():
            return True
        return bool(self._thread.wait(timeout_ms))

    # -- compute thread -------------------------------------------------------------------

    def _run_loop(self) -> None:
        try:
            while (job := self._queue.take()) is not None:
                try:
                    self._execute(job)
                finally:
                    self._queue.finished(job)
        finally:
            self._services.close()

    def _execute(self, job: Job) -> None:
        if job.info.kind is JobKind.PREVIEW:
            self._execute_preview(job)
            return
        if job.cancel.cancelled:
            self.job_cancelled.emit(job.info)
            return
        self.job_started.emit(job.info)
        try:
            result = run_request(job.request, self._services, self._progress_for(job), job.cancel)
        except OperationCancelled:
            self.job_cancelled.emit(job.info)
        except AnonNetError as exc:
            self.job_failed.emit(job.info, exc.user_message())
        except Exception as exc:  # a bug: keep the thread alive, log it and tell the user
            report = record_crash(exc, job.info.description)
            _log.error("%s", report.one_line())
            self.job_crashed.emit(job.info, report)
            self.job_failed.emit(job.info, report.one_line())
        else:
            self.job_finished.emit(job.info, result)

    def _execute_preview(self, job: Job) -> None:
        try:
            frame = run_request(job.request, self._services, _ignore_progress, job.cancel)
        except AnonNetError as exc:
            self.preview_failed.emit(job.info, exc.user_message())
        except Exception as exc:  # a bug, shown on the preview (a dialog per frame would flood)
            report = record_crash(exc, "Drawing the preview")
            _log.error("%s", report.one_line())
            self.preview_failed.emit(
                job.info, f"The preview could not be drawn: {report.one_line()}"
            )
        else:
            self.preview_ready.emit(frame)

    def _progress_for(self, job: Job) -> ProgressCallback:
        eta = EtaEstimator()

        def report(progress: Progress) -> None:
            fraction = progress.fraction
            self.job_progressed.emit(
                JobProgress(
                    job=job.info,
                    stage=progress.stage,
                    percent=None if fraction is None else 100.0 * fraction,
                    eta_s=eta.eta_s(progress),
                    message=progress.message,
                )
            )
            self._serve_waiting_preview()

        return report

    def _serve_waiting_preview(self) -> None:
        preview = self._queue.take_preview()
        if preview is not None:
            self._execute_preview(preview)


def _ignore_progress(progress: Progress) -> None:
    """Preview frames are too short to report progress."""
