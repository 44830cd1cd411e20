"""The editor says when the project it opens is open in another process (issue 20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from anonnet_studio.project.io import save_project
from anonnet_studio.ui.dialogs.messages import RecordingMessenger
from tests.conftest import REPO_ROOT
from tests.project.factories import make_demo_project
from tests.ui.conftest import make_window

_HOLDER = """
import sys
from anonnet_studio.project.presence import OpenProjectClaim
claim = OpenProjectClaim()
print("free" if claim.claim(sys.argv[1]) else "taken", flush=True)
sys.stdin.read()
"""


def _other_editor(path: Path) -> tuple[subprocess.Popen[str], str]:
    """Another process that tries to open `path`; returns it and whether it got it."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    return process, process.stdout.readline().strip()  # type: ignore[union-attr]


def _close(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait()


def test_opening_a_project_open_in_another_process_says_so(qtbot, worker, store, tmp_path):
    path = tmp_path / "shared.anonproj"
    save_project(make_demo_project(), path)
    other, state = _other_editor(path)
    assert state == "free"
    messenger = RecordingMessenger()
    window = make_window(qtbot, worker, store, tmp_path / "recovery", messenger=messenger)
    try:
        with qtbot.waitSignal(window.files.document_loaded, timeout=30_000):
            window.files.open_path(path)
        assert [title for title, _ in messenger.infos] == ["Open elsewhere"]
        assert "shared.anonproj is also open in another" in messenger.infos[0][1]
    finally:
        _close(other)


def test_a_project_open_in_the_editor_is_seen_as_taken_elsewhere(qtbot, worker, store, tmp_path):
    path = tmp_path / "mine.anonproj"
    save_project(make_demo_project(), path)
    messenger = RecordingMessenger()
    window = make_window(qtbot, worker, store, tmp_path / "recovery", messenger=messenger)
    with qtbot.waitSignal(window.files.document_loaded, timeout=30_000):
        window.files.open_path(path)
    assert messenger.infos == []
    other, state = _other_editor(path)
    _close(other)
    assert state == "taken"
    window.document.set_project(None)  # closing it releases the claim
    other, state = _other_editor(path)
    _close(other)
    assert state == "free"
