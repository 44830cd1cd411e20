"""Put an animated synthetic face into the ORIGINAL frame.

Only the face-shaped, feathered mask window changes (the renderer's `SoftMask`: a rotated
ellipse around the face, feathered outwards), never the crop square, so the background,
hair and body stay live. The face is colour-matched to the frame first: mean and standard
deviation transfer in Lab inside the mask, so it follows the shot's lighting.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from anonnet_studio.core.anonymize.masks import SoftMask
from anonnet_studio.core.anonymize.methods import blend_into

Window = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels (x1, y1 exclusive)
# Where an animated face's source image ends, it fades out over this fraction of the image
# size instead of smearing its edge pixels across the rest of the mask.
COVERAGE_FEATHER = 0.04

# The statistics use the opaque core of the mask, not its feather (which mixes in the
# surroundings), and the std ratio is bounded so a dark or flat frame cannot blow up noise.
STATS_MIN_ALPHA = 0.99
MIN_GAIN, MAX_GAIN = 0.5, 2.0
# Per-track exponential smoothing of the colour statistics: lighting changes slowly, while
# per-frame statistics flicker with the expression (an opening mouth darkens the face).
STATS_SMOOTHING = 0.2  # weight of the newest frame
MIN_STATS_PIXELS = 16


@dataclass(frozen=True, slots=True, eq=False)
class AnimatedPatch:
    """An animated face resampled into a mask window."""

    rgb: np.ndarray  # (h, w, 3) uint8
    # (h, w) float32 in 0..1: how much of each pixel the face's source image really
    # covers; None when it covers all. Uncovered pixels lie far outside the face (hair,
    # background) and show the live frame instead of smeared edge pixels.
    coverage: np.ndarray | None = None


def mask_window(mask: SoftMask) -> Window:
    return mask.x0, mask.y0, mask.x1, mask.y1


def edge_coverage(
    map_x: np.ndarray, map_y: np.ndarray, width: int, height: int
) -> np.ndarray | None:
    """Coverage (see `AnimatedPatch`) of sampling positions in a `width` x `height` image:
    1 inside, ramping to 0 at its border. None when every position is well inside."""
    feather = max(2.0, COVERAGE_FEATHER * max(width, height))
    distance = np.minimum(
        np.minimum(map_x, (width - 1) - map_x), np.minimum(map_y, (height - 1) - map_y)
    )
    if float(distance.min()) >= feather:
        return None
    return np.clip(distance / np.float32(feather), 0.0, 1.0).astype(np.float32)


def affine_coverage(
    image_to_target: np.ndarray, image_shape: tuple[int, ...], size: int
) -> np.ndarray | None:
    """`edge_coverage` of a `size` x `size` target that an image is resampled into through
    the 3x3 affine `image_to_target`."""
    from_target = np.linalg.inv(image_to_target)
    grid = np.arange(size, dtype=np.float32)
    map_x = from_target[0, 0] * grid[None, :] + from_target[0, 1] * grid[:, None]
    map_y = from_target[1, 0] * grid[None, :] + from_target[1, 1] * grid[:, None]
    map_x, map_y = map_x + from_target[0, 2], map_y + from_target[1, 2]
    return edge_coverage(map_x, map_y, image_shape[1], image_shape[0])


def with_frame_outside_coverage(patch: AnimatedPatch, frame_window: np.ndarray) -> np.ndarray:
    """The patch's pixels where its source covers them, the live frame where it does not."""
    if patch.coverage is None:
        return patch.rgb
    alpha = patch.coverage[..., None]
    mixed = patch.rgb.astype(np.float32) * alpha + frame_window.astype(np.float32) * (1 - alpha)
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def warp_into_window(
    image: np.ndarray, to_frame: np.ndarray, window: Window, *, replicate_border: bool = True
) -> np.ndarray:
    """Resample `image` (e.g. an animated crop) into the frame window (x0, y0, x1, y1).

    `to_frame` is the 2x3 affine matrix from `image` pixels to frame pixels. Window pixels
    that `image` does not reach repeat its edge (never an original pixel), or are 0 when
    `replicate_border` is False.
    """
    x0, y0, x1, y1 = window
    matrix = np.asarray(to_frame, dtype=np.float64).copy()
    matrix[:, 2] -= (x0, y0)
    return cv2.warpAffine(
        image,
        matrix,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE if replicate_border else cv2.BORDER_CONSTANT,
        borderValue=0,
    )


@dataclass(frozen=True, slots=True, eq=False)
class LabStats:
    mean: np.ndarray  # (3,) L, a, b
    std: np.ndarray  # (3,)

    def mixed(self, newer: LabStats, weight: float) -> LabStats:
        return LabStats(
            self.mean + weight * (newer.mean - self.mean),
            self.std + weight * (newer.std - self.std),
        )


def to_lab(image: np.ndarray) -> np.ndarray:
    """RGB uint8 -> float32 Lab (L in 0..100)."""
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def from_lab(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def lab_stats(lab: np.ndarray, weights: np.ndarray) -> LabStats | None:
    """Mean and std per Lab channel over the pixels where `weights` > 0.5, or None when
    there are too few of them. Every other pixel is used: the statistics barely change
    and the cost halves twice."""
    return _sampled_stats(lab[::2, ::2], weights)


def image_lab_stats(rgb: np.ndarray, weights: np.ndarray) -> LabStats | None:
    """`lab_stats` of an RGB image, converting only the pixels it uses."""
    return _sampled_stats(to_lab(np.ascontiguousarray(rgb[::2, ::2])), weights)


def _sampled_stats(sampled_lab: np.ndarray, weights: np.ndarray) -> LabStats | None:
    inside = (np.asarray(weights)[::2, ::2] > 0.5).astype(np.uint8)
    if int(inside.sum()) < MIN_STATS_PIXELS:
        return None
    mean, std = cv2.meanStdDev(np.ascontiguousarray(sampled_lab), mask=inside)
    return LabStats(mean.ravel(), np.maximum(std.ravel(), 1e-3))


def transfer_lab(lab: np.ndarray, source: LabStats, target: LabStats) -> np.ndarray:
    """Shift and scale Lab pixels from `source` statistics to `target` statistics."""
    gain = np.clip(target.std / source.std, MIN_GAIN, MAX_GAIN)
    offset = target.mean - source.mean * gain
    return lab * gain.astype(np.float32) + offset.astype(np.float32)


def stats_weights(mask: SoftMask, coverage: np.ndarray | None = None) -> np.ndarray:
    """Pixels the colour statistics use: the mask's opaque core, where the face's source
    covers it."""
    core = mask.alpha >= STATS_MIN_ALPHA
    if coverage is not None:
        core &= coverage > 0.5
    return core.astype(np.float32)


def match_colour(patch: np.ndarray, reference: np.ndarray, mask: SoftMask) -> np.ndarray:
    """`patch` with its Lab mean/std inside the mask's core moved to those of `reference`
    (both RGB uint8 of the mask window's shape). Unchanged when the core is too small."""
    weights = stats_weights(mask)
    patch_lab = to_lab(patch)
    source, target = lab_stats(patch_lab, weights), image_lab_stats(reference, weights)
    if source is None or target is None:
        return patch
    return from_lab(transfer_lab(patch_lab, source, target))


class ColourMatcher:
    """`match_colour` with the statistics smoothed over time per key (one key per track),
    so the face does not flicker with per-frame changes of the original's statistics."""

    def __init__(self, smoothing: float = STATS_SMOOTHING) -> None:
        self._smoothing = smoothing
        self._state: dict[object, tuple[LabStats, LabStats]] = {}

    def match(
        self,
        key: object,
        patch: np.ndarray,
        reference: np.ndarray,
        mask: SoftMask,
        coverage: np.ndarray | None = None,
    ) -> np.ndarray:
        weights = stats_weights(mask, coverage)
        patch_lab = to_lab(patch)
        source, target = lab_stats(patch_lab, weights), image_lab_stats(reference, weights)
        if source is None or target is None:
            return patch
        previous = self._state.get(key)
        if previous is not None:
            source = previous[0].mixed(source, self._smoothing)
            target = previous[1].mixed(target, self._smoothing)
        self._state[key] = (source, target)
        return from_lab(transfer_lab(patch_lab, source, target))

    def forget(self, key: object) -> None:
        self._state.pop(key, None)


def composite_face(frame: np.ndarray, patch: np.ndarray, mask: SoftMask) -> np.ndarray:
    """A copy of `frame` with `patch` (RGB of the mask window) blended in through the mask.
    Pixels where the mask is 0 keep their exact original values."""
    out = frame.copy()
    blend_into(out, mask, patch)
    return out
