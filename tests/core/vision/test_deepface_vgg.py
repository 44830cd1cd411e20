"""DeepFace VGG-Face ports (race classifier, identity embedder) and DeepFace's face crop.

Tiny random networks keep DeepFace's Sequential layer order, auto-generated names, the
224 input and the 7x7 fc6 with few channels; they are saved as Keras 2 .h5 under the real
file names and loaded through the real code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from anonnet_studio.core.analysis.prompt import RACES
from anonnet_studio.core.errors import ModelIntegrityError, ModelUnavailableError
from anonnet_studio.core.vision.deepface_crop import (
    deepface_face,
    deepface_input,
    eye_angle,
    resize_to_input,
)
from anonnet_studio.core.vision.deepface_race import RACE_FILE, DeepFaceRaceEstimator
from anonnet_studio.core.vision.deepface_vgg import VGG_FACE_FILE, VggFaceEmbedder
from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector
from anonnet_studio.core.vision.torch_device import torch_device as pick_device
from anonnet_studio.core.vision.types import (
    AttributeEstimator,
    FaceDetection,
    FaceEmbedder,
    cosine_distance,
)
from tests.core.vision.conftest import load_image
from tests.support.deepface_weights import FC, tiny_vgg_layers
from tests.support.keras_h5_writer import LayerSpec, write_keras_weights


def _write(path: Path, layers: list[LayerSpec], **kwargs: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_keras_weights(path, layers, **kwargs)


# --- NumPy reference of the Keras model (NHWC) ------------------------------------------


def _keras_conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Keras Conv2D, padding 'valid', stride 1, channels_last."""
    size = kernel.shape[0]
    windows = sliding_window_view(x, (size, size), axis=(1, 2))  # (N, H', W', C, kh, kw)
    return np.einsum("nhwcij,ijco->nhwo", windows, kernel) + bias


def _keras_reference(layers: list[LayerSpec], image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fc7 output, softmax) of DeepFace's Sequential model, layer by layer."""
    x = image.astype(np.float64)
    count = sum(1 for _, weights in layers if weights)
    fc7, index = None, 0
    for name, weights in layers:
        kind = name.rsplit("_", 1)[0]
        if kind == "zero_padding2d":
            x = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        elif kind == "max_pooling2d":
            n, h, w, c = x.shape
            x = x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max((2, 4))
        elif kind == "conv2d":
            w = dict(weights)
            x = _keras_conv(x, w["kernel"].astype(np.float64), w["bias"])
            index += 1
            if index < count:  # every convolution but the head has a ReLU
                x = np.maximum(x, 0)
            if index == count - 1:
                fc7 = x.reshape(len(x), -1)
        elif kind == "flatten":
            x = x.reshape(len(x), -1)
    exp = np.exp(x - x.max(1, keepdims=True))
    return fc7, exp / exp.sum(1, keepdims=True)


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yunet(model_dir: Callable[[str], Path]) -> YuNetDetector:
    return YuNetDetector(model_dir("yunet") / YUNET_FILE)


@pytest.fixture(scope="module")
def couple(yunet: YuNetDetector) -> tuple[np.ndarray, list[FaceDetection]]:
    image = load_image("deepface_couple.jpg")
    faces = yunet.detect(image, max_side=1024)
    assert len(faces) == 2
    return image, faces


@pytest.fixture(scope="module")
def race_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[LayerSpec]]:
    layers = tiny_vgg_layers(1)
    return _write(tmp_path_factory.mktemp("race") / RACE_FILE, layers), layers


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[LayerSpec]]:
    layers = tiny_vgg_layers(2, head=2622)  # the identity head is checked, so real-sized
    path = _write(tmp_path_factory.mktemp("vgg") / VGG_FACE_FILE, layers, full_model=True)
    return path, layers


# --- the network ----------------------------------------------------------------------------


def test_race_network_matches_keras_reference(race_file, couple) -> None:
    path, layers = race_file
    estimator = DeepFaceRaceEstimator(path, device="cpu")
    image, faces = couple
    inputs = np.stack([estimator.face_input(image, face) for face in faces])
    _, expected = _keras_reference(layers, inputs)
    probabilities = estimator.probabilities(inputs)
    assert probabilities.shape == (2, 6)
    # Random weights give peaked but not one-hot outputs: the comparison is meaningful.
    assert expected.max() < 0.999 and np.abs(expected[0] - expected[1]).max() > 1e-3
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


def test_embedder_is_normalised_fc7(vgg_file, couple) -> None:
    path, layers = vgg_file
    embedder = VggFaceEmbedder(path, device="cpu")
    assert isinstance(embedder, FaceEmbedder) and embedder.threshold == 0.68
    image, faces = couple
    inputs = np.stack([embedder.face_input(image, face) for face in faces])
    fc7, _ = _keras_reference(layers, inputs)
    expected = fc7 / np.linalg.norm(fc7, axis=1, keepdims=True)
    assert np.count_nonzero(fc7) > FC // 2  # not a dead network
    np.testing.assert_allclose(embedder.embed_inputs(inputs), expected, atol=1e-5)


def test_embedder_unit_norm_deterministic_and_identity_sensitive(vgg_file, couple) -> None:
    embedder = VggFaceEmbedder(vgg_file[0], device="cpu")
    image, faces = couple
    first, second = embedder.embed(image, faces[0]), embedder.embed(image, faces[1])
    assert first.shape == (FC,) and first.dtype == np.float32
    assert abs(float(np.linalg.norm(first)) - 1.0) < 1e-5
    np.testing.assert_array_equal(first, embedder.embed(image, faces[0]))
    assert cosine_distance(first, second) > 1e-3
    batch = embedder.embed_batch(image, faces)
    np.testing.assert_allclose(batch, np.stack([first, second]), atol=1e-6)
    assert embedder.embed_batch(image, []).shape == (0, FC)


# --- race labels ------------------------------------------------------------------------------


def _race_head_file(tmp_path: Path, bias: np.ndarray) -> Path:
    """A race file whose head ignores the image: logits == bias."""
    layers = tiny_vgg_layers(3)
    name, _ = layers[-3]
    layers[-3] = (name, [("kernel", np.zeros((1, 1, FC, 6), np.float32)), ("bias", bias)])
    return _write(tmp_path / RACE_FILE, layers)


def test_race_scores_follow_deepface_label_order(tmp_path: Path, couple) -> None:
    # DeepFace's output order: asian, indian, black, white, middle eastern, latino hispanic.
    probabilities = np.array([0.05, 0.10, 0.15, 0.20, 0.22, 0.28])
    path = _race_head_file(tmp_path, np.log(probabilities).astype(np.float32))
    estimator = DeepFaceRaceEstimator(path, device="cpu")
    assert isinstance(estimator, AttributeEstimator)
    image, faces = couple
    result = estimator.estimate(image, faces[0])
    race = result["race"]
    assert set(result) == {"race"} and set(race.scores) == set(RACES)
    assert race.value == "Latino Hispanic" and race.confidence == pytest.approx(0.28, abs=1e-6)
    assert math.isclose(sum(race.scores.values()), 1.0, abs_tol=1e-6)
    expected = dict(
        zip(("Asian", "Indian", "Black", "White", "Middle Eastern"), probabilities, strict=False)
    )
    for label, p in expected.items():
        assert race.scores[label] == pytest.approx(p, abs=1e-6), label


@pytest.mark.parametrize(("index", "label"), [(0, "Asian"), (1, "Indian"), (2, "Black")])
def test_race_value_is_the_winning_class(tmp_path: Path, couple, index: int, label: str) -> None:
    bias = np.zeros(6, np.float32)
    bias[index] = 5.0
    estimator = DeepFaceRaceEstimator(_race_head_file(tmp_path, bias), device="cpu")
    image, faces = couple
    [first, second] = estimator.estimate_batch(image, faces)
    assert first["race"].value == second["race"].value == label
    assert first["race"].confidence > 0.9


# --- wrong files ------------------------------------------------------------------------------


def test_wrong_layer_count_is_an_integrity_error(tmp_path: Path) -> None:
    layers = tiny_vgg_layers(blocks=[[4, 4], [6, 6], [8, 8, 8], [8, 8, 8], [8, 8]])
    path = _write(tmp_path / RACE_FILE, layers)
    with pytest.raises(ModelIntegrityError, match=r"15 layers with weights.*needs 16"):
        DeepFaceRaceEstimator(path, device="cpu")


def test_swapped_files_are_integrity_errors(vgg_file, race_file) -> None:
    with pytest.raises(ModelIntegrityError, match=r"2622 output classes.*race model has 6"):
        DeepFaceRaceEstimator(vgg_file[0], device="cpu")
    with pytest.raises(ModelIntegrityError, match=r"6 output classes.*VGG-Face model has 2622"):
        VggFaceEmbedder(race_file[0], device="cpu")


def test_mismatched_kernel_is_an_integrity_error(tmp_path: Path) -> None:
    layers = tiny_vgg_layers()
    name, weights = layers[3]  # the second convolution: its input must be 4 channels
    layers[3] = (name, [("kernel", np.zeros((3, 3, 5, 4), np.float32)), weights[1]])
    path = _write(tmp_path / VGG_FACE_FILE, layers)
    with pytest.raises(ModelIntegrityError, match=r"conv2d_2.*\(3, 3, 4, out\)"):
        VggFaceEmbedder(path, device="cpu")


# --- DeepFace's crop ----------------------------------------------------------------------------


def _rotate(image: np.ndarray, centre: np.ndarray, degrees: float) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]))


def _marker_centre(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    mask = np.all(np.abs(image.astype(int) - colour) < 40, axis=2)
    assert mask.sum() > 20, f"marker {colour} not found"
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def test_crop_levels_the_eyes_of_a_tilted_face(yunet: YuNetDetector, couple) -> None:
    image, faces = couple
    face = max(faces, key=lambda f: f.width)
    nose = face.landmarks5[2]
    tilted = _rotate(image, nose, 25.0)
    detection = min(
        yunet.detect(tilted, max_side=1024),
        key=lambda f: float(np.linalg.norm(f.landmarks5[2] - nose)),
    )
    # Rotating the image counter-clockwise tilts the eye line the other way.
    assert abs(eye_angle(detection) - (eye_angle(face) - 25.0)) < 5.0
    assert abs(eye_angle(detection)) > 15.0

    # Exact geometry: paint markers on the detected eyes; the crop puts them level.
    marked = tilted.copy()
    colours = [(0, 255, 0), (255, 0, 255)]
    for eye, colour in zip(detection.landmarks5[:2], colours, strict=True):
        cv2.circle(marked, (round(eye[0]), round(eye[1])), 6, colour, -1)
    crop = deepface_face(marked, detection)
    width, height = int(detection.width), int(detection.height)
    assert crop.shape == (height, width, 3) and crop.dtype == np.uint8
    right, left = (_marker_centre(crop, colour) for colour in colours)
    assert left[0] - right[0] > 0.2 * width
    assert abs(left[1] - right[1]) < 1.5  # pixels, over ~200 px between the eyes

    # The face itself: YuNet on the crop (framed, it needs context) finds the eyes about
    # level, up to its own landmark noise (several degrees on tight crops).
    crop = deepface_face(tilted, detection)
    framed = cv2.copyMakeBorder(crop, height, height, width, width, cv2.BORDER_CONSTANT)
    [again] = yunet.detect(framed, max_side=640)
    assert abs(eye_angle(again)) < 8.0
    assert 0.6 < again.width / width < 1.4  # the face fills the crop, as it filled the box


def test_crop_outside_the_frame_is_black(couple) -> None:
    image, faces = couple
    face = faces[0]
    shift = np.array([face.box[0] + face.width / 2, 0, face.box[0] + face.width / 2, 0])
    landmarks = face.landmarks5 - shift[:2]
    landmarks[1, 1] = landmarks[0, 1]  # level eyes: no rotation blurs the frame's edge
    half_out = FaceDetection((face.box - shift).astype(np.float32), landmarks, face.score)
    crop = deepface_face(image, half_out)
    assert crop.shape[1] == int(face.width)
    assert not crop[:, : crop.shape[1] // 2 - 2].any()  # left half lies left of the frame
    assert crop[:, crop.shape[1] // 2 + 2 :].any()


def test_input_is_bgr_unit_range_aspect_preserving_and_zero_padded() -> None:
    face = np.zeros((100, 50, 3), np.float64)
    face[..., 2] = 0.5  # red in BGR order
    resized = resize_to_input(face, 224)
    assert resized.shape == (224, 224, 3) and resized.dtype == np.float32
    # 100x50 -> 224x112, centred: 56 black columns on each side.
    assert not resized[:, :56].any() and not resized[:, -56:].any()
    np.testing.assert_allclose(resized[:, 56:-56, 2], 0.5, atol=1e-6)

    image = np.zeros((300, 300, 3), np.uint8)
    image[..., 0] = 255  # RGB red
    landmarks = np.array([[120, 140], [180, 140], [150, 170], [125, 200], [175, 200]], np.float32)
    detection = FaceDetection(np.array([100, 100, 200, 240], np.float32), landmarks, 0.9)
    inputs = deepface_input(image, detection)
    assert inputs.shape == (224, 224, 3)
    np.testing.assert_allclose(inputs[112, 112], [0.0, 0.0, 1.0], atol=1e-6)


def test_device_auto_prefers_cuda() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device(None).type == pick_device("auto").type == expected
    assert pick_device("cpu").type == "cpu"


def test_missing_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="race"):
        DeepFaceRaceEstimator(tmp_path / RACE_FILE, device="cpu")
