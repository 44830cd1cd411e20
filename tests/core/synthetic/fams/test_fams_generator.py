"""FAMS end to end on real footage with tiny random-weight models loaded through the real
model manager and loader: sizes, only the face changes, seeds, cancel, progress, and
several faces in one frame."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import cv2
import numpy as np
import pytest

from anonnet_studio.core.errors import OperationCancelled
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.progress import CancelToken, Progress
from anonnet_studio.core.synthetic.devices import select_device
from anonnet_studio.core.synthetic.fams.alignment import warp_to_frame
from anonnet_studio.core.synthetic.fams.generator import (
    STAGE_DENOISE,
    STAGE_PREPARE,
    FaceRequest,
    FamsFaceGenerator,
    FamsResult,
)
from anonnet_studio.core.synthetic.fams.settings import FamsSettings
from anonnet_studio.core.vision.factory import VisionModels
from tests.conftest import fixture_image
from tests.core.synthetic.conftest import Keyframe
from tests.core.synthetic.fams.tiny_fams import FACE_SIZE

SETTINGS = FamsSettings(seed=1234, steps=3, face_size=FACE_SIZE)


@pytest.fixture(scope="module")
def generator(fams_manager: ModelManager) -> FamsFaceGenerator:
    """Loaded the way the product loads it: every model through the manager's resolver
    (the optional face parser is not installed here, so masks come from landmarks)."""
    return FamsFaceGenerator.load(fams_manager.resolve, select_device("cpu"))


@pytest.fixture(scope="module")
def result(generator: FamsFaceGenerator, keyframe: Keyframe) -> FamsResult:
    return generator.generate(keyframe.frame, keyframe.box, keyframe.landmarks68, SETTINGS)


@pytest.fixture()
def unet_calls(generator: FamsFaceGenerator) -> Iterator[list[int]]:
    """Counts denoising UNet passes (one per step; both guidance branches are batched)."""
    calls: list[int] = []
    handle = generator.pipeline.unet.register_forward_hook(lambda *_: calls.append(1))
    yield calls
    handle.remove()


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def _mask_in_frame(result: FamsResult, frame_shape: tuple[int, ...]) -> np.ndarray:
    """The hard mask resampled onto the whole frame (True where pixels may change)."""
    covered = np.zeros(frame_shape[:2], bool)
    x0, y0, x1, y1 = box = result.placement.frame_box()
    warped = warp_to_frame(result.mask.pipeline_mask, result.placement, box, nearest=True)
    covered[y0:y1, x0:x1] = warped > 0
    return covered


def test_loads_every_model_through_the_manager(generator: FamsFaceGenerator) -> None:
    pipe = generator.pipeline
    assert type(pipe.scheduler).__name__ == "DDPMScheduler"
    assert pipe.scheduler.config.prediction_type == "v_prediction"  # SD 2.1's schedule
    assert pipe.unet.config.cross_attention_dim == pipe.image_encoder.config.hidden_size
    assert pipe.vae_scale_factor == 8
    assert generator.parser is None  # optional, not installed


def test_output_sizes(result: FamsResult, keyframe: Keyframe) -> None:
    assert result.generated_crop.shape == (FACE_SIZE, FACE_SIZE, 3)
    assert result.composited_crop.shape == (FACE_SIZE, FACE_SIZE, 3)
    assert result.mask.alpha.shape == (FACE_SIZE, FACE_SIZE)
    assert result.composited_frame.shape == keyframe.frame.shape
    assert result.composited_frame.dtype == np.uint8
    assert result.placement.size == FACE_SIZE
    assert result.backend == "fams" and result.settings == SETTINGS


def test_only_the_face_region_changes(
    generator: FamsFaceGenerator, result: FamsResult, keyframe: Keyframe
) -> None:
    changed = _changed(result.composited_frame, keyframe.frame)
    assert changed.sum() > 2000, "the face must actually be replaced"
    assert not (changed & ~_mask_in_frame(result, keyframe.frame.shape)).any()
    # The mask is the face: its frame region sits on the detected face box.
    ys, xs = np.nonzero(changed)
    x0, y0, x1, y1 = keyframe.box
    inside = (xs >= x0 - 10) & (xs <= x1 + 10) & (ys >= y0 - 40) & (ys <= y1 + 10)
    assert inside.mean() > 0.95
    # Crop space: the composite is the original wherever the alpha is zero.
    prepared = generator.prepare(keyframe.frame, keyframe.box, keyframe.landmarks68, SETTINGS)
    zero = result.mask.alpha == 0
    assert zero.any() and (~zero).any()
    assert np.array_equal(result.composited_crop[zero], prepared.crop[zero])
    assert not np.array_equal(result.composited_crop[~zero], prepared.crop[~zero])


def test_the_same_seed_gives_the_same_face(
    generator: FamsFaceGenerator, keyframe: Keyframe, result: FamsResult
) -> None:
    again = generator.generate(keyframe.frame, keyframe.box, keyframe.landmarks68, SETTINGS)
    assert np.array_equal(again.composited_frame, result.composited_frame)
    other = generator.generate(
        keyframe.frame, keyframe.box, keyframe.landmarks68, replace(SETTINGS, seed=4321)
    )
    assert not np.array_equal(other.generated_crop, result.generated_crop)


def test_cancel_stops_within_one_step(
    generator: FamsFaceGenerator, keyframe: Keyframe, unet_calls: list[int]
) -> None:
    token = CancelToken()

    def cancel_after_first_step(progress: Progress) -> None:
        if progress.stage == STAGE_DENOISE and progress.done == 1:
            token.cancel()

    with pytest.raises(OperationCancelled):
        generator.generate(
            keyframe.frame,
            keyframe.box,
            keyframe.landmarks68,
            replace(SETTINGS, steps=10),
            on_progress=cancel_after_first_step,
            cancel=token,
        )
    assert len(unet_calls) == 1


def test_progress_counts_every_step(generator: FamsFaceGenerator, keyframe: Keyframe) -> None:
    seen: list[Progress] = []
    generator.generate(
        keyframe.frame, keyframe.box, keyframe.landmarks68, SETTINGS, on_progress=seen.append
    )
    assert seen[0].stage == STAGE_PREPARE and seen[0].total == SETTINGS.steps
    assert "CPU" in seen[0].message  # the slow-device warning rides on the first update
    denoise = [p.done for p in seen if p.stage == STAGE_DENOISE]
    assert denoise == list(range(1, SETTINGS.steps + 1))


def test_colour_matching_pulls_the_face_to_the_original_colours(
    generator: FamsFaceGenerator, keyframe: Keyframe
) -> None:
    plain = generator.generate(
        keyframe.frame, keyframe.box, keyframe.landmarks68, replace(SETTINGS, colour_match=False)
    )
    matched = generator.generate(keyframe.frame, keyframe.box, keyframe.landmarks68, SETTINGS)
    region = plain.mask.alpha >= 0.99
    crop = generator.prepare(keyframe.frame, keyframe.box, keyframe.landmarks68, SETTINGS).crop

    def lab_mean(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[region].astype(np.float64).mean(axis=0)

    target = lab_mean(crop)
    before = np.abs(lab_mean(plain.generated_crop) - target).max()
    after = np.abs(lab_mean(matched.generated_crop) - target).max()
    assert after < 2.0 < before  # random tiny weights drift far; matching brings it back


def test_several_faces_in_one_frame(generator: FamsFaceGenerator, vision: VisionModels) -> None:
    image = cv2.cvtColor(cv2.imread(str(fixture_image("fas_friends.jpg"))), cv2.COLOR_BGR2RGB)
    detections = sorted(vision.detector.detect(image), key=lambda d: -d.score)[:3]
    assert len(detections) == 3
    requests = [
        FaceRequest(d.box, vision.landmarks.landmarks68(image, d.box), replace(SETTINGS, seed=s))
        for d, s in zip(detections, (11, 22, 33), strict=True)
    ]
    seen: list[Progress] = []
    outcome = generator.generate_faces(image, requests, on_progress=seen.append)
    assert len(outcome.faces) == 3
    changed = _changed(outcome.frame, image)
    allowed = np.zeros(image.shape[:2], bool)
    for face, detection in zip(outcome.faces, detections, strict=True):
        face_mask = _mask_in_frame(face, image.shape)
        allowed |= face_mask
        assert (changed & face_mask).sum() > 200, f"face at {detection.box} was not replaced"
    assert not (changed & ~allowed).any()
    steps = [p.done for p in seen if p.stage == STAGE_DENOISE]
    assert steps[-1] == 3 * SETTINGS.steps and all(p.total == 9 for p in seen)


def test_overlapping_faces_are_each_generated_from_the_original(
    generator: FamsFaceGenerator, keyframe: Keyframe
) -> None:
    """Two requests whose crops overlap (here: the same face twice): the second one's
    reference is the original face, never the first one's new face."""
    first, second = (replace(SETTINGS, seed=s) for s in (11, 22))
    requests = [FaceRequest(keyframe.box, keyframe.landmarks68, s) for s in (first, second)]
    outcome = generator.generate_faces(keyframe.frame, requests)
    alone = generator.generate(keyframe.frame, keyframe.box, keyframe.landmarks68, second)
    assert np.array_equal(outcome.faces[1].generated_crop, alone.generated_crop)
    assert np.array_equal(outcome.frame, outcome.faces[1].composited_frame)
