"""Test doubles for the leak check: a detector keyed on image content, so which face a
look sees (and whether the blur defeats it) is certain."""

from __future__ import annotations

import numpy as np

from anonnet_studio.core.anonymize.plan import (
    PersonPlan,
    RedactionMethod,
    RenderPlan,
    TrackGeometry,
)
from anonnet_studio.core.vision.types import FaceDetection

SIZE = 60
KEPT_BOX = (20, 40)  # (x, y) of the top-left corners, in detection order
NOISE_BOX = (120, 40)
GRADIENT_BOX = (220, 40)
CONTRAST = 10.0  # std of a box above which the double sees a face


class ContrastDetector:
    """Sees a face in each fixed box while that box still has contrast."""

    def __init__(self, corners: list[tuple[int, int]], name: str = "contrast-double") -> None:
        self.name = name
        self.corners = corners
        self.calls = 0

    def detect(self, image: np.ndarray) -> list[FaceDetection]:
        self.calls += 1
        found = []
        for x, y in self.corners:
            if float(image[y : y + SIZE, x : x + SIZE].std()) > CONTRAST:
                box = np.array([x, y, x + SIZE, y + SIZE], dtype=np.float32)
                eyes = [[x + 18, y + 22], [x + 42, y + 22], [x + 30, y + 34]]
                mouth = [[x + 20, y + 46], [x + 40, y + 46]]
                landmarks = np.array(eyes + mouth, dtype=np.float32)
                found.append(FaceDetection(box, landmarks, 0.9))
        return found


class UnusedEmbedder:
    name = "unused"
    threshold = 0.4

    def embed(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        raise AssertionError("no hidden person: the check must not embed")


class BlindDetector:
    """An analysis detector that misses everything (as YuNet misses a turned head)."""

    name = "blind-double"

    def detect(self, image: np.ndarray) -> list[FaceDetection]:
        return []


def three_faces() -> np.ndarray:
    """Grey frame: a gradient face (kept), a noise face, a gradient face (strangers)."""
    rng = np.random.default_rng(16)
    frame = np.full((140, 300, 3), 128, dtype=np.uint8)
    ramp = np.linspace(0, 255, SIZE, dtype=np.float32)[None, :, None]
    for x, y in (KEPT_BOX, GRADIENT_BOX):
        frame[y : y + SIZE, x : x + SIZE] = np.broadcast_to(ramp, (SIZE, SIZE, 3)).astype(np.uint8)
    x, y = NOISE_BOX
    frame[y : y + SIZE, x : x + SIZE] = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    return frame


def kept_plan() -> RenderPlan:
    """Hide everyone but the person at KEPT_BOX; the check at native resolution."""
    x, y = KEPT_BOX
    track = TrackGeometry(
        frames=np.array([0]),
        boxes=np.array([[x, y, x + SIZE, y + SIZE]], dtype=np.float32),
        landmarks5=ContrastDetector([KEPT_BOX]).detect(three_faces())[0].landmarks5[None],
    )
    kept = PersonPlan("kept", RedactionMethod.KEEP, np.ones(4, np.float32), [track])
    return RenderPlan([kept], hide_everyone_else=True, leak_check_max_side=0)
