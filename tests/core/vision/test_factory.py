"""`build_embedded_vision` wires the embedded models from model-manager folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from anonnet_studio.core.errors import ModelUnavailableError
from anonnet_studio.core.vision.age_gender import AgeGenderEstimator
from anonnet_studio.core.vision.detector import YuNetDetector
from anonnet_studio.core.vision.embedder import DlibEmbedder, SFaceEmbedder
from anonnet_studio.core.vision.emotion import EmotionEstimator
from anonnet_studio.core.vision.factory import (
    EMBEDDED_VISION_MODELS,
    VisionModels,
    build_embedded_vision,
)
from anonnet_studio.core.vision.landmark_process import Landmarks68Process
from anonnet_studio.core.vision.selection import EMBEDDED_DEFAULT, BackendChoice
from anonnet_studio.core.vision.types import (
    FaceDetector,
    FaceEmbedder,
    LandmarkPredictor,
)


def test_default_models_and_provenance(vision: VisionModels) -> None:
    assert isinstance(vision.detector, YuNetDetector) and isinstance(vision.detector, FaceDetector)
    assert isinstance(vision.embedder, SFaceEmbedder) and isinstance(vision.embedder, FaceEmbedder)
    assert isinstance(vision.landmarks, Landmarks68Process)  # dlib, in a child process
    assert isinstance(vision.landmarks, LandmarkPredictor)
    assert [type(a) for a in vision.attributes] == [AgeGenderEstimator, EmotionEstimator]
    assert (
        vision.describe()["embedder"] == f"sface-2021dec-int8 (threshold {SFaceEmbedder.threshold})"
    )


def test_dlib_embedder_and_revisions(model_dir: Callable[[str], Path]) -> None:
    models = build_embedded_vision(model_dir, lambda name: f"rev-{name}", embedder="dlib")
    assert isinstance(models.embedder, DlibEmbedder)
    assert models.provenance["yunet"] == "rev-yunet"
    assert models.describe()["manifest:fer-emotion"] == "rev-fer-emotion"
    with pytest.raises(ValueError, match="unknown embedder"):
        build_embedded_vision(model_dir, embedder="vgg-face")


def test_a_model_folder_without_its_files_is_a_typed_error(
    model_dir: Callable[[str], Path], tmp_path: Path
) -> None:
    def without_yunet(name: str) -> Path:
        return tmp_path if name == "yunet" else model_dir(name)

    with pytest.raises(ModelUnavailableError, match="YuNet"):
        build_embedded_vision(without_yunet)


def test_the_backends_used_are_recorded(vision: VisionModels) -> None:
    described = vision.describe()
    assert described["backend:embedder"] == "sface"
    assert described["backend:detector"] == "yunet"
    assert described["backend:race"] == "off"


def test_a_chosen_downloaded_backend_without_weights_says_how_to_get_them(tmp_path: Path) -> None:
    from anonnet_studio.app.runtime import load_vision_models
    from anonnet_studio.core.models.manager import ModelManager

    manager = ModelManager.from_environment(
        models_dir=tmp_path / "user",
        offline=True,
        environ={"ANONNET_MODELS_CACHE": str(tmp_path / "cache")},
    )
    with pytest.raises(ModelUnavailableError) as caught:
        load_vision_models(manager, BackendChoice(race="deepface"), device="cpu")
    assert "deepface-race" in caught.value.user_message()


def test_auto_without_downloaded_weights_loads_the_embedded_models(tmp_path: Path) -> None:
    from anonnet_studio.app.runtime import load_vision_models
    from anonnet_studio.core.models.manager import ModelManager

    manager = ModelManager.from_environment(
        models_dir=tmp_path / "user",
        offline=True,
        environ={"ANONNET_MODELS_CACHE": str(tmp_path / "cache")},
    )
    models = load_vision_models(manager)
    assert dict(models.backends) == EMBEDDED_DEFAULT
    assert set(models.provenance) == set(EMBEDDED_VISION_MODELS)
