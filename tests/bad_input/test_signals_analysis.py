"""SIGINT, SIGTERM and SIGKILL while `analyze` or `anonymize VIDEO` is analysing (issue 16,
item 5; `test_signals` covers the render of `export`): a clean exit code, one line, no
file in the output folder, the source unchanged. Real processes, signalled once their
progress bar says the frames are being analysed."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.bad_input.cli_runs import build_clip, listing, sha256, start_cli

CLIP_FRAMES = 60
STAGE = "Analysing frames"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_clip(tmp_path_factory.mktemp("signal_clip"), CLIP_FRAMES)


def _read_stderr_until(process: subprocess.Popen[str], words: str) -> str:
    """Reads the progress output (without blocking on a half line) until `words` show."""
    assert process.stderr is not None
    fd = process.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 4096)
            seen += chunk
            if words.encode() in seen:
                return seen.decode(errors="replace")
            if not chunk:
                break
        assert process.poll() is None, seen.decode(errors="replace")
    raise AssertionError(f"never saw {words!r}: {seen.decode(errors='replace')}")


def _command(kind: str, clip: Path, out: Path) -> list[str | Path]:
    if kind == "analyze":
        return ["analyze", clip, "-o", out / "p.anonproj", "--json", out / "s.json"]
    return ["anonymize", clip, "-o", out / "v.mp4", "--report", out / "r.json",
            "--project", out / "p.anonproj"]  # fmt: skip


@pytest.mark.parametrize("kind", ["analyze", "anonymize"])
@pytest.mark.parametrize(
    ("sent", "code", "words"),
    [
        (signal.SIGTERM, 143, "Terminated; nothing was written."),
        (signal.SIGINT, 130, "Interrupted; nothing was written."),
        (signal.SIGKILL, -signal.SIGKILL, None),
    ],
    ids=["SIGTERM", "SIGINT", "SIGKILL"],
)
def test_a_signal_during_analysis_leaves_nothing(
    clip: Path, tmp_path: Path, kind: str, sent: signal.Signals, code: int, words: str | None
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    before, beside = sha256(clip), listing(clip.parent)
    process = start_cli(_command(kind, clip, out), tmp_path, tmp_path / "models")
    _read_stderr_until(process, STAGE)
    process.send_signal(sent)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert "Traceback" not in err
    if words is not None:
        assert err.strip().splitlines()[-1] == words
    assert listing(out) == []  # nothing, not even a temp file: no write had started
    assert sha256(clip) == before
    assert listing(clip.parent) == beside
