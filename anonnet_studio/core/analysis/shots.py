"""Shot (cut) detection on small frames, fed from the same decode pass as face detection.

Built on PySceneDetect's AdaptiveDetector: a cut needs both a large content change
(HSV + edges) and a change that stands out against its neighbours' average. The second
condition is what keeps fades and camera moves from producing a storm of cuts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np
from scenedetect import FrameTimecode
from scenedetect.detectors import AdaptiveDetector

# Frames are scored at this width; cut detection does not need detail and this keeps the
# per-frame cost well under a millisecond.
SHOT_ANALYSIS_WIDTH = 160


@dataclass(frozen=True, slots=True)
class ShotSettings:
    adaptive_threshold: float = 3.0
    # PySceneDetect defaults to 15. A hard cut between two talking heads on similar grey
    # backgrounds scores ~14 full-frame and ~7.6 when letterboxed (the black bars never
    # change), while in-shot motion stays under ~5.5. False cuts from motion are kept out
    # by the adaptive ratio: ~30x at real cuts, under 2.3 elsewhere in our montages.
    min_content_value: float = 5.0
    min_shot_seconds: float = 0.5
    window_width: int = 2


class ShotDetector:
    """Streaming cut detector. Push every frame in order, then call `shots()`."""

    def __init__(self, fps: Fraction | float, settings: ShotSettings | None = None) -> None:
        self.settings = settings or ShotSettings()
        self._fps = Fraction(fps).limit_denominator(100000) if fps else Fraction(30)
        self.min_shot_frames = max(1, round(float(self._fps) * self.settings.min_shot_seconds))
        self._detector = AdaptiveDetector(
            adaptive_threshold=self.settings.adaptive_threshold,
            min_scene_len=self.min_shot_frames,
            window_width=self.settings.window_width,
            min_content_val=self.settings.min_content_value,
        )
        self._cuts: list[int] = []
        self._frames_seen = 0

    def push(self, frame_index: int, image_rgb: np.ndarray) -> None:
        """Feed the next frame (any size; it is shrunk here). Indices must be sequential."""
        small = _shrink(image_rgb)
        bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        timecode = FrameTimecode(frame_index, fps=self._fps)
        for cut in self._detector.process_frame(timecode, bgr):
            self._cuts.append(int(cut.frame_num))
        self._frames_seen = frame_index + 1

    @property
    def cuts(self) -> list[int]:
        """Frame indices that start a new shot (never 0)."""
        return [c for c in self._cuts if 0 < c < self._frames_seen]

    def shots(self, frame_count: int | None = None) -> list[tuple[int, int]]:
        """Shots as (start_frame, end_frame_exclusive), covering every frame."""
        total = frame_count if frame_count is not None else self._frames_seen
        bounds = [0, *[c for c in self.cuts if c < total], total]
        shots = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
        # A last shot shorter than the minimum is a detector artefact at the very end.
        if len(shots) > 1 and shots[-1][1] - shots[-1][0] < self.min_shot_frames:
            last = shots.pop()
            shots[-1] = (shots[-1][0], last[1])
        return shots


def _shrink(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    if width <= SHOT_ANALYSIS_WIDTH:
        return image
    new_height = max(1, round(height * SHOT_ANALYSIS_WIDTH / width))
    return cv2.resize(image, (SHOT_ANALYSIS_WIDTH, new_height), interpolation=cv2.INTER_AREA)
