"""Tools ▸ Models: lists the manifest's models with status, size, licence and folders;
downloads a missing one from a local HTTP server (no network) with progress, or cancels."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from anonnet_studio.core.models import ModelManager
from anonnet_studio.project.attention import MODELS_MISSING_NOTE
from anonnet_studio.project.schema import Method
from anonnet_studio.ui.dialogs.messages import Answer, RecordingMessenger
from anonnet_studio.ui.dialogs.models_dialog import ModelsDialog
from anonnet_studio.ui.preview.banner import BANNER_TEXT
from anonnet_studio.workers.requests import ComputeConfig
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker
from tests.core.models.conftest import fake_server  # noqa: F401 (a fixture)
from tests.core.models.download_support import (
    make_manager,
    one_model_manifest,
    random_bytes,
    sha256_of,
)
from tests.project.factories import make_demo_project

PAYLOAD = random_bytes(900_000)
PATH = "/files/tiny.bin"


@pytest.fixture
def model_worker(qtbot, tmp_path, fake_server):  # noqa: F811
    files = [{"path": "tiny.bin", "size": len(PAYLOAD), "sha256": sha256_of(PAYLOAD)}]
    manifest = one_model_manifest(
        "tiny", files, source={"type": "url", "url": fake_server.base_url + PATH}
    )
    managers: list[ModelManager] = []

    def factory(_config: ComputeConfig) -> ModelManager:
        managers.append(make_manager(manifest, tmp_path))
        return managers[-1]

    worker = ComputeWorker(ComputeServices(ComputeConfig(), manager_factory=factory))
    worker.start()
    yield worker, managers
    assert worker.shutdown(20_000)


def _dialog(qtbot, worker, answers, folders: list[Path] | None = None) -> ModelsDialog:
    chosen = list(folders or [])
    dialog = ModelsDialog(
        worker, RecordingMessenger(answers), choose_folder=lambda _p, _n: str(chosen.pop(0))
    )
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: bool(dialog.rows), timeout=20_000)
    return dialog


def test_lists_a_missing_model_and_downloads_it_with_progress(qtbot, model_worker, fake_server):  # noqa: F811
    worker, managers = model_worker
    fake_server.add(PATH, PAYLOAD)
    dialog = _dialog(qtbot, worker, [Answer.YES])
    ((row),) = dialog.rows
    assert not row.installed and row.licence == "CC0-1.0" and row.size == len(PAYLOAD)
    item = dialog.table.topLevelItem(0)
    assert [item.text(c) for c in range(4)] == ["tiny", "Missing", "900.0 KB", "CC0-1.0"]
    assert str(managers[0].user_folder("tiny")) in item.toolTip(0)  # where it is looked for
    assert str(managers[0].cache_folder("tiny")) in item.toolTip(0)
    assert dialog.download_button.isEnabled()
    progress = []
    worker.job_progressed.connect(lambda p: progress.append(p.percent))
    with qtbot.waitSignal(dialog.models_changed, timeout=30_000):
        job = dialog.download_missing()
        assert job is not None and dialog.cancel_button.isEnabled()
    assert "CC0-1.0" in dialog._messenger.questions[0]  # the licence was shown first
    assert any(p is not None and p > 0 for p in progress)
    qtbot.waitUntil(lambda: dialog.rows[0].installed, timeout=20_000)
    assert dialog.table.topLevelItem(0).text(1) == "Installed"
    assert managers[-1].file("tiny", "tiny.bin").read_bytes() == PAYLOAD
    assert not dialog.download_button.isEnabled()
    assert "every model" in dialog.download_button.toolTip()


def test_a_download_can_be_cancelled_and_refusing_the_licence_downloads_nothing(
    qtbot,
    model_worker,
    fake_server,  # noqa: F811
):
    worker, managers = model_worker
    started = threading.Event()
    go_on = threading.Event()

    def hold(_sent: int) -> None:  # the server holds the transfer until the test cancelled
        started.set()
        go_on.wait(20)

    fake_server.add(PATH, PAYLOAD, after_chunk=hold)
    dialog = _dialog(qtbot, worker, [Answer.NO, Answer.YES])
    assert dialog.download_missing() is None and not fake_server.requests
    assert "not accepted" in dialog.status.text()
    with qtbot.waitSignal(worker.job_cancelled, timeout=30_000):
        dialog.download_missing()
        qtbot.waitUntil(started.is_set, timeout=20_000)
        dialog.cancel_download()
        go_on.set()
    assert not dialog.downloading and "cancelled" in dialog.status.text()
    qtbot.waitUntil(lambda: "missing" in dialog.status.text(), timeout=20_000)  # re-listed
    assert "cancelled" in dialog.status.text()  # and the outcome is still said
    assert not managers[-1].is_available("tiny")


def test_a_model_loads_from_a_folder_the_user_has_after_its_files_are_checked(
    qtbot, model_worker, tmp_path
):
    worker, managers = model_worker
    damaged, good = tmp_path / "damaged", tmp_path / "usb-copy"
    for folder, data in ((damaged, PAYLOAD[:-1] + b"\0"), (good, PAYLOAD)):
        folder.mkdir()
        (folder / "tiny.bin").write_bytes(data)
    dialog = _dialog(qtbot, worker, [], folders=[damaged, good])
    assert not dialog.folder_button.isEnabled()  # no model selected yet
    dialog.table.topLevelItem(0).setSelected(True)
    assert dialog.folder_button.isEnabled() and not dialog.forget_button.isEnabled()

    with qtbot.waitSignal(worker.job_failed, timeout=30_000):
        dialog.folder_button.click()
    assert "was not used" in dialog.status.text() and "sha256" in dialog.status.text()
    assert managers[-1].local_path("tiny") is None  # a damaged copy is never chosen

    with qtbot.waitSignal(dialog.models_changed, timeout=30_000):
        dialog.folder_button.click()
    qtbot.waitUntil(lambda: dialog.rows[0].installed, timeout=20_000)
    assert dialog.rows[0].location == str(good) and dialog.rows[0].chosen_folder == str(good)
    assert "now loads from" in dialog.status.text()
    assert managers[-1].resolve("tiny") == good

    dialog.table.topLevelItem(0).setSelected(True)
    assert dialog.forget_button.isEnabled()
    with qtbot.waitSignal(dialog.models_changed, timeout=30_000):
        dialog.forget_button.click()
    qtbot.waitUntil(lambda: not dialog.rows[0].installed, timeout=20_000)
    assert managers[-1].local_path("tiny") is None


def test_tools_menu_opens_models_and_a_disabled_item_says_why(qtbot, window):
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    assert window.actions_.models in tools.actions()
    window.actions_.models.trigger()
    assert window.models_dialog is not None and window.models_dialog.isVisible()
    action = window.actions_.generate_all
    qtbot.waitUntil(lambda: "not installed" in action.toolTip(), timeout=20_000)
    assert not action.isEnabled()
    assert action.statusTip() == action.toolTip() and "Tools ▸ Models" in action.toolTip()


def test_a_synthetic_person_without_models_is_said_blurred_everywhere(qtbot, window):
    window.document.set_project(make_demo_project())  # P1 uses the synthetic method
    qtbot.waitUntil(window.generation.models_missing, timeout=20_000)  # empty model folder
    banner = window.preview.banner
    assert banner.isVisibleTo(window) and BANNER_TEXT in banner.label.text()
    assert "Person 1" in banner.label.text()
    lane = next(x for x in window.timeline.view.timeline.lanes if x.identity_id == "P1")
    assert lane.models_missing and lane.method == "blur" and MODELS_MISSING_NOTE in lane.note
    row = window.identities.model.row_of("P1")
    tooltip = window.identities.model.index(row).data(Qt.ItemDataRole.ToolTipRole)
    assert "hidden with blur" in tooltip and MODELS_MISSING_NOTE in tooltip
    others = [x for x in window.timeline.view.timeline.lanes if x.identity_id != "P1"]
    assert not any(x.models_missing for x in others)
    banner.button.click()
    assert window.models_dialog is not None and window.models_dialog.isVisible()
    window.document.set_field("P1", "method", Method.BLUR)  # no synthetic person left
    assert not banner.isVisibleTo(window)
