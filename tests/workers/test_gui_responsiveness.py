"""The GUI thread keeps running while the worker loads models and analyses a real clip.

A 10 ms QTimer heartbeat runs on the GUI thread while the editor's start-up warm-up job
loads the embedded face models and then while a real analysis runs (real models, real
footage). The longest gap between heartbeats of each phase is printed and recorded as a
measurement, not asserted (machines are noisy). The test asserts that the heartbeat kept
ticking in every quarter of the analysis and that models were loaded on the worker thread.
"""

from __future__ import annotations

import itertools
import threading
import time

from PySide6.QtCore import QTimer

from anonnet_studio.workers.requests import AnalysisRequest, ComputeConfig, WarmUpRequest
from anonnet_studio.workers.results import AnalysisDone, JobInfo
from anonnet_studio.workers.services import ComputeServices, default_vision_loader
from anonnet_studio.workers.worker import ComputeWorker
from tests.conftest import fixture_video

HEARTBEAT_MS = 10


def _longest_gap_ms(ticks: list[float], start: float, end: float) -> tuple[int, float]:
    during = [t for t in ticks if start <= t <= end]
    edges = [start, *during, end]
    return len(during), max(b - a for a, b in itertools.pairwise(edges)) * 1000


def test_heartbeat_keeps_ticking_while_a_clip_is_analysed(qtbot, tmp_path, record_property):
    loader_threads: list[threading.Thread] = []

    def recording_loader(*args):
        loader_threads.append(threading.current_thread())
        return default_vision_loader(*args)

    services = ComputeServices(
        ComputeConfig(models_dir=tmp_path / "models", offline=True),
        vision_loader=recording_loader,
    )
    worker = ComputeWorker(services)
    worker.start()
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    spans: dict[str, list[float]] = {}

    def started(job: JobInfo) -> None:
        spans[job.kind.value] = [time.perf_counter()]

    def ended(job: JobInfo, *_rest: object) -> None:
        spans[job.kind.value].append(time.perf_counter())

    worker.job_started.connect(started)
    worker.job_finished.connect(ended)
    failures: list[str] = []
    worker.job_failed.connect(lambda _job, message: failures.append(message))
    results: list[object] = []
    worker.job_finished.connect(lambda _job, result: results.append(result))
    try:
        heartbeat.start()
        worker.submit(WarmUpRequest())
        worker.submit(AnalysisRequest(fixture_video("lp_d18.mp4"), identity_seed=1))
        qtbot.waitUntil(lambda: len(results) == 2 or bool(failures), timeout=240_000)
        heartbeat.stop()
    finally:
        assert worker.shutdown(30_000)
    assert not failures, failures
    assert isinstance(results[1], AnalysisDone) and results[1].project.identities

    lines = []
    for phase in ("warm-up", "analysis"):
        start, end = spans[phase]
        count, longest = _longest_gap_ms(ticks, start, end)
        lines.append(
            f"{phase}: {end - start:.1f} s, {count} heartbeats, longest GUI stall {longest:.0f} ms"
        )
        record_property(f"{phase}_seconds", round(end - start, 2))
        record_property(f"{phase}_longest_gui_stall_ms", round(longest, 1))
    print("\n" + "\n".join(lines) + f" (timer interval {HEARTBEAT_MS} ms)")

    start, end = spans["analysis"]
    quarter = (end - start) / 4
    for q in range(4):
        lo, hi = start + q * quarter, start + (q + 1) * quarter
        assert any(lo <= t <= hi for t in ticks), f"no heartbeat in quarter {q + 1} of the job"
    # Models were loaded once, on the compute thread, never on the GUI thread.
    assert len(loader_threads) == 1 and loader_threads[0] is not threading.main_thread()
