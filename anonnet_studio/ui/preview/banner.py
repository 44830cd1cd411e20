"""The strip above the preview that says a synthetic person is shown blurred because the
synthetic-face models are not installed, with a button to the Models dialog."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

BANNER_TEXT = "shown blurred: synthetic-face models not installed"


class ModelsBanner(QFrame):
    models_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ModelsBanner")
        self.setStyleSheet(
            "#ModelsBanner { background: #4a3b10; border: 1px solid #fcc419; border-radius: 3px; }"
            " #ModelsBanner QLabel { color: #ffe8a1; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 4, 3)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.button = QPushButton("Models…", self)
        self.button.setToolTip("See which models are missing and download them")
        self.button.clicked.connect(self.models_requested)
        layout.addWidget(self.button)
        self.hide()

    def show_people(self, names: list[str]) -> None:
        """Show the banner for these people (none: hide it)."""
        if not names:
            self.hide()
            return
        who = names[0] if len(names) == 1 else f"{len(names)} people ({', '.join(names)})"
        self.label.setText(f"{who}: {BANNER_TEXT}.")
        self.show()
