"""Helpers of the destination, signal and project-file tests: run the real CLI, look at
the bytes it left.

Named for their purpose (no conftest here: the media bad-input tests share the folder).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.conftest import REPO_ROOT, fixture_video
from tests.media_factory import make_variant

CLI = [sys.executable, "-m", "anonnet_studio"]


def build_clip(folder: Path, frames: int, name: str = "source.mp4") -> Path:
    """A short real clip (one person, with audio) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    return make_variant(fixture_video("lp_d19.mp4"), folder / name, max_frames=frames)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    """Every name in `folder` and below, relative, sorted (hidden files included)."""
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))


def cli_env(models: Path) -> dict[str, str]:
    """The environment of a CLI subprocess: this checkout, no network, its own model
    folders (`models`/user and `models`/cache; embedded models resolve from packages)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["ANONNET_MODELS_DIR"] = str(models / "user")
    env["ANONNET_MODELS_CACHE"] = str(models / "cache")
    env["ANONNET_OFFLINE"] = "1"
    return env


def run_cli(
    args: Sequence[str | Path], cwd: Path, models: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)],
        cwd=cwd,
        env=cli_env(models),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _interruptible() -> None:
    # A shell starts background jobs with SIGINT ignored, and Python then keeps ignoring
    # it: tests run that way (a detached CI job) must still see Ctrl+C handled.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(args: Sequence[str | Path], cwd: Path, models: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *map(str, args)],
        cwd=cwd,
        env=cli_env(models),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_interruptible,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    """Exit 2, no traceback, and the reason in the message."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
