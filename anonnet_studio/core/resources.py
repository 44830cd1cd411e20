"""Where the top-level `resources/` folder (manifests, prompt templates, icons) lives."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """`$ANONNET_RESOURCES`, the PyInstaller bundle, or the source checkout's `resources/`."""
    override = os.environ.get("ANONNET_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
