"""Tools ▸ Models: every model the editor uses, whether it is installed, its size and
licence, and where it is looked for; downloads what is missing through the model manager,
or loads one from a folder the user already has (hashed first), on the worker, with
progress and cancel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.core.models.download_plan import format_bytes
from anonnet_studio.core.models.licences import LicenceNotice, licence_text
from anonnet_studio.ui.dialogs.messages import Answer, Messenger
from anonnet_studio.ui.icons import icon
from anonnet_studio.workers.requests import (
    ModelDownloadRequest,
    ModelFolderRequest,
    ModelListRequest,
)
from anonnet_studio.workers.results import (
    JobInfo,
    JobProgress,
    ModelFolderChosen,
    ModelList,
    ModelRow,
)
from anonnet_studio.workers.worker import ComputeWorker

COLUMNS = ("Model", "Status", "Size", "Licence", "Where")
LICENCE_WIDTH = 240
FolderChooser = Callable[[QWidget, str], str]  # (parent, model name) -> folder or ""


def ask_for_folder(parent: QWidget, name: str) -> str:
    return QFileDialog.getExistingDirectory(parent, f"Folder holding the files of {name}")


class ModelsDialog(QDialog):
    models_changed = Signal()  # a download or folder change: check availability again
    listed = Signal()  # the table was (re)filled from the worker's answer

    def __init__(
        self,
        worker: ComputeWorker,
        messenger: Messenger,
        parent: QWidget | None = None,
        *,
        choose_folder: FolderChooser = ask_for_folder,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(860, 420)
        self._worker = worker
        self._messenger = messenger
        self._list_job: int | None = None
        self._download_job: JobInfo | None = None
        self._folder_job: JobInfo | None = None
        self._choose_folder = choose_folder
        self.rows: tuple[ModelRow, ...] = ()
        self._offline = False
        self._outcome = ""  # how the last download ended, kept when the list refreshes
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Face detection and recognition models ship with the app. Synthetic faces need "
            "models that are downloaded once (several GB); until then those people are "
            "blurred. Hover a model to see every folder it is looked for in; if you "
            "already have a model's files, select it and choose their folder."
        )
        intro.setWordWrap(True)
        intro.setObjectName("Hint")
        layout.addWidget(intro)
        self.table = QTreeWidget(self)
        self.table.setObjectName("ModelTable")
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status = QLabel("Checking which models are installed…", self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.refresh_button = QPushButton(icon("reset"), "Check again", self)
        self.refresh_button.clicked.connect(self.refresh)
        buttons.addWidget(self.refresh_button)
        self.folder_button = QPushButton(icon("open"), "Use a folder…", self)
        self.folder_button.clicked.connect(self.use_folder)
        self.forget_button = QPushButton("Forget folder", self)
        self.forget_button.clicked.connect(self.forget_folder)
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.forget_button)
        buttons.addStretch(1)
        self.download_button = QPushButton(icon("export"), "Download missing", self)
        self.download_button.clicked.connect(self.download_missing)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel download", self)
        self.cancel_button.clicked.connect(self.cancel_download)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        for button in (self.download_button, self.cancel_button, close):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        worker.job_finished.connect(self._on_finished)
        worker.job_failed.connect(self._on_failed)
        worker.job_cancelled.connect(self._on_cancelled)
        worker.job_progressed.connect(self._on_progress)
        self._update_buttons()
        self.refresh()

    # -- state ----------------------------------------------------------------------------

    @property
    def downloading(self) -> bool:
        return self._download_job is not None

    @property
    def busy(self) -> bool:
        """A download or a folder check is running (one at a time)."""
        return self.downloading or self._folder_job is not None

    def selected(self) -> ModelRow | None:
        """The one selected model, if exactly one is."""
        names = {item.text(0) for item in self.table.selectedItems()}
        rows = [r for r in self.rows if r.name in names]
        return rows[0] if len(rows) == 1 else None

    def missing(self) -> list[ModelRow]:
        """Missing models a download can fetch: the selected ones, else all of them."""
        selected = {item.text(0) for item in self.table.selectedItems()}
        rows = [r for r in self.rows if not r.installed and r.downloadable]
        chosen = [r for r in rows if r.name in selected]
        return chosen or rows

    def refresh(self) -> None:
        self._list_job = self._worker.submit(ModelListRequest()).job_id

    # -- download -------------------------------------------------------------------------

    def download_missing(self) -> JobInfo | None:
        rows = self.missing()
        if not rows or self.busy:
            return None
        notices = [
            LicenceNotice(r.name, r.purpose, r.licence, r.non_commercial, r.size) for r in rows
        ]
        question = "\n".join(licence_text(notices, format_bytes))
        question += (
            f"\n\nAccept {'these licences' if len(rows) > 1 else 'this licence'} and download?"
        )
        if self._messenger.ask("Download models", question) is not Answer.YES:
            self.status.setText("Nothing was downloaded (the licences were not accepted).")
            return None
        self._download_job = self._worker.submit(ModelDownloadRequest(tuple(r.name for r in rows)))
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText(f"Waiting to download {', '.join(r.name for r in rows)}…")
        self._update_buttons()
        return self._download_job

    def cancel_download(self) -> None:
        if self._download_job is not None:
            self._worker.cancel(self._download_job.job_id)
            self.status.setText("Cancelling… (what was downloaded so far is kept for later)")
        elif self._folder_job is not None:
            self._worker.cancel(self._folder_job.job_id)
            self.status.setText("Cancelling the check… (the folder will not be used)")

    # -- a folder the user already has ----------------------------------------------------

    def use_folder(self) -> JobInfo | None:
        """Ask for the folder holding the selected model's files; it is hashed before use."""
        row = self.selected()
        if row is None or self.busy:
            return None
        folder = self._choose_folder(self, row.name)
        if not folder:
            return None
        return self._start_folder_job(ModelFolderRequest(row.name, Path(folder)))

    def forget_folder(self) -> JobInfo | None:
        row = self.selected()
        if row is None or not row.chosen_folder or self.busy:
            return None
        return self._start_folder_job(ModelFolderRequest(row.name, None))

    def _start_folder_job(self, request: ModelFolderRequest) -> JobInfo:
        self._folder_job = self._worker.submit(request)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText(request.describe() + "…")
        self._update_buttons()
        return self._folder_job

    # -- worker messages ------------------------------------------------------------------

    def _mine(self, job: JobInfo) -> bool:
        return any(
            mine is not None and job.job_id == mine.job_id
            for mine in (self._download_job, self._folder_job)
        )

    def _on_progress(self, progress: JobProgress) -> None:
        if not self._mine(progress.job):
            return
        if progress.percent is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(round(progress.percent))
        self.status.setText(progress.describe())

    def _on_finished(self, job: JobInfo, result: object) -> None:
        if job.job_id == self._list_job and isinstance(result, ModelList):
            self._list_job = None
            self._fill(result)
        elif self._mine(job):
            if isinstance(result, ModelFolderChosen):
                text = (
                    f"{result.name} now loads from {result.folder} (its files were checked)."
                    if result.folder
                    else f"{result.name} no longer loads from the folder chosen before."
                )
            else:
                text = "Downloaded and checked."
            self._end_download(text)
            self.models_changed.emit()
            self.refresh()

    def _on_failed(self, job: JobInfo, message: str) -> None:
        if job.job_id == self._list_job:
            self._list_job = None
            self.status.setText(f"Could not list the models: {message}")
        elif self._mine(job):
            what = "Download failed" if self.downloading else "That folder was not used"
            self._end_download(f"{what}: {message}")
            self.refresh()

    def _on_cancelled(self, job: JobInfo) -> None:
        if self._mine(job):
            self._end_download(
                "Download cancelled. Download again to resume where it stopped."
                if self.downloading
                else "Check cancelled: the folder was not used."
            )
            self.refresh()

    def _end_download(self, text: str) -> None:
        self._download_job = self._folder_job = None
        self._outcome = text
        self.progress.hide()
        self.status.setText(text)
        self._update_buttons()

    # -- table ----------------------------------------------------------------------------

    def _fill(self, models: ModelList) -> None:
        self.rows, self._offline = models.rows, models.offline
        self.table.clear()
        for row in models.rows:
            status = "Installed" if row.installed else "Missing"
            where = row.location if row.installed else (row.looked_in[0] if row.looked_in else "")
            licence = row.licence + (" (non-commercial)" if row.non_commercial else "")
            item = QTreeWidgetItem(
                self.table, [row.name, status, format_bytes(row.size), licence, where]
            )
            tip = f"{row.purpose}\nLicence: {licence}\nLooked for in:\n" + "\n".join(
                f"  {p}" for p in row.looked_in
            )
            if row.installed:
                tip += f"\nLoaded from {row.location}"
            if row.chosen_folder:
                tip += f"\nYou chose this folder for it: {row.chosen_folder}"
            for column in range(len(COLUMNS)):
                item.setToolTip(column, tip)
            item.setForeground(1, Qt.GlobalColor.green if row.installed else Qt.GlobalColor.yellow)
        for column in range(3):
            self.table.resizeColumnToContents(column)
        self.table.setColumnWidth(3, LICENCE_WIDTH)  # long licences elide; full in tooltip
        missing = [r for r in models.rows if not r.installed]
        outcome = f"{self._outcome} " if self._outcome else ""
        if not missing:
            self.status.setText(outcome + "Every model is installed.")
        elif not self.busy:
            text = f"{len(missing)} model(s) missing (hover one for where it is looked for)."
            if models.offline:
                text += " Offline mode is on (Settings), so nothing is downloaded."
            self.status.setText(outcome + text)
        self._update_buttons()
        self.listed.emit()

    def _update_buttons(self) -> None:
        self.cancel_button.setEnabled(self.busy)
        self.refresh_button.setEnabled(not self.busy)
        row = self.selected()
        self.folder_button.setEnabled(row is not None and not self.busy)
        self.folder_button.setToolTip(
            "Load the selected model from a folder holding its files (they are checked first)"
            if row is not None
            else "Select one model first"
        )
        self.forget_button.setEnabled(row is not None and bool(row.chosen_folder) and not self.busy)
        fetchable = [r for r in self.rows if not r.installed and r.downloadable]
        reason = ""
        if self.busy:
            reason = "A download or a folder check is running."
        elif self._offline:
            reason = "Offline mode is on (Settings): nothing is downloaded."
        elif not fetchable:
            reason = "Nothing to download: every model that can be downloaded is installed."
        self.download_button.setEnabled(not reason)
        self.download_button.setToolTip(reason or "Download the selected missing models (or all)")
        self.download_button.setStatusTip(reason)
