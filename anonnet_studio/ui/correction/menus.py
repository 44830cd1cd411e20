"""The hand-correction entries of a face track's or a region's context menu (timeline), and
the small dialog that asks which frames to delete."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QMenu,
    QSpinBox,
    QWidget,
)

from anonnet_studio.ui.correction.controller import CorrectionController
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.icons import icon


class FrameRangeDialog(QDialog):
    """Asks for a first and last frame (inclusive) inside given bounds."""

    def __init__(
        self, title: str, low: int, high: int, first: int, last: int, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.first = QSpinBox(self)
        self.last = QSpinBox(self)
        for box, value in ((self.first, first), (self.last, last)):
            box.setRange(low, high)
            box.setValue(min(max(value, low), high))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("From frame", self.first)
        form.addRow("To frame (included)", self.last)
        form.addRow(buttons)

    def frames(self) -> tuple[int, int]:
        return self.first.value(), self.last.value()


class CorrectionMenus:
    """Fills the timeline's span menus; `ask_range` is replaceable in tests."""

    def __init__(
        self,
        document: ProjectDocument,
        state: EditorState,
        corrections: CorrectionController,
        parent: QWidget | None = None,
    ) -> None:
        self._document = document
        self._state = state
        self._corrections = corrections
        self._parent = parent
        self.ask_range = self._ask_range

    def extend(self, menu: QMenu, kind: str, domain_id: int) -> None:
        if kind == "track":
            self._track_entries(menu, domain_id)
        elif kind == "region":
            self._region_entries(menu, domain_id)

    def _track_entries(self, menu: QMenu, track_id: int) -> None:
        project = self._document.project
        if project is None or track_id not in project.tracks:
            return
        track = project.tracks[track_id]
        frame = self._state.frame
        c = self._corrections
        inside = track.covers(frame)
        follow = menu.addAction(f"Follow this face from frame {frame}")
        follow.setEnabled(inside)
        follow.triggered.connect(lambda: c.propagate_track(track_id, frame))
        trim_start = menu.addAction(f"Trim the start to frame {frame}")
        trim_start.setEnabled(inside)
        trim_start.triggered.connect(lambda: c.trim_track_start(track_id, frame))
        trim_end = menu.addAction(f"Trim the end to frame {frame}")
        trim_end.setEnabled(inside)
        trim_end.triggered.connect(lambda: c.trim_track_end(track_id, frame))
        delete_frames = menu.addAction("Delete frames…")
        delete_frames.setObjectName("delete-frames")
        delete_frames.triggered.connect(lambda: self._delete_frames(track_id))
        menu.addSeparator()
        kept = menu.addAction(
            icon("hidden" if track.kept else "kept"),
            "Hide this face again" if track.kept else "Keep this face visible",
        )
        kept.triggered.connect(lambda: c.set_kept(track_id, not track.kept))
        move = menu.addMenu("Give this face to")
        for identity in project.identities:
            if identity.id == track.identity_id:
                continue
            action = move.addAction(f"{identity.name} ({identity.id})")
            action.setObjectName(f"assign-{identity.id}")
            action.triggered.connect(
                lambda _c=False, target=identity.id: c.assign_track(track_id, target)
            )
        move.addSeparator()
        new = move.addAction("A new person")
        new.setObjectName("assign-new")
        new.triggered.connect(lambda: c.assign_track(track_id, None))
        delete = menu.addAction(icon("cancel"), "Delete this face (not a face)")
        delete.setObjectName("delete-face")
        delete.triggered.connect(lambda: c.delete_track(track_id))

    def _region_entries(self, menu: QMenu, region_id: int) -> None:
        project = self._document.project
        if project is None or not any(r.id == region_id for r in project.regions):
            return
        region = project.region(region_id)
        frame = self._state.frame
        c = self._corrections
        inside = region.covers(frame)
        track = menu.addAction(f"Track this region from frame {frame}")
        track.setEnabled(inside)
        track.triggered.connect(lambda: c.track_region(region_id, frame))
        start = menu.addAction(f"Start at frame {frame}")
        start.setEnabled(frame < region.end_frame)
        start.triggered.connect(lambda: c.set_region_range(region_id, frame, region.end_frame))
        end = menu.addAction(f"End at frame {frame}")
        end.setEnabled(frame >= region.start_frame)
        end.triggered.connect(lambda: c.set_region_range(region_id, region.start_frame, frame + 1))
        menu.addSeparator()
        delete = menu.addAction(icon("cancel"), f"Delete {region.name}")
        delete.triggered.connect(lambda: c.remove_region(region_id))

    def _delete_frames(self, track_id: int) -> None:
        project = self._document.project
        if project is None or track_id not in project.tracks:
            return
        track = project.tracks[track_id]
        frame = min(max(self._state.frame, track.start_frame), track.end_frame - 1)
        chosen = self.ask_range(track.start_frame, track.end_frame - 1, frame, frame)
        if chosen is not None:
            self._corrections.delete_frames(track_id, *chosen)

    def _ask_range(self, low: int, high: int, first: int, last: int) -> tuple[int, int] | None:
        dialog = FrameRangeDialog("Delete frames from the track", low, high, first, last,
                                  self._parent)  # fmt: skip
        return dialog.frames() if dialog.exec() else None
