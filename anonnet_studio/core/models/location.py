"""Where a model was found, in the order the manager looks."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class ModelOrigin(enum.Enum):
    """Resolution order: the first origin holding every file of a model wins."""

    LOCAL_PATH = "your chosen folder"  # set_local_path(name, folder)
    USER_DIR = "models folder"  # user_dir/<name>/
    EMBEDDED = "embedded"  # inside an installed Python package
    CACHE = "download cache"  # cache_dir/<name>/<revision>/


@dataclass(frozen=True, slots=True)
class ModelLocation:
    name: str
    folder: Path
    origin: ModelOrigin

    def describe(self) -> str:
        """Short human-readable origin, e.g. 'embedded' or 'download cache'."""
        return self.origin.value
