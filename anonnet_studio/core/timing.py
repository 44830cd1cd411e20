"""Per-stage wall-time accounting for long loops (analysis, benchmarks).

Stages may nest: time spent in an inner stage is charged to it and not to the outer one,
so the totals are exclusive and add up to the time measured.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")


class StageClock:
    """`with clock("detection"): ...` adds the block's exclusive wall time to a stage."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._stack: list[list[float]] = []  # per open stage: [start, time in children]

    def __call__(self, stage: str) -> _Stage:
        return _Stage(self, stage)

    def add(self, stage: str, seconds: float) -> None:
        self.totals[stage] = self.totals.get(stage, 0.0) + seconds

    def timed_iter(self, stage: str, items: Iterator[T]) -> Iterator[T]:
        """Yield from `items`, charging the time each `next()` takes to `stage`."""
        while True:
            with self(stage):
                item = next(items, None)
            if item is None:
                return
            yield item

    def _enter(self) -> None:
        self._stack.append([time.perf_counter(), 0.0])

    def _exit(self, stage: str) -> None:
        start, children = self._stack.pop()
        elapsed = time.perf_counter() - start
        self.add(stage, elapsed - children)
        if self._stack:
            self._stack[-1][1] += elapsed


class _Stage:
    def __init__(self, clock: StageClock, stage: str) -> None:
        self._clock, self._stage = clock, stage

    def __enter__(self) -> None:
        self._clock._enter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._clock._exit(self._stage)
