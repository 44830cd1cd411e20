"""File > Batch export…: choose projects and a folder; the worker exports each with its
own choices, like `anonnet-studio batch --projects`, and the summary opens at the end."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from anonnet_studio.ui.dialogs.messages import Messenger
from anonnet_studio.workers.requests import BatchExportRequest
from anonnet_studio.workers.results import BatchExportDone, JobInfo
from anonnet_studio.workers.worker import ComputeWorker

PROJECT_FILTER = "AnonNET projects (*.anonproj)"


class BatchExportController(QObject):
    finished = Signal(object)  # BatchExportDone

    def __init__(
        self, worker: ComputeWorker, messenger: Messenger, dialog_parent: QWidget | None = None
    ) -> None:
        super().__init__(dialog_parent)
        self._worker = worker
        self._messenger = messenger
        self._parent = dialog_parent
        self._job: JobInfo | None = None
        worker.job_finished.connect(self._on_finished)

    def choose_and_start(self) -> JobInfo | None:
        projects, _ = QFileDialog.getOpenFileNames(
            self._parent, "Projects to export", "", PROJECT_FILTER
        )
        if not projects:
            return None
        folder = QFileDialog.getExistingDirectory(self._parent, "Export into folder")
        if not folder:
            return None
        return self.start([Path(p) for p in projects], Path(folder))

    def start(self, projects: Sequence[Path], out_dir: Path) -> JobInfo:
        # Failures of the whole job (an unwritable folder) reach the window's error box.
        self._job = self._worker.submit(BatchExportRequest(tuple(projects), out_dir))
        return self._job

    def _on_finished(self, job: JobInfo, result: object) -> None:
        mine = self._job is not None and job.job_id == self._job.job_id
        if not mine or not isinstance(result, BatchExportDone):
            return
        self._job = None
        details = "".join(f"\n{line}" for line in result.failed[:10])
        self._messenger.info(
            "Batch export finished",
            f"{result.describe()}.{details}\n\nSummary: {result.summary_html}",
        )
        self.finished.emit(result)
