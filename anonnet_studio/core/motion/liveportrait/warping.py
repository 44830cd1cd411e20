"""Warping network (W in the LivePortrait paper): dense 3D motion from sparse keypoints.

Each keypoint pair (driving -> source) defines a translation of the whole feature volume.
A 3D hourglass looks at the volume warped by every one of those translations (plus the
identity, for the background) and at Gaussian heatmaps of the keypoints, and predicts a
soft per-voxel choice between them. The blended flow warps the source volume, which is then
flattened to 2D and masked by a predicted occlusion map for the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anonnet_studio.core.motion.liveportrait.blocks import ConvBlock2d, Hourglass3d
from anonnet_studio.core.motion.liveportrait.config import WarpingConfig

KEYPOINT_VARIANCE = 0.01  # width of the keypoint heatmaps in normalised [-1, 1] units


def identity_grid(depth: int, height: int, width: int, like: Tensor) -> Tensor:
    """(D, H, W, 3) sampling grid of (x, y, z) in [-1, 1], endpoints included.

    The trained weights expect endpoints at exactly -1 and 1 even though sampling uses
    `align_corners=False`; changing either convention shifts the warp by half a voxel.
    """

    def axis(size: int) -> Tensor:
        return torch.arange(size, dtype=like.dtype, device=like.device) * (2 / (size - 1)) - 1

    z, y, x = torch.meshgrid(axis(depth), axis(height), axis(width), indexing="ij")
    return torch.stack([x, y, z], dim=-1)


def keypoint_heatmaps(grid: Tensor, keypoints: Tensor) -> Tensor:
    """Unnormalised Gaussians around each keypoint: (D,H,W,3), (B,K,3) -> (B,K,D,H,W)."""
    offsets = grid[None, None] - keypoints[:, :, None, None, None, :]
    return torch.exp(-0.5 * offsets.square().sum(dim=-1) / KEYPOINT_VARIANCE)


@dataclass(frozen=True, slots=True)
class DenseMotion:
    mask: Tensor  # (B, K+1, D, H, W) soft choice between identity and the K keypoint motions
    deformation: Tensor  # (B, D, H, W, 3) sampling grid into the source volume
    occlusion_map: Tensor | None  # (B, 1, H, W) in [0, 1]


class DenseMotionNetwork(nn.Module):
    def __init__(self, config: WarpingConfig) -> None:
        super().__init__()
        dense = config.dense_motion
        self.num_kp = config.num_kp
        candidates = config.num_kp + 1  # identity (background) + one per keypoint
        self.compress = nn.Conv3d(config.reshape_channel, dense.compress, kernel_size=1)
        self.norm = nn.BatchNorm3d(dense.compress)
        self.hourglass = Hourglass3d(
            in_channels=candidates * (dense.compress + 1),
            block_expansion=dense.block_expansion,
            num_blocks=dense.num_blocks,
            max_features=dense.max_features,
        )
        self.mask = nn.Conv3d(self.hourglass.out_channels, candidates, kernel_size=7, padding=3)
        self.occlusion: nn.Conv2d | None = None
        if config.estimate_occlusion_map:
            self.occlusion = nn.Conv2d(
                self.hourglass.out_channels * dense.reshape_depth, 1, kernel_size=7, padding=3
            )

    def forward(self, feature: Tensor, kp_driving: Tensor, kp_source: Tensor) -> DenseMotion:
        """feature (B, C, D, H, W); keypoints (B, K, 3) in normalised volume coordinates."""
        compressed = F.relu(self.norm(self.compress(feature)))
        batch, channels, depth, height, width = compressed.shape
        candidates = self.num_kp + 1

        grid = identity_grid(depth, height, width, like=kp_source)
        # For a voxel p of the driving volume, keypoint k says it comes from p - kd_k + ks_k.
        shifts = (kp_source - kp_driving)[:, :, None, None, None, :]
        keypoint_flows = grid[None, None] + shifts
        flows = torch.cat([grid.expand(batch, 1, -1, -1, -1, -1), keypoint_flows], dim=1)

        volumes = compressed[:, None].expand(-1, candidates, -1, -1, -1, -1)
        warped = F.grid_sample(
            volumes.reshape(batch * candidates, channels, depth, height, width),
            flows.reshape(batch * candidates, depth, height, width, 3),
            align_corners=False,
        ).view(batch, candidates, channels, depth, height, width)

        heatmaps = keypoint_heatmaps(grid, kp_driving) - keypoint_heatmaps(grid, kp_source)
        background = heatmaps.new_zeros(batch, 1, depth, height, width)
        heatmaps = torch.cat([background, heatmaps], dim=1)

        hourglass_input = torch.cat([heatmaps[:, :, None], warped], dim=2)
        prediction = self.hourglass(hourglass_input.view(batch, -1, depth, height, width))

        mask = F.softmax(self.mask(prediction), dim=1)
        deformation = torch.einsum("bkdhw,bkdhwc->bdhwc", mask, flows)

        occlusion_map = None
        if self.occlusion is not None:
            flat = prediction.reshape(batch, -1, height, width)
            occlusion_map = torch.sigmoid(self.occlusion(flat))
        return DenseMotion(mask=mask, deformation=deformation, occlusion_map=occlusion_map)


@dataclass(frozen=True, slots=True)
class WarpResult:
    out: Tensor  # (B, C2d, H, W) warped features for the decoder
    deformation: Tensor
    occlusion_map: Tensor | None


class WarpingNetwork(nn.Module):
    def __init__(self, config: WarpingConfig) -> None:
        super().__init__()
        if config.reshape_channel * config.dense_motion.reshape_depth != config.max_features:
            raise ValueError("reshape_channel * reshape_depth must equal max_features")
        self.config = config
        self.dense_motion_network = DenseMotionNetwork(config)
        width = config.block_expansion * 2**config.num_down_blocks
        self.third = ConvBlock2d(config.max_features, width, leaky=True)
        self.fourth = nn.Conv2d(width, width, kernel_size=1)

    def forward(self, feature_3d: Tensor, kp_driving: Tensor, kp_source: Tensor) -> WarpResult:
        """Warp the source volume so its keypoints move from `kp_source` to `kp_driving`."""
        motion = self.dense_motion_network(feature_3d, kp_driving=kp_driving, kp_source=kp_source)
        warped = F.grid_sample(feature_3d, motion.deformation, align_corners=False)
        batch, channels, depth, height, width = warped.shape
        out = self.fourth(self.third(warped.view(batch, channels * depth, height, width)))
        if motion.occlusion_map is not None:
            out = out * motion.occlusion_map
        return WarpResult(
            out=out, deformation=motion.deformation, occlusion_map=motion.occlusion_map
        )
