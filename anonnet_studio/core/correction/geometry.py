"""Box geometry of hand corrections: clipping, landmark templates, keyframe interpolation.

A correction sets the box of one frame (a keyframe). The rows between that keyframe and
its neighbouring keyframes (or the ends of the track where there is none) are corrected
in proportion: the new keyframe's change, expressed relative to the box (centre shift in
box units, size ratio per axis), is applied with a weight that falls linearly from 1 at
the new keyframe to 0 at the neighbouring keyframe (or just beyond the track's end).
Existing keyframes therefore never move, the motion of the rows in between is kept, and
landmarks move with their box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anonnet_studio.core.errors import AnonNetError

# A box must be at least this many pixels on each side after clipping to the frame.
MIN_BOX_SIDE = 2.0

# Where the five YuNet landmarks sit inside a frontal face box (fractions of its size):
# right eye, left eye (as seen in the image), nose tip, right and left mouth corner.
LANDMARK_TEMPLATE = np.array(
    [[0.32, 0.40], [0.68, 0.40], [0.50, 0.58], [0.36, 0.76], [0.64, 0.76]], dtype=np.float32
)


class BoxError(AnonNetError):
    """A box the user drew or typed cannot be used (empty, outside the frame, not finite)."""


def clip_box(box: np.ndarray | tuple[float, ...], width: int, height: int) -> np.ndarray:
    """`box` (x0, y0, x1, y1; corners in any order) clipped to a `width` x `height` frame.

    Raises BoxError with a readable reason when nothing usable is left: a zero-size box,
    a box entirely outside the frame, or coordinates that are not numbers.
    """
    values = np.asarray(box, dtype=np.float64).ravel()
    if values.shape != (4,) or not np.all(np.isfinite(values)):
        raise BoxError("A box needs four finite coordinates (x0, y0, x1, y1).")
    x0, x1 = sorted((float(values[0]), float(values[2])))
    y0, y1 = sorted((float(values[1]), float(values[3])))
    if x1 - x0 < MIN_BOX_SIDE or y1 - y0 < MIN_BOX_SIDE:
        raise BoxError(
            "The box is too small: drag out a rectangle of at least "
            f"{MIN_BOX_SIDE:.0f} x {MIN_BOX_SIDE:.0f} pixels."
        )
    clipped = np.array(
        [max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1)],
        dtype=np.float64,
    )
    if clipped[2] - clipped[0] < MIN_BOX_SIDE or clipped[3] - clipped[1] < MIN_BOX_SIDE:
        raise BoxError("The box lies outside the picture.")
    return clipped.astype(np.float32)


def template_landmarks(boxes: np.ndarray) -> np.ndarray:
    """Five frontal-face landmarks (N, 5, 2) placed in each box of (N, 4) (or one (4,))."""
    boxes = np.asarray(boxes, dtype=np.float32)
    single = boxes.ndim == 1
    boxes = boxes.reshape(-1, 4)
    size = (boxes[:, 2:] - boxes[:, :2])[:, None, :]
    points = boxes[:, None, :2] + LANDMARK_TEMPLATE[None] * size
    return points[0] if single else points


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(float(a[0]), float(b[0])), max(float(a[1]), float(b[1]))
    x1, y1 = min(float(a[2]), float(b[2])), min(float(a[3]), float(b[3]))
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True, slots=True, eq=False)
class RowCorrection:
    """Per-row change of a keyframe correction: each row's box centre moves from
    `old_centres` to `new_centres` and its size is multiplied by `ratios` (per axis)."""

    rows: np.ndarray  # (M,) indices of the rows that change
    old_centres: np.ndarray  # (M, 2)
    new_centres: np.ndarray  # (M, 2)
    ratios: np.ndarray  # (M, 2)

    def boxes(self, boxes: np.ndarray) -> np.ndarray:
        """A copy of all (N, 4) `boxes` with the corrected rows changed."""
        out = np.array(boxes, dtype=np.float64, copy=True)
        size = (out[self.rows, 2:] - out[self.rows, :2]) * self.ratios
        out[self.rows, :2] = self.new_centres - size / 2
        out[self.rows, 2:] = self.new_centres + size / 2
        return out.astype(np.float32)

    def points(self, points: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Points (N, K, 2) of every row, moved with their row's box. `rows` says which
        correction row each entry of `points` belongs to (default: the same rows as the
        boxes); entries of rows that do not change are copied as they are."""
        out = np.array(points, dtype=np.float64, copy=True)
        row_of_entry = np.arange(len(out)) if rows is None else np.asarray(rows)
        position = {int(r): i for i, r in enumerate(self.rows)}
        for entry, row in enumerate(row_of_entry):
            i = position.get(int(row))
            if i is None:
                continue
            out[entry] = self.new_centres[i] + (out[entry] - self.old_centres[i]) * self.ratios[i]
        return out.astype(np.float32)


def keyframe_correction(
    frames: np.ndarray, boxes: np.ndarray, keyframes: list[int], frame: int, new_box: np.ndarray
) -> RowCorrection:
    """How the rows change when the box of `frame` (a row of `frames`) becomes `new_box`.

    `keyframes` are the frames already set by hand; they and everything beyond them stay
    as they are (see the module docstring)."""
    frames = np.asarray(frames)
    row = int(np.searchsorted(frames, frame))
    if row >= len(frames) or int(frames[row]) != frame:
        raise ValueError(f"frame {frame} is not a row of the track")
    old = np.asarray(boxes[row], dtype=np.float64)
    new = np.asarray(new_box, dtype=np.float64)
    old_size = np.maximum(old[2:] - old[:2], 1e-6)
    shift = ((new[:2] + new[2:]) / 2 - (old[:2] + old[2:]) / 2) / old_size  # box units
    ratio = np.maximum(new[2:] - new[:2], 1e-6) / old_size
    before = [k for k in keyframes if k < frame]
    after = [k for k in keyframes if k > frame]
    # Without a keyframe on one side, the correction fades out just beyond that end of
    # the track, so the end row itself still moves a little.
    lo_anchor = max(before) if before else int(frames[0]) - 1
    hi_anchor = min(after) if after else int(frames[-1]) + 1
    rows = np.flatnonzero((frames > lo_anchor) & (frames < hi_anchor))
    at = frames[rows].astype(np.float64)
    weight = np.where(
        at <= frame,
        (at - lo_anchor) / max(frame - lo_anchor, 1),
        (hi_anchor - at) / max(hi_anchor - frame, 1),
    )
    weight = np.clip(weight, 0.0, 1.0)[:, None]
    current = np.asarray(boxes, dtype=np.float64)[rows]
    size = current[:, 2:] - current[:, :2]
    centres = (current[:, :2] + current[:, 2:]) / 2
    return RowCorrection(
        rows=rows,
        old_centres=centres,
        new_centres=centres + weight * shift[None] * size,
        ratios=1.0 + weight * (ratio[None] - 1.0),
    )
