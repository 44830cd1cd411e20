"""Fixtures for the synthetic-face tests: a real keyframe of real footage with its face
found by the product's embedded vision models, and tiny diffusion models on disk, all
resolved through the real (offline) model manager."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.models.manifest import Manifest, load_manifest_dir
from anonnet_studio.core.resources import resources_dir
from anonnet_studio.core.synthetic.devices import select_device
from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator
from anonnet_studio.core.vision.factory import VisionModels, build_embedded_vision
from tests.conftest import fixture_video
from tests.core.synthetic.tiny_models import build_tiny_models
from tests.support.manifests import manifest_publishing

KEYFRAME_INDEX = 30


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny models gain nothing from threads, and on a shared, oversubscribed CPU torch's
    spinning worker threads made these tests several times slower (measured 8x)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@dataclass(frozen=True)
class Keyframe:
    frame: np.ndarray  # RGB uint8
    box: np.ndarray  # x0, y0, x1, y1
    landmarks68: np.ndarray  # (68, 2)


def read_frame(video: str, index: int) -> np.ndarray:
    with av.open(str(fixture_video(video))) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"{video} has fewer than {index + 1} frames")


def find_keyframe(frame: np.ndarray, vision: VisionModels) -> Keyframe:
    """The most confident face of `frame` with its 68 landmarks."""
    faces = vision.detector.detect(frame)
    assert faces, "no face found in the fixture frame"
    box = max(faces, key=lambda d: d.score).box
    return Keyframe(frame=frame, box=box, landmarks68=vision.landmarks.landmarks68(frame, box))


def offline_manager(home: Path, manifest: Manifest | None = None) -> ModelManager:
    """The real model manager over the real manifests (or `manifest`), never touching the
    network."""
    return ModelManager(
        manifest or load_manifest_dir(resources_dir() / "models"),
        user_dir=home / "models",
        cache_dir=home / "cache",
        offline=True,
        settings_path=home / "model-locations.json",
    )


@pytest.fixture(scope="session")
def tiny_model_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{manifest name: folder laid out like the real repository} of tiny models."""
    return build_tiny_models(tmp_path_factory.mktemp("diffusion-models"))


@pytest.fixture(scope="session")
def model_manager(
    tiny_model_folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> ModelManager:
    """Each tiny model is chosen as its model's local folder, as a user pointing the
    manager at an air-gapped copy would; embedded models resolve from their packages."""
    manager = offline_manager(
        tmp_path_factory.mktemp("manager"), manifest_publishing(tiny_model_folders)
    )
    for name, folder in tiny_model_folders.items():
        manager.set_local_path(name, folder)
    return manager


@pytest.fixture(scope="session")
def tiny_resolver(model_manager: ModelManager) -> Callable[[str], Path]:
    return model_manager.resolve


@pytest.fixture(scope="session")
def vision(tmp_path_factory: pytest.TempPathFactory) -> VisionModels:
    """YuNet, SFace, dlib 68 landmarks: the product's embedded vision models."""
    return build_embedded_vision(offline_manager(tmp_path_factory.mktemp("vision")).resolve)


@pytest.fixture(scope="session")
def keyframe(vision: VisionModels) -> Keyframe:
    """Frame 30 of lp_d18.mp4 (a man, frontal) with its face box and 68 landmarks."""
    return find_keyframe(read_frame("lp_d18.mp4", KEYFRAME_INDEX), vision)


@pytest.fixture(scope="session")
def generator(tiny_resolver: Callable[[str], Path]) -> SyntheticFaceGenerator:
    """The real generator, loaded once through the manager on the CPU."""
    return SyntheticFaceGenerator.load(tiny_resolver, select_device("cpu"))


@pytest.fixture(scope="session")
def fast_generator(generator: SyntheticFaceGenerator) -> SyntheticFaceGenerator:
    """The same loaded models without the face parser (landmark masks): BiSeNet always
    runs at 512 px, which dominates tiny-model runs on a busy CPU."""
    return SyntheticFaceGenerator(generator.pipeline, generator.annotators, generator.device)
