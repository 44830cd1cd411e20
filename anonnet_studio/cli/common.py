"""Options and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from anonnet_studio.core.errors import MediaNotFoundError
from anonnet_studio.core.vision.selection import (
    AUTO,
    BACKEND_MODELS,
    ROLE_LABELS,
    BackendChoice,
)

DEVICES = ("auto", "cpu", "cuda", "mps")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models-dir", type=Path, help="folder holding downloaded models")
    parser.add_argument(
        "--offline", action="store_true", default=None, help="never attempt a download"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="where downloaded face models and the generative models run (default: auto)",
    )
    backends = parser.add_argument_group(
        "face models",
        "Each role uses the embedded model unless told otherwise. 'auto' (the default) "
        "takes a higher-accuracy downloaded model when its weights are present (and, for "
        "all but race, when a GPU runs it).",
    )
    for role, keys in BACKEND_MODELS.items():
        backends.add_argument(
            f"--{role}",
            choices=(AUTO, *keys),
            default=AUTO,
            help=f"{ROLE_LABELS[role].lower()} (default: auto)",
        )


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type` accepting whole numbers from `low` to `high`, so a value out of
    range is a one-line usage error before any work starts."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {text}")
        return value

    parse.__name__ = f"whole number {low}..{high}"
    return parse


def add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace outputs that already exist (the input is never replaced)",
    )


def backend_choice(args: argparse.Namespace) -> BackendChoice:
    return BackendChoice(**{role: getattr(args, role) for role in BACKEND_MODELS})


def existing_file(path: Path, what: str = "input") -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise MediaNotFoundError(f"The {what} file does not exist: {path}")
    return path.resolve()
