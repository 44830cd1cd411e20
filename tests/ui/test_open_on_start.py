"""The editor started on a file (`anonnet-studio FILE`): the window shows and opens it."""

from __future__ import annotations

from anonnet_studio.project.io import save_project
from anonnet_studio.ui.app import show_editor
from tests.conftest import fixture_video
from tests.ui.fixture_projects import fixture_project


def test_started_on_a_project_the_window_opens_it(qtbot, window, store, tmp_path):
    path = tmp_path / "interview.anonproj"
    save_project(fixture_project(), path)
    with qtbot.waitSignal(window.files.document_loaded, timeout=30_000):
        show_editor(window, store, path)
    assert window.isVisible()
    assert window.document.path == path.resolve()
    assert "interview.anonproj" in window.windowTitle()


def test_started_on_a_video_the_window_analyses_it(qtbot, window, store):
    video = fixture_video("lp_d18.mp4")
    with qtbot.waitSignal(window.files.analysis_started, timeout=10_000) as started:
        show_editor(window, store, video)
    assert window.isVisible()
    assert started.args[0].job_id is not None
