"""Putting a generated FAMS face back: a feathered face mask, colour matching, paste.

FAMS regenerates the whole aligned square (hair, background, the edge of the frame
replicated into the corners), but only the face may change in the video: everything
outside a feathered face mask keeps its exact original pixels. Inside the mask the
generated face is first colour-matched to the original face (mean and spread of each Lab
channel), because diffusion drifts slightly in brightness and white balance and a
mismatch shows as a halo at the mask's edge.
"""

from __future__ import annotations

import cv2
import numpy as np

from anonnet_studio.core.synthetic.fams.alignment import AlignedPlacement, warp_to_frame
from anonnet_studio.core.synthetic.mask import (
    FaceMask,
    FaceParser,
    MaskSource,
    dilate_and_feather,
    landmark_hull_mask,
    parsing_mask,
)
from anonnet_studio.core.synthetic.settings import FACE_PARSING_CLASSES

# Colour matching never scales a channel's spread by more than this (or its inverse): a
# face half in shadow must not be flattened, nor a small face region blown up.
_MAX_SPREAD_RATIO = 1.5
# A parser hit smaller than this share of the landmark hull means parsing failed.
_MIN_PARSED_SHARE = 0.2


def aligned_face_mask(
    crop: np.ndarray,
    landmarks_crop: np.ndarray,
    *,
    dilate: float,
    feather: float,
    parser: FaceParser | None = None,
) -> FaceMask:
    """The region of the aligned crop that may change: the face-parsing face classes when
    a parser is given and finds the face, else the landmark hull with a forehead; dilated
    and feathered by `dilate` / `feather` times the crop size."""
    size = crop.shape[0]
    hull = landmark_hull_mask(landmarks_crop, size, "face")
    binary = hull
    source_name: MaskSource = "landmarks"
    if parser is not None:
        parsed = parsing_mask(parser.parse(crop), FACE_PARSING_CLASSES, landmarks_crop)
        if parsed.sum() >= _MIN_PARSED_SHARE * hull.sum():
            binary, source_name = parsed, "parsing"
    hard, alpha = dilate_and_feather(
        binary, dilate_px=round(dilate * size), feather_px=round(feather * size)
    )
    return FaceMask(pipeline_mask=hard, alpha=alpha, source=source_name)


def match_colours(generated: np.ndarray, original: np.ndarray, region: np.ndarray) -> np.ndarray:
    """`generated` (uint8 RGB) with each Lab channel's mean and spread inside `region`
    (bool) moved to those of `original` there. Unchanged when the region is empty."""
    if not region.any():
        return generated.copy()
    gen_lab = cv2.cvtColor(generated.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    ori_lab = cv2.cvtColor(original.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    gen_pixels, ori_pixels = gen_lab[region], ori_lab[region]
    gen_mean, ori_mean = gen_pixels.mean(axis=0), ori_pixels.mean(axis=0)
    gen_std, ori_std = gen_pixels.std(axis=0), ori_pixels.std(axis=0)
    ratio = np.clip(ori_std / np.maximum(gen_std, 1e-3), 1 / _MAX_SPREAD_RATIO, _MAX_SPREAD_RATIO)
    matched = (gen_lab - gen_mean) * ratio + ori_mean
    rgb = cv2.cvtColor(matched.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def blend_in_crop(original: np.ndarray, generated: np.ndarray, mask: FaceMask) -> np.ndarray:
    """The original crop with the generated face blended in by the mask's alpha; pixels
    whose alpha is 0 keep their exact value."""
    alpha = mask.alpha[..., None]
    blended = np.rint(original * (1.0 - alpha) + generated * alpha)
    return np.where(alpha > 0, blended, original).astype(np.uint8)


def paste_into_frame(
    frame: np.ndarray, crop_rgb: np.ndarray, mask: FaceMask, placement: AlignedPlacement
) -> np.ndarray:
    """A copy of `frame` with `crop_rgb` (aligned crop coordinates) blended in by the
    mask. Only frame pixels the hard mask covers may change; all others stay exact."""
    out = frame.copy()
    box = placement.frame_box()
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return out
    rgb = warp_to_frame(crop_rgb, placement, box).astype(np.float32)
    alpha = warp_to_frame(mask.alpha, placement, box)
    covered = warp_to_frame(mask.pipeline_mask, placement, box, nearest=True)
    # Resampling smears a little alpha past the mask's edge; that must stay zero.
    alpha = np.where(covered > 0, np.clip(alpha, 0.0, 1.0), 0.0)
    region = out[y0:y1, x0:x1]
    changed = alpha > 0
    blended = region.astype(np.float32) * (1.0 - alpha[..., None]) + rgb * alpha[..., None]
    region[changed] = np.clip(np.rint(blended[changed]), 0, 255).astype(out.dtype)
    return out
