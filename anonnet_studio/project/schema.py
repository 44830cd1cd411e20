"""The project document: what the analysis produces and what the editor and CLI edit.

Plain mutable dataclasses; every change made by a user goes through `project.commands`.
Arrays are numpy with the dtype and shape declared by `array_field`; `project.io` stores
scalars as JSON and arrays in a `.npz` sidecar.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np

from anonnet_studio.core.voice.settings import VoiceSettings
from anonnet_studio.project.arrays import ArraySpec, coerce_array_fields
from anonnet_studio.project.equality import ArrayAwareEquality
from anonnet_studio.project.regions import RedactionRegion, RegionMethod, RegionShape
from anonnet_studio.project.settings import (
    DEFAULT_METHOD,
    DEFAULT_NEGATIVE_PROMPT,
    SEED_RANGE,
    FacePlacement,
    GenerationAttempt,
    GenerationSettings,
    Method,
)
from anonnet_studio.project.tracks import Keyframe, RemovedFace, Track

__all__ = [
    "ATTRIBUTE_NAMES",
    "DEFAULT_METHOD",
    "DEFAULT_NEGATIVE_PROMPT",
    "IDENTITY_COLORS",
    "SCHEMA_VERSION",
    "SEED_RANGE",
    "AttributeValue",
    "Attributes",
    "FacePlacement",
    "GenerationAttempt",
    "GenerationSettings",
    "Identity",
    "Keyframe",
    "Method",
    "Project",
    "RedactionRegion",
    "RegionMethod",
    "RegionShape",
    "RemovedFace",
    "Shot",
    "SourceMedia",
    "Track",
]

# 2: typed synthetic faces; 3: hand corrections (manual/kept tracks, corrected frames,
# regions, review state); 4: voice settings (disguise method, strength, mute/bleep ranges);
# 5: a synthetic backend per person (AnonNET or FAMS) and per attempt, with FAMS's degree.
SCHEMA_VERSION = 5

ATTRIBUTE_NAMES = ("age_group", "gender", "race", "expression")

# Timeline lane colours, distinguishable on a dark background; reused cyclically.
IDENTITY_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)

_IDENTITY_ID = re.compile(r"^P(\d+)$")


@dataclass(frozen=True)
class SourceMedia:
    """The video that was analysed. It is only ever read, never modified."""

    path: str  # absolute
    sha256: str  # of the whole file
    size_bytes: int
    media_info: dict[str, Any]  # `MediaInfo.to_json_dict()` of the media engine


@dataclass(frozen=True)
class Shot:
    index: int
    start_frame: int
    end_frame: int  # exclusive

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame

    def contains(self, frame_index: int) -> bool:
        return self.start_frame <= frame_index < self.end_frame


@dataclass
class AttributeValue:
    """An estimated attribute that the user may override."""

    detected: str | None = None
    confidence: float | None = None  # 0..1, of `detected`
    override: str | None = None

    @property
    def effective(self) -> str | None:
        """What the prompt uses: the user's override wins over the estimate."""
        return self.override if self.override is not None else self.detected


@dataclass
class Attributes:
    age_group: AttributeValue = field(default_factory=AttributeValue)
    gender: AttributeValue = field(default_factory=AttributeValue)
    race: AttributeValue = field(default_factory=AttributeValue)
    expression: AttributeValue = field(default_factory=AttributeValue)
    age_years: float | None = None
    expression_scores: dict[str, float] = field(default_factory=dict)  # 0..1 per class

    def get(self, name: str) -> AttributeValue:
        """The attribute called `name` (one of `ATTRIBUTE_NAMES`)."""
        if name not in ATTRIBUTE_NAMES:
            raise KeyError(f"unknown attribute {name!r}; expected one of {ATTRIBUTE_NAMES}")
        value: AttributeValue = getattr(self, name)
        return value


@dataclass(eq=False)
class Identity(ArrayAwareEquality):
    """One person, possibly seen in several shots, anonymized the same way everywhere."""

    id: str  # stable, "P1", "P2", ...
    name: str  # user editable
    track_ids: list[int]
    # representative of all its tracks, L2-normalised
    embedding: Annotated[np.ndarray, ArraySpec("float32", (None,))]
    generation: GenerationSettings
    hidden: bool = True  # True: anonymize this person
    method: Method = DEFAULT_METHOD
    attributes: Attributes = field(default_factory=Attributes)
    # Every synthetic-face attempt, oldest first; the kept ones name their image and
    # placement (see `project.synthetic_faces`).
    attempts: list[GenerationAttempt] = field(default_factory=list)
    selected_attempt: int | None = None  # index into `attempts`
    needs_attention: bool = False
    thumbnail: Annotated[np.ndarray, ArraySpec("uint8", (None, None, 3))] | None = None
    color: str = IDENTITY_COLORS[0]

    def __post_init__(self) -> None:
        coerce_array_fields(self)

    @classmethod
    def create(
        cls,
        number: int,
        *,
        rng: random.Random,
        embedding: np.ndarray,
        track_ids: list[int],
        method: Method = DEFAULT_METHOD,
        attributes: Attributes | None = None,
        thumbnail: np.ndarray | None = None,
    ) -> Identity:
        """A new identity "P<number>" with a fresh seed drawn from `rng`."""
        return cls(
            id=f"P{number}",
            name=f"Person {number}",
            track_ids=list(track_ids),
            embedding=embedding,
            generation=GenerationSettings(seed=rng.randint(*SEED_RANGE)),
            method=method,
            attributes=attributes if attributes is not None else Attributes(),
            thumbnail=thumbnail,
            color=IDENTITY_COLORS[(number - 1) % len(IDENTITY_COLORS)],
        )

    @property
    def number(self) -> int | None:
        """The n of an id "Pn", or None for ids of another form."""
        match = _IDENTITY_ID.match(self.id)
        return int(match.group(1)) if match else None


@dataclass(eq=False)
class Project(ArrayAwareEquality):
    """The whole document. `identities` is ordered as shown in the editor."""

    source: SourceMedia
    shots: list[Shot] = field(default_factory=list)
    tracks: dict[int, Track] = field(default_factory=dict)
    identities: list[Identity] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)  # models, parameters, timings
    leak_frames: list[int] = field(default_factory=list)  # flagged by the leak check
    # Candidate images of the synthetic stage and similar pictures, by key.
    images: dict[str, Annotated[np.ndarray, ArraySpec("uint8", (None, None, 3))]] = field(
        default_factory=dict
    )
    # Highest n of an id "Pn" ever used, including people merged away since, so that a new
    # person never takes over the id (and thus image keys or report rows) of a removed one.
    last_identity_number: int = 0
    # Hand corrections (schema 3): regions that are not faces, tracks deleted as not a
    # face (for the audit report), and the keys of review items marked reviewed.
    regions: list[RedactionRegion] = field(default_factory=list)
    removed_faces: list[RemovedFace] = field(default_factory=list)
    reviewed: list[str] = field(default_factory=list)
    # Schema 4: how the export treats the voices (off by default: audio copied unchanged).
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    schema_version: int = SCHEMA_VERSION

    def identity(self, identity_id: str) -> Identity:
        """The identity with this id; KeyError when there is none."""
        for identity in self.identities:
            if identity.id == identity_id:
                return identity
        raise KeyError(f"no identity {identity_id!r} in this project")

    def has_identity(self, identity_id: str) -> bool:
        return any(identity.id == identity_id for identity in self.identities)

    def identity_index(self, identity_id: str) -> int:
        """Position of the identity in the ordered list; KeyError when there is none."""
        for index, identity in enumerate(self.identities):
            if identity.id == identity_id:
                return index
        raise KeyError(f"no identity {identity_id!r} in this project")

    def tracks_of(self, identity_id: str) -> list[Track]:
        """The identity's tracks, in the order of its `track_ids`."""
        return [self.tracks[track_id] for track_id in self.identity(identity_id).track_ids]

    def identities_in_shot(self, shot_index: int) -> list[Identity]:
        """Identities with at least one track in the shot, in document order."""
        present = {t.identity_id for t in self.tracks.values() if t.shot_index == shot_index}
        return [identity for identity in self.identities if identity.id in present]

    def frames_of(self, identity_id: str) -> np.ndarray:
        """Sorted unique frame indices (int32) where the identity has a track row."""
        frames = [track.frames for track in self.tracks_of(identity_id)]
        if not frames:
            return np.zeros(0, dtype=np.int32)
        return np.unique(np.concatenate(frames)).astype(np.int32)

    def tracks_at(self, frame_index: int) -> list[Track]:
        """Tracks that cover the frame, ordered by track id."""
        return [t for _, t in sorted(self.tracks.items()) if t.covers(frame_index)]

    def shot_at(self, frame_index: int) -> Shot | None:
        for shot in self.shots:
            if shot.contains(frame_index):
                return shot
        return None

    def next_track_id(self) -> int:
        """An id no track has or had (deleted tracks keep theirs in `removed_faces`)."""
        used = [*self.tracks, *(f.track_id for f in self.removed_faces)]
        return max(used, default=0) + 1

    def next_region_id(self) -> int:
        return max((r.id for r in self.regions), default=0) + 1

    def region(self, region_id: int) -> RedactionRegion:
        """The region with this id; KeyError when there is none."""
        for region in self.regions:
            if region.id == region_id:
                return region
        raise KeyError(f"no region {region_id} in this project")

    def next_identity_number(self) -> int:
        """The n for a new id "Pn": above every current and every removed identity."""
        numbers = [identity.number or 0 for identity in self.identities]
        return max(self.last_identity_number, *numbers) + 1

    def representative_embedding(self, track_ids: list[int]) -> np.ndarray:
        """L2-normalised mean of the tracks' embeddings (the identity's representative)."""
        if not track_ids:
            raise ValueError("a representative embedding needs at least one track")
        stacked = np.stack([self.tracks[t].embedding.astype(np.float64) for t in track_ids])
        mean = stacked.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        # Opposite embeddings can cancel out; keep the raw mean rather than divide by ~0.
        return (mean / norm if norm > 1e-12 else mean).astype(np.float32)
