"""The Correct menu: draw a missed face or a region, follow, trim, keep or delete the
selected box, and step through the review queue, with single-key shortcuts."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from anonnet_studio.ui.actions import NO_PROJECT_REASON, set_enabled_with_reason
from anonnet_studio.ui.correction.controller import CorrectionController
from anonnet_studio.ui.correction.review_panel import ReviewPanel
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.preview.box_editing import CanvasTool
from anonnet_studio.ui.preview.panel import PreviewPanel


class CorrectionActions:
    def __init__(self, window: QMainWindow) -> None:
        self._window = window
        add = self._action
        self.add_face = add("Add a &face the analysis missed", "F")
        self.add_region = add("Add a &region to redact (name tag, screen…)", "R")
        self.follow = add("F&ollow the selected face or region from this frame", "P")
        self.trim_start = add("Trim the selected box's &start to this frame", "[")
        self.trim_end = add("Trim the selected box's &end to this frame", "]")
        self.keep_face = add("&Keep the selected face visible / hide it again", "Shift+K")
        self.delete_selected = add("&Delete the selected face (not a face) or region", "Delete")
        self.next_review = add("&Next item to review", "N")
        self.previous_review = add("&Previous item to review", "Shift+N")
        self.mark_reviewed = add("&Mark the review item reviewed", "M")
        self.all = (
            self.add_face, self.add_region, self.follow, self.trim_start, self.trim_end,
            self.keep_face, self.delete_selected, self.next_review, self.previous_review,
            self.mark_reviewed,
        )  # fmt: skip

    def build_menu(self) -> QMenu:
        menu = self._window.menuBar().addMenu("&Correct")
        menu.setToolTipsVisible(True)  # disabled actions explain why
        for number, action in enumerate(self.all):
            if number in (2, 7):
                menu.addSeparator()
            menu.addAction(action)
        return menu

    def bind(
        self,
        document: ProjectDocument,
        state: EditorState,
        corrections: CorrectionController,
        preview: PreviewPanel,
        review: ReviewPanel,
    ) -> None:
        """Connect every action to what it does on the current selection."""

        def on_track(run: Callable[[int], object]) -> Callable[[], None]:
            def call() -> None:
                if state.track_id is not None:
                    run(state.track_id)

            return call

        def on_selection(
            track: Callable[[int], object], region: Callable[[int], object]
        ) -> Callable[[], None]:
            def run() -> None:
                if state.region_id is not None:
                    region(state.region_id)
                elif state.track_id is not None:
                    track(state.track_id)

            return run

        def toggle_kept(track_id: int) -> None:
            project = document.project
            if project is not None and track_id in project.tracks:
                corrections.set_kept(track_id, not project.tracks[track_id].kept)

        def region_range(region_id: int, start: bool) -> None:
            project = document.project
            if project is None:
                return
            region = project.region(region_id)
            first, end = (state.frame, region.end_frame) if start else (
                region.start_frame, state.frame + 1)  # fmt: skip
            corrections.set_region_range(region_id, first, end)

        self.add_face.triggered.connect(lambda: preview.set_tool(CanvasTool.DRAW_FACE))
        self.add_region.triggered.connect(lambda: preview.set_tool(CanvasTool.DRAW_REGION))
        self.follow.triggered.connect(
            on_selection(
                lambda t: corrections.propagate_track(t, state.frame),
                lambda r: corrections.track_region(r, state.frame),
            )
        )
        self.trim_start.triggered.connect(
            on_selection(
                lambda t: corrections.trim_track_start(t, state.frame),
                lambda r: region_range(r, start=True),
            )
        )
        self.trim_end.triggered.connect(
            on_selection(
                lambda t: corrections.trim_track_end(t, state.frame),
                lambda r: region_range(r, start=False),
            )
        )
        self.keep_face.triggered.connect(on_track(toggle_kept))
        self.delete_selected.triggered.connect(
            on_selection(corrections.delete_track, corrections.remove_region)
        )
        self.next_review.triggered.connect(review.next_item)
        self.previous_review.triggered.connect(review.previous_item)
        self.mark_reviewed.triggered.connect(review.toggle_reviewed)
        preview.face_drawn.connect(corrections.add_face)
        preview.region_drawn.connect(corrections.add_region)
        preview.box_edited.connect(corrections.edit_box)

    def set_project_open(self, is_open: bool) -> None:
        for action in self.all:
            set_enabled_with_reason(action, is_open, NO_PROJECT_REASON)

    def _action(self, text: str, shortcut: str) -> QAction:
        action = QAction(text, self._window)
        action.setShortcut(QKeySequence(shortcut))
        # Window-wide like the playback keys; text fields still get their own keys.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._window.addAction(action)
        return action
