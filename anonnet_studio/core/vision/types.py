"""Data types and protocols shared by every face model backend.

Conventions: images are RGB uint8 arrays of shape (H, W, 3); coordinates are float pixels
in that image, x to the right, y down. Backends are selected by name and receive their
model files as paths (resolved by the model manager), never download anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class FaceDetection:
    box: np.ndarray  # (4,) float32: x0, y0, x1, y1
    # (5, 2) float32, YuNet order: right eye, left eye (as seen in the image: the eye on the
    # image's left first), nose tip, right mouth corner, left mouth corner.
    landmarks5: np.ndarray
    score: float

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])


@dataclass(frozen=True, slots=True)
class HeadPose:
    yaw: float  # degrees, 0 = facing the camera
    pitch: float  # degrees, wrapped into (-180, 180], 0 = level
    roll: float  # degrees

    @property
    def frontality_cost(self) -> float:
        return abs(self.yaw) + abs(self.pitch)


@dataclass(frozen=True, slots=True)
class AttributeEstimate:
    value: str  # e.g. "adult", "woman", "happy"; numeric values are formatted
    confidence: float  # 0..1
    scores: dict[str, float] = field(default_factory=dict)  # per-class probabilities, 0..1
    raw: float | None = None  # e.g. the estimated age in years


@runtime_checkable
class FaceDetector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[FaceDetection]: ...


@runtime_checkable
class FaceEmbedder(Protocol):
    """Maps a detected face to an L2-normalised identity vector."""

    name: str
    # Cosine distance (1 - cosine similarity) below which two faces are the same person.
    threshold: float

    def embed(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray: ...


@runtime_checkable
class LandmarkPredictor(Protocol):
    """68-point iBUG landmarks for a face box."""

    name: str

    def landmarks68(self, image: np.ndarray, box: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class AttributeEstimator(Protocol):
    """Estimates some of: age, gender, race, expression. Keys of the result are those names."""

    name: str

    def estimate(
        self, image: np.ndarray, detection: FaceDetection
    ) -> dict[str, AttributeEstimate]: ...


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float32).ravel()
    b = np.asarray(b, dtype=np.float32).ravel()
    denom = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0
    return 1.0 - float(np.dot(a, b)) / denom
