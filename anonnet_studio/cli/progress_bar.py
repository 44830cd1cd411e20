"""Terminal progress bar (stage, percent, ETA) fed by `core.progress.Progress` events."""

from __future__ import annotations

import sys

from tqdm import tqdm

from anonnet_studio.core.progress import Progress


class TerminalProgress:
    """Callable progress sink: one tqdm bar per stage, closed when the stage changes."""

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled and sys.stderr is not None
        self._bar: tqdm | None = None
        self._stage: str | None = None

    def __call__(self, progress: Progress) -> None:
        if not self._enabled:
            return
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
                file=sys.stderr,
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

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
