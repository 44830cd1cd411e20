"""CLI progress fed by `core.progress.Progress` events: a bar on a terminal, a few plain
lines otherwise.

On a terminal each stage gets a tqdm bar (stage, percent, ETA). Written to a log, a CI job
or a pipe, a redrawn bar would be one line per update (thousands per stage), so there each
stage prints a line when it starts, then at most one per 10 % step or per 10 s, and one
when it ends. Byte counts read as MB in both.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

from anonnet_studio.core.progress import Progress, format_duration

LOG_INTERVAL_S = 10.0
LOG_STEP = 0.10  # a line each time the stage crosses another tenth


class TerminalProgress:
    """Callable progress sink; `stream` defaults to stderr, `clock` to time.monotonic (a
    test passes its own)."""

    def __init__(
        self,
        enabled: bool = True,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = enabled and self._stream is not None
        self._sink: _Bars | _LogLines | None = None
        if self._enabled:
            tty = _isatty(self._stream)
            self._sink = _Bars(self._stream) if tty else _LogLines(self._stream, clock)

    def __call__(self, progress: Progress) -> None:
        if self._sink is not None:
            self._sink.update(progress)

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _Bars:
    """One tqdm bar per stage, closed when the stage changes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bar: tqdm | None = None
        self._stage: str | None = None

    def update(self, progress: Progress) -> None:
        if progress.stage != self._stage:
            self.close()
            self._stage = progress.stage
            self._bar = tqdm(
                total=progress.total,
                desc=progress.stage,
                unit=progress.unit or "it",
                unit_scale=progress.unit == "B",
                # Decimal for bytes too: the sizes printed beside the bar are decimal.
                unit_divisor=1000,
                leave=True,
                file=self._stream,
                dynamic_ncols=True,
            )
        assert self._bar is not None
        if progress.total is not None and self._bar.total != progress.total:
            self._bar.total = progress.total
        self._bar.n = progress.done
        if progress.message:
            self._bar.set_postfix_str(progress.message, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._stage = None


class _LogLines:
    """Plain lines: a stage's start, each 10 % step or 10 s, and its end."""

    def __init__(self, stream: TextIO, clock: Callable[[], float]) -> None:
        self._stream = stream
        self._clock = clock
        self._stage: str | None = None
        self._started = self._last_line = 0.0
        self._step = -1  # the last tenth printed
        self._pending: Progress | None = None  # the last update, if not printed
        self._printed: tuple[int, int | None] | None = None  # (done, total) last printed

    def update(self, progress: Progress) -> None:
        now = self._clock()
        if progress.stage != self._stage:
            self.close()
            self._stage, self._started = progress.stage, now
            self._print(progress, now)
            return
        if (progress.done, progress.total) == self._printed:
            return  # e.g. the final update sent twice
        fraction = progress.fraction
        step = -1 if fraction is None else int(fraction / LOG_STEP + 1e-9)
        finished = fraction is not None and fraction >= 1.0
        if step > self._step or (not finished and now - self._last_line >= LOG_INTERVAL_S):
            self._print(progress, now)
        else:
            self._pending = progress

    def close(self) -> None:
        """End of a stage: its last state, if that was not printed yet."""
        if self._pending is not None:
            self._print(self._pending, self._clock())
        self._stage, self._step, self._printed = None, -1, None

    def _print(self, progress: Progress, now: float) -> None:
        fraction = progress.fraction
        if fraction is not None:
            self._step = max(self._step, int(fraction / LOG_STEP + 1e-9))
        self._last_line, self._pending = now, None
        self._printed = (progress.done, progress.total)
        print(self._line(progress, now), file=self._stream, flush=True)

    def _line(self, progress: Progress, now: float) -> str:
        amount = _amount(progress)
        text = f"{progress.stage}: "
        fraction = progress.fraction
        text += amount if fraction is None else f"{fraction:.0%} ({amount})"
        elapsed = now - self._started
        if fraction is not None and 0 < fraction < 1 and elapsed >= 1.0:
            text += f", about {format_duration(max(1.0, elapsed / fraction * (1 - fraction)))} left"
        if fraction is not None and fraction >= 1.0 and elapsed >= 1.0:
            text += f", took {format_duration(elapsed)}"
        if progress.message:
            text += f" - {progress.message}"
        return text


def _amount(progress: Progress) -> str:
    if progress.unit == "B":
        if progress.total is None:
            return _size(progress.done)
        return f"{_size(progress.done, progress.total)} of {_size(progress.total)}"
    unit = f" {progress.unit}" if progress.unit else ""
    if progress.total is None:
        return f"{progress.done}{unit}"
    return f"{progress.done} of {progress.total}{unit}"


def _size(n: int, scale_of: int | None = None) -> str:
    """Decimal MB (GB from 10 GB), `scale_of` choosing the unit so both sides match."""
    reference = n if scale_of is None else scale_of
    if reference >= 10_000_000_000:
        return f"{n / 1e9:.1f}" + ("" if scale_of is not None else " GB")
    return f"{n / 1e6:.1f}" + ("" if scale_of is not None else " MB")
