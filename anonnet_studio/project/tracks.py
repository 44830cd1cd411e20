"""Face tracks: per-frame boxes and landmarks of one face within one shot."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np

from anonnet_studio.project.arrays import ArraySpec, coerce_array_fields
from anonnet_studio.project.equality import ArrayAwareEquality


@dataclass(eq=False)
class Keyframe(ArrayAwareEquality):
    """The most frontal frame of a track: the one the synthetic face is generated from."""

    frame_index: int
    yaw: float  # degrees, 0 = facing the camera
    pitch: float  # degrees, wrapped into (-180, 180]
    roll: float  # degrees
    score: float  # detection confidence at this frame, 0..1
    landmarks68: Annotated[np.ndarray, ArraySpec("float32", (68, 2))]  # full-frame pixels

    def __post_init__(self) -> None:
        coerce_array_fields(self)


@dataclass(eq=False)
class Track(ArrayAwareEquality):
    """One face followed through consecutive frames of one shot.

    Rows are sorted by strictly increasing frame index. Rows flagged `interpolated` bridge a
    gap where the detector missed the face; their score is 0. `landmarks68` is sparse: only
    the frames listed in `landmarks68_frames` have them.

    Hand corrections (schema 3): `manual` tracks were drawn by the user and followed by
    propagation; `corrected_frames` are the frames whose box the user set (the keyframes
    between which corrections are interpolated); a `kept` track stays visible even though
    its person is hidden (a poster, a public figure on a screen).
    """

    id: int
    shot_index: int
    identity_id: str
    frames: Annotated[np.ndarray, ArraySpec("int32", (None,))]
    boxes: Annotated[np.ndarray, ArraySpec("float32", (None, 4))]  # x0, y0, x1, y1, smoothed
    landmarks5: Annotated[np.ndarray, ArraySpec("float32", (None, 5, 2))]  # YuNet order
    scores: Annotated[np.ndarray, ArraySpec("float32", (None,))]
    interpolated: Annotated[np.ndarray, ArraySpec("bool", (None,))]
    embedding: Annotated[np.ndarray, ArraySpec("float32", (None,))]  # L2-normalised
    landmarks68: Annotated[np.ndarray, ArraySpec("float32", (None, 68, 2))] | None = None
    landmarks68_frames: Annotated[np.ndarray, ArraySpec("int32", (None,))] | None = None
    keyframe: Keyframe | None = None
    manual: bool = False
    kept: bool = False
    corrected_frames: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        coerce_array_fields(self)
        problem = self.consistency_problem()
        if problem:
            raise ValueError(f"Track {self.id}: {problem}")

    def consistency_problem(self) -> str | None:
        """Why the arrays do not fit together, or None when they do."""
        n = len(self.frames)
        if n == 0:
            return "a track needs at least one frame"
        for name in ("boxes", "landmarks5", "scores", "interpolated"):
            if len(getattr(self, name)) != n:
                return f"{name} has {len(getattr(self, name))} rows but frames has {n}"
        if n > 1 and not np.all(np.diff(self.frames) > 0):
            return "frame indices must be strictly increasing"
        if (self.landmarks68 is None) != (self.landmarks68_frames is None):
            return "landmarks68 and landmarks68_frames must be given together"
        if self.landmarks68 is not None and self.landmarks68_frames is not None:
            if len(self.landmarks68) != len(self.landmarks68_frames):
                return "landmarks68 and landmarks68_frames differ in length"
            if not np.all(np.diff(self.landmarks68_frames) > 0):
                return "landmarks68_frames must be strictly increasing"
            if not np.all(np.isin(self.landmarks68_frames, self.frames)):
                return "landmarks68_frames lists frames outside the track"
        corrected = self.corrected_frames
        if any(b <= a for a, b in itertools.pairwise(corrected)):
            return "corrected_frames must be strictly increasing"
        if corrected and not np.all(np.isin(corrected, self.frames)):
            return "corrected_frames lists frames outside the track"
        return None

    @property
    def start_frame(self) -> int:
        return int(self.frames[0])

    @property
    def end_frame(self) -> int:
        """One past the last frame, like `Shot.end_frame`."""
        return int(self.frames[-1]) + 1

    def __len__(self) -> int:
        return len(self.frames)

    def covers(self, frame_index: int) -> bool:
        """True when `frame_index` lies within the track's first and last frame."""
        return self.start_frame <= frame_index < self.end_frame

    def row_of(self, frame_index: int) -> int | None:
        """Row of an exactly stored frame, or None."""
        row = int(np.searchsorted(self.frames, frame_index))
        if row < len(self.frames) and self.frames[row] == frame_index:
            return row
        return None

    def box_at(self, frame_index: int) -> np.ndarray | None:
        """(4,) float32 box at a frame, linearly interpolated between stored frames."""
        return self._interpolate(self.boxes, frame_index)

    def landmarks5_at(self, frame_index: int) -> np.ndarray | None:
        """(5, 2) float32 landmarks at a frame, linearly interpolated between stored frames."""
        return self._interpolate(self.landmarks5, frame_index)

    def landmarks68_at(self, frame_index: int) -> np.ndarray | None:
        """(68, 2) landmarks where they were computed for exactly this frame, else None."""
        if self.landmarks68 is None or self.landmarks68_frames is None:
            return None
        row = int(np.searchsorted(self.landmarks68_frames, frame_index))
        if row < len(self.landmarks68_frames) and self.landmarks68_frames[row] == frame_index:
            return self.landmarks68[row].copy()
        return None

    def _interpolate(self, values: np.ndarray, frame_index: int) -> np.ndarray | None:
        if not self.covers(frame_index):
            return None
        right = int(np.searchsorted(self.frames, frame_index))
        if self.frames[right] == frame_index:
            return values[right].copy()
        left = right - 1
        f0, f1 = int(self.frames[left]), int(self.frames[right])
        t = (frame_index - f0) / (f1 - f0)
        # float64 arithmetic so that t * delta does not lose precision on large coordinates
        blended = values[left].astype(np.float64) * (1.0 - t) + values[right] * t
        return blended.astype(np.float32)


@dataclass(frozen=True)
class RemovedFace:
    """A track the user deleted as not a face (kept for the audit report, no geometry)."""

    track_id: int
    identity_id: str
    shot_index: int
    first_frame: int
    last_frame: int  # inclusive
    manual: bool = False
