"""Regression (issue 16): several faces in a frame, one of which survives the leak
check's blur and must get the solid fill. Face records hold arrays; removing the survivor
from the list compared them by value and crashed the export.

The detector here is a test double keyed on image content, so which face survives is
certain: it "sees" a face in a fixed box while that box still has contrast. A noise face
loses its contrast under the blur; a smooth gradient face keeps it (a Gaussian blur leaves
a linear ramp unchanged) until the fill.
"""

from __future__ import annotations

import numpy as np

from anonnet_studio.core.anonymize.leakcheck import LeakChecker
from anonnet_studio.core.anonymize.plan import (
    PersonPlan,
    RedactionMethod,
    RenderPlan,
    TrackGeometry,
    regions_at,
)
from anonnet_studio.core.vision.types import FaceDetection

SIZE = 60
KEPT_BOX = (20, 40)  # (x, y) of the top-left corners, in detection order
NOISE_BOX = (120, 40)
GRADIENT_BOX = (220, 40)
CONTRAST = 10.0  # std of a box above which the double sees a face


class ContrastDetector:
    name = "contrast-double"

    def __init__(self, corners: list[tuple[int, int]]) -> None:
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


def _frame() -> np.ndarray:
    rng = np.random.default_rng(16)
    frame = np.full((140, 300, 3), 128, dtype=np.uint8)
    ramp = np.linspace(0, 255, SIZE, dtype=np.float32)[None, :, None]
    for x, y in (KEPT_BOX, GRADIENT_BOX):
        frame[y : y + SIZE, x : x + SIZE] = np.broadcast_to(ramp, (SIZE, SIZE, 3)).astype(np.uint8)
    x, y = NOISE_BOX
    frame[y : y + SIZE, x : x + SIZE] = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    return frame


def _kept_plan() -> RenderPlan:
    x, y = KEPT_BOX
    track = TrackGeometry(
        frames=np.array([0]),
        boxes=np.array([[x, y, x + SIZE, y + SIZE]], dtype=np.float32),
        landmarks5=ContrastDetector([KEPT_BOX]).detect(_frame())[0].landmarks5[None],
    )
    kept = PersonPlan("kept", RedactionMethod.KEEP, np.ones(4, np.float32), [track])
    return RenderPlan([kept], hide_everyone_else=True, leak_check_max_side=0)


def test_a_face_that_survives_the_blur_among_others_is_filled_without_crashing() -> None:
    plan = _kept_plan()
    detector = ContrastDetector([KEPT_BOX, NOISE_BOX, GRADIENT_BOX])
    checker = LeakChecker(detector, UnusedEmbedder(), plan)
    frame = _frame()

    leaks = checker.check(frame, 0, regions_at(plan, 0))

    assert sorted(leak.box[0] for leak in leaks) == [NOISE_BOX[0], GRADIENT_BOX[0]]
    assert all(leak.covered for leak in leaks)
    # Afterwards the double finds only the kept face: the survivor got the solid fill.
    assert [d.box[0] for d in detector.detect(frame)] == [KEPT_BOX[0]]
    x, y = GRADIENT_BOX
    assert float(frame[y : y + SIZE, x : x + SIZE].std()) < 1.0
    x, y = KEPT_BOX
    assert np.array_equal(frame[y : y + SIZE, x : x + SIZE], _frame()[y : y + SIZE, x : x + SIZE])
