"""The compute worker: real jobs on real footage, progress, cancel, errors, queue order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.core.anonymize.plan import regions_at
from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.render_plan import render_plan_from_project
from anonnet_studio.workers.job_queue import JobQueue
from anonnet_studio.workers.requests import (
    ComputeConfig,
    ExportRequest,
    OpenProjectRequest,
    PreviewRequest,
    snapshot_plan,
    snapshot_project,
)
from anonnet_studio.workers.results import ExportDone, JobProgress, PreviewFrame
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker
from tests.ui.fixture_projects import fixture_project

TIMEOUT_MS = 60_000


def _no_models(*_: object) -> object:
    raise AnonNetError("These tests load no face models.")


@pytest.fixture
def worker(qtbot, tmp_path):
    services = ComputeServices(
        ComputeConfig(models_dir=tmp_path / "models", offline=True), vision_loader=_no_models
    )
    worker = ComputeWorker(services)
    worker.start()
    yield worker
    assert worker.shutdown(10_000)


def test_preview_redacts_inside_the_face_and_nowhere_else(qtbot, worker):
    project = fixture_project()
    plan = snapshot_plan(render_plan_from_project(project, leak_check=False))
    frame_index = 30
    request = PreviewRequest(Path(project.source.path), frame_index, plan, plan_version=7)
    with qtbot.waitSignal(worker.preview_ready, timeout=TIMEOUT_MS) as blocker:
        worker.submit(request)
    frame: PreviewFrame = blocker.args[0]
    assert frame.frame_index == frame_index and frame.plan_version == 7
    assert frame.original.shape == (480, 480, 3) and frame.anonymized is not None
    changed = np.any(frame.original != frame.anonymized, axis=2)
    (region,) = regions_at(plan, frame_index)
    x0, y0, x1, y1 = (int(v) for v in region.box)
    inside = changed[max(0, y0) : y1, max(0, x0) : x1].mean()
    assert inside > 0.5, f"only {inside:.0%} of the face box was redacted"
    # Far from the face, pixels are untouched (the mask is a feathered face ellipse).
    margin = changed.copy()
    bx0, by0, bx1, by1 = region.ellipse.bounds()
    margin[max(0, int(by0)) : int(by1) + 1, max(0, int(bx0)) : int(bx1) + 1] = False
    assert not margin.any()


def test_preview_without_plan_returns_the_exact_frame(qtbot, worker):
    project = fixture_project()
    with qtbot.waitSignal(worker.preview_ready, timeout=TIMEOUT_MS) as blocker:
        worker.submit(PreviewRequest(Path(project.source.path), 5, None, 0, max_side=240))
    frame = blocker.args[0]
    assert frame.anonymized is None
    assert frame.original.shape == (240, 240, 3)


def test_only_the_newest_waiting_preview_is_rendered():
    queue = JobQueue()
    plan_free = [PreviewRequest(Path("x.mp4"), i, None, 0) for i in range(3)]
    for request in plan_free:
        queue.submit(request)
    job = queue.take(timeout=0)
    assert job is not None and job.request.frame_index == 2
    assert queue.take(timeout=0) is None


def test_long_jobs_run_in_order_and_a_waiting_one_can_be_cancelled(tmp_path):
    queue = JobQueue()
    first = queue.submit(OpenProjectRequest(tmp_path / "a.anonproj"))
    second = queue.submit(OpenProjectRequest(tmp_path / "b.anonproj"))
    third = queue.submit(OpenProjectRequest(tmp_path / "c.anonproj"))
    assert queue.cancel(second.job_id) is second and second.cancel.cancelled
    assert [j.job_id for j in (queue.take(0), queue.take(0))] == [first.job_id, third.job_id]


def test_a_foreign_project_file_fails_with_a_readable_message(qtbot, worker, tmp_path):
    path = tmp_path / "notes.anonproj"
    path.write_text(json.dumps({"hello": "world"}), encoding="utf-8")
    with qtbot.waitSignal(worker.job_failed, timeout=TIMEOUT_MS) as blocker:
        worker.submit(OpenProjectRequest(path))
    info, message = blocker.args
    assert info.description == "Opening notes.anonproj"
    assert "notes.anonproj" in message and "Traceback" not in message


def test_export_reports_progress_with_eta_and_writes_the_video(qtbot, worker, tmp_path):
    project = fixture_project(real_hash=True)
    output = tmp_path / "out" / "anonymized.mp4"
    output.parent.mkdir()
    progress: list[JobProgress] = []
    worker.job_progressed.connect(progress.append)
    request = ExportRequest(snapshot_project(project), output, leak_check=False)
    with qtbot.waitSignal(worker.job_finished, timeout=TIMEOUT_MS * 2) as blocker:
        job = worker.submit(request)
    info, result = blocker.args
    assert info.job_id == job.job_id and isinstance(result, ExportDone)
    assert output.is_file() and result.frames_written == 216
    json_report, html_report = result.report_paths  # both are written, next to the video
    assert json_report.is_file() and html_report.is_file()
    assert json_report.parent == output.parent
    rendering = [p for p in progress if p.stage == "Rendering" and p.percent is not None]
    assert rendering and rendering[-1].percent == pytest.approx(100.0)
    assert any(p.eta_s is not None for p in rendering), "no ETA was ever estimated"


def test_cancelling_a_running_export_leaves_no_file_and_the_thread_keeps_working(
    qtbot, worker, tmp_path
):
    project = fixture_project(real_hash=True)
    output = tmp_path / "cancelled.mp4"
    cancelled = []
    worker.job_cancelled.connect(cancelled.append)

    def cancel_once_rendering(progress: JobProgress) -> None:
        if progress.stage == "Rendering" and not cancelled:
            worker.cancel(progress.job.job_id)

    worker.job_progressed.connect(cancel_once_rendering)
    with qtbot.waitSignal(worker.job_cancelled, timeout=TIMEOUT_MS):
        worker.submit(ExportRequest(snapshot_project(project), output, leak_check=False))
    assert not output.exists()
    assert not list(tmp_path.glob("cancelled*"))
    # The same thread still serves the next job.
    with qtbot.waitSignal(worker.preview_ready, timeout=TIMEOUT_MS):
        worker.submit(PreviewRequest(Path(project.source.path), 0, None, 0))
