"""A bug never shows a traceback (issue 16, item 4): the CLI prints one line naming what
failed and the crash log holding the details, exits 70, and leaves no output; a failed
analysis leaves the previous project file as it was."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from anonnet_studio.cli import main
from anonnet_studio.core.diagnostics import EX_SOFTWARE, MAX_LINE_CHARS
from tests.bad_input.cli_runs import cli_env, listing, sha256
from tests.conftest import fixture_video
from tests.media_factory import make_variant

BUG = "simulated bug in the report builder"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash_clip")
    return make_variant(fixture_video("lp_d19.mp4"), folder / "source.mp4", width=160,
                        height=160, max_frames=6)  # fmt: skip


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "logs"
    monkeypatch.setenv("ANONNET_LOG_DIR", str(folder))
    return folder


def _fail(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError(BUG)


def _one_error_line(err: str, log_dir: Path) -> Path:
    """The stderr is one line naming the failure and an existing log; returns the log."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("error: `"), err
    assert f"failed unexpectedly: RuntimeError: {BUG}" in lines[0]
    logs = sorted(log_dir.glob("crash-*.log"))
    assert len(logs) == 1, listing(log_dir) if log_dir.exists() else "no log folder"
    assert f"details in {logs[0]})" in lines[0]
    return logs[0]


def test_a_bug_during_export_is_one_line_a_log_and_no_file(
    clip: Path, tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # The report is built after the whole video is staged, so the video temp file exists.
    monkeypatch.setattr("anonnet_studio.project.export.build_report", _fail)
    out = tmp_path / "out"
    out.mkdir()
    before = sha256(clip)
    code = main(["anonymize", str(clip), "-o", str(out / "v.mp4"), "--report",
                 str(out / "r.json"), "--project", str(out / "p.anonproj"), "-q"])  # fmt: skip
    assert code == EX_SOFTWARE == 70
    log = _one_error_line(capsys.readouterr().err, log_dir)
    assert listing(out) == []
    assert sha256(clip) == before
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert f"RuntimeError: {BUG}" in text
    assert "action: `anonymize`" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600  # paths of the user's files are private
    assert all(len(line) <= MAX_LINE_CHARS for line in text.splitlines())


def test_a_failed_analysis_leaves_the_previous_project_intact(
    clip: Path, tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    project = tmp_path / "p.anonproj"
    assert main(["analyze", str(clip), "-o", str(project), "-q"]) == 0
    before = {name: sha256(tmp_path / name) for name in listing(tmp_path)
              if (tmp_path / name).is_file()}  # fmt: skip
    capsys.readouterr()
    monkeypatch.setattr("anonnet_studio.cli.analyze_cmd.analyze_video", _fail)
    code = main(["analyze", str(clip), "-o", str(project), "--overwrite", "-q"])
    assert code == EX_SOFTWARE
    _one_error_line(capsys.readouterr().err, log_dir)
    after = {name: sha256(tmp_path / name) for name in listing(tmp_path)
             if (tmp_path / name).is_file() and not name.startswith("logs")}  # fmt: skip
    assert after == before


def test_a_bug_while_saving_keeps_the_previous_project(
    clip: Path, tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The failure lands after the new arrays are on disk, before the JSON is renamed."""
    project = tmp_path / "p.anonproj"
    assert main(["analyze", str(clip), "-o", str(project), "-q"]) == 0
    before = {name: sha256(tmp_path / name) for name in listing(tmp_path)
              if (tmp_path / name).is_file()}  # fmt: skip
    capsys.readouterr()
    monkeypatch.setattr("anonnet_studio.project.io.atomic_write_bytes", _fail)
    code = main(["analyze", str(clip), "-o", str(project), "--overwrite", "-q"])
    assert code == EX_SOFTWARE
    _one_error_line(capsys.readouterr().err, log_dir)
    after = {name: sha256(tmp_path / name) for name in listing(tmp_path)
             if (tmp_path / name).is_file() and not name.startswith("logs")}  # fmt: skip
    assert after == before


_CRASHING_RUN = f"""
import sys
import anonnet_studio.project.export as export
def fail(*args, **kwargs):
    raise RuntimeError({BUG!r})
export.build_report = fail
from anonnet_studio.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_in_a_real_process_the_log_goes_to_the_users_log_folder(clip: Path, tmp_path: Path) -> None:
    """No $ANONNET_LOG_DIR: the platform's log folder (XDG state home on Linux), never
    the folder of the source or of the output."""
    out = tmp_path / "out"
    out.mkdir()
    env = cli_env(tmp_path / "models")
    env.pop("ANONNET_LOG_DIR", None)
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    result = subprocess.run(
        [sys.executable, "-c", _CRASHING_RUN, "anonymize", str(clip), "-o", str(out / "v.mp4"),
         "-q"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == EX_SOFTWARE, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    log_dir = tmp_path / "state" / "anonnet-studio" / "log"
    _one_error_line(errors[0], log_dir)
    assert listing(out) == []
    assert not any(name.endswith(".log") for name in listing(clip.parent))
