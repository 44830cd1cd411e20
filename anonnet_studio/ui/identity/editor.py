"""`IdentityEditor`: everything about the selected person, every change an undoable edit."""

from __future__ import annotations

import random

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.project.attention import attention_reason, can_mark_checked
from anonnet_studio.project.schema import Identity, Method
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.icons import method_icon
from anonnet_studio.ui.identity.attributes_box import AttributesBox
from anonnet_studio.ui.identity.generation_box import GenerationBox
from anonnet_studio.ui.images import pixmap_from_rgb

METHOD_LABELS = {
    Method.SYNTHETIC: "Synthetic face",
    Method.BLUR: "Blur",
    Method.PIXELATE: "Pixelate",
    Method.MASK: "Solid mask",
    Method.KEEP: "Keep (no change)",
}


class IdentityEditor(QWidget):
    regenerate_requested = Signal(str)  # identity id

    def __init__(
        self,
        document: ProjectDocument,
        state: EditorState,
        rng: random.Random,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._state = state
        self._identity_id: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        header = QHBoxLayout()
        self.thumbnail = QLabel(self)
        self.thumbnail.setFixedSize(64, 64)
        header.addWidget(self.thumbnail)
        names = QVBoxLayout()
        self.name = QLineEdit(self)
        self.name.setObjectName("IdentityName")
        self.name.setPlaceholderText("Name")
        self.name.editingFinished.connect(self._on_name_edited)
        names.addWidget(self.name)
        self.summary = QLabel("Select a person in the gallery or the timeline.")
        self.summary.setObjectName("Hint")
        self.summary.setWordWrap(True)
        names.addWidget(self.summary)
        header.addLayout(names, 1)
        layout.addLayout(header)
        attention_row = QHBoxLayout()
        self.attention = QLabel(self)
        self.attention.setObjectName("Attention")
        self.attention.setWordWrap(True)
        attention_row.addWidget(self.attention, 1)
        self.mark_checked = QPushButton("Mark checked", self)
        self.mark_checked.setToolTip("I looked: this is one person and is hidden as it should be")
        self.mark_checked.clicked.connect(lambda: self._edit("needs_attention", False))
        attention_row.addWidget(self.mark_checked)
        layout.addLayout(attention_row)

        form = QFormLayout()
        self.hidden = QCheckBox("Anonymize this person", self)
        self.hidden.setToolTip("Unchecked: the person is kept visible in the export")
        self.hidden.toggled.connect(lambda on: self._edit("hidden", on))
        form.addRow(self.hidden)
        self.method = QComboBox(self)
        self.method.setObjectName("MethodCombo")
        for method, label in METHOD_LABELS.items():
            self.method.addItem(method_icon(method), label, method.value)
        self.method.activated.connect(
            lambda _i: self._edit("method", Method(self.method.currentData()))
        )
        form.addRow("Method", self.method)
        margin_row = QHBoxLayout()
        self.margin = QSlider(Qt.Orientation.Horizontal, self)
        self.margin.setRange(0, 100)
        self.margin.setToolTip("Extra area around the face that is covered (hair, ears)")
        self.margin.valueChanged.connect(self._on_margin)
        self.margin.sliderReleased.connect(self._document.seal_merging)
        self.margin_value = QLabel("15 %")
        self.margin_value.setMinimumWidth(40)
        margin_row.addWidget(self.margin, 1)
        margin_row.addWidget(self.margin_value)
        form.addRow("Mask margin", margin_row)
        layout.addLayout(form)

        self.attributes = AttributesBox(self)
        self.attributes.override_chosen.connect(self._on_override)
        layout.addWidget(self.attributes)
        self.generation = GenerationBox(rng, self)
        self.generation.field_edited.connect(self._edit)
        self.generation.edit_run_finished.connect(self._document.seal_merging)
        self.generation.prompt_committed.connect(self._on_prompt)
        self.generation.regenerate_clicked.connect(self._on_regenerate)
        layout.addWidget(self.generation)
        layout.addStretch(1)

        state.identity_selected.connect(self.show_identity)
        document.identity_changed.connect(self._on_identity_changed)
        document.project_replaced.connect(lambda: self.show_identity(None))
        self.show_identity(None)

    @property
    def identity_id(self) -> str | None:
        return self._identity_id

    def show_identity(self, identity_id: str | None) -> None:
        """Show (and from now on edit) this person; None shows an empty, disabled form."""
        self._identity_id = identity_id
        self.refresh()

    def refresh(self) -> None:
        identity = self._current()
        project = self._document.project
        enabled = identity is not None
        for widget in (self.name, self.hidden, self.method, self.margin):
            widget.setEnabled(enabled)
        self.attributes.show_identity(identity)
        self.generation.show_identity(project, identity)
        if identity is None or project is None:
            self._show_nobody()
            return
        self.name.setText(identity.name)
        if identity.thumbnail is not None:
            self.thumbnail.setPixmap(pixmap_from_rgb(identity.thumbnail, 64))
        tracks = project.tracks_of(identity.id)
        shots = sorted({t.shot_index + 1 for t in tracks})
        frames = len(project.frames_of(identity.id))
        self.summary.setText(
            f"{identity.id} · {len(tracks)} track(s) in shot(s) {', '.join(map(str, shots))} · "
            f"{frames} frames on screen"
        )
        reason = attention_reason(identity)
        self.attention.setVisible(bool(reason))
        self.attention.setText(f"Needs attention. {reason}")
        self.mark_checked.setVisible(can_mark_checked(identity))
        with QSignalBlocker(self.hidden):
            self.hidden.setChecked(identity.hidden)
        # A kept person shows "Keep": their stored method (used again if they are hidden
        # later) is not what the export does now, so it is shown but not offered.
        shown = identity.method if identity.hidden else Method.KEEP
        with QSignalBlocker(self.method):
            self.method.setCurrentIndex(max(0, self.method.findData(shown.value)))
        self.method.setEnabled(identity.hidden)
        self.method.setToolTip(
            "How this person is hidden in the export"
            if identity.hidden
            else "Kept visible: tick “Anonymize this person” to choose how to hide them"
        )
        self.margin.setEnabled(identity.hidden)
        with QSignalBlocker(self.margin):
            self.margin.setValue(round(identity.generation.mask_margin * 100))
        self.margin_value.setText(f"{round(identity.generation.mask_margin * 100)} %")

    def _show_nobody(self) -> None:
        """Nothing selected: empty, disabled fields, never the previous person's values."""
        self.name.setText("")
        self.thumbnail.clear()
        self.attention.hide()
        self.mark_checked.hide()
        self.summary.setText("Select a person in the gallery or the timeline.")
        with QSignalBlocker(self.hidden):
            self.hidden.setChecked(False)
        with QSignalBlocker(self.method):
            self.method.setCurrentIndex(-1)
        self.method.setToolTip("")
        with QSignalBlocker(self.margin):
            self.margin.setValue(0)
        self.margin_value.setText("")

    def set_generation_available(self, available: bool, reason: str) -> None:
        self.generation.set_generation_available(available, reason)

    # -- edits ----------------------------------------------------------------------------

    def _current(self) -> Identity | None:
        project = self._document.project
        if project is None or self._identity_id is None:
            return None
        if not project.has_identity(self._identity_id):
            return None
        return project.identity(self._identity_id)

    def _edit(self, field: str, value: object) -> None:
        identity_id = self._identity_id
        if identity_id is not None and not self._document.set_field(identity_id, field, value):
            self.refresh()  # put the widget back to the document's value

    def _on_name_edited(self) -> None:
        identity = self._current()
        name = self.name.text().strip()
        if identity is not None and name and name != identity.name:
            self._document.rename(identity.id, name)
        elif identity is not None:
            self.name.setText(identity.name)

    def _on_margin(self, value: int) -> None:
        self.margin_value.setText(f"{value} %")
        self._edit("generation.mask_margin", value / 100)

    def _on_override(self, attribute: str, value: str | None) -> None:
        if self._identity_id is not None:
            self._document.set_attribute_override(self._identity_id, attribute, value)

    def _on_prompt(self, text: str | None) -> None:
        identity = self._current()
        if identity is not None and text != identity.generation.prompt_override:
            self._document.set_prompt_override(identity.id, text)

    def _on_regenerate(self) -> None:
        if self._identity_id is not None:
            self.regenerate_requested.emit(self._identity_id)

    def _on_identity_changed(self, identity_id: str, fields: frozenset[str]) -> None:
        if identity_id == self._identity_id:
            self.refresh()
