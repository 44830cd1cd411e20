"""Motion extractor (M in the LivePortrait paper): a ConvNeXtV2 backbone with regression heads.

From one 256x256 face crop it predicts the canonical implicit keypoints, the head pose as
66-bin classifications of pitch/yaw/roll, a translation, a scale and per-keypoint expression
offsets. The raw head outputs are returned; `keypoints.decode_motion` interprets them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anonnet_studio.core.motion.liveportrait.config import MotionExtractorConfig

_LAYER_NORM_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class RawMotion:
    """Head outputs of the motion extractor, batch first, not yet decoded."""

    kp: Tensor  # (B, 3K) canonical keypoints
    pitch: Tensor  # (B, bins) logits
    yaw: Tensor  # (B, bins) logits
    roll: Tensor  # (B, bins) logits
    t: Tensor  # (B, 3)
    exp: Tensor  # (B, 3K) expression offsets
    scale: Tensor  # (B, 1)


class ChannelsFirstLayerNorm(nn.Module):
    """LayerNorm over the channel axis of an (N, C, H, W) tensor."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        x = F.layer_norm(
            x.permute(0, 2, 3, 1), x.shape[1:2], self.weight, self.bias, _LAYER_NORM_EPS
        )
        return x.permute(0, 3, 1, 2)


class GlobalResponseNorm(nn.Module):
    """ConvNeXtV2's GRN: rescales each channel by its spatial energy relative to the others."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        # Shaped for channels-last input so they broadcast without reshaping.
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, channels))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, channels))

    def forward(self, x: Tensor) -> Tensor:
        energy = torch.linalg.vector_norm(x, ord=2, dim=(1, 2), keepdim=True)
        relative = energy / (energy.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * relative) + self.beta + x


class ConvNeXtV2Block(nn.Module):
    """Depthwise 7x7 conv, LayerNorm, inverted-bottleneck MLP with GRN, residual."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(channels, channels, kernel_size=7, padding=3, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=_LAYER_NORM_EPS)
        self.pwconv1 = nn.Linear(channels, 4 * channels)
        self.grn = GlobalResponseNorm(4 * channels)
        self.pwconv2 = nn.Linear(4 * channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)  # the MLP runs channels-last
        y = self.pwconv2(self.grn(F.gelu(self.pwconv1(self.norm(y)))))
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtV2Regressor(nn.Module):
    """ConvNeXtV2 trunk, global average pooling, and one linear head per motion quantity."""

    def __init__(self, config: MotionExtractorConfig) -> None:
        super().__init__()
        dims = config.dims
        stem = nn.Sequential(
            nn.Conv2d(config.image_channel, dims[0], kernel_size=4, stride=4),
            ChannelsFirstLayerNorm(dims[0]),
        )
        transitions = [
            nn.Sequential(
                ChannelsFirstLayerNorm(dims[stage - 1]),
                nn.Conv2d(dims[stage - 1], dims[stage], kernel_size=2, stride=2),
            )
            for stage in range(1, len(dims))
        ]
        self.downsample_layers = nn.ModuleList([stem, *transitions])
        self.stages = nn.ModuleList(
            nn.Sequential(*(ConvNeXtV2Block(width) for _ in range(depth)))
            for width, depth in zip(dims, config.depths, strict=True)
        )
        self.norm = nn.LayerNorm(dims[-1], eps=_LAYER_NORM_EPS)
        features, keypoint_values = dims[-1], 3 * config.num_kp
        self.fc_kp = nn.Linear(features, keypoint_values)
        self.fc_scale = nn.Linear(features, 1)
        self.fc_pitch = nn.Linear(features, config.num_bins)
        self.fc_yaw = nn.Linear(features, config.num_bins)
        self.fc_roll = nn.Linear(features, config.num_bins)
        self.fc_t = nn.Linear(features, 3)
        self.fc_exp = nn.Linear(features, keypoint_values)

    def forward(self, image: Tensor) -> RawMotion:
        x = image
        for downsample, stage in zip(self.downsample_layers, self.stages, strict=True):
            x = stage(downsample(x))
        pooled = self.norm(x.mean(dim=(-2, -1)))
        return RawMotion(
            kp=self.fc_kp(pooled),
            pitch=self.fc_pitch(pooled),
            yaw=self.fc_yaw(pooled),
            roll=self.fc_roll(pooled),
            t=self.fc_t(pooled),
            exp=self.fc_exp(pooled),
            scale=self.fc_scale(pooled),
        )


class MotionExtractor(nn.Module):
    """The M network; the backbone sits under `detector` as in the official checkpoint."""

    def __init__(self, config: MotionExtractorConfig) -> None:
        super().__init__()
        self.config = config
        self.detector = ConvNeXtV2Regressor(config)

    def forward(self, image: Tensor) -> RawMotion:
        """(B, 3, 256, 256) in [0, 1] -> raw head outputs."""
        return self.detector(image)
