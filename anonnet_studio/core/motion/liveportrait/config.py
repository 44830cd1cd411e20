"""Typed LivePortrait network configuration.

The official values live in `resources/models/motion.json` (copied from the official
`models.yaml`); the dataclass defaults repeat them so a reduced test configuration is one
`dataclasses.replace` away, and a test checks that the two stay equal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.resources import resources_dir

MOTION_MANIFEST = "models/motion.json"
NUM_POSE_BINS = 66  # the head pose heads classify each angle into 66 bins of 3 degrees


@dataclass(frozen=True, slots=True)
class AppearanceConfig:
    image_channel: int = 3
    block_expansion: int = 64
    num_down_blocks: int = 2
    max_features: int = 512
    reshape_channel: int = 32
    reshape_depth: int = 16
    num_resblocks: int = 6


@dataclass(frozen=True, slots=True)
class MotionExtractorConfig:
    num_kp: int = 21
    depths: tuple[int, ...] = (3, 3, 9, 3)  # ConvNeXtV2-tiny
    dims: tuple[int, ...] = (96, 192, 384, 768)
    num_bins: int = NUM_POSE_BINS
    image_channel: int = 3


@dataclass(frozen=True, slots=True)
class DenseMotionConfig:
    block_expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5
    reshape_depth: int = 16
    compress: int = 4


@dataclass(frozen=True, slots=True)
class WarpingConfig:
    num_kp: int = 21
    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 2
    reshape_channel: int = 32
    estimate_occlusion_map: bool = True
    dense_motion: DenseMotionConfig = field(default_factory=DenseMotionConfig)


@dataclass(frozen=True, slots=True)
class DecoderConfig:
    upscale: int = 2
    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 2


@dataclass(frozen=True, slots=True)
class MlpConfig:
    input_size: int
    hidden_sizes: tuple[int, ...]
    output_size: int


@dataclass(frozen=True, slots=True)
class RetargetingConfig:
    stitching: MlpConfig = MlpConfig(126, (128, 128, 64), 65)
    lip: MlpConfig = MlpConfig(65, (128, 128, 64), 63)
    eye: MlpConfig = MlpConfig(66, (256, 256, 128, 128, 64), 63)


@dataclass(frozen=True, slots=True)
class LivePortraitConfig:
    appearance: AppearanceConfig = field(default_factory=AppearanceConfig)
    motion: MotionExtractorConfig = field(default_factory=MotionExtractorConfig)
    warping: WarpingConfig = field(default_factory=WarpingConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    retargeting: RetargetingConfig = field(default_factory=RetargetingConfig)

    @property
    def num_kp(self) -> int:
        return self.motion.num_kp


_BACKBONES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "convnextv2_tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
}


def _mlp(params: dict[str, Any]) -> MlpConfig:
    return MlpConfig(
        input_size=int(params["input_size"]),
        hidden_sizes=tuple(int(size) for size in params["hidden_sizes"]),
        output_size=int(params["output_size"]),
    )


def config_from_model_params(params: dict[str, Any]) -> LivePortraitConfig:
    """Build a config from the official `models.yaml` `model_params` mapping."""
    try:
        appearance = AppearanceConfig(**params["appearance_feature_extractor_params"])
        motion_params = params["motion_extractor_params"]
        backbone = motion_params.get("backbone", "convnextv2_tiny")
        if backbone not in _BACKBONES:
            raise ModelError(f"Unsupported LivePortrait motion backbone '{backbone}'.")
        depths, dims = _BACKBONES[backbone]
        motion = MotionExtractorConfig(
            num_kp=int(motion_params["num_kp"]),
            depths=depths,
            dims=dims,
            num_bins=int(motion_params.get("num_bins", NUM_POSE_BINS)),
        )
        warping_params = dict(params["warping_module_params"])
        dense = DenseMotionConfig(**warping_params.pop("dense_motion_params"))
        warping = WarpingConfig(dense_motion=dense, **warping_params)
        decoder = DecoderConfig(**params["spade_generator_params"])
        mlps = params["stitching_retargeting_module_params"]
        retargeting = RetargetingConfig(
            stitching=_mlp(mlps["stitching"]), lip=_mlp(mlps["lip"]), eye=_mlp(mlps["eye"])
        )
    except (KeyError, TypeError) as error:
        raise ModelError(f"The LivePortrait model configuration is incomplete: {error}.") from error
    return LivePortraitConfig(appearance, motion, warping, decoder, retargeting)


def official_config(manifest_path: Path | None = None) -> LivePortraitConfig:
    """The official LivePortrait (human) configuration, read from the motion manifest."""
    path = manifest_path or resources_dir() / MOTION_MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        params = dict(manifest["configs"]["liveportrait"])
    except (OSError, ValueError, KeyError) as error:
        raise ModelError(
            f"Cannot read the LivePortrait configuration from {path}: {error}."
        ) from error
    params.pop("source", None)
    return config_from_model_params(params)
