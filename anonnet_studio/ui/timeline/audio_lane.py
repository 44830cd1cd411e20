"""The timeline's audio lane: the project's mute and bleep ranges, and a range selection.

Dragging on the lane selects a time range (a click without a drag seeks, as elsewhere);
the lane's context menu mutes or bleeps the selection, or removes the range under the
mouse. The selection lives in `AudioLaneModel`, which survives the scene's rebuilds.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from anonnet_studio.core.voice.settings import MuteKind, MuteRange
from anonnet_studio.project.schema import Project
from anonnet_studio.project.voice_commands import has_audio
from anonnet_studio.ui.timeline.items import DOMAIN_ID, DOMAIN_KIND, TEXT, draw_label

AUDIO_LANE_ID = "AUDIO"
AUDIO_LANE_COLOR = "#74c0fc"
_MUTE_COLOR = QColor("#495057")
_BLEEP_COLOR = QColor("#f59f00")
_SELECTION = QColor(255, 255, 255, 60)
LANE_HINT = "Drag to select a range, then right-click to mute or bleep it."


class AudioLaneModel(QObject):
    """The selected frame range [first, end) of the audio lane, and seeks from it."""

    selection_changed = Signal()
    seek_requested = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.selection: tuple[int, int] | None = None
        self._item: SelectionItem | None = None  # of the current scene build
        self.selection_changed.connect(self._sync_item)

    def attach(self, item: SelectionItem) -> None:
        self._item = item
        item.sync()

    def _sync_item(self) -> None:
        # The scene deletes its items when it is rebuilt; a stale one is skipped.
        if self._item is not None and shiboken6.isValid(self._item):
            self._item.sync()

    def set_selection(self, first: int, end: int) -> None:
        """Select frames first..end-1 (in either order); an empty range clears."""
        first, end = sorted((int(first), int(end)))
        self.selection = (first, end) if end > first else None
        self.selection_changed.emit()

    def clear(self) -> None:
        self.selection = None
        self.selection_changed.emit()

    def selection_seconds(self, fps: float) -> tuple[float, float] | None:
        if self.selection is None or fps <= 0:
            return None
        first, end = self.selection
        return first / fps, end / fps


class AudioLaneItem(QGraphicsRectItem):
    """The lane itself: press and drag to select a range."""

    def __init__(
        self, model: AudioLaneModel, frame_count: int, top: float, height: float, enabled: bool
    ) -> None:
        super().__init__(QRectF(0, top, max(1, frame_count), height))
        self._model = model
        self._frames = max(1, frame_count)
        self._press: int | None = None
        self._enabled = enabled
        self.setData(DOMAIN_KIND, "audio")
        self.setData(DOMAIN_ID, 0)
        self.setBrush(QColor("#1f2d3a") if enabled else QColor("#23272e"))
        self.setPen(Qt.PenStyle.NoPen)
        self.setZValue(1)
        self.setToolTip(LANE_HINT if enabled else "The video has no audio stream.")

    def _frame_at(self, event: QGraphicsSceneMouseEvent) -> int:
        return min(max(int(event.scenePos().x()), 0), self._frames)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        self._press = self._frame_at(event)
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._press is not None and self._enabled:
            self._model.set_selection(self._press, self._frame_at(event))

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        press, self._press = self._press, None
        if press is None:
            return
        frame = self._frame_at(event)
        if abs(frame - press) < 1 or not self._enabled:  # a click: seek, as on other lanes
            self._model.clear()
            self._model.seek_requested.emit(min(frame, self._frames - 1))
        else:
            self._model.set_selection(press, frame)


class MuteRangeItem(QGraphicsRectItem):
    """One mute (grey) or bleep (amber) range; x in frames."""

    def __init__(self, index: int, item: MuteRange, fps: float, top: float, height: float) -> None:
        super().__init__(QRectF(item.start_s * fps, top, (item.end_s - item.start_s) * fps, height))
        self.range = item
        self.setData(DOMAIN_KIND, "mute")
        self.setData(DOMAIN_ID, index)
        self._color = _BLEEP_COLOR if item.kind is MuteKind.BLEEP else _MUTE_COLOR
        self.setZValue(3)
        self.setToolTip(
            f"{item.kind.value.capitalize()} {item.start_s:.2f}–{item.end_s:.2f} s "
            "(right-click to remove)"
        )

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.fillRect(self.rect(), self._color)
        pen = QPen(self._color.lighter(140), 1)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRect(self.rect())
        label = "Bleep" if self.range.kind is MuteKind.BLEEP else "Muted"
        draw_label(painter, self.rect(), label, TEXT)


class SelectionItem(QGraphicsRectItem):
    def __init__(self, model: AudioLaneModel, top: float, height: float) -> None:
        super().__init__()
        self._model = model
        self._top, self._height = top, height
        self.setBrush(QBrush(_SELECTION))
        pen = QPen(QColor("#ffffff"), 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setZValue(4)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # the lane below takes drags
        self.setData(DOMAIN_KIND, "audio")  # right-clicking the selection opens the lane menu
        self.setData(DOMAIN_ID, 0)

    def sync(self) -> None:
        selection = self._model.selection
        self.setVisible(selection is not None)
        if selection is not None:
            first, end = selection
            self.setRect(QRectF(first, self._top, end - first, self._height))


def add_audio_items(
    scene: QGraphicsScene,
    model: AudioLaneModel,
    project: Project,
    frame_count: int,
    fps: float,
    top: float,
    height: float,
) -> None:
    """The audio lane's items: background, ranges, selection."""
    scene.addItem(AudioLaneItem(model, frame_count, top, height, has_audio(project)))
    for index, item in enumerate(project.voice.mute_ranges):
        scene.addItem(MuteRangeItem(index, item, fps, top + 4, height - 8))
    selection = SelectionItem(model, top + 2, height - 4)
    scene.addItem(selection)
    model.attach(selection)
