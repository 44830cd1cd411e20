"""Animate one source face crop with the motion of a sequence of driving face crops.

Crops are RGB uint8 arrays of the face region (256x256 is the network resolution; other
sizes are resized). Outputs are RGB uint8 crops of `output_size` pixels (512x512 with the
official weights). Cropping from and pasting into full frames is someone else's job: this
module only works in crop space.

Typical use::

    animator = LivePortraitAnimator(load_liveportrait(folder, device, dtype))
    for crop in animator.animate(synthetic_face_crop, original_face_crops):
        ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import Tensor

from anonnet_studio.core.motion.liveportrait.keypoints import (
    MotionParams,
    decode_motion,
    driven_keypoints,
    transform_keypoint,
)
from anonnet_studio.core.motion.liveportrait.loading import LivePortraitModels
from anonnet_studio.core.motion.liveportrait.retargeting import (
    eye_open_ratios_68,
    lip_open_ratio_68,
)
from anonnet_studio.core.motion.liveportrait.smoothing import smooth_motion
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel

NETWORK_SIZE = 256


@dataclass(frozen=True, slots=True)
class AnimatorOptions:
    stitching: bool = True  # keep the crop border aligned with the source (recommended)
    smoothing_sigma: float = 0.0  # Gaussian smoothing of the driving motion, in frames
    lip_zero: bool = True  # close the source mouth first (needs source landmarks)
    lip_zero_threshold: float = 0.03  # below this lip ratio the mouth counts as closed
    motion_batch_size: int = 8  # driving crops per motion-extractor call


@dataclass(frozen=True)
class SourceState:
    """Everything about the source crop that stays fixed while it is animated."""

    feature_3d: Tensor  # (1, C, D, H, W) appearance volume, model dtype
    motion: MotionParams  # (1, ...) float32
    kp: Tensor  # (1, K, 3) posed source keypoints x_s, float32
    lip_zero_delta: Tensor | None  # (1, K, 3) offsets that close the mouth, or None
    eye_ratios: tuple[float, float] | None  # from source landmarks, for eye retargeting
    lip_ratio: float | None  # from source landmarks, for lip retargeting


def images_to_tensor(images: np.ndarray, device: torch.device, dtype: torch.dtype) -> Tensor:
    """RGB uint8 (H, W, 3) or (N, H, W, 3) -> (N, 3, 256, 256) in [0, 1]."""
    batch = images[None] if images.ndim == 3 else images
    if batch.ndim != 4 or batch.shape[-1] != 3 or batch.dtype != np.uint8:
        raise ValueError(
            f"expected RGB uint8 image(s) of shape (N, H, W, 3), got {images.dtype} {images.shape}"
        )
    resized = [_to_network_size(image) for image in batch]
    array = np.stack(resized).astype(np.float32) / 255.0
    return torch.from_numpy(array).permute(0, 3, 1, 2).to(device=device, dtype=dtype)


def _to_network_size(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    if (height, width) == (NETWORK_SIZE, NETWORK_SIZE):
        return image
    # Area averaging when shrinking avoids aliasing that the motion extractor would see as jitter.
    shrinking = height > NETWORK_SIZE or width > NETWORK_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (NETWORK_SIZE, NETWORK_SIZE), interpolation=interpolation)


def tensor_to_images(images: Tensor) -> np.ndarray:
    """(N, 3, H, W) in [0, 1] -> RGB uint8 (N, H, W, 3)."""
    array = images.detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    return (array * 255).astype(np.uint8)


class LivePortraitAnimator:
    """Source preparation, driving-motion extraction and rendering over loaded networks."""

    def __init__(self, models: LivePortraitModels, options: AnimatorOptions | None = None) -> None:
        self.models = models
        self.options = options or AnimatorOptions()

    @property
    def output_size(self) -> int:
        """Side of the output crops (512 with the official configuration)."""
        config = self.models.config
        volume_size = NETWORK_SIZE // 2**config.appearance.num_down_blocks
        # The decoder upsamples twice by 2, then by `upscale` in its pixel shuffle.
        return volume_size * 4 * max(1, config.decoder.upscale)

    @torch.inference_mode()
    def prepare_source(
        self, image: np.ndarray, landmarks_68: np.ndarray | None = None
    ) -> SourceState:
        """Appearance volume and keypoints of the source crop (RGB uint8).

        `landmarks_68` (iBUG layout, crop pixel coordinates) enable lip-zero and retargeting.
        """
        pixels = images_to_tensor(image, self.models.device, self.models.dtype)
        if pixels.shape[0] != 1:
            raise ValueError("prepare_source takes a single image")
        motion = decode_motion(self.models.motion(pixels))
        kp = transform_keypoint(motion)
        eye_ratios = lip_ratio = lip_zero_delta = None
        if landmarks_68 is not None:
            eye_ratios = eye_open_ratios_68(landmarks_68)
            lip_ratio = lip_open_ratio_68(landmarks_68)
            if self.options.lip_zero and lip_ratio >= self.options.lip_zero_threshold:
                closed = torch.tensor([[lip_ratio, 0.0]], device=kp.device)
                lip_zero_delta = self.models.retargeting.retarget_lip(kp, closed)
        return SourceState(
            feature_3d=self.models.appearance(pixels),
            motion=motion,
            kp=kp,
            lip_zero_delta=lip_zero_delta,
            eye_ratios=eye_ratios,
            lip_ratio=lip_ratio,
        )

    @torch.inference_mode()
    def extract_motion(self, images: np.ndarray) -> MotionParams:
        """Decoded motion of one (H, W, 3) or several (N, H, W, 3) RGB uint8 crops."""
        pixels = images_to_tensor(images, self.models.device, self.models.dtype)
        return decode_motion(self.models.motion(pixels))

    @torch.inference_mode()
    def final_keypoints(
        self,
        source: SourceState,
        driving: MotionParams,
        driving_ref: MotionParams,
        *,
        eye_ratio: float | None = None,
        lip_ratio: float | None = None,
    ) -> Tensor:
        """Final keypoints (B, K, 3) for the warp: relative motion, retargeting, stitching.

        Unlike the official pipeline, which applies eye/lip retargeting to the *unposed*
        source keypoints (dropping the head motion), retargeting offsets are added to the
        driven keypoints here so pose and expression transfer keep working.
        """
        device = source.kp.device
        kp_driving = driven_keypoints(source.motion, driving.to(device), driving_ref.to(device))
        batch = kp_driving.shape[0]
        kp_source = source.kp.expand(batch, -1, -1)
        retargeted = eye_ratio is not None or lip_ratio is not None
        if eye_ratio is not None:
            if source.eye_ratios is None:
                raise ValueError("eye retargeting needs source landmarks (prepare_source)")
            ratios = torch.tensor([[*source.eye_ratios, eye_ratio]], device=device)
            kp_driving = kp_driving + self.models.retargeting.retarget_eye(
                kp_source, ratios.expand(batch, -1)
            )
        if lip_ratio is not None:
            if source.lip_ratio is None:
                raise ValueError("lip retargeting needs source landmarks (prepare_source)")
            ratios = torch.tensor([[source.lip_ratio, lip_ratio]], device=device)
            kp_driving = kp_driving + self.models.retargeting.retarget_lip(
                kp_source, ratios.expand(batch, -1)
            )
        if self.options.stitching:
            kp_driving = self.models.retargeting.stitch(kp_source, kp_driving)
        if source.lip_zero_delta is not None and not retargeted:
            kp_driving = kp_driving + source.lip_zero_delta
        return kp_driving

    @torch.inference_mode()
    def render_tensor(self, source: SourceState, kp_driving: Tensor) -> Tensor:
        """Warp the source volume to `kp_driving` (B, K, 3) and decode: (B, 3, H, W) in [0, 1]."""
        batch = kp_driving.shape[0]
        dtype = self.models.dtype
        warped = self.models.warping(
            source.feature_3d.expand(batch, -1, -1, -1, -1),
            kp_driving=kp_driving.to(dtype),
            kp_source=source.kp.expand(batch, -1, -1).to(dtype),
        )
        return self.models.decoder(warped.out).float()

    def render(
        self, source: SourceState, driving: MotionParams, driving_ref: MotionParams
    ) -> np.ndarray:
        """RGB uint8 crops (B, H, W, 3): the source posed like `driving` relative to the ref."""
        kp_driving = self.final_keypoints(source, driving, driving_ref)
        return tensor_to_images(self.render_tensor(source, kp_driving))

    def drive(
        self, source: SourceState, driving_img: np.ndarray, driving_ref_motion: MotionParams
    ) -> np.ndarray:
        """One animated RGB uint8 crop for one driving crop (no temporal smoothing)."""
        return self.render(source, self.extract_motion(driving_img), driving_ref_motion)[0]

    def read_motion(
        self,
        driving_images: Iterable[np.ndarray],
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> MotionParams:
        """Motion of every driving crop, smoothed over time when the options ask for it."""
        total = len(driving_images) if isinstance(driving_images, Sequence) else None
        parts: list[MotionParams] = []
        pending: list[np.ndarray] = []
        done = 0
        for image in driving_images:
            pending.append(_to_network_size(image))
            if len(pending) == self.options.motion_batch_size:
                check_cancel(cancel)
                parts.append(self.extract_motion(np.stack(pending)))
                done += len(pending)
                pending.clear()
                _report(on_progress, Progress("Reading driving motion", done, total))
        if pending:
            check_cancel(cancel)
            parts.append(self.extract_motion(np.stack(pending)))
            done += len(pending)
            _report(on_progress, Progress("Reading driving motion", done, total))
        if not parts:
            raise ValueError("no driving images")
        return smooth_motion(MotionParams.concat(parts), self.options.smoothing_sigma)

    def animate(
        self,
        source_image: np.ndarray,
        driving_images: Iterable[np.ndarray],
        *,
        source_landmarks_68: np.ndarray | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield one animated crop per driving crop; the first driving crop is the reference.

        All driving motion is read first (it is small) so it can be smoothed without lag;
        frames are then rendered one by one, checking `cancel` between frames.
        """
        source = self.prepare_source(source_image, source_landmarks_68)
        motion = self.read_motion(driving_images, on_progress=on_progress, cancel=cancel)
        reference = motion[0]
        for index in range(len(motion)):
            check_cancel(cancel)
            yield self.render(source, motion[index], reference)[0]
            _report(on_progress, Progress("Animating face", index + 1, len(motion)))


def _report(on_progress: ProgressCallback | None, progress: Progress) -> None:
    if on_progress is not None:
        on_progress(progress)
