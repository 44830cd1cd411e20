"""`load_liveportrait` on random weights saved in the two published on-disk layouts.

The files are written here the way the publishers wrote them (official: torch.save of the
state dicts, the retargeting MLPs nested under DDP `module.` prefixes; Kijai: one flat
safetensors file per network), using the reference (mimic-head) networks' own parameter
names, so the loader is checked against the published naming, not against itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from liveportrait_testing import (
    BASE,
    GROUPS,
    SMALL_CONFIG,
    face_crops,
    random_state_dict,
    reference_networks,
    with_plausible_motion_heads,
    write_safetensors_layout,
)

from anonnet_studio.core.errors import ModelError, ModelIntegrityError, ModelUnavailableError
from anonnet_studio.core.models import ModelManager, load_manifest_file
from anonnet_studio.core.motion.liveportrait import (
    AnimatorOptions,
    LivePortraitAnimator,
    LivePortraitModels,
    load_liveportrait,
)
from anonnet_studio.core.motion.liveportrait.loading import load_liveportrait_from
from anonnet_studio.core.resources import resources_dir
from tests.conftest import fixture_video
from tests.support.manifests import manifest_publishing

Weights = dict[str, dict[str, torch.Tensor]]


@pytest.fixture(scope="module")
def weights() -> Weights:
    """One random state dict per network, in the reference networks' (official) naming."""
    reference = reference_networks(SMALL_CONFIG)
    states = {
        name: random_state_dict(network, seed=index + 11)
        for index, (name, network) in enumerate(reference.items())
    }
    states["motion_extractor"] = with_plausible_motion_heads(states["motion_extractor"])
    return states


def write_official_layout(root: Path, weights: Weights) -> Path:
    """`<root>/liveportrait/{base_models,retargeting_models}/*.pth` as in KwaiVGI/LivePortrait."""
    folder = root / "liveportrait"
    (folder / "base_models").mkdir(parents=True)
    (folder / "retargeting_models").mkdir()
    for name in BASE:
        torch.save(weights[name], folder / "base_models" / f"{name}.pth")
    nested = {
        group: {f"module.{key}": value for key, value in weights[attribute].items()}
        for attribute, group in GROUPS.items()
    }
    torch.save(nested, folder / "retargeting_models" / "stitching_retargeting_module.pth")
    return root


def assert_holds(models: LivePortraitModels, weights: Weights) -> None:
    networks = models.networks()
    for name in BASE:
        loaded = networks[name].state_dict()
        assert loaded.keys() == weights[name].keys()
        for key, value in weights[name].items():
            assert torch.equal(loaded[key], value), f"{name}.{key}"
    for attribute in GROUPS:
        loaded = getattr(models.retargeting, attribute).state_dict()
        assert loaded.keys() == weights[attribute].keys()
        assert all(torch.equal(loaded[key], value) for key, value in weights[attribute].items())


def test_official_pth_and_safetensors_layouts_load_the_same_network(
    tmp_path: Path, weights: Weights
) -> None:
    official = load_liveportrait(
        write_official_layout(tmp_path / "pretrained_weights", weights),
        "cpu",
        torch.float32,
        config=SMALL_CONFIG,
    )
    converted = load_liveportrait(
        write_safetensors_layout(tmp_path / "kijai", weights),
        "cpu",
        torch.float32,
        config=SMALL_CONFIG,
    )
    assert_holds(official, weights)
    assert_holds(converted, weights)
    assert all(not network.training for network in official.networks().values())

    crops = face_crops(fixture_video("lp_d19.mp4"), [0, 40])
    outputs = []
    for models in (official, converted):
        animator = LivePortraitAnimator(models, AnimatorOptions())
        source = animator.prepare_source(crops[0])
        outputs.append(animator.drive(source, crops[1], animator.extract_motion(crops[0])))
    assert outputs[0].shape == (128, 128, 3)
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_loads_to_the_requested_dtype(tmp_path: Path, weights: Weights) -> None:
    folder = write_safetensors_layout(tmp_path / "kijai", weights)
    models = load_liveportrait(folder, "cpu", torch.float64, config=SMALL_CONFIG)
    assert models.dtype == torch.float64 and models.device == torch.device("cpu")
    assert all(
        parameter.dtype == torch.float64
        for network in models.networks().values()
        for parameter in network.parameters()
    )


def test_half_precision_on_cpu_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="GPU"):
        load_liveportrait(tmp_path, "cpu", torch.float16, config=SMALL_CONFIG)


def test_missing_weights_say_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as error:
        load_liveportrait(tmp_path, "cpu", torch.float32, config=SMALL_CONFIG)
    assert "stitching_retargeting_module" in (error.value.hint or "")


def test_a_renamed_parameter_is_rejected(tmp_path: Path, weights: Weights) -> None:
    broken = dict(weights)
    spade = dict(broken["spade_generator"])
    spade["fc.weight_renamed"] = spade.pop("fc.weight")
    broken["spade_generator"] = spade
    folder = write_safetensors_layout(tmp_path / "kijai", broken)
    with pytest.raises(ModelError, match=r"(?s)spade_generator.*fc\.weight"):
        load_liveportrait(folder, "cpu", torch.float32, config=SMALL_CONFIG)


def test_weights_of_another_configuration_are_rejected(tmp_path: Path, weights: Weights) -> None:
    folder = write_official_layout(tmp_path / "pretrained_weights", weights)
    # The official (full) configuration has other shapes than these reduced weights.
    with pytest.raises(ModelError, match="appearance_feature_extractor"):
        load_liveportrait(folder, "cpu", torch.float32)


def test_a_corrupt_file_is_a_model_error(tmp_path: Path, weights: Weights) -> None:
    folder = write_official_layout(tmp_path / "pretrained_weights", weights)
    path = folder / "liveportrait" / "base_models" / "warping_module.pth"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelError, match=r"warping_module\.pth"):
        load_liveportrait(folder, "cpu", torch.float32, config=SMALL_CONFIG)


def test_loads_through_the_model_manager(tmp_path: Path, weights: Weights) -> None:
    shipped = load_manifest_file(resources_dir() / "models" / "motion.json")
    manager = ModelManager(
        shipped, user_dir=tmp_path / "models", cache_dir=tmp_path / "cache", offline=True
    )
    with pytest.raises(ModelUnavailableError, match="liveportrait-safetensors"):
        load_liveportrait_from(manager, config=SMALL_CONFIG)

    # A user drops the official files into the models folder: the manager finds them, and
    # refuses them while they differ from the published hashes (tiny weights do).
    folder = write_official_layout(tmp_path / "models" / "liveportrait", weights)
    with pytest.raises(ModelIntegrityError, match="appearance_feature_extractor"):
        load_liveportrait_from(manager, config=SMALL_CONFIG)

    # Under a manifest that publishes the tiny files' hashes they load.
    manager = ModelManager(
        manifest_publishing({"liveportrait": folder}, base=shipped),
        user_dir=tmp_path / "models",
        cache_dir=tmp_path / "cache",
        offline=True,
    )
    assert_holds(load_liveportrait_from(manager, config=SMALL_CONFIG), weights)
