"""The anonymity check: aligned-face comparison with real embedded models, the retry
loop's escalation, and one identity per person."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from anonnet_studio.core.progress import Progress
from anonnet_studio.core.synthetic.crop import extract_crop, plan_crop
from anonnet_studio.core.synthetic.generator import STAGE_PREPARE, SyntheticFaceGenerator
from anonnet_studio.core.synthetic.identity import IdentityBook
from anonnet_studio.core.synthetic.settings import (
    EscalationSchedule,
    GenerationSettings,
    escalated,
)
from anonnet_studio.core.synthetic.verify import (
    EmbeddingVerifier,
    IdentityComparison,
    VerifiedResult,
    detection_from_landmarks,
    generate_verified,
)
from anonnet_studio.core.vision.factory import VisionModels
from tests.core.synthetic.conftest import Keyframe, read_frame

PROMPT = "A photorealistic portrait of a adult White man"
# One extra step per retry instead of five keeps the test fast; strength and guidance use
# the default schedule (the defaults themselves are checked in test_synthetic_settings).
BASE = GenerationSettings(
    seed=2024,
    steps=2,
    strength=0.9,
    max_side=64,
    min_side=64,
    escalation=EscalationSchedule(steps_step=1),
)


class ScriptedVerifier:
    """Reports the given distances in turn (threshold 0.5): stands in for the embedder so
    the retry loop can be driven through every branch."""

    threshold = 0.5

    def __init__(self, distances: list[float], faces: list[bool] | None = None) -> None:
        self._readings = iter(zip(distances, faces or [True] * len(distances), strict=True))
        self.calls = 0

    def compare(
        self, original_crop: np.ndarray, generated_crop: np.ndarray, landmarks_crop: np.ndarray
    ) -> IdentityComparison:
        assert original_crop.shape == generated_crop.shape
        self.calls += 1
        distance, face_found = next(self._readings)
        return IdentityComparison(distance, self.threshold, face_found=face_found)


@pytest.fixture()
def unet_calls(fast_generator: SyntheticFaceGenerator) -> Iterator[list[int]]:
    calls: list[int] = []
    handle = fast_generator.pipeline.unet.register_forward_hook(lambda *_: calls.append(1))
    yield calls
    handle.remove()


def _verified(
    generator: SyntheticFaceGenerator,
    keyframe: Keyframe,
    verifier: ScriptedVerifier,
    events: list[Progress] | None = None,
) -> VerifiedResult:
    return generate_verified(
        generator,
        verifier,
        keyframe.frame,
        keyframe.box,
        keyframe.landmarks68,
        PROMPT,
        "",
        BASE,
        on_progress=None if events is None else events.append,
    )


def test_retries_escalate_while_the_face_still_matches(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe, unet_calls: list[int]
) -> None:
    # Always below the threshold: the original person is recognised every time.
    verifier = ScriptedVerifier([0.1, 0.3, 0.2, 0.25])
    events: list[Progress] = []
    verified = _verified(fast_generator, keyframe, verifier, events)

    assert verified.needs_attention
    assert len(verified.attempts) == 4 == verifier.calls  # first try + 3 retries
    expected = [BASE] + [escalated(BASE, n) for n in (1, 2, 3)]
    assert [a.strength for a in verified.attempts] == [0.9, 0.95, 1.0, 1.0]
    assert [a.guidance for a in verified.attempts] == [8.0, 9.0, 10.0, 11.0]
    assert [a.steps for a in verified.attempts] == [2, 3, 4, 5]
    assert [a.seed for a in verified.attempts] == [s.seed for s in expected]
    assert len({a.seed for a in verified.attempts}) == 4
    assert [a.distance for a in verified.attempts] == [0.1, 0.3, 0.2, 0.25]
    assert not any(a.passed for a in verified.attempts)
    # The pipeline really ran each attempt with its escalated settings.
    assert len(unet_calls) == sum(s.effective_steps for s in expected) == 1 + 2 + 4 + 5
    # Crop, mask and control images are computed once, not once per attempt.
    assert sum(e.stage == STAGE_PREPARE and "control images" in e.message for e in events) == 1
    assert "attempt 4 of up to 4" in events[-1].message
    # Least recognisable attempt is kept for review.
    assert verified.chosen_index == 1
    assert verified.chosen.settings == expected[1]


def test_stops_at_the_first_attempt_that_no_longer_matches(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe
) -> None:
    verifier = ScriptedVerifier([0.2, 0.7, 0.9])
    verified = _verified(fast_generator, keyframe, verifier)
    assert not verified.needs_attention
    assert [a.passed for a in verified.attempts] == [False, True]
    assert verified.chosen_index == 1 and verifier.calls == 2
    assert verified.chosen.settings == escalated(BASE, 1)


def test_a_result_without_a_face_is_neither_passed_nor_preferred(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe
) -> None:
    verifier = ScriptedVerifier([0.9, 0.2, 0.3, 0.25], faces=[False, True, True, True])
    verified = _verified(fast_generator, keyframe, verifier)
    assert [a.passed for a in verified.attempts] == [False] * 4
    assert verified.needs_attention
    assert verified.chosen_index == 2, "the least similar attempt that shows a face"


def _crop_at(frame: np.ndarray, keyframe: Keyframe) -> tuple[np.ndarray, np.ndarray]:
    placement = plan_crop(
        keyframe.box,
        keyframe.landmarks68,
        keyframe.frame.shape,
        crop_scale=1.8,
        size_limits=(256, 256),
    )
    return extract_crop(frame, placement), placement.frame_to_crop(keyframe.landmarks68)


def test_embedding_verifier_compares_aligned_faces(
    keyframe: Keyframe, vision: VisionModels
) -> None:
    verifier = EmbeddingVerifier(vision.embedder, vision.detector)
    original, landmarks = _crop_at(keyframe.frame, keyframe)
    # Same man five seconds later, cut at the same place: still him.
    later, _ = _crop_at(read_frame("lp_d18.mp4", 150), keyframe)
    same = verifier.compare(original, later, landmarks)
    assert same.same_person and same.face_found and same.note == ""
    # Another man in the same framing: not him.
    stranger, _ = _crop_at(read_frame("lp_d19.mp4", 30), keyframe)
    other = verifier.compare(original, stranger, landmarks)
    assert not other.same_person and other.anonymous
    assert other.distance > 2 * same.distance


def test_embedding_verifier_without_a_detectable_face(
    keyframe: Keyframe, vision: VisionModels
) -> None:
    verifier = EmbeddingVerifier(vision.embedder, vision.detector)
    original, landmarks = _crop_at(keyframe.frame, keyframe)
    blank = np.full_like(original, 128)
    comparison = verifier.compare(original, blank, landmarks)
    assert "no face detected" in comparison.note
    assert not comparison.same_person and not comparison.face_found
    assert not comparison.anonymous, "a result without a face is not a usable synthetic face"


def test_detection_from_landmarks_uses_yunet_point_order(keyframe: Keyframe) -> None:
    detection = detection_from_landmarks(keyframe.landmarks68)
    right_eye, left_eye, nose, mouth_r, mouth_l = detection.landmarks5
    assert right_eye[0] < left_eye[0] and mouth_r[0] < mouth_l[0]  # image-left first
    assert right_eye[1] < nose[1] < mouth_r[1]
    x0, y0, x1, y1 = detection.box
    assert x0 < nose[0] < x1 and y0 < right_eye[1] < y1


def test_identity_book_generates_once_per_person(
    fast_generator: SyntheticFaceGenerator, keyframe: Keyframe
) -> None:
    book = IdentityBook()
    created: list[str] = []

    def create() -> VerifiedResult:
        created.append("p1")
        return _verified(fast_generator, keyframe, ScriptedVerifier([0.9]))

    first = book.get_or_create("p1", 30, PROMPT, create)
    second_shot = book.get_or_create("p1", 200, PROMPT, create)
    assert second_shot is first and created == ["p1"]
    assert first.seed == BASE.seed and not first.needs_attention
    assert first.face_crop.shape == (64, 64, 3)
    book.forget("p1")
    assert "p1" not in book and len(book) == 0
