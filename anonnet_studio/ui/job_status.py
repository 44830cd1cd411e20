"""Status-bar widget: what the worker is doing (stage, percent, ETA), with a cancel button."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from anonnet_studio.ui.icons import icon
from anonnet_studio.workers.results import JobInfo, JobProgress
from anonnet_studio.workers.worker import ComputeWorker


class JobStatusWidget(QWidget):
    def __init__(self, worker: ComputeWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._current: JobInfo | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Ready", self)
        self.label.setObjectName("JobStatus")
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(160)
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setIcon(icon("cancel"))
        self.cancel_button.setToolTip("Cancel the running job")
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.clicked.connect(self.cancel_current)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        worker.job_queued.connect(lambda _job: self._refresh_idle_text())
        worker.job_started.connect(self._on_started)
        worker.job_progressed.connect(self._on_progress)
        worker.job_finished.connect(lambda job, _r: self._on_ended(job, "done"))
        worker.job_failed.connect(lambda job, _m: self._on_ended(job, "failed"))
        worker.job_cancelled.connect(lambda job: self._on_ended(job, "cancelled"))
        self._set_busy(False)

    @property
    def current_job(self) -> JobInfo | None:
        return self._current

    def cancel_current(self) -> None:
        if self._current is not None:
            self._worker.cancel(self._current.job_id)
            self.label.setText(f"Cancelling: {self._current.description}…")

    def _on_started(self, job: JobInfo) -> None:
        self._current = job
        self._set_busy(True)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.label.setText(job.description + self._waiting_suffix())

    def _on_progress(self, progress: JobProgress) -> None:
        if self._current is None or progress.job.job_id != self._current.job_id:
            return
        if progress.percent is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 100)
            self.bar.setValue(round(progress.percent))
        self.label.setText(progress.describe() + self._waiting_suffix())

    def _on_ended(self, job: JobInfo, outcome: str) -> None:
        if self._current is not None and job.job_id == self._current.job_id:
            self._current = None
            self._set_busy(False)
            self.label.setText(f"{job.description}: {outcome}")
        self._refresh_idle_text()

    def _refresh_idle_text(self) -> None:
        if self._current is None and self._worker.pending_jobs():
            self.label.setText(f"{len(self._worker.pending_jobs())} job(s) waiting")

    def _waiting_suffix(self) -> str:
        waiting = len(self._worker.pending_jobs())
        return f"  (+{waiting} waiting)" if waiting else ""

    def _set_busy(self, busy: bool) -> None:
        self.bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
