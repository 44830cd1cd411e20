"""Driving crops and driving landmarks from our own tracks, on real footage."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_fallback_warp import Models, embedded_models, face_size, face_tracks, read_frames

from anonnet_studio.core.anonymize.plan import TrackGeometry
from anonnet_studio.core.motion.composite import warp_into_window
from anonnet_studio.core.motion.driving import (
    LIVEPORTRAIT_SCALE,
    LIVEPORTRAIT_VY,
    LandmarkSeriesBuilder,
    TrackCrops,
    crop_parameters,
    face_crop,
    track_row,
    track_spans,
)
from tests.conftest import fixture_video

FRAMES = 30


@pytest.fixture(scope="module")
def models() -> Models:
    return embedded_models()


@pytest.fixture(scope="module")
def clip(models: Models) -> tuple[list[np.ndarray], TrackGeometry]:
    """lp_d3: a woman turning her head and pulling faces."""
    frames = read_frames(fixture_video("lp_d3.mp4"), FRAMES)
    return frames, face_tracks(frames, models.detector)[0]


def roughness(values: np.ndarray) -> float:
    """Mean absolute second difference over time: frame-to-frame jitter."""
    return float(np.abs(np.diff(values, n=2, axis=0)).mean())


def test_crop_and_inverse_transform_round_trip(clip: tuple[list[np.ndarray], TrackGeometry]):
    frames, track = clip
    crop = face_crop(track.boxes[5], track.landmarks5[5])
    image = crop.extract(frames[5])
    assert image.shape == (512, 512, 3)

    points = np.array([[10.0, 20.0], [300.0, 400.0], [511.0, 0.0]])
    np.testing.assert_allclose(crop.to_crop(crop.to_frame(points)), points, atol=1e-6)
    # The same square at another crop resolution maps the crop centre to the same place.
    centre = crop.to_frame(np.array([[255.5, 255.5]]))
    np.testing.assert_allclose(crop.to_frame(np.array([[127.5, 127.5]]), 256), centre, atol=1e-6)

    # Pasting the crop back through the inverse transform gives the frame back.
    x0, y0, x1, y1 = (int(v) for v in track.boxes[5])
    back = warp_into_window(image, crop.crop_to_frame(), (x0, y0, x1, y1))
    difference = np.abs(back.astype(int) - frames[5][y0:y1, x0:x1].astype(int))
    assert difference.mean() < 3.0


def test_crop_follows_the_liveportrait_convention(
    models: Models, clip: tuple[list[np.ndarray], TrackGeometry]
) -> None:
    """Face extent about 1/2.3 of the crop, the face centre 0.125 of the crop below its
    centre, and the face upright even when the head is rolled in the frame."""
    frames, track = clip
    frame, box, five = frames[5], track.boxes[5], track.landmarks5[5]
    height, width = frame.shape[:2]
    roll = cv2.getRotationMatrix2D((width / 2, height / 2), 20.0, 1.0)
    rolled = cv2.warpAffine(frame, roll, (width, height), borderMode=cv2.BORDER_REPLICATE)
    rolled_five = five @ roll[:, :2].T + roll[:, 2]
    rolled_box = models.detector.detect(rolled)[0].box

    for image, face_box, face_five in ((frame, box, five), (rolled, rolled_box, rolled_five)):
        crop = face_crop(face_box, face_five)
        points = crop.to_crop(models.landmarks.landmarks68(image, face_box))
        extent = points.max(0) - points.min(0)
        assert max(extent) == pytest.approx(512 / LIVEPORTRAIT_SCALE, rel=0.15)
        centre = (points.max(0) + points.min(0)) / 2
        expected = 256 - LIVEPORTRAIT_VY * 512
        assert abs(centre[0] - 256) < 0.05 * 512 and abs(centre[1] - expected) < 0.06 * 512
        eyes = points[42:48].mean(0) - points[36:42].mean(0)
        assert abs(np.degrees(np.arctan2(eyes[1], eyes[0]))) < 5.0


def test_track_crops_are_smoothed_without_lag(clip: tuple[list[np.ndarray], TrackGeometry]):
    _, track = clip
    raw = crop_parameters(track.boxes, track.landmarks5)
    smooth = TrackCrops(track).params
    for column in range(3):  # cx, cy, side
        assert roughness(smooth[:, column]) < 0.5 * roughness(raw[:, column])
    # Zero phase: the smoothed path stays on the raw one (no delay behind a moving head).
    assert np.abs(smooth[:, :2] - raw[:, :2]).mean() < 0.02 * raw[:, 2].mean()
    assert len(TrackCrops(track)) == len(track.frames)


def test_track_row_holds_the_ends_and_gaps() -> None:
    track = TrackGeometry(
        np.array([5, 6, 9]), np.zeros((3, 4), np.float32), np.zeros((3, 5, 2), np.float32)
    )
    assert [track_row(track, f) for f in (2, 5, 6, 7, 8, 9, 12)] == [0, 0, 1, 1, 1, 2, 2]


def test_landmark_series_smooths_and_rejects_implausible_frames(
    models: Models, clip: tuple[list[np.ndarray], TrackGeometry]
) -> None:
    frames, track = clip
    landmarks5 = track.landmarks5.copy()
    landmarks5[7] += 0.4 * face_size(track.boxes[7])  # the tracker slipped off the face
    slipped = TrackGeometry(track.frames, track.boxes, landmarks5)
    builder = LandmarkSeriesBuilder(slipped, models.landmarks.landmarks68)
    raw = []
    for row, frame in enumerate(frames):
        builder.add(row, frame)
        raw.append(models.landmarks.landmarks68(frame, track.boxes[row]))
    series = builder.finish()

    assert series.at(7) is None and not series.valid[7]
    valid = [row for row in range(FRAMES) if row != 7]
    assert all(series.at(row) is not None for row in valid)
    smoothed = np.stack([series.points[row] for row in valid])
    measured = np.stack([raw[row] for row in valid])
    assert roughness(smoothed) < 0.6 * roughness(measured)
    assert np.abs(smoothed - measured).mean() < 0.02 * face_size(track.boxes[0])


def test_a_big_close_up_gives_the_same_crop(
    clip: tuple[list[np.ndarray], TrackGeometry],
) -> None:
    """The same face three times larger (the path that shrinks the frame region before
    sampling) gives the same crop: the prefilter keeps the geometry exact."""
    frames, track = clip
    frame, box, five = frames[5], track.boxes[5], track.landmarks5[5]
    big = cv2.resize(frame, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    big_face = face_crop(box * 3 + 1, five * 3 + 1)  # pixel centres: x_big = 3 x + 1
    assert big_face.side > 2 * big_face.dsize
    difference = np.abs(big_face.extract(big).astype(int) - face_crop(box, five).extract(frame))
    assert difference.mean() < 1.0


def test_far_apart_tracks_are_measured_in_separate_passes() -> None:
    def track(first: int, last: int) -> TrackGeometry:
        count = last - first + 1
        return TrackGeometry(
            np.arange(first, last + 1), np.zeros((count, 4)), np.zeros((count, 5, 2))
        )

    tracks = [track(400, 500), track(0, 100), track(50, 180), track(200, 250)]
    assert track_spans(tracks, max_gap=10) == [(0, 181), (200, 251), (400, 501)]
    assert track_spans(tracks, max_gap=30) == [(0, 251), (400, 501)]
    assert track_spans(tracks, max_gap=150) == [(0, 501)]
