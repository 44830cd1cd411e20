"""Session fixtures for the correction tests: the embedded face models and derived clips."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.factory import VisionModels, build_embedded_vision
from tests.conftest import fixture_video
from tests.media_factory import decode_rgb, make_montage, make_side_by_side, write_video

MONTAGE_CLIP_FRAMES = 45  # per clip; the cut is at frame 45


@pytest.fixture(scope="session")
def vision(tmp_path_factory: pytest.TempPathFactory) -> VisionModels:
    root = tmp_path_factory.mktemp("models")
    manager = ModelManager.from_environment(
        models_dir=root / "user",
        offline=True,
        environ={"ANONNET_MODELS_CACHE": str(root / "cache")},
    )
    return build_embedded_vision(manager.resolve)


@pytest.fixture(scope="session")
def montage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """d18 then, after a hard cut at frame 45, d19 (a different man), 320x320."""
    path = tmp_path_factory.mktemp("montage") / "montage.mp4"
    make_montage(
        [fixture_video("lp_d18.mp4"), fixture_video("lp_d19.mp4")],
        path,
        size=(320, 320),
        max_frames_per_clip=MONTAGE_CLIP_FRAMES,
    )
    return path


@pytest.fixture(scope="session")
def two_shot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """d18 (left) and d3 (right) side by side, 640x320."""
    path = tmp_path_factory.mktemp("two_shot") / "two_shot.mp4"
    make_side_by_side(
        fixture_video("lp_d18.mp4"), fixture_video("lp_d3.mp4"), path, size=(640, 320),
        max_frames=40,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def pan_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """d18 at 320x320; from frame 20 on the picture slides left 10 px per frame, so the
    face leaves the frame (black comes in from the right)."""
    path = tmp_path_factory.mktemp("pan") / "pan_out.mp4"

    def frames():
        for index, (_, image) in enumerate(decode_rgb(fixture_video("lp_d18.mp4"), 60)):
            small = cv2.resize(image, (320, 320), interpolation=cv2.INTER_AREA)
            shift = max(0, index - 20) * 10
            canvas = np.zeros((320, 320, 3), np.uint8)
            if shift < 320:
                canvas[:, : 320 - shift] = small[:, shift:]
            yield canvas

    return write_video(frames(), path, Fraction(30))
