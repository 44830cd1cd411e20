"""Telling whether a project is open in another process (another editor window).

While the editor has a project open it holds an exclusive lock on
`<project>.data/.open.lock`. A second process that opens the same project cannot take
that lock and so knows the project is open elsewhere: saving in both would make each
replace the other's changes. The lock vanishes with its process (also after a crash), so
a stale "open elsewhere" is impossible. Saving itself is protected by the separate save
lock in `project.io`; this one is only for telling the user.
"""

from __future__ import annotations

import os
from pathlib import Path

import filelock

from anonnet_studio.project.io import sidecar_dir

OPEN_LOCK_NAME = ".open.lock"


class OpenProjectClaim:
    """This process's claim on the one project it has open."""

    def __init__(self) -> None:
        self._lock: filelock.BaseFileLock | None = None
        self.path: Path | None = None

    def claim(self, path: str | os.PathLike[str]) -> bool:
        """Claim `path` (releasing the previous one); False when another process has it
        open. A project whose data folder cannot be locked counts as not open elsewhere."""
        self.release()
        path = Path(path)
        folder = sidecar_dir(path)
        if not folder.is_dir():
            return True
        lock = filelock.FileLock(folder / OPEN_LOCK_NAME, timeout=0, thread_local=False)
        try:
            lock.acquire()
        except filelock.Timeout:
            return False
        except OSError:
            return True  # a read-only folder: nothing can be saved there anyway
        self._lock, self.path = lock, path
        return True

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
        self._lock, self.path = None, None
