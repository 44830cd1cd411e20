"""Box clipping, landmark templates and keyframe corrections interpolated between keyframes."""

from __future__ import annotations

import numpy as np
import pytest

from anonnet_studio.core.correction.geometry import (
    BoxError,
    clip_box,
    keyframe_correction,
    template_landmarks,
)


def _moving_track(n: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """A 40x50 box moving right by 2 px per frame, frames 100..100+n-1."""
    frames = np.arange(100, 100 + n, dtype=np.int32)
    x = 10.0 + 2.0 * np.arange(n)
    boxes = np.stack([x, np.full(n, 20.0), x + 40, np.full(n, 70.0)], axis=1).astype(np.float32)
    return frames, boxes


def test_boxes_outside_the_picture_are_clipped_and_corners_may_come_in_any_order():
    assert clip_box((-30, 10, 50, 90), 64, 48).tolist() == [0, 10, 50, 48]
    assert clip_box((50, 90, -30, 10), 64, 48).tolist() == [0, 10, 50, 48]


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ((10, 10, 10, 40), "too small"),
        ((10, 10, 11, 40), "too small"),
        ((100, 100, 140, 140), "outside the picture"),
        ((10, float("nan"), 20, 30), "finite"),
        ((1, 2, 3), "four"),
    ],
)
def test_unusable_boxes_are_refused_with_a_reason(box, message):
    with pytest.raises(BoxError, match=message):
        clip_box(box, 64, 48)


def test_template_landmarks_sit_inside_the_box_eyes_above_mouth():
    points = template_landmarks(np.array([10, 20, 110, 220], dtype=np.float32))
    assert points.shape == (5, 2)
    assert np.all((points[:, 0] > 10) & (points[:, 0] < 110))
    assert np.all((points[:, 1] > 20) & (points[:, 1] < 220))
    assert points[0, 0] < points[1, 0] and points[0, 1] < points[3, 1]


def test_a_single_correction_fades_out_towards_both_track_ends():
    frames, boxes = _moving_track()
    new = boxes[50] + np.array([20, 10, 20, 10], dtype=np.float32)  # shifted, same size
    change = keyframe_correction(frames, boxes, [], 150, new)
    out = change.boxes(boxes)
    np.testing.assert_allclose(out[50], new, atol=1e-4)
    shift = out[:, 0] - boxes[:, 0]
    assert np.all(np.diff(shift[:51]) > 0) and np.all(np.diff(shift[50:]) < 0)
    # Linear weights: halfway to the virtual anchor just before the first frame.
    np.testing.assert_allclose(shift[25], 20 * (26 / 51), rtol=1e-4)
    assert 0 < shift[0] < 1 and 0 < shift[-1] < 1
    np.testing.assert_allclose(out[:, 2] - out[:, 0], 40, atol=1e-4)  # sizes unchanged


def test_corrections_never_move_existing_keyframes_or_anything_beyond_them():
    frames, boxes = _moving_track()
    change = keyframe_correction(frames, boxes, [120, 180], 150, boxes[50] * 1.1)
    out = change.boxes(boxes)
    untouched = (frames <= 120) | (frames >= 180)
    np.testing.assert_array_equal(out[untouched], boxes[untouched])
    assert not np.allclose(out[~untouched], boxes[~untouched])
    assert set(change.rows.tolist()) == set(np.flatnonzero(~untouched).tolist())


def test_resizing_scales_each_row_about_its_own_centre_and_landmarks_follow():
    frames, boxes = _moving_track()
    old = boxes[50]
    centre = (old[:2] + old[2:]) / 2
    half = np.array([40.0, 50.0])  # twice the 40x50 box
    new = np.concatenate([centre - half, centre + half])
    change = keyframe_correction(frames, boxes, [100], 150, new)
    out = change.boxes(boxes)
    sizes = out[:, 2] - out[:, 0]
    np.testing.assert_allclose(sizes[50], 80, atol=1e-4)
    np.testing.assert_allclose(sizes[25], 40 * (1 + 25 / 50), rtol=1e-4)
    centres = (out[:, 0] + out[:, 2]) / 2
    np.testing.assert_allclose(centres, (boxes[:, 0] + boxes[:, 2]) / 2, atol=1e-3)
    points = template_landmarks(boxes)
    moved = change.points(points)
    np.testing.assert_allclose(moved, template_landmarks(out), atol=1e-3)
    # Only the entries of changed rows move when rows are given explicitly.
    sparse = change.points(points[[0, 50]], np.array([0, 50]))
    np.testing.assert_allclose(sparse[0], points[0])
    np.testing.assert_allclose(sparse[1], template_landmarks(out[50]), atol=1e-3)


def test_correcting_the_first_frame_changes_only_frames_after_it():
    frames, boxes = _moving_track(11)
    change = keyframe_correction(frames, boxes, [], 100, boxes[0] + 5)
    assert change.rows.tolist() == list(range(11))
    out = change.boxes(boxes)
    np.testing.assert_allclose(out[0], boxes[0] + 5, atol=1e-4)
    with pytest.raises(ValueError, match="not a row"):
        keyframe_correction(frames, boxes, [], 99, boxes[0])
