"""DeepFace ArcFace torch port: a tiny random ArcFace-shaped .h5 against NumPy Keras semantics.

The tiny net keeps DeepFace's layer names, layer order and the four stride-2 stages (so
the 112 -> 7 geometry and the channels-last flatten are the real ones) with few channels
and blocks; it goes through the real loading code under the real file name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from anonnet_studio.core.errors import ModelIntegrityError, ModelUnavailableError
from anonnet_studio.core.vision.arcface import (
    ARCFACE_FILE,
    ArcFaceEmbedder,
    _PReLU,
    build_arcface,
)
from anonnet_studio.core.vision.factory import VisionModels
from anonnet_studio.core.vision.keras_h5 import read_keras_weights
from anonnet_studio.core.vision.types import FaceEmbedder, cosine_distance
from tests.core.vision.conftest import load_image
from tests.support.deepface_weights import ARCFACE_EMBEDDING as EMBEDDING
from tests.support.deepface_weights import ARCFACE_STAGES as STAGES
from tests.support.deepface_weights import arcface_conv as _conv
from tests.support.deepface_weights import tiny_arcface_layers
from tests.support.keras_h5_writer import LayerSpec, random_array, write_keras_weights

# --- NumPy reference of the Keras graph (NHWC, unfolded) -------------------------------------


def _np_bn(x: np.ndarray, w: dict) -> np.ndarray:
    inv = w["gamma"] / np.sqrt(w["moving_variance"] + 2e-5)  # DeepFace's epsilon
    return (x - w["moving_mean"]) * inv + w["beta"]


def _np_conv(x: np.ndarray, kernel: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """ZeroPadding2D(pad) then a 'valid' Keras Conv2D, NHWC."""
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    k = kernel.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
    windows = windows[:, ::stride, ::stride]  # (N, H', W', C, k, k)
    return np.einsum("nhwcij,ijco->nhwo", windows, kernel)


def _np_prelu(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0) - alpha * np.maximum(-x, 0)


def keras_reference(layers: list[LayerSpec], x: np.ndarray) -> np.ndarray:
    """DeepFace ArcFace's forward pass, NHWC float64, from the same layer list."""
    w = {name: dict(weights) for name, weights in layers}
    x = x.astype(np.float64)
    x = _np_prelu(
        _np_bn(_np_conv(x, w["conv1_conv"]["kernel"], 1, 1), w["conv1_bn"]),
        w["conv1_prelu"]["alpha"],
    )
    for stage, _, blocks in STAGES:
        for index in range(1, blocks + 1):
            n, stride = f"conv{stage}_block{index}", 2 if index == 1 else 1
            shortcut = x
            if index == 1:
                shortcut = _np_bn(
                    _np_conv(x, w[f"{n}_0_conv"]["kernel"], stride, 0), w[f"{n}_0_bn"]
                )
            y = _np_bn(x, w[f"{n}_1_bn"])
            y = _np_bn(_np_conv(y, w[f"{n}_1_conv"]["kernel"], 1, 1), w[f"{n}_2_bn"])
            y = _np_prelu(y, w[f"{n}_1_prelu"]["alpha"])
            y = _np_bn(_np_conv(y, w[f"{n}_2_conv"]["kernel"], stride, 1), w[f"{n}_3_bn"])
            x = shortcut + y
    x = _np_bn(x, w["batch_normalization"]).reshape(len(x), -1)  # Keras Flatten: (H, W, C)
    x = x @ w["dense"]["kernel"] + w["dense"]["bias"]
    return _np_bn(x, w["embedding"])


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("arcface") / ARCFACE_FILE
    return write_keras_weights(path, tiny_arcface_layers())


@pytest.fixture(scope="module")
def embedder(tiny_file: Path) -> ArcFaceEmbedder:
    return ArcFaceEmbedder(tiny_file, device="cpu")


def _crops(seed: int, count: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 112, 112, 3), dtype=np.uint8)


# --- tests ---------------------------------------------------------------------------------


def test_port_matches_keras_semantics(tiny_file: Path) -> None:
    net = build_arcface(read_keras_weights(tiny_file)).eval()
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (2, 112, 112, 3)).astype(np.float32)
    expected = keras_reference(tiny_arcface_layers(), x)
    with torch.inference_mode():
        got = net(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).double().numpy()
    assert got.shape == (2, EMBEDDING)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_embedder_feeds_bgr_zero_to_one_and_normalises(embedder: ArcFaceEmbedder) -> None:
    crops = _crops(2, 3)
    vectors = embedder.embed_crops(crops)
    expected = keras_reference(tiny_arcface_layers(), crops[..., ::-1] / 255.0)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert vectors.dtype == np.float32 and vectors.shape == (3, EMBEDDING)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors, expected, atol=1e-4)
    # Sanity of the test itself: RGB input would give a clearly different vector.
    rgb = keras_reference(tiny_arcface_layers(), crops / 255.0)[0]
    assert cosine_distance(rgb, vectors[0]) > 1e-3


def test_per_position_prelu_alpha_matches_keras() -> None:
    rng = np.random.default_rng(3)
    alpha = rng.uniform(0.1, 0.9, (5, 6, 4)).astype(np.float32)  # no shared axes
    x = rng.standard_normal((2, 5, 6, 4)).astype(np.float32)
    with torch.inference_mode():
        got = _PReLU(alpha)(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    np.testing.assert_allclose(got.transpose(0, 2, 3, 1), _np_prelu(x, alpha), atol=1e-6)


def test_real_faces_give_deterministic_unit_vectors(
    embedder: ArcFaceEmbedder, vision: VisionModels
) -> None:
    assert isinstance(embedder, FaceEmbedder)
    assert embedder.name == "deepface-arcface" and embedder.threshold == 0.68
    image = load_image("deepface_couple.jpg")
    faces = vision.detector.detect(image)
    assert len(faces) >= 2
    batch = embedder.embed_batch(image, faces)
    assert batch.shape == (len(faces), EMBEDDING) and np.isfinite(batch).all()
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    single = embedder.embed(image, faces[0])
    np.testing.assert_allclose(single, batch[0], atol=1e-5)
    np.testing.assert_array_equal(single, embedder.embed(image, faces[0]))
    assert cosine_distance(batch[0], batch[1]) > 1e-4  # different crops, different vectors
    assert embedder.embed_batch(image, []).shape == (0, EMBEDDING)


def _write(tmp_path: Path, layers: list[LayerSpec]) -> Path:
    return write_keras_weights(tmp_path / ARCFACE_FILE, layers)


def test_file_of_another_network_is_an_integrity_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    other = [("conv2d_1", _conv(rng, 3, 3, 8)), ("dense_1", [("kernel", random_array(rng, 8, 2))])]
    with pytest.raises(ModelIntegrityError, match="does not fit DeepFace's ArcFace"):
        ArcFaceEmbedder(_write(tmp_path, other), device="cpu")


def _shrink_dense(weights: list) -> list:
    return [(s, v[:-49] if s == "kernel" else v) for s, v in weights]


def _wrong_input_kernel(weights: list) -> list:
    return [("kernel", np.zeros((3, 3, 7, 8), np.float32))]


def _short_bn(weights: list) -> list:
    return [(s, v[:-1]) for s, v in weights]


# Each case: the layer to change, how (None drops it), and the expected message.
BROKEN = [
    ("dense", _shrink_dense, "expected 8x7x7 inputs"),
    ("conv3_block2_1_conv", _wrong_input_kernel, r"expected \(3, 3, 8, n\)"),
    ("embedding", None, "after the backbone"),
    ("conv4_block1_2_bn", _short_bn, "does not have 8 channels"),
    ("conv3_block1_0_conv", None, "no conv3_block1_0_conv shortcut"),
    ("conv2_block1_1_prelu", None, "no layer 'conv2_block1_1_prelu'"),
]


@pytest.mark.parametrize(("broken", "change", "message"), BROKEN)
def test_layers_that_do_not_fit_are_integrity_errors(
    tmp_path: Path, broken: str, change, message: str
) -> None:
    layers = [
        (name, change(weights) if name == broken and change else weights)
        for name, weights in tiny_arcface_layers()
        if name != broken or change
    ]
    with pytest.raises(ModelIntegrityError, match=message):
        ArcFaceEmbedder(_write(tmp_path, layers), device="cpu")


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError):
        ArcFaceEmbedder(tmp_path / ARCFACE_FILE)
    (tmp_path / ARCFACE_FILE).write_bytes(b"not hdf5")
    with pytest.raises(ModelIntegrityError):
        ArcFaceEmbedder(tmp_path / ARCFACE_FILE)
