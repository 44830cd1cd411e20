"""Tiny RetinaFace weight files: serengil's layer names and structure, small channels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.support.keras_h5_writer import LayerSpec, random_array, write_keras_weights

STEM = 8
MIDS = (4, 4, 8, 8)  # bottleneck widths per stage (real: 64, 128, 256, 512)
UNITS = (2, 1, 1, 1)  # units per stage (real: 3, 4, 6, 3)
FPN = 8  # real: 256
SSH_HALF = 4  # context branch width (real: 128); the SSH output is 4 * SSH_HALF wide
ANCHORS = 2
# serengil's retinaface.h5 (InsightFace RetinaFace-R50), for benchmarks at the real cost.
REAL_SIZES = {
    "stem": 64,
    "mids": (64, 128, 256, 512),
    "units": (3, 4, 6, 3),
    "fpn": 256,
    "ssh_half": 128,
}


def _bn(rng: np.random.Generator, name: str, ch: int) -> LayerSpec:
    return (
        name,
        [
            ("gamma", (1 + 0.1 * rng.standard_normal(ch)).astype(np.float32)),
            ("beta", random_array(rng, ch)),
            ("moving_mean", random_array(rng, ch)),
            ("moving_variance", rng.uniform(0.5, 1.5, ch).astype(np.float32)),
        ],
    )


def _conv(
    rng: np.random.Generator, name: str, k: int, cin: int, cout: int, *, bias: bool
) -> LayerSpec:
    scale = 1.0 / np.sqrt(k * k * cin)
    weights = [("kernel", random_array(rng, k, k, cin, cout, scale=scale))]
    if bias:
        weights.append(("bias", random_array(rng, cout)))
    return name, weights


def tiny_layers(
    rng: np.random.Generator,
    *,
    stem: int = STEM,
    mids: tuple[int, ...] = MIDS,
    units: tuple[int, ...] = UNITS,
    fpn: int = FPN,
    ssh_half: int = SSH_HALF,
) -> list[LayerSpec]:
    """serengil's layers; tiny widths by default, `**REAL_SIZES` for the real network."""
    layers: list[LayerSpec] = [
        (
            "bn_data",
            [
                ("gamma", np.ones(3, np.float32)),
                ("beta", np.zeros(3, np.float32)),
                ("moving_mean", np.full(3, 120.0, np.float32)),
                ("moving_variance", np.full(3, 60.0**2, np.float32)),
            ],
        ),
        _conv(rng, "conv0", 7, 3, stem, bias=False),
        _bn(rng, "bn0", stem),
    ]
    cin = stem
    for stage, (mid, count) in enumerate(zip(mids, units, strict=True), start=1):
        for unit in range(1, count + 1):
            p = f"stage{stage}_unit{unit}"
            layers += [
                _bn(rng, f"{p}_bn1", cin),
                _conv(rng, f"{p}_conv1", 1, cin, mid, bias=False),
                _bn(rng, f"{p}_bn2", mid),
                _conv(rng, f"{p}_conv2", 3, mid, mid, bias=False),
                _bn(rng, f"{p}_bn3", mid),
                _conv(rng, f"{p}_conv3", 1, mid, 4 * mid, bias=False),
            ]
            if unit == 1:
                layers.append(_conv(rng, f"{p}_sc", 1, cin, 4 * mid, bias=False))
            cin = 4 * mid
    layers.append(_bn(rng, "bn1", cin))
    for name, k, ch_in in (
        ("ssh_c3_lateral", 1, cin),
        ("ssh_c2_lateral", 1, mids[3]),
        ("ssh_c2_aggr", 3, fpn),
        ("ssh_m1_red_conv", 1, mids[2]),
        ("ssh_c1_aggr", 3, fpn),
    ):
        layers += [_conv(rng, name, k, ch_in, fpn, bias=True), _bn(rng, f"{name}_bn", fpn)]
    for m in ("ssh_m3_det", "ssh_m2_det", "ssh_m1_det"):
        for name, ch_in, ch_out in (
            ("conv1", fpn, 2 * ssh_half),
            ("context_conv1", fpn, ssh_half),
            ("context_conv2", ssh_half, ssh_half),
            ("context_conv3_1", ssh_half, ssh_half),
            ("context_conv3_2", ssh_half, ssh_half),
        ):
            layers += [
                _conv(rng, f"{m}_{name}", 3, ch_in, ch_out, bias=True),
                _bn(rng, f"{m}_{name}_bn", ch_out),
            ]
    for stride in (32, 16, 8):
        for head, per_anchor in (("cls_score", 2), ("bbox_pred", 4), ("landmark_pred", 10)):
            layers.append(
                _conv(
                    rng,
                    f"face_rpn_{head}_stride{stride}",
                    1,
                    4 * ssh_half,
                    per_anchor * ANCHORS,
                    bias=True,
                )
            )
    return layers


def write_tiny_retinaface(path: Path, rng: np.random.Generator) -> Path:
    return write_keras_weights(path, tiny_layers(rng))
