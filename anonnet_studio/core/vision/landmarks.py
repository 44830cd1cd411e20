"""dlib's 68-point iBUG landmark predictor on a detector box."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from anonnet_studio.core.errors import ModelError

SHAPE68_FILE = "shape_predictor_68_face_landmarks.dat"


class DlibLandmarks68:
    name = "dlib-shape-predictor-68"

    def __init__(self, predictor_path: Path) -> None:
        import dlib

        if not Path(predictor_path).is_file():
            raise ModelError(f"The 68-point landmark model is missing: {predictor_path}")
        self._predictor = dlib.shape_predictor(str(predictor_path))
        self._dlib = dlib

    def landmarks68(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(68, 2) float32. YuNet boxes start at the forehead while dlib was trained on
        boxes from the brows down, so the box is moved down a little first."""
        x0, y0, x1, y1 = (float(v) for v in box)
        height = y1 - y0
        rect = self._dlib.rectangle(
            round(x0),
            round(y0 + 0.1 * height),
            round(x1),
            round(y1 + 0.05 * height),
        )
        shape = self._predictor(np.ascontiguousarray(image), rect)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)
