"""The RetinaFace network of serengil/retinaface as a PyTorch port of its Keras model.

serengil's `retinaface_model.build_model` is InsightFace's MXNet RetinaFace-R50 converted
to Keras, layer by layer, under the MXNet names: a pre-activation ResNet-50
(`bn_data`, `conv0`, `stage{s}_unit{u}_{bn1,conv1,...,sc}`, `bn1`), a three-level FPN
(`ssh_c3_lateral`, `ssh_c2_lateral`/`ssh_c2_aggr`, `ssh_m1_red_conv`/`ssh_c1_aggr`), SSH
context modules `ssh_m{3,2,1}_det_*` and 1x1 heads `face_rpn_{cls_score,bbox_pred,
landmark_pred}_stride{32,16,8}`. Weights are looked up by those names; channel counts and
units per stage come from the file, so tiny test files load through the same code.

Keras semantics kept: NHWC becomes NCHW here, but every "ZeroPadding2D + valid conv" of
the Keras graph is a symmetric zero padding, i.e. torch's `padding=`; the FPN upsamples
by 2 (nearest) and crops the centre to the lateral map's size. The outputs are returned
in the Keras model's NHWC layout, so `retinaface.decode` reads them as serengil does.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from anonnet_studio.core.errors import ModelIntegrityError
from anonnet_studio.core.vision.keras_h5 import KerasWeights, conv_kernel_to_torch

# Files hold arrays only; every BatchNormalization in serengil's builder has this epsilon
# (MXNet's 2e-5 stored as float32).
BN_EPSILON = 1.9999999494757503e-05
# FPN levels, coarse to fine, as serengil's model orders its nine outputs. The strides
# follow from the architecture (ResNet stages 4, 3 and 2 of unit-1 strides), not the file.
STRIDES = (32, 16, 8)
# The first unit of stages 2-4 downsamples in its 3x3 conv and 1x1 shortcut (MXNet
# ResNet v2); strides are not in the file.
STAGE_STRIDES = {1: 1, 2: 2, 3: 2, 4: 2}
# Which SSH module and FPN map serve which stride (serengil's names).
_SSH_FOR_STRIDE = {32: "ssh_m3_det", 16: "ssh_m2_det", 8: "ssh_m1_det"}


def _bn_affine(weights: KerasWeights, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Inference BatchNorm as y = x * scale + shift."""
    layer = weights.layer(name)
    gamma, beta = layer.get("gamma"), layer.get("beta")
    mean, var = layer.get("moving_mean"), layer.get("moving_variance")
    scale = gamma / np.sqrt(var.astype(np.float64) + BN_EPSILON)
    return scale.astype(np.float32), (beta - mean * scale).astype(np.float32)


class Affine(nn.Module):
    """A BatchNorm that cannot be folded into a preceding conv (pre-activation units)."""

    scale: torch.Tensor  # buffers, registered in __init__
    shift: torch.Tensor

    def __init__(self, weights: KerasWeights, name: str) -> None:
        super().__init__()
        scale, shift = _bn_affine(weights, name)
        self.register_buffer("scale", torch.from_numpy(scale).view(1, -1, 1, 1))
        self.register_buffer("shift", torch.from_numpy(shift).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.shift


def conv(weights: KerasWeights, name: str, *, stride: int = 1, bn: str | None = None) -> nn.Conv2d:
    """Conv2d from Keras layer `name` ('same'-size zero padding as the Keras graph pads
    explicitly), with the BatchNorm `bn` that follows it folded in: BN(Wx + b) =
    (s*W)x + (s*b + t)."""
    layer = weights.layer(name)
    kernel = conv_kernel_to_torch(layer.get("kernel")).astype(np.float32)
    bias = layer.weights.get("bias")
    bias = np.zeros(kernel.shape[0], np.float32) if bias is None else bias.astype(np.float32)
    if bias.shape != kernel.shape[:1]:
        raise ModelIntegrityError(f"{name!r} in {weights.source.name} has a misshapen bias.")
    if bn is not None:
        scale, shift = _bn_affine(weights, bn)
        if scale.shape[0] != kernel.shape[0]:
            raise ModelIntegrityError(f"{bn!r} does not fit {name!r} ({weights.source.name}).")
        kernel = kernel * scale[:, None, None, None]
        bias = bias * scale + shift
    out_ch, in_ch, kh, kw = kernel.shape
    module = nn.Conv2d(in_ch, out_ch, (kh, kw), stride=stride, padding=(kh // 2, kw // 2))
    assert module.bias is not None  # Conv2d has one unless bias=False
    module.weight.data = torch.from_numpy(np.ascontiguousarray(kernel))
    module.bias.data = torch.from_numpy(np.ascontiguousarray(bias))
    module.requires_grad_(False)
    return module


class Unit(nn.Module):
    """Pre-activation bottleneck `stage{s}_unit{u}`: BN-ReLU-conv1x1-BN-ReLU-conv3x3-BN-
    ReLU-conv1x1, plus the input (or a strided 1x1 `sc` conv of relu1 in each first unit).
    Also returns relu2, which feeds the FPN laterals in stages 3 and 4."""

    def __init__(self, weights: KerasWeights, prefix: str, stride: int) -> None:
        super().__init__()
        self.bn1 = Affine(weights, f"{prefix}_bn1")
        self.conv1 = conv(weights, f"{prefix}_conv1", bn=f"{prefix}_bn2")
        self.conv2 = conv(weights, f"{prefix}_conv2", stride=stride, bn=f"{prefix}_bn3")
        self.conv3 = conv(weights, f"{prefix}_conv3")
        has_sc = f"{prefix}_sc" in weights
        self.sc = conv(weights, f"{prefix}_sc", stride=stride) if has_sc else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        relu1 = functional.relu(self.bn1(x))
        relu2 = functional.relu(self.conv1(relu1))
        out = self.conv3(functional.relu(self.conv2(relu2)))
        return out + (self.sc(relu1) if self.sc is not None else x), relu2


class ContextModule(nn.Module):
    """SSH detection module: a 3x3 branch and 5x5/7x7-like context branches (stacked
    3x3 convs), concatenated, then ReLU."""

    def __init__(self, weights: KerasWeights, prefix: str) -> None:
        super().__init__()
        self.conv1 = conv(weights, f"{prefix}_conv1", bn=f"{prefix}_conv1_bn")
        self.context1 = conv(weights, f"{prefix}_context_conv1", bn=f"{prefix}_context_conv1_bn")
        self.context2 = conv(weights, f"{prefix}_context_conv2", bn=f"{prefix}_context_conv2_bn")
        self.context3_1 = conv(
            weights, f"{prefix}_context_conv3_1", bn=f"{prefix}_context_conv3_1_bn"
        )
        self.context3_2 = conv(
            weights, f"{prefix}_context_conv3_2", bn=f"{prefix}_context_conv3_2_bn"
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        context1 = functional.relu(self.context1(x))
        branches = (
            self.conv1(x),
            self.context2(context1),
            self.context3_2(functional.relu(self.context3_1(context1))),
        )
        return functional.relu(torch.cat(branches, dim=1))


class Head(nn.Module):
    """1x1 class / box / landmark convs of one stride, outputs in Keras NHWC layout."""

    def __init__(self, weights: KerasWeights, stride: int) -> None:
        super().__init__()
        self.cls = conv(weights, f"face_rpn_cls_score_stride{stride}")
        self.bbox = conv(weights, f"face_rpn_bbox_pred_stride{stride}")
        self.landmark = conv(weights, f"face_rpn_landmark_pred_stride{stride}")
        anchors = self.cls.out_channels // 2
        if (self.cls.out_channels, self.bbox.out_channels, self.landmark.out_channels) != (
            2 * anchors,
            4 * anchors,
            10 * anchors,
        ):
            raise ModelIntegrityError(
                f"The stride-{stride} heads of {weights.source.name} do not agree on the "
                "number of anchors."
            )
        self.anchors = anchors

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits = self.cls(x)
        # MXNet channel layout: [background of anchors 0..A-1, face of anchors 0..A-1];
        # the Keras model's concat/stack/transpose dance amounts to a softmax over each
        # anchor's (background, face) pair, returned in the same channel layout.
        pairs = torch.stack((logits[:, : self.anchors], logits[:, self.anchors :]), dim=0)
        prob = torch.softmax(pairs, dim=0)
        prob = torch.cat((prob[0], prob[1]), dim=1)
        return _nhwc(prob), _nhwc(self.bbox(x)), _nhwc(self.landmark(x))


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1)


def _upsample_crop(coarse: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Nearest x2 upsampling, centre-cropped to `like` (the Keras model's tf.slice with
    offsets (up - target) // 2; with ceil-halving strides the offset is 0)."""
    up = functional.interpolate(coarse, scale_factor=2.0, mode="nearest")
    height, width = like.shape[2:]
    top, left = (up.shape[2] - height) // 2, (up.shape[3] - width) // 2
    return up[:, :, top : top + height, left : left + width]


class RetinaFaceNet(nn.Module):
    """Input: (N, 3, H, W) float RGB 0..255 (serengil feeds RGB; bn_data normalises).
    Output: for strides 32, 16, 8 the Keras model's (cls_prob, bbox, landmark) NHWC maps."""

    def __init__(self, weights: KerasWeights) -> None:
        super().__init__()
        self.bn_data = Affine(weights, "bn_data")
        self.conv0 = conv(weights, "conv0", stride=2, bn="bn0")
        self.stages: list[nn.ModuleList] = nn.ModuleList()  # type: ignore[assignment]
        for stage in (1, 2, 3, 4):
            units = nn.ModuleList()
            while f"stage{stage}_unit{len(units) + 1}_conv1" in weights:
                unit = len(units) + 1
                stride = STAGE_STRIDES[stage] if unit == 1 else 1
                units.append(Unit(weights, f"stage{stage}_unit{unit}", stride))
            if not units:
                raise ModelIntegrityError(
                    f"{weights.source.name} has no stage{stage}_unit1; is it retinaface.h5?"
                )
            self.stages.append(units)
        self.bn1 = Affine(weights, "bn1")
        self.c3_lateral = conv(weights, "ssh_c3_lateral", bn="ssh_c3_lateral_bn")
        self.c2_lateral = conv(weights, "ssh_c2_lateral", bn="ssh_c2_lateral_bn")
        self.c2_aggr = conv(weights, "ssh_c2_aggr", bn="ssh_c2_aggr_bn")
        self.c1_red = conv(weights, "ssh_m1_red_conv", bn="ssh_m1_red_conv_bn")
        self.c1_aggr = conv(weights, "ssh_c1_aggr", bn="ssh_c1_aggr_bn")
        self.ssh = nn.ModuleList(ContextModule(weights, _SSH_FOR_STRIDE[s]) for s in STRIDES)
        self.heads = nn.ModuleList(Head(weights, s) for s in STRIDES)
        self.anchors = self.heads[0].anchors

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        x = functional.relu(self.conv0(self.bn_data(x)))
        # Keras pads with zeros before its valid max-pool; after the ReLU nothing is below
        # zero, so torch's -inf padding gives the same maxima.
        x = functional.max_pool2d(x, 3, stride=2, padding=1)
        unit1_relu2: list[torch.Tensor] = []
        for units in self.stages:
            for index, unit in enumerate(units):
                x, relu2 = unit(x)
                if index == 0:
                    unit1_relu2.append(relu2)
        c3 = functional.relu(self.c3_lateral(functional.relu(self.bn1(x))))
        # stage4_unit1_relu2 is at stride 16, stage3_unit1_relu2 at stride 8 (before the
        # units' strided 3x3 convs).
        c2 = functional.relu(self.c2_lateral(unit1_relu2[3]))
        c2 = functional.relu(self.c2_aggr(c2 + _upsample_crop(c3, c2)))
        c1 = functional.relu(self.c1_red(unit1_relu2[2]))
        c1 = functional.relu(self.c1_aggr(c1 + _upsample_crop(c2, c1)))
        levels = zip((c3, c2, c1), self.ssh, self.heads, strict=True)
        return [head(ssh(c)) for c, ssh, head in levels]


def build_retinaface(weights: KerasWeights) -> RetinaFaceNet:
    """The network for `weights`, checked with a small dry run: a file whose layers do
    not fit together raises ModelIntegrityError here rather than on the first frame."""
    try:
        net = RetinaFaceNet(weights).eval()
        with torch.inference_mode():
            net(torch.zeros(1, 3, 40, 40))
    except (RuntimeError, ValueError) as exc:
        raise ModelIntegrityError(
            f"{weights.source.name} does not fit the RetinaFace network: {exc}",
            hint="Delete it and download it again with `anonnet-studio models download`.",
        ) from exc
    return net
