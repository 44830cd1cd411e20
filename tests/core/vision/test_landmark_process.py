"""The 68-point predictor served from a child process gives exactly the in-process
landmarks, reports a bad file as a typed error, and stops with its owner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.core.errors import ModelError, ModelUnavailableError
from anonnet_studio.core.vision.landmark_process import Landmarks68Process
from anonnet_studio.core.vision.landmarks import SHAPE68_FILE, DlibLandmarks68
from tests.core.vision.conftest import clip_frames, single_face


def test_same_landmarks_as_in_process(model_dir: Callable[[str], Path], vision) -> None:
    path = model_dir("dlib-face-models") / SHAPE68_FILE
    local, remote = DlibLandmarks68(path), Landmarks68Process(path)
    try:
        for image in clip_frames("lp_d3.mp4", [0, 200]) + clip_frames("lp_s18.mp4", [100]):
            box = single_face(vision, image).box
            expected = local.landmarks68(image, box)
            got = remote.landmarks68(image, box)
            assert got.shape == (68, 2) and got.dtype == np.float32
            np.testing.assert_array_equal(got, expected)
        with pytest.raises(ValueError, match="RGB"):
            remote.landmarks68(np.zeros((8, 8), np.uint8), np.array([0, 0, 4, 4]))
        process = remote._process
    finally:
        remote.close()
    assert process.poll() is not None  # the child has exited


def test_damaged_or_missing_model_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="68-point"):
        Landmarks68Process(tmp_path / "absent.dat")
    damaged = tmp_path / "damaged.dat"
    damaged.write_bytes(b"not a predictor")
    predictor = Landmarks68Process(damaged)
    with pytest.raises(ModelError, match="could not be loaded"):
        predictor.landmarks68(np.zeros((8, 8, 3), np.uint8), np.array([0, 0, 4, 4]))
