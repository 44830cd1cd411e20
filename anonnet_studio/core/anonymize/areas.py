"""Redacting regions that are not faces: name tags, captions, screens, documents, plates.

Unlike a face, such a region is mostly text or fine detail, so its effect is sized from
the region's shorter side (a caption's line height), not from its mean size: a blur of a
quarter of the line height, or pixel blocks a third of it, leaves no letter readable.
The mask is the rectangle or ellipse itself, fully opaque, with a feather that only
grows outwards. Any failure covers the region with a solid fill.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from anonnet_studio.core.anonymize.masks import Ellipse, SoftMask, box_mask, ellipse_mask
from anonnet_studio.core.anonymize.methods import blend_into, filled
from anonnet_studio.core.anonymize.plan import AreaPlan, RedactionMethod, RenderPlan

_log = logging.getLogger(__name__)

AREA_BLUR_SIGMA_PER_SIDE = 0.25  # of the shorter side
AREA_PIXEL_BLOCK_PER_SIDE = 1 / 3  # of the shorter side
AREA_FEATHER_PER_SIDE = 0.08  # outward feather, of the shorter side


def areas_at(plan: RenderPlan, frame_index: int) -> list[tuple[AreaPlan, np.ndarray]]:
    """(area, box) of every area with a box in `frame_index`, in plan order."""
    found = []
    for area in plan.areas:
        box = area.box_at(frame_index)
        if box is not None:
            found.append((area, box))
    return found


def area_mask(area: AreaPlan, box: np.ndarray, frame_w: int, frame_h: int) -> SoftMask:
    """The area's opaque shape with an outward feather, rendered in a window around it."""
    box = np.asarray(box, dtype=np.float64)
    short = max(1.0, float(min(box[2] - box[0], box[3] - box[1])))
    feather = max(1.0, AREA_FEATHER_PER_SIDE * short)
    if area.shape == "ellipse":
        ellipse = Ellipse(
            cx=float(box[0] + box[2]) / 2,
            cy=float(box[1] + box[3]) / 2,
            semi_x=float(box[2] - box[0]) / 2,
            semi_y=float(box[3] - box[1]) / 2,
            angle=0.0,
            feather=feather,
        )
        return ellipse_mask(ellipse, frame_w, frame_h)
    return box_mask(box, feather, frame_w, frame_h)


def redacted_pixels(crop: np.ndarray, area: AreaPlan, short_side: float) -> np.ndarray:
    """The crop as the area's method renders it."""
    if area.method is RedactionMethod.MASK:
        return filled(crop, area.mask_color)
    h, w = crop.shape[:2]
    if area.method is RedactionMethod.PIXELATE:
        block = max(2.0, AREA_PIXEL_BLOCK_PER_SIDE * short_side)
        small = cv2.resize(
            crop, (max(1, round(w / block)), max(1, round(h / block))), interpolation=cv2.INTER_AREA
        )
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    sigma = max(2.0, AREA_BLUR_SIGMA_PER_SIDE * short_side)
    scale = min(1.0, 3.0 / sigma)  # blur at reduced size: a huge kernel stays cheap
    small = cv2.resize(
        crop, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), sigma * scale, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def redact_areas(frame: np.ndarray, plan: RenderPlan, frame_index: int) -> int:
    """Redact every area of `frame_index` in `frame` (RGB uint8, in place); returns how
    many areas failed and were covered with a solid fill instead."""
    height, width = frame.shape[:2]
    failures = 0
    for area, box in areas_at(plan, frame_index):
        mask = area_mask(area, box, width, height)
        if mask.empty:
            continue
        try:
            short = float(min(box[2] - box[0], box[3] - box[1]))
            blend_into(frame, mask, redacted_pixels(frame[mask.slices], area, short))
        except Exception as exc:  # never leave the region as it was
            failures += 1
            _log.warning(
                "area %r failed in frame %d; filled instead: %r", area.name, frame_index, exc
            )
            blend_into(frame, mask, filled(frame[mask.slices], area.mask_color))
    return failures
