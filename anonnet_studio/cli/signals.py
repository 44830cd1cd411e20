"""SIGTERM handled like Ctrl+C: the run unwinds, its temp files are removed, and it exits.

By default SIGTERM (sent by `kill`, `timeout`, service managers, a closing terminal
session) ends Python at once, leaving temp files behind and skipping every cleanup. Here it
raises `TerminationRequested` in the main thread instead, which unwinds through the same
`with` blocks as a KeyboardInterrupt, so nothing half-written is left. A second SIGTERM
during that cleanup is ignored (SIGKILL still ends the process; its temp files are swept by
the next run, see `core.fileio`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class TerminationRequested(KeyboardInterrupt):
    """SIGTERM arrived; raised in the main thread like KeyboardInterrupt."""


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While active, SIGTERM raises `TerminationRequested` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the cleanup finish
        raise TerminationRequested

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
