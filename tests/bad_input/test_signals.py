"""Interrupted renders leave nothing (issue 20, defect 4): real CLI processes, killed.

SIGTERM and SIGINT unwind cleanly (exit 143 / 130, one line, no file). SIGKILL cannot be
handled, so its temp file stays, recognisable, never at the final name, and the next run
in that folder removes it, while a concurrent run's temp file is left alone.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from anonnet_studio.cli import main
from anonnet_studio.core.fileio import is_temp_name
from tests.bad_input.cli_runs import build_clip, listing, run_cli, sha256, start_cli

CLIP_FRAMES = 90


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    clip = build_clip(folder, CLIP_FRAMES)
    path = folder / "clip.anonproj"
    assert main(["analyze", str(clip), "-o", str(path), "-q"]) == 0
    return path


def _temp_files(folder: Path) -> list[str]:
    return [name for name in listing(folder) if is_temp_name(name)]


def _wait_for_temp_file(folder: Path, process: subprocess.Popen[str]) -> str:
    """Waits until the render has started writing (its temp file exists)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        names = _temp_files(folder)
        if names:
            return names[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the render never started writing")


def _export(project: Path, out: Path, name: str) -> list[str]:
    return ["export", str(project), "-o", str(out / name), "--report", str(out / "r.json"), "-q"]


@pytest.mark.parametrize(
    ("sent", "code", "words"),
    [
        (signal.SIGTERM, 143, "Terminated; nothing was written."),
        (signal.SIGINT, 130, "Interrupted; nothing was written."),
    ],
)
def test_sigterm_and_sigint_leave_no_file(
    project: Path, tmp_path: Path, sent: signal.Signals, code: int, words: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    inputs = {p: sha256(project.parent / p) for p in listing(project.parent)
              if (project.parent / p).is_file()}  # fmt: skip
    process = start_cli(_export(project, out, "video.mp4"), tmp_path, tmp_path / "models")
    _wait_for_temp_file(out, process)
    time.sleep(0.5)  # well inside the frame loop
    process.send_signal(sent)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == words
    assert listing(out) == []
    assert {p: sha256(project.parent / p) for p in inputs} == inputs


def test_sigkill_leaves_a_recognisable_temp_file_that_the_next_run_sweeps(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    process = start_cli(_export(project, out, "video.mp4"), tmp_path, tmp_path / "models")
    temp = _wait_for_temp_file(out, process)
    process.kill()
    process.communicate(timeout=60)
    assert listing(out) == [temp]  # never at the final name
    assert temp.startswith(f".anonnet-{process.pid}-") and temp.endswith(".partial")

    again = run_cli(_export(project, out, "second.mp4"), tmp_path, tmp_path / "models")
    assert again.returncode == 0, again.stderr
    assert listing(out) == ["r.html", "r.json", "second.mp4"]


def test_a_concurrent_runs_temp_file_is_never_swept(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    first = start_cli(["export", str(project), "-o", str(out / "first.mp4"), "-q"], tmp_path,
                      tmp_path / "models")  # fmt: skip
    temp = _wait_for_temp_file(out, first)
    first.send_signal(signal.SIGSTOP)  # alive and holding its lock, but going nowhere
    try:
        second = run_cli(["export", str(project), "-o", str(out / "second.mp4"), "-q"],
                         tmp_path, tmp_path / "models")  # fmt: skip
        assert second.returncode == 0, second.stderr
        assert temp in listing(out)
    finally:
        first.send_signal(signal.SIGCONT)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert listing(out) == ["first.mp4", "second.mp4"]
