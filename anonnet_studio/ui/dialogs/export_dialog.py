"""Export dialog: where to write, how hidden people look, side by side, audit report;
runs the export on the worker with progress and cancel, then offers the folder."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.project.review import review_counts
from anonnet_studio.project.schema import Method, Project
from anonnet_studio.project.synthetic_faces import RecordGenerations, faces_still_missing
from anonnet_studio.ui.dialogs.voice_section import VoiceSection, voice_summary
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.icons import icon
from anonnet_studio.workers.requests import ExportRequest, snapshot_project
from anonnet_studio.workers.results import ExportDone, JobInfo, JobProgress
from anonnet_studio.workers.worker import ComputeWorker

OWN_METHOD = "own"
_METHOD_CHOICES = (
    (OWN_METHOD, "Each person's own method"),
    (Method.BLUR.value, "Blur everyone hidden"),
    (Method.PIXELATE.value, "Pixelate everyone hidden"),
    (Method.MASK.value, "Solid mask on everyone hidden"),
)
VIDEO_FILTER = "Video (*.mp4 *.mov *.mkv)"


def default_output_path(project: Project) -> Path:
    source = Path(project.source.path)
    return source.with_name(f"{source.stem}.anonymized.mp4")


RESULT_LINES = 6  # the outcome box's height: longer outcomes scroll inside it


def open_folder(path: Path) -> None:
    """Show the folder in the system file manager; OSError (with the reason, when it can
    be told) if nothing could show it."""
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return
    hint = ""
    if sys.platform.startswith("linux") and shutil.which("xdg-open") is None:
        hint = " xdg-open was not found (install the xdg-utils package)."
    raise OSError(f"No file manager could be started to show the folder.{hint}")


def apply_method_default(project: Project, method: str) -> None:
    """Use `method` for every hidden person of this (snapshot) project."""
    if method == OWN_METHOD:
        return
    for identity in project.identities:
        if identity.hidden and identity.method is not Method.KEEP:
            identity.method = Method(method)


class ExportDialog(QDialog):
    export_finished = Signal(object)  # ExportDone

    def __init__(
        self,
        document: ProjectDocument,
        worker: ComputeWorker,
        *,
        folder_opener: Callable[[Path], None] = open_folder,
        playhead_s: Callable[[], float] = lambda: 0.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export anonymized video")
        self.setMinimumWidth(560)
        self._document = document
        self._worker = worker
        self._open_folder = folder_opener
        self._job: JobInfo | None = None
        self.outcome: ExportDone | None = None  # `result` would shadow QDialog.result()
        layout = QVBoxLayout(self)
        form = QFormLayout()

        path_row = QHBoxLayout()
        project = document.project
        self.output = QLineEdit(str(default_output_path(project)) if project else "", self)
        self.output.setObjectName("OutputPath")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        path_row.addWidget(self.output, 1)
        path_row.addWidget(browse)
        form.addRow("Output file", path_row)
        self.method = QComboBox(self)
        for value, label in _METHOD_CHOICES:
            self.method.addItem(label, value)
        form.addRow("Hidden people", self.method)
        self.leak_check = QCheckBox("Check every frame for faces the analysis missed", self)
        self.leak_check.setChecked(True)
        self.leak_check.setToolTip("Runs face detection on the output and covers any face found")
        form.addRow(self.leak_check)
        self.side_by_side = QCheckBox("Side by side: original on the left (review copy)", self)
        self.side_by_side.setToolTip(
            "The left half shows the ORIGINAL faces: never publish this file."
        )
        form.addRow(self.side_by_side)
        self.report = QCheckBox("Write the audit report (JSON + HTML) next to the video", self)
        self.report.setChecked(True)
        form.addRow(self.report)
        self.quality = QSpinBox(self)
        self.quality.setRange(0, 51)
        self.quality.setValue(18)
        self.quality.setToolTip("H.264 CRF: lower is better quality and larger files")
        form.addRow("Quality (CRF)", self.quality)
        self.voice = VoiceSection(document, worker, playhead_s, self)
        form.addRow("Voice", self.voice)
        form.addRow(self.voice.message)
        self.open_when_done = QCheckBox("Open the folder when done", self)
        self.open_when_done.setChecked(True)
        form.addRow(self.open_when_done)
        layout.addLayout(form)

        self.notes = QLabel(self._notes(project))
        self.notes.setWordWrap(True)
        self.notes.setObjectName("Hint")
        layout.addWidget(self.notes)
        self.review_warning = QLabel(self._review_warning(project))
        self.review_warning.setWordWrap(True)
        self.review_warning.setObjectName("ReviewWarning")
        self.review_warning.setVisible(bool(self.review_warning.text()))
        layout.addWidget(self.review_warning)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel("Ready to export.", self)  # set through _set_status
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        # The outcome gets a box of its own with a fixed height: a long text in the status
        # label squashed the fields above it (a wrapped label does not grow the dialog).
        self.result_view = QPlainTextEdit(self)
        self.result_view.setObjectName("ExportResult")
        self.result_view.setReadOnly(True)
        self.result_view.setFixedHeight(
            self.result_view.fontMetrics().lineSpacing() * RESULT_LINES + 12
        )
        self.result_view.hide()
        layout.addWidget(self.result_view)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_button = QPushButton(icon("export"), "Export", self)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel export", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.close)
        for button in (self.export_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)

        worker.job_progressed.connect(self._on_progress)
        worker.job_finished.connect(self._on_finished)
        worker.job_failed.connect(self._on_failed)
        worker.job_cancelled.connect(self._on_cancelled)

    @property
    def running(self) -> bool:
        return self._job is not None

    def build_request(self) -> ExportRequest | None:
        """The export as set up in the dialog, on a private snapshot of the project."""
        project = self._document.project
        text = self.output.text().strip()
        if project is None or not text:
            return None
        output = Path(text).expanduser()
        if output.suffix.lower() not in (".mp4", ".mov", ".mkv"):
            output = output.with_suffix(".mp4")
        snapshot = snapshot_project(project)
        apply_method_default(snapshot, str(self.method.currentData()))
        return ExportRequest(
            project=snapshot,
            output_path=output.resolve(),
            side_by_side=self.side_by_side.isChecked(),
            write_report=self.report.isChecked(),
            leak_check=self.leak_check.isChecked(),
            crf=self.quality.value(),
        )

    def start_export(self) -> None:
        request = self.build_request()
        if request is None:
            self._set_status("Choose an output file first.")
            return
        if Path(request.project.source.path).resolve() == request.output_path:
            self._set_status("The output cannot replace the source video.")
            return
        self.outcome = None
        self._job = self._worker.submit(request)
        self._set_running(True)
        self.result_view.hide()
        self._set_status(f"Exporting to {request.output_path.name} …")
        self.status.setToolTip(str(request.output_path))

    def cancel_export(self) -> None:
        if self._job is not None:
            self._worker.cancel(self._job.job_id)
            self._set_status("Cancelling…")

    # -- worker messages ------------------------------------------------------------------

    def _is_mine(self, job: JobInfo) -> bool:
        return self._job is not None and job.job_id == self._job.job_id

    def _on_progress(self, progress: JobProgress) -> None:
        if self._is_mine(progress.job):
            if progress.percent is None:
                self.progress.setRange(0, 0)
            else:
                self.progress.setRange(0, 100)
                self.progress.setValue(round(progress.percent))
            self._set_status(progress.describe())

    def _on_finished(self, job: JobInfo, result: object) -> None:
        if not self._is_mine(job) or not isinstance(result, ExportDone):
            return
        self._set_running(False)
        self.outcome = result
        self.progress.setRange(0, 100)
        self.progress.setValue(100)
        lines = [
            f"Wrote {result.frames_written} frames to {result.output}.",
            f"Verdict: {result.verdict}; {result.leaks_covered} leaked face(s) covered.",
        ]
        lines += [f"{who}: {why}" for who, why in result.fallbacks.items()]
        lines += voice_summary(result.voice)
        if result.report_paths:
            lines.append("Report: " + ", ".join(p.name for p in result.report_paths))
        self._set_status("Export finished.")
        self._show_result(lines)
        self._document.set_leak_frames(list(result.leak_frames))
        self._record_generated(result)
        project = self._document.project
        if project is not None and result.last_export:
            project.analysis["last_export"] = dict(result.last_export)
        self.export_finished.emit(result)
        if self.open_when_done.isChecked():
            self._open_output_folder(result.output.parent)

    def _open_output_folder(self, folder: Path) -> None:
        try:
            self._open_folder(folder)
        except OSError as exc:  # said where the user looks, not only on a console
            message = f"Could not open the folder: {exc}"
            self._set_status(f"Export finished. {message}")
            self.result_view.appendPlainText(f"{message}\nThe files are in {folder}")

    def _show_result(self, lines: list[str]) -> None:
        self.result_view.setPlainText("\n".join(lines))
        self.result_view.show()
        self._grow_to_fit()

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self._grow_to_fit()

    def _grow_to_fit(self) -> None:
        """Grow (never shrink) to the height the layout prefers at this width: a dialog at
        its minimum height squeezes every field to its minimum to make room for text."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        wanted = layout.totalSizeHint().height()
        if layout.hasHeightForWidth():
            wanted = max(wanted, layout.totalHeightForWidth(self.width()))
        if wanted > self.height():
            self.resize(self.width(), wanted)

    def _record_generated(self, result: ExportDone) -> None:
        """The faces the export generated become one undo step in the live document, so
        the next export (and the identity panel) uses them instead of generating anew."""
        project = self._document.project
        faces = faces_still_missing(project, result.generated) if project else []
        if not faces:
            return
        self._document.push(RecordGenerations(faces, events=self._document.events))

    def _on_failed(self, job: JobInfo, message: str) -> None:
        if self._is_mine(job):
            self._set_running(False)
            self.progress.setRange(0, 100)
            self.progress.setValue(0)
            self._set_status("Export failed.")
            self._show_result([message])

    def _on_cancelled(self, job: JobInfo) -> None:
        if self._is_mine(job):
            self._set_running(False)
            self.progress.setRange(0, 100)
            self.progress.setValue(0)
            self._set_status("Export cancelled; no file was written.")

    def _set_running(self, running: bool) -> None:
        if not running:
            self._job = None
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.output.text(), VIDEO_FILTER)
        if path:
            self.output.setText(path)

    @staticmethod
    def _review_warning(project: Project | None) -> str:
        """A warning when the review queue still has items nobody looked at."""
        if project is None:
            return ""
        counts = review_counts(project)
        if not counts["unreviewed"]:
            return ""
        return (
            f"Warning: {counts['unreviewed']} of {counts['items']} review items are not marked "
            f"reviewed ({counts['unreviewed_high_risk']} of high risk). Check them in the Review "
            "panel (N / Shift+N) before publishing; the report records how many were reviewed."
        )

    @staticmethod
    def _notes(project: Project | None) -> str:
        if project is None:
            return "Open a project first."
        synthetic = [
            i.name for i in project.identities if i.hidden and i.method is Method.SYNTHETIC
        ]
        kept = [i.name for i in project.identities if not i.hidden or i.method is Method.KEEP]
        notes = []
        if kept:
            notes.append("Kept visible: " + ", ".join(kept) + ".")
        if synthetic:
            notes.append(
                "Synthetic faces (" + ", ".join(synthetic) + ") are generated if needed and "
                "animated with LivePortrait, or with the lower-quality landmark warp when its "
                "weights are missing; anyone without a face that passed the anonymity check "
                "is blurred instead, and the report says why."
            )
        notes.append("The source video is never modified.")
        return " ".join(notes)
