"""Redaction methods, each behind the same small interface (FaceFusion style):
`apply(frame, region, mask)` changes `frame` in place, only inside `mask`'s window,
blending the redacted pixels in through the mask's feathered alpha.

Effects are sized from the face (its box), not from the frame, so a face looks
equally redacted in a wide shot and in a close-up.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from anonnet_studio.core.anonymize.masks import SoftMask
from anonnet_studio.core.anonymize.plan import RedactionMethod, Region

# Gaussian sigma of `blur` in units of the face size at strength 1. Chosen so SFace no
# longer verifies the blurred face against the original (see tests/core/anonymize).
BLUR_SIGMA_PER_FACE = 0.12
# Work resolution of the blur: the crop is shrunk until sigma is this many pixels, which
# keeps a huge kernel on a 1080p close-up as cheap as a small one.
_BLUR_WORK_SIGMA = 3.0


class FaceRedactor(Protocol):
    """One redaction method."""

    method: RedactionMethod

    def apply(self, frame: np.ndarray, region: Region, mask: SoftMask) -> None:
        """Redact `region` in `frame` (RGB uint8, modified in place) through `mask`."""
        ...


def blend_into(frame: np.ndarray, mask: SoftMask, replacement: np.ndarray) -> None:
    """frame[window] = frame * (1 - alpha) + replacement * alpha, in place."""
    if mask.empty:
        return
    crop = frame[mask.slices]
    alpha = mask.alpha[:, :, None]
    mixed = crop.astype(np.float32) * (1.0 - alpha) + replacement.astype(np.float32) * alpha
    crop[...] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def blurred(crop: np.ndarray, face_size: float, strength: float = 1.0) -> np.ndarray:
    """A strong Gaussian blur scaled with the face size (computed at reduced resolution)."""
    sigma = max(1.0, BLUR_SIGMA_PER_FACE * strength * face_size)
    h, w = crop.shape[:2]
    scale = min(1.0, _BLUR_WORK_SIGMA / sigma)
    small_w, small_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(crop, (small_w, small_h), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma * scale, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def pixelated(crop: np.ndarray, face_size: float, blocks: int = 10) -> np.ndarray:
    """Square blocks, about `blocks` of them across the face."""
    h, w = crop.shape[:2]
    block = max(2.0, face_size / max(1, blocks))
    small_w, small_h = max(1, round(w / block)), max(1, round(h / block))
    small = cv2.resize(crop, (small_w, small_h), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def filled(crop: np.ndarray, color: tuple[int, int, int]) -> np.ndarray:
    """A solid colour of the crop's shape."""
    out = np.empty_like(crop)
    out[...] = np.asarray(color, dtype=np.uint8)
    return out


class BlurRedactor:
    method = RedactionMethod.BLUR

    def apply(self, frame: np.ndarray, region: Region, mask: SoftMask) -> None:
        if mask.empty:
            return
        crop = frame[mask.slices]
        blend_into(frame, mask, blurred(crop, region.face_size, region.person.blur_strength))


class PixelateRedactor:
    method = RedactionMethod.PIXELATE

    def apply(self, frame: np.ndarray, region: Region, mask: SoftMask) -> None:
        if mask.empty:
            return
        crop = frame[mask.slices]
        blend_into(frame, mask, pixelated(crop, region.face_size, region.person.pixel_blocks))


class MaskRedactor:
    method = RedactionMethod.MASK

    def apply(self, frame: np.ndarray, region: Region, mask: SoftMask) -> None:
        if mask.empty:
            return
        blend_into(frame, mask, filled(frame[mask.slices], region.person.mask_color))


class KeepRedactor:
    method = RedactionMethod.KEEP

    def apply(self, frame: np.ndarray, region: Region, mask: SoftMask) -> None:
        """Kept faces are left exactly as they are."""


class SyntheticFaceSource(Protocol):
    """The synthetic stage as the renderer sees it: an animated synthetic face per frame."""

    @property
    def identities(self) -> tuple[str, ...]:
        """Identity ids this source has a synthetic face for (the others are redacted)."""
        ...

    def face_patch(self, frame: np.ndarray, region: Region, mask: SoftMask) -> np.ndarray | None:
        """RGB pixels (shape of `mask.alpha` + 3) to blend over the face, or None when
        this frame has no synthetic face (the renderer then uses the fallback)."""
        ...


class SyntheticRedactor:
    """Blends the synthetic stage's face in. A frame without a synthetic face (the stage
    returned None) gets the fallback redaction (blur) and is counted per person; a stage
    that raises is left to the renderer's per-face fallback (solid fill)."""

    method = RedactionMethod.SYNTHETIC

    def __init__(self, source: SyntheticFaceSource, fallback: FaceRedactor | None = None) -> None:
        self._source = source
        self._fallback = fallback or BlurRedactor()
        self.fallback_frames: dict[str, int] = {}  # identity -> frames redacted by fallback
        self.synthetic_frames: dict[str, int] = {}  # identity -> frames with the face shown

    def apply(self, frame: np.ndarray, region: Region, mask: SoftMask) -> None:
        if mask.empty:
            return
        patch = self._source.face_patch(frame, region, mask)
        if patch is None:
            identity = region.identity_id
            self.fallback_frames[identity] = self.fallback_frames.get(identity, 0) + 1
            self._fallback.apply(frame, region, mask)
            return
        if patch.shape != (*mask.alpha.shape, 3):
            raise ValueError(
                f"synthetic face of shape {patch.shape} for a {mask.alpha.shape} mask window"
            )
        blend_into(frame, mask, patch)
        identity = region.identity_id
        self.synthetic_frames[identity] = self.synthetic_frames.get(identity, 0) + 1


def default_redactors(
    synthetic: SyntheticFaceSource | None = None,
) -> dict[RedactionMethod, FaceRedactor]:
    """One redactor per method; `synthetic` only when the synthetic stage is available."""
    redactors: dict[RedactionMethod, FaceRedactor] = {
        RedactionMethod.BLUR: BlurRedactor(),
        RedactionMethod.PIXELATE: PixelateRedactor(),
        RedactionMethod.MASK: MaskRedactor(),
        RedactionMethod.KEEP: KeepRedactor(),
    }
    if synthetic is not None:
        redactors[RedactionMethod.SYNTHETIC] = SyntheticRedactor(synthetic)
    return redactors
