"""Crop placement and masks on a real keyframe (lp_d18.mp4, frame 30)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from anonnet_studio.core.errors import ModelError, ModelUnavailableError
from anonnet_studio.core.synthetic.crop import (
    CropPlacement,
    composite_into_frame,
    extract_crop,
    plan_crop,
)
from anonnet_studio.core.synthetic.mask import (
    build_face_mask,
    dilate_and_feather,
    fill_holes,
    landmark_hull_mask,
    parsing_mask,
)
from anonnet_studio.core.synthetic.parsing import BISENET_FILE, BiSeNetFaceParser
from anonnet_studio.core.synthetic.settings import GenerationSettings, round_down_to_multiple
from tests.core.synthetic.conftest import Keyframe


def test_crop_is_square_multiple_of_8_and_clamped(keyframe: Keyframe) -> None:
    # The face spans the union of the detector box and the landmarks.
    corners = np.concatenate([keyframe.box.reshape(2, 2), keyframe.landmarks68])
    face_side = float((corners.max(axis=0) - corners.min(axis=0)).max())

    def plan(crop_scale: float, limits: tuple[int, int]) -> CropPlacement:
        shape = keyframe.frame.shape
        return plan_crop(
            keyframe.box, keyframe.landmarks68, shape, crop_scale=crop_scale, size_limits=limits
        )

    # This close-up's face is 337 px tall in a 480 px frame: 1.8 faces would not fit.
    close_up = plan(1.8, (256, 608))
    assert close_up.side == 480, "the square stays within the frame"
    assert close_up.size == 480 == round_down_to_multiple(close_up.side)
    assert plan(1.0, (256, 608)).side == pytest.approx(1.15 * face_side, abs=1)
    small_face = plan(1.2, (512, 608))
    assert small_face.side == pytest.approx(1.2 * face_side, abs=1)
    assert small_face.side < 512 and small_face.size == 512  # upsampled to the minimum
    capped = plan(1.8, (64, 300))
    assert capped.size == 296  # capped at 300, rounded down to a multiple of 8
    crop = extract_crop(keyframe.frame, capped)
    assert crop.shape == (296, 296, 3) and crop.dtype == np.uint8


def test_crop_transform_round_trips_and_matches_pixels(keyframe: Keyframe) -> None:
    placement = plan_crop(
        keyframe.box,
        keyframe.landmarks68,
        keyframe.frame.shape,
        crop_scale=1.8,
        size_limits=(64, 608),
    )
    crop = extract_crop(keyframe.frame, placement)
    points = keyframe.landmarks68
    assert np.allclose(placement.crop_to_frame(placement.frame_to_crop(points)), points, atol=1e-3)
    matrix = placement.crop_to_frame_matrix()
    mapped = (matrix[:, :2] @ placement.frame_to_crop(points).T).T + matrix[:, 2]
    assert np.allclose(mapped, points, atol=1e-3)
    # Nose tip colour agrees between the frame and the crop (same physical point).
    nx, ny = np.round(placement.frame_to_crop(points[30:31])[0]).astype(int)
    fx, fy = np.round(points[30]).astype(int)
    diff = np.abs(crop[ny, nx].astype(int) - keyframe.frame[fy, fx].astype(int))
    assert diff.max() < 30


def test_crop_leaving_the_frame_is_padded_and_pastes_back_inside(keyframe: Keyframe) -> None:
    # Shift the face to the frame's corner so the crop extends past two edges.
    frame = np.ascontiguousarray(keyframe.frame[150:, 120:])
    box = keyframe.box - np.array([120, 150, 120, 150], np.float32)
    landmarks = keyframe.landmarks68 - np.array([120, 150], np.float32)
    placement = plan_crop(box, landmarks, frame.shape, crop_scale=1.8, size_limits=(64, 608))
    assert placement.x0 < 0 and placement.y0 < 0
    crop = extract_crop(frame, placement)
    assert crop.shape == (placement.size, placement.size, 3)
    white = np.full_like(crop, 255)
    alpha = np.ones(crop.shape[:2], np.float32)
    out = composite_into_frame(frame, white, alpha, placement)
    assert out.shape == frame.shape
    rows, cols, _, _ = placement.visible_region()
    assert (out[rows, cols] == 255).all()
    outside = np.ones(frame.shape[:2], bool)
    outside[rows, cols] = False
    assert np.array_equal(out[outside], frame[outside])


def test_crop_slides_inside_the_frame_when_it_fits(keyframe: Keyframe) -> None:
    # The clip in the top-left corner of a larger canvas: the face is near two edges.
    canvas = np.zeros((800, 900, 3), np.uint8)
    canvas[:480, :480] = keyframe.frame
    placement = plan_crop(
        keyframe.box, keyframe.landmarks68, canvas.shape, crop_scale=1.8, size_limits=(64, 608)
    )
    assert placement.x0 == 0 and placement.y0 == 0
    assert placement.side < 800, "a square that fits is never padded"
    x_max, y_max = keyframe.landmarks68.max(axis=0)
    assert x_max < placement.side and y_max < placement.side  # the face stays inside


def test_landmark_hull_covers_face_and_forehead(keyframe: Keyframe) -> None:
    placement = plan_crop(
        keyframe.box,
        keyframe.landmarks68,
        keyframe.frame.shape,
        crop_scale=1.8,
        size_limits=(64, 256),
    )
    landmarks = placement.frame_to_crop(keyframe.landmarks68)
    face = landmark_hull_mask(landmarks, placement.size, "face")
    head = landmark_hull_mask(landmarks, placement.size, "head")
    xs, ys = np.round(landmarks).astype(int).T
    assert face[ys.clip(0, 255), xs.clip(0, 255)].mean() > 0.95
    brow_top = int(landmarks[17:27, 1].min())
    assert face[: brow_top - 5].any(), "the forehead above the brows must be covered"
    assert head.sum() > 1.3 * face.sum()
    chin = int(landmarks[8, 1])
    assert not head[chin + 3 :].any(), "head mode must stop at the chin (no neck)"
    assert not face[0].any() and not face[:, 0].any(), "the face mask must not reach the edge"


def test_fill_holes_and_feathering() -> None:
    ring = np.zeros((64, 64), np.uint8)
    cv2.circle(ring, (32, 32), 20, 1, thickness=6)
    filled = fill_holes(ring)
    assert filled[32, 32] == 1 and filled[0, 0] == 0
    hard, alpha = dilate_and_feather(filled, dilate_px=3, feather_px=6)
    assert hard.max() == 255 and set(np.unique(hard)) <= {0, 255}
    assert (alpha[hard == 0] == 0).all(), "alpha must be zero outside the hard mask"
    assert alpha[32, 32] == pytest.approx(1.0, abs=1e-3)
    assert 0 < alpha[hard > 0].min() < 0.5, "the edge must be feathered, not hard"


def test_parsing_mask_keeps_the_face_component_and_fills_holes() -> None:
    labels = np.zeros((100, 100), np.int32)
    labels[20:80, 20:80] = 1  # skin
    labels[40:45, 30:40] = 4  # an eye, a face class
    labels[60:65, 45:55] = 17  # hair label inside the face: a hole in the face classes
    labels[5:10, 90:98] = 1  # skin of someone else at the edge
    landmarks = np.zeros((68, 2), np.float32)
    landmarks[30] = (50, 50)  # nose tip
    mask = parsing_mask(labels, (1, 2, 3, 4, 5), landmarks)
    assert mask[62, 50] == 1, "holes inside the face are filled"
    assert mask[7, 94] == 0, "other skin regions are dropped"
    assert mask[50, 50] == 1


def test_bisenet_checkpoint_loads_through_the_parser(
    tiny_model_folders: dict[str, Path], keyframe: Keyframe
) -> None:
    parser = BiSeNetFaceParser.from_folder(tiny_model_folders["bisenet-face-parsing"])
    labels = parser.parse(keyframe.frame[:200, :160])
    assert labels.shape == (200, 160) and labels.dtype == np.int32
    assert labels.min() >= 0 and labels.max() < 19


def test_parser_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="bisenet-face-parsing"):
        BiSeNetFaceParser.from_folder(tmp_path)
    (tmp_path / BISENET_FILE).write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="could not be loaded"):
        BiSeNetFaceParser.from_folder(tmp_path)


class _FixedParser:
    """A parser whose answer is known, to check how `build_face_mask` uses it."""

    name = "fixed"

    def __init__(self, labels: np.ndarray) -> None:
        self._labels = labels

    def parse(self, image: np.ndarray) -> np.ndarray:
        return self._labels[: image.shape[0], : image.shape[1]]


def test_build_face_mask_prefers_parsing_and_falls_back_to_landmarks(keyframe: Keyframe) -> None:
    settings = GenerationSettings(max_side=128, min_side=64)
    placement = plan_crop(
        keyframe.box,
        keyframe.landmarks68,
        keyframe.frame.shape,
        crop_scale=settings.crop_scale,
        size_limits=settings.crop_limits,
    )
    crop = extract_crop(keyframe.frame, placement)
    landmarks = placement.frame_to_crop(keyframe.landmarks68)
    hull = landmark_hull_mask(landmarks, placement.size)
    with_parser = build_face_mask(crop, landmarks, settings, _FixedParser(hull.astype(np.int32)))
    assert with_parser.source == "parsing"
    nothing_found = build_face_mask(crop, landmarks, settings, _FixedParser(np.zeros((128, 128))))
    assert nothing_found.source == "landmarks"
    assert nothing_found.pipeline_mask.any()
    no_parser = build_face_mask(crop, landmarks, settings, None)
    assert no_parser.source == "landmarks"
    assert no_parser.pipeline_mask.shape == (placement.size, placement.size)
