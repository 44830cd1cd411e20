"""A bug in the editor shows one line and "Copy details", never a traceback or a dead
window (issue 16, item 4): in a worker job, and in a Qt slot (through sys.excepthook)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

import anonnet_studio.workers.worker as worker_module
from anonnet_studio.core.diagnostics import CrashReport, record_crash
from anonnet_studio.project.io import save_project
from anonnet_studio.ui.dialogs.crash_dialog import CrashDialog, install_crash_hook
from anonnet_studio.ui.dialogs.messages import DialogMessenger, RecordingMessenger
from anonnet_studio.workers.requests import AnalysisRequest, OpenProjectRequest
from tests.conftest import fixture_video
from tests.project.factories import make_demo_project
from tests.ui.conftest import make_window

BUG = "simulated bug in a job"
TIMEOUT_MS = 60_000


@pytest.fixture(autouse=True)
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "logs"
    monkeypatch.setenv("ANONNET_LOG_DIR", str(folder))
    return folder


def _report() -> CrashReport:
    try:
        raise RuntimeError(BUG)
    except RuntimeError as exc:
        return record_crash(exc, "Exporting clip.mp4")


def test_copy_details_puts_the_traceback_on_the_clipboard(qtbot, log_dir: Path) -> None:
    report = _report()
    dialog = CrashDialog(report)
    qtbot.addWidget(dialog)
    assert dialog.summary.text() == f"Exporting clip.mp4 failed unexpectedly: RuntimeError: {BUG}"
    assert str(report.log_path) in dialog.where.text()
    assert report.log_path is not None and report.log_path.parent == log_dir
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied == report.details == report.log_path.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in copied and f"RuntimeError: {BUG}" in copied
    assert "Traceback" not in dialog.summary.text() + dialog.where.text()


def test_the_real_messenger_opens_the_crash_dialog_without_blocking(qtbot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    messenger = DialogMessenger(parent)
    messenger.crash(_report())  # returns at once: the dialog is open, not exec'd
    (dialog,) = messenger.open_boxes
    assert isinstance(dialog, CrashDialog) and dialog.isVisible()
    dialog.reject()
    qtbot.waitUntil(lambda: not messenger.open_boxes)


def test_a_bug_in_a_worker_job_shows_the_crash_dialog_once(
    qtbot, worker, store, tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    poisoned = tmp_path / "poisoned.anonproj"
    original = worker_module.run_request

    def run_request(request, *args):  # type: ignore[no-untyped-def]
        if isinstance(request, OpenProjectRequest) and request.project_path == poisoned:
            raise RuntimeError(BUG)
        return original(request, *args)

    monkeypatch.setattr(worker_module, "run_request", run_request)
    messenger = RecordingMessenger()
    window = make_window(qtbot, worker, store, tmp_path / "recovery", messenger=messenger)
    with qtbot.waitSignal(worker.job_failed, timeout=TIMEOUT_MS):
        worker.submit(OpenProjectRequest(poisoned))
    qtbot.waitUntil(lambda: bool(messenger.crashes))
    (report,) = messenger.crashes
    assert report.summary == f"Opening poisoned.anonproj failed unexpectedly: RuntimeError: {BUG}"
    assert report.log_path is not None and report.log_path.parent == log_dir
    assert f"RuntimeError: {BUG}" in report.log_path.read_text(encoding="utf-8")
    assert messenger.errors == []  # not shown a second time as a plain error
    # The thread lives on: the next job runs (and fails as an ordinary error).
    with qtbot.waitSignal(worker.job_failed, timeout=TIMEOUT_MS) as next_job:
        window.worker.submit(OpenProjectRequest(tmp_path / "missing.anonproj"))
    assert "missing.anonproj" in next_job.args[1]
    assert len(messenger.crashes) == 1


def test_a_bug_in_a_qt_slot_reaches_the_crash_dialog(qtbot, log_dir: Path) -> None:
    shown: list[CrashReport] = []

    def broken_slot() -> None:
        raise ValueError("a slot that raises")

    restore = install_crash_hook(shown.append)
    try:
        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: bool(shown))
    finally:
        restore()
    (report,) = shown
    assert report.summary == "The editor failed unexpectedly: ValueError: a slot that raises"
    assert "broken_slot" in report.details
    assert report.log_path is not None and report.log_path.parent == log_dir


def test_an_analysis_that_crashes_leaves_the_open_project_and_its_file(
    qtbot, worker, store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "kept.anonproj"
    save_project(make_demo_project(), saved)
    files_before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    original = worker_module.run_request

    def run_request(request, *args):  # type: ignore[no-untyped-def]
        if isinstance(request, AnalysisRequest):
            raise RuntimeError(BUG)
        return original(request, *args)

    monkeypatch.setattr(worker_module, "run_request", run_request)
    messenger = RecordingMessenger()
    window = make_window(qtbot, worker, store, tmp_path / "recovery", messenger=messenger)
    with qtbot.waitSignal(window.files.document_loaded, timeout=TIMEOUT_MS):
        window.files.open_path(saved)
    project = window.document.project
    with qtbot.waitSignal(worker.job_failed, timeout=TIMEOUT_MS):
        window.files.open_path(fixture_video("lp_d19.mp4"))
    qtbot.waitUntil(lambda: bool(messenger.crashes))
    assert messenger.crashes[0].summary.startswith("Analysing lp_d19.mp4 failed unexpectedly")
    assert window.document.project is project and window.document.path == saved
    assert not window.document.is_modified()
    # The project and its arrays, byte for byte (the editor adds only its open lock).
    assert {p: p.read_bytes() for p in files_before} == files_before
