"""`ReviewPanel`: the frames most likely to be wrong, riskiest first. Next / previous item
(N / Shift+N) jumps to it and selects its face; each item can be marked reviewed (an
undoable edit, saved with the project)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.project.commands import SetReviewed
from anonnet_studio.project.review import ReviewItem, review_queue
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
REFRESH_DELAY_MS = 60  # coalesces a burst of edits into one rebuild of the queue


def item_text(item: ReviewItem) -> str:
    span = f"{item.frame}" if item.frame == item.last_frame else f"{item.frame}–{item.last_frame}"
    return f"{round(item.risk * 100):3d}  ·  frame {span}  ·  {item.kind.value}\n{item.description}"


class ReviewPanel(QWidget):
    item_activated = Signal(object)  # ReviewItem the user moved to

    def __init__(
        self, document: ProjectDocument, state: EditorState, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._state = state
        self._items: list[ReviewItem] = []
        self._rebuilding = False
        self.summary = QLabel(self)
        self.summary.setObjectName("Hint")
        self.summary.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("ReviewList")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.previous_button = QPushButton("Previous (Shift+N)", self)
        self.next_button = QPushButton("Next (N)", self)
        self.reviewed_button = QPushButton("Mark reviewed", self)
        for button in (self.previous_button, self.next_button, self.reviewed_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons = QHBoxLayout()
        buttons.addWidget(self.previous_button)
        buttons.addWidget(self.next_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reviewed_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.rebuild)
        for signal in (
            document.project_replaced,
            document.identities_changed,
            document.review_changed,
            document.leak_frames_changed,
        ):
            signal.connect(self.schedule_rebuild)
        document.tracks_changed.connect(lambda _ids: self.schedule_rebuild())
        document.identity_changed.connect(lambda *_: self.schedule_rebuild())
        self.previous_button.clicked.connect(self.previous_item)
        self.next_button.clicked.connect(self.next_item)
        self.reviewed_button.clicked.connect(self.toggle_reviewed)
        self.list.currentRowChanged.connect(self._on_current_row)
        self.list.itemChanged.connect(self._on_item_changed)
        self.rebuild()

    @property
    def items(self) -> list[ReviewItem]:
        return list(self._items)

    def current_item(self) -> ReviewItem | None:
        row = self.list.currentRow()
        return self._items[row] if 0 <= row < len(self._items) else None

    def schedule_rebuild(self) -> None:
        self._timer.start()

    def rebuild(self) -> None:
        """Recompute the queue from the document, keeping the current item if it is there."""
        self._timer.stop()
        project = self._document.project
        current = self.current_item()
        self._items = review_queue(project) if project is not None else []
        marked = set(project.reviewed) if project is not None else set()
        self._rebuilding = True
        try:
            self.list.clear()
            for item in self._items:
                entry = QListWidgetItem(item_text(item))
                entry.setData(KEY_ROLE, item.key)
                entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = item.key in marked
                entry.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                self.list.addItem(entry)
            keys = [i.key for i in self._items]
            if current is not None and current.key in keys:
                self.list.setCurrentRow(keys.index(current.key))
        finally:
            self._rebuilding = False
        reviewed = sum(1 for item in self._items if item.key in marked)
        self.summary.setText(
            f"{len(self._items)} items to check, {reviewed} reviewed. Riskiest first."
            if self._items
            else "Nothing to review."
        )
        self._sync_buttons()

    def next_item(self) -> None:
        self._step(1)

    def previous_item(self) -> None:
        self._step(-1)

    def toggle_reviewed(self) -> None:
        item = self.current_item()
        project = self._document.project
        if item is None or project is None:
            return
        reviewed = item.key not in set(project.reviewed)
        self._document.push_built(
            lambda: SetReviewed([item.key], reviewed, events=self._document.events)
        )

    def _step(self, delta: int) -> None:
        if self._timer.isActive():  # an edit is waiting to be shown: show it first
            self.rebuild()
        if not self._items:
            return
        row = self.list.currentRow()
        row = (0 if delta > 0 else len(self._items) - 1) if row < 0 else row + delta
        self.list.setCurrentRow(min(max(row, 0), len(self._items) - 1))

    def _on_current_row(self, row: int) -> None:
        self._sync_buttons()
        if self._rebuilding or not 0 <= row < len(self._items):
            return
        item = self._items[row]
        self._state.set_frame(item.frame)
        if item.track_id is not None:
            self._state.select_track(item.track_id)
        self.item_activated.emit(item)

    def _on_item_changed(self, entry: QListWidgetItem) -> None:
        if self._rebuilding:
            return
        project = self._document.project
        key = entry.data(KEY_ROLE)
        if project is None or key is None:
            return
        wanted = entry.checkState() == Qt.CheckState.Checked
        if wanted != (key in set(project.reviewed)):
            self._document.push_built(
                lambda: SetReviewed([key], wanted, events=self._document.events)
            )

    def _sync_buttons(self) -> None:
        row = self.list.currentRow()
        self.previous_button.setEnabled(bool(self._items) and row != 0)
        self.next_button.setEnabled(bool(self._items) and row < len(self._items) - 1)
        item = self.current_item()
        project = self._document.project
        done = item is not None and project is not None and item.key in set(project.reviewed)
        self.reviewed_button.setEnabled(item is not None)
        self.reviewed_button.setText("Mark not reviewed" if done else "Mark reviewed")
