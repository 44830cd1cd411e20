"""Build the embedded face models from the folders the model manager resolves."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from anonnet_studio.core.vision.attributes import EMOTION_FILE, AgeGenderEstimator, EmotionEstimator
from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector
from anonnet_studio.core.vision.embedder import SFACE_FILE, SFaceEmbedder
from anonnet_studio.core.vision.landmarks import SHAPE68_FILE, DlibLandmarks68
from anonnet_studio.core.vision.types import (
    AttributeEstimator,
    FaceDetector,
    FaceEmbedder,
    LandmarkPredictor,
)


@dataclass(frozen=True)
class VisionModels:
    detector: FaceDetector
    embedder: FaceEmbedder
    landmarks: LandmarkPredictor
    attributes: Sequence[AttributeEstimator]
    # Manifest model name -> revision/hash, for project files and audit reports.
    provenance: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, str]:
        """Role -> model name (and the manifest revisions), for projects and reports."""
        described = {
            "detector": self.detector.name,
            "embedder": f"{self.embedder.name} (threshold {self.embedder.threshold})",
            "landmarks": self.landmarks.name,
        }
        for estimator in self.attributes:
            described[f"attributes:{estimator.name}"] = estimator.name
        for name, revision in self.provenance.items():
            described[f"manifest:{name}"] = revision
        return described


EMBEDDED_VISION_MODELS = ("yunet", "sface", "dlib-face-models", "age-gender", "fer-emotion")


def build_embedded_vision(
    model_dir: Callable[[str], Path], revision_of: Callable[[str], str] | None = None
) -> VisionModels:
    """`model_dir(name)` returns the folder of a manifest model (`ModelManager.resolve`);
    `revision_of(name)` (optional) its revision, recorded for the audit trail."""
    provenance = {n: revision_of(n) for n in EMBEDDED_VISION_MODELS} if revision_of else {}
    return VisionModels(
        detector=YuNetDetector(model_dir("yunet") / YUNET_FILE),
        embedder=SFaceEmbedder(model_dir("sface") / SFACE_FILE),
        landmarks=DlibLandmarks68(model_dir("dlib-face-models") / SHAPE68_FILE),
        attributes=(
            AgeGenderEstimator(model_dir("age-gender")),
            EmotionEstimator(model_dir("fer-emotion") / EMOTION_FILE),
        ),
        provenance=provenance,
    )
