"""Inpainting masks: from a face-parsing model when one is installed, else from the
68-landmark hull; both dilated and feathered, in face or head mode.

Two masks come out: a hard one for the diffusion pipeline (what may be regenerated) and a
feathered alpha for compositing that is zero wherever the hard mask is, so pixels outside
the hard mask never change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import cv2
import numpy as np

from anonnet_studio.core.synthetic.settings import GenerationSettings, MaskMode

MaskSource = Literal["parsing", "landmarks"]

# iBUG 68-point indices.
_CHIN = 8
_NOSE_BRIDGE_TOP = 27
_BROWS = slice(17, 27)
# Forehead height above the brows, relative to the chin-to-nose-bridge distance.
_FOREHEAD_FACE = 0.35
_FOREHEAD_HEAD = 0.9
# Head mode covers hair and ears: the hull widens about its vertical axis.
_HEAD_WIDENING = 1.3


@runtime_checkable
class FaceParser(Protocol):
    """Semantic face parsing with CelebAMask-HQ labels (0 = background)."""

    name: str

    def parse(self, image: np.ndarray) -> np.ndarray:
        """(H, W) integer labels for an RGB uint8 image of shape (H, W, 3)."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class FaceMask:
    pipeline_mask: np.ndarray  # (S, S) uint8, 255 = regenerate
    alpha: np.ndarray  # (S, S) float32 in [0, 1], 0 wherever pipeline_mask is 0
    source: MaskSource


def build_face_mask(
    crop_rgb: np.ndarray,
    landmarks_crop: np.ndarray,
    settings: GenerationSettings,
    parser: FaceParser | None = None,
) -> FaceMask:
    """Mask of the face (or head) in a crop, using `parser` when given.

    Falls back to the landmark hull when the parser finds no face pixels (a profile view
    or an occluded face) so a person is never left unmasked.
    """
    size = crop_rgb.shape[0]
    binary: np.ndarray | None = None
    source: MaskSource = "landmarks"
    if parser is not None:
        labels = parser.parse(crop_rgb)
        candidate = parsing_mask(labels, settings.mask_classes, landmarks_crop)
        # A parser hit smaller than a sliver of the hull means parsing failed on this face.
        hull_area = float(landmark_hull_mask(landmarks_crop, size, settings.mask_mode).sum())
        if candidate.sum() >= 0.2 * hull_area:
            binary, source = candidate, "parsing"
    if binary is None:
        binary = landmark_hull_mask(landmarks_crop, size, settings.mask_mode)
    pipeline_mask, alpha = dilate_and_feather(
        binary,
        dilate_px=round(settings.mask_dilate * size),
        feather_px=round(settings.mask_feather * size),
    )
    return FaceMask(pipeline_mask=pipeline_mask, alpha=alpha, source=source)


def landmark_hull_mask(landmarks: np.ndarray, size: int, mode: MaskMode = "face") -> np.ndarray:
    """(size, size) uint8 {0, 1} mask: convex hull of the 68 landmarks plus a forehead
    (which the landmarks stop short of); head mode also covers hair and ears."""
    pts = np.asarray(landmarks, dtype=np.float32).reshape(-1, 2)
    if len(pts) != 68:
        raise ValueError(f"expected 68 landmarks, got {len(pts)}")
    up = pts[_NOSE_BRIDGE_TOP] - pts[_CHIN]
    forehead = _FOREHEAD_HEAD if mode == "head" else _FOREHEAD_FACE
    raised_brows = pts[_BROWS] + up * forehead
    outline = np.concatenate([pts, raised_brows])
    if mode == "head":
        # Hair and ears widen the head sideways; below, the chin stays the limit so the
        # neck and shoulders are not regenerated.
        centre_x = float(outline[:, 0].mean())
        outline[:, 0] = centre_x + (outline[:, 0] - centre_x) * _HEAD_WIDENING
    hull = cv2.convexHull(np.round(outline).astype(np.int32))
    mask = np.zeros((size, size), dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    return mask


def parsing_mask(
    labels: np.ndarray, classes: tuple[int, ...], landmarks: np.ndarray | None = None
) -> np.ndarray:
    """(H, W) uint8 {0, 1}: pixels of `classes`, the component of the face only, holes
    filled (eyes closed by glasses or teeth labelled as background stay covered)."""
    mask = np.isin(labels, np.asarray(classes)).astype(np.uint8)
    mask = keep_face_component(mask, landmarks)
    return fill_holes(mask)


def keep_face_component(mask: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
    """Keep the connected component that contains the face centre (or the largest one):
    another face or skin at the crop's edge must not be regenerated too."""
    count, components = cv2.connectedComponents(mask, connectivity=8)
    if count <= 2:
        return mask
    chosen = 0
    if landmarks is not None and len(landmarks) == 68:
        cx, cy = np.asarray(landmarks, dtype=np.float32)[30]  # nose tip
        x = int(np.clip(round(float(cx)), 0, mask.shape[1] - 1))
        y = int(np.clip(round(float(cy)), 0, mask.shape[0] - 1))
        chosen = int(components[y, x])
    if chosen == 0:
        areas = np.bincount(components.ravel())
        areas[0] = 0
        chosen = int(areas.argmax())
    return (components == chosen).astype(np.uint8)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill every background region that does not touch the border."""
    padded = np.pad(mask.astype(np.uint8), 1)
    flood = padded.copy()
    flood_mask = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), dtype=np.uint8)
    cv2.floodFill(flood, flood_mask, (0, 0), 1)
    holes = flood[1:-1, 1:-1] == 0
    filled = mask.astype(np.uint8).copy()
    filled[holes] = 1
    return filled


def dilate_and_feather(
    binary: np.ndarray, *, dilate_px: int, feather_px: int
) -> tuple[np.ndarray, np.ndarray]:
    """(hard uint8 0/255 mask, float32 alpha). The alpha ramps from 1 inside to 0 at the
    hard mask's edge, so a composite changes no pixel outside the hard mask."""
    hard: np.ndarray = binary.astype(np.uint8)
    if dilate_px > 0:
        hard = cv2.dilate(hard, _disk(dilate_px))
    alpha: np.ndarray = hard.astype(np.float32)
    if feather_px > 0:
        # Erode first so the blur's ramp ends at the hard edge instead of straddling it.
        core = cv2.erode(hard, _disk(max(1, feather_px // 2)))
        sigma = feather_px / 2.0
        alpha = cv2.GaussianBlur(core.astype(np.float32), (0, 0), sigmaX=sigma, sigmaY=sigma)
        alpha = np.clip(alpha, 0.0, 1.0) * hard
    return hard * 255, alpha.astype(np.float32)


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
