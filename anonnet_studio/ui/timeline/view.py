"""`TimelineView`: shows the timeline scene; zooms the x axis only; click or drag to seek;
drag either end of a face's span to trim it (the preview follows the edge).

Selection emits domain ids (shot index, track id, identity id), never items.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QMouseEvent,
    QPainter,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsRectItem, QGraphicsView, QMenu, QWidget

from anonnet_studio.project.schema import Project
from anonnet_studio.ui.icons import icon
from anonnet_studio.ui.images import pixmap_from_rgb
from anonnet_studio.ui.timecode import frame_to_timecode
from anonnet_studio.ui.timeline.header import HEADER_WIDTH, THUMB, LaneHeaderColumn
from anonnet_studio.ui.timeline.items import DOMAIN_ID, DOMAIN_KIND, SpanItem
from anonnet_studio.ui.timeline.scene import SHOT_TOP, TimelineScene

MAX_PIXELS_PER_FRAME = 48.0
ZOOM_STEP = 1.25
LANE_MARGIN = 4  # pixels kept above or below a lane scrolled into view
EDGE_GRAB_PX = 5  # how close to a span's end a press grabs that end


class _EdgeDrag:
    """A span end being dragged: which track, which end, and the span before the drag."""

    def __init__(self, item: SpanItem, side: str) -> None:
        self.item, self.side = item, side
        self.before = QRectF(item.rect())
        self.frame = int(self.before.left() if side == "start" else self.before.right())


class TimelineView(QGraphicsView):
    seek_requested = Signal(int)
    identity_clicked = Signal(str)
    shot_clicked = Signal(int)
    track_clicked = Signal(int)
    zoom_changed = Signal(float)  # pixels per frame
    split_requested = Signal(int)  # track id: make this track a person of its own
    region_clicked = Signal(int)  # region id
    trim_requested = Signal(int, int, int)  # track id, first and last frame to keep

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = TimelineScene(self)
        self.setScene(self.timeline)
        self.setObjectName("TimelineView")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setViewportMargins(HEADER_WIDTH, 0, 0, 0)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.setMinimumHeight(140)
        self.setBackgroundBrush(QColor("#1b1e23"))
        self._header = LaneHeaderColumn(self)
        self._header.identity_clicked.connect(self.identity_clicked)
        self._header.region_clicked.connect(self.region_clicked)
        # Adds the hand-correction entries to a span's context menu: (menu, kind, id).
        self.menu_extender: Callable[[QMenu, str, int], None] | None = None
        # Fills the audio lane's menu: (menu, "audio" or "mute", mute range index).
        self.audio_menu_extender: Callable[[QMenu, str, int], None] | None = None
        self.timeline.audio.seek_requested.connect(self.seek_requested)
        self._pixels_per_frame = 1.0
        self._fit_to_width = True  # until the user zooms, the whole video fits
        self._scrubbing = False
        self._edge_drag: _EdgeDrag | None = None
        self.viewport().setMouseTracking(True)  # the resize cursor over span ends
        self._syncing_selection = False
        self.timeline.selectionChanged.connect(self._on_scene_selection)

    # -- content --------------------------------------------------------------------------

    def rebuild(
        self,
        project: Project | None,
        frame_count: int,
        fps: float,
        *,
        synthetic_unavailable: bool = False,
    ) -> None:
        """Rebuild every item from the document (cheap: one item per shot and track)."""
        self._syncing_selection = True
        try:
            self.timeline.rebuild(
                project, frame_count, fps, synthetic_unavailable=synthetic_unavailable
            )
        finally:
            self._syncing_selection = False
        thumbnails: dict[str, QPixmap] = {}
        if project is not None:
            for identity in project.identities:
                if identity.thumbnail is not None:
                    thumbnails[identity.id] = pixmap_from_rgb(identity.thumbnail, THUMB)
        has_leaks = project is not None and bool(project.leak_frames)
        self._header.set_lanes(self.timeline.lanes, thumbnails, has_leaks=has_leaks)
        if self._fit_to_width:
            self.fit_all()
        else:
            self._apply_zoom(self._pixels_per_frame)

    def set_frame(self, frame: int) -> None:
        self.timeline.set_frame(frame)
        self._header.set_timecode(frame_to_timecode(frame, self.timeline.fps))
        self._keep_frame_visible(frame)

    def select(self, kind: str | None, domain_id: object = None) -> None:
        """Highlight the items of a domain object (None clears) without emitting signals."""
        self._syncing_selection = True
        try:
            self.timeline.clearSelection()
            if kind is not None:
                for item in self.timeline.items_for(kind, domain_id):
                    item.setSelected(True)
        finally:
            self._syncing_selection = False

    def set_selected_identity(self, identity_id: str | None) -> None:
        self._header.set_selected(identity_id)

    def scroll_to_lane(self, lane_id: str) -> None:
        """Scroll vertically (only) so the lane is in view, e.g. after the person was picked
        in the gallery; x stays where the user put it."""
        lane = next((lane for lane in self.timeline.lanes if lane.identity_id == lane_id), None)
        if lane is None:
            return
        top = self.mapFromScene(0, lane.top).y()
        bottom = self.mapFromScene(0, lane.top + lane.height).y()
        bar = self.verticalScrollBar()
        if top < 0:
            bar.setValue(bar.value() + top - LANE_MARGIN)
        elif bottom > self.viewport().height():
            bar.setValue(bar.value() + bottom - self.viewport().height() + LANE_MARGIN)

    def lane_is_visible(self, lane_id: str) -> bool:
        lane = next((lane for lane in self.timeline.lanes if lane.identity_id == lane_id), None)
        if lane is None:
            return False
        top = self.mapFromScene(0, lane.top).y()
        bottom = self.mapFromScene(0, lane.top + lane.height).y()
        return top >= 0 and bottom <= self.viewport().height()

    @property
    def header(self) -> LaneHeaderColumn:
        return self._header

    # -- zoom -----------------------------------------------------------------------------

    @property
    def pixels_per_frame(self) -> float:
        return self._pixels_per_frame

    def fit_all(self) -> None:
        """Zoom so the whole video fits the width."""
        self._fit_to_width = True
        self._apply_zoom(self._fit_scale())

    def zoom_by(self, factor: float) -> None:
        """Zoom the x axis around the mouse (or the view centre)."""
        self._fit_to_width = False
        self._apply_zoom(self._pixels_per_frame * factor)

    def _fit_scale(self) -> float:
        frames = max(1, self.timeline.frame_count)
        return max(1e-3, (self.viewport().width() - 8) / frames)

    def _apply_zoom(self, pixels_per_frame: float) -> None:
        low = min(self._fit_scale(), 1.0)
        scale = min(MAX_PIXELS_PER_FRAME, max(low, pixels_per_frame))
        changed = abs(scale - self._pixels_per_frame) > 1e-9
        self._pixels_per_frame = scale
        # Only x is scaled: lane heights and text stay the same size at every zoom.
        self.setTransform(QTransform.fromScale(scale, 1.0))
        self._header.update()
        if changed:
            self.zoom_changed.emit(scale)

    def _keep_frame_visible(self, frame: int) -> None:
        x = self.mapFromScene(frame, 0).x()
        width = self.viewport().width()
        if x < 0 or x > width:
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + x - width // 4)

    # -- events ---------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:
        modifiers = event.modifiers()
        delta = event.angleDelta().y() or event.angleDelta().x()
        if modifiers & Qt.KeyboardModifier.ControlModifier and delta:
            self.zoom_by(ZOOM_STEP ** (delta / 120))
            event.accept()
            return
        if modifiers & Qt.KeyboardModifier.ShiftModifier and delta:
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - delta)
            event.accept()
            return
        super().wheelEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        pos = event.position().toPoint()
        scene_pos = self.mapToScene(pos)
        if scene_pos.y() < SHOT_TOP:  # ruler and leak strip: seek and scrub
            self._scrubbing = True
            self._seek_to(pos)
            event.accept()
            return
        edge = self.span_edge_at(pos)
        if edge is not None:
            self._edge_drag = _EdgeDrag(*edge)
            event.accept()
            return
        item = self.itemAt(pos)
        if item is None or item.data(DOMAIN_KIND) is None:
            self.timeline.clearSelection()
            self._seek_to(pos)
            self._scrubbing = True
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if self._edge_drag is not None:
            self._drag_edge_to(pos)
            event.accept()
            return
        if self._scrubbing:
            self._seek_to(pos)
            event.accept()
            return
        if event.buttons() == Qt.MouseButton.NoButton:
            over_edge = self.span_edge_at(pos) is not None
            self.viewport().setCursor(
                Qt.CursorShape.SizeHorCursor if over_edge else Qt.CursorShape.ArrowCursor
            )
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._scrubbing = False
        drag, self._edge_drag = self._edge_drag, None
        if drag is not None:
            drag.item.setRect(drag.before)  # the document rebuilds the span if it changes
            first, end = int(drag.before.left()), int(drag.before.right())
            first, end = (drag.frame, end) if drag.side == "start" else (first, drag.frame)
            if (first, end) != (int(drag.before.left()), int(drag.before.right())):
                self.trim_requested.emit(drag.item.track_id, first, end - 1)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def span_edge_at(self, pos: QPoint) -> tuple[SpanItem, str] | None:
        """The face span whose start or end is under `pos` (view pixels), if any.

        Looks under every item there (a shot's cut line is drawn over the spans that
        start at it); of two spans meeting at a frame, the pixel belongs to the one
        starting there."""
        near = QRect(pos.x() - EDGE_GRAB_PX, pos.y(), 2 * EDGE_GRAB_PX + 1, 1)
        best: tuple[tuple[bool, int], SpanItem, str] | None = None
        for item in self.items(near):
            if not isinstance(item, SpanItem) or item.data(DOMAIN_KIND) != "track":
                continue
            left = self.mapFromScene(item.rect().topLeft()).x()
            right = self.mapFromScene(item.rect().topRight()).x()
            if right - left < 3 * EDGE_GRAB_PX:
                continue  # a span this narrow is grabbed to select it, not to trim
            for side, x, inside in (
                ("start", left, pos.x() >= left),
                ("end", right, pos.x() < right),
            ):
                rank = (not inside, abs(pos.x() - x))
                if rank[1] <= EDGE_GRAB_PX and (best is None or rank < best[0]):
                    best = (rank, item, side)
        return (best[1], best[2]) if best is not None else None

    def _drag_edge_to(self, pos: QPoint) -> None:
        """Trims only (a track cannot grow without boxes): the edge stays inside the span
        and keeps at least one frame; the preview shows the frame at the edge."""
        drag = self._edge_drag
        assert drag is not None
        before = drag.before
        frame = round(self.mapToScene(pos).x())
        if drag.side == "start":
            drag.frame = min(max(frame, int(before.left())), int(before.right()) - 1)
            shown = drag.frame
            rect = QRectF(drag.frame, before.top(), before.right() - drag.frame, before.height())
        else:
            drag.frame = max(min(frame, int(before.right())), int(before.left()) + 1)
            shown = drag.frame - 1
            rect = QRectF(before.left(), before.top(), drag.frame - before.left(), before.height())
        drag.item.setRect(rect)
        self.seek_requested.emit(shown)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        # Double-clicking a span jumps to where that person appears.
        item = self.itemAt(event.position().toPoint())
        if isinstance(item, QGraphicsRectItem) and item.data(DOMAIN_KIND) in ("track", "shot"):
            # rect(), not boundingRect(): the bounding box adds half the pen width, which
            # landed one frame before the span.
            self.seek_requested.emit(round(item.rect().left()))
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.itemAt(event.pos())
        if item is None:
            return
        kind = item.data(DOMAIN_KIND)
        if kind == "track":
            menu = self.track_menu(int(item.data(DOMAIN_ID)))
        elif kind == "region":
            menu = self.region_menu(int(item.data(DOMAIN_ID)))
        elif kind in ("audio", "mute"):
            menu = self.audio_menu(kind, int(item.data(DOMAIN_ID)))
        else:
            return
        menu.exec(event.globalPos())

    def audio_menu(self, kind: str, index: int = 0) -> QMenu:
        """Context menu of the audio lane or of one of its mute ranges."""
        menu = QMenu(self)
        if self.audio_menu_extender is not None:
            self.audio_menu_extender(menu, kind, index)
        return menu

    def region_menu(self, region_id: int) -> QMenu:
        """Context menu of a region's span (filled by `menu_extender`)."""
        menu = QMenu(self)
        if self.menu_extender is not None:
            self.menu_extender(menu, "region", region_id)
        return menu

    def track_menu(self, track_id: int) -> QMenu:
        """Context menu of a span (separate so tests can drive it)."""
        menu = QMenu(self)
        split = menu.addAction(icon("split"), "Split this track into a new person")
        split.setObjectName("split-track")
        split.triggered.connect(lambda: self.split_requested.emit(track_id))
        select = menu.addAction("Select this track")
        select.triggered.connect(lambda: self.track_clicked.emit(track_id))
        if self.menu_extender is not None:
            menu.addSeparator()
            self.menu_extender(menu, "track", track_id)
        return menu

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        viewport = self.viewport().geometry()
        self._header.setGeometry(
            QRect(viewport.left() - HEADER_WIDTH, viewport.top(), HEADER_WIDTH, viewport.height())
        )
        if self._fit_to_width:
            self.fit_all()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        if dy:
            self._header.update()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            self.resizeEvent(QResizeEvent(self.size(), self.size()))
        return super().event(event)

    def _seek_to(self, pos: QPoint) -> None:
        frame = int(self.mapToScene(pos).x())
        last = max(0, self.timeline.frame_count - 1)
        self.seek_requested.emit(min(max(frame, 0), last))

    def _on_scene_selection(self) -> None:
        if self._syncing_selection:
            return
        for item in self.timeline.selectedItems():
            kind = item.data(DOMAIN_KIND)
            if kind == "shot":
                self.shot_clicked.emit(int(item.data(DOMAIN_ID)))
                return
            if kind == "track":
                self.track_clicked.emit(int(item.data(DOMAIN_ID)))
                return
            if kind == "region":
                self.region_clicked.emit(int(item.data(DOMAIN_ID)))
                return
