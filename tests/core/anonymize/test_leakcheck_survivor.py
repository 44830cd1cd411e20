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
from anonnet_studio.core.anonymize.plan import regions_at
from tests.core.anonymize.doubles import (
    GRADIENT_BOX,
    KEPT_BOX,
    NOISE_BOX,
    SIZE,
    ContrastDetector,
    UnusedEmbedder,
    kept_plan,
    three_faces,
)


def test_a_face_that_survives_the_blur_among_others_is_filled_without_crashing() -> None:
    plan = kept_plan()
    detector = ContrastDetector([KEPT_BOX, NOISE_BOX, GRADIENT_BOX])
    checker = LeakChecker(detector, UnusedEmbedder(), plan)
    frame = three_faces()

    leaks = checker.check(frame, 0, regions_at(plan, 0))

    assert sorted(leak.box[0] for leak in leaks) == [NOISE_BOX[0], GRADIENT_BOX[0]]
    assert all(leak.covered for leak in leaks)
    # Afterwards the double finds only the kept face: the survivor got the solid fill.
    assert [d.box[0] for d in detector.detect(frame)] == [KEPT_BOX[0]]
    x, y = GRADIENT_BOX
    assert float(frame[y : y + SIZE, x : x + SIZE].std()) < 1.0
    x, y = KEPT_BOX
    assert np.array_equal(
        frame[y : y + SIZE, x : x + SIZE], three_faces()[y : y + SIZE, x : x + SIZE]
    )
