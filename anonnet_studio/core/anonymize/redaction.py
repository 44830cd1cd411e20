"""Redacting the faces of one frame in memory, with fallbacks that never show the original.

A `synthetic` person without an available synthetic stage is blurred instead (recorded
once per person). A method that raises for a face covers that face with a solid fill.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from anonnet_studio.core.anonymize.areas import redact_areas
from anonnet_studio.core.anonymize.masks import ellipse_mask
from anonnet_studio.core.anonymize.methods import FaceRedactor, blend_into, filled
from anonnet_studio.core.anonymize.plan import RedactionMethod, Region, RenderPlan, regions_at

_log = logging.getLogger(__name__)

FALLBACK_METHOD = RedactionMethod.BLUR


@dataclass(frozen=True, slots=True)
class FaceFailure:
    """A face whose method raised; it was covered with a solid fill instead."""

    frame_index: int
    identity_id: str
    method: RedactionMethod
    error: str


@dataclass(slots=True)
class RedactionLog:
    """What the frame redactor had to fall back on during a render."""

    # identity -> why its method was replaced for the whole render
    method_fallbacks: dict[str, str] = field(default_factory=dict)
    failures: list[FaceFailure] = field(default_factory=list)
    max_failures_kept: int = 1000  # bound the log on a long, badly failing render
    failure_count: int = 0


def redact_frame(
    redactor: FrameRedactor,
    frame: np.ndarray,
    plan: RenderPlan,
    frame_index: int,
    regions: list[Region] | None = None,
) -> list[Region]:
    """Redact the faces of `frame_index` (`regions`, looked up when not given), then its
    regions that are not faces, in place. Returns the face regions, which the leak check
    needs. The export and the preview both go through here, so they always agree."""
    if regions is None:
        regions = regions_at(plan, frame_index)
    redactor.redact(frame, regions)
    redactor.log.failure_count += redact_areas(frame, plan, frame_index)
    return regions


class FrameRedactor:
    """Applies each hidden region's method to a frame in place."""

    def __init__(self, redactors: dict[RedactionMethod, FaceRedactor]) -> None:
        self._redactors = redactors
        self.log = RedactionLog()

    def redact(self, frame: np.ndarray, regions: list[Region]) -> None:
        """Redact every hidden region of `frame` (RGB uint8, modified in place)."""
        height, width = frame.shape[:2]
        for region in regions:
            if not region.method.hides:
                continue
            mask = ellipse_mask(region.ellipse, width, height)
            if mask.empty:
                continue
            redactor = self._redactor_for(region)
            try:
                redactor.apply(frame, region, mask)
            except Exception as exc:  # any failure must still hide the face
                self._record_failure(region, exc)
                blend_into(frame, mask, filled(frame[mask.slices], region.person.mask_color))

    def _redactor_for(self, region: Region) -> FaceRedactor:
        redactor = self._redactors.get(region.method)
        if redactor is not None:
            return redactor
        identity = region.identity_id
        if identity not in self.log.method_fallbacks:
            self.log.method_fallbacks[identity] = (
                f"{region.method.value} is not available; rendered with {FALLBACK_METHOD.value}"
            )
        return self._redactors[FALLBACK_METHOD]

    def _record_failure(self, region: Region, exc: Exception) -> None:
        self.log.failure_count += 1
        if len(self.log.failures) < self.log.max_failures_kept:
            self.log.failures.append(
                FaceFailure(region.frame_index, region.identity_id, region.method, repr(exc))
            )
        if self.log.failure_count == 1:
            _log.warning(
                "%s failed for %s in frame %d; the face was covered with a solid fill: %r",
                region.method.value,
                region.identity_id,
                region.frame_index,
                exc,
            )
