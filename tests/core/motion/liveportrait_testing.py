"""Helpers for the LivePortrait tests: reference modules, random weights, real face crops.

The reference implementation is the copy of the official LivePortrait modules published in
the `mimic-head` package (installed with --no-deps, see requirements/no-deps.txt). Its
package `__init__` and the module files used here import only torch/numpy/cv2/yaml, so they
are imported normally; nothing from mimic-head that needs network or extra packages runs.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from mimic_head.modules.appearance_feature_extractor import AppearanceFeatureExtractor
from mimic_head.modules.convnextv2 import ConvNeXtV2
from mimic_head.modules.motion_extractor import MotionExtractor
from mimic_head.modules.spade_generator import SPADEDecoder
from mimic_head.modules.stitching_retargeting_network import StitchingRetargetingNetwork
from mimic_head.modules.warping_network import WarpingNetwork
from safetensors.torch import save_file
from torch import Tensor, nn

from anonnet_studio.core.motion.liveportrait.config import (
    AppearanceConfig,
    DecoderConfig,
    DenseMotionConfig,
    LivePortraitConfig,
    MlpConfig,
    MotionExtractorConfig,
    RetargetingConfig,
    WarpingConfig,
)

# Small enough for a 2-core CPU, but every structural feature is kept: several down/up
# levels, learned SPADE shortcuts, pixel-shuffle upscaling, occlusion map, 3 MLPs.
NUM_KP_SMALL = 5
SMALL_CONFIG = LivePortraitConfig(
    appearance=AppearanceConfig(
        block_expansion=16,
        num_down_blocks=4,  # a 16x16 volume: the decoder then renders 128x128 crops
        max_features=64,
        reshape_channel=16,
        reshape_depth=4,
        num_resblocks=2,
    ),
    # A narrower ConvNeXtV2 (the full tiny one is tested on its own in the equivalence tests).
    motion=MotionExtractorConfig(num_kp=NUM_KP_SMALL, depths=(1, 1, 2, 1), dims=(24, 48, 96, 192)),
    warping=WarpingConfig(
        num_kp=NUM_KP_SMALL,
        block_expansion=16,
        max_features=64,
        num_down_blocks=1,
        reshape_channel=16,
        estimate_occlusion_map=True,
        dense_motion=DenseMotionConfig(
            block_expansion=8, max_features=32, num_blocks=3, reshape_depth=4, compress=2
        ),
    ),
    decoder=DecoderConfig(upscale=2, block_expansion=16, max_features=64, num_down_blocks=1),
    retargeting=RetargetingConfig(
        stitching=MlpConfig(6 * NUM_KP_SMALL, (32, 16), 3 * NUM_KP_SMALL + 2),
        lip=MlpConfig(3 * NUM_KP_SMALL + 2, (32, 16), 3 * NUM_KP_SMALL),
        eye=MlpConfig(3 * NUM_KP_SMALL + 3, (32, 32, 16), 3 * NUM_KP_SMALL),
    ),
)


def reference_networks(config: LivePortraitConfig) -> dict[str, nn.Module]:
    """mimic-head's copies of the official modules, built from our config values."""
    appearance = AppearanceFeatureExtractor(**dataclasses.asdict(config.appearance))
    motion = MotionExtractor(num_kp=config.motion.num_kp, backbone="convnextv2_tiny")
    if (config.motion.depths, config.motion.dims) != ((3, 3, 9, 3), (96, 192, 384, 768)):
        motion.detector = ConvNeXtV2(
            depths=list(config.motion.depths),
            dims=list(config.motion.dims),
            num_kp=config.motion.num_kp,
        )
    warping_params = dataclasses.asdict(config.warping)
    warping_params["dense_motion_params"] = warping_params.pop("dense_motion")
    return {
        "appearance_feature_extractor": appearance,
        "motion_extractor": motion,
        "warping_module": WarpingNetwork(**warping_params),
        "spade_generator": SPADEDecoder(**dataclasses.asdict(config.decoder)),
        **{
            name: StitchingRetargetingNetwork(**dataclasses.asdict(mlp))
            for name, mlp in (
                ("stitching", config.retargeting.stitching),
                ("lip", config.retargeting.lip),
                ("eye", config.retargeting.eye),
            )
        },
    }


def random_state_dict(module: nn.Module, seed: int) -> dict[str, Tensor]:
    """Random weights in `module`'s layout, scaled so activations stay in a useful range.

    Batch-norm statistics and biases are random too (a default-initialised network would leave
    them at 0/1 and hide mistakes in how they are used). Spectral-norm vectors are set by power
    iteration, as training would leave them; arbitrary vectors give a meaningless sigma.
    """
    generator = torch.Generator().manual_seed(seed)

    def normal(shape: torch.Size, std: float) -> Tensor:
        return torch.randn(shape, generator=generator) * std

    state: dict[str, Tensor] = {}
    for name, tensor in module.state_dict().items():
        leaf = name.rsplit(".", 1)[-1]
        if not tensor.is_floating_point():
            state[name] = torch.tensor(seed % 1000, dtype=tensor.dtype)
        elif leaf == "running_var":
            state[name] = 0.5 + torch.rand(tensor.shape, generator=generator)
        elif leaf in ("running_mean", "bias", "beta", "gamma"):
            state[name] = normal(tensor.shape, 0.1)
        elif leaf in ("weight_u", "weight_v"):
            continue  # derived from weight_orig below
        elif tensor.ndim == 1:  # normalisation scales
            state[name] = 1 + normal(tensor.shape, 0.1)
        else:
            fan_in = tensor[0].numel()
            state[name] = normal(tensor.shape, math.sqrt(2.0 / fan_in))
    for name in [key for key in state if key.endswith(".weight_orig")]:
        prefix = name.removesuffix("weight_orig")
        matrix = state[name].flatten(1)
        u = torch.nn.functional.normalize(normal(matrix.shape[:1], 1.0), dim=0)
        for _ in range(10):
            v = torch.nn.functional.normalize(matrix.t() @ u, dim=0)
            u = torch.nn.functional.normalize(matrix @ v, dim=0)
        state[prefix + "weight_u"], state[prefix + "weight_v"] = u, v
    return state


def with_plausible_motion_heads(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Shrink the motion extractor's keypoint/shift/expression heads and centre its scale.

    Random heads put keypoints far outside the [-1, 1] feature volume, where the warp
    ignores them and every driving frame renders the same image. Trained LivePortrait
    keypoints sit well inside the volume, so the random ones are scaled to match.
    """
    state = dict(state)
    for head, factor in (("fc_kp", 0.1), ("fc_exp", 0.02), ("fc_t", 0.02), ("fc_scale", 0.02)):
        for leaf in ("weight", "bias"):
            state[f"detector.{head}.{leaf}"] = state[f"detector.{head}.{leaf}"] * factor
    state["detector.fc_scale.bias"] = state["detector.fc_scale.bias"] + 1.0
    return state


def face_crops(video: Path, frames: list[int], size: int = 256) -> np.ndarray:
    """RGB uint8 (N, size, size, 3) centre crops of the given frames of a real clip."""
    wanted, crops = set(frames), {}
    with av.open(str(video)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                image = frame.to_ndarray(format="rgb24")
                height, width = image.shape[:2]
                side = min(height, width)
                top, left = (height - side) // 2, (width - side) // 2
                square = np.ascontiguousarray(image[top : top + side, left : left + side])
                if side != size:
                    square = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA)
                crops[index] = square
            if index >= max(frames):
                break
    return np.stack([crops[index] for index in frames])


def max_abs_diff(ours: Tensor, reference: Tensor) -> float:
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    return float((ours.float() - reference.float()).abs().max())


BASE = ("appearance_feature_extractor", "motion_extractor", "warping_module", "spade_generator")
GROUPS = {"stitching": "retarget_shoulder", "lip": "retarget_mouth", "eye": "retarget_eye"}
# Smaller than the loader tests' configuration so a few frames render quickly on a CPU.
TINY_CONFIG = dataclasses.replace(
    SMALL_CONFIG,
    appearance=dataclasses.replace(SMALL_CONFIG.appearance, num_down_blocks=4),
    motion=dataclasses.replace(SMALL_CONFIG.motion, depths=(1, 1, 1, 1), dims=(16, 32, 64, 128)),
)


def write_safetensors_layout(folder: Path, weights: dict[str, dict[str, Tensor]]) -> Path:
    """`<folder>/*.safetensors` as in Kijai/LivePortrait_safetensors."""
    folder.mkdir(parents=True)
    for name in BASE:
        save_file(weights[name], str(folder / f"{name}.safetensors"))
    flat = {
        f"{group}_module.{key}": value
        for attribute, group in GROUPS.items()
        for key, value in weights[attribute].items()
    }
    save_file(flat, str(folder / "stitching_retargeting_module.safetensors"))
    return folder


def install_tiny_liveportrait(models_dir: Path, seed: int = 50) -> Path:
    """Random `TINY_CONFIG` weights in a user's models folder, where the model manager
    finds them (`<models_dir>/liveportrait-safetensors/`). The networks must then be built
    with `TINY_CONFIG` (the loader's `config`), since the official sizes would not fit."""
    reference = reference_networks(TINY_CONFIG)
    weights = {
        name: random_state_dict(net, seed=seed + i)
        for i, (name, net) in enumerate(reference.items())
    }
    weights["motion_extractor"] = with_plausible_motion_heads(weights["motion_extractor"])
    return write_safetensors_layout(models_dir / "liveportrait-safetensors", weights)
