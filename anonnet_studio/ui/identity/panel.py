"""`IdentityPanel`: the gallery of people above the selected person's editor, plus the
merge / split / rename actions of the gallery's context menu."""

from __future__ import annotations

import random

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QMenu,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.icons import icon
from anonnet_studio.ui.identity.editor import IdentityEditor
from anonnet_studio.ui.identity.gallery import (
    IDENTITY_ID_ROLE,
    IdentityGalleryView,
    IdentityListModel,
)


class IdentityPanel(QWidget):
    regenerate_requested = Signal(str)  # identity id

    def __init__(
        self,
        document: ProjectDocument,
        state: EditorState,
        rng: random.Random | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._state = state
        rng = rng or random.Random()
        self.model = IdentityListModel(document, self)
        self.gallery = IdentityGalleryView(self)
        self.gallery.setModel(self.model)
        self.editor = IdentityEditor(document, state, rng, self)
        self.editor.regenerate_requested.connect(self.regenerate_requested)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.editor)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        hint = QLabel("Double-click to rename · drag one person onto another to merge")
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        top_layout.addWidget(hint)
        top_layout.addWidget(self.gallery)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([170, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.model.merge_requested.connect(self.merge)
        self.model.modelReset.connect(self._select_row_of_state)
        self.gallery.selectionModel().currentChanged.connect(self._on_current_changed)
        self.gallery.customContextMenuRequested.connect(self._show_context_menu)
        state.identity_selected.connect(self._select_row)

    # -- actions (also used by menus and tests) -------------------------------------------

    def merge(self, target_id: str, source_id: str) -> bool:
        """Merge `source_id` into `target_id` and select the merged person."""
        if self._document.merge(target_id, source_id):
            self._state.select_identity(target_id)
            return True
        return False

    def split_track(self, track_id: int) -> str | None:
        new_id = self._document.split_track(track_id)
        if new_id is not None:
            self._state.select_identity(new_id)
        return new_id

    def rename_interactively(self, identity_id: str) -> None:
        project = self._document.project
        if project is None or not project.has_identity(identity_id):
            return
        current = project.identity(identity_id).name
        name, ok = QInputDialog.getText(self, "Rename person", "Name:", text=current)
        if ok and name.strip() and name.strip() != current:
            self._document.rename(identity_id, name.strip())

    def build_context_menu(self, identity_id: str) -> QMenu:
        """The gallery's menu for one person (built separately so tests can drive it)."""
        project = self._document.project
        menu = QMenu(self)
        if project is None or not project.has_identity(identity_id):
            return menu
        identity = project.identity(identity_id)
        rename = menu.addAction(icon("rename"), "Rename…")
        rename.triggered.connect(lambda: self.rename_interactively(identity_id))
        toggle = menu.addAction(
            icon("kept" if identity.hidden else "hidden"),
            "Keep visible" if identity.hidden else "Anonymize",
        )
        toggle.triggered.connect(
            lambda: self._document.set_field(identity_id, "hidden", not identity.hidden)
        )
        menu.addSeparator()
        merge_menu = menu.addMenu(icon("merge"), f"Merge {identity.name} into")
        others = [i for i in project.identities if i.id != identity_id]
        merge_menu.setEnabled(bool(others))
        for other in others:
            action = merge_menu.addAction(f"{other.name} ({other.id})")
            action.setObjectName(f"merge-into-{other.id}")
            action.triggered.connect(
                lambda _c=False, target=other.id: self.merge(target, identity_id)
            )
        split_menu = menu.addMenu(icon("split"), "Split a track off into a new person")
        tracks = project.tracks_of(identity_id)
        split_menu.setEnabled(len(tracks) > 1)
        for track in tracks:
            action = split_menu.addAction(
                f"Track {track.id}: shot {track.shot_index + 1}, "
                f"frames {track.start_frame}–{track.end_frame - 1}"
            )
            action.setObjectName(f"split-track-{track.id}")
            action.triggered.connect(lambda _c=False, t=track.id: self.split_track(t))
        menu.addSeparator()
        jump = menu.addAction("Go to first appearance")
        jump.triggered.connect(lambda: self._state.set_frame(min(t.start_frame for t in tracks)))
        return menu

    # -- selection sync -------------------------------------------------------------------

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._state.select_track(None)
            self._state.select_identity(str(current.data(IDENTITY_ID_ROLE)))

    def _select_row(self, identity_id: str | None) -> None:
        selection = self.gallery.selectionModel()
        row = self.model.row_of(identity_id) if identity_id is not None else None
        selection.blockSignals(True)
        try:
            if row is None:
                selection.clearSelection()
                selection.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.Clear)
            else:
                index = self.model.index(row)
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                self.gallery.scrollTo(index)
        finally:
            selection.blockSignals(False)
        self.gallery.viewport().update()

    def _select_row_of_state(self) -> None:
        self._select_row(self._state.identity_id)
        self.editor.refresh()

    def _show_context_menu(self, pos: QPoint) -> None:
        index = self.gallery.indexAt(pos)
        if index.isValid():
            menu = self.build_context_menu(str(index.data(IDENTITY_ID_ROLE)))
            menu.exec(self.gallery.viewport().mapToGlobal(pos))
