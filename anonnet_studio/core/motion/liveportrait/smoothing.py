"""Temporal smoothing of driving motion, to calm per-frame jitter of the motion extractor.

Smoothing is centred (zero lag) because motion transfer runs offline over a whole shot:
pose, expression, scale and shift are each low-passed with a Gaussian over time. Angles are
smoothed as angles, which is safe here because the pose heads only produce values in
[-97.5, 97.5] degrees, far from any wrap-around.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from anonnet_studio.core.motion.liveportrait.keypoints import MotionParams


def gaussian_kernel(sigma: float) -> Tensor:
    """Normalised 1D Gaussian with a radius of three sigmas."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return (kernel / kernel.sum()).float()


def smooth_series(values: Tensor, sigma: float) -> Tensor:
    """Gaussian-smooth a (T, ...) series along T; ends are padded by repeating the edge frame."""
    if sigma <= 0 or values.shape[0] < 2:
        return values
    kernel = gaussian_kernel(sigma).to(values.device)
    radius = kernel.numel() // 2
    frames = values.shape[0]
    channels = values.reshape(frames, -1).t()[:, None, :].float()  # (F, 1, T)
    padded = F.pad(channels, (radius, radius), mode="replicate")
    smoothed = F.conv1d(padded, kernel.view(1, 1, -1))
    return smoothed[:, 0, :].t().reshape(values.shape).to(values.dtype)


def smooth_motion(motion: MotionParams, sigma: float) -> MotionParams:
    """Gaussian-smooth every quantity of a (T, ...) motion sequence; `sigma` is in frames."""
    if sigma <= 0:
        return motion
    return MotionParams(
        kp=smooth_series(motion.kp, sigma),
        pitch=smooth_series(motion.pitch, sigma),
        yaw=smooth_series(motion.yaw, sigma),
        roll=smooth_series(motion.roll, sigma),
        t=smooth_series(motion.t, sigma),
        exp=smooth_series(motion.exp, sigma),
        scale=smooth_series(motion.scale, sigma),
    )
