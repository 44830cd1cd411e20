"""dlib shape predictors (68-point iBUG landmarks, 5-point alignment) on detector boxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.model_files import require_model_file

SHAPE68_FILE = "shape_predictor_68_face_landmarks.dat"
SHAPE5_FILE = "shape_predictor_5_face_landmarks.dat"

# dlib's predictors were trained on its HOG detector's boxes, which start at the brows
# and are about square; YuNet's start at the forehead. Measured on the fixture clips and
# group photo (median over 12 faces), relative to YuNet's width/height: left -0.05,
# top +0.15, right +0.05, bottom 0.0.
_HOG_BOX_OFFSETS = (-0.05, 0.15, 0.05, 0.0)


def dlib_rectangle(box: np.ndarray) -> Any:
    """A `dlib.rectangle` where dlib's HOG detector would have put this YuNet box."""
    import dlib

    x0, y0, x1, y1 = (float(v) for v in box)
    width, height = x1 - x0, y1 - y0
    left, top, right, bottom = _HOG_BOX_OFFSETS
    return dlib.rectangle(
        round(x0 + left * width),
        round(y0 + top * height),
        round(x1 + right * width),
        round(y1 + bottom * height),
    )


def load_shape_predictor(path: Path | str, description: str) -> Any:
    """A `dlib.shape_predictor`, with typed errors for a missing or damaged file."""
    import dlib

    path = require_model_file(path, description)
    try:
        return dlib.shape_predictor(str(path))
    except RuntimeError as exc:
        raise ModelError(f"The {description} model could not be loaded ({path}): {exc}") from exc


class DlibLandmarks68:
    """68 iBUG landmarks (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67)."""

    name = "dlib-shape-predictor-68"

    def __init__(self, predictor_path: Path) -> None:
        self._predictor = load_shape_predictor(predictor_path, "68-point landmark")

    def landmarks68(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(68, 2) float32 pixel coordinates for the face in `box` (x0, y0, x1, y1)."""
        shape = self._predictor(np.ascontiguousarray(image), dlib_rectangle(box))
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)
