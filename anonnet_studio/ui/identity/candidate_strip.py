"""`CandidateStrip`: a horizontal row of every synthetic-face candidate of one person, so
the user can go back to an earlier attempt after regenerating."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from anonnet_studio.project.schema import Identity, Project
from anonnet_studio.ui.images import pixmap_from_rgb

THUMB_SIZE = 56
ATTEMPT_INDEX_ROLE = Qt.ItemDataRole.UserRole + 1
_FAILED_COLOR = QColor("#d64545")


def candidate_tooltip(number: int, seed: int, distance: float, passed: bool) -> str:
    """The tooltip of one candidate: which attempt, its seed and how the check went."""
    verdict = "passed the anonymity check" if passed else "FAILED the anonymity check"
    return f"Attempt {number}: seed {seed}, distance {distance:.2f} ({verdict})"


def _thumbnail(image: np.ndarray, passed: bool) -> QIcon:
    """The candidate scaled into a square; a failed one gets a red frame and cross so it
    stands out even without hovering."""
    canvas = QPixmap(THUMB_SIZE, THUMB_SIZE)
    canvas.fill(Qt.GlobalColor.transparent)
    face = pixmap_from_rgb(image, THUMB_SIZE)
    painter = QPainter(canvas)
    painter.drawPixmap((THUMB_SIZE - face.width()) // 2, (THUMB_SIZE - face.height()) // 2, face)
    if not passed:
        painter.setPen(QPen(_FAILED_COLOR, 3))
        painter.drawRect(1, 1, THUMB_SIZE - 3, THUMB_SIZE - 3)
        painter.drawLine(THUMB_SIZE - 14, 4, THUMB_SIZE - 4, 14)
        painter.drawLine(THUMB_SIZE - 4, 4, THUMB_SIZE - 14, 14)
    painter.end()
    return QIcon(canvas)


class CandidateStrip(QListWidget):
    """Thumbnails of the attempts that have an image; the selected attempt is the current
    item. Clicking another one emits `attempt_chosen` (the document does the edit)."""

    attempt_chosen = Signal(int)  # index into identity.attempts

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CandidateStrip")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setSpacing(2)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(THUMB_SIZE + 44)  # icon, number and a horizontal scroll bar
        self.setToolTip("Earlier candidates: click one to use it")
        self.itemClicked.connect(self._on_clicked)
        self._selected: int | None = None

    def show_identity(self, project: Project | None, identity: Identity | None) -> None:
        """List the person's candidates (none when there is no person)."""
        with QSignalBlocker(self):
            self.clear()
            self._selected = None
            if project is None or identity is None:
                self.hide()
                return
            self._selected = identity.selected_attempt
            for index, attempt in enumerate(identity.attempts):
                image = project.images.get(attempt.image_key) if attempt.image_key else None
                if image is None:
                    continue  # only the chosen attempt of a run keeps its image
                item = QListWidgetItem(_thumbnail(image, attempt.passed), f"#{index + 1}")
                item.setData(ATTEMPT_INDEX_ROLE, index)
                item.setToolTip(
                    candidate_tooltip(index + 1, attempt.seed, attempt.distance, attempt.passed)
                )
                self.addItem(item)
                if index == identity.selected_attempt:
                    self.setCurrentItem(item)
        self.setVisible(self.count() > 0)

    def attempt_indices(self) -> list[int]:
        """The attempt index of each thumbnail, left to right."""
        return [int(self.item(row).data(ATTEMPT_INDEX_ROLE)) for row in range(self.count())]

    def item_for_attempt(self, index: int) -> QListWidgetItem | None:
        for row in range(self.count()):
            if self.item(row).data(ATTEMPT_INDEX_ROLE) == index:
                return self.item(row)
        return None

    def _on_clicked(self, item: QListWidgetItem) -> None:
        index = int(item.data(ATTEMPT_INDEX_ROLE))
        if index != self._selected:
            self.attempt_chosen.emit(index)
