"""Session-wide embedded face models and fixture-frame helpers for the vision tests.

Models load once per session through the real model manager (the files ship inside
installed packages, so this works offline); frames come from the real fixture clips.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.embedder import (
    DLIB_RESNET_FILE,
    SFACE_FILE,
    DlibEmbedder,
    SFaceEmbedder,
)
from anonnet_studio.core.vision.factory import VisionModels, build_embedded_vision
from anonnet_studio.core.vision.landmarks import SHAPE5_FILE
from anonnet_studio.core.vision.types import FaceDetection
from tests.conftest import fixture_image, fixture_video

# Detection scale used for video frames, as the analysis does.
VIDEO_MAX_SIDE = 640


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`ModelManager.resolve` with empty user/cache folders, so only embedded files count."""
    tmp = tmp_path_factory.mktemp("models")
    manager = ModelManager.from_environment(
        models_dir=tmp / "user", environ={"ANONNET_MODELS_CACHE": str(tmp / "cache")}
    )
    return manager.resolve


@pytest.fixture(scope="session")
def vision(model_dir: Callable[[str], Path]) -> VisionModels:
    return build_embedded_vision(model_dir)


@pytest.fixture(scope="session")
def sface(model_dir: Callable[[str], Path]) -> SFaceEmbedder:
    return SFaceEmbedder(model_dir("sface") / SFACE_FILE)


@pytest.fixture(scope="session")
def dlib_embedder(model_dir: Callable[[str], Path]) -> DlibEmbedder:
    folder = model_dir("dlib-face-models")
    return DlibEmbedder(folder / DLIB_RESNET_FILE, folder / SHAPE5_FILE)


def load_image(name: str) -> np.ndarray:
    """A fixture photo as RGB uint8."""
    return cv2.cvtColor(cv2.imread(str(fixture_image(name))), cv2.COLOR_BGR2RGB)


def clip_frames(clip: str, indices: list[int]) -> list[np.ndarray]:
    """Exact frames of a fixture clip, RGB uint8."""
    with VideoReader(fixture_video(clip)) as reader:
        return [reader.frame_at(index) for index in indices]


def single_face(vision: VisionModels, image: np.ndarray) -> FaceDetection:
    """The only face in a one-person frame (fails the test if there is not exactly one)."""
    faces = vision.detector.detect(image, max_side=VIDEO_MAX_SIDE)
    assert len(faces) == 1, f"expected one face, found {len(faces)}"
    return faces[0]


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
