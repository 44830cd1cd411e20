"""The plain-data input of rendering: who is hidden how, where, in which frames.

`project/` builds a `RenderPlan` from the document (core never imports project). The plan
is frozen; `regions_at(plan, i)` answers "which faces are in frame i" from an index that is
built once per plan, so a lookup costs O(log n) however many tracks the video has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from anonnet_studio.core.anonymize.masks import Ellipse, face_ellipses, smooth_ellipses


class RedactionMethod(StrEnum):
    SYNTHETIC = "synthetic"
    BLUR = "blur"
    PIXELATE = "pixelate"
    MASK = "mask"
    KEEP = "keep"

    @property
    def hides(self) -> bool:
        return self is not RedactionMethod.KEEP


@dataclass(frozen=True, slots=True, eq=False)
class TrackGeometry:
    """Dense per-frame geometry of one face track (as in `AnalysedTrack`), full-frame pixels."""

    frames: np.ndarray  # (N,) int, strictly increasing
    boxes: np.ndarray  # (N, 4) x0, y0, x1, y1
    landmarks5: np.ndarray  # (N, 5, 2)

    def __post_init__(self) -> None:
        n = len(self.frames)
        if n == 0:
            raise ValueError("a track needs at least one frame")
        if self.boxes.shape != (n, 4) or self.landmarks5.shape != (n, 5, 2):
            raise ValueError(
                f"track arrays disagree: {n} frames, boxes {self.boxes.shape}, "
                f"landmarks {self.landmarks5.shape}"
            )
        if n > 1 and np.any(np.diff(self.frames) <= 0):
            raise ValueError("track frames must be strictly increasing")


@dataclass(frozen=True, slots=True, eq=False)
class PersonPlan:
    """One person (identity) and how to redact them."""

    identity_id: str
    method: RedactionMethod
    embedding: np.ndarray  # identity embedding from the analysis embedder (L2-normalised)
    tracks: list[TrackGeometry]
    mask_margin: float = 0.25  # ellipse enlargement; about 0.5 takes in hair and ears
    blur_strength: float = 1.0  # 1 = unrecognisable; higher is stronger
    pixel_blocks: int = 10  # blocks across the face
    mask_color: tuple[int, int, int] = (24, 24, 24)  # RGB fill of the solid mask


@dataclass(frozen=True, slots=True, eq=False)
class AreaPlan:
    """A region that is not a face (name tag, caption, screen, plate), redacted with
    `method` (blur, pixelate or mask) as a rectangle or an ellipse in every frame it has
    a box for. Rows are dense: one per frame, strictly increasing."""

    name: str
    shape: str  # "rectangle" | "ellipse"
    method: RedactionMethod
    frames: np.ndarray  # (N,) int
    boxes: np.ndarray  # (N, 4) x0, y0, x1, y1, full-frame pixels
    mask_color: tuple[int, int, int] = (24, 24, 24)

    def __post_init__(self) -> None:
        if self.shape not in ("rectangle", "ellipse"):
            raise ValueError(f"unknown area shape {self.shape!r}")
        if not self.method.hides:
            raise ValueError("an area is always redacted")
        if self.boxes.shape != (len(self.frames), 4) or len(self.frames) == 0:
            raise ValueError(f"area {self.name!r}: {len(self.frames)} frames, {self.boxes.shape}")
        if len(self.frames) > 1 and np.any(np.diff(self.frames) <= 0):
            raise ValueError("area frames must be strictly increasing")

    def box_at(self, frame_index: int) -> np.ndarray | None:
        """The area's box in `frame_index`, or None when it has none there."""
        row = int(np.searchsorted(self.frames, frame_index))
        if row < len(self.frames) and int(self.frames[row]) == frame_index:
            return self.boxes[row]
        return None


@dataclass(frozen=True, slots=True, eq=False)
class Region:
    """One face to treat in one frame."""

    person: PersonPlan
    frame_index: int
    box: np.ndarray  # (4,) face box, held at the track's first/last frame in the padding
    landmarks5: np.ndarray  # (5, 2)
    ellipse: Ellipse  # temporally smoothed mask ellipse
    held: bool  # True in coverage padding outside the track's own frames

    @property
    def identity_id(self) -> str:
        return self.person.identity_id

    @property
    def method(self) -> RedactionMethod:
        return self.person.method

    @property
    def face_size(self) -> float:
        """Mean side of the face box in pixels; effects scale with it."""
        return max(1.0, float(self.box[2] - self.box[0] + self.box[3] - self.box[1]) / 2)


@dataclass(frozen=True, slots=True, eq=False)
class RenderPlan:
    people: list[PersonPlan]
    # Any face that belongs to no kept person is hidden, including faces the analysis
    # never tracked (the leak check finds and covers them).
    hide_everyone_else: bool = True
    # Coverage is extended this many frames before/after each track with the first/last
    # geometry, so a face is covered while the detector is still warming up to it.
    coverage_pad_frames: int = 3
    # Shots as (start, end exclusive); padding never crosses a shot boundary.
    shots: tuple[tuple[int, int], ...] = ()
    leak_check: bool = True
    leak_check_max_side: int = 640  # the analysis detection scale
    # The leak check's extra looks (see `looks`): the second detector family with the
    # frame's longer side at most this (0: off), and, on frames larger than the analysis
    # scale, the analysis detector's small-face pass, enlarged up to 1.5x but to a longer
    # side of at most `small_face_side` (0: off), in tiles of `small_face_tile` (0: whole).
    second_look_side: int = 640
    small_face_side: int = 2880
    small_face_tile: int = 960
    residual_stride: int = 5  # residual re-identification on every Nth frame
    side_by_side: bool = False  # original | anonymized, double width
    crf: int = 18
    copy_audio: bool = True
    # Regions that are not faces, redacted after the faces (see `areas.redact_areas`).
    areas: list[AreaPlan] = field(default_factory=list)
    # Lazily built lookup index; a list so the frozen plan can fill it once. Two threads
    # racing here would build identical indexes, and both use the first.
    _index: list[_RegionIndex] = field(default_factory=list, init=False, repr=False)

    @property
    def hidden_people(self) -> list[PersonPlan]:
        return [p for p in self.people if p.method.hides]

    def region_index(self) -> _RegionIndex:
        """The frame -> regions index, built on first use and reused afterwards."""
        if not self._index:
            self._index.append(_RegionIndex(self))
        return self._index[0]


def regions_at(plan: RenderPlan, frame_index: int) -> list[Region]:
    """Every face region of `frame_index`, hidden and kept, in plan order."""
    return plan.region_index().at(frame_index)


@dataclass(frozen=True, slots=True, eq=False)
class _TrackMasks:
    person: PersonPlan
    track: TrackGeometry
    ellipses: np.ndarray  # (N, 5) smoothed parameters


class _RegionIndex:
    """Sorted (frame, track, row) entries, looked up with binary search."""

    def __init__(self, plan: RenderPlan) -> None:
        self._tracks: list[_TrackMasks] = []
        frames, owners, rows = [], [], []
        pad = max(0, plan.coverage_pad_frames)
        for person in plan.people:
            for track in person.tracks:
                params = face_ellipses(track.boxes, track.landmarks5, person.mask_margin)
                self._tracks.append(_TrackMasks(person, track, smooth_ellipses(params)))
                first, last = int(track.frames[0]), int(track.frames[-1])
                lo, hi = _padded_span(first, last, pad, plan.shots)
                span = np.arange(lo, hi + 1, dtype=np.int64)
                # Row of each covered frame in the track; frames in the track's own gaps
                # and in the padding take the nearest earlier (or first) geometry.
                row = np.searchsorted(track.frames, span, side="right") - 1
                frames.append(span)
                owners.append(np.full(len(span), len(self._tracks) - 1, dtype=np.int32))
                rows.append(np.clip(row, 0, len(track.frames) - 1).astype(np.int32))
        if frames:
            all_frames = np.concatenate(frames)
            order = np.argsort(all_frames, kind="stable")
            self._frames = all_frames[order]
            self._owners = np.concatenate(owners)[order]
            self._rows = np.concatenate(rows)[order]
        else:
            self._frames = np.zeros(0, np.int64)
            self._owners = self._rows = np.zeros(0, np.int32)

    def at(self, frame_index: int) -> list[Region]:
        lo = int(np.searchsorted(self._frames, frame_index, side="left"))
        hi = int(np.searchsorted(self._frames, frame_index, side="right"))
        regions = []
        for owner, row in zip(self._owners[lo:hi], self._rows[lo:hi], strict=True):
            masks = self._tracks[int(owner)]
            track = masks.track
            held = not (int(track.frames[0]) <= frame_index <= int(track.frames[-1]))
            regions.append(
                Region(
                    person=masks.person,
                    frame_index=frame_index,
                    box=track.boxes[row],
                    landmarks5=track.landmarks5[row],
                    ellipse=Ellipse.from_row(masks.ellipses[row]),
                    held=held,
                )
            )
        return regions

    @property
    def last_frame(self) -> int:
        return int(self._frames[-1]) if len(self._frames) else -1


def _padded_span(
    first: int, last: int, pad: int, shots: tuple[tuple[int, int], ...]
) -> tuple[int, int]:
    lo, hi = max(0, first - pad), last + pad
    for start, end in shots:
        if start <= first < end:
            lo, hi = max(lo, start), min(hi, max(end - 1, last))
            break
    return lo, hi
