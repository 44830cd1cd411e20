"""Where the resources (model manifests, prompt templates, styles) live.

In a source checkout (and an editable install) they are the repository's top-level
`resources/` folder; a wheel carries a copy as `anonnet_studio/resources/` (setup.py puts
it there); a PyInstaller bundle has them in its `resources/` folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # anonnet_studio/


def resources_dir() -> Path:
    """`$ANONNET_RESOURCES`, the PyInstaller bundle, the installed package's copy, or the
    source checkout's `resources/`."""
    override = os.environ.get("ANONNET_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    installed = _PACKAGE / "resources"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "resources"
