"""Render plan lookups and mask geometry on plain data (real-footage checks are in
test_render.py)."""

from __future__ import annotations

import numpy as np
import pytest

from anonnet_studio.core.anonymize.masks import (
    Ellipse,
    box_mask,
    ellipse_mask,
    face_ellipses,
    smooth_ellipses,
)
from anonnet_studio.core.anonymize.plan import (
    PersonPlan,
    RedactionMethod,
    RenderPlan,
    TrackGeometry,
    regions_at,
)


def _track(
    first: int, count: int, x: float = 100.0, size: float = 80.0, y: float = 50.0
) -> TrackGeometry:
    frames = np.arange(first, first + count)
    xs = x + np.arange(count, dtype=np.float32)
    boxes = np.stack([xs, np.full(count, y), xs + size, np.full(count, y + size)], 1)
    offsets = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.8], [0.65, 0.8]]) * size
    landmarks = boxes[:, None, :2] + offsets[None].astype(np.float32)
    return TrackGeometry(frames, boxes.astype(np.float32), landmarks.astype(np.float32))


def _person(identity: str, tracks: list[TrackGeometry], method: str = "blur") -> PersonPlan:
    return PersonPlan(identity, RedactionMethod(method), np.ones(128, np.float32), tracks)


def test_regions_cover_tracks_plus_padding_with_held_geometry() -> None:
    track = _track(10, 20)
    plan = RenderPlan([_person("a", [track])], coverage_pad_frames=3)
    assert regions_at(plan, 6) == []
    assert regions_at(plan, 33) == []
    before, first = regions_at(plan, 7)[0], regions_at(plan, 10)[0]
    assert before.held and not first.held
    np.testing.assert_array_equal(before.box, track.boxes[0])
    after = regions_at(plan, 32)[0]
    assert after.held
    np.testing.assert_array_equal(after.box, track.boxes[-1])
    middle = regions_at(plan, 15)[0]
    np.testing.assert_array_equal(middle.box, track.boxes[5])
    assert middle.identity_id == "a" and middle.method is RedactionMethod.BLUR


def test_padding_never_crosses_a_shot_boundary() -> None:
    plan = RenderPlan(
        [_person("a", [_track(10, 20)])], coverage_pad_frames=5, shots=((0, 10), (10, 31))
    )
    assert regions_at(plan, 9) == []  # previous shot: another picture, no stale mask there
    assert len(regions_at(plan, 30)) == 1
    assert regions_at(plan, 31) == []


def test_index_matches_brute_force_on_many_tracks() -> None:
    rng = np.random.default_rng(7)
    people = []
    for p in range(40):
        tracks = [
            # a unique y per track tells the regions apart
            _track(int(rng.integers(0, 5000)), int(rng.integers(1, 300)), y=float(p * 25 + t))
            for t in range(25)
        ]
        people.append(_person(f"p{p}", tracks, "keep" if p % 5 == 0 else "pixelate"))
    plan = RenderPlan(people, coverage_pad_frames=2)
    for frame in rng.integers(0, 5400, 200):
        expected = sorted(
            (person.identity_id, float(t.boxes[0, 1]))
            for person in people
            for t in person.tracks
            if t.frames[0] - 2 <= frame <= t.frames[-1] + 2
        )
        got = sorted((r.identity_id, float(r.box[1])) for r in regions_at(plan, int(frame)))
        assert got == expected


def test_track_geometry_rejects_inconsistent_arrays() -> None:
    with pytest.raises(ValueError, match="disagree"):
        TrackGeometry(np.arange(3), np.zeros((2, 4)), np.zeros((3, 5, 2)))
    with pytest.raises(ValueError, match="increasing"):
        TrackGeometry(np.array([3, 2]), np.zeros((2, 4)), np.zeros((2, 5, 2)))


def test_mask_is_opaque_over_the_face_box_and_feathers_outwards() -> None:
    track = _track(0, 1, x=200, size=100)
    params = face_ellipses(track.boxes, track.landmarks5, margin=0.0)
    ellipse = Ellipse.from_row(params[0])
    mask = ellipse_mask(ellipse, 640, 480)
    full = np.zeros((480, 640), np.float32)
    full[mask.slices] = mask.alpha
    # The face itself (eyes, nose, mouth and the box's inner 80 %) is fully covered.
    for x, y in track.landmarks5[0]:
        assert full[int(y), int(x)] == 1.0
    x0, y0, x1, y1 = track.boxes[0]
    inner = full[int(y0 + 10) : int(y1 - 10), int(x0 + 10) : int(x1 - 10)]
    assert inner.mean() > 0.97
    # Soft edge: intermediate values exist, and the window is only around the face.
    assert np.any((mask.alpha > 0.05) & (mask.alpha < 0.95))
    assert mask.alpha.shape[0] < 200 and mask.alpha.shape[1] < 200
    assert full[0, 0] == 0.0 and full[470, 630] == 0.0


def test_mask_margin_grows_the_mask_and_clipping_keeps_it_in_frame() -> None:
    track = _track(0, 1, x=0, size=100)
    small = ellipse_mask(
        Ellipse.from_row(face_ellipses(track.boxes, track.landmarks5, 0.0)[0]), 640, 480
    )
    large = ellipse_mask(
        Ellipse.from_row(face_ellipses(track.boxes, track.landmarks5, 0.5)[0]), 640, 480
    )
    assert large.alpha.sum() > 1.8 * small.alpha.sum()
    assert large.x0 == 0 and large.y0 == 0  # clipped at the frame's edge, not wrapped


def test_mask_rotates_with_the_eye_line() -> None:
    track = _track(0, 1, x=200, size=100)
    landmarks = track.landmarks5[0].copy()
    centre = landmarks.mean(axis=0)
    turn = np.deg2rad(30)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    tilted = (landmarks - centre) @ rotation.T + centre
    params = face_ellipses(track.boxes, tilted[None], 0.0)
    assert np.rad2deg(params[0, 4]) == pytest.approx(30, abs=0.5)


def test_smoothing_removes_jitter_without_shrinking_the_mask() -> None:
    rng = np.random.default_rng(1)
    n = 120
    truth = np.stack(
        [np.linspace(100, 300, n), np.full(n, 200.0), np.full(n, 60.0), np.full(n, 80.0),
         np.zeros(n)], axis=1,
    )  # fmt: skip
    noisy = truth + rng.normal(0, 1, truth.shape) * np.array([3.0, 3.0, 2.0, 2.0, 0.03])
    smoothed = smooth_ellipses(noisy)
    roughness = lambda p: np.abs(np.diff(p, n=2, axis=0)).mean(axis=0)  # noqa: E731
    assert np.all(roughness(smoothed) < 0.35 * roughness(noisy))
    # Axes are held to the running maximum before smoothing: never smaller than the truth.
    assert smoothed[:, 2].min() >= truth[0, 2] - 0.5
    assert smoothed[:, 3].min() >= truth[0, 3] - 0.5


def test_box_mask_is_opaque_inside_and_clipped() -> None:
    mask = box_mask(np.array([10, 20, 60, 90], np.float32), 8.0, 50, 80)
    assert mask.x1 <= 50 and mask.y1 <= 80
    full = np.zeros((80, 50), np.float32)
    full[mask.slices] = mask.alpha
    assert full[25:79, 11:49].min() == 1.0
    assert full[21, 5] < 1.0
