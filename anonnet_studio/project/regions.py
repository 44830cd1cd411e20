"""Regions that are not faces: name tags, captions, screens, documents, tattoos, plates.

A region is a rectangle or an ellipse redacted over a frame range. Its geometry is a list
of rows (frame, box): one row is a static region; a tracked region has a row per frame it
was followed in. Between rows the box is interpolated, before the first and after the
last row it is held, so every frame of the range always has a box.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

import numpy as np

from anonnet_studio.project.arrays import ArraySpec, coerce_array_fields
from anonnet_studio.project.equality import ArrayAwareEquality

MAX_REGION_NAME_LENGTH = 200


class RegionShape(StrEnum):
    RECTANGLE = "rectangle"
    ELLIPSE = "ellipse"


class RegionMethod(StrEnum):
    BLUR = "blur"
    PIXELATE = "pixelate"
    FILL = "fill"  # a solid colour


@dataclass(eq=False)
class RedactionRegion(ArrayAwareEquality):
    id: int  # stable, unique among the project's regions
    name: str  # user editable, e.g. "Name tag"
    shape: RegionShape
    method: RegionMethod
    start_frame: int
    end_frame: int  # exclusive, like `Shot.end_frame`
    frames: Annotated[np.ndarray, ArraySpec("int32", (None,))]  # strictly increasing
    boxes: Annotated[np.ndarray, ArraySpec("float32", (None, 4))]  # x0, y0, x1, y1
    tracked: bool = False  # rows come from following the region through the video
    corrected_frames: list[int] = field(default_factory=list)  # rows the user set by hand

    def __post_init__(self) -> None:
        coerce_array_fields(self)
        problem = self.consistency_problem()
        if problem:
            raise ValueError(f"Region {self.id}: {problem}")

    def consistency_problem(self) -> str | None:
        """Why the fields do not fit together, or None when they do."""
        if not 0 <= self.start_frame < self.end_frame:
            return "the frame range is empty or negative"
        if len(self.frames) == 0:
            return "a region needs at least one box"
        if len(self.boxes) != len(self.frames):
            return f"boxes has {len(self.boxes)} rows but frames has {len(self.frames)}"
        if len(self.frames) > 1 and not np.all(np.diff(self.frames) > 0):
            return "frame indices must be strictly increasing"
        if not np.all(np.isfinite(self.boxes)):
            return "a box coordinate is not a number"
        if np.any(self.boxes[:, 2] <= self.boxes[:, 0]) or np.any(
            self.boxes[:, 3] <= self.boxes[:, 1]
        ):
            return "a box has no area"
        corrected = self.corrected_frames
        if any(b <= a for a, b in itertools.pairwise(corrected)):
            return "corrected_frames must be strictly increasing"
        if corrected and not np.all(np.isin(corrected, self.frames)):
            return "corrected_frames lists frames without a box"
        if not self.name.strip() or len(self.name) > MAX_REGION_NAME_LENGTH:
            return "the name must be 1 to 200 characters"
        return None

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame

    def covers(self, frame_index: int) -> bool:
        return self.start_frame <= frame_index < self.end_frame

    def box_at(self, frame_index: int) -> np.ndarray | None:
        """(4,) float32 box at a frame of the range (interpolated between rows, held
        beyond them), or None outside the range."""
        if not self.covers(frame_index):
            return None
        return dense_boxes(self.frames, self.boxes, frame_index, frame_index + 1)[0]

    def dense(self) -> tuple[np.ndarray, np.ndarray]:
        """(frames, boxes) for every frame of the range."""
        frames = np.arange(self.start_frame, self.end_frame, dtype=np.int32)
        return frames, dense_boxes(self.frames, self.boxes, self.start_frame, self.end_frame)


def dense_boxes(frames: np.ndarray, boxes: np.ndarray, start: int, end: int) -> np.ndarray:
    """Boxes (end - start, 4) for frames start..end-1 from sparse rows: linear between
    rows, held before the first and after the last (np.interp clamps at the ends)."""
    wanted = np.arange(start, end, dtype=np.float64)
    known = np.asarray(frames, dtype=np.float64)
    values = np.asarray(boxes, dtype=np.float64)
    return np.stack([np.interp(wanted, known, values[:, k]) for k in range(4)], axis=1).astype(
        np.float32
    )
