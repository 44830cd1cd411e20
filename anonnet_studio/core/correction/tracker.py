"""The visual tracker behind propagation, as a small protocol (tests can pass their own).

CSRT (discriminative correlation filter with channel and spatial reliability) follows a
face through pose and lighting changes and estimates its scale; it is in OpenCV's contrib
build, which the requirements install over the headless one (same version, a superset).
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from anonnet_studio.core.errors import ModelError


class VisualTracker(Protocol):
    """OpenCV's tracker interface: boxes are (x, y, width, height) in pixels, BGR images."""

    def init(self, image: np.ndarray, box: tuple[int, int, int, int]) -> None: ...

    def update(self, image: np.ndarray) -> tuple[bool, tuple[float, float, float, float]]: ...


def csrt_tracker() -> VisualTracker:
    """A new CSRT tracker; ModelError (with the fix) when OpenCV was built without it."""
    create = getattr(cv2, "TrackerCSRT_create", None)
    if create is None:
        raise ModelError(
            "This OpenCV build has no CSRT tracker, which following a hand-drawn face needs.",
            hint="Install opencv-contrib-python-headless with the same version as OpenCV "
            f"({cv2.__version__}): pip install --no-deps opencv-contrib-python-headless",
        )
    return create()  # type: ignore[no-any-return]
