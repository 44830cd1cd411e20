"""One overall progress line for a batch: files done, frames/s and an ETA by frames.

Each job's frames count as done in proportion to its per-frame stages (analysis and
rendering of a video, rendering alone of a project), so the rate moves while long files
are still running. Files skipped as already done count neither in the rate nor the ETA.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence

from anonnet_studio.core.progress import Progress

BATCH_STAGE = "Batch"
VIDEO_STAGES = ("Analysing frames", "Rendering")
PROJECT_STAGES = ("Rendering",)


class BatchTracker:
    """Turns per-job progress and results into `Progress` for one bar (thread-safe)."""

    def __init__(
        self,
        frames: Mapping[str, int],
        stages: Sequence[str],
        sink: Callable[[Progress], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._frames = dict(frames)
        self._stages = tuple(stages)
        self._sink = sink
        self._clock = clock
        self._start = clock()
        self._fractions: dict[str, dict[str, float]] = {}
        self._finished: set[str] = set()
        self._lock = threading.Lock()

    def job_progress(self, key: str, progress: Progress) -> None:
        if progress.stage not in self._stages or not progress.total:
            return
        with self._lock:
            self._fractions.setdefault(key, {})[progress.stage] = progress.fraction or 0.0
        self.emit()

    def job_finished(self, key: str) -> None:
        with self._lock:
            self._finished.add(key)
        self.emit()

    def frames_done(self) -> float:
        with self._lock:
            return sum(self._frames.get(key, 0) * self._fraction(key) for key in self._frames)

    def emit(self) -> None:
        done = self.frames_done()
        elapsed = max(1e-6, self._clock() - self._start)
        rate = done / elapsed
        total = sum(self._frames.values())
        message = f"{rate:.1f} frames/s"
        if rate > 0 and total > done:
            message += f", ETA {_clock_time((total - done) / rate)}"
        with self._lock:
            finished = len(self._finished)
        self._sink(Progress(BATCH_STAGE, finished, len(self._frames), message, unit="file"))

    def _fraction(self, key: str) -> float:
        if key in self._finished:
            return 1.0
        stages = self._fractions.get(key, {})
        return sum(stages.get(stage, 0.0) for stage in self._stages) / len(self._stages)


def _clock_time(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600:d}:{whole // 60 % 60:02d}:{whole % 60:02d}"
