"""Propagating a hand-drawn box on real footage: within its shot, onto the same face only,
stopping (and saying where) when the face is lost."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anonnet_studio.core.correction.geometry import box_iou
from anonnet_studio.core.correction.propagation import (
    PropagationSettings,
    StopReason,
    propagate_box,
)
from anonnet_studio.core.correction.tracker import csrt_tracker
from anonnet_studio.core.errors import OperationCancelled
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.progress import CancelToken
from anonnet_studio.core.vision.types import cosine_distance
from tests.core.correction.conftest import MONTAGE_CLIP_FRAMES


def test_the_installed_opencv_has_the_csrt_tracker():
    """A broken install (headless OpenCV without the contrib superset) must fail here."""
    assert hasattr(cv2, "TrackerCSRT_create"), "install opencv-contrib-python-headless"
    tracker = csrt_tracker()
    image = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    tracker.init(image, (40, 30, 50, 60))
    ok, box = tracker.update(image)
    assert ok and abs(box[0] - 40) <= 2


def _face(vision, reader, frame):
    (detection,) = vision.detector.detect(reader.frame_at(frame))
    return detection


def test_a_box_in_the_second_shot_follows_that_face_exactly_to_the_cut(vision, montage):
    cut = MONTAGE_CLIP_FRAMES
    with VideoReader(montage) as reader:
        end = reader.frame_count
        seed = cut + 20
        drawn = _face(vision, reader, seed).box + np.array([-8, -16, 8, 4], np.float32)
        progress = []
        result = propagate_box(
            reader, seed, drawn, (cut, end), vision.detector, vision.embedder,
            on_progress=progress.append,
        )  # fmt: skip
        assert result.frames.tolist() == list(range(cut, end))
        assert result.backward.reason is StopReason.SHOT_START and result.backward.frame == cut
        assert result.forward.reason is StopReason.SHOT_END and not result.forward.early
        np.testing.assert_allclose(result.boxes[seed - cut], drawn)
        for row, frame in enumerate(result.frames):
            face = _face(vision, reader, int(frame))
            # The box follows the face and keeps the user's looser framing around it.
            inside = _inside_fraction(face.box, result.boxes[row])
            assert inside > 0.9, f"frame {frame}: only {inside:.0%} of the face is in the box"
            assert _area(result.boxes[row]) < 2.0 * _area(face.box)
        assert result.detected_frames >= 0.9 * len(result.frames)
        reference = vision.embedder.embed(reader.frame_at(seed), _face(vision, reader, seed))
    assert cosine_distance(result.embedding, reference) < vision.embedder.threshold
    assert progress[-1].done == progress[-1].total and progress[0].done == 0


def _area(box: np.ndarray) -> float:
    return float((box[2] - box[0]) * (box[3] - box[1]))


def _inside_fraction(inner: np.ndarray, outer: np.ndarray) -> float:
    w = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    h = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    return float(w * h) / float((inner[2] - inner[0]) * (inner[3] - inner[1]))


def test_going_backward_in_small_chunks_gives_the_same_track(vision, montage):
    with VideoReader(montage) as reader:
        seed = reader.frame_count - 1
        box = _face(vision, reader, seed).box
        span = (MONTAGE_CLIP_FRAMES, reader.frame_count)
        whole = propagate_box(reader, seed, box, span, vision.detector, vision.embedder)
        tiny = PropagationSettings(backward_chunk_bytes=1)  # 8-frame chunks
        chunked = propagate_box(
            reader, seed, box, span, vision.detector, vision.embedder, settings=tiny
        )
    np.testing.assert_array_equal(chunked.frames, whole.frames)
    np.testing.assert_allclose(chunked.boxes, whole.boxes)


def test_a_face_that_leaves_the_picture_stops_propagation_where_it_was_lost(vision, pan_out):
    with VideoReader(pan_out) as reader:
        box = _face(vision, reader, 5).box
        result = propagate_box(
            reader, 5, box, (0, reader.frame_count), vision.detector, vision.embedder
        )
    assert result.forward.reason is StopReason.LOST and result.forward.early
    stop = result.forward.frame
    assert f"frame {stop}" in result.forward.message and 25 <= stop < reader.frame_count
    assert result.frames[-1] == stop - 1 and result.frames[0] == 0
    assert "lost the face at frame" in result.describe()


class _JumpingTracker:
    """A real CSRT tracker that, from one frame on, reports the other person's box: what
    happens when a tracker drifts onto a neighbouring face in a two-shot."""

    def __init__(self, jump_after: int, other_box: np.ndarray) -> None:
        self._tracker = csrt_tracker()
        self._updates = 0
        self._jump_after = jump_after
        self._other = other_box

    def init(self, image, box):
        self._tracker.init(image, box)

    def update(self, image):
        self._updates += 1
        ok, box = self._tracker.update(image)
        if self._updates >= self._jump_after:
            x0, y0, x1, y1 = (float(v) for v in self._other)
            return True, (x0, y0, x1 - x0, y1 - y0)
        return ok, box


def test_the_embedder_vetoes_a_jump_onto_another_persons_face(vision, two_shot):
    with VideoReader(two_shot) as reader:
        faces = sorted(vision.detector.detect(reader.frame_at(0)), key=lambda d: d.box[0])
        left, right = faces[0].box, faces[1].box
        settings = PropagationSettings()
        # The tracker works on a shrunk copy; give the fake jump in those coordinates.
        scale = min(1.0, settings.target_face_px / float(np.sqrt(np.prod(left[2:] - left[:2]))))
        scale = max(scale, settings.min_work_side / 640)
        result = propagate_box(
            reader, 0, left, (0, reader.frame_count), vision.detector, vision.embedder,
            directions=("forward",), settings=settings,
            tracker_factory=lambda: _JumpingTracker(12, right * scale),
        )  # fmt: skip
    assert result.forward.reason is StopReason.OTHER_FACE
    assert result.forward.frame <= 12
    assert "someone else's face" in result.forward.message
    assert all(box_iou(b, right) < 0.1 for b in result.boxes), "no row on the other face"


def test_propagation_is_cancellable(vision, montage):
    cancel = CancelToken()
    seen = []

    def on_progress(progress):
        seen.append(progress)
        if progress.done >= 5:
            cancel.cancel()

    with VideoReader(montage) as reader:
        box = _face(vision, reader, 10).box
        with pytest.raises(OperationCancelled):
            propagate_box(
                reader, 10, box, (0, MONTAGE_CLIP_FRAMES), vision.detector, vision.embedder,
                on_progress=on_progress, cancel=cancel,
                settings=PropagationSettings(),
            )  # fmt: skip
    assert seen and seen[-1].done < MONTAGE_CLIP_FRAMES - 1


def test_a_region_is_followed_by_the_tracker_alone(vision, pan_out):
    """A region that is not a face: no detector, no embedder; it still stops where the
    tracked content leaves the picture."""
    with VideoReader(pan_out) as reader:
        box = _face(vision, reader, 5).box
        result = propagate_box(reader, 5, box, (0, reader.frame_count), None, None)
    assert result.embedding.size == 0 and result.detected_frames == 0
    assert not np.any(result.scores)
    assert result.forward.reason is StopReason.LOST and result.frames[0] == 0
    shifts = result.boxes[:, 0] - result.boxes[5, 0]
    assert shifts[15] == pytest.approx(0, abs=6), "still while the picture is still"
    assert shifts[-1] < -60, "the box moved left with the picture"
