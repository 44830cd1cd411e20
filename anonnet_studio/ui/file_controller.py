"""Opening videos and projects, saving, and asking before unsaved work is lost.

Opening a video starts an analysis job; opening a project loads it on the worker. Both
results arrive as new documents and replace the open one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.io import PROJECT_SUFFIX
from anonnet_studio.project.openable import VIDEO_SUFFIXES, is_openable
from anonnet_studio.project.presence import OpenProjectClaim
from anonnet_studio.ui.dialogs.messages import Answer, Messenger
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.settings import EditorSettings, SettingsStore
from anonnet_studio.workers.requests import AnalysisRequest, OpenProjectRequest
from anonnet_studio.workers.results import AnalysisDone, JobInfo, ProjectOpened
from anonnet_studio.workers.worker import ComputeWorker

OPEN_FILTER = (
    f"Videos and projects (*{PROJECT_SUFFIX} " + " ".join(f"*{s}" for s in VIDEO_SUFFIXES) + ");;"
    f"Projects (*{PROJECT_SUFFIX});;Videos (" + " ".join(f"*{s}" for s in VIDEO_SUFFIXES) + ")"
)
PROJECT_FILTER = f"AnonNET project (*{PROJECT_SUFFIX})"


class FileController(QObject):
    recent_files_changed = Signal(list)  # list[Path]
    analysis_requested = Signal(object)  # Path of the video, just before its job is queued
    analysis_started = Signal(object)  # JobInfo
    analysis_stopped = Signal()  # an analysis of ours failed or was cancelled
    document_loaded = Signal()

    def __init__(
        self,
        document: ProjectDocument,
        worker: ComputeWorker,
        store: SettingsStore,
        messenger: Messenger,
        settings: Callable[[], EditorSettings],
        dialog_parent: QWidget | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._worker = worker
        self._store = store
        self._messenger = messenger
        self._settings = settings
        self._dialog_parent = dialog_parent
        self._jobs: dict[int, Path] = {}  # our analysis/open jobs -> the path they open
        self._analyses: set[int] = set()  # which of them analyse a video
        self._claim = OpenProjectClaim()
        document.path_changed.connect(self._on_path_changed)
        worker.job_finished.connect(self._on_job_finished)
        worker.job_failed.connect(lambda job, _m: self._forget_job(job))
        worker.job_cancelled.connect(self._forget_job)

    # -- opening --------------------------------------------------------------------------

    def open_path(self, path: Path) -> JobInfo | None:
        """Open a project file or analyse a video (after asking about unsaved changes)."""
        path = Path(path).expanduser()
        if not path.exists():
            self._messenger.error("Cannot open", f"{path} does not exist.")
            return None
        if not is_openable(path):
            self._messenger.error(
                "Cannot open",
                f"{path.name} is neither a video nor an AnonNET project.\n"
                f"Open a video ({', '.join(VIDEO_SUFFIXES)}) or a {PROJECT_SUFFIX} file.",
            )
            return None
        if not self.maybe_keep_changes():
            return None
        if path.suffix.lower() == PROJECT_SUFFIX:
            job = self._worker.submit(OpenProjectRequest(path.resolve()))
        else:
            settings = self._settings()
            self.analysis_requested.emit(path.resolve())
            job = self._worker.submit(
                AnalysisRequest(
                    video_path=path.resolve(),
                    default_method=settings.default_method,
                    default_mask_margin=settings.default_mask_margin,
                )
            )
            self._analyses.add(job.job_id)
            self.analysis_started.emit(job)
        self._jobs[job.job_id] = path.resolve()
        return job

    def choose_and_open(self) -> None:
        start = str(self._document.path.parent) if self._document.path else ""
        path, _ = QFileDialog.getOpenFileName(self._dialog_parent, "Open", start, OPEN_FILTER)
        if path:
            self.open_path(Path(path))

    # -- saving ---------------------------------------------------------------------------

    def save(self) -> bool:
        """Save to the document's file, or ask for one. False when nothing was saved."""
        if self._document.project is None:
            return False
        if self._document.path is None:
            return self.save_as()
        return self._save_to(self._document.path)

    def save_as(self, path: Path | None = None) -> bool:
        if self._document.project is None:
            return False
        if path is None:
            suggested = self._suggested_path()
            chosen, _ = QFileDialog.getSaveFileName(
                self._dialog_parent, "Save project as", str(suggested), PROJECT_FILTER
            )
            if not chosen:
                return False
            path = Path(chosen)
        if path.suffix != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        return self._save_to(path)

    def maybe_keep_changes(self) -> bool:
        """Before the document is replaced: True when it is fine to go on."""
        if not self._document.is_modified():
            return True
        answer = self._messenger.ask(
            "Unsaved changes",
            f"Save the changes to {self._document.display_name()} first?",
            allow_cancel=True,
        )
        if answer is Answer.CANCEL:
            return False
        if answer is Answer.YES:
            return self.save()
        return True

    def close_project(self) -> bool:
        if not self.maybe_keep_changes():
            return False
        self._document.set_project(None)
        return True

    # -- internals ------------------------------------------------------------------------

    def _save_to(self, path: Path) -> bool:
        try:
            self._document.save(path)
        except AnonNetError as exc:
            self._messenger.error("Could not save", exc.user_message())
            return False
        except OSError as exc:
            self._messenger.error("Could not save", f"{path}: {exc.strerror or exc}")
            return False
        self._remember(path)
        return True

    def _suggested_path(self) -> Path:
        if self._document.path is not None:
            return self._document.path
        project = self._document.project
        assert project is not None
        source = Path(project.source.path)
        return source.with_name(source.stem + PROJECT_SUFFIX)

    def _on_path_changed(self, path: Path | None) -> None:
        if path is None:
            self._claim.release()
        elif not self._claim.claim(path):
            self._messenger.info("Open elsewhere", open_elsewhere_message(path))

    def _remember(self, path: Path) -> None:
        self.recent_files_changed.emit(self._store.add_recent_file(path))

    def _forget_job(self, job: JobInfo) -> None:
        self._jobs.pop(job.job_id, None)
        if job.job_id in self._analyses:
            self._analyses.discard(job.job_id)
            self.analysis_stopped.emit()

    def _on_job_finished(self, job: JobInfo, result: object) -> None:
        self._analyses.discard(job.job_id)
        path = self._jobs.pop(job.job_id, None)
        if path is None:
            return
        if isinstance(result, AnalysisDone):
            # A fresh analysis has no file yet: it counts as unsaved work.
            self._document.set_project(result.project, None, modified=True)
        elif isinstance(result, ProjectOpened):
            self._document.set_project(result.project, result.path)
        else:
            return
        self._remember(path)
        self.document_loaded.emit()


def open_elsewhere_message(path: Path) -> str:
    return (
        f"{path.name} is also open in another AnonNET Studio window.\n"
        "Each window's saves replace the other's: close the project in one of them."
    )
