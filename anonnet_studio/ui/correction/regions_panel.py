"""`RegionsPanel`: the regions that are not faces (name tags, captions, screens), with the
selected one's name, shape, method and frame range, and buttons to track or delete it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.project.schema import RegionMethod, RegionShape
from anonnet_studio.ui.correction.controller import CorrectionController
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState

ID_ROLE = Qt.ItemDataRole.UserRole + 1
_METHOD_LABELS = {
    RegionMethod.BLUR: "Blur",
    RegionMethod.PIXELATE: "Pixelate",
    RegionMethod.FILL: "Solid fill",
}


class RegionsPanel(QWidget):
    def __init__(
        self,
        document: ProjectDocument,
        state: EditorState,
        corrections: CorrectionController,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._state = state
        self._corrections = corrections
        self._syncing = False
        hint = QLabel("Draw a region on the preview with Add region (R).", self)
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("RegionList")
        self.name = QLineEdit(self)
        self.shape = QComboBox(self)
        for shape in RegionShape:
            self.shape.addItem(shape.value.capitalize(), shape.value)
        self.method = QComboBox(self)
        for method, label in _METHOD_LABELS.items():
            self.method.addItem(label, method.value)
        self.start = QSpinBox(self)
        self.end = QSpinBox(self)
        for box in (self.start, self.end):
            box.setKeyboardTracking(False)  # one edit per committed value, not per digit
        self.track_button = QPushButton("Track through the shot", self)
        self.track_button.setToolTip("Follow the region from the current frame")
        self.delete_button = QPushButton("Delete", self)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Shape", self.shape)
        form.addRow("Redaction", self.method)
        form.addRow("First frame", self.start)
        form.addRow("Last frame", self.end)
        buttons = QHBoxLayout()
        buttons.addWidget(self.track_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        self.editor = QWidget(self)
        editor_layout = QVBoxLayout(self.editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addLayout(form)
        editor_layout.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(hint)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.editor)

        document.project_replaced.connect(self.rebuild)
        document.regions_changed.connect(self.rebuild)
        state.region_selected.connect(self._select)
        document.edit_rejected.connect(lambda _m: self._select(self._state.region_id))
        self.list.currentRowChanged.connect(self._on_current_row)
        self.name.editingFinished.connect(
            lambda: self._edit("name", self.name.text()) if self.name.isModified() else None
        )
        self.shape.activated.connect(lambda _i: self._edit("shape", self.shape.currentData()))
        self.method.activated.connect(lambda _i: self._edit("method", self.method.currentData()))
        self.start.valueChanged.connect(lambda _v: self._edit_range())
        self.end.valueChanged.connect(lambda _v: self._edit_range())
        self.track_button.clicked.connect(self._track)
        self.delete_button.clicked.connect(self._delete)
        self.rebuild()

    def rebuild(self) -> None:
        project = self._document.project
        self._syncing = True
        try:
            self.list.clear()
            for region in project.regions if project is not None else []:
                entry = QListWidgetItem(
                    f"{region.name}: {_METHOD_LABELS[region.method].lower()} {region.shape.value}"
                    f", frames {region.start_frame}–{region.end_frame - 1}"
                    + (" (tracked)" if region.tracked else "")
                )
                entry.setData(ID_ROLE, region.id)
                self.list.addItem(entry)
        finally:
            self._syncing = False
        self._select(self._state.region_id)

    def _select(self, region_id: int | None) -> None:
        project = self._document.project
        ids = [r.id for r in project.regions] if project is not None else []
        self._syncing = True
        try:
            self.list.setCurrentRow(ids.index(region_id) if region_id in ids else -1)
            self._fill_editor()
        finally:
            self._syncing = False

    def _current_region_id(self) -> int | None:
        entry = self.list.currentItem()
        return int(entry.data(ID_ROLE)) if entry is not None else None

    def _fill_editor(self) -> None:
        project = self._document.project
        region_id = self._current_region_id()
        region = None
        if project is not None and region_id is not None:
            region = project.region(region_id)
        self.editor.setEnabled(region is not None)
        if region is None:
            return
        last = max(0, self._state.frame_count - 1)
        self.name.setText(region.name)
        self.name.setModified(False)
        self.shape.setCurrentIndex(self.shape.findData(region.shape.value))
        self.method.setCurrentIndex(self.method.findData(region.method.value))
        for box in (self.start, self.end):
            box.blockSignals(True)
            box.setRange(0, last)
        self.start.setValue(region.start_frame)
        self.end.setValue(region.end_frame - 1)
        for box in (self.start, self.end):
            box.blockSignals(False)

    def _on_current_row(self, _row: int) -> None:
        if self._syncing:
            return
        region_id = self._current_region_id()
        self._state.select_region(region_id)
        project = self._document.project
        if region_id is not None and project is not None:
            region = project.region(region_id)
            if not region.covers(self._state.frame):
                self._state.set_frame(region.start_frame)

    def _edit(self, field: str, value: object) -> None:
        region_id = self._current_region_id()
        if region_id is not None and not self._syncing:
            self._corrections.set_region_field(region_id, field, value)

    def _edit_range(self) -> None:
        region_id = self._current_region_id()
        if region_id is not None and not self._syncing:
            self._corrections.set_region_range(region_id, self.start.value(), self.end.value() + 1)

    def _track(self) -> None:
        region_id = self._current_region_id()
        if region_id is not None:
            self._corrections.track_region(region_id, self._state.frame)

    def _delete(self) -> None:
        region_id = self._current_region_id()
        if region_id is not None:
            self._corrections.remove_region(region_id)
