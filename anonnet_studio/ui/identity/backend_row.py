"""`BackendRow`: which synthetic-face backend generates this person's face. A backend whose
weights are missing stays in the list, disabled, with the reason and the download command
as its tooltip; a person whose chosen backend cannot run is told so under the list."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from anonnet_studio.core.synthetic.backends import SYNTHETIC_BACKENDS
from anonnet_studio.ui.backend_status import BackendStatus, backend_label

# None: the person has no choice of their own and the default backend runs.
CHOICES: tuple[str | None, ...] = (None, *SYNTHETIC_BACKENDS)
CHOICE_TIP = "How this person's new face is generated"


class BackendRow(QWidget):
    backend_chosen = Signal(object)  # "anonnet", "fams", or None for the default

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.combo.setObjectName("BackendCombo")
        for choice in CHOICES:
            self.combo.addItem(backend_label(choice), choice)
        self.combo.setToolTip(CHOICE_TIP)
        self.combo.activated.connect(lambda _i: self.backend_chosen.emit(self.combo.currentData()))
        form.addRow("Generator", self.combo)
        layout.addLayout(form)
        self.note = QLabel(self)
        self.note.setObjectName("Attention")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        layout.addWidget(self.note)
        self._status = BackendStatus()

    def show_choice(self, backend: str | None) -> None:
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(max(0, self.combo.findData(backend)))
        self._show_note()

    def show_status(self, status: BackendStatus) -> None:
        """Disable the entries whose backend cannot run, each with its reason. While the
        check runs nothing is disabled (it would flicker at every start)."""
        self._status = status
        model = self.combo.model()
        assert isinstance(model, QStandardItemModel)
        for row, choice in enumerate(CHOICES):
            item = model.item(row)
            reason = None if status.checking else status.reason(choice)
            item.setEnabled(reason is None)
            item.setToolTip(reason or CHOICE_TIP)
        self._show_note()

    def choice(self) -> str | None:
        return self.combo.currentData()

    def reason(self, row: int) -> str:
        """The tooltip of entry `row` (the reason when it is disabled)."""
        return str(self.combo.itemData(row, Qt.ItemDataRole.ToolTipRole) or "")

    def is_offered(self, row: int) -> bool:
        model = self.combo.model()
        assert isinstance(model, QStandardItemModel)
        return model.item(row).isEnabled()

    def _show_note(self) -> None:
        reason = None if self._status.checking else self._status.reason(self.choice())
        self.note.setVisible(reason is not None and self.isEnabled())
        self.note.setText(reason or "")
