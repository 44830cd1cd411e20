"""Implicit-keypoint math: decoding the motion extractor, posing keypoints, relative motion.

Keypoints are row vectors, so a rotation R acts as `kp @ R` (R is the transpose of the usual
column-vector rotation). The driven keypoints of the paper (Eq. 2) are

    x = s * (x_c @ R + exp) + [tx, ty, 0]

and relative driving (used to re-enact a different person) transfers the *change* of the
driving motion since a reference driving frame d0 onto the source:

    R = (R_d R_d0^T) R_s,  exp = exp_s + (exp_d - exp_d0),
    s = s_s * s_d / s_d0,  t = t_s + (t_d - t_d0) with tz = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from anonnet_studio.core.motion.liveportrait.motion_extractor import RawMotion

POSE_BIN_DEGREES = 3.0
# Bins 0..65 at 3 degrees each, centred on zero: the bin centres span [-97.5, 97.5].
POSE_OFFSET_DEGREES = 97.5


@dataclass(frozen=True, slots=True)
class MotionParams:
    """Decoded motion of a batch of face crops (float32, batch first)."""

    kp: Tensor  # (B, K, 3) canonical keypoints x_c
    pitch: Tensor  # (B,) degrees
    yaw: Tensor  # (B,) degrees
    roll: Tensor  # (B,) degrees
    t: Tensor  # (B, 3)
    exp: Tensor  # (B, K, 3) expression offsets
    scale: Tensor  # (B, 1)

    def __len__(self) -> int:
        return int(self.kp.shape[0])

    def __getitem__(self, index: int | slice) -> MotionParams:
        """The motion of one frame (kept as a batch of 1) or of a slice of frames."""
        # `index + 1 or None` keeps index -1 meaning the last frame (slice(-1, None)).
        window = index if isinstance(index, slice) else slice(index, index + 1 or None)
        return MotionParams(
            kp=self.kp[window],
            pitch=self.pitch[window],
            yaw=self.yaw[window],
            roll=self.roll[window],
            t=self.t[window],
            exp=self.exp[window],
            scale=self.scale[window],
        )

    def rotation(self) -> Tensor:
        return rotation_matrix(self.pitch, self.yaw, self.roll)

    def to(self, device: torch.device | str) -> MotionParams:
        return MotionParams(
            kp=self.kp.to(device),
            pitch=self.pitch.to(device),
            yaw=self.yaw.to(device),
            roll=self.roll.to(device),
            t=self.t.to(device),
            exp=self.exp.to(device),
            scale=self.scale.to(device),
        )

    @staticmethod
    def concat(parts: list[MotionParams]) -> MotionParams:
        """Join per-frame or per-chunk motions along the batch (time) axis."""
        if not parts:
            raise ValueError("no motion to concatenate")
        return MotionParams(
            kp=torch.cat([part.kp for part in parts]),
            pitch=torch.cat([part.pitch for part in parts]),
            yaw=torch.cat([part.yaw for part in parts]),
            roll=torch.cat([part.roll for part in parts]),
            t=torch.cat([part.t for part in parts]),
            exp=torch.cat([part.exp for part in parts]),
            scale=torch.cat([part.scale for part in parts]),
        )


def pose_bins_to_degrees(logits: Tensor) -> Tensor:
    """Expected angle under the softmax over 66 pose bins: (B, 66) -> (B,) degrees."""
    bins = torch.arange(logits.shape[1], dtype=logits.dtype, device=logits.device)
    expected_bin = (F.softmax(logits, dim=1) * bins).sum(dim=1)
    return expected_bin * POSE_BIN_DEGREES - POSE_OFFSET_DEGREES


def decode_motion(raw: RawMotion) -> MotionParams:
    """Turn motion-extractor head outputs into keypoints, angles in degrees, t, exp, scale."""
    batch = raw.kp.shape[0]
    return MotionParams(
        kp=raw.kp.float().reshape(batch, -1, 3),
        pitch=pose_bins_to_degrees(raw.pitch.float()),
        yaw=pose_bins_to_degrees(raw.yaw.float()),
        roll=pose_bins_to_degrees(raw.roll.float()),
        t=raw.t.float(),
        exp=raw.exp.float().reshape(batch, -1, 3),
        scale=raw.scale.float(),
    )


def rotation_matrix(pitch: Tensor, yaw: Tensor, roll: Tensor) -> Tensor:
    """Row-vector rotation (B, 3, 3) for angles in degrees: (Rz(roll) Ry(yaw) Rx(pitch))^T."""
    pitch, yaw, roll = (angle.reshape(-1) * (math.pi / 180) for angle in (pitch, yaw, roll))
    one, zero = torch.ones_like(pitch), torch.zeros_like(pitch)
    cx, sx, cy, sy, cz, sz = (
        pitch.cos(),
        pitch.sin(),
        yaw.cos(),
        yaw.sin(),
        roll.cos(),
        roll.sin(),
    )
    rot_x = torch.stack([one, zero, zero, zero, cx, -sx, zero, sx, cx], dim=1).view(-1, 3, 3)
    rot_y = torch.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], dim=1).view(-1, 3, 3)
    rot_z = torch.stack([cz, -sz, zero, sz, cz, zero, zero, zero, one], dim=1).view(-1, 3, 3)
    return (rot_z @ rot_y @ rot_x).transpose(1, 2)


def pose_keypoints(
    canonical: Tensor, rotation: Tensor, exp: Tensor, scale: Tensor, t: Tensor
) -> Tensor:
    """Eq. 2: s * (x_c @ R + exp) + [tx, ty, 0]; the z translation is ignored by design."""
    posed = scale[..., None] * (canonical @ rotation + exp)
    return torch.cat([posed[..., :2] + t[:, None, :2], posed[..., 2:]], dim=-1)


def transform_keypoint(motion: MotionParams) -> Tensor:
    """Keypoints (B, K, 3) of an image posed with its own rotation, expression, scale, shift."""
    return pose_keypoints(motion.kp, motion.rotation(), motion.exp, motion.scale, motion.t)


@dataclass(frozen=True, slots=True)
class RelativeMotion:
    rotation: Tensor  # (B, 3, 3)
    exp: Tensor  # (B, K, 3)
    scale: Tensor  # (B, 1)
    t: Tensor  # (B, 3), tz = 0


def relative_motion(
    source: MotionParams, driving: MotionParams, driving_ref: MotionParams
) -> RelativeMotion:
    """Transfer the driving motion since `driving_ref` onto the source (see module docstring)."""
    rotation = driving.rotation() @ driving_ref.rotation().transpose(1, 2) @ source.rotation()
    exp = source.exp + (driving.exp - driving_ref.exp)
    scale = source.scale * (driving.scale / driving_ref.scale)
    t = source.t + (driving.t - driving_ref.t)
    # As in the official code tz is zeroed; pose_keypoints ignores it either way.
    t = torch.cat([t[:, :2], torch.zeros_like(t[:, 2:])], dim=1)
    return RelativeMotion(rotation=rotation, exp=exp, scale=scale, t=t)


def driven_keypoints(
    source: MotionParams, driving: MotionParams, driving_ref: MotionParams
) -> Tensor:
    """Source canonical keypoints posed with the relative driving motion: (B, K, 3)."""
    motion = relative_motion(source, driving, driving_ref)
    return pose_keypoints(source.kp, motion.rotation, motion.exp, motion.scale, motion.t)
