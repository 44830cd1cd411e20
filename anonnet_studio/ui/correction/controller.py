"""`CorrectionController`: turns the user's hand corrections into project commands, and runs
propagation on the worker (a drawn face is followed through its shot at once)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from PySide6.QtCore import QObject, Signal

from anonnet_studio.project.backends import analysed_embedder
from anonnet_studio.project.commands import (
    AddManualTrack,
    AddRegion,
    ApplyPropagation,
    ApplyRegionTracking,
    AssignTrack,
    Command,
    DeleteTrack,
    DeleteTrackFrames,
    RemoveRegion,
    SetRegionBox,
    SetRegionField,
    SetRegionRange,
    SetTrackBox,
    SetTrackKept,
    TrimTrack,
)
from anonnet_studio.project.events import ProjectEvents
from anonnet_studio.project.schema import Track
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.workers.requests import PropagationRequest
from anonnet_studio.workers.results import JobInfo, PropagationDone
from anonnet_studio.workers.worker import ComputeWorker

C = TypeVar("C", bound=Command)


class CorrectionController(QObject):
    notice = Signal(str)  # a sentence for the status bar (where propagation stopped, ...)
    propagation_finished = Signal(object)  # PropagationDone, after it was applied
    stopped_early = Signal(str)  # the face was lost before the shot ended: where and why

    def __init__(
        self,
        document: ProjectDocument,
        state: EditorState,
        worker: ComputeWorker,
        rng: random.Random | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._state = state
        self._worker = worker
        self._rng = rng or random.Random()
        self._jobs: dict[int, PropagationRequest] = {}
        worker.job_finished.connect(self._on_finished)
        worker.job_failed.connect(lambda job, _m: self._jobs.pop(job.job_id, None))
        worker.job_cancelled.connect(self._on_cancelled)

    @property
    def running(self) -> bool:
        return bool(self._jobs)

    # -- faces ----------------------------------------------------------------------------

    def add_face(self, frame: int, box: object) -> int | None:
        """A face the analysis missed: a new hidden person with a one-frame track at `box`
        (shown at once), then followed through its shot on the worker."""
        command = self._push(lambda: AddManualTrack(frame, box, rng=self._rng, events=self._events))
        if command is None or command.track_id is None:
            return None
        self._state.select_track(command.track_id)
        self.propagate_track(command.track_id, frame)
        return command.track_id

    def propagate_track(self, track_id: int, frame: int) -> JobInfo | None:
        """Follow the track's face from `frame` (its box there) through the shot."""
        project = self._document.project
        if project is None or track_id not in project.tracks:
            return None
        track = project.tracks[track_id]
        box = track.box_at(frame)
        if box is None:
            self.notice.emit(f"Track {track_id} has no box at frame {frame}.")
            return None
        shot = project.shots[track.shot_index]
        return self._submit("track", track_id, frame, box, (shot.start_frame, shot.end_frame))

    def edit_box(self, key: tuple[str, int], frame: int, box: object) -> None:
        kind, domain_id = key
        if kind == "track":
            self._push(lambda: SetTrackBox(domain_id, frame, box, events=self._events))
        else:
            self._push(lambda: SetRegionBox(domain_id, frame, box, events=self._events))

    def trim_track_start(self, track_id: int, frame: int) -> None:
        track = self._track(track_id)
        if track is not None:
            end = track.end_frame
            self._push(lambda: TrimTrack(track_id, frame, end, events=self._events))

    def trim_track_end(self, track_id: int, frame: int) -> None:
        track = self._track(track_id)
        if track is not None:
            start = track.start_frame
            self._push(lambda: TrimTrack(track_id, start, frame + 1, events=self._events))

    def trim_track(self, track_id: int, first: int, last: int) -> None:
        """Keep frames first..last of a track (dragging a span's end on the timeline)."""
        self._push(lambda: TrimTrack(track_id, first, last + 1, events=self._events))

    def delete_frames(self, track_id: int, first: int, last: int) -> None:
        self._push(lambda: DeleteTrackFrames(track_id, first, last, events=self._events))

    def delete_track(self, track_id: int) -> None:
        if self._push(lambda: DeleteTrack(track_id, events=self._events)) is not None:
            self.notice.emit(
                "Face deleted. If it was a real face, the export's leak check still covers it."
            )

    def set_kept(self, track_id: int, kept: bool) -> None:
        if self._push(lambda: SetTrackKept(track_id, kept, events=self._events)) and kept:
            self.notice.emit(
                "Face kept visible. Its person stays hidden: the export's leak check still "
                "covers it if it looks like them."
            )

    def assign_track(self, track_id: int, identity_id: str | None) -> None:
        command = self._push(
            lambda: AssignTrack(track_id, identity_id, rng=self._rng, events=self._events)
        )
        if command is not None and command.target_id is not None:
            self._state.select_identity(command.target_id)

    # -- regions --------------------------------------------------------------------------

    def add_region(self, frame: int, box: object) -> int | None:
        """A static region over the current shot (trim or track it afterwards)."""
        project = self._document.project
        if project is None:
            return None
        shot = project.shot_at(frame)
        start, end = (shot.start_frame, shot.end_frame) if shot else (frame, frame + 1)
        name = f"Region {project.next_region_id()}"
        command = self._push(lambda: AddRegion(box, start, end, name=name, events=self._events))
        if command is None:
            return None
        self._state.select_region(command.region_id)
        return command.region_id

    def track_region(self, region_id: int, frame: int) -> JobInfo | None:
        """Follow the region from `frame` within its frames of the current shot."""
        project = self._document.project
        if project is None or not any(r.id == region_id for r in project.regions):
            return None
        region = project.region(region_id)
        box = region.box_at(frame)
        if box is None:
            self.notice.emit(f"{region.name} is not redacted at frame {frame}.")
            return None
        shot = project.shot_at(frame)
        start, end = region.start_frame, region.end_frame
        if shot is not None:
            start, end = max(start, shot.start_frame), min(end, shot.end_frame)
        return self._submit("region", region_id, frame, box, (start, end))

    def set_region_field(self, region_id: int, field: str, value: object) -> None:
        self._push(lambda: SetRegionField(region_id, field, value, events=self._events))

    def set_region_range(self, region_id: int, start: int, end: int) -> None:
        self._push(lambda: SetRegionRange(region_id, start, end, events=self._events))

    def remove_region(self, region_id: int) -> None:
        self._push(lambda: RemoveRegion(region_id, events=self._events))

    # -- internals ------------------------------------------------------------------------

    @property
    def _events(self) -> ProjectEvents:
        return self._document.events

    def _push(self, build: Callable[[], C]) -> C | None:
        return self._document.push_built(build)

    def _track(self, track_id: int) -> Track | None:
        project = self._document.project
        return project.tracks.get(track_id) if project is not None else None

    def _submit(
        self, target: str, target_id: int, frame: int, box: np.ndarray, span: tuple[int, int]
    ) -> JobInfo:
        project = self._document.project
        assert project is not None
        request = PropagationRequest(
            video_path=Path(project.source.path),
            target=target,  # type: ignore[arg-type]
            target_id=target_id,
            seed_frame=frame,
            seed_box=np.asarray(box, dtype=np.float32),
            span=span,
            embedder=analysed_embedder(project),
        )
        job = self._worker.submit(request)
        self._jobs[job.job_id] = request
        return job

    def _on_cancelled(self, job: JobInfo) -> None:
        request = self._jobs.pop(job.job_id, None)
        if request is not None and request.target == "track":
            self.notice.emit("Following cancelled; the face keeps only the frames it had.")
        elif request is not None:
            self.notice.emit("Tracking cancelled; the region keeps its boxes.")

    def _on_finished(self, job: JobInfo, result: object) -> None:
        if self._jobs.pop(job.job_id, None) is None or not isinstance(result, PropagationDone):
            return
        project = self._document.project
        if project is None:
            return
        applied: object
        if result.target == "track":
            if result.target_id not in project.tracks:
                self.notice.emit("The face was deleted while it was being followed.")
                return
            applied = self._push(
                lambda: ApplyPropagation(
                    result.target_id, result.frames, result.boxes, result.landmarks5,
                    result.scores, result.embedding, thumbnail=result.thumbnail,
                    events=self._events,
                )
            )  # fmt: skip
        else:
            if not any(r.id == result.target_id for r in project.regions):
                self.notice.emit("The region was deleted while it was being tracked.")
                return
            applied = self._push(
                lambda: ApplyRegionTracking(
                    result.target_id, result.frames, result.boxes, events=self._events
                )
            )
        if applied is not None:
            self.notice.emit(result.message)
            if result.stopped_early:
                self.stopped_early.emit(result.message)
            self.propagation_finished.emit(result)
