"""Per-track sampling during the analysis pass: identity embeddings and keyframe
candidates are computed on a sparse subset of each track's frames, which is what keeps
analysis faster than playback."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from anonnet_studio.core.analysis.keyframes import KeyframeCandidate
from anonnet_studio.core.analysis.tracking import EmbeddingSample, FaceTracker
from anonnet_studio.core.timing import StageClock
from anonnet_studio.core.vision.pose import (
    eye_aspect_ratio,
    head_pose,
    landmarks_inside_fraction,
    sharpness,
)
from anonnet_studio.core.vision.types import FaceDetection

if TYPE_CHECKING:
    from anonnet_studio.core.analysis.pipeline import AnalysisSettings
    from anonnet_studio.core.media.reader import DecodedFrame
    from anonnet_studio.core.vision.factory import VisionModels


def frontality_from_landmarks5(landmarks5: np.ndarray) -> float:
    """1 for a face looking at the camera, towards 0 as the nose moves off the eye axis."""
    eye_a, eye_b, nose = landmarks5[0], landmarks5[1], landmarks5[2]
    eye_distance = float(np.linalg.norm(eye_b - eye_a)) or 1.0
    offset = float(nose[0] - (eye_a[0] + eye_b[0]) / 2)
    return max(0.0, 1.0 - 2.0 * abs(offset) / eye_distance)


def sample_quality(detection: FaceDetection) -> float:
    """Weight of an embedding sample: confident, frontal and large faces count most."""
    size = min(1.0, detection.height / 80.0)
    return float(detection.score) * frontality_from_landmarks5(detection.landmarks5) * size


class TrackSampler:
    def __init__(
        self, models: VisionModels, settings: AnalysisSettings, clock: StageClock | None = None
    ) -> None:
        self._models = models
        self._settings = settings
        self._clock = clock or StageClock()
        self._observations: dict[int, int] = defaultdict(int)
        self._candidates: dict[int, list[KeyframeCandidate]] = defaultdict(list)
        self._keyframe_every = max(1, settings.keyframe_interval // settings.detection_stride)

    def embeddings_before_association(
        self, frame: DecodedFrame, detections: list[FaceDetection]
    ) -> list[np.ndarray | None]:
        """Embed every face on sampling frames, so the tracker can veto identity swaps."""
        if frame.index % self._settings.embedding_interval >= self._settings.detection_stride:
            return [None] * len(detections)
        with self._clock("embedding_s"):
            return [self._models.embedder.embed(frame.image, d) for d in detections]

    def qualities(self, detections: list[FaceDetection]) -> list[float]:
        return [sample_quality(d) for d in detections]

    def after_association(
        self,
        frame: DecodedFrame,
        detections: list[FaceDetection],
        track_ids: list[int],
        tracker: FaceTracker,
        full_size: tuple[int, int],
    ) -> None:
        """Give new tracks an embedding at once, and collect keyframe candidates."""
        with self._clock("keyframes_s"):
            self._after_association(frame, detections, track_ids, tracker, full_size)

    def _after_association(
        self,
        frame: DecodedFrame,
        detections: list[FaceDetection],
        track_ids: list[int],
        tracker: FaceTracker,
        full_size: tuple[int, int],
    ) -> None:
        scale = full_size[0] / frame.image.shape[1]
        for detection, track_id in zip(detections, track_ids, strict=True):
            track = tracker.active_track(track_id)
            if track is not None and not track.samples:
                with self._clock("embedding_s"):
                    embedding = self._models.embedder.embed(frame.image, detection)
                track.samples.append(
                    EmbeddingSample(frame.index, embedding, sample_quality(detection))
                )
            count = self._observations[track_id]
            self._observations[track_id] = count + 1
            if count % self._keyframe_every == 0:
                self._candidates[track_id].append(
                    self._candidate(frame, detection, scale, full_size)
                )

    def candidates_between(
        self, track_ids: list[int], first: int, last: int
    ) -> list[KeyframeCandidate]:
        return [
            c
            for track_id in track_ids
            for c in self._candidates[track_id]
            if first <= c.frame_index <= last
        ]

    def _candidate(
        self,
        frame: DecodedFrame,
        detection: FaceDetection,
        scale: float,
        full_size: tuple[int, int],
    ) -> KeyframeCandidate:
        small = self._models.landmarks.landmarks68(frame.image, detection.box)
        landmarks = (small * scale).astype(np.float32)
        return KeyframeCandidate(
            frame_index=frame.index,
            pose=head_pose(landmarks, full_size),
            landmarks68=landmarks,
            face_size=detection.height * scale,
            sharpness=sharpness(frame.image, detection.box),
            eye_aspect_ratio=eye_aspect_ratio(small),
            inside_fraction=landmarks_inside_fraction(landmarks, full_size),
        )
