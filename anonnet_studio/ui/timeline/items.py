"""Graphics items of the timeline. x is in frames (the view scales it), y in pixels.

Items carry the id of the domain object they show (`DOMAIN_KIND`/`DOMAIN_ID` data roles),
so selection maps straight back to shots, tracks and people. Text is drawn with the
painter's scaling removed, so labels stay readable at every zoom.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsRectItem,
    QStyle,
    QStyleOptionGraphicsItem,
    QWidget,
)

from anonnet_studio.ui.timecode import frame_to_clock, nice_frame_step

DOMAIN_KIND = 0  # "shot" | "track" | "region"
DOMAIN_ID = 1  # shot index | track id | region id
DOMAIN_IDENTITY = 2  # identity id of a track

RULER_BG = QColor("#1c1f24")
LANE_BG = QColor("#23272e")
LANE_ALT_BG = QColor("#262a31")
TEXT = QColor("#d0d4da")
MUTED = QColor("#8a9099")
SELECTED = QColor("#ffffff")
LEAK = QColor("#e03131")
PLAYHEAD = QColor("#ffd43b")
REGION_LANE_COLOR = "#ced4da"


def draw_label(
    painter: QPainter, rect: QRectF, text: str, color: QColor, *, bold: bool = False
) -> None:
    """Draw `text` left-aligned in `rect` (scene units) at its natural pixel size."""
    transform = painter.worldTransform()
    device = transform.mapRect(rect).adjusted(4, 0, -2, 0)
    if device.width() < 12:
        return  # too narrow to show anything legible
    painter.save()
    painter.resetTransform()
    painter.setClipRect(device)
    font = QFont(painter.font())
    font.setPointSizeF(8.5)
    font.setBold(bold)
    painter.setFont(font)
    painter.setPen(color)
    flags = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
    elided = painter.fontMetrics().elidedText(
        text, Qt.TextElideMode.ElideRight, int(device.width())
    )
    painter.drawText(device, int(flags), elided)
    painter.restore()


class RulerItem(QGraphicsItem):
    """Frame ruler with timecode labels; tick spacing adapts to the zoom level."""

    def __init__(self, frame_count: int, fps: float, height: float) -> None:
        super().__init__()
        self._frames = max(1, frame_count)
        self._fps = fps
        self._height = height
        self.setZValue(5)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._frames, self._height)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.fillRect(self.boundingRect(), RULER_BG)
        scale = max(painter.worldTransform().m11(), 1e-6)
        step = nice_frame_step(scale, self._fps)
        minor = max(1, step // 5) if step >= 5 else step
        exposed = option.exposedRect
        first = max(0, int(exposed.left()) // minor * minor)
        last = min(self._frames, int(exposed.right()) + minor)
        transform = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        font = QFont(painter.font())
        font.setPointSizeF(8)
        painter.setFont(font)
        for frame in range(first, last + 1, minor):
            x = transform.map(QPointF(frame, 0)).x()
            y0 = transform.map(QPointF(0, 0)).y()
            major = frame % step == 0
            tick = self._height * (0.55 if major else 0.25)
            painter.setPen(QPen(TEXT if major else MUTED, 1))
            painter.drawLine(QPointF(x, y0 + self._height - tick), QPointF(x, y0 + self._height))
            if major:
                painter.drawText(QPointF(x + 3, y0 + 11), frame_to_clock(frame, self._fps))
        painter.restore()


class LeakMarkerItem(QGraphicsRectItem):
    """A run of frames the leak check flagged (a face still visible after redaction)."""

    def __init__(self, first: int, last: int, y: float, height: float) -> None:
        super().__init__(QRectF(first, y, last - first + 1, height))
        self.setBrush(QBrush(LEAK))
        pen = QPen(LEAK, 2)
        pen.setCosmetic(True)  # stays visible when zoomed far out
        self.setPen(pen)
        self.setZValue(6)
        frames = f"frame {first}" if first == last else f"frames {first}–{last}"
        self.setToolTip(f"Leak check: a face was still visible in {frames}")


class ShotItem(QGraphicsRectItem):
    """One shot of the video; selecting it selects the shot."""

    def __init__(self, index: int, start: int, end: int, y: float, height: float) -> None:
        super().__init__(QRectF(start, y, end - start, height))
        self.index = index
        self.setData(DOMAIN_KIND, "shot")
        self.setData(DOMAIN_ID, index)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setBrush(QColor("#3b4250") if index % 2 == 0 else QColor("#343a46"))
        pen = QPen(QColor("#15171b"), 1)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setToolTip(f"Shot {index + 1}: frames {start}–{end - 1}")
        self._label = f"Shot {index + 1}"

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.fillRect(self.rect(), self.brush())
        pen = QPen(SELECTED if selected else QColor("#15171b"), 2 if selected else 1)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRect(self.rect())
        draw_label(painter, self.rect(), self._label, TEXT, bold=selected)


class SpanItem(QGraphicsRectItem):
    """Where one track of a person is on screen. Filled when the person is hidden,
    hatched when they are kept visible; the label names the method."""

    def __init__(
        self,
        track_id: int,
        identity_id: str,
        start: int,
        end: int,
        y: float,
        height: float,
        color: str,
        label: str,
        *,
        kept: bool,
        tooltip: str,
    ) -> None:
        super().__init__(QRectF(start, y, end - start, height))
        self.track_id = track_id
        self.identity_id = identity_id
        self.kept = kept
        self.setData(DOMAIN_KIND, "track")
        self.setData(DOMAIN_ID, track_id)
        self.setData(DOMAIN_IDENTITY, identity_id)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self._color = QColor(color)
        self._label = label
        self.setToolTip(tooltip)
        self.setZValue(2)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = self.rect()
        if self.kept:
            painter.fillRect(
                rect, QColor(self._color.red(), self._color.green(), self._color.blue(), 50)
            )
            painter.fillRect(rect, QBrush(self._color, Qt.BrushStyle.BDiagPattern))
        else:
            painter.fillRect(rect, self._color)
        pen = QPen(SELECTED if selected else self._color.darker(150), 2 if selected else 1)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRect(rect)
        text_color = TEXT if self.kept else QColor("#0d0f12")
        draw_label(painter, rect, self._label, SELECTED if selected else text_color, bold=selected)


class RegionSpanItem(SpanItem):
    """The frame range of a region that is not a face (its lane is named after it)."""

    def __init__(
        self, region_id: int, start: int, end: int, y: float, height: float, label: str,
        *, tooltip: str,
    ) -> None:  # fmt: skip
        super().__init__(
            -1, f"R{region_id}", start, end, y, height, REGION_LANE_COLOR, label,
            kept=False, tooltip=tooltip,
        )  # fmt: skip
        self.region_id = region_id
        self.setData(DOMAIN_KIND, "region")
        self.setData(DOMAIN_ID, region_id)


class CutMarkerItem(QGraphicsLineItem):
    """A cut between two shots, drawn through every lane."""

    def __init__(self, frame: int, top: float, bottom: float) -> None:
        super().__init__(frame, top, frame, bottom)
        pen = QPen(QColor("#6c7380"), 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setZValue(3)
        self.setToolTip(f"Cut at frame {frame}")


class LaneBackgroundItem(QGraphicsRectItem):
    """The stripe behind one lane (not selectable; clicks on it seek)."""

    def __init__(self, frame_count: int, y: float, height: float, alternate: bool) -> None:
        super().__init__(QRectF(0, y, max(1, frame_count), height))
        self.setBrush(LANE_ALT_BG if alternate else LANE_BG)
        self.setPen(Qt.PenStyle.NoPen)
        self.setZValue(0)


class PlayheadItem(QGraphicsLineItem):
    def __init__(self, height: float) -> None:
        super().__init__(0, 0, 0, height)
        pen = QPen(PLAYHEAD, 2)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setZValue(100)

    def set_frame(self, frame: int) -> None:
        # Centre of the frame's column, so the line sits inside the frame it shows.
        self.setX(frame + 0.5)
