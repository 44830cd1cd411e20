"""Composition helpers shared by the CLI and the editor's composition root.

This is the only place that decides which concrete backends serve the analysis, so the
CLI, the GUI and the tests build them the same way.
"""

from __future__ import annotations

from pathlib import Path

from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.factory import VisionModels, build_embedded_vision


def model_manager(models_dir: Path | None = None, offline: bool | None = None) -> ModelManager:
    return ModelManager.from_environment(models_dir=models_dir, offline=offline)


def load_vision_models(manager: ModelManager) -> VisionModels:
    """The embedded face models (they ship inside installed packages, so this never
    downloads and works offline)."""
    return build_embedded_vision(manager.resolve, lambda name: manager.spec(name).revision)
