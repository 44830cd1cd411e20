"""Session fixtures for the anonymize tests: the embedded face models, short derived clips
built from the real fixtures, and their analysis (each built once, in a temp folder)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from anonnet_studio.core.analysis.pipeline import analyze_video
from anonnet_studio.core.analysis.result import AnalysisResult
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.factory import VisionModels, build_embedded_vision
from tests.conftest import fixture_video
from tests.media_factory import make_side_by_side, make_variant

TWO_SHOT_FRAMES = 36
TALK_FRAMES = 40


@dataclass(frozen=True)
class AnalysedClip:
    path: Path
    analysis: AnalysisResult


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
def two_shot(tmp_path_factory: pytest.TempPathFactory, vision: VisionModels) -> AnalysedClip:
    """d18 (left, frontal) and d3 (right, head turns) side by side, 640x320, no audio."""
    path = tmp_path_factory.mktemp("two_shot") / "two_shot.mp4"
    make_side_by_side(
        fixture_video("lp_d18.mp4"),
        fixture_video("lp_d3.mp4"),
        path,
        size=(640, 320),
        max_frames=TWO_SHOT_FRAMES,
    )
    return AnalysedClip(path, analyze_video(path, vision))


@pytest.fixture(scope="session")
def talk(tmp_path_factory: pytest.TempPathFactory, vision: VisionModels) -> AnalysedClip:
    """The first frames of d19 (a man talking) at 320x320, with its audio."""
    path = tmp_path_factory.mktemp("talk") / "talk.mp4"
    make_variant(fixture_video("lp_d19.mp4"), path, width=320, max_frames=TALK_FRAMES)
    return AnalysedClip(path, analyze_video(path, vision))
