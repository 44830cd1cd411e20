"""FAMS crop geometry, colour matching and paste-back on synthetic inputs with known answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anonnet_studio.core.synthetic.fams.alignment import (
    extract_aligned,
    plan_alignment,
    warp_to_frame,
)
from anonnet_studio.core.synthetic.fams.blend import (
    aligned_face_mask,
    match_colours,
    paste_into_frame,
)
from tests.core.synthetic.conftest import Keyframe


def _rotated(landmarks: np.ndarray, degrees: float, scale: float, shift: np.ndarray) -> np.ndarray:
    centre = landmarks.mean(axis=0)
    matrix = cv2.getRotationMatrix2D(tuple(map(float, centre)), degrees, scale)
    return (landmarks @ matrix[:, :2].T + matrix[:, 2] + shift).astype(np.float32)


def _eyes_and_mouth(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return points[36:42].mean(axis=0), points[42:48].mean(axis=0), (points[48] + points[54]) / 2


def test_the_crop_is_upright_centred_and_sized_by_the_face(keyframe: Keyframe) -> None:
    base = plan_alignment(keyframe.landmarks68, keyframe.frame.shape, 512)
    left, right, mouth = _eyes_and_mouth(base.frame_to_crop(keyframe.landmarks68))
    # Eyes level and symmetric about the vertical midline; the mouth below them.
    assert abs(left[1] - right[1]) < 0.06 * (right[0] - left[0])
    assert abs((left[0] + right[0]) / 2 - 256) < 8
    assert mouth[1] > left[1] + 60
    # The half side is the larger of 2 eye distances and 1.8 eye-to-mouth distances, and
    # the centre lies 0.39 eye-to-mouth distances below the eyes.
    eye_distance, mouth_distance = right[0] - left[0], mouth[1] - (left[1] + right[1]) / 2
    assert max(2.0 * eye_distance, 1.8 * mouth_distance) == pytest.approx(256, abs=1.0)
    assert (left[1] + right[1]) / 2 == pytest.approx(256 - 0.39 * mouth_distance, abs=2.0)
    # A tilted, scaled and moved copy of the face gives the same crop coordinates.
    moved = _rotated(keyframe.landmarks68, 25.0, 0.6, np.array([40.0, -15.0]))
    tilted = plan_alignment(moved, keyframe.frame.shape, 512)
    assert (
        np.abs(tilted.frame_to_crop(moved) - base.frame_to_crop(keyframe.landmarks68)).max() < 1e-2
    )
    assert tilted.scale == pytest.approx(base.scale / 0.6, rel=1e-4)


def test_frame_and_crop_coordinates_round_trip(keyframe: Keyframe) -> None:
    placement = plan_alignment(keyframe.landmarks68, keyframe.frame.shape, 128)
    crop_points = placement.frame_to_crop(keyframe.landmarks68)
    assert np.abs(placement.crop_to_frame(crop_points) - keyframe.landmarks68).max() < 1e-3
    x0, y0, x1, y1 = placement.frame_box()
    assert 0 <= x0 < x1 <= keyframe.frame.shape[1] and 0 <= y0 < y1 <= keyframe.frame.shape[0]


@pytest.mark.parametrize("size", [512, 64], ids=["upsampled", "downsampled"])
def test_the_crop_samples_the_frame_where_the_geometry_says(keyframe: Keyframe, size: int) -> None:
    # A frame whose colour encodes the position: the crop must read back the position the
    # matrix maps each crop pixel to (through the area-averaging path for big faces too).
    height, width = keyframe.frame.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    frame = np.stack([xs * 255 // width, ys * 255 // height, np.full_like(xs, 128)], -1)
    frame = frame.astype(np.uint8)
    placement = plan_alignment(keyframe.landmarks68, frame.shape, size)
    crop = extract_aligned(frame, placement)
    assert crop.shape == (size, size, 3)
    probe = np.array([[size * 0.3, size * 0.4], [size * 0.7, size * 0.6]], np.float32)
    for (cx, cy), (fx, fy) in zip(probe, placement.crop_to_frame(probe), strict=True):
        red, green = crop[int(cy), int(cx), :2].astype(float)
        assert red == pytest.approx(fx * 255 / width, abs=3)
        assert green == pytest.approx(fy * 255 / height, abs=3)


def test_paste_back_changes_only_pixels_under_the_hard_mask(keyframe: Keyframe) -> None:
    frame = keyframe.frame
    placement = plan_alignment(keyframe.landmarks68, frame.shape, 128)
    crop = extract_aligned(frame, placement)
    mask = aligned_face_mask(
        crop, placement.frame_to_crop(keyframe.landmarks68), dilate=0.02, feather=0.05
    )
    assert mask.source == "landmarks"
    assert (mask.alpha[mask.pipeline_mask == 0] == 0).all()
    white = np.full_like(crop, 255)
    pasted = paste_into_frame(frame, white, mask, placement)
    changed = np.any(pasted != frame, axis=2)
    box = x0, y0, x1, y1 = placement.frame_box()
    covered = np.zeros(frame.shape[:2], bool)
    covered[y0:y1, x0:x1] = warp_to_frame(mask.pipeline_mask, placement, box, nearest=True) > 0
    assert changed.sum() > 0.5 * covered.sum()
    assert not (changed & ~covered).any()
    # Feathered: pixels at the mask's edge are blends, not the pasted white.
    assert (pasted[changed] < 255).any()


def test_colour_matching_moves_the_means_and_keeps_the_structure() -> None:
    rng = np.random.default_rng(3)
    # Smooth, like skin: a noise image has colours Lab treats very non-linearly.
    original = cv2.GaussianBlur(rng.integers(60, 200, (64, 64, 3), dtype=np.uint8), (0, 0), 3)
    tinted = np.clip(original.astype(int) + np.array([40, -20, 10]), 0, 255).astype(np.uint8)
    region = np.zeros((64, 64), bool)
    region[16:48, 16:48] = True
    matched = match_colours(tinted, original, region)

    def lab(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[region]

    # Matched in Lab, where the statistics are taken (L in 0..100, a/b about -100..100).
    assert np.abs(lab(matched).mean(axis=0) - lab(original).mean(axis=0)).max() < 0.5
    assert np.abs(lab(matched).std(axis=0) - lab(original).std(axis=0)).max() < 0.5
    # Per pixel, most of the tint is gone: the face's structure was kept.
    before = np.abs(tinted.astype(int) - original.astype(int)).mean()
    after = np.abs(matched.astype(int) - original.astype(int)).mean()
    assert after < 0.1 * before
    assert np.array_equal(match_colours(tinted, original, np.zeros_like(region)), tinted)
