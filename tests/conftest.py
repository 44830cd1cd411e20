"""Shared test fixtures: paths to the real footage in ../shared/fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_DIR = Path(os.environ.get("ANONNET_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures"))
FIXTURE_VIDEOS = sorted((FIXTURES_DIR / "video").glob("*.mp4"))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def fixture_video(name: str) -> Path:
    path = FIXTURES_DIR / "video" / name
    if not path.is_file():
        # Missing fixtures are a broken checkout, not a reason to skip silently.
        raise FileNotFoundError(f"test fixture missing: {path} (set ANONNET_FIXTURES)")
    return path


def fixture_image(name: str) -> Path:
    path = FIXTURES_DIR / "images" / name
    if not path.is_file():
        raise FileNotFoundError(f"test fixture missing: {path} (set ANONNET_FIXTURES)")
    return path


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES_DIR.is_dir(), f"fixtures folder not found: {FIXTURES_DIR}"
    return FIXTURES_DIR
