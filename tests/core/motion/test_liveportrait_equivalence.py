"""Our LivePortrait modules against the reference copy in mimic-head, with shared random weights.

For each network ONE random state dict is made in the official layout, loaded with
strict=True into both implementations, and the outputs are compared on CPU in fp32.
Full official configuration: key/shape compatibility of all networks, and forward passes of
every network (warping and decoder on a smaller spatial size, which does not change any
weight shape). Reduced configuration: a whole source-to-driving animation step.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import mimic_head
import numpy as np
import pytest
import torch
import yaml
from liveportrait_testing import (
    SMALL_CONFIG,
    face_crops,
    max_abs_diff,
    random_state_dict,
    reference_networks,
    with_plausible_motion_heads,
)
from mimic_head.live_portrait_wrapper import LivePortraitWrapper
from mimic_head.utils.camera import get_rotation_matrix
from mimic_head.utils.helper import calculate_transformation
from torch import nn

from anonnet_studio.core.motion.liveportrait import (
    AnimatorOptions,
    LivePortraitAnimator,
    LivePortraitConfig,
    build_liveportrait,
    official_config,
)
from anonnet_studio.core.motion.liveportrait.config import config_from_model_params
from anonnet_studio.core.motion.liveportrait.loading import LivePortraitModels
from tests.conftest import fixture_video

TOLERANCE = 1e-4
OFFICIAL_YAML = Path(mimic_head.__file__).parent / "config" / "models.yaml"


def _ours(models: LivePortraitModels, name: str) -> nn.Module:
    if name in ("stitching", "lip", "eye"):
        return getattr(models.retargeting, name)
    return models.networks()[name]


def _shared_weights(
    config: LivePortraitConfig, names: list[str]
) -> tuple[LivePortraitModels, dict[str, nn.Module], dict[str, nn.Module]]:
    """Our networks and the reference ones, each pair holding the same random weights.

    Returns our models, our networks by name, and the reference networks by name.
    """
    torch.manual_seed(0)
    models = build_liveportrait(config)
    reference = reference_networks(config)
    ours = {}
    for seed, name in enumerate(names):
        state = random_state_dict(reference[name], seed=seed + 1)
        if name == "motion_extractor":
            state = with_plausible_motion_heads(state)
        ours[name] = _ours(models, name)
        ours[name].load_state_dict(state, strict=True)
        reference[name].load_state_dict(state, strict=True)
        reference[name].eval()
    return models, ours, reference


@pytest.fixture(scope="module")
def real_crops() -> np.ndarray:
    """Four real 256x256 face crops: two people, two expressions of the second."""
    source = face_crops(fixture_video("lp_d18.mp4"), [0])
    driving = face_crops(fixture_video("lp_d3.mp4"), [0, 60, 140])
    return np.concatenate([source, driving])


def _as_input(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(crops.astype(np.float32) / 255).permute(0, 3, 1, 2)


def test_manifest_config_is_the_official_models_yaml() -> None:
    official = yaml.safe_load(OFFICIAL_YAML.read_text())["model_params"]
    assert official_config() == config_from_model_params(official)
    # The dataclass defaults repeat the manifest values; they must not drift apart.
    assert official_config() == LivePortraitConfig()


def test_full_config_state_dict_keys_and_shapes_match_official() -> None:
    models = build_liveportrait(official_config())
    reference = reference_networks(official_config())
    for name, reference_network in reference.items():
        ours = {key: tuple(value.shape) for key, value in _ours(models, name).state_dict().items()}
        theirs = {key: tuple(value.shape) for key, value in reference_network.state_dict().items()}
        assert ours == theirs, name
    # 21 keypoints and the published parameter count of the motion extractor (ConvNeXtV2-tiny).
    assert models.motion.detector.fc_kp.out_features == 63
    assert sum(p.numel() for p in models.motion.parameters()) == 28_118_728


@torch.no_grad()
def test_full_config_appearance_and_motion_extractor_match(real_crops: np.ndarray) -> None:
    _, ours, reference = _shared_weights(
        official_config(), ["appearance_feature_extractor", "motion_extractor"]
    )
    images = _as_input(real_crops[:2])

    volume = ours["appearance_feature_extractor"](images)
    expected_volume = reference["appearance_feature_extractor"](images)
    assert volume.shape == (2, 32, 16, 64, 64)
    assert max_abs_diff(volume, expected_volume) < TOLERANCE * max(1.0, float(volume.abs().max()))

    motion = ours["motion_extractor"](images)
    expected = reference["motion_extractor"](images)
    for field in ("kp", "pitch", "yaw", "roll", "t", "exp", "scale"):
        assert max_abs_diff(getattr(motion, field), expected[field]) < TOLERANCE, field
    # Different people/expressions must give different motion, or the check above is vacuous.
    assert max_abs_diff(motion.exp[0], motion.exp[1]) > 1e-2


@torch.no_grad()
def test_full_config_warping_module_matches() -> None:
    _, ours, reference = _shared_weights(official_config(), ["warping_module"])
    generator = torch.Generator().manual_seed(7)
    # 32x32 instead of 64x64 keeps the 7x7x7 mask convolution affordable on CPU.
    feature = torch.randn(1, 32, 16, 32, 32, generator=generator)
    kp_source = torch.rand(1, 21, 3, generator=generator) * 1.4 - 0.7
    kp_driving = kp_source + torch.randn(1, 21, 3, generator=generator) * 0.05

    result = ours["warping_module"](feature, kp_driving=kp_driving, kp_source=kp_source)
    expected = reference["warping_module"](feature, kp_driving=kp_driving, kp_source=kp_source)
    assert max_abs_diff(result.deformation, expected["deformation"]) < TOLERANCE
    assert max_abs_diff(result.occlusion_map, expected["occlusion_map"]) < TOLERANCE
    assert max_abs_diff(result.out, expected["out"]) < TOLERANCE
    assert float(result.out.std()) > 1e-2


@torch.no_grad()
def test_full_config_spade_decoder_matches() -> None:
    _, ours, reference = _shared_weights(official_config(), ["spade_generator"])
    feature = torch.randn(1, 256, 16, 16, generator=torch.Generator().manual_seed(3))
    image = ours["spade_generator"](feature)
    expected = reference["spade_generator"](feature=feature)
    assert image.shape == (1, 3, 128, 128)  # 4x upsampling then the 2x pixel shuffle
    assert max_abs_diff(image, expected) < TOLERANCE
    assert float(image.std()) > 1e-2  # not saturated


@torch.no_grad()
def test_full_config_stitching_and_retargeting_mlps_match() -> None:
    names = ["stitching", "lip", "eye"]
    _, ours, reference = _shared_weights(official_config(), names)
    generator = torch.Generator().manual_seed(5)
    for name in names:
        width = ours[name].mlp[0].in_features
        features = torch.randn(3, width, generator=generator)
        assert max_abs_diff(ours[name](features), reference[name](features)) < TOLERANCE


def _reference_wrapper(reference: dict[str, nn.Module]) -> LivePortraitWrapper:
    """mimic-head's wrapper around the reference networks, without its file-loading __init__."""
    wrapper = LivePortraitWrapper.__new__(LivePortraitWrapper)
    wrapper.appearance_feature_extractor = reference["appearance_feature_extractor"]
    wrapper.motion_extractor = reference["motion_extractor"]
    wrapper.warping_module = reference["warping_module"]
    wrapper.spade_generator = reference["spade_generator"]
    wrapper.stitching_retargeting_module = {
        name: reference[name] for name in ("stitching", "lip", "eye")
    }
    wrapper.cfg = SimpleNamespace(flag_use_half_precision=False, input_shape=(256, 256))
    wrapper.device = "cpu"
    return wrapper


@torch.no_grad()
def test_full_animation_step_matches_reference(real_crops: np.ndarray) -> None:
    """Appearance + motion of source and driving + transform + relative motion + stitching +
    warping + decoder, end to end on real footage, against the official step as mimic-head
    (and the official helper `calculate_transformation`) computes it."""
    names = [
        "appearance_feature_extractor",
        "motion_extractor",
        "warping_module",
        "spade_generator",
        "stitching",
        "lip",
        "eye",
    ]
    models, _, reference = _shared_weights(SMALL_CONFIG, names)
    source_img, ref_img, driving_img = real_crops[0], real_crops[1], real_crops[3]

    animator = LivePortraitAnimator(models, AnimatorOptions(stitching=True, lip_zero=False))
    source = animator.prepare_source(source_img)
    driving_ref = animator.extract_motion(ref_img)
    kp_driving = animator.final_keypoints(source, animator.extract_motion(driving_img), driving_ref)
    image = animator.render_tensor(source, kp_driving)

    wrapper = _reference_wrapper(reference)
    i_s, i_d0, i_d = (wrapper.prepare_source(img) for img in (source_img, ref_img, driving_img))
    info_s, info_d0, info_d = (wrapper.get_kp_info(x) for x in (i_s, i_d0, i_d))
    rot_s, rot_d0, rot_d = (
        get_rotation_matrix(info["pitch"], info["yaw"], info["roll"])
        for info in (info_s, info_d0, info_d)
    )
    f_s = wrapper.extract_feature_3d(i_s)
    x_s = wrapper.transform_keypoint(info_s)
    rotation, exp, t, scale = calculate_transformation(
        SimpleNamespace(relative=True), info_s, info_d0, info_d, rot_s, rot_d0, rot_d
    )
    x_d = wrapper.stitching(x_s, scale[..., None] * (info_s["kp"] @ rotation + exp) + t[:, None])
    expected = wrapper.warp_decode(f_s, x_s, x_d)["out"]

    assert max_abs_diff(source.feature_3d, f_s) < TOLERANCE * max(1.0, float(f_s.abs().max()))
    assert max_abs_diff(source.kp, x_s) < TOLERANCE
    assert max_abs_diff(kp_driving, x_d) < TOLERANCE
    assert image.shape == (1, 3, animator.output_size, animator.output_size) == (1, 3, 128, 128)
    assert max_abs_diff(image, expected) < TOLERANCE
    assert float(image.std()) > 1e-2
    # The motion really changed something: driving with the reference frame gives another image.
    unmoved = animator.final_keypoints(source, driving_ref, driving_ref)
    still = animator.render_tensor(source, unmoved)
    assert max_abs_diff(image, still) > 1e-3

    # The public uint8 path agrees with the reference's own output conversion to within rounding.
    crop = animator.drive(source, driving_img, driving_ref)
    expected_crop = wrapper.parse_output(expected)[0]
    assert crop.dtype == np.uint8 and crop.shape == expected_crop.shape
    assert int(np.abs(crop.astype(int) - expected_crop.astype(int)).max()) <= 1
