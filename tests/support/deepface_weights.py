"""Tiny randomly initialised DeepFace networks (VGG-Face/race, ArcFace) as Keras layer lists.

They keep the real layer names, order and input geometry with few channels, so the real
loading code reads them as it reads the downloaded files (write them with
`keras_h5_writer.write_keras_weights` under the real file name).
"""

from __future__ import annotations

import numpy as np

from tests.support.keras_h5_writer import LayerSpec, random_array

BLOCKS = [[4, 4], [6, 6], [8, 8, 8], [8, 8, 8], [8, 8, 8]]
FC = 16
# The downloaded files' sizes (benchmarks build random networks of the real cost).
REAL_VGG_BLOCKS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
REAL_VGG_FC = 4096


def tiny_vgg_layers(
    seed: int = 0, *, head: int = 6, blocks: list[list[int]] = BLOCKS, fc: int = FC
) -> list[LayerSpec]:
    """DeepFace's Sequential VGG-Face layers in order, weightless ones included. `blocks`
    and `fc` set the widths (real: REAL_VGG_BLOCKS, REAL_VGG_FC)."""
    rng = np.random.default_rng(seed)
    counters: dict[str, int] = {}

    def name(kind: str) -> str:
        counters[kind] = counters.get(kind, 0) + 1
        return f"{kind}_{counters[kind]}"

    def conv(size: int, cin: int, cout: int) -> LayerSpec:
        # He scale keeps the ReLU activations alive through 15 layers.
        kernel = random_array(rng, size, size, cin, cout, scale=(2 / (size * size * cin)) ** 0.5)
        return (name("conv2d"), [("kernel", kernel), ("bias", random_array(rng, cout, scale=0.01))])

    layers: list[LayerSpec] = []
    channels = 3
    for block in blocks:
        for out in block:
            layers += [(name("zero_padding2d"), []), conv(3, channels, out)]
            channels = out
        layers.append((name("max_pooling2d"), []))
    layers += [conv(7, channels, fc), (name("dropout"), []), conv(1, fc, fc)]
    layers += [(name("dropout"), []), conv(1, fc, head)]
    return [*layers, (name("flatten"), []), (name("activation"), [])]


# --- ArcFace ---------------------------------------------------------------------------

ARCFACE_STEM = 4
# (stage, filters, blocks): conv3 has two blocks, so an identity-shortcut block is covered.
ARCFACE_STAGES = [(2, 4, 1), (3, 8, 2), (4, 8, 1), (5, 8, 1)]
ARCFACE_EMBEDDING = 16
# DeepFace's ResNet34: stem 64, blocks 3/4/6/3 of 64/128/256/512 filters, 512-d.
REAL_ARCFACE_STEM = 64
REAL_ARCFACE_STAGES = [(2, 64, 3), (3, 128, 4), (4, 256, 6), (5, 512, 3)]
REAL_ARCFACE_EMBEDDING = 512


def _arc_bn(rng: np.random.Generator, channels: int) -> list[tuple[str, np.ndarray]]:
    # Moving statistics far from (0, 1), so a wrong BN formula or epsilon shows.
    return [
        ("gamma", (1 + random_array(rng, channels, scale=0.3)).astype(np.float32)),
        ("beta", random_array(rng, channels, scale=0.3)),
        ("moving_mean", random_array(rng, channels, scale=0.5)),
        ("moving_variance", rng.uniform(0.001, 2.0, channels).astype(np.float32)),
    ]


def arcface_conv(rng: np.random.Generator, size: int, cin: int, cout: int) -> list:
    return [
        ("kernel", random_array(rng, size, size, cin, cout, scale=(2 / (size * size * cin)) ** 0.5))
    ]


def _arc_prelu(rng: np.random.Generator, channels: int) -> list:
    return [("alpha", rng.uniform(0.05, 0.5, (1, 1, channels)).astype(np.float32))]


def tiny_arcface_layers(
    seed: int = 0,
    *,
    stem: int = ARCFACE_STEM,
    stages: list[tuple[int, int, int]] = ARCFACE_STAGES,
    embedding: int = ARCFACE_EMBEDDING,
) -> list[LayerSpec]:
    """DeepFace ArcFace's layers in model order, weightless ones included; tiny sizes by
    default (real: REAL_ARCFACE_STEM, REAL_ARCFACE_STAGES, REAL_ARCFACE_EMBEDDING)."""
    rng = np.random.default_rng(seed)
    layers: list[LayerSpec] = [
        ("input_1", []),
        ("conv1_pad", []),
        ("conv1_conv", arcface_conv(rng, 3, 3, stem)),
        ("conv1_bn", _arc_bn(rng, stem)),
        ("conv1_prelu", _arc_prelu(rng, stem)),
    ]
    channels = stem
    for stage, filters, blocks in stages:
        for index in range(1, blocks + 1):
            name = f"conv{stage}_block{index}"
            if index == 1:
                layers += [(f"{name}_0_conv", arcface_conv(rng, 1, channels, filters))]
            layers += [
                (f"{name}_1_bn", _arc_bn(rng, channels)),
                (f"{name}_1_pad", []),
                (f"{name}_1_conv", arcface_conv(rng, 3, channels, filters)),
                (f"{name}_2_bn", _arc_bn(rng, filters)),
                (f"{name}_1_prelu", _arc_prelu(rng, filters)),
                (f"{name}_2_pad", []),
                (f"{name}_2_conv", arcface_conv(rng, 3, filters, filters)),
            ]
            if index == 1:
                layers += [(f"{name}_0_bn", _arc_bn(rng, filters))]
            layers += [(f"{name}_3_bn", _arc_bn(rng, filters)), (f"{name}_add", [])]
            channels = filters
    dense = random_array(rng, 7 * 7 * channels, embedding, scale=(1 / (49 * channels)) ** 0.5)
    layers += [
        ("batch_normalization", _arc_bn(rng, channels)),
        ("dropout", []),
        ("flatten", []),
        ("dense", [("kernel", dense), ("bias", random_array(rng, embedding))]),
        ("embedding", _arc_bn(rng, embedding)),
    ]
    return layers
