"""Plain-data output of the analysis; `project/` turns it into an editable document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from anonnet_studio.core.vision.types import AttributeEstimate, HeadPose


@dataclass(frozen=True, slots=True, eq=False)
class AnalysedKeyframe:
    frame_index: int
    pose: HeadPose
    landmarks68: np.ndarray  # (68, 2) full-frame pixels
    score: float


@dataclass(frozen=True, slots=True, eq=False)
class AnalysedTrack:
    id: int
    shot_index: int
    frames: np.ndarray  # (N,) int32, consecutive
    boxes: np.ndarray  # (N, 4) float32, full-frame pixels, smoothed
    landmarks5: np.ndarray  # (N, 5, 2) float32
    scores: np.ndarray  # (N,) float32, 0 where interpolated
    interpolated: np.ndarray  # (N,) bool
    embedding: np.ndarray  # (D,) float32, L2-normalised
    keyframe: AnalysedKeyframe | None


@dataclass(frozen=True, slots=True, eq=False)
class AnalysedIdentity:
    track_ids: tuple[int, ...]
    embedding: np.ndarray
    thumbnail: np.ndarray  # (96, 96, 3) uint8
    # "age" (raw years), "age_group", "gender", "race", "expression" (scores in 0..1)
    attributes: dict[str, AttributeEstimate]


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    media_info: dict[str, Any]
    shots: list[tuple[int, int]]  # (start, end exclusive)
    tracks: list[AnalysedTrack]
    identities: list[AnalysedIdentity]
    models: dict[str, str]  # role -> model name and revision
    settings: dict[str, Any]
    timings_s: dict[str, float] = field(default_factory=dict)
