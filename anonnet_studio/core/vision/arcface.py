"""DeepFace's ArcFace identity embedder (ResNet34, 512-d) as a PyTorch port of its Keras model.

The weights are DeepFace's `arcface_weights.h5` (serengil/deepface_models v1.0), read with
h5py (`keras_h5`), no TensorFlow. The network is DeepFace's `ArcFace.load_model`: a
pre-activation ResNet34 whose layers follow keras.applications' naming (`conv1_conv`,
`conv2_block1_0_conv`, ..., `conv5_block3_3_bn`), then BatchNorm, Dropout, Flatten,
Dense(512) and a final BatchNorm. Backbone layers are looked up by those names; channel
counts and blocks per stage come from the file, so the same code loads tiny test files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from anonnet_studio.core.errors import ModelIntegrityError
from anonnet_studio.core.vision.align import align_face
from anonnet_studio.core.vision.keras_h5 import (
    KerasLayerWeights,
    KerasWeights,
    conv_kernel_to_torch,
    read_keras_weights,
)
from anonnet_studio.core.vision.torch_device import torch_device
from anonnet_studio.core.vision.types import FaceDetection

ARCFACE_FILE = "arcface_weights.h5"
INPUT_SIZE = 112
# Keras files store no hyper-parameters, only arrays; DeepFace builds every BatchNorm
# with epsilon=2e-5 (momentum only matters for training).
BN_EPSILON = 2e-5
# Every stage's first block downsamples (DeepFace's stack1 default stride1=2), conv2
# included: 112 -> 56 -> 28 -> 14 -> 7. Strides are not in the file either.
STAGE_STRIDE = 2

_BLOCK = re.compile(r"^conv(\d+)_block(\d+)_1_conv$")
_BACKBONE = re.compile(r"^conv\d+_(conv|bn|prelu|block\d+_\w+)$")


class ArcFaceEmbedder:
    """DeepFace ArcFace 512-d on the 5-point-aligned 112x112 face (BGR, 0..1, NCHW)."""

    name = "deepface-arcface"
    # Cosine distance: DeepFace's published threshold for ArcFace (deepface 0.0.103
    # config/threshold.py; older releases' verification module has the same 0.68,
    # at first written 0.6871912959056619). It was tuned on what DeepFace feeds the model
    # by default, so we feed the same: BGR (DeepFace's `represent` flips its RGB faces
    # back to BGR) scaled to 0..1 (normalization "base"; InsightFace's RGB
    # (x - 127.5) / 128 is only the opt-in "ArcFace" normalization there).
    # Our crop is the 5-point ArcFace template (how ArcFace was trained) rather than
    # DeepFace's eye-levelled, padded detector box, so the threshold is not re-tuned here;
    # scripts/calibrate_embedder.py can check it once the real weights are present.
    threshold = 0.68

    def __init__(self, weights_path: Path | str, device: str | None = None) -> None:
        weights = read_keras_weights(weights_path, "DeepFace ArcFace")
        self.device = torch_device(device)
        # Channels-last convolutions are ~20% faster on the CPU for batches (oneDNN).
        net = build_arcface(weights).to(self.device, memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs omit memory_format
        self._net = net.eval()
        self.embedding_size = self._net.embedding_size

    def aligned_face(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """The (112, 112, 3) RGB crop the network sees (before the BGR swap)."""
        return align_face(image, detection.landmarks5, INPUT_SIZE)

    def embed(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """(512,) float32, L2-normalised."""
        return self.embed_batch(image, [detection])[0]

    def embed_batch(self, image: np.ndarray, detections: Sequence[FaceDetection]) -> np.ndarray:
        """(N, 512) float32 for several faces of one image, in one network call."""
        if not detections:
            return np.zeros((0, self.embedding_size), np.float32)
        crops = np.stack([self.aligned_face(image, d) for d in detections])
        return self.embed_crops(crops)

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """(N, 112, 112, 3) RGB uint8 aligned crops -> (N, 512) L2-normalised float32."""
        bgr = np.ascontiguousarray(crops[..., ::-1], dtype=np.float32)
        with torch.inference_mode():
            # NHWC memory viewed as NCHW: already the channels-last layout.
            batch = torch.from_numpy(bgr).to(self.device).permute(0, 3, 1, 2) / 255.0
            vectors = functional.normalize(self._net(batch), dim=1, eps=1e-8)
            return vectors.float().cpu().numpy()


# --- the network ---------------------------------------------------------------------------


class _PReLU(nn.Module):
    """Keras PReLU: x if x > 0 else alpha * x, alpha per channel or per position."""

    alpha: torch.Tensor  # a buffer, registered in __init__

    def __init__(self, alpha: np.ndarray) -> None:
        super().__init__()
        # Keras alpha has the input's (H, W, C) shape with shared axes collapsed to 1
        # (DeepFace shares H and W, giving (1, 1, C)).
        self.per_channel = alpha.shape[:-1] == (1, 1)
        values = alpha.reshape(-1) if self.per_channel else alpha.transpose(2, 0, 1)[None]
        self.register_buffer("alpha", torch.from_numpy(np.ascontiguousarray(values)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.per_channel:
            return functional.prelu(x, self.alpha)
        return functional.relu(x) - self.alpha * functional.relu(-x)


class _Block(nn.Module):
    """DeepFace's block1: BN, pad+conv3x3, BN, PReLU, pad+conv3x3 (strided), BN, + shortcut.

    BatchNorms that follow a convolution are folded into it. The first BN (bn_1) is kept
    as a per-channel affine: zero padding comes after it, so folding it into the next
    convolution would change the border pixels.
    """

    scale: torch.Tensor  # buffers, registered in __init__
    shift: torch.Tensor

    def __init__(
        self,
        shortcut: nn.Conv2d | None,
        scale: np.ndarray,
        shift: np.ndarray,
        conv1: nn.Conv2d,
        prelu: _PReLU,
        conv2: nn.Conv2d,
    ) -> None:
        super().__init__()
        self.shortcut = shortcut
        self.register_buffer("scale", torch.from_numpy(scale.reshape(1, -1, 1, 1)))
        self.register_buffer("shift", torch.from_numpy(shift.reshape(1, -1, 1, 1)))
        self.conv1, self.prelu, self.conv2 = conv1, prelu, conv2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.shortcut is None else self.shortcut(x)
        y = self.conv2(self.prelu(self.conv1(x * self.scale + self.shift)))
        return shortcut + y


class ArcFaceNet(nn.Module):
    """(N, 3, 112, 112) BGR 0..1 -> (N, D) raw (not normalised) embeddings."""

    def __init__(
        self, stem: nn.Conv2d, stem_prelu: _PReLU, blocks: list[_Block], head: nn.Linear
    ) -> None:
        super().__init__()
        self.stem, self.stem_prelu = stem, stem_prelu
        self.blocks = nn.Sequential(*blocks)
        self.head = head
        self.embedding_size = head.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem_prelu(self.stem(x)))
        # Dropout is the identity at inference; the head's weights are permuted to torch's
        # channel-first flatten order (see _head).
        return self.head(torch.flatten(x, 1))


def build_arcface(weights: KerasWeights) -> ArcFaceNet:
    """The torch network for DeepFace ArcFace weights; ModelIntegrityError if they don't fit."""
    try:
        return _build(weights)
    except ModelIntegrityError as exc:
        raise ModelIntegrityError(
            f"{weights.source.name} does not fit DeepFace's ArcFace network: {exc.message}",
            hint="Delete it and download it again with `anonnet-studio models download`.",
        ) from exc


def _build(weights: KerasWeights) -> ArcFaceNet:
    stem = _conv(weights, "conv1_conv", "conv1_bn", in_channels=3, stride=1, size=3)
    channels = stem.out_channels
    stem_prelu = _prelu(weights.layer("conv1_prelu"), channels)
    blocks, size = [], INPUT_SIZE
    for stage, count in _stage_layout(weights):
        for index in range(1, count + 1):
            stride = STAGE_STRIDE if index == 1 else 1
            block = _block(weights, f"conv{stage}_block{index}", channels, stride)
            blocks.append(block)
            channels = block.conv2.out_channels
            size = (size - 1) // stride + 1  # pad 1 + 3x3 conv, and the 1x1 shortcut alike
    head = _head(weights, channels, size)
    return ArcFaceNet(stem, stem_prelu, blocks, head)


def _stage_layout(weights: KerasWeights) -> list[tuple[int, int]]:
    """[(stage number, block count)] from the `convS_blockB_1_conv` names in the file."""
    found: dict[int, set[int]] = {}
    for layer in weights:
        match = _BLOCK.match(layer.name)
        if match:
            found.setdefault(int(match[1]), set()).add(int(match[2]))
    if not found:
        raise ModelIntegrityError("it has no residual blocks (no 'convS_blockB_1_conv' layers)")
    layout = []
    for stage in sorted(found):
        count = len(found[stage])
        if found[stage] != set(range(1, count + 1)):
            raise ModelIntegrityError(f"stage conv{stage} has blocks {sorted(found[stage])}")
        layout.append((stage, count))
    return layout


def _block(weights: KerasWeights, name: str, in_channels: int, stride: int) -> _Block:
    filters = weights.layer(f"{name}_1_conv").get("kernel").shape[-1]
    shortcut = None
    if f"{name}_0_conv" in weights:
        shortcut = _conv(weights, f"{name}_0_conv", f"{name}_0_bn", in_channels, stride, 1)
    elif stride != 1 or filters != in_channels:
        raise ModelIntegrityError(f"{name} changes shape but has no {name}_0_conv shortcut")
    scale, shift = _bn_affine(weights.layer(f"{name}_1_bn"), in_channels)
    conv1 = _conv(weights, f"{name}_1_conv", f"{name}_2_bn", in_channels, 1, 3)
    prelu = _prelu(weights.layer(f"{name}_1_prelu"), filters)
    conv2 = _conv(weights, f"{name}_2_conv", f"{name}_3_bn", filters, stride, 3)
    return _Block(shortcut, scale, shift, conv1, prelu, conv2)


def _conv(
    weights: KerasWeights, conv_name: str, bn_name: str, in_channels: int, stride: int, size: int
) -> nn.Conv2d:
    """A bias-free Keras conv followed by a BatchNorm, folded into one torch conv.

    DeepFace pads every 3x3 conv with ZeroPadding2D(1) and runs it 'valid': that is torch's
    symmetric padding=1. The 1x1 shortcut convs are unpadded.
    """
    layer = weights.layer(conv_name)
    kernel = layer.get("kernel")
    if kernel.ndim != 4 or kernel.shape[:3] != (size, size, in_channels):
        raise ModelIntegrityError(
            f"{conv_name} has kernel {kernel.shape}, expected ({size}, {size}, {in_channels}, n)"
        )
    out_channels, padding = kernel.shape[3], size // 2
    scale, shift = _bn_affine(weights.layer(bn_name), out_channels)
    bias = shift + (scale * layer.weights["bias"] if "bias" in layer.weights else 0.0)
    conv = nn.Conv2d(in_channels, out_channels, size, stride=stride, padding=padding)
    folded = conv_kernel_to_torch(kernel) * scale[:, None, None, None]
    assert conv.bias is not None  # Conv2d has one unless bias=False
    conv.weight.data = torch.from_numpy(folded.astype(np.float32))
    conv.bias.data = torch.from_numpy(bias.astype(np.float32))
    return conv


def _bn_affine(layer: KerasLayerWeights, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Inference BatchNorm as y = x * scale + shift, from the moving statistics."""
    mean, variance = layer.get("moving_mean"), layer.get("moving_variance")
    gamma = layer.weights.get("gamma", np.ones_like(mean))  # absent when scale=False
    beta = layer.weights.get("beta", np.zeros_like(mean))  # absent when center=False
    if not all(v.shape == (channels,) for v in (mean, variance, gamma, beta)):
        raise ModelIntegrityError(f"{layer.name} does not have {channels} channels")
    scale = gamma.astype(np.float64) / np.sqrt(variance.astype(np.float64) + BN_EPSILON)
    shift = beta - mean * scale
    return scale.astype(np.float32), shift.astype(np.float32)


def _prelu(layer: KerasLayerWeights, channels: int) -> _PReLU:
    alpha = layer.get("alpha")
    if alpha.ndim != 3 or alpha.shape[-1] != channels:
        raise ModelIntegrityError(f"{layer.name} has alpha {alpha.shape} for {channels} channels")
    return _PReLU(alpha.astype(np.float32))


def _head(weights: KerasWeights, channels: int, size: int) -> nn.Linear:
    """BatchNorm -> Flatten -> Dense -> BatchNorm, folded into one Linear.

    These three layers have no explicit names in DeepFace's builder (Keras numbers them,
    e.g. `batch_normalization_1`, `dense`, and only the last is named `embedding`), so they
    are taken in model order: the weighted layers after the backbone.
    """
    head = [layer for layer in weights if not _BACKBONE.match(layer.name)]
    kinds = ["dense" if "kernel" in layer.weights else "bn" for layer in head]
    if kinds != ["bn", "dense", "bn"]:
        names = ", ".join(layer.name for layer in head) or "none"
        raise ModelIntegrityError(
            f"expected BatchNorm, Dense, BatchNorm after the backbone, found layers: {names}"
        )
    kernel = head[1].get("kernel")
    if kernel.ndim != 2 or kernel.shape[0] != channels * size * size:
        raise ModelIntegrityError(
            f"{head[1].name} has kernel {kernel.shape}, expected {channels}x{size}x{size} inputs"
        )
    outputs = kernel.shape[1]
    in_scale, in_shift = _bn_affine(head[0], channels)
    out_scale, out_shift = _bn_affine(head[2], outputs)
    # Keras flattens channels-last (H, W, C); reorder the rows to torch's (C, H, W).
    by_channel = kernel.reshape(size, size, channels, outputs).transpose(2, 0, 1, 3)
    matrix = by_channel.reshape(-1, outputs).astype(np.float64)
    bias = head[1].weights.get("bias", np.zeros(outputs, np.float32)).astype(np.float64)
    # dense(x * s + t) = (W * s) x + (b + t W), with s, t repeated over the H*W positions.
    in_scale_rows = np.repeat(in_scale, size * size)
    in_shift_rows = np.repeat(in_shift, size * size)
    bias = bias + in_shift_rows @ matrix
    matrix = matrix * in_scale_rows[:, None]
    linear = nn.Linear(matrix.shape[0], outputs)
    linear.weight.data = torch.from_numpy((matrix * out_scale).T.astype(np.float32).copy())
    linear.bias.data = torch.from_numpy((bias * out_scale + out_shift).astype(np.float32))
    return linear
