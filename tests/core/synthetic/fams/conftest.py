"""Fixtures for the FAMS tests: tiny random-weight models in the real layouts, resolved
through the real (offline) model manager and loaded by the real loader."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.synthetic.fams.loading import FAMS_MODELS, load_fams_pipeline
from anonnet_studio.core.synthetic.fams.pipeline import FamsPipeline
from tests.core.synthetic.conftest import offline_manager
from tests.core.synthetic.fams.tiny_fams import build_tiny_fams


@pytest.fixture(scope="session")
def fams_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_tiny_fams(tmp_path_factory.mktemp("fams-models"))


@pytest.fixture(scope="session")
def fams_manager(
    fams_folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> ModelManager:
    """Each tiny model chosen as its model's local folder, as for an air-gapped copy."""
    manager = offline_manager(tmp_path_factory.mktemp("fams-manager"))
    for name, folder in fams_folders.items():
        manager.set_local_path(name, folder)
    return manager


@pytest.fixture(scope="session")
def fams_pipeline(fams_manager: ModelManager) -> FamsPipeline:
    folders = {name: fams_manager.resolve(name) for name in FAMS_MODELS}
    return load_fams_pipeline(folders, "cpu", torch.float32)
