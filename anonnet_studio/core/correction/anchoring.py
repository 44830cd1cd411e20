"""Finding the followed face near its tracked box, and keeping the user's framing around it.

The detector runs on a crop around the box, zoomed so the face is about 112 pixels (the
size detectors and embedders like best), which catches faces the full-frame pass missed
because they were small. A user's box is usually looser than a detection; its offset and
size relative to the first detection are kept as a "relation" and re-applied to later
detections, so the box stays as the user drew it while following the detector.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from anonnet_studio.core.correction.geometry import box_iou
from anonnet_studio.core.vision.types import FaceDetection, FaceDetector

# (detection in frame coordinates, the crop it was found in, the detection in the crop)
Found = tuple[FaceDetection, np.ndarray, FaceDetection]

CROP_MARGIN = 0.75  # of the box size on each side
CROP_FACE_PX = 112.0


def detect_near(
    detector: FaceDetector, image: np.ndarray, box: np.ndarray, min_iou: float
) -> Found | None:
    """The detection overlapping `box` most (at least `min_iou`) in a crop around it."""
    height, width = image.shape[:2]
    bw, bh = float(box[2] - box[0]), float(box[3] - box[1])
    x0 = max(0, int(box[0] - CROP_MARGIN * bw))
    y0 = max(0, int(box[1] - CROP_MARGIN * bh))
    x1 = min(width, math.ceil(box[2] + CROP_MARGIN * bw))
    y1 = min(height, math.ceil(box[3] + CROP_MARGIN * bh))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    zoom = float(np.clip(CROP_FACE_PX / max(1.0, math.sqrt(bw * bh)), 0.5, 3.0))
    crop = image[y0:y1, x0:x1]
    if abs(zoom - 1.0) > 0.05:
        size = (max(8, round((x1 - x0) * zoom)), max(8, round((y1 - y0) * zoom)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)
    crop = np.ascontiguousarray(crop)
    factor = np.array([(x1 - x0) / crop.shape[1], (y1 - y0) / crop.shape[0]], dtype=np.float32)
    offset = np.array([x0, y0], dtype=np.float32)
    best, best_iou = None, min_iou
    for detection in detector.detect(crop):
        mapped = FaceDetection(
            box=detection.box * np.tile(factor, 2) + np.tile(offset, 2),
            landmarks5=detection.landmarks5 * factor + offset,
            score=detection.score,
        )
        overlap = box_iou(mapped.box, box)
        if overlap > best_iou:
            best, best_iou = (mapped, crop, detection), overlap
    return best


def relation(detection_box: np.ndarray, user_box: np.ndarray) -> np.ndarray:
    """Where `user_box` sits relative to a detection: centre offset in detection units
    and size ratio per axis (dx, dy, rw, rh)."""
    d, u = np.asarray(detection_box, np.float64), np.asarray(user_box, np.float64)
    size = np.maximum(d[2:] - d[:2], 1e-6)
    shift = ((u[:2] + u[2:]) / 2 - (d[:2] + d[2:]) / 2) / size
    return np.concatenate([shift, (u[2:] - u[:2]) / size])


def apply_relation(detection_box: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """The user's box around another detection of the same face."""
    d = np.asarray(detection_box, np.float64)
    size = d[2:] - d[:2]
    centre = (d[:2] + d[2:]) / 2 + rel[:2] * size
    half = rel[2:] * size / 2
    return np.concatenate([centre - half, centre + half]).astype(np.float32)
