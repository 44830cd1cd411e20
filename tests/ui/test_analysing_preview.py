"""While a video is analysed the preview shows it (the original), not an empty window;
a failed or cancelled analysis takes the picture away again."""

from __future__ import annotations

import threading

import pytest

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.ui.preview.canvas import ANALYSING_TEXT, FIRST_RUN_HINT
from anonnet_studio.workers.requests import ComputeConfig
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker
from tests.conftest import fixture_video
from tests.ui.conftest import make_window


@pytest.fixture
def held_analysis(qtbot, tmp_path):
    """A worker whose analysis waits in "Loading face models" until the test lets it go
    on; then the models are missing and it fails."""
    release = threading.Event()

    def vision_loader(*_: object) -> object:
        release.wait(60)
        raise AnonNetError("Face models are not loaded in this test.")

    services = ComputeServices(
        ComputeConfig(models_dir=tmp_path / "models", offline=True), vision_loader=vision_loader
    )
    worker = ComputeWorker(services)
    worker.start()
    yield worker, release
    release.set()
    assert worker.shutdown(20_000)


def test_the_video_is_shown_while_it_is_analysed(qtbot, held_analysis, store, tmp_path):
    worker, release = held_analysis
    window = make_window(qtbot, worker, store, tmp_path / "rec")
    window.resize(1100, 700)
    window.show()
    canvas = window.preview.canvas
    assert canvas.message == FIRST_RUN_HINT and not canvas.image_targets()
    clip = fixture_video("lp_d18.mp4")
    job = window.files.open_path(clip)
    assert job is not None and job.kind == "analysis"
    qtbot.waitUntil(lambda: canvas._original is not None, timeout=30_000)
    assert worker.running_job is not None and worker.running_job.job_id == job.job_id
    assert canvas._anonymized is None and canvas.pending_text == ANALYSING_TEXT
    assert len(canvas.image_targets()) == 2  # side by side: the video, and the note
    with qtbot.waitSignal(window.files.analysis_stopped, timeout=30_000):
        release.set()
    assert canvas._original is None and canvas.message == FIRST_RUN_HINT
    qtbot.waitUntil(lambda: bool(window.messenger.errors))  # reported as before
