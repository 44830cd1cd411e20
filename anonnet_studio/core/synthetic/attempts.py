"""What one generation attempt produced, as the anonymity check and the project record it.

`GenerationAttempt` is the one record of a synthetic-face candidate: the generate -> verify
-> retry loop (`verify.generate_verified`) creates it, the project keeps every one in
`Identity.attempts`, the editor lists them and the audit report prints them. The attempt
that was kept also carries its `image_key` (the image is in `Project.images`) and its
`FacePlacement`, which is what the motion stage needs to animate it.

Both are frozen and hold only plain numbers (no arrays), so a project file stores them as
JSON and a record can cross the worker thread as it is. Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Point = tuple[float, float]
AffineRow = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class FacePlacement:
    """Where a stored synthetic face sits in its keyframe, in the numbers the motion stage
    animates it with (`core.motion.face_source.SyntheticKeyframe`)."""

    track_id: int  # the person's track that holds the keyframe
    frame_index: int  # the keyframe in the source video
    image_to_frame: tuple[AffineRow, AffineRow]  # 2x3 affine, image -> frame pixels
    landmarks68: tuple[Point, ...]  # the synthetic face's own landmarks, image pixels
    box: tuple[float, float, float, float]  # the original face's track box, frame pixels
    landmarks5: tuple[Point, ...]  # the original face's track landmarks, frame pixels

    def __post_init__(self) -> None:
        if len(self.landmarks68) != 68 or len(self.landmarks5) != 5:
            raise ValueError("a face placement needs 68 and 5 landmarks")
        points = (*self.landmarks68, *self.landmarks5, *self.image_to_frame, self.box)
        if not np.isfinite(np.asarray([v for p in points for v in p], np.float64)).all():
            raise ValueError("a face placement must hold finite numbers")

    @classmethod
    def from_arrays(
        cls,
        *,
        track_id: int,
        frame_index: int,
        image_to_frame: Any,
        landmarks68: Any,
        box: Any,
        landmarks5: Any,
    ) -> FacePlacement:
        """Build from numpy arrays (rounded to 1/100 px: finer is noise, and it keeps
        project files small)."""
        matrix = _rows(image_to_frame, 3, decimals=6)
        return cls(
            track_id=int(track_id),
            frame_index=int(frame_index),
            image_to_frame=(_triple(matrix[0]), _triple(matrix[1])),
            landmarks68=tuple(_pair(p) for p in _rows(landmarks68, 2)),
            box=_quad(np.asarray(box, np.float64).reshape(4).round(2)),
            landmarks5=tuple(_pair(p) for p in _rows(landmarks5, 2)),
        )

    def image_to_frame_matrix(self) -> np.ndarray:
        return np.asarray(self.image_to_frame, np.float64)

    def landmarks68_array(self) -> np.ndarray:
        return np.asarray(self.landmarks68, np.float32)

    def box_array(self) -> np.ndarray:
        return np.asarray(self.box, np.float32)

    def landmarks5_array(self) -> np.ndarray:
        return np.asarray(self.landmarks5, np.float32)


@dataclass(frozen=True, slots=True)
class GenerationAttempt:
    """One synthetic-face candidate: the parameters used and how the anonymity check went."""

    seed: int
    strength: float
    steps: int
    guidance: float
    distance: float  # identity distance between the original face and the candidate
    # The distance the candidate had to clear: the embedder's same-person threshold plus
    # the anonymity margin. None for attempts recorded before project format 2.
    threshold: float | None
    face_found: bool  # a face was detected in the result (False: it cannot be used)
    passed: bool  # a face that no longer matches the original, with the margin
    note: str = ""
    image_key: str | None = None  # the kept candidate's image in `Project.images`
    placement: FacePlacement | None = None  # where the kept candidate sits (for motion)
    created_at: str = ""  # ISO 8601, UTC
    # Which backend made it (project format 5; older attempts are all AnonNET's) and, for
    # FAMS, the anonymization degree d it ran with (strength is then the person's setting
    # that d was derived from; retries raise d).
    backend: str = "anonnet"
    degree: float | None = None


def _rows(values: Any, width: int, decimals: int = 2) -> np.ndarray:
    return np.asarray(values, np.float64).reshape(-1, width).round(decimals)


def _pair(row: Sequence[float]) -> Point:
    return (float(row[0]), float(row[1]))


def _triple(row: Sequence[float]) -> AffineRow:
    return (float(row[0]), float(row[1]), float(row[2]))


def _quad(row: Any) -> tuple[float, float, float, float]:
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
