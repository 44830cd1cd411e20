"""Can the leak check see at all? A blind checker must not vouch for an export.

The leak check reports "no leak" whenever its detector finds no face in the rendered
frames. A tampered or wrong model, or broken preprocessing, finds no face anywhere, and
would then pass every export, including one where nobody was hidden. So, before a frame
is redacted, the same detector at the same scale is run on the *original* frame now and
then, where the analysis tracked a face: it must find a face there at least once. A few
confirmations are enough (the model does not change during a render), so the cost stops
after them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anonnet_studio.core.anonymize.leakcheck import downscale
from anonnet_studio.core.anonymize.plan import Region, RenderPlan
from anonnet_studio.core.vision.types import FaceDetector

# Confirmations after which the detector is known to see; probing stops then.
ENOUGH_SIGHTINGS = 3


@dataclass(frozen=True, slots=True)
class SightStats:
    frames_probed: int  # original frames with a tracked face that the detector looked at
    frames_seen: int  # ... in which it found a face on one of the tracked ones

    @property
    def blind(self) -> bool:
        """True when the detector looked where faces were and never found one."""
        return self.frames_probed > 0 and self.frames_seen == 0


class CheckerSight:
    """Probes the leak check's detector on original frames with tracked faces."""

    def __init__(self, detector: FaceDetector, plan: RenderPlan) -> None:
        self._detector = detector
        self._max_side = plan.leak_check_max_side
        self._stride = max(1, plan.residual_stride)
        self._probed = 0
        self._seen = 0

    def probe(self, original: np.ndarray, frame_index: int, regions: list[Region]) -> None:
        """Look at `original` (before redaction) if this frame is due and not yet enough."""
        tracked = [r for r in regions if not r.held]
        if self._seen >= ENOUGH_SIGHTINGS or not tracked or frame_index % self._stride:
            return
        self._probed += 1
        small, scale = downscale(original, self._max_side)
        for detection in self._detector.detect(small):
            box = np.asarray(detection.box, dtype=np.float64) * scale
            if any(_centre_inside(box, region.box) for region in tracked):
                self._seen += 1
                return

    def stats(self) -> SightStats:
        return SightStats(self._probed, self._seen)


def _centre_inside(box: np.ndarray, tracked_box: np.ndarray) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x0, y0, x1, y1 = (float(v) for v in tracked_box)
    return x0 <= cx <= x1 and y0 <= cy <= y1
