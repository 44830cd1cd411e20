"""Composition helpers shared by the CLI and the editor's composition root.

This is the only place that decides which concrete backends serve the analysis, so the
CLI, the GUI and the tests build them the same way.
"""

from __future__ import annotations

from pathlib import Path

from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.factory import VisionModels, build_vision
from anonnet_studio.core.vision.selection import BACKEND_MODELS, BackendChoice, resolve_backends


def model_manager(models_dir: Path | None = None, offline: bool | None = None) -> ModelManager:
    return ModelManager.from_environment(models_dir=models_dir, offline=offline)


def load_vision_models(
    manager: ModelManager, choice: BackendChoice | None = None, device: str = "auto"
) -> VisionModels:
    """The face models for `choice` (default: "auto" for every role, which means the
    embedded models unless higher-accuracy downloaded weights are present; see
    `core/vision/selection.py`). Never downloads. `device` ("auto", "cpu", "cuda", "mps")
    runs the downloaded torch backends; torch is imported only when one is used."""
    torch_device = _LazyTorchDevice(device)
    backends = resolve_backends(
        choice or BackendChoice(),
        manager.is_available,
        lambda: torch_device.kind() != "cpu",
    )
    uses_torch = any(BACKEND_MODELS[role][key] for role, key in backends.items())
    return build_vision(
        manager.resolve,
        lambda name: manager.spec(name).revision,
        backends=backends,
        device=torch_device.kind() if uses_torch else "cpu",
    )


class _LazyTorchDevice:
    def __init__(self, preference: str) -> None:
        self._preference = preference
        self._kind: str | None = None

    def kind(self) -> str:
        if self._kind is None:
            from anonnet_studio.core.synthetic.devices import select_device

            self._kind = select_device(self._preference).kind  # type: ignore[arg-type]
        return self._kind
