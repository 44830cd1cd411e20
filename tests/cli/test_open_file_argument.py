"""`anonnet-studio VIDEO` and `anonnet-studio PROJECT.anonproj` open the editor on the file;
commands keep working; anything else is a one-line error (no event loop is started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonnet_studio.cli import main
from anonnet_studio.ui import app as editor_app


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argument lists the editor was started with (it is not really started)."""
    calls: list[list[str]] = []

    def run_editor(argv: list[str] | None = None) -> int:
        calls.append(list(argv or []))
        return 0

    monkeypatch.setattr(editor_app, "run_editor", run_editor)
    return calls


@pytest.mark.parametrize("name", ["interview.mp4", "Interview.MOV", "interview.anonproj"])
def test_a_video_or_project_opens_the_editor_on_it(
    tmp_path: Path, opened: list[list[str]], name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    assert main([str(path)]) == 0
    assert opened == [[str(path.resolve())]]


def test_no_argument_opens_an_empty_editor(opened: list[list[str]]) -> None:
    assert main([]) == 0
    assert opened == [[]]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp / "missing.mp4", "No such file or command: "),
        (lambda tmp: _touch(tmp / "notes.txt"), "notes.txt is neither a video"),
        (lambda tmp: _folder(tmp / "clips.mp4"), "clips.mp4 is neither a video"),
        (lambda tmp: Path("analyse"), "No such file or command: analyse. Commands: analyze,"),
    ],
)
def test_anything_else_is_one_clear_line(
    tmp_path: Path, opened: list[list[str]], capsys: pytest.CaptureFixture[str], make, expected
) -> None:
    assert main([str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1
    assert opened == []


def test_commands_still_run_headless(
    tmp_path: Path, opened: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "missing.anonproj")]) == 2  # the report command
    assert "project file does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["probe", "--help"])
    assert exit_.value.code == 0
    assert opened == []


def _touch(path: Path) -> Path:
    path.write_text("hello", encoding="utf-8")
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path
