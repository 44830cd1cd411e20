"""Shared by the CLI's synthetic-face end-to-end tests (one per backend)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import fixture_video
from tests.media_factory import make_side_by_side

CLIP_FRAMES = 24


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two people side by side (lp_d18 | lp_d19) with lp_d18's sound."""
    path = tmp_path_factory.mktemp("synthetic_clip") / "two_people.mp4"
    return make_side_by_side(
        fixture_video("lp_d18.mp4"),
        fixture_video("lp_d19.mp4"),
        path,
        size=(640, 320),
        max_frames=CLIP_FRAMES,
        audio_from=fixture_video("lp_d18.mp4"),
    )
