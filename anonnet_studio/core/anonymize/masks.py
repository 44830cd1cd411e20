"""Face-shaped soft masks: a rotated ellipse per face, smoothed over time, feathered outwards.

The ellipse is sized from the face box, centred between the eyes and the mouth and rotated
with the eye line. Its inside is fully opaque and the feather ramps *outwards* from its
edge, so feathering never lets original face pixels through. Masks are rendered only in a
window around the face: the cost follows the face size, not the frame size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

# The YuNet box spans brows to chin; these factors make the ellipse reach the forehead and
# the jaw corners that an inscribed ellipse would cut off.
_WIDTH_FACTOR = 1.10
_HEIGHT_FACTOR = 1.20
# Feather width as a fraction of the mean semi-axis: proportional to the face size.
FEATHER_FRACTION = 0.18
# Temporal smoothing of the mask parameters, in frames.
CENTRE_SIGMA_FRAMES = 2.0
AXES_HOLD_FRAMES = 5  # axes take the max over this window first, so smoothing never shrinks
AXES_SIGMA_FRAMES = 2.0

# Columns of an ellipse parameter array.
CX, CY, SEMI_X, SEMI_Y, ANGLE = range(5)


@dataclass(frozen=True, slots=True)
class Ellipse:
    """A rotated face ellipse in full-frame pixels; `angle` in radians (eye line)."""

    cx: float
    cy: float
    semi_x: float  # half-width along the eye line
    semi_y: float  # half-height along the nose-to-chin axis
    angle: float
    feather: float  # pixels of outward feathering beyond the ellipse edge

    @classmethod
    def from_row(cls, row: np.ndarray) -> Ellipse:
        semi = (float(row[SEMI_X]) + float(row[SEMI_Y])) / 2
        return cls(
            float(row[CX]),
            float(row[CY]),
            float(row[SEMI_X]),
            float(row[SEMI_Y]),
            float(row[ANGLE]),
            FEATHER_FRACTION * semi,
        )

    @property
    def size(self) -> float:
        """Face size in pixels (the ellipse's mean diameter), used to scale effects."""
        return self.semi_x + self.semi_y

    def bounds(self, *, feathered: bool = True) -> tuple[float, float, float, float]:
        """Axis-aligned bounding box (x0, y0, x1, y1), unclipped."""
        grow = self.feather if feathered else 0.0
        a, b = self.semi_x + grow, self.semi_y + grow
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        half_w = math.hypot(a * cos, b * sin)
        half_h = math.hypot(a * sin, b * cos)
        return (self.cx - half_w, self.cy - half_h, self.cx + half_w, self.cy + half_h)


@dataclass(frozen=True, slots=True, eq=False)
class SoftMask:
    """Alpha (0..1, float32) of a window of the frame whose top-left corner is (x0, y0)."""

    x0: int
    y0: int
    alpha: np.ndarray  # (h, w) float32

    @property
    def x1(self) -> int:
        return self.x0 + self.alpha.shape[1]

    @property
    def y1(self) -> int:
        return self.y0 + self.alpha.shape[0]

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def empty(self) -> bool:
        return self.alpha.size == 0


def face_ellipses(boxes: np.ndarray, landmarks5: np.ndarray, margin: float) -> np.ndarray:
    """Raw per-frame ellipse parameters (N, 5) for a track: cx, cy, semi_x, semi_y, angle.

    `margin` enlarges both axes (0.2 = 20 %); about 0.5 takes in hair and ears.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    points = np.asarray(landmarks5, dtype=np.float64).reshape(-1, 5, 2)
    eyes = (points[:, 0] + points[:, 1]) / 2
    mouth = (points[:, 3] + points[:, 4]) / 2
    centre = (eyes + mouth) / 2
    eye_vector = points[:, 1] - points[:, 0]
    angle = np.arctan2(eye_vector[:, 1], eye_vector[:, 0])
    box_centre = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
    width = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    height = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    # When the landmark centre sits off the box centre (head turned or tilted), grow the
    # ellipse by that offset so it still covers the whole detected box.
    offset = np.abs(centre - box_centre)
    grow = 1.0 + max(0.0, margin)
    semi_x = (width / 2 * _WIDTH_FACTOR + offset[:, 0]) * grow
    semi_y = (height / 2 * _HEIGHT_FACTOR + offset[:, 1]) * grow
    return np.stack([centre[:, 0], centre[:, 1], semi_x, semi_y, angle], axis=1)


def smooth_ellipses(params: np.ndarray) -> np.ndarray:
    """Zero-phase temporal smoothing of a track's ellipse parameters (N, 5).

    Centres and angle get a Gaussian filter (no lag, unlike a causal filter). Axes first
    take a running maximum, so a brief enlargement is never averaged away into a mask that
    is too small for a frame.
    """
    params = np.asarray(params, dtype=np.float64)
    if len(params) < 2:
        return params.copy()
    smoothed = params.copy()
    for column in (CX, CY):
        smoothed[:, column] = gaussian_filter1d(
            params[:, column], CENTRE_SIGMA_FRAMES, mode="nearest"
        )
    for column in (SEMI_X, SEMI_Y):
        held = maximum_filter1d(params[:, column], AXES_HOLD_FRAMES, mode="nearest")
        smoothed[:, column] = gaussian_filter1d(held, AXES_SIGMA_FRAMES, mode="nearest")
    unwrapped = np.unwrap(params[:, ANGLE])
    smoothed[:, ANGLE] = gaussian_filter1d(unwrapped, CENTRE_SIGMA_FRAMES, mode="nearest")
    return smoothed


def clip_window(
    bounds: tuple[float, float, float, float], frame_w: int, frame_h: int
) -> tuple[int, int, int, int]:
    """Integer window (x0, y0, x1, y1) covering `bounds`, clipped to the frame."""
    x0 = max(0, math.floor(bounds[0]))
    y0 = max(0, math.floor(bounds[1]))
    x1 = min(frame_w, math.ceil(bounds[2]) + 1)
    y1 = min(frame_h, math.ceil(bounds[3]) + 1)
    return x0, y0, max(x0, x1), max(y0, y1)


def ellipse_mask(ellipse: Ellipse, frame_w: int, frame_h: int) -> SoftMask:
    """The feathered mask of `ellipse`, rendered only inside its clipped bounding window."""
    x0, y0, x1, y1 = clip_window(ellipse.bounds(), frame_w, frame_h)
    if x1 <= x0 or y1 <= y0:
        return SoftMask(x0, y0, np.zeros((0, 0), np.float32))
    xs = np.arange(x0, x1, dtype=np.float32) + 0.5 - np.float32(ellipse.cx)
    ys = np.arange(y0, y1, dtype=np.float32) + 0.5 - np.float32(ellipse.cy)
    cos, sin = np.float32(math.cos(ellipse.angle)), np.float32(math.sin(ellipse.angle))
    # Coordinates in the ellipse's own frame, scaled so its edge is the unit circle.
    u = (xs[None, :] * cos + ys[:, None] * sin) / np.float32(ellipse.semi_x)
    v = (ys[:, None] * cos - xs[None, :] * sin) / np.float32(ellipse.semi_y)
    radius = np.sqrt(u * u + v * v)
    feather = np.float32(max(ellipse.feather, 1.0) / ((ellipse.semi_x + ellipse.semi_y) / 2))
    ramp = np.clip((1.0 + feather - radius) / feather, 0.0, 1.0)
    alpha = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no visible edge in the feather
    return SoftMask(x0, y0, alpha.astype(np.float32, copy=False))


def box_mask(box: np.ndarray, feather: float, frame_w: int, frame_h: int) -> SoftMask:
    """An opaque rectangle with an outward feather (used to cover leaks found by detection)."""
    x0f, y0f, x1f, y1f = (float(v) for v in box)
    x0, y0, x1, y1 = clip_window(
        (x0f - feather, y0f - feather, x1f + feather, y1f + feather), frame_w, frame_h
    )
    if x1 <= x0 or y1 <= y0:
        return SoftMask(x0, y0, np.zeros((0, 0), np.float32))
    xs = np.arange(x0, x1, dtype=np.float32) + 0.5
    ys = np.arange(y0, y1, dtype=np.float32) + 0.5
    dx = np.maximum(np.maximum(x0f - xs, xs - x1f), 0.0)
    dy = np.maximum(np.maximum(y0f - ys, ys - y1f), 0.0)
    outside = np.hypot(dx[None, :], dy[:, None])
    ramp = np.clip(1.0 - outside / max(feather, 1.0), 0.0, 1.0)
    return SoftMask(x0, y0, (ramp * ramp * (3.0 - 2.0 * ramp)).astype(np.float32))
