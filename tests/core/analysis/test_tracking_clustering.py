"""Tracker and clustering logic on controlled inputs (the real-footage checks live in
test_analyze.py)."""

from __future__ import annotations

import numpy as np

from anonnet_studio.core.analysis.clustering import TrackForClustering, cluster_tracks
from anonnet_studio.core.analysis.tracking import FaceTracker, densify, split_at_cuts
from anonnet_studio.core.vision.types import FaceDetection


def _det(x: float, y: float, size: float = 100.0) -> FaceDetection:
    box = np.array([x, y, x + size, y + size], dtype=np.float32)
    lm = np.array([[x + 30, y + 40], [x + 70, y + 40], [x + 50, y + 60], [x + 35, y + 80],
                   [x + 65, y + 80]], dtype=np.float32)  # fmt: skip
    return FaceDetection(box=box, landmarks5=lm, score=0.9)


def _unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


def test_two_people_side_by_side_get_two_tracks() -> None:
    tracker = FaceTracker(max_gap_frames=5)
    for frame in range(30):
        tracker.update(frame, [_det(10 + frame, 50), _det(400 - frame, 60)])
    tracks = tracker.finish()
    assert len(tracks) == 2
    assert all(len(t.frames) == 30 for t in tracks)
    xs = [np.stack(t.boxes)[:, 0] for t in tracks]
    assert all(np.all(np.diff(x) != 0) for x in xs)  # no swaps back and forth


def test_short_gaps_are_bridged_and_long_gaps_end_a_track() -> None:
    tracker = FaceTracker(max_gap_frames=5)
    for frame in [*range(10), *range(14, 20), *range(40, 50)]:
        tracker.update(frame, [_det(100, 100)])
    tracks = tracker.finish()
    assert [t.frames[0] for t in tracks] == [0, 40]
    dense = densify(tracks[0])
    assert dense.frames.tolist() == list(range(20))
    assert dense.interpolated[10:14].all() and not dense.interpolated[:10].any()


def test_embedding_vetoes_an_identity_switch() -> None:
    tracker = FaceTracker(max_gap_frames=5, embedding_threshold=0.3)
    a, b = _unit([1, 0, 0]), _unit([0, 1, 0])
    tracker.update(0, [_det(100, 100)], [a])
    tracker.update(1, [_det(102, 100)], [b])  # same place, clearly another person
    assert len(tracker.finish()) == 2


def test_split_at_cuts_and_smoothing_reduces_jitter() -> None:
    tracker = FaceTracker(max_gap_frames=5)
    rng = np.random.default_rng(0)
    for frame in range(60):
        jitter = rng.normal(0, 3, size=2)
        tracker.update(frame, [_det(200 + jitter[0], 100 + jitter[1])])
    (track,) = tracker.finish()
    pieces = split_at_cuts(track, [(0, 25), (25, 60)])
    assert [p.frames[0] for p in pieces] == [0, 25]
    raw_x = np.stack(track.boxes)[:, 0]
    smooth_x = densify(track).boxes[:, 0]
    assert np.abs(np.diff(smooth_x)).mean() < 0.5 * np.abs(np.diff(raw_x)).mean()


def test_clustering_groups_recurring_person_and_respects_cannot_link() -> None:
    a, b = _unit([1, 0.1, 0]), _unit([0, 1, 0.1])
    a2 = _unit([1, 0.15, 0.05])
    tracks = [
        TrackForClustering(0, a, 0, 99),
        TrackForClustering(1, b, 100, 199),
        TrackForClustering(2, a2, 200, 299),
        # Same embedding as person A but on screen at the same time as track 2.
        TrackForClustering(3, a, 250, 299),
    ]
    groups = cluster_tracks(tracks, threshold=0.3)
    assert [0, 2] in groups or [0, 3] in groups
    assert [1] in groups
    assert len(groups) == 3
