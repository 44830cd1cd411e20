"""SPADE generator (G in the LivePortrait paper): warped features -> output image.

Every residual block is modulated by the warped feature map itself (SPADE), and the last
layer upsamples with a pixel shuffle, so a 64x64 feature map becomes a 512x512 image with
the official configuration.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anonnet_studio.core.motion.liveportrait.config import DecoderConfig

SPADE_HIDDEN = 128
DECODER_OUT_CHANNELS = 64
LEAKY_SLOPE = 0.2
POWER_ITERATIONS_AT_INIT = 20


class SpectralNormConv2d(nn.Module):
    """Conv2d whose weight is divided by its largest singular value (spectral norm).

    The checkpoints store the raw weight and the power-iteration vectors as `weight_orig`,
    `weight_u` and `weight_v`; at inference the stored vectors are used as they are, which
    reproduces the trained network exactly. Freshly built modules run a few power iterations
    so that untrained (random) weights still give a sensible estimate.
    """

    weight_u: Tensor  # power-iteration buffers, registered in __init__
    weight_v: Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        dilation: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        template = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            padding=dilation * (kernel_size // 2),
            dilation=dilation,
            bias=bias,
        )
        self.padding = template.padding
        self.dilation = template.dilation
        self.weight_orig = nn.Parameter(template.weight.detach().clone())
        self.bias = (
            nn.Parameter(template.bias.detach().clone())
            if bias and template.bias is not None
            else None
        )
        matrix = self.weight_orig.detach().flatten(1)
        u = F.normalize(torch.randn(matrix.shape[0]), dim=0)
        v = F.normalize(torch.randn(matrix.shape[1]), dim=0)
        for _ in range(POWER_ITERATIONS_AT_INIT):
            v = F.normalize(matrix.t() @ u, dim=0)
            u = F.normalize(matrix @ v, dim=0)
        self.register_buffer("weight_u", u)
        self.register_buffer("weight_v", v)

    def normalized_weight(self) -> Tensor:
        sigma = torch.dot(self.weight_u, self.weight_orig.flatten(1) @ self.weight_v)
        return self.weight_orig / sigma

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(
            x, self.normalized_weight(), self.bias, padding=self.padding, dilation=self.dilation
        )


class Spade(nn.Module):
    """Instance norm whose per-pixel scale and shift are predicted from a conditioning map."""

    def __init__(self, channels: int, condition_channels: int) -> None:
        super().__init__()
        self.mlp_shared = nn.Sequential(
            nn.Conv2d(condition_channels, SPADE_HIDDEN, kernel_size=3, padding=1), nn.ReLU()
        )
        self.mlp_gamma = nn.Conv2d(SPADE_HIDDEN, channels, kernel_size=3, padding=1)
        self.mlp_beta = nn.Conv2d(SPADE_HIDDEN, channels, kernel_size=3, padding=1)

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        condition = F.interpolate(condition, size=x.shape[2:], mode="nearest")
        hidden = self.mlp_shared(condition)
        return F.instance_norm(x) * (1 + self.mlp_gamma(hidden)) + self.mlp_beta(hidden)


class SpadeResBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, condition_channels: int) -> None:
        super().__init__()
        middle = min(in_channels, out_channels)
        self.norm_0 = Spade(in_channels, condition_channels)
        self.conv_0 = SpectralNormConv2d(in_channels, middle, 3)
        self.norm_1 = Spade(middle, condition_channels)
        self.conv_1 = SpectralNormConv2d(middle, out_channels, 3)
        self.norm_s: Spade | None = None
        self.conv_s: SpectralNormConv2d | None = None
        if in_channels != out_channels:  # a learned projection on the skip path
            self.norm_s = Spade(in_channels, condition_channels)
            self.conv_s = SpectralNormConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        skip = x
        if self.conv_s is not None and self.norm_s is not None:
            skip = self.conv_s(self.norm_s(x, condition))
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, condition), LEAKY_SLOPE))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, condition), LEAKY_SLOPE))
        return skip + dx


class SpadeDecoder(nn.Module):
    NUM_MIDDLE_BLOCKS = 6

    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.config = config
        width = min(config.max_features, config.block_expansion * 2**config.num_down_blocks)
        self.fc = nn.Conv2d(width, 2 * width, kernel_size=3, padding=1)
        # The checkpoint names the middle blocks G_middle_0..G_middle_5 (not a ModuleList).
        self._middle_names = [f"G_middle_{index}" for index in range(self.NUM_MIDDLE_BLOCKS)]
        for name in self._middle_names:
            self.add_module(name, SpadeResBlock(2 * width, 2 * width, width))
        self.up_0 = SpadeResBlock(2 * width, width, width)
        self.up_1 = SpadeResBlock(width, DECODER_OUT_CHANNELS, width)
        upscale = config.upscale or 1
        self.conv_img: nn.Module
        if upscale <= 1:
            self.conv_img = nn.Conv2d(DECODER_OUT_CHANNELS, 3, kernel_size=3, padding=1)
        else:
            self.conv_img = nn.Sequential(
                nn.Conv2d(DECODER_OUT_CHANNELS, 3 * upscale**2, kernel_size=3, padding=1),
                nn.PixelShuffle(upscale),
            )

    def forward(self, feature: Tensor) -> Tensor:
        """(B, C, 64, 64) warped features -> (B, 3, 256 * upscale, 256 * upscale) in [0, 1]."""
        x = self.fc(feature)
        for name in self._middle_names:
            x = getattr(self, name)(x, feature)
        x = self.up_0(F.interpolate(x, scale_factor=2.0, mode="nearest"), feature)
        x = self.up_1(F.interpolate(x, scale_factor=2.0, mode="nearest"), feature)
        return torch.sigmoid(self.conv_img(F.leaky_relu(x, LEAKY_SLOPE)))
