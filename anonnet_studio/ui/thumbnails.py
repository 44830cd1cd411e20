"""`ThumbnailFiller`: asks the worker for a picture of every person who has none (a person
made by a split, or by giving a face to a new person), so no lane or gallery tile is blank."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.workers.requests import ThumbnailRequest
from anonnet_studio.workers.results import JobInfo, ThumbnailDone
from anonnet_studio.workers.worker import ComputeWorker


class ThumbnailFiller(QObject):
    def __init__(
        self, document: ProjectDocument, worker: ComputeWorker, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._worker = worker
        self._jobs: dict[int, str] = {}  # job id -> identity id
        self._asked: set[str] = set()  # asked once per person (a failure is not retried)
        document.project_replaced.connect(self._on_project_replaced)
        document.identities_changed.connect(self.fill_missing)
        worker.job_finished.connect(self._on_finished)
        worker.job_failed.connect(lambda job, _m: self._jobs.pop(job.job_id, None))
        worker.job_cancelled.connect(lambda job: self._jobs.pop(job.job_id, None))

    def fill_missing(self) -> None:
        project = self._document.project
        if project is None:
            return
        for identity in project.identities:
            if identity.thumbnail is not None or identity.id in self._asked:
                continue
            tracks = project.tracks_of(identity.id)
            if not tracks:
                continue
            track = max(tracks, key=lambda t: t.end_frame - t.start_frame)
            frame = int(track.frames[len(track.frames) // 2])  # mid-track: a settled face
            box = track.box_at(frame)
            if box is None:
                continue
            self._asked.add(identity.id)
            job = self._worker.submit(
                ThumbnailRequest(Path(project.source.path), identity.id, frame, box)
            )
            self._jobs[job.job_id] = identity.id

    def _on_project_replaced(self) -> None:
        self._jobs.clear()
        self._asked.clear()
        self.fill_missing()

    def _on_finished(self, job: JobInfo, result: object) -> None:
        identity_id = self._jobs.pop(job.job_id, None)
        project = self._document.project
        if (
            identity_id is not None
            and isinstance(result, ThumbnailDone)
            and project is not None
            and project.has_identity(identity_id)
            and project.identity(identity_id).thumbnail is None
        ):
            self._document.set_thumbnail(identity_id, result.thumbnail)
