"""Mouse interaction with boxes on the preview, in video pixels: draw a new box, or move
or resize an existing one by its inside, edges or corners. Plain Python, no widgets, so
the canvas only translates widget positions and paints."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

Box = tuple[float, float, float, float]
BoxKey = tuple[str, int]  # ("track", track id) | ("region", region id)


class CanvasTool(StrEnum):
    SELECT = "select"  # click selects a box, drag moves or resizes it
    DRAW_FACE = "face"  # drag out a face the analysis missed
    DRAW_REGION = "region"  # drag out a region that is not a face


@dataclass(frozen=True, slots=True)
class EditableBox:
    key: BoxKey
    box: Box


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a finished drag or click did: "drawn" (box), "edited" (key, box), "clicked"."""

    kind: str
    box: Box | None = None
    key: BoxKey | None = None


# Which box sides a grab moves: (x0, y0, x1, y1) flags.
_MOVE_ALL = (True, True, True, True)


def normalised(x0: float, y0: float, x1: float, y1: float) -> Box:
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


class BoxInteraction:
    """One drag at a time. `tolerance` is how close (video pixels) a press must be to an
    edge to grab it rather than the inside."""

    def __init__(self) -> None:
        self._start: tuple[float, float] | None = None
        self._now: tuple[float, float] = (0.0, 0.0)
        self._tool = CanvasTool.SELECT
        self._target: EditableBox | None = None
        self._sides = _MOVE_ALL
        self._moved = False

    @property
    def active(self) -> bool:
        return self._start is not None

    @property
    def editing_key(self) -> BoxKey | None:
        return self._target.key if self._target is not None and self.active else None

    def press(
        self,
        point: tuple[float, float],
        tool: CanvasTool,
        boxes: list[EditableBox],
        tolerance: float,
    ) -> bool:
        """Start a drag; False when the press concerns no box (the canvas may use it)."""
        self._tool, self._moved, self._target = tool, False, None
        if tool is CanvasTool.SELECT:
            hit = _hit(point, boxes, tolerance)
            if hit is None:
                return False
            self._target, self._sides = hit
        self._start = self._now = point
        return True

    def move(self, point: tuple[float, float], threshold: float) -> None:
        if self._start is None:
            return
        self._now = point
        if abs(point[0] - self._start[0]) > threshold or abs(point[1] - self._start[1]) > threshold:
            self._moved = True

    def preview(self) -> Box | None:
        """The box as it would be if the drag ended now (None when not dragging)."""
        if self._start is None:
            return None
        if self._target is None:
            return normalised(*self._start, *self._now)
        dx, dy = self._now[0] - self._start[0], self._now[1] - self._start[1]
        x0, y0, x1, y1 = self._target.box
        moves = self._sides
        return normalised(
            x0 + dx * moves[0], y0 + dy * moves[1], x1 + dx * moves[2], y1 + dy * moves[3]
        )

    def release(self) -> Outcome | None:
        box, target, moved = self.preview(), self._target, self._moved
        self._start, self._target = None, None
        if box is None:
            return None
        if target is None:
            return Outcome("drawn", box=box) if moved else None
        if not moved:
            return Outcome("clicked", key=target.key)
        return Outcome("edited", box=box, key=target.key)

    def cancel(self) -> None:
        self._start, self._target = None, None


def _hit(
    point: tuple[float, float], boxes: list[EditableBox], tolerance: float
) -> tuple[EditableBox, tuple[bool, bool, bool, bool]] | None:
    """The box under `point` (smallest first, so a face inside a region wins) and which of
    its sides the grab moves: near an edge, that edge; near a corner, both; else all."""
    x, y = point
    candidates = []
    for editable in boxes:
        x0, y0, x1, y1 = editable.box
        if x0 - tolerance <= x <= x1 + tolerance and y0 - tolerance <= y <= y1 + tolerance:
            candidates.append(editable)
    if not candidates:
        return None
    editable = min(candidates, key=lambda e: (e.box[2] - e.box[0]) * (e.box[3] - e.box[1]))
    x0, y0, x1, y1 = editable.box
    # Edges stay grabbable on tiny boxes: never more than a third of the box each.
    tol_x = min(tolerance, (x1 - x0) / 3)
    tol_y = min(tolerance, (y1 - y0) / 3)
    left, right = abs(x - x0) <= tol_x, abs(x - x1) <= tol_x
    top, bottom = abs(y - y0) <= tol_y, abs(y - y1) <= tol_y
    if not (left or right or top or bottom):
        return editable, _MOVE_ALL
    return editable, (left, top, right, bottom)
