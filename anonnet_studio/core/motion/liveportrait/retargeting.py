"""Stitching and retargeting MLPs (S and R in the LivePortrait paper).

* Stitching nudges the driven keypoints so the animated crop lines up with the source around
  the crop border (shoulders, neck), which keeps a pasted-back crop seamless.
* Eye and lip retargeting turn a desired eye / mouth openness ratio into keypoint offsets.

The openness ratios the networks were trained on come from LivePortrait's own 203-point
landmarks. `eye_open_ratios_68` and `lip_open_ratio_68` measure the same quantities (lid gap
over eye width, inner-lip gap over mouth width) on the iBUG 68-point layout that our
analysis produces; they are close but not identical to the official measurements.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import torch
from torch import Tensor, nn

from anonnet_studio.core.motion.liveportrait.config import MlpConfig, RetargetingConfig

_EPS = 1e-6


class RetargetingMlp(nn.Module):
    """Plain ReLU MLP; the checkpoint stores it as `mlp.<index>` (Linear, ReLU, Linear, ...)."""

    def __init__(self, config: MlpConfig) -> None:
        super().__init__()
        sizes = [config.input_size, *config.hidden_sizes]
        layers: list[nn.Module] = []
        for in_size, out_size in pairwise(sizes):
            layers += [nn.Linear(in_size, out_size), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], config.output_size))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(x)


class StitchingRetargeting(nn.Module):
    """The three small networks that ship together in `stitching_retargeting_module`."""

    def __init__(self, config: RetargetingConfig) -> None:
        super().__init__()
        self.stitching = RetargetingMlp(config.stitching)
        self.lip = RetargetingMlp(config.lip)
        self.eye = RetargetingMlp(config.eye)

    def stitch(self, kp_source: Tensor, kp_driving: Tensor) -> Tensor:
        """Driven keypoints (B, K, 3) corrected so the crop border stays aligned with the source."""
        batch, num_kp, _ = kp_source.shape
        features = torch.cat([kp_source.reshape(batch, -1), kp_driving.reshape(batch, -1)], dim=1)
        delta = _run(self.stitching, features)
        offsets = delta[:, : 3 * num_kp].reshape(batch, num_kp, 3)
        shift_xy = delta[:, 3 * num_kp : 3 * num_kp + 2].reshape(batch, 1, 2)
        stitched = kp_driving + offsets
        return torch.cat([stitched[..., :2] + shift_xy, stitched[..., 2:]], dim=-1)

    def retarget_eye(self, kp_source: Tensor, eye_ratios: Tensor) -> Tensor:
        """Keypoint offsets (B, K, 3) for [source left, source right, target] eye ratios (B, 3)."""
        return self._offsets(self.eye, kp_source, eye_ratios)

    def retarget_lip(self, kp_source: Tensor, lip_ratios: Tensor) -> Tensor:
        """Keypoint offsets (B, K, 3) for [source, target] lip ratios (B, 2)."""
        return self._offsets(self.lip, kp_source, lip_ratios)

    @staticmethod
    def _offsets(network: RetargetingMlp, kp_source: Tensor, ratios: Tensor) -> Tensor:
        batch, num_kp, _ = kp_source.shape
        features = torch.cat([kp_source.reshape(batch, -1), ratios.to(kp_source)], dim=1)
        return _run(network, features).reshape(batch, num_kp, 3)


def _run(network: RetargetingMlp, features: Tensor) -> Tensor:
    """Run in the network's dtype (fp16/bf16 models) but answer in the caller's (fp32 math)."""
    weight_dtype = next(network.parameters()).dtype
    return network(features.to(weight_dtype)).to(features.dtype)


def _distance(points: np.ndarray, first: int, second: int) -> float:
    return float(np.linalg.norm(points[first] - points[second]))


def eye_open_ratios_68(landmarks: np.ndarray) -> tuple[float, float]:
    """(image-left eye, image-right eye) lid gap / eye width from iBUG 68 landmarks (68, 2)."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    left_gap = (_distance(points, 37, 41) + _distance(points, 38, 40)) / 2
    right_gap = (_distance(points, 43, 47) + _distance(points, 44, 46)) / 2
    return (
        left_gap / (_distance(points, 36, 39) + _EPS),
        right_gap / (_distance(points, 42, 45) + _EPS),
    )


def lip_open_ratio_68(landmarks: np.ndarray) -> float:
    """Inner-lip gap / mouth width from iBUG 68 landmarks (68, 2)."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    return _distance(points, 62, 66) / (_distance(points, 48, 54) + _EPS)
