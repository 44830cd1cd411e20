"""`ComparisonCanvas`: paints the original and the anonymized frame side by side, alone,
blended (overlay) or split by a draggable wipe line, with optional face boxes and labels.
Boxes can be drawn (a missed face, a region) and moved or resized with the mouse; the
geometry of that lives in `box_editing`, the canvas only maps widget pixels to video ones."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from anonnet_studio.ui.preview.box_editing import BoxInteraction, CanvasTool, EditableBox
from anonnet_studio.ui.preview.overlay_painter import FaceOverlay, OverlayStyle, draw_overlays

BACKGROUND = QColor("#111316")
GRAB_TOLERANCE_PX = 7  # widget pixels from an edge that still grab it
DRAG_THRESHOLD_PX = 3  # widget pixels a press must move to count as a drag
FIRST_RUN_HINT = "Open a video or drop it here; analysis starts by itself."
RENDERING_TEXT = "Rendering…"
ANALYSING_TEXT = "Analysing… faces are covered here once the analysis is done."


class ViewMode(StrEnum):
    SIDE_BY_SIDE = "side"
    SINGLE = "single"
    OVERLAY = "overlay"
    WIPE = "wipe"


class ComparisonCanvas(QWidget):
    wipe_moved = Signal(float)
    box_drawn = Signal(object, object)  # CanvasTool, (x0, y0, x1, y1) in video pixels
    box_edited = Signal(object, object)  # BoxKey, (x0, y0, x1, y1) in video pixels
    box_clicked = Signal(object)  # BoxKey
    tool_changed = Signal(object)  # CanvasTool

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
        self._message = FIRST_RUN_HINT
        self._pending_text = RENDERING_TEXT  # where the anonymized picture has not come yet
        self._tool = CanvasTool.SELECT
        self._interaction = BoxInteraction()
        self._drag_panel = 0  # which picture (side by side: 0 or 1) a drag started in

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

    @property
    def tool(self) -> CanvasTool:
        return self._tool

    def set_tool(self, tool: CanvasTool) -> None:
        """Drawing tools draw one box, then the canvas goes back to selecting."""
        tool = CanvasTool(tool)
        self._interaction.cancel()
        if tool is self._tool:
            return
        self._tool = tool
        self.setCursor(
            Qt.CursorShape.ArrowCursor if tool is CanvasTool.SELECT else Qt.CursorShape.CrossCursor
        )
        self.update()
        self.tool_changed.emit(tool)

    def set_pending_text(self, text: str) -> None:
        """What the anonymized panel says until its picture arrives."""
        self._pending_text = text
        self.update()

    @property
    def pending_text(self) -> str:
        return self._pending_text

    @property
    def message(self) -> str:
        return self._message

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
            self._draw_centered_text(painter, target, self._pending_text)
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
        if self._video_size.isEmpty():
            return
        draw_overlays(
            painter,
            target,
            self._video_size,
            self._overlays,
            OverlayStyle(self._show_boxes, self._show_labels, self._interaction.editing_key),
            self._interaction.preview(),
        )

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

    # -- mapping between widget and video pixels -----------------------------------------

    def image_targets(self) -> list[QRectF]:
        """Where the video is painted (two rects side by side, else one)."""
        reference = self._original or self._anonymized
        if reference is None:
            return []
        if self._mode is ViewMode.SIDE_BY_SIDE:
            half = self.width() / 2
            areas = [
                QRectF(0, 0, half - 2, self.height()),
                QRectF(half + 2, 0, half - 2, self.height()),
            ]
            return [self._fit(area, reference) for area in areas]
        return [self._fit(QRectF(self.rect()), reference)]

    def widget_to_video(self, point: QPointF) -> tuple[float, float] | None:
        """Video pixel under a widget position, or None outside the picture."""
        if self._video_size.isEmpty():
            return None
        for target in self.image_targets():
            if target.contains(point) and target.width() > 0:
                return (
                    (point.x() - target.left()) * self._video_size.width() / target.width(),
                    (point.y() - target.top()) * self._video_size.height() / target.height(),
                )
        return None

    def video_to_widget(self, x: float, y: float, panel: int = 0) -> QPointF:
        """Widget position of a video pixel in the `panel`-th painted picture."""
        target = self.image_targets()[panel]
        return QPointF(
            target.left() + x * target.width() / self._video_size.width(),
            target.top() + y * target.height() / self._video_size.height(),
        )

    def _video_per_widget_pixel(self) -> float:
        targets = self.image_targets()
        if not targets or targets[0].width() <= 0 or self._video_size.isEmpty():
            return 1.0
        return self._video_size.width() / targets[0].width()

    # -- mouse: drawing and editing boxes, dragging the wipe line ---------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.widget_to_video(event.position())
        targets = self.image_targets()
        self._drag_panel = next(
            (i for i, t in enumerate(targets) if t.contains(event.position())), 0
        )
        if point is not None:
            boxes = [EditableBox(o.key, o.box) for o in self._overlays if o.key is not None]
            tolerance = GRAB_TOLERANCE_PX * self._video_per_widget_pixel()
            if self._interaction.press(point, self._tool, boxes, tolerance):
                event.accept()
                return
        self._drag_wipe(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._interaction.active:
            point = self._clamped_video_point(event.position())
            self._interaction.move(point, DRAG_THRESHOLD_PX * self._video_per_widget_pixel())
            self.update()
            return
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._drag_wipe(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if not self._interaction.active:
            return
        self._interaction.move(
            self._clamped_video_point(event.position()),
            DRAG_THRESHOLD_PX * self._video_per_widget_pixel(),
        )
        tool = self._tool
        outcome = self._interaction.release()
        self.update()
        if outcome is None:
            return
        if outcome.kind == "drawn":
            self.set_tool(CanvasTool.SELECT)
            self.box_drawn.emit(tool, outcome.box)
        elif outcome.kind == "edited":
            self.box_edited.emit(outcome.key, outcome.box)
        else:
            self.box_clicked.emit(outcome.key)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and (
            self._interaction.active or self._tool is not CanvasTool.SELECT
        ):
            self._interaction.cancel()
            self.set_tool(CanvasTool.SELECT)
            self.update()
            event.accept()
            return
        super().keyPressEvent(event)

    def _clamped_video_point(self, point: QPointF) -> tuple[float, float]:
        """Video coordinates of a widget position, measured in the picture it started in;
        positions outside the picture are allowed (boxes are clipped later)."""
        targets = self.image_targets()
        if not targets or self._video_size.isEmpty():
            return (0.0, 0.0)
        target = targets[min(self._drag_panel, len(targets) - 1)]
        return (
            (point.x() - target.left()) * self._video_size.width() / target.width(),
            (point.y() - target.top()) * self._video_size.height() / target.height(),
        )

    def _drag_wipe(self, event: QMouseEvent) -> None:
        reference = self._original or self._anonymized
        if self._mode is not ViewMode.WIPE or reference is None:
            return
        target = self._fit(QRectF(self.rect()), reference)
        if target.width() > 0:
            self.set_wipe((event.position().x() - target.left()) / target.width())
            self.wipe_moved.emit(self._wipe)
