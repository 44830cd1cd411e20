"""The passes ("looks") of the leak check: which detector sees the frame at which scale.

The analysis detector at the analysis scale misses what the analysis missed, so a check
made only of it is blind exactly where it matters. The check therefore also looks with a
detector of another family (CenterFace: anchor-free heatmaps, where YuNet uses anchors)
and, in frames larger than the analysis scale, with a small-face pass at up to 1.5 times
native resolution in overlapping tiles, for faces that shrink below the detector's
minimum size at the analysis scale (crowds, wide stage shots).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from anonnet_studio.core.anonymize.plan import RenderPlan
from anonnet_studio.core.timing import StageClock
from anonnet_studio.core.vision.types import FaceDetection, FaceDetector

# Faces a later look finds where an earlier one already found a face are the same face.
SAME_FACE_IOU = 0.3
# The small-face pass enlarges by at most this: at native resolution YuNet misses soft
# 16 px faces (a low-resolution source in a 1080p crowd), at 1.5x it found all of them in
# the hard set; 2x found no more at twice the cost.
SMALL_FACE_MAX_UPSCALE = 1.5
# Tiles of the small-face pass overlap by this fraction, so a face on a seam is whole in one.
TILE_OVERLAP = 0.25


@dataclass(frozen=True, slots=True)
class Look:
    """One detector pass. The frame is resized so its longer side is `side` (never
    shrunk below native when `native_floor`), then scanned whole or in tiles of `tile`."""

    label: str  # named in the report: which detector found (and covered) a face
    detector: FaceDetector
    side: int  # target longer side in pixels; 0: native resolution
    tile: int = 0  # > 0: overlapping square tiles of this side after resizing
    # Run only on frames whose longer side exceeds this (the small-face pass is useless
    # where the first look already sees the frame at native resolution); 0: always.
    only_above: int = 0
    max_upscale: float = 1.0  # enlarge small frames up to this factor to reach `side`


@dataclass(frozen=True, slots=True, eq=False)
class Seen:
    """What one look found: detections in `image` (the frame as that look saw it)."""

    look: Look
    image: np.ndarray
    scale: float  # multiply `image` coordinates by this for full-frame pixels
    detections: list[FaceDetection]


def extra_looks(
    detector: FaceDetector, second: FaceDetector | None, plan: RenderPlan
) -> list[Look]:
    """The looks after the first one (the analysis detector at the analysis scale)."""
    looks = []
    if second is not None and plan.second_look_side > 0:
        looks.append(Look(second.name, second, plan.second_look_side))
    if plan.small_face_side > 0:
        looks.append(
            Look(
                f"{detector.name} small faces",
                detector,
                plan.small_face_side,
                tile=plan.small_face_tile,
                only_above=plan.leak_check_max_side,
                max_upscale=SMALL_FACE_MAX_UPSCALE,
            )
        )
    return looks


def applies(look: Look, frame: np.ndarray) -> bool:
    return max(frame.shape[:2]) > look.only_above


def run_look(look: Look, frame: np.ndarray) -> Seen:
    """The faces `look` finds in `frame` (RGB uint8)."""
    image, scale = resized(frame, look.side, look.max_upscale)
    if look.tile <= 0 or max(image.shape[:2]) <= look.tile:
        return Seen(look, image, scale, list(look.detector.detect(image)))
    found: list[FaceDetection] = []
    for top, left, crop in tiles(image, look.tile):
        found += [_shifted(d, left, top) for d in look.detector.detect(crop)]
    return Seen(look, image, scale, merged(found))


def faces_seen(
    looks: Sequence[Look], frame: np.ndarray, clock: StageClock | None = None
) -> Iterator[tuple[Seen, FaceDetection, np.ndarray]]:
    """Each face the looks that apply to `frame` find, look by look (a look runs only when
    the caller asks for more), with its box in full-frame pixels (float32). With `clock`,
    each look's time is charged to the stage `look <label>`."""
    clock = clock or StageClock()
    for look in looks:
        if not applies(look, frame):
            continue
        with clock(f"look {look.label}"):
            seen = run_look(look, frame)
        for detection in seen.detections:
            yield seen, detection, np.asarray(detection.box, dtype=np.float32) * seen.scale


def resized(frame: np.ndarray, side: int, max_upscale: float = 1.0) -> tuple[np.ndarray, float]:
    """`frame` with its longer side brought to `side` (shrunk, or enlarged by at most
    `max_upscale`), and the factor from its pixels back to the frame's."""
    h, w = frame.shape[:2]
    longest = max(h, w)
    if side <= 0 or longest == side:
        return frame, 1.0
    factor = min(side / longest, max_upscale)
    if abs(factor - 1.0) < 1e-3:
        return frame, 1.0
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return cv2.resize(frame, size, interpolation=interpolation), w / size[0]


def tiles(image: np.ndarray, tile: int) -> list[tuple[int, int, np.ndarray]]:
    """Overlapping tiles (top, left, view) covering the whole image."""
    h, w = image.shape[:2]
    th, tw = min(tile, h), min(tile, w)
    step_y = max(1, round(th * (1 - TILE_OVERLAP)))
    step_x = max(1, round(tw * (1 - TILE_OVERLAP)))
    tops = sorted({min(t, h - th) for t in range(0, max(1, h - th + step_y), step_y)})
    lefts = sorted({min(x, w - tw) for x in range(0, max(1, w - tw + step_x), step_x)})
    return [(t, x, image[t : t + th, x : x + tw]) for t in tops for x in lefts]


def merged(detections: Sequence[FaceDetection]) -> list[FaceDetection]:
    """Duplicates (tile seams) removed: the best-scoring of overlapping boxes stays."""
    kept: list[FaceDetection] = []
    for det in sorted(detections, key=lambda d: -d.score):
        if all(iou(det.box, k.box) < SAME_FACE_IOU and not _nested(det.box, k.box) for k in kept):
            kept.append(det)
    return kept


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    h = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    inter = w * h
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def _nested(a: np.ndarray, b: np.ndarray) -> bool:
    """One box's centre lies inside the other: the same face seen at two sizes."""
    return _centre_in(a, b) or _centre_in(b, a)


def _centre_in(a: np.ndarray, b: np.ndarray) -> bool:
    cx, cy = float(a[0] + a[2]) / 2, float(a[1] + a[3]) / 2
    return bool(b[0] <= cx <= b[2] and b[1] <= cy <= b[3])


def same_face(a: np.ndarray, b: np.ndarray) -> bool:
    """Full-frame boxes from two looks that show the same face."""
    return iou(a, b) >= SAME_FACE_IOU or _nested(a, b)


def _shifted(det: FaceDetection, dx: float, dy: float) -> FaceDetection:
    offset = np.array([dx, dy], dtype=np.float32)
    return FaceDetection(det.box + np.tile(offset, 2), det.landmarks5 + offset, det.score)
