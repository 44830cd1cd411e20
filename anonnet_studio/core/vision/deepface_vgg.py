"""DeepFace's VGG-Face network as a PyTorch port, and the VGG-Face identity embedder.

The weights are DeepFace's Keras 2 files (serengil/deepface_models v1.0), read with h5py
(`keras_h5`), no TensorFlow. DeepFace builds them as one Sequential model
(`VGGFace.base_model`): five blocks of ZeroPadding2D(1) + 3x3 valid convolution + ReLU
(64, 64 / 128, 128 / 256 x3 / 512 x3 / 512 x3), each block ending in a 2x2 max pool, then
fc6 (7x7 convolution, 4096, ReLU), fc7 (1x1, 4096, ReLU), and a 1x1 convolution head
(2622 identities for VGG-Face; DeepFace's race/age/gender models swap it for their own).
Dropout is the identity at inference.

The layers have auto-generated names (`conv2d_7`, ...) that depend on the Keras session
that saved them, so weights are taken by order, as Keras' own `load_weights` does: 13
convolutions, fc6, fc7, head. Channel counts come from the kernels, so tiny test files
load through the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from anonnet_studio.core.errors import ModelIntegrityError
from anonnet_studio.core.vision.deepface_crop import deepface_input
from anonnet_studio.core.vision.keras_h5 import (
    KerasLayerWeights,
    KerasWeights,
    conv_kernel_to_torch,
    read_keras_weights,
)
from anonnet_studio.core.vision.torch_device import torch_device
from anonnet_studio.core.vision.types import FaceDetection

VGG_FACE_FILE = "vgg_face_weights.h5"
INPUT_SIZE = 224
BLOCKS = (2, 2, 3, 3, 3)  # 3x3 convolutions per block, each block then halves the size
WEIGHT_LAYERS = sum(BLOCKS) + 3  # + fc6, fc7, head
VGG_FACE_CLASSES = 2622  # the identities VGG-Face was trained on (its head, fc8)
FC6_SIZE = INPUT_SIZE // 2 ** len(BLOCKS)  # 7: fc6 covers the whole last feature map


class VggFaceNet(nn.Module):
    """(N, 3, 224, 224) BGR 0..1 -> `embed`: fc7 (N, C); `forward`: head logits (N, K)."""

    def __init__(
        self, convs: Sequence[nn.Conv2d], fc6: nn.Conv2d, fc7: nn.Conv2d, head: nn.Conv2d | None
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        convs = list(convs)
        for count in BLOCKS:
            for _ in range(count):
                layers += [convs.pop(0), nn.ReLU(inplace=True)]
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        self.fc6, self.fc7, self.head = fc6, fc7, head
        self.embedding_size = fc7.out_channels

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = functional.relu(self.fc6(self.features(x)))
        return torch.flatten(functional.relu(self.fc7(x)), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.head is None:
            raise RuntimeError("this VGG-Face network was built without its head")
        return torch.flatten(self.head(self.embed(x)[:, :, None, None]), 1)


def build_vgg_face(
    weights: KerasWeights, *, classes: int, description: str, keep_head: bool = True
) -> VggFaceNet:
    """The torch network for a DeepFace VGG-based file whose head has `classes` outputs
    (2622 for VGG-Face, 6 for race...); `keep_head=False` drops the head once checked.

    ModelIntegrityError (naming `description`) when the file's layers do not fit.
    """
    try:
        net = _build(list(weights))
        found = net.head.out_channels if net.head is not None else 0
        if found != classes:
            raise ModelIntegrityError(
                f"its last layer has {found} output classes, the {description} model has {classes}"
            )
    except ModelIntegrityError as exc:
        raise ModelIntegrityError(
            f"{weights.source.name} does not fit DeepFace's {description} network "
            f"(VGG-Face layout): {exc.message}. Is it the right file?",
            hint="Delete it and download it again with `anonnet-studio models download`.",
        ) from exc
    if not keep_head:
        net.head = None
    return net


def load_vgg_face(
    path: Path | str, *, classes: int, description: str, keep_head: bool = True
) -> VggFaceNet:
    weights = read_keras_weights(path, description)
    return build_vgg_face(weights, classes=classes, description=description, keep_head=keep_head)


def _build(layers: list[KerasLayerWeights]) -> VggFaceNet:
    if len(layers) != WEIGHT_LAYERS:
        raise ModelIntegrityError(
            f"it has {len(layers)} layers with weights, the network needs {WEIGHT_LAYERS}"
        )
    convs, channels = [], 3
    for layer in layers[: sum(BLOCKS)]:
        conv = _conv(layer, channels, 3, padding=1)
        convs.append(conv)
        channels = conv.out_channels
    fc6 = _conv(layers[-3], channels, FC6_SIZE)
    fc7 = _conv(layers[-2], fc6.out_channels, 1)
    head = _conv(layers[-1], fc7.out_channels, 1)
    return VggFaceNet(convs, fc6, fc7, head).eval()


def _conv(layer: KerasLayerWeights, in_channels: int, size: int, padding: int = 0) -> nn.Conv2d:
    """A torch convolution from a Keras Conv2D layer ('valid'); `padding=1` stands for the
    ZeroPadding2D(1) DeepFace puts before every 3x3 convolution."""
    kernel, bias = layer.get("kernel"), layer.get("bias")
    expected = (size, size, in_channels)
    if kernel.ndim != 4 or kernel.shape[:3] != expected or bias.shape != (kernel.shape[3],):
        raise ModelIntegrityError(
            f"layer {layer.name!r} has kernel {kernel.shape} and bias {bias.shape}; "
            f"expected a kernel ({size}, {size}, {in_channels}, out) and a bias (out,)"
        )
    conv = nn.Conv2d(in_channels, kernel.shape[3], size, padding=padding)
    with torch.no_grad():
        assert conv.bias is not None  # Conv2d has one unless bias=False
        conv.weight.copy_(torch.from_numpy(conv_kernel_to_torch(kernel.astype(np.float32))))
        conv.bias.copy_(torch.from_numpy(bias.astype(np.float32)))
    return conv


def to_tensor(inputs: np.ndarray, device: torch.device) -> torch.Tensor:
    """(N, H, W, 3) float32 network inputs (NHWC, as DeepFace makes them) -> NCHW tensor."""
    return torch.from_numpy(np.ascontiguousarray(inputs.transpose(0, 3, 1, 2))).to(device)


class VggFaceEmbedder:
    """DeepFace VGG-Face: L2-normalised fc7 (4096-d) of DeepFace's eye-levelled face crop."""

    name = "deepface-vgg-face"
    # Cosine distance: DeepFace's published threshold for VGG-Face since its descriptor
    # became the normalised 4096-d fc7 (serengil/deepface PR #948, January 2024; tuned on
    # LFW; still 0.68 in deepface 0.0.103's config/threshold.py). The 0.40 found in older
    # code belongs to the former 2622-d softmax-layer descriptor. It was tuned on DeepFace's
    # own crop and "base" input scaling, which is what we feed (`deepface_crop`).
    threshold = 0.68

    def __init__(self, weights_path: Path | str, device: str | None = None) -> None:
        self.device = torch_device(device)
        # The identity head is only checked (it tells a VGG-Face file from a race/age/
        # gender one, whose trunks were fine-tuned), then dropped: the embedding is fc7.
        net = load_vgg_face(
            weights_path, classes=VGG_FACE_CLASSES, description="VGG-Face", keep_head=False
        )
        self._net = net.to(self.device)
        self.embedding_size = self._net.embedding_size

    def face_input(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """The (224, 224, 3) BGR 0..1 float32 input the network sees."""
        return deepface_input(image, detection, INPUT_SIZE)

    def embed(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """(4096,) float32, L2-normalised."""
        return self.embed_batch(image, [detection])[0]

    def embed_batch(self, image: np.ndarray, detections: Sequence[FaceDetection]) -> np.ndarray:
        """(N, 4096) float32 for several faces of one image, in one network call."""
        if not detections:
            return np.zeros((0, self.embedding_size), np.float32)
        return self.embed_inputs(np.stack([self.face_input(image, d) for d in detections]))

    def embed_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """(N, 224, 224, 3) prepared inputs -> (N, D) L2-normalised float32."""
        with torch.inference_mode():
            vectors = self._net.embed(to_tensor(inputs, self.device)).double().cpu().numpy()
        # DeepFace's l2_normalize: x / (||x|| + 1e-10).
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / (norms + 1e-10)).astype(np.float32)
