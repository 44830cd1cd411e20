"""The no-leak guarantee: every rendered frame is checked before it is encoded.

The check looks at the rendered frame several ways (see `looks`): the analysis detector at
the analysis detection scale, a detector of another family, and a small-face pass in
tiles; each face found is the same face as an earlier look's when their boxes overlap. A
face is a leak when it matches a hidden person (cosine distance below the embedder's
threshold) or, under the hide-everyone policy, when it lies in no region of the plan (a
face the analysis never tracked): such a face is covered whatever its identity, so it is
not embedded. Faces inside a redacted region that no longer match anyone are the
redaction itself, not leaks. Leaks are covered (strong blur, then a solid fill if a face
is still found there) and recorded with the look that found them.

On every Nth frame the same detections give the residual re-identification distance of
each hidden person: how close the output still is to them, for the audit report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from anonnet_studio.core.anonymize.looks import Look, faces_seen, same_face
from anonnet_studio.core.anonymize.masks import box_mask
from anonnet_studio.core.anonymize.methods import blend_into, blurred, filled
from anonnet_studio.core.anonymize.plan import Region, RenderPlan
from anonnet_studio.core.timing import StageClock
from anonnet_studio.core.vision.types import (
    FaceDetection,
    FaceDetector,
    FaceEmbedder,
    cosine_distance,
)

# A detection belongs to a region when at least this fraction of its box lies inside.
OWNERSHIP_FRACTION = 0.5
# Kept faces are matched against their box grown by this fraction per side.
KEPT_BOX_GROWTH = 0.25
# Covering a leak: margin around the detected box, and blur strength (1 = normal blur).
LEAK_BOX_MARGIN = 0.3
LEAK_BLUR_STRENGTH = 2.0
LEAK_FILL_COLOR = (24, 24, 24)


@dataclass(frozen=True, slots=True)
class LeakRecord:
    frame_index: int
    box: tuple[float, float, float, float]  # full-frame pixels, as detected in the output
    matched_identity: str | None  # the hidden person it matched, None for an unknown face
    distance: float | None  # cosine distance to the closest hidden person, if any
    # False when a face was still found there after the blur and the solid fill: the audit
    # report counts it under `leaks_uncovered` and fails.
    covered: bool = True
    detector: str = ""  # the label of the look that found it (see `looks.Look`)


@dataclass(frozen=True, slots=True)
class ResidualStats:
    """How re-identifiable a hidden person still is in the output (lower = worse)."""

    identity_id: str
    embedder: str
    threshold: float  # cosine distance below which the embedder calls it the same person
    frames_sampled: int  # sampled frames in which this person had a region
    frames_detectable: int  # ... of which a face was still detected in their region
    min_distance: float | None  # None when the face was never detectable
    median_distance: float | None

    @property
    def reidentified(self) -> bool:
        return self.min_distance is not None and self.min_distance < self.threshold


@dataclass(slots=True, eq=False)
class _Face:
    detection: FaceDetection  # in the image its look saw
    box: np.ndarray  # full-frame pixels
    owner: Region | None
    look: str  # label of the look that found it
    embedding: np.ndarray | None = None
    nearest: tuple[str, float] | None = None  # closest hidden person and distance


@dataclass(slots=True)
class _ResidualAccumulator:
    sampled: int = 0
    distances: list[float] = field(default_factory=list)


class LeakChecker:
    """Checks and fixes rendered frames for one render; keeps the residual statistics."""

    def __init__(
        self,
        detector: FaceDetector,
        embedder: FaceEmbedder,
        plan: RenderPlan,
        extra_looks: Sequence[Look] = (),
    ) -> None:
        """`detector` looks at the analysis scale; `extra_looks` follow it in order."""
        self.looks = [primary_look(detector, plan), *extra_looks]
        self._embedder = embedder
        self._hide_everyone = plan.hide_everyone_else
        self._stride = max(1, plan.residual_stride)
        self._hidden: dict[str, np.ndarray] = {}
        for person in plan.hidden_people:
            vector = np.asarray(person.embedding, dtype=np.float32).ravel()
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                self._hidden[person.identity_id] = vector / norm
        self._residual = {p.identity_id: _ResidualAccumulator() for p in plan.hidden_people}
        # Where the check's time goes: `look <label>`, `embedding`, `cover`, `matching`.
        self.clock = StageClock()

    def check(self, frame: np.ndarray, frame_index: int, regions: list[Region]) -> list[LeakRecord]:
        """Find leaks in the rendered `frame`, cover them in place, and return them."""
        with self.clock("matching"):
            return self._check(frame, frame_index, regions)

    def _check(
        self, frame: np.ndarray, frame_index: int, regions: list[Region]
    ) -> list[LeakRecord]:
        faces = self._faces(frame, regions)
        leaks = [face for face in faces if self._is_leak(face)]
        uncovered: list[np.ndarray] = []
        if leaks:
            with self.clock("cover"):
                for face in leaks:
                    cover_box(frame, face.box)
            # Look again at the frame as it will be encoded; a face the blur did not
            # defeat gets a solid fill: never hand a leak to the encoder.
            faces = self._faces(frame, regions)
            survivors = [f for f in faces if self._is_leak(f)]
            for face in survivors:
                with self.clock("cover"):
                    fill_box(frame, face.box)
                faces.remove(face)
            if survivors:  # rare: the fill is the last resort, so look once more
                uncovered = [f.box for f in self._faces(frame, regions) if self._is_leak(f)]
        if frame_index % self._stride == 0:
            self._sample_residual(faces, regions)
        return [
            LeakRecord(
                frame_index=frame_index,
                box=(
                    float(face.box[0]),
                    float(face.box[1]),
                    float(face.box[2]),
                    float(face.box[3]),
                ),
                matched_identity=self._matched(face),
                distance=face.nearest[1] if face.nearest else None,
                covered=not any(_overlaps(face.box, box) for box in uncovered),
                detector=face.look,
            )
            for face in leaks
        ]

    def residual(self) -> dict[str, ResidualStats]:
        """Residual re-identification statistics per hidden identity."""
        stats = {}
        for identity, acc in self._residual.items():
            values = np.asarray(acc.distances, dtype=np.float64)
            stats[identity] = ResidualStats(
                identity_id=identity,
                embedder=self._embedder.name,
                threshold=float(self._embedder.threshold),
                frames_sampled=acc.sampled,
                frames_detectable=len(values),
                min_distance=float(values.min()) if len(values) else None,
                median_distance=float(np.median(values)) if len(values) else None,
            )
        return stats

    # -- internals -------------------------------------------------------------------------

    def _faces(self, frame: np.ndarray, regions: list[Region]) -> list[_Face]:
        faces: list[_Face] = []
        for seen, detection, box in faces_seen(self.looks, frame, self.clock):
            if any(same_face(box, face.box) for face in faces):
                continue
            face = _Face(detection, box, _owner(box, regions), seen.look.label)
            # Under hide-everyone a face outside every region is covered whatever its
            # identity: embedding it would change nothing.
            if self._hidden and not (self._hide_everyone and face.owner is None):
                with self.clock("embedding"):
                    face.embedding = self._embedder.embed(seen.image, detection)
                face.nearest = min(
                    ((i, cosine_distance(face.embedding, e)) for i, e in self._hidden.items()),
                    key=lambda item: item[1],
                )
            faces.append(face)
        return faces

    def _matched(self, face: _Face) -> str | None:
        if face.nearest is not None and face.nearest[1] < self._embedder.threshold:
            return face.nearest[0]
        return None

    def _is_leak(self, face: _Face) -> bool:
        if self._matched(face) is not None:
            return True
        return self._hide_everyone and face.owner is None

    def _sample_residual(self, faces: list[_Face], regions: list[Region]) -> None:
        for region in regions:
            identity = region.identity_id
            acc = self._residual.get(identity)
            if acc is None:
                continue
            acc.sampled += 1
            reference = self._hidden.get(identity)
            own = [f.embedding for f in faces if f.owner is region and f.embedding is not None]
            if reference is None or not own:
                continue
            acc.distances.append(min(cosine_distance(e, reference) for e in own))


def primary_look(detector: FaceDetector, plan: RenderPlan) -> Look:
    """The analysis detector at the analysis scale (never enlarged)."""
    return Look(detector.name, detector, plan.leak_check_max_side)


def cover_box(frame: np.ndarray, box: np.ndarray) -> None:
    """Strong blur over a detected face box grown by a margin, feathered outwards."""
    grown = _grow(box, LEAK_BOX_MARGIN)
    size = float(box[2] - box[0] + box[3] - box[1]) / 2
    mask = box_mask(grown, 0.15 * size, frame.shape[1], frame.shape[0])
    if not mask.empty:
        blend_into(frame, mask, blurred(frame[mask.slices], size, LEAK_BLUR_STRENGTH))


def fill_box(frame: np.ndarray, box: np.ndarray) -> None:
    """Solid fill over a face box grown by a margin: the last resort."""
    grown = _grow(box, LEAK_BOX_MARGIN)
    size = float(box[2] - box[0] + box[3] - box[1]) / 2
    mask = box_mask(grown, 0.1 * size, frame.shape[1], frame.shape[0])
    if not mask.empty:
        blend_into(frame, mask, filled(frame[mask.slices], LEAK_FILL_COLOR))


def _grow(box: np.ndarray, fraction: float) -> np.ndarray:
    w, h = float(box[2] - box[0]), float(box[3] - box[1])
    return np.array(
        [
            box[0] - w * fraction,
            box[1] - h * fraction,
            box[2] + w * fraction,
            box[3] + h * fraction,
        ],
        dtype=np.float32,
    )


def _overlaps(a: np.ndarray, b: np.ndarray) -> bool:
    """The two boxes share area (a face found again where a leak was covered)."""
    return bool(min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1]))


def _covered_bounds(region: Region) -> np.ndarray:
    if region.method.hides:
        return np.asarray(region.ellipse.bounds(feathered=False), dtype=np.float32)
    return _grow(np.asarray(region.box, dtype=np.float32), KEPT_BOX_GROWTH)


def _owner(box: np.ndarray, regions: list[Region]) -> Region | None:
    """The region containing most of `box`, if it contains enough of it. Hidden regions
    win ties, so a face between a kept and a hidden person is checked as hidden."""
    area = max(float(box[2] - box[0]) * float(box[3] - box[1]), 1e-6)
    best, best_fraction = None, OWNERSHIP_FRACTION
    for region in sorted(regions, key=lambda r: not r.method.hides):
        bounds = _covered_bounds(region)
        w = min(box[2], bounds[2]) - max(box[0], bounds[0])
        h = min(box[3], bounds[3]) - max(box[1], bounds[1])
        fraction = max(0.0, float(w)) * max(0.0, float(h)) / area
        if fraction > best_fraction:
            best, best_fraction = region, fraction
    return best
