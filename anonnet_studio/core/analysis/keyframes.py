"""Choose the best keyframe of a person in a shot: frontal, large, sharp, eyes open.

The reference scored only the first 10 frames of a scene and, because its 3D model had y
pointing up, preferred tilted faces. Here candidates are sampled over the whole shot and
the head pose comes from `core.vision.pose`, which fixes the pitch wrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from anonnet_studio.core.vision.types import HeadPose

MIN_LANDMARKS_INSIDE = 0.8  # reference: drop frames with < 80% of landmarks in the image
OPEN_EYE_ASPECT_RATIO = 0.2
MAX_FRONTALITY_COST_DEG = 60.0


@dataclass(frozen=True, slots=True, eq=False)
class KeyframeCandidate:
    frame_index: int
    pose: HeadPose
    landmarks68: np.ndarray  # (68, 2) in full-frame coordinates
    face_size: float  # pixels, full frame
    sharpness: float  # variance of the Laplacian on the face
    eye_aspect_ratio: float
    inside_fraction: float


@dataclass(frozen=True, slots=True)
class KeyframeWeights:
    frontal: float = 0.5
    size: float = 0.2
    sharpness: float = 0.15
    eyes_open: float = 0.15


def score_candidates(
    candidates: Sequence[KeyframeCandidate], weights: KeyframeWeights | None = None
) -> list[float]:
    """Score in [0, 1] per candidate; size and sharpness are relative to the best in the
    set, so the score compares frames of one shot rather than absolute image quality.
    Candidates with too few landmarks inside the image score -1 (never chosen)."""
    weights = weights or KeyframeWeights()
    if not candidates:
        return []
    max_size = max(c.face_size for c in candidates) or 1.0
    max_sharpness = max(c.sharpness for c in candidates) or 1.0
    scores = []
    for c in candidates:
        if c.inside_fraction < MIN_LANDMARKS_INSIDE:
            scores.append(-1.0)
            continue
        frontal = max(0.0, 1.0 - c.pose.frontality_cost / MAX_FRONTALITY_COST_DEG)
        eyes = min(1.0, c.eye_aspect_ratio / OPEN_EYE_ASPECT_RATIO)
        scores.append(
            weights.frontal * frontal
            + weights.size * c.face_size / max_size
            + weights.sharpness * c.sharpness / max_sharpness
            + weights.eyes_open * eyes
        )
    return scores


def best_candidate(
    candidates: Sequence[KeyframeCandidate],
) -> tuple[KeyframeCandidate, float] | None:
    scores = score_candidates(candidates)
    if not scores:
        return None
    index = int(np.argmax(scores))
    if scores[index] < 0:  # every candidate was cut off at the frame edge: take the biggest
        index = int(np.argmax([c.inside_fraction for c in candidates]))
    return candidates[index], float(scores[index])
