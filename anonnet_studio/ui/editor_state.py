"""`EditorState`: what the user is looking at: the current frame and the selection.

Selections are domain ids (identity id, shot index, track id), never widgets or items.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from anonnet_studio.ui.document import ProjectDocument


class EditorState(QObject):
    frame_changed = Signal(int)
    identity_selected = Signal(object)  # str | None
    shot_selected = Signal(object)  # int | None
    track_selected = Signal(object)  # int | None
    region_selected = Signal(object)  # int | None (a region that is not a face)

    def __init__(self, document: ProjectDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._frame = 0
        self._identity: str | None = None
        self._shot: int | None = None
        self._track: int | None = None
        self._region: int | None = None
        document.project_replaced.connect(self._on_project_replaced)
        document.identities_changed.connect(self._drop_vanished_selection)
        document.tracks_changed.connect(lambda _ids: self._drop_vanished_selection())
        document.regions_changed.connect(self._drop_vanished_selection)

    # -- frame ----------------------------------------------------------------------------

    @property
    def frame(self) -> int:
        return self._frame

    @property
    def frame_count(self) -> int:
        project = self._document.project
        if project is None:
            return 0
        video = project.source.media_info.get("video", {})
        count = int(video.get("frame_count", 0) or 0)
        if count <= 0 and project.shots:
            count = project.shots[-1].end_frame
        return count

    @property
    def fps(self) -> float:
        project = self._document.project
        if project is None:
            return 30.0
        fps = float(project.source.media_info.get("video", {}).get("fps", 0.0) or 0.0)
        return fps if fps > 0 else 30.0

    def set_frame(self, frame: int) -> None:
        """Move the playhead; clamped to the video."""
        last = max(0, self.frame_count - 1)
        frame = min(max(int(frame), 0), last)
        if frame != self._frame:
            self._frame = frame
            self.frame_changed.emit(frame)

    def step(self, delta: int) -> None:
        self.set_frame(self._frame + delta)

    # -- selection ------------------------------------------------------------------------

    @property
    def identity_id(self) -> str | None:
        return self._identity

    @property
    def shot_index(self) -> int | None:
        return self._shot

    @property
    def track_id(self) -> int | None:
        return self._track

    @property
    def region_id(self) -> int | None:
        return self._region

    def select_region(self, region_id: int | None) -> None:
        """Selecting a region clears the face selection (one box is edited at a time)."""
        if region_id is not None:
            self.select_track(None)
        if region_id != self._region:
            self._region = region_id
            self.region_selected.emit(region_id)

    def select_identity(self, identity_id: str | None) -> None:
        if identity_id != self._identity:
            self._identity = identity_id
            self.identity_selected.emit(identity_id)

    def select_shot(self, shot_index: int | None) -> None:
        if shot_index != self._shot:
            self._shot = shot_index
            self.shot_selected.emit(shot_index)

    def select_track(self, track_id: int | None) -> None:
        """Selecting a track also selects its person."""
        if track_id is not None and self._region is not None:
            self._region = None
            self.region_selected.emit(None)
        if track_id != self._track:
            self._track = track_id
            self.track_selected.emit(track_id)
        project = self._document.project
        if track_id is not None and project is not None and track_id in project.tracks:
            self.select_identity(project.tracks[track_id].identity_id)

    def _on_project_replaced(self) -> None:
        self.select_region(None)
        self.select_track(None)
        self.select_shot(None)
        self.select_identity(None)
        self._frame = -1
        self.set_frame(0)

    def _drop_vanished_selection(self) -> None:
        project = self._document.project
        if project is None:
            return
        if self._identity is not None and not project.has_identity(self._identity):
            self.select_identity(None)
        if self._track is not None and self._track not in project.tracks:
            self.select_track(None)
        if self._track is not None and self._track in project.tracks:
            # the track may now belong to someone else (merge/split)
            self.select_identity(project.tracks[self._track].identity_id)
        if self._region is not None and not any(r.id == self._region for r in project.regions):
            self.select_region(None)
