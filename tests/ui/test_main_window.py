"""Main window wiring: shortcuts, undo/redo actions, drag and drop, settings, job status."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from anonnet_studio.ui.app import build_main_window
from anonnet_studio.workers.requests import ExportRequest, OpenProjectRequest
from tests.ui.fixture_projects import fixture_project


def _shown(qtbot, window):
    window.document.set_project(fixture_project())
    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()  # offscreen windows are not activated by show()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.preview.canvas.setFocus()
    return window


def test_transport_shortcuts_move_the_playhead(qtbot, window):
    _shown(qtbot, window)
    state = window.state
    QTest.keyClick(window, Qt.Key.Key_Right)
    QTest.keyClick(window, Qt.Key.Key_Right)
    assert state.frame == 2
    QTest.keyClick(window, Qt.Key.Key_Left)
    assert state.frame == 1
    QTest.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert state.frame == 11
    QTest.keyClick(window, Qt.Key.Key_End)
    assert state.frame == 215
    QTest.keyClick(window, Qt.Key.Key_Home)
    assert state.frame == 0
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert window.playback.is_playing
    QTest.keyClick(window, Qt.Key.Key_K)
    assert not window.playback.is_playing
    QTest.keyClick(window, Qt.Key.Key_L)
    QTest.keyClick(window, Qt.Key.Key_L)
    assert window.playback.rate == 2.0
    QTest.keyClick(window, Qt.Key.Key_J)
    assert window.playback.rate == -1.0
    QTest.keyClick(window, Qt.Key.Key_K)


def test_typing_in_a_text_field_does_not_trigger_playback_keys(qtbot, window):
    _shown(qtbot, window)
    window.state.select_identity("P1")
    name = window.identities.editor.name
    name.setFocus()
    QTest.keyClicks(name, " jkl")
    assert not window.playback.is_playing and window.state.frame == 0
    assert name.text().endswith(" jkl")


def test_undo_and_redo_shortcuts(qtbot, window):
    _shown(qtbot, window)
    window.document.set_field("P2", "method", "mask")
    assert window.actions_.undo.isEnabled() and "Person 2" in window.actions_.undo.text()
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.project.identity("P2").method.value == "blur"
    modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(window, Qt.Key.Key_Z, modifiers)
    assert window.document.project.identity("P2").method.value == "mask"
    assert window.isWindowModified()


def test_dropping_a_video_starts_its_analysis(qtbot, window, tmp_path):
    video = Path(fixture_project().source.path)
    submitted = []
    window.worker.job_queued.connect(submitted.append)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(video))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.dropEvent(event)
    assert [job.kind for job in submitted] == ["analysis"]
    window.worker.cancel(submitted[0].job_id)  # this worker has no face models


def test_settings_reach_the_worker_and_the_store(qtbot, window, store):
    configured = []
    window.worker.job_queued.connect(configured.append)
    new = window.settings.with_changes(device="cpu", offline=True, autosave_interval_s=15)
    window.apply_settings(new)
    assert store.load().device == "cpu" and store.load().autosave_interval_s == 15
    # new models folder or device: reconfigure the worker, then check the models again
    assert [job.kind for job in configured] == ["configure", "models"]
    window.apply_settings(new.with_changes(default_mask_margin=0.3))
    assert len(configured) == 2  # defaults alone need no new models


def test_failed_jobs_show_a_readable_error_and_the_status_bar_follows(qtbot, window, tmp_path):
    foreign = tmp_path / "x.anonproj"
    foreign.write_text("not json", encoding="utf-8")
    with qtbot.waitSignal(window.worker.job_failed, timeout=30_000):
        window.worker.submit(OpenProjectRequest(foreign))
    (title, message), *_ = window.messenger.errors
    assert title == "Opening x.anonproj failed" and "x.anonproj" in message
    assert "failed" in window.job_status.label.text()


def test_status_bar_shows_a_running_job_and_can_cancel_it(qtbot, window, tmp_path):
    seen = []

    def on_started(job):
        # Other jobs (the start-up model check) may run first; only the export matters.
        if not job.description.startswith("Exporting"):
            return
        # The status widget reacted to the same signal first (connected earlier).
        seen.append((window.job_status.current_job, window.job_status.label.text()))
        window.actions_.cancel_job.trigger()

    window.worker.job_started.connect(on_started)
    request = ExportRequest(fixture_project(real_hash=True), tmp_path / "o.mp4", leak_check=False)
    with qtbot.waitSignal(window.worker.job_cancelled, timeout=30_000):
        job = window.worker.submit(request)
    (current, text), *_ = seen
    assert current == job and text.startswith("Exporting o.mp4")
    assert window.job_status.current_job is None
    assert "cancelled" in window.job_status.label.text()
    assert not (tmp_path / "o.mp4").exists()


def test_splitting_from_the_timeline_creates_a_person(qtbot, window):
    _shown(qtbot, window)
    menu = window.timeline.view.track_menu(3)
    next(a for a in menu.findChildren(QAction) if a.objectName() == "split-track").trigger()
    project = window.document.project
    assert window.state.identity_id == project.tracks[3].identity_id
    assert len(project.identities) == 3


def test_composition_root_builds_a_window_that_names_missing_models(qtbot, worker, store):
    """The worker checks the model folder (here: an empty one) off the GUI thread."""
    window = build_main_window(store, worker)
    qtbot.addWidget(window)
    button = window.identities.editor.generation.regenerate
    with qtbot.waitSignal(window.generation.availability_changed, timeout=60_000) as blocker:
        pass
    available, reason = blocker.args
    assert not available and "realistic-vision-v5" in reason
    assert not button.isEnabled() and "realistic-vision-v5" in button.toolTip()
