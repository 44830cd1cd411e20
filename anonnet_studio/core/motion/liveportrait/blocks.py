"""Convolution blocks shared by the LivePortrait networks.

Attribute names (`conv`, `norm`, `down_blocks`, `up_blocks`, ...) are part of the public
weight format: the official checkpoints address parameters by these names, so they must not
be renamed. Everything here is inference-only (no dropout, no training-time statistics).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Resample3d = Literal["none", "down", "up"]


def _channels(block_expansion: int, level: int, max_features: int) -> int:
    """Feature width at `level` of a pyramid that doubles per level up to a cap."""
    return min(max_features, block_expansion * 2**level)


class ConvBlock2d(nn.Module):
    """3x3 conv, batch norm, (leaky) ReLU; optionally halves the resolution afterwards."""

    def __init__(
        self, in_channels: int, out_channels: int, *, leaky: bool = False, downsample: bool = False
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm2d(out_channels)
        self.leaky = leaky
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        x = self.norm(self.conv(x))
        x = F.leaky_relu(x) if self.leaky else F.relu(x)
        return F.avg_pool2d(x, 2) if self.downsample else x


class ConvBlock3d(nn.Module):
    """3x3x3 conv, batch norm, ReLU, with an optional 2x change of height and width only.

    Depth is never resampled: it is the (short) feature-volume depth axis.
    """

    def __init__(
        self, in_channels: int, out_channels: int, *, resample: Resample3d = "none"
    ) -> None:
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm3d(out_channels)
        self.resample = resample

    def forward(self, x: Tensor) -> Tensor:
        if self.resample == "up":
            x = F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest")
        x = F.relu(self.norm(self.conv(x)))
        if self.resample == "down":
            x = F.avg_pool3d(x, kernel_size=(1, 2, 2))
        return x


class PreActResBlock3d(nn.Module):
    """Residual block with normalisation and activation before each convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm3d(channels)
        self.conv1 = nn.Conv3d(channels, channels, kernel_size=3, padding=1)
        self.norm2 = nn.BatchNorm3d(channels)
        self.conv2 = nn.Conv3d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        residual = self.conv1(F.relu(self.norm1(x)))
        residual = self.conv2(F.relu(self.norm2(residual)))
        return x + residual


class HourglassEncoder3d(nn.Module):
    """Downsampling half of the U-Net; returns the input and every level's output."""

    def __init__(
        self, in_channels: int, block_expansion: int, num_blocks: int, max_features: int
    ) -> None:
        super().__init__()
        widths = [in_channels] + [
            _channels(block_expansion, level + 1, max_features) for level in range(num_blocks)
        ]
        self.down_blocks = nn.ModuleList(
            ConvBlock3d(widths[level], widths[level + 1], resample="down")
            for level in range(num_blocks)
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        levels = [x]
        for block in self.down_blocks:
            levels.append(block(levels[-1]))
        return levels


class HourglassDecoder3d(nn.Module):
    """Upsampling half of the U-Net, concatenating the matching encoder level after each step."""

    def __init__(
        self, in_channels: int, block_expansion: int, num_blocks: int, max_features: int
    ) -> None:
        super().__init__()
        blocks = []
        for level in reversed(range(num_blocks)):
            below = _channels(block_expansion, level + 1, max_features)
            # The deepest block sees only the bottleneck; the others also see a skip input.
            in_width = below if level == num_blocks - 1 else 2 * below
            blocks.append(
                ConvBlock3d(
                    in_width, _channels(block_expansion, level, max_features), resample="up"
                )
            )
        self.up_blocks = nn.ModuleList(blocks)
        self.out_channels = block_expansion + in_channels
        self.conv = nn.Conv3d(self.out_channels, self.out_channels, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm3d(self.out_channels)

    def forward(self, levels: list[Tensor]) -> Tensor:
        x = levels[-1]
        for block, skip in zip(self.up_blocks, reversed(levels[:-1]), strict=True):
            x = torch.cat([block(x), skip], dim=1)
        return F.relu(self.norm(self.conv(x)))


class Hourglass3d(nn.Module):
    """3D U-Net over a (channels, depth, height, width) volume; only height/width are pooled."""

    def __init__(
        self, in_channels: int, block_expansion: int, num_blocks: int, max_features: int
    ) -> None:
        super().__init__()
        self.encoder = HourglassEncoder3d(in_channels, block_expansion, num_blocks, max_features)
        self.decoder = HourglassDecoder3d(in_channels, block_expansion, num_blocks, max_features)
        self.out_channels = self.decoder.out_channels

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))
