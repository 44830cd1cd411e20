"""Appearance feature extractor (F in the LivePortrait paper).

Maps a 256x256 source image to a 3D feature volume (32 channels x 16 depth x 64 x 64 with
the official configuration) that the warping network later deforms.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from anonnet_studio.core.motion.liveportrait.blocks import ConvBlock2d, PreActResBlock3d
from anonnet_studio.core.motion.liveportrait.config import AppearanceConfig


class AppearanceFeatureExtractor(nn.Module):
    """2D encoder whose output channels are reinterpreted as a (channel, depth) volume."""

    def __init__(self, config: AppearanceConfig) -> None:
        super().__init__()
        if config.reshape_channel * config.reshape_depth != config.max_features:
            raise ValueError(
                "reshape_channel * reshape_depth must equal max_features "
                f"({config.reshape_channel} * {config.reshape_depth} != {config.max_features})"
            )
        self.config = config
        expansion, cap = config.block_expansion, config.max_features
        self.first = ConvBlock2d(config.image_channel, expansion)
        widths = [min(cap, expansion * 2**level) for level in range(config.num_down_blocks + 1)]
        self.down_blocks = nn.ModuleList(
            ConvBlock2d(widths[level], widths[level + 1], downsample=True)
            for level in range(config.num_down_blocks)
        )
        self.second = nn.Conv2d(widths[-1], cap, kernel_size=1)
        # The official checkpoint names these blocks "3dr0".."3drN" inside a Sequential.
        self.resblocks_3d = nn.Sequential(
            OrderedDict(
                (f"3dr{index}", PreActResBlock3d(config.reshape_channel))
                for index in range(config.num_resblocks)
            )
        )

    def forward(self, image: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, reshape_channel, reshape_depth, H/4, W/4)."""
        x = self.first(image)
        for block in self.down_blocks:
            x = block(x)
        x = self.second(x)
        batch, _, height, width = x.shape
        volume = x.view(
            batch, self.config.reshape_channel, self.config.reshape_depth, height, width
        )
        return self.resblocks_3d(volume)
