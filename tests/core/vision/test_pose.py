"""Head pose (with the reference's pitch defect fixed) and frame-quality measures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anonnet_studio.core.vision import pose
from anonnet_studio.core.vision.factory import VisionModels
from anonnet_studio.core.vision.pose import (
    eye_aspect_ratio,
    head_pose,
    landmarks_inside_fraction,
    sharpness,
)
from tests.core.vision.conftest import clip_frames, single_face


def _synthetic_landmarks(yaw: float, pitch: float, size: int = 512) -> np.ndarray:
    """68 landmarks whose 6 pose points are the generic model rotated by yaw/pitch
    (degrees, R = Ry * Rx) and projected by the same camera `head_pose` assumes."""
    rotation = (
        cv2.Rodrigues(np.array([0.0, np.radians(yaw), 0.0]))[0]
        @ cv2.Rodrigues(np.array([np.radians(pitch), 0.0, 0.0]))[0]
    )
    camera = np.array([[size, 0, size / 2], [0, size, size / 2], [0, 0, 1]], np.float64)
    translation = np.array([0.0, 0.0, 2000.0])
    projected, _ = cv2.projectPoints(
        pose._MODEL_POINTS, cv2.Rodrigues(rotation)[0], translation, camera, np.zeros(4)
    )
    landmarks = np.zeros((68, 2), np.float32)
    landmarks[list(pose._LANDMARK_INDICES)] = projected.reshape(-1, 2)
    return landmarks


@pytest.mark.parametrize(("yaw", "pitch"), [(0, 0), (25, 0), (-25, 0), (0, 15), (0, -15)])
def test_known_rotation_is_recovered_with_image_axis_signs(yaw: float, pitch: float) -> None:
    result = head_pose(_synthetic_landmarks(yaw, pitch), (512, 512))
    # A frontal face must read ~0, not the reference's +-180 pitch.
    assert result.yaw == pytest.approx(yaw, abs=1.0)
    assert result.pitch == pytest.approx(pitch, abs=1.0)
    assert result.roll == pytest.approx(0.0, abs=1.0)


def test_frontal_frame_reads_near_zero(vision: VisionModels) -> None:
    (image,) = clip_frames("lp_d18.mp4", [0])
    landmarks = vision.landmarks.landmarks68(image, single_face(vision, image).box)
    assert landmarks.shape == (68, 2) and landmarks.dtype == np.float32
    result = head_pose(landmarks, (image.shape[1], image.shape[0]))
    assert abs(result.yaw) < 15 and abs(result.pitch) < 15, result
    assert eye_aspect_ratio(landmarks) > 0.2  # eyes open
    assert landmarks_inside_fraction(landmarks, (image.shape[1], image.shape[0])) == 1.0


def test_turned_head_has_larger_yaw_than_frontal_frame(vision: VisionModels) -> None:
    # lp_d3 frame 0 looks at the camera; frame 260 turns towards the image's right
    # (and down) while frowning.
    frontal, turned = (
        head_pose(vision.landmarks.landmarks68(image, single_face(vision, image).box), (512, 512))
        for image in clip_frames("lp_d3.mp4", [0, 260])
    )
    assert abs(frontal.yaw) < 10, frontal
    assert turned.yaw < -15, turned  # negative: facing the image's right
    assert abs(turned.roll) < 30, turned  # no flipped solution (the solver starts frontal)


def test_wink_lowers_the_eye_aspect_ratio(vision: VisionModels) -> None:
    # lp_d3: frame 0 eyes open, frame 120 eyes closed (frowning, looking down).
    open_eyes, closed_eyes = (
        eye_aspect_ratio(vision.landmarks.landmarks68(image, single_face(vision, image).box))
        for image in clip_frames("lp_d3.mp4", [0, 120])
    )
    assert open_eyes > closed_eyes + 0.1


def test_pitch_is_wrapped_into_half_open_range() -> None:
    assert pose._wrap(180.0) == 180.0 and pose._wrap(-180.0) == 180.0
    assert pose._wrap(190.0) == -170.0 and pose._wrap(-190.0) == 170.0


def test_sharpness_drops_when_blurred(vision: VisionModels) -> None:
    (image,) = clip_frames("lp_d18.mp4", [0])
    box = single_face(vision, image).box
    blurred = cv2.GaussianBlur(image, (0, 0), 3)
    assert sharpness(image, box) > 3 * sharpness(blurred, box) > 0
    assert sharpness(image, np.array([-50, -50, -10, -10], np.float32)) == 0.0  # off-image


def test_landmarks_inside_fraction_counts_points_off_the_frame() -> None:
    landmarks = np.zeros((68, 2), np.float32) + 50
    landmarks[:17, 0] = -5  # the jaw line off the left edge
    assert landmarks_inside_fraction(landmarks, (100, 100)) == pytest.approx(51 / 68)
