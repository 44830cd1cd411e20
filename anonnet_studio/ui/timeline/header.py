"""The fixed column left of the timeline: one header per lane with thumbnail, name, and
whether the person is hidden (and how) or kept."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QHelpEvent, QMouseEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QGraphicsView, QToolTip, QWidget

from anonnet_studio.project.schema import Method
from anonnet_studio.ui.icons import icon, method_icon
from anonnet_studio.ui.timeline.items import LEAK, MUTED, RULER_BG, TEXT
from anonnet_studio.ui.timeline.scene import (
    LEAK_HEIGHT,
    RULER_HEIGHT,
    SHOT_HEIGHT,
    SHOT_TOP,
    LaneInfo,
)

HEADER_WIDTH = 168
THUMB = 36


class LaneHeaderColumn(QWidget):
    """Painted in the view's left margin, scrolled vertically with the lanes."""

    identity_clicked = Signal(str)
    region_clicked = Signal(int)

    def __init__(self, view: QGraphicsView) -> None:
        super().__init__(view)
        self._view = view
        self._lanes: list[LaneInfo] = []
        self._thumbnails: dict[str, QPixmap] = {}
        self._selected: str | None = None
        self._timecode = ""
        self._has_leaks = False
        self.setMouseTracking(True)

    def set_lanes(
        self, lanes: list[LaneInfo], thumbnails: dict[str, QPixmap], *, has_leaks: bool = False
    ) -> None:
        """`has_leaks`: an export's leak check flagged frames, so the strip needs its label
        (a red word over an empty strip reads as a warning that is not there)."""
        self._lanes = list(lanes)
        self._thumbnails = dict(thumbnails)
        self._has_leaks = has_leaks
        self.update()

    @property
    def shows_leak_label(self) -> bool:
        return self._has_leaks

    def set_selected(self, identity_id: str | None) -> None:
        self._selected = identity_id
        self.update()

    @property
    def selected_id(self) -> str | None:
        """The lane drawn as selected."""
        return self._selected

    def set_timecode(self, text: str) -> None:
        self._timecode = text
        self.update(QRect(0, 0, self.width(), int(RULER_HEIGHT)))

    def lane_at(self, y: int) -> LaneInfo | None:
        for lane in self._lanes:
            top = self._to_widget_y(lane.top)
            if top <= y < top + lane.height:
                return lane
        return None

    def lane_tooltip(self, lane: LaneInfo) -> str:
        if lane.kind == "region":
            return f"{lane.name}: region, {lane.method}"
        if lane.kind == "audio":
            return f"{lane.name}: {lane.method}"
        state = f"hidden with {lane.method}" if lane.hidden else "kept visible"
        return f"{lane.name}: {state}" + (f"\n{lane.note}" if lane.note else "")

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            lane = self.lane_at(event.pos().y())
            if lane is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.lane_tooltip(lane), self)
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        lane = self.lane_at(int(event.position().y()))
        if lane is not None and event.button() == Qt.MouseButton.LeftButton:
            if lane.kind == "region":
                self.region_clicked.emit(int(lane.identity_id.removeprefix("R")))
            elif lane.kind != "audio":
                self.identity_clicked.emit(lane.identity_id)
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1f2228"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_fixed_rows(painter)
        for lane in self._lanes:
            self._paint_lane(painter, lane)
        painter.setPen(QColor("#15171b"))
        painter.drawLine(self.width() - 1, 0, self.width() - 1, self.height())
        painter.end()

    def _to_widget_y(self, scene_y: float) -> int:
        return self._view.mapFromScene(0, scene_y).y()

    def _paint_fixed_rows(self, painter: QPainter) -> None:
        ruler_top = self._to_widget_y(0)
        painter.fillRect(QRect(0, ruler_top, self.width(), int(RULER_HEIGHT)), RULER_BG)
        painter.setPen(TEXT)
        painter.setFont(_font(8.5, bold=True))
        painter.drawText(
            QRect(8, ruler_top, self.width() - 12, int(RULER_HEIGHT)),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            self._timecode or "Timecode",
        )
        if self._has_leaks:
            leak_top = self._to_widget_y(RULER_HEIGHT)
            painter.setPen(LEAK)
            painter.setFont(_font(7))
            painter.drawText(
                QRect(8, leak_top - 1, self.width() - 12, int(LEAK_HEIGHT) + 3),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                "leaks",
            )
        shot_top = self._to_widget_y(SHOT_TOP)
        painter.setPen(MUTED)
        painter.setFont(_font(8.5))
        painter.drawText(
            QRect(8, shot_top, self.width() - 12, int(SHOT_HEIGHT)),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            "Shots",
        )

    def _paint_lane(self, painter: QPainter, lane: LaneInfo) -> None:
        top = self._to_widget_y(lane.top)
        height = int(lane.height)
        if top > self.height() or top + height < 0:
            return
        row = QRect(0, top, self.width(), height)
        selected = lane.identity_id == self._selected
        painter.fillRect(row, QColor("#2f3642") if selected else QColor("#23272e"))
        painter.fillRect(QRect(0, top, 4, height), QColor(lane.color))
        thumb_rect = QRect(8, top + (height - THUMB) // 2, THUMB, THUMB)
        pixmap = self._thumbnails.get(lane.identity_id)
        if pixmap is not None and not pixmap.isNull():
            painter.drawPixmap(thumb_rect, pixmap)
        else:
            painter.fillRect(thumb_rect, QColor("#3a404b"))
        text_left = thumb_rect.right() + 8
        painter.setPen(TEXT)
        painter.setFont(_font(9, bold=selected))
        name_rect = QRect(text_left, top + 4, self.width() - text_left - 22, 18)
        elided = painter.fontMetrics().elidedText(
            lane.name, Qt.TextElideMode.ElideRight, name_rect.width()
        )
        painter.drawText(name_rect, int(Qt.AlignmentFlag.AlignVCenter), elided)
        if lane.kind == "audio":  # no method icon: its status is a line of text
            painter.setFont(_font(8))
            painter.setPen(MUTED)
            status_rect = QRect(text_left, top + 22, self.width() - text_left - 4, 18)
            painter.drawText(status_rect, int(Qt.AlignmentFlag.AlignVCenter), lane.method)
            return
        shown_method = Method.MASK if lane.method == "fill" else Method(lane.method)
        status_icon = method_icon(shown_method) if lane.hidden else icon("kept", "#8ce99a")
        status_icon.paint(painter, QRect(text_left, top + 24, 14, 14))
        painter.setFont(_font(8))
        painter.setPen(QColor("#8ce99a") if not lane.hidden else MUTED)
        status = lane.method.capitalize() if lane.hidden else "Kept visible"
        if lane.models_missing:
            status += " (no models)"
            painter.setPen(QColor("#fcc419"))
        if lane.kind == "region":
            status = f"Region · {lane.method}"
        painter.drawText(
            QRect(text_left + 18, top + 22, self.width() - text_left - 20, 18),
            int(Qt.AlignmentFlag.AlignVCenter),
            status,
        )
        if lane.needs_attention:
            icon("warning", "#fcc419").paint(painter, QRect(self.width() - 20, top + 6, 14, 14))


def _font(points: float, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(points)
    font.setBold(bold)
    return font
