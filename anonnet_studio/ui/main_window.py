"""`MainWindow`: builds the panels and controllers and wires them together. No logic of
its own beyond connecting signals to slots."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from anonnet_studio.core.diagnostics import CrashReport
from anonnet_studio.ui.actions import EditorActions
from anonnet_studio.ui.autosave import AutosaveManager
from anonnet_studio.ui.batch_export import BatchExportController
from anonnet_studio.ui.context import EditorContext
from anonnet_studio.ui.correction.actions import CorrectionActions
from anonnet_studio.ui.correction.controller import CorrectionController
from anonnet_studio.ui.correction.menus import CorrectionMenus
from anonnet_studio.ui.correction.regions_panel import RegionsPanel
from anonnet_studio.ui.correction.review_panel import ReviewPanel
from anonnet_studio.ui.dialogs.export_dialog import ExportDialog, open_folder
from anonnet_studio.ui.dialogs.messages import Answer, DialogMessenger
from anonnet_studio.ui.dialogs.models_dialog import ModelsDialog
from anonnet_studio.ui.dialogs.settings_dialog import SettingsDialog
from anonnet_studio.ui.dialogs.shortcuts_dialog import ShortcutsDialog, shortcut_entries
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.file_controller import FileController, is_openable
from anonnet_studio.ui.generation import GenerationController
from anonnet_studio.ui.identity.panel import IdentityPanel
from anonnet_studio.ui.job_status import JobStatusWidget
from anonnet_studio.ui.preview.frame_source import PreviewFrameSource
from anonnet_studio.ui.preview.panel import PreviewPanel
from anonnet_studio.ui.preview.playback import PlaybackController, make_clock
from anonnet_studio.ui.settings import EditorSettings
from anonnet_studio.ui.thumbnails import ThumbnailFiller
from anonnet_studio.ui.timeline.panel import TimelinePanel
from anonnet_studio.workers.requests import ConfigureRequest, JobKind
from anonnet_studio.workers.results import JobInfo

APP_TITLE = "AnonNET Studio"
GETTING_STARTED = (
    "1. Open a video (File ▸ Open, or drop it on the window): the analysis starts by itself "
    "and finds every person.\n"
    "2. Pick a person in the gallery or the timeline and choose how they are hidden, or "
    "keep them visible.\n"
    "3. Check the preview (Space plays, J/K/L shuttle) and the Review panel.\n"
    "4. Export (Ctrl+E): every exported frame is checked for faces, and an audit report "
    "is written next to the video.\n"
    "Help ▸ Keyboard shortcuts (F1) lists every key."
)


class MainWindow(QMainWindow):
    def __init__(self, context: EditorContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.resize(1440, 900)
        self.context = context
        self.worker = context.worker
        self.settings: EditorSettings = context.store.load()
        self.messenger = context.messenger or DialogMessenger(self)
        self._crashed_jobs: set[int] = set()
        self._folder_opener = context.folder_opener or open_folder

        # model
        self.document = ProjectDocument(rng=context.rng, parent=self)
        self.state = EditorState(self.document, self)
        self.frames = PreviewFrameSource(self.worker, self.document, parent=self)
        self.playback = PlaybackController(
            self.state, context.clock or make_clock(self), parent=self
        )
        # controllers
        self.files = FileController(
            self.document, self.worker, context.store, self.messenger,
            lambda: self.settings, dialog_parent=self, parent=self,
        )  # fmt: skip
        self.generation = GenerationController(self.document, self.worker, self.messenger, self)
        self.batch_export = BatchExportController(self.worker, self.messenger, self)
        self.autosave = AutosaveManager(
            self.document, context.recovery_dir, self.settings.autosave_interval_s, self
        )
        self.corrections = CorrectionController(
            self.document, self.state, self.worker, context.rng, self
        )
        self.thumbnails = ThumbnailFiller(self.document, self.worker, self)
        # views
        self.preview = PreviewPanel(self.document, self.state, self.frames, self.playback, self)
        self.timeline = TimelinePanel(self.document, self.state, self)
        self.identities = IdentityPanel(self.document, self.state, context.rng, self)
        self.review = ReviewPanel(self.document, self.state, self)
        self.regions = RegionsPanel(self.document, self.state, self.corrections, self)
        self.setCentralWidget(self.preview)
        people = self._add_dock("People", self.identities, Qt.DockWidgetArea.RightDockWidgetArea)
        for title, panel in (("Review", self.review), ("Regions", self.regions)):
            self.tabifyDockWidget(people, self._add_dock(title, panel, self.dockWidgetArea(people)))
        people.raise_()
        lanes = self._add_dock("Timeline", self.timeline, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([people], [470], Qt.Orientation.Horizontal)
        self.resizeDocks([lanes], [310], Qt.Orientation.Vertical)
        self.job_status = JobStatusWidget(self.worker, self)
        self.statusBar().addPermanentWidget(self.job_status)
        self.export_dialog: ExportDialog | None = None
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.models_dialog: ModelsDialog | None = None

        self.actions_ = EditorActions(self, self.document.undo_stack)
        self.actions_.build_menus()
        self.addToolBar(self.actions_.build_toolbar())
        self.correction_actions = CorrectionActions(self)
        self.correction_actions.build_menu()
        self.actions_.build_help_menu()
        self.correction_menus = CorrectionMenus(self.document, self.state, self.corrections, self)
        self.timeline.view.menu_extender = self.correction_menus.extend
        self.timeline.view.trim_requested.connect(self.corrections.trim_track)
        self._connect()
        self.generation.refresh_availability()
        self.actions_.set_recent_files(context.store.recent_files(), self.files.open_path)
        self._on_project_replaced()

    # -- wiring ---------------------------------------------------------------------------

    def _connect(self) -> None:
        a, state, playback = self.actions_, self.state, self.playback
        a.open.triggered.connect(self.files.choose_and_open)
        a.save.triggered.connect(self.files.save)
        a.save_as.triggered.connect(lambda: self.files.save_as())
        a.export.triggered.connect(self.show_export_dialog)
        a.batch_export.triggered.connect(self.batch_export.choose_and_start)
        a.close_project.triggered.connect(self.files.close_project)
        a.quit.triggered.connect(self.close)
        a.settings.triggered.connect(self.show_settings_dialog)
        a.models.triggered.connect(self.show_models_dialog)
        a.generate_all.triggered.connect(self.generation.generate_all)
        a.zoom_fit.triggered.connect(self.timeline.view.fit_all)
        a.zoom_in.triggered.connect(lambda: self.timeline.view.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: self.timeline.view.zoom_by(0.8))
        a.play_pause.triggered.connect(playback.toggle)
        a.reverse.triggered.connect(playback.reverse)
        a.pause.triggered.connect(playback.pause)
        a.forward.triggered.connect(playback.forward)
        a.previous_frame.triggered.connect(lambda: state.step(-1))
        a.next_frame.triggered.connect(lambda: state.step(1))
        a.back_ten.triggered.connect(lambda: state.step(-10))
        a.forward_ten.triggered.connect(lambda: state.step(10))
        a.first_frame.triggered.connect(lambda: state.set_frame(0))
        a.last_frame.triggered.connect(lambda: state.set_frame(state.frame_count - 1))
        a.cancel_job.triggered.connect(self.job_status.cancel_current)
        a.shortcuts.triggered.connect(self.show_shortcuts)
        a.getting_started.triggered.connect(
            lambda: self.messenger.info("Getting started", GETTING_STARTED)
        )

        self.document.project_replaced.connect(self._on_project_replaced)
        self.document.modified_changed.connect(lambda _m: self._update_title())
        self.document.path_changed.connect(lambda _p: self._update_title())
        self.document.edit_rejected.connect(lambda m: self.messenger.error("Edit not applied", m))
        self.files.recent_files_changed.connect(
            lambda paths: self.actions_.set_recent_files(paths, self.files.open_path)
        )
        self.identities.regenerate_requested.connect(self.generation.regenerate)
        self.generation.availability_changed.connect(
            self.identities.editor.set_generation_available
        )
        self.generation.availability_changed.connect(a.set_generation_available)
        self.generation.availability_changed.connect(lambda *_: self._show_model_state())
        self.preview.models_requested.connect(self.show_models_dialog)
        self.identities.editor.generation.candidate_chosen.connect(self.generation.choose_candidate)
        self.worker.job_failed.connect(self._on_job_failed)
        self.worker.job_crashed.connect(self._on_job_crashed)
        self.correction_actions.bind(
            self.document, self.state, self.corrections, self.preview, self.review
        )
        self.corrections.notice.connect(lambda m: self.statusBar().showMessage(m, 15_000))
        self.corrections.stopped_early.connect(
            lambda m: self.messenger.info("The face was lost before the shot ended", m)
        )
        self.autosave.failed.connect(lambda m: self.statusBar().showMessage(m, 10_000))
        self.files.analysis_requested.connect(self.preview.show_analysing)
        self.files.analysis_stopped.connect(self.preview.stop_analysing)

    def _add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title}Dock")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    # -- reactions ------------------------------------------------------------------------

    def _on_project_replaced(self) -> None:
        project = self.document.project
        self.actions_.set_project_open(project is not None)
        self.correction_actions.set_project_open(project is not None)
        self.playback.set_source(Path(project.source.path) if project else None)
        self._update_title()

    def _show_model_state(self) -> None:
        """Synthetic people are shown blurred while their models are missing: say so on the
        preview, the lanes and the gallery."""
        missing = self.generation.models_missing()
        self.preview.set_synthetic_unavailable(missing)
        self.timeline.set_synthetic_unavailable(missing)
        self.identities.model.set_synthetic_unavailable(missing)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.display_name()}[*] — {APP_TITLE}")
        self.setWindowModified(self.document.is_modified())

    def _on_job_failed(self, job: JobInfo, message: str) -> None:
        if job.job_id in self._crashed_jobs:  # already shown, with its details
            self._crashed_jobs.discard(job.job_id)
            return
        if job.kind is JobKind.THUMBNAIL:  # a missing picture is no reason for a dialog
            self.statusBar().showMessage(f"{job.description} failed: {message}", 10_000)
            return
        self.messenger.error(f"{job.description} failed", message)

    def _on_job_crashed(self, job: JobInfo, report: CrashReport) -> None:
        self._crashed_jobs.add(job.job_id)
        self.messenger.crash(report)

    # -- dialogs --------------------------------------------------------------------------

    def show_export_dialog(self) -> ExportDialog | None:
        if self.document.project is None:
            return None
        if self.export_dialog is None or not self.export_dialog.running:
            self.export_dialog = ExportDialog(
                self.document, self.worker, folder_opener=self._folder_opener, parent=self,
                playhead_s=lambda: self.state.frame / self.state.fps,
            )  # fmt: skip
        self.export_dialog.show()
        self.export_dialog.raise_()
        return self.export_dialog

    def show_models_dialog(self) -> ModelsDialog:
        if self.models_dialog is None or not self.models_dialog.downloading:
            self.models_dialog = ModelsDialog(self.worker, self.messenger, self)
            self.models_dialog.models_changed.connect(self.generation.refresh_availability)
        self.models_dialog.show()
        self.models_dialog.raise_()
        return self.models_dialog

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(shortcut_entries(self), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.shortcuts_dialog = dialog
        return dialog

    def show_settings_dialog(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.apply_settings(dialog.settings())

    def apply_settings(self, settings: EditorSettings) -> None:
        """Store the settings and hand the compute part to the worker."""
        changed_compute = settings.compute_config() != self.settings.compute_config()
        self.settings = settings
        self.context.store.save(settings)
        self.autosave.set_interval(settings.autosave_interval_s)
        if changed_compute:
            self.worker.submit(ConfigureRequest(settings.compute_config()))
            self.generation.refresh_availability()

    def offer_recovery(self) -> bool:
        """After a crash: offer the newest autosaved work. True when it was restored."""
        for entry in self.autosave.pending_recoveries():
            answer = self.messenger.ask(
                "Recover unsaved work?",
                f"AnonNET Studio did not close normally. Restore {entry.title}?\n"
                "No discards it; Cancel keeps it for the next start.",
                allow_cancel=True,
            )
            if answer is Answer.CANCEL:
                continue
            if answer is Answer.YES:
                try:
                    project = entry.load()
                except Exception as exc:  # a damaged copy must not stop the editor
                    self.messenger.error("Recovery failed", str(exc))
                    continue
                self.document.set_project(project, entry.project_path, modified=True)
                entry.discard()
                return True
            entry.discard()
        return False

    # -- window events --------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(is_openable(Path(u.toLocalFile())) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            path = Path(url.toLocalFile())
            if is_openable(path):
                self.files.open_path(path)
                event.acceptProposedAction()
                return

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_keep_changes():
            event.ignore()
            return
        self.playback.pause()
        self.autosave.discard()
        self.context.store.save_window_state(self.saveGeometry(), self.saveState())
        event.accept()
