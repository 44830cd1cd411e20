"""Build the LivePortrait networks and load the official weights by their exact names.

Two on-disk layouts are understood:

* official (`KwaiVGI/LivePortrait`): `liveportrait/base_models/<name>.pth` and
  `liveportrait/retargeting_models/stitching_retargeting_module.pth`; the latter is a dict
  `{"retarget_shoulder" | "retarget_mouth" | "retarget_eye": state_dict}` whose keys may
  carry a `module.` prefix left over from DistributedDataParallel.
* safetensors (`Kijai/LivePortrait_safetensors`): `<name>.safetensors` side by side, with the
  three retargeting networks flattened into keys like `retarget_shoulder_module.mlp.0.weight`.

Every state dict is loaded with `strict=True`: a renamed or missing parameter is an error,
never a silently half-initialised network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import Tensor, nn

from anonnet_studio.core.errors import ModelError, ModelUnavailableError
from anonnet_studio.core.motion.liveportrait.appearance import AppearanceFeatureExtractor
from anonnet_studio.core.motion.liveportrait.config import LivePortraitConfig, official_config
from anonnet_studio.core.motion.liveportrait.decoder import SpadeDecoder
from anonnet_studio.core.motion.liveportrait.motion_extractor import MotionExtractor
from anonnet_studio.core.motion.liveportrait.retargeting import StitchingRetargeting
from anonnet_studio.core.motion.liveportrait.warping import WarpingNetwork

BASE_MODELS = (
    "appearance_feature_extractor",
    "motion_extractor",
    "warping_module",
    "spade_generator",
)
RETARGETING_MODEL = "stitching_retargeting_module"
# Checkpoint group name -> attribute of StitchingRetargeting.
RETARGETING_GROUPS = {
    "retarget_shoulder": "stitching",
    "retarget_mouth": "lip",
    "retarget_eye": "eye",
}

# Manifest entries in resources/models/motion.json, in order of preference (safetensors
# first: loading it cannot execute code, and it needs no unpickling).
MANIFEST_NAMES = ("liveportrait-safetensors", "liveportrait")

StateDict = Mapping[str, Tensor]


class ModelResolver(Protocol):
    """What we need from the model manager: the local folder of a manifest entry."""

    def resolve(self, name: str) -> Path: ...


@dataclass(frozen=True)
class LivePortraitModels:
    """The five LivePortrait networks, in eval mode on one device and dtype."""

    config: LivePortraitConfig
    appearance: AppearanceFeatureExtractor
    motion: MotionExtractor
    warping: WarpingNetwork
    decoder: SpadeDecoder
    retargeting: StitchingRetargeting

    @property
    def device(self) -> torch.device:
        return next(self.appearance.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.appearance.parameters()).dtype

    def networks(self) -> dict[str, nn.Module]:
        """Networks keyed by their official checkpoint file name."""
        return {
            "appearance_feature_extractor": self.appearance,
            "motion_extractor": self.motion,
            "warping_module": self.warping,
            "spade_generator": self.decoder,
            RETARGETING_MODEL: self.retargeting,
        }


def build_liveportrait(
    config: LivePortraitConfig | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> LivePortraitModels:
    """Randomly initialised networks (for tests and benchmarks); use `load_liveportrait` to run."""
    _check_precision(device, dtype)
    config = config or official_config()
    models = LivePortraitModels(
        config=config,
        appearance=AppearanceFeatureExtractor(config.appearance),
        motion=MotionExtractor(config.motion),
        warping=WarpingNetwork(config.warping),
        decoder=SpadeDecoder(config.decoder),
        retargeting=StitchingRetargeting(config.retargeting),
    )
    for network in models.networks().values():
        network.to(device=device, dtype=dtype).eval().requires_grad_(False)
    return models


def _check_precision(device: torch.device | str, dtype: torch.dtype) -> None:
    if torch.device(device).type == "cpu" and dtype in (torch.float16, torch.bfloat16):
        # Several 3D kernels (avg_pool3d, ...) have no CPU half-precision implementation.
        raise ModelError(
            "LivePortrait runs in half precision only on a GPU; use float32 on the CPU."
        )


def _candidate_roots(folder: Path) -> list[Path]:
    # Accept the checkpoint folder itself or the folder that holds `liveportrait/`.
    return [folder, folder / "liveportrait"]


def _safetensors_files(folder: Path) -> dict[str, Path] | None:
    names = (*BASE_MODELS, RETARGETING_MODEL)
    for root in _candidate_roots(folder):
        files = {name: root / f"{name}.safetensors" for name in names}
        if all(path.is_file() for path in files.values()):
            return files
    return None


def _official_files(folder: Path) -> dict[str, Path] | None:
    for root in _candidate_roots(folder):
        files = {name: root / "base_models" / f"{name}.pth" for name in BASE_MODELS}
        files[RETARGETING_MODEL] = root / "retargeting_models" / f"{RETARGETING_MODEL}.pth"
        if all(path.is_file() for path in files.values()):
            return files
    return None


def _read_pth(path: Path) -> dict[str, object]:
    try:
        # weights_only: a checkpoint must never be able to run code on load.
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt/foreign pickles
        raise ModelError(f"Cannot read the LivePortrait weights {path.name}: {error}") from error
    if not isinstance(loaded, Mapping):
        raise ModelError(f"{path.name} does not contain a state dict.")
    return dict(loaded)


def _read_safetensors(path: Path) -> dict[str, Tensor]:
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError) as error:
        raise ModelError(f"Cannot read the LivePortrait weights {path.name}: {error}") from error


def _tensors_only(state: Mapping[str, object], what: str) -> dict[str, Tensor]:
    tensors = {key: value for key, value in state.items() if isinstance(value, Tensor)}
    if len(tensors) != len(state):
        raise ModelError(f"The {what} checkpoint contains entries that are not tensors.")
    return tensors


def _strip_prefix(state: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {key.removeprefix(prefix): value for key, value in state.items()}


def _split_official_retargeting(checkpoint: Mapping[str, object]) -> dict[str, StateDict]:
    groups: dict[str, StateDict] = {}
    for group, attribute in RETARGETING_GROUPS.items():
        state = checkpoint.get(group)
        if not isinstance(state, Mapping):
            raise ModelError(f"The stitching/retargeting checkpoint has no '{group}' network.")
        groups[attribute] = _strip_prefix(_tensors_only(state, group), "module.")
    return dict(groups)


def _split_flat_retargeting(state: Mapping[str, Tensor]) -> dict[str, StateDict]:
    groups: dict[str, dict[str, Tensor]] = {
        attribute: {} for attribute in RETARGETING_GROUPS.values()
    }
    for key, value in state.items():
        group, _, rest = key.partition(".")
        attribute = RETARGETING_GROUPS.get(group.removesuffix("_module"))
        if attribute is None or not rest:
            raise ModelError(f"Unexpected tensor '{key}' in the stitching/retargeting weights.")
        groups[attribute][rest.removeprefix("module.")] = value
    return dict(groups)


def _load_strict(network: nn.Module, state: StateDict, what: str) -> None:
    try:
        network.load_state_dict(dict(state), strict=True)
    except RuntimeError as error:  # torch reports missing/unexpected keys and shape mismatches
        details = str(error)
        if len(details) > 600:
            details = details[:600] + " ..."
        raise ModelError(
            f"The LivePortrait weights for {what} do not match the network: {details}",
            hint="Check that the files are the official (human) LivePortrait weights.",
        ) from error


def load_liveportrait(
    folder: Path,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    config: LivePortraitConfig | None = None,
) -> LivePortraitModels:
    """Load the official weights from `folder` in either the .pth or the .safetensors layout."""
    _check_precision(device, dtype)
    models = build_liveportrait(config)  # load in fp32 on CPU, then move once
    safetensors = _safetensors_files(folder)
    official = None if safetensors else _official_files(folder)
    if safetensors is None and official is None:
        raise ModelUnavailableError(
            f"No LivePortrait weights found in {folder}.",
            hint="Expected liveportrait/base_models/*.pth and "
            "liveportrait/retargeting_models/stitching_retargeting_module.pth "
            "(KwaiVGI/LivePortrait), or the five *.safetensors files of "
            "Kijai/LivePortrait_safetensors.",
        )
    networks = models.networks()
    for name in BASE_MODELS:
        if safetensors is not None:
            state: StateDict = _read_safetensors(safetensors[name])
        else:
            assert official is not None
            state = _tensors_only(_read_pth(official[name]), name)
        _load_strict(networks[name], state, name)
    if safetensors is not None:
        groups = _split_flat_retargeting(_read_safetensors(safetensors[RETARGETING_MODEL]))
    else:
        assert official is not None
        groups = _split_official_retargeting(_read_pth(official[RETARGETING_MODEL]))
    for attribute, group_state in groups.items():
        _load_strict(getattr(models.retargeting, attribute), group_state, f"{attribute} network")
    for network in networks.values():
        network.to(device=device, dtype=dtype)
    return models


def load_liveportrait_from(
    resolver: ModelResolver,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    config: LivePortraitConfig | None = None,
) -> LivePortraitModels:
    """Load from whichever LivePortrait manifest entry the resolver (model manager) has.

    Raises the preferred entry's `ModelUnavailableError` (which says how to get it) when
    neither is available locally. Never downloads.
    """
    first_error: ModelUnavailableError | None = None
    for name in MANIFEST_NAMES:
        try:
            folder = resolver.resolve(name)
        except ModelUnavailableError as error:
            first_error = first_error or error
            continue
        return load_liveportrait(folder, device, dtype, config)
    assert first_error is not None
    raise first_error
