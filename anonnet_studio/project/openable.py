"""What the editor opens: a project file, or a video it analyses (shared by the editor's
Open dialog and drop target and by `anonnet-studio FILE`)."""

from __future__ import annotations

from pathlib import Path

from anonnet_studio.project.io import PROJECT_SUFFIX

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mts")


def is_openable(path: Path) -> bool:
    suffix = Path(path).suffix.lower()
    return suffix == PROJECT_SUFFIX or suffix in VIDEO_SUFFIXES
