"""Editor fixtures: documents over the demo project, a running worker, a main window."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.ui.context import EditorContext
from anonnet_studio.ui.dialogs.messages import RecordingMessenger
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.main_window import MainWindow
from anonnet_studio.ui.preview.playback import ElapsedClock
from anonnet_studio.ui.settings import SettingsStore
from anonnet_studio.workers.requests import ComputeConfig
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker
from tests.project.factories import make_demo_project


@pytest.fixture
def document(qtbot) -> ProjectDocument:
    document = ProjectDocument(rng=random.Random(3))
    document.set_project(make_demo_project())
    return document


@pytest.fixture
def state(document) -> EditorState:
    return EditorState(document)


@pytest.fixture
def store(tmp_path) -> SettingsStore:
    return SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def _vision_unavailable(*_: object) -> object:
    raise AnonNetError("Face models are not loaded in this test.")


@pytest.fixture
def worker(qtbot, tmp_path):
    """A running compute worker without face models (previews, exports without leak check,
    project files). Tests that analyse build their own."""
    services = ComputeServices(
        ComputeConfig(models_dir=tmp_path / "models", offline=True),
        vision_loader=_vision_unavailable,
    )
    worker = ComputeWorker(services)
    worker.start()
    yield worker
    assert worker.shutdown(20_000), "the compute thread did not stop"


def worker_with_models(folders: dict[str, Path], manager_dir: Path) -> Iterator[ComputeWorker]:
    """A running CPU worker whose model manager loads each model from its folder in
    `folders` (tiny test models, their hashes published); shut down afterwards."""
    from tests.core.synthetic.conftest import offline_manager
    from tests.support.manifests import manifest_publishing

    def manager_factory(config: ComputeConfig):
        manager = offline_manager(manager_dir, manifest_publishing(folders))
        for name, folder in folders.items():
            manager.set_local_path(name, Path(folder))
        return manager

    worker = ComputeWorker(
        ComputeServices(ComputeConfig(device="cpu", offline=True), manager_factory=manager_factory)
    )
    worker.start()
    yield worker
    assert worker.shutdown(60_000)


def make_window(
    qtbot, worker: ComputeWorker, store: SettingsStore, recovery: Path, **kwargs: object
) -> MainWindow:
    context = EditorContext(
        worker=worker,
        store=store,
        recovery_dir=recovery,
        messenger=kwargs.pop("messenger", RecordingMessenger()),  # type: ignore[arg-type]
        clock=ElapsedClock(),
        folder_opener=kwargs.pop("folder_opener", lambda _p: None),  # type: ignore[arg-type]
        rng=random.Random(5),
    )
    window = MainWindow(context)
    qtbot.addWidget(window)
    return window


@pytest.fixture
def window(qtbot, worker, store, tmp_path) -> MainWindow:
    return make_window(qtbot, worker, store, tmp_path / "recovery")
