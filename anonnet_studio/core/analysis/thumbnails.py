"""Small face thumbnails for the identity gallery and the timeline lanes."""

from __future__ import annotations

import cv2
import numpy as np

THUMBNAIL_SIZE = 96


def face_crop_box(
    box: np.ndarray, image_size: tuple[int, int], margin: float = 0.35
) -> tuple[int, int, int, int]:
    """Square box around a face with a margin, clipped to the image: (x0, y0, x1, y1)."""
    width, height = image_size
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(max(0, round(cx - side / 2)))
    top = int(max(0, round(cy - side / 2)))
    right = int(min(width, round(cx + side / 2)))
    bottom = int(min(height, round(cy + side / 2)))
    return left, top, max(right, left + 1), max(bottom, top + 1)


def face_thumbnail(image: np.ndarray, box: np.ndarray, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    left, top, right, bottom = face_crop_box(box, (image.shape[1], image.shape[0]))
    crop = image[top:bottom, left:right]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
