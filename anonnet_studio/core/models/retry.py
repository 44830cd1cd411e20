"""When to try a download again, and how long to wait first (exponential backoff)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from anonnet_studio.core.progress import CancelToken, check_cancel

_WAIT_SLICE_S = 0.1  # how often a backoff wait looks at the cancel token


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry number n (1-based): base, 2*base, 4*base, ..., capped at max_s."""

    base_s: float = 1.0
    max_s: float = 30.0

    def delay(self, retry: int) -> float:
        if retry < 1 or self.base_s <= 0:
            return 0.0
        # Capping the exponent first keeps a long outage from overflowing the float.
        return min(self.max_s, self.base_s * 2.0 ** min(retry - 1, 30))


def wait(seconds: float, cancel: CancelToken | None) -> None:
    """Sleep `seconds`, waking early (with `OperationCancelled`) when cancel is pressed."""
    deadline = time.monotonic() + seconds
    while True:
        check_cancel(cancel)
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(_WAIT_SLICE_S, left))
