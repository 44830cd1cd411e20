"""Build the embedded face models from the folders the model manager resolves."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from anonnet_studio.core.vision.age_gender import (
    AGE_FILE,
    AGE_GENDER_MANIFEST,
    GENDER_FILE,
    AgeGenderEstimator,
)
from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector
from anonnet_studio.core.vision.embedder import (
    DLIB_RESNET_FILE,
    SFACE_FILE,
    DlibEmbedder,
    SFaceEmbedder,
)
from anonnet_studio.core.vision.emotion import EMOTION_FILE, EmotionEstimator
from anonnet_studio.core.vision.landmarks import SHAPE5_FILE, SHAPE68_FILE, DlibLandmarks68
from anonnet_studio.core.vision.types import (
    AttributeEstimator,
    FaceDetector,
    FaceEmbedder,
    LandmarkPredictor,
)


@dataclass(frozen=True)
class VisionModels:
    """The loaded face models one analysis uses (built once, on the compute thread)."""

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
EMBEDDERS = ("sface", "dlib")


def build_embedded_vision(
    model_dir: Callable[[str], Path],
    revision_of: Callable[[str], str] | None = None,
    *,
    embedder: str = "sface",
) -> VisionModels:
    """Load the embedded face models.

    `model_dir(name)` returns the folder of a manifest model (`ModelManager.resolve`, which
    raises `ModelUnavailableError` with a hint when it is missing); `revision_of(name)`
    (optional) its revision, recorded for the audit trail. `embedder` picks the identity
    backend: "sface" (default, faster, wider same/different margin) or "dlib".
    """
    if embedder not in EMBEDDERS:
        raise ValueError(f"unknown embedder {embedder!r}; choose one of {EMBEDDERS}")
    provenance = {n: revision_of(n) for n in EMBEDDED_VISION_MODELS} if revision_of else {}
    dlib_dir = model_dir("dlib-face-models")
    age_gender_dir = model_dir("age-gender")
    identity: FaceEmbedder = (
        SFaceEmbedder(model_dir("sface") / SFACE_FILE)
        if embedder == "sface"
        else DlibEmbedder(dlib_dir / DLIB_RESNET_FILE, dlib_dir / SHAPE5_FILE)
    )
    return VisionModels(
        detector=YuNetDetector(model_dir("yunet") / YUNET_FILE),
        embedder=identity,
        landmarks=DlibLandmarks68(dlib_dir / SHAPE68_FILE),
        attributes=(
            AgeGenderEstimator(
                age_gender_dir / AGE_FILE,
                age_gender_dir / GENDER_FILE,
                shape_predictor5=dlib_dir / SHAPE5_FILE,
                manifest=age_gender_dir / AGE_GENDER_MANIFEST,
            ),
            EmotionEstimator(model_dir("fer-emotion") / EMOTION_FILE),
        ),
        provenance=provenance,
    )
