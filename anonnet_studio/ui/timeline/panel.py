"""`TimelinePanel`: the timeline view with its zoom buttons, kept in sync with the document
and the editor state."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.icons import icon
from anonnet_studio.ui.timeline.audio_menu import fill_audio_menu
from anonnet_studio.ui.timeline.view import ZOOM_STEP, TimelineView

# Identity fields the timeline shows; other edits (prompt, seed, ...) need no rebuild.
# The backend decides whether a synthetic person is shown blurred for missing models.
_DISPLAYED_FIELDS = frozenset(
    {"name", "color", "hidden", "method", "needs_attention", "track_ids", "thumbnail"}
    | {"generation.backend"}
)


class TimelinePanel(QWidget):
    def __init__(
        self, document: ProjectDocument, state: EditorState, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._state = state
        self._synthetic_unavailable: frozenset[str] = frozenset()
        self.view = TimelineView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self._build_toolbar())
        layout.addWidget(self.view, 1)

        document.project_replaced.connect(self.rebuild)
        document.identities_changed.connect(self.rebuild)
        document.leak_frames_changed.connect(self.rebuild)
        document.identity_changed.connect(self._on_identity_changed)
        document.tracks_changed.connect(lambda _ids: self.rebuild())
        document.regions_changed.connect(self.rebuild)
        document.voice_changed.connect(self.rebuild)
        self.view.audio_menu_extender = lambda menu, kind, index: fill_audio_menu(
            menu, document, self.view.timeline.audio, state.fps, kind, index
        )
        state.region_selected.connect(self._on_region_selected)
        state.frame_changed.connect(self.view.set_frame)
        state.identity_selected.connect(self._on_identity_selected)
        state.shot_selected.connect(self._on_shot_selected)
        state.track_selected.connect(self._on_track_selected)
        self.view.seek_requested.connect(state.set_frame)
        self.view.shot_clicked.connect(self._select_shot)
        self.view.track_clicked.connect(state.select_track)
        self.view.identity_clicked.connect(self._select_identity)
        self.view.split_requested.connect(self._split_track)
        self.view.region_clicked.connect(state.select_region)
        self.rebuild()

    def set_synthetic_unavailable(self, unavailable: frozenset[str]) -> None:
        if unavailable != self._synthetic_unavailable:
            self._synthetic_unavailable = unavailable
            self.rebuild()

    def rebuild(self) -> None:
        self.view.rebuild(
            self._document.project,
            self._state.frame_count,
            self._state.fps,
            synthetic_unavailable=self._synthetic_unavailable,
        )
        self.view.set_frame(self._state.frame)
        self._restore_selection()

    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        bar.addStretch(1)
        hint = QLabel("Ctrl+wheel: zoom · Shift+wheel: scroll")
        hint.setObjectName("Hint")
        bar.addWidget(hint)
        for name, tip, slot in (
            ("zoom-fit", "Fit the whole video", self.view.fit_all),
            (None, "Zoom out", lambda: self.view.zoom_by(1 / ZOOM_STEP)),
            (None, "Zoom in", lambda: self.view.zoom_by(ZOOM_STEP)),
        ):
            button = QToolButton(self)
            button.setAutoRaise(True)
            if name:
                button.setIcon(icon(name))
            else:
                button.setText("−" if "out" in tip else "+")
            button.setToolTip(tip)
            button.clicked.connect(slot)
            bar.addWidget(button)
        return bar

    def _on_identity_changed(self, identity_id: str, fields: frozenset[str]) -> None:
        if fields & _DISPLAYED_FIELDS:
            self.rebuild()

    def _select_shot(self, index: int) -> None:
        self._state.select_track(None)
        self._state.select_shot(index)
        project = self._document.project
        if project is not None and 0 <= index < len(project.shots):
            shot = project.shots[index]
            if not shot.contains(self._state.frame):  # show the shot that was picked
                self._state.set_frame(shot.start_frame)

    def _split_track(self, track_id: int) -> None:
        new_id = self._document.split_track(track_id)
        if new_id is not None:
            self._state.select_identity(new_id)

    def _select_identity(self, identity_id: str) -> None:
        self._state.select_track(None)
        self._state.select_identity(identity_id)

    def _on_identity_selected(self, identity_id: str | None) -> None:
        self.view.set_selected_identity(identity_id)
        if identity_id is not None:
            self.view.scroll_to_lane(identity_id)

    def _on_shot_selected(self, index: int | None) -> None:
        if index is not None:
            self.view.select("shot", index)

    def _on_track_selected(self, track_id: int | None) -> None:
        self.view.select("track" if track_id is not None else None, track_id)

    def _on_region_selected(self, region_id: int | None) -> None:
        if region_id is not None:
            self.view.select("region", region_id)

    def _restore_selection(self) -> None:
        self.view.set_selected_identity(self._state.identity_id)
        if self._state.region_id is not None:
            self.view.select("region", self._state.region_id)
        elif self._state.track_id is not None:
            self.view.select("track", self._state.track_id)
        elif self._state.shot_index is not None:
            self.view.select("shot", self._state.shot_index)
