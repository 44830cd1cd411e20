"""`ComparisonCanvas`: paints the original and the anonymized frame side by side, alone,
blended (overlay) or split by a draggable wipe line, with optional face boxes and labels."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor("#111316")


class ViewMode(StrEnum):
    SIDE_BY_SIDE = "side"
    SINGLE = "single"
    OVERLAY = "overlay"
    WIPE = "wipe"


@dataclass(frozen=True, slots=True)
class FaceOverlay:
    """A face to outline, in source-video pixels."""

    box: tuple[float, float, float, float]
    label: str
    color: str
    hidden: bool


class ComparisonCanvas(QWidget):
    wipe_moved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # so the transport keys work here
        self._original: QImage | None = None
        self._anonymized: QImage | None = None
        self._anonymized_stale = False
        self._mode = ViewMode.SIDE_BY_SIDE
        self._single_shows_original = False
        self._opacity = 0.5
        self._wipe = 0.5
        self._overlays: list[FaceOverlay] = []
        self._video_size = QSize(0, 0)
        self._show_boxes = True
        self._show_labels = True
        self._message = "Open a video or a project to begin."

    # -- state ----------------------------------------------------------------------------

    @property
    def mode(self) -> ViewMode:
        return self._mode

    def set_mode(self, mode: ViewMode) -> None:
        self._mode = ViewMode(mode)
        self.update()

    def set_single_shows_original(self, original: bool) -> None:
        self._single_shows_original = original
        self.update()

    def set_overlay_opacity(self, opacity: float) -> None:
        self._opacity = min(1.0, max(0.0, opacity))
        self.update()

    def set_wipe(self, position: float) -> None:
        self._wipe = min(1.0, max(0.0, position))
        self.update()

    def set_images(
        self, original: QImage | None, anonymized: QImage | None, *, stale: bool = False
    ) -> None:
        self._original = original
        self._anonymized = anonymized
        self._anonymized_stale = stale
        self.update()

    def set_overlays(self, overlays: list[FaceOverlay], video_size: QSize) -> None:
        self._overlays = list(overlays)
        self._video_size = QSize(video_size)
        self.update()

    def set_overlay_visibility(self, *, boxes: bool, labels: bool) -> None:
        self._show_boxes = boxes
        self._show_labels = labels
        self.update()

    def set_message(self, text: str) -> None:
        """Shown instead of the picture when there are no images."""
        self._message = text
        self.update()

    # -- painting -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        reference = self._original or self._anonymized
        if reference is None:
            self._draw_centered_text(painter, QRectF(self.rect()), self._message)
            painter.end()
            return
        if self._mode is ViewMode.SIDE_BY_SIDE:
            half = self.width() / 2
            left = QRectF(0, 0, half - 2, self.height())
            right = QRectF(half + 2, 0, half - 2, self.height())
            self._draw_panel(painter, left, self._original, "Original")
            self._draw_panel(painter, right, self._anonymized, "Anonymized")
        elif self._mode is ViewMode.SINGLE:
            if self._single_shows_original:
                self._draw_panel(painter, QRectF(self.rect()), self._original, "Original")
            else:
                self._draw_panel(painter, QRectF(self.rect()), self._anonymized, "Anonymized")
        elif self._mode is ViewMode.OVERLAY:
            target = self._fit(QRectF(self.rect()), reference)
            if self._original is not None:
                painter.drawImage(target, self._original)
            if self._anonymized is not None:
                painter.setOpacity(self._opacity)
                painter.drawImage(target, self._anonymized)
                painter.setOpacity(1.0)
            self._draw_overlays(painter, target)
            self._draw_caption(painter, target, f"Overlay {round(self._opacity * 100)} %")
        else:
            self._draw_wipe(painter, reference)
        painter.end()

    def _draw_panel(
        self, painter: QPainter, area: QRectF, image: QImage | None, title: str
    ) -> None:
        reference = image or self._original or self._anonymized
        assert reference is not None
        target = self._fit(area, reference)
        if image is None:
            painter.fillRect(target, QColor("#1b1e23"))
            self._draw_centered_text(painter, target, "Rendering…")
        else:
            painter.drawImage(target, image)
        self._draw_overlays(painter, target)
        stale = title == "Anonymized" and self._anonymized_stale
        self._draw_caption(painter, target, title + (" (updating…)" if stale else ""))

    def _draw_wipe(self, painter: QPainter, reference: QImage) -> None:
        target = self._fit(QRectF(self.rect()), reference)
        split = target.left() + target.width() * self._wipe
        if self._original is not None:
            painter.save()
            painter.setClipRect(
                QRectF(target.left(), target.top(), split - target.left(), target.height())
            )
            painter.drawImage(target, self._original)
            painter.restore()
        if self._anonymized is not None:
            painter.save()
            painter.setClipRect(
                QRectF(split, target.top(), target.right() - split, target.height())
            )
            painter.drawImage(target, self._anonymized)
            painter.restore()
        self._draw_overlays(painter, target)
        painter.setPen(QPen(QColor("#ffd43b"), 2))
        painter.drawLine(QPointF(split, target.top()), QPointF(split, target.bottom()))
        self._draw_caption(painter, target, "Original | Anonymized (drag the line)")

    def _draw_overlays(self, painter: QPainter, target: QRectF) -> None:
        if not self._overlays or self._video_size.isEmpty():
            return
        if not (self._show_boxes or self._show_labels):
            return
        sx = target.width() / self._video_size.width()
        sy = target.height() / self._video_size.height()
        font = QFont(painter.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        for face in self._overlays:
            x0, y0, x1, y1 = face.box
            rect = QRectF(
                target.left() + x0 * sx, target.top() + y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy
            )
            color = QColor(face.color)
            if self._show_boxes:
                pen = QPen(color, 2, Qt.PenStyle.SolidLine if face.hidden else Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(rect)
            if self._show_labels:
                text = face.label if face.hidden else f"{face.label} (kept)"
                metrics = painter.fontMetrics()
                box = QRectF(rect.left(), rect.top() - metrics.height() - 2,
                             metrics.horizontalAdvance(text) + 8, metrics.height() + 2)  # fmt: skip
                painter.fillRect(box, color)
                painter.setPen(QColor("#0d0f12"))
                painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)

    def _draw_caption(self, painter: QPainter, target: QRectF, text: str) -> None:
        font = QFont(painter.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        box = QRectF(target.left() + 6, target.top() + 6, metrics.horizontalAdvance(text) + 12,
                     metrics.height() + 4)  # fmt: skip
        painter.fillRect(box, QColor(0, 0, 0, 150))
        painter.setPen(QColor("#e9ecef"))
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)

    def _draw_centered_text(self, painter: QPainter, area: QRectF, text: str) -> None:
        painter.setPen(QColor("#8a9099"))
        painter.drawText(area, int(Qt.AlignmentFlag.AlignCenter), text)

    @staticmethod
    def _fit(area: QRectF, image: QImage) -> QRectF:
        """The largest rect of the image's aspect ratio centred in `area`."""
        if image.width() <= 0 or image.height() <= 0:
            return area
        scale = min(area.width() / image.width(), area.height() / image.height())
        width, height = image.width() * scale, image.height() * scale
        return QRectF(
            area.left() + (area.width() - width) / 2,
            area.top() + (area.height() - height) / 2,
            width,
            height,
        )

    # -- wipe dragging --------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._drag_wipe(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._drag_wipe(event)

    def _drag_wipe(self, event: QMouseEvent) -> None:
        reference = self._original or self._anonymized
        if self._mode is not ViewMode.WIPE or reference is None:
            return
        target = self._fit(QRectF(self.rect()), reference)
        if target.width() > 0:
            self.set_wipe((event.position().x() - target.left()) / target.width())
            self.wipe_moved.emit(self._wipe)
