"""Painting the boxes over the preview: faces and regions with their labels, the selected
box with its handles, and the box being drawn or dragged."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from anonnet_studio.ui.preview.box_editing import Box, BoxKey

DRAG_COLOR = QColor("#ffd43b")


@dataclass(frozen=True, slots=True)
class FaceOverlay:
    """A face (or region) to outline, in source-video pixels."""

    box: tuple[float, float, float, float]
    label: str
    color: str
    hidden: bool
    key: BoxKey | None = None  # set when the box can be selected and edited
    shape: str = "rectangle"  # "ellipse" for elliptic regions
    selected: bool = False


@dataclass(frozen=True, slots=True)
class OverlayStyle:
    boxes: bool  # outline every box (the selected one is always outlined)
    labels: bool
    dragging: BoxKey | None  # the box being dragged is drawn at the drag's position


def video_rect(target: QRectF, video: QSize, box: Box) -> QRectF:
    """Where a box in video pixels lands inside the painted picture `target`."""
    sx, sy = target.width() / video.width(), target.height() / video.height()
    x0, y0, x1, y1 = box
    return QRectF(target.left() + x0 * sx, target.top() + y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy)


def draw_overlays(
    painter: QPainter,
    target: QRectF,
    video: QSize,
    overlays: list[FaceOverlay],
    style: OverlayStyle,
    drag: Box | None,
) -> None:
    font = QFont(painter.font())
    font.setPointSizeF(8.5)
    painter.setFont(font)
    for face in overlays:
        if face.key is not None and face.key == style.dragging:
            continue
        rect = video_rect(target, video, face.box)
        color = QColor(face.color)
        if style.boxes or face.selected:
            pen = QPen(color, 3 if face.selected else 2)
            pen.setStyle(Qt.PenStyle.SolidLine if face.hidden else Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if face.shape == "ellipse":
                painter.drawEllipse(rect)
            else:
                painter.drawRect(rect)
            if face.selected:
                _draw_handles(painter, rect, color)
        if style.labels:
            text = face.label if face.hidden else f"{face.label} (kept)"
            metrics = painter.fontMetrics()
            box = QRectF(rect.left(), rect.top() - metrics.height() - 2,
                         metrics.horizontalAdvance(text) + 8, metrics.height() + 2)  # fmt: skip
            painter.fillRect(box, color)
            painter.setPen(QColor("#0d0f12"))
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
    if drag is not None:
        painter.setPen(QPen(DRAG_COLOR, 2, Qt.PenStyle.DashLine))
        painter.setBrush(QColor(255, 212, 59, 40))
        painter.drawRect(video_rect(target, video, drag))
        painter.setBrush(Qt.BrushStyle.NoBrush)


def _draw_handles(painter: QPainter, rect: QRectF, color: QColor) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    for corner in (rect.topLeft(), rect.topRight(), rect.bottomLeft(), rect.bottomRight()):
        painter.drawRect(QRectF(corner.x() - 3, corner.y() - 3, 6, 6))
    painter.setBrush(Qt.BrushStyle.NoBrush)
