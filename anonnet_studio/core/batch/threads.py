"""Thread counts per worker, so that N workers together use the cores once, not N times."""

from __future__ import annotations

import os
import sys

# Read by OpenMP, BLAS and onnxruntime's OpenMP builds when they start their pools; set
# before torch or numpy is imported in a fresh worker, and applied at once where possible.
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    return max(1, (cores or cpu_count()) // max(1, workers))


def limit_threads(threads: int) -> None:
    """Caps the compute threads of this process (call first thing in a worker)."""
    for name in _THREAD_ENV:
        os.environ[name] = str(threads)
    import cv2

    cv2.setNumThreads(threads)
    torch = sys.modules.get("torch")
    if torch is not None:  # otherwise torch reads OMP_NUM_THREADS when it is imported
        torch.set_num_threads(threads)
