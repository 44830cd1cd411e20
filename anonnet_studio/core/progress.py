"""Qt-free progress reporting and cooperative cancellation for long operations.

Every long operation in `core` takes `on_progress: ProgressCallback | None` and
`cancel: CancelToken | None`, calls `cancel.raise_if_cancelled()` between units of work
(frames, denoising steps, downloaded chunks) and reports `Progress` as it goes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from anonnet_studio.core.errors import OperationCancelled


@dataclass(frozen=True, slots=True)
class Progress:
    stage: str  # short human-readable stage name, e.g. "Detecting faces"
    done: int
    total: int | None  # None when the amount of work is unknown
    message: str = ""
    unit: str = ""  # "B" for bytes; empty for frames, people or other items

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Thread-safe cancellation flag, set by the GUI/CLI, polled by the worker."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise OperationCancelled()


def check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


class ProgressThrottle:
    """Forwards progress at most every `interval_s` (plus the final update) to avoid
    flooding a GUI event queue or a terminal from a per-frame loop."""

    def __init__(self, callback: ProgressCallback | None, interval_s: float = 0.1) -> None:
        self._callback = callback
        self._interval = interval_s
        self._last = 0.0

    def __call__(self, progress: Progress) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        final = progress.total is not None and progress.done >= progress.total
        if final or now - self._last >= self._interval:
            self._last = now
            self._callback(progress)


class EtaEstimator:
    """Estimates the remaining time of one stage from its progress so far."""

    def __init__(self) -> None:
        self._stage: str | None = None
        self._start = 0.0
        self._start_done = 0

    def eta_s(self, progress: Progress) -> float | None:
        now = time.monotonic()
        if progress.stage != self._stage:
            self._stage, self._start, self._start_done = progress.stage, now, progress.done
            return None
        if not progress.total:
            return None
        done = progress.done - self._start_done
        elapsed = now - self._start
        if done <= 0 or elapsed < 0.5:
            return None
        return elapsed / done * (progress.total - progress.done)


def format_duration(seconds: float) -> str:
    """ "8 s", "2 min 05 s", "1 h 03 min"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
