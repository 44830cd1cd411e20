"""The downloaded face backends, installed as tiny random models in a user model folder,
are picked up by the model manager, chosen by "auto" or by name, and run a real analysis.

The weights are random, so these tests check the plumbing (discovery, selection, loading
through the real code, attributes and provenance in the project), not accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from anonnet_studio.app.runtime import load_vision_models
from anonnet_studio.core.analysis.pipeline import analyze_video
from anonnet_studio.core.analysis.prompt import RACES
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.arcface import ARCFACE_FILE, ArcFaceEmbedder
from anonnet_studio.core.vision.deepface_race import RACE_FILE, DeepFaceRaceEstimator
from anonnet_studio.core.vision.deepface_vgg import VGG_FACE_FILE, VggFaceEmbedder
from anonnet_studio.core.vision.detector import YuNetDetector
from anonnet_studio.core.vision.fan_landmarks import FAN_FILE, FanLandmarks68
from anonnet_studio.core.vision.retinaface import RETINAFACE_FILE, RetinaFaceDetector
from anonnet_studio.core.vision.selection import EMBEDDED_DEFAULT, BackendChoice
from anonnet_studio.project.backends import analysed_embedder, choice_for_project
from anonnet_studio.project.from_analysis import project_from_analysis
from tests.conftest import fixture_video
from tests.media_factory import make_variant
from tests.support.deepface_weights import tiny_arcface_layers, tiny_vgg_layers
from tests.support.keras_h5_writer import write_keras_weights
from tests.support.manifests import manifest_publishing
from tests.support.retinaface_weights import write_tiny_retinaface

# Saving the tiny FAN needs TorchScript, which torch deprecates (the real archive is one).
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:FutureWarning")


class _TinyFan(nn.Module):
    """68 heatmaps at 64x64 from the 256x256 crop (brightness pooled 4x, mixed per point)."""

    def __init__(self) -> None:
        super().__init__()
        self.mix = nn.Conv2d(3, 68, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix(nn.functional.avg_pool2d(x, 4))


def _install_tiny_downloaded_models(user_dir: Path) -> None:
    def folder(name: str) -> Path:
        path = user_dir / name
        path.mkdir(parents=True)
        return path

    write_keras_weights(folder("deepface-race") / RACE_FILE, tiny_vgg_layers(1, head=6))
    write_keras_weights(folder("deepface-vgg-face") / VGG_FACE_FILE, tiny_vgg_layers(2, head=2622))
    write_keras_weights(folder("deepface-arcface") / ARCFACE_FILE, tiny_arcface_layers(3))
    write_tiny_retinaface(folder("deepface-retinaface") / RETINAFACE_FILE, np.random.default_rng(4))
    torch.manual_seed(5)
    scripted = torch.jit.script(_TinyFan().eval())
    torch.jit.save(scripted, str(folder("face-alignment-2dfan4") / FAN_FILE))


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> ModelManager:
    root = tmp_path_factory.mktemp("models")
    _install_tiny_downloaded_models(root / "user")
    tiny = {folder.name: folder for folder in (root / "user").iterdir()}
    return ModelManager.from_environment(
        manifest=manifest_publishing(tiny),
        models_dir=root / "user",
        offline=True,
        environ={"ANONNET_MODELS_CACHE": str(root / "cache")},
    )


def test_auto_on_the_cpu_adds_only_the_race_classifier(manager: ModelManager) -> None:
    models = load_vision_models(manager, device="cpu")
    assert dict(models.backends) == {**EMBEDDED_DEFAULT, "race": "deepface"}
    assert isinstance(models.detector, YuNetDetector)
    assert any(isinstance(a, DeepFaceRaceEstimator) for a in models.attributes)
    assert models.provenance["deepface-race"] == manager.spec("deepface-race").revision


def test_every_downloaded_backend_loads_by_name(manager: ModelManager) -> None:
    choice = BackendChoice(
        detector="retinaface", embedder="vgg-face", landmarks="fan", race="deepface"
    )
    models = load_vision_models(manager, choice, device="cpu")
    assert isinstance(models.detector, RetinaFaceDetector)
    assert isinstance(models.embedder, VggFaceEmbedder)
    assert isinstance(models.landmarks, FanLandmarks68)
    described = models.describe()
    assert described["backend:detector"] == "retinaface"
    assert {"deepface-retinaface", "deepface-vgg-face", "face-alignment-2dfan4"} <= set(
        models.provenance
    )
    image = np.zeros((120, 160, 3), np.uint8)
    assert isinstance(models.detector.detect(image), list)


def test_analysis_with_downloaded_backends_fills_race_and_pins_the_embedder(
    manager: ModelManager, tmp_path: Path
) -> None:
    clip = make_variant(
        fixture_video("lp_d19.mp4"), tmp_path / "clip.mp4", width=480, max_frames=40
    )
    choice = BackendChoice(detector="yunet", embedder="arcface", landmarks="fan")
    models = load_vision_models(manager, choice, device="cpu")
    assert isinstance(models.embedder, ArcFaceEmbedder)
    result = analyze_video(clip, models)
    assert result.identities, "the real detector should find the interviewee"
    for identity in result.identities:
        race = identity.attributes["race"]
        assert race.value in RACES and 0 < race.confidence <= 1
        assert set(race.scores) == set(RACES)
        assert identity.embedding.shape[-1] == 16  # the tiny ArcFace's embedding size
    project = project_from_analysis(result, clip)
    assert analysed_embedder(project) == "arcface"
    assert choice_for_project(BackendChoice(), project).embedder == "arcface"
    assert project.identities[0].attributes.race.detected in RACES
