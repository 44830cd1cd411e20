"""The propagation job on the real compute thread: it reports progress, keeps the GUI
thread ticking, returns plain data, and stops promptly when cancelled."""

from __future__ import annotations

import itertools
import time

import numpy as np
from PySide6.QtCore import QTimer

from anonnet_studio.workers.requests import ComputeConfig, PropagationRequest
from anonnet_studio.workers.results import PropagationDone
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker
from tests.conftest import fixture_video

HEARTBEAT_MS = 10


def _request(path, frame: int = 100, **changes) -> PropagationRequest:
    fields = {
        "video_path": path,
        "target": "track",
        "target_id": 7,
        "seed_frame": frame,
        "seed_box": np.array([140, 100, 350, 420], np.float32),  # d18 face at frame 100
        "span": (40, 160),  # a stretch of the clip keeps the test short
    }
    fields.update(changes)
    return PropagationRequest(**fields)  # type: ignore[arg-type]


def test_propagation_runs_off_the_gui_thread_with_progress(qtbot, tmp_path, record_property):
    worker = ComputeWorker(ComputeServices(ComputeConfig(models_dir=tmp_path / "m", offline=True)))
    worker.start()
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    progress, results, span = [], [], []
    worker.job_progressed.connect(progress.append)
    worker.job_started.connect(lambda _job: span.append(time.perf_counter()))
    worker.job_finished.connect(lambda _job, result: results.append(result))
    try:
        heartbeat.start()
        worker.submit(_request(fixture_video("lp_d18.mp4")))
        qtbot.waitUntil(lambda: bool(results), timeout=240_000)
        span.append(time.perf_counter())
        heartbeat.stop()
    finally:
        assert worker.shutdown(30_000)
    (done,) = results
    assert isinstance(done, PropagationDone) and done.target_id == 7
    assert done.frames[0] == 40 and done.frames[-1] == 159 and not done.stopped_early
    assert done.thumbnail is not None and done.thumbnail.shape == (96, 96, 3)
    assert np.linalg.norm(done.embedding) > 0.99
    assert any(p.stage == "Following the face" and p.percent for p in progress)
    start, end = span
    during = [t for t in ticks if start <= t <= end]
    longest = max(b - a for a, b in itertools.pairwise([start, *during, end])) * 1000
    record_property("propagation_longest_gui_stall_ms", round(longest, 1))
    print(f"\npropagation: {end - start:.1f} s, longest GUI stall {longest:.0f} ms")
    quarter = (end - start) / 4
    for q in range(4):
        lo, hi = start + q * quarter, start + (q + 1) * quarter
        assert any(lo <= t <= hi for t in ticks), f"no heartbeat in quarter {q + 1} of the job"


def test_a_cancelled_propagation_stops_and_returns_nothing(qtbot, tmp_path):
    worker = ComputeWorker(ComputeServices(ComputeConfig(models_dir=tmp_path / "m", offline=True)))
    worker.start()
    finished = []
    worker.job_finished.connect(lambda _job, result: finished.append(result))
    # Cancel at the first progress report of the tracking stage itself.
    worker.job_progressed.connect(
        lambda p: worker.cancel(p.job.job_id) if p.stage == "Following the face" else None
    )
    try:
        with qtbot.waitSignal(worker.job_cancelled, timeout=240_000):
            worker.submit(_request(fixture_video("lp_d18.mp4"), target="region"))
    finally:
        assert worker.shutdown(30_000)
    assert finished == []
