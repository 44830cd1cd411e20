"""Real processes for tests of what other processes leave behind or hold."""

from __future__ import annotations

import subprocess
import sys


def finished_process_id() -> int:
    """The id of a process that has just exited (as a process killed by SIGKILL would)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)
