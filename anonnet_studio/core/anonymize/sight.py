"""Can the leak check see at all? A blind checker must not vouch for an export.

The leak check reports "no leak" whenever its detectors find no face in the rendered
frames. A tampered or wrong model, or broken preprocessing, finds no face anywhere, and
would then pass every export, including one where nobody was hidden. So, before a frame
is redacted, the check's own looks (same detectors, same scales) are run on the
*original* frame now and then, where the analysis tracked a face: one of them must find a
face there at least once. The check sees when any of its looks sees (a second look exists
precisely to see what the first misses). A few confirmations are enough (the models do
not change during a render), so the cost stops after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from anonnet_studio.core.anonymize.looks import Look, faces_seen
from anonnet_studio.core.anonymize.plan import Region, RenderPlan

# Confirmations after which the detector is known to see; probing stops then.
ENOUGH_SIGHTINGS = 3


@dataclass(frozen=True, slots=True)
class SightStats:
    frames_probed: int  # original frames with a tracked face that the check looked at
    frames_seen: int  # ... in which one of its looks found a face on a tracked one
    seen_by: dict[str, int] = field(default_factory=dict)  # look label -> such frames

    @property
    def blind(self) -> bool:
        """True when the check looked where faces were and never found one."""
        return self.frames_probed > 0 and self.frames_seen == 0


class CheckerSight:
    """Probes the leak check's looks on original frames with tracked faces."""

    def __init__(self, looks: Sequence[Look], plan: RenderPlan) -> None:
        self._looks = list(looks)
        self._stride = max(1, plan.residual_stride)
        self._probed = 0
        self._seen_by: dict[str, int] = {}

    def probe(self, original: np.ndarray, frame_index: int, regions: list[Region]) -> None:
        """Look at `original` (before redaction) if this frame is due and not yet enough."""
        tracked = [r for r in regions if not r.held]
        seen = sum(self._seen_by.values())
        if seen >= ENOUGH_SIGHTINGS or not tracked or frame_index % self._stride:
            return
        self._probed += 1
        for found, _, box in faces_seen(self._looks, original):
            if any(_centre_inside(box, region.box) for region in tracked):
                label = found.look.label
                self._seen_by[label] = self._seen_by.get(label, 0) + 1
                return

    def stats(self) -> SightStats:
        return SightStats(self._probed, sum(self._seen_by.values()), dict(self._seen_by))


def _centre_inside(box: np.ndarray, tracked_box: np.ndarray) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x0, y0, x1, y1 = (float(v) for v in tracked_box)
    return x0 <= cx <= x1 and y0 <= cy <= y1
