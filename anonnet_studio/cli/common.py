"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from anonnet_studio.core.errors import MediaNotFoundError


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models-dir", type=Path, help="folder holding downloaded models")
    parser.add_argument(
        "--offline", action="store_true", default=None, help="never attempt a download"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def existing_file(path: Path, what: str = "input") -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise MediaNotFoundError(f"The {what} file does not exist: {path}")
    return path.resolve()
