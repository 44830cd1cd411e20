"""No combination of path options overwrites the source, a user's file or another output
(issue 20, defects 1, 2 and 8). Every refusal happens before any work, exits 2 with one
message, and leaves the folder byte for byte as it was."""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from anonnet_studio.cli import main
from anonnet_studio.core.fileio import TempFile, is_temp_name
from anonnet_studio.project.io import load_project, sidecar_dir
from tests.bad_input.cli_runs import assert_clean_failure, build_clip, listing, run_cli, sha256

CLIP_FRAMES = 12


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_clip(tmp_path_factory.mktemp("clip"), CLIP_FRAMES)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> Path:
    """A project of the clip (module-wide; tests copy what they change)."""
    project = tmp_path_factory.mktemp("analysed") / "P.anonproj"
    assert main(["analyze", str(clip), "-o", str(project), "-q"]) == 0
    return project


@pytest.fixture
def work(tmp_path: Path, clip: Path, analysed: Path) -> Path:
    """A folder holding a copy of the source video and a project of it (whose source is
    the module's clip, byte-identical)."""
    (tmp_path / "src.mp4").write_bytes(clip.read_bytes())
    shutil.copy(analysed, tmp_path / "P.anonproj")
    shutil.copytree(sidecar_dir(analysed), sidecar_dir(tmp_path / "P.anonproj"))
    return tmp_path


# Each case: (argv builder given the folder, the words the refusal must contain).
COLLISIONS: dict[str, tuple[Callable[[Path], list[str]], tuple[str, ...]]] = {
    "report is the source": (
        lambda d: ["anonymize", "src.mp4", "-o", "o.mp4", "--report", "src.mp4"],
        ("report JSON would overwrite the source video",),
    ),
    "project is the source": (
        lambda d: ["anonymize", "src.mp4", "-o", "o.mp4", "--project", "src.mp4"],
        ("project file would overwrite the source video",),
    ),
    "analyze onto the source": (
        lambda d: ["analyze", "src.mp4", "-o", "src.mp4"],
        ("project file would overwrite the source video",),
    ),
    "summary is the source": (
        lambda d: ["analyze", "src.mp4", "-o", "new.anonproj", "--json", "src.mp4"],
        ("summary JSON would overwrite the source video",),
    ),
    "output is a symlink to the source": (
        lambda d: [
            "anonymize",
            "src.mp4",
            "-o",
            _link(d, "link.mp4", symbolic=True),
            "--overwrite",
        ],
        ("output video would overwrite the source video",),
    ),
    "report is a hard link of the source, even with --overwrite": (
        lambda d: [
            "anonymize",
            "src.mp4",
            "-o",
            "o.mp4",
            "--overwrite",
            "--report",
            _link(d, "hard.json", symbolic=False),
        ],
        ("report JSON would overwrite the source video",),
    ),
    "report is the output": (
        lambda d: ["anonymize", "src.mp4", "-o", "o.mp4", "--report", "o.mp4"],
        ("output video and the report JSON would both be written",),
    ),
    "export report onto its project": (
        lambda d: ["export", "P.anonproj", "-o", "o.mp4", "--report", "P.anonproj"],
        ("would overwrite the input project",),
    ),
    "project is the output": (
        lambda d: ["anonymize", "src.mp4", "-o", "x.mp4", "--project", "x.mp4"],
        ("output video and the project file would both be written",),
    ),
    "report inside the project's data folder": (
        lambda d: [
            "export",
            "P.anonproj",
            "-o",
            "o.mp4",
            "--report",
            "P.anonproj.data/r.json",
        ],
        ("inside the input project's data folder",),
    ),
    "report folder missing": (
        lambda d: ["anonymize", "src.mp4", "-o", "o.mp4", "--report", "missing/r.json"],
        ("missing does not exist",),
    ),
    "existing output without --overwrite": (
        lambda d: ["export", "P.anonproj", "-o", _file(d, "kept.mp4")],
        ("kept.mp4 already exists", "--overwrite"),
    ),
    "existing report HTML without --overwrite": (
        lambda d: [
            "export",
            "P.anonproj",
            "-o",
            "o.mp4",
            "--report",
            "r.json",
            *_made(d, "r.html"),
        ],
        ("r.html already exists",),
    ),
    "project name too long for its data folder": (
        lambda d: ["analyze", "src.mp4", "-o", "p" * 243 + ".anonproj"],
        ("name is 257 bytes long",),
    ),
}


def _link(folder: Path, name: str, *, symbolic: bool) -> str:
    (os.symlink if symbolic else os.link)(folder / "src.mp4", folder / name)
    return name


def _file(folder: Path, name: str) -> str:
    (folder / name).write_bytes(b"the user's own file")
    return name


def _made(folder: Path, name: str) -> list[str]:
    """Puts a user's file called `name` in the folder; adds no argument."""
    _file(folder, name)
    return []


@pytest.mark.parametrize("case", sorted(COLLISIONS))
def test_colliding_paths_are_refused_before_any_work(
    case: str, work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv_of, phrases = COLLISIONS[case]
    monkeypatch.chdir(work)
    argv = argv_of(work)
    before = {name: sha256(work / name) for name in listing(work) if (work / name).is_file()}
    capsys.readouterr()
    assert main([*argv, "-q"]) == 2
    err = capsys.readouterr().err
    for phrase in phrases:
        assert phrase in err, err
    after = {name: sha256(work / name) for name in listing(work) if (work / name).is_file()}
    assert after == before  # the source, the project, the user's files: all byte-identical
    assert load_project(work / "P.anonproj").source.sha256 == sha256(work / "src.mp4")
    assert not [name for name in listing(work) if is_temp_name(Path(name).name)]


def test_a_refusal_in_a_real_process_is_one_clean_message(work: Path) -> None:
    before = sha256(work / "src.mp4")
    result = run_cli(["anonymize", "src.mp4", "-o", "o.mp4", "--report", "src.mp4"], work,
                     work / "models")  # fmt: skip
    assert_clean_failure(result, "would overwrite the source video")
    assert sha256(work / "src.mp4") == before
    assert not (work / "o.mp4").exists()


def test_report_named_html_gets_its_own_json(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(work)
    assert main(["anonymize", "src.mp4", "-o", "o.mp4", "--report", "r.html", "-q"]) == 0
    assert json.loads((work / "r.json").read_text())["verdict"] == "PASS"
    assert (work / "r.html").read_text().startswith("<!doctype html>")


def test_overwrite_replaces_an_output_but_never_the_source(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(work)
    source = Path(load_project(work / "P.anonproj").source.path)
    source_sha = sha256(source)
    _file(work, "o.mp4")
    assert main(["export", "P.anonproj", "-o", "o.mp4", "--overwrite", "-q"]) == 0
    assert (work / "o.mp4").read_bytes()[4:8] == b"ftyp"  # now the export
    assert main(["export", "P.anonproj", "-o", str(source), "--overwrite", "-q"]) == 2
    assert sha256(source) == source_sha


def test_a_failing_report_leaves_no_video_either(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outputs of a run are committed together: no video without its report."""
    real_write_all = TempFile.write_all

    def disk_full_for_html(self: TempFile, data: bytes) -> None:
        if self.final_path.suffix == ".html":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write_all(self, data)

    monkeypatch.setattr(TempFile, "write_all", disk_full_for_html)
    monkeypatch.chdir(work)
    before = listing(work)
    assert main(["anonymize", "src.mp4", "-o", "o.mp4", "--report", "r.json",
                 "--project", "new.anonproj", "-q"]) == 2  # fmt: skip
    assert listing(work) == before


def test_names_of_250_bytes_are_written(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Temp names shorten their part, never the user's: a 250-byte output name works."""
    monkeypatch.chdir(work)
    video, report = "v" * 246 + ".mp4", "r" * 245 + ".json"
    project = "p" * 241 + ".anonproj"  # its data folder is 255 bytes
    assert main(["anonymize", "src.mp4", "-o", video, "--report", report,
                 "--project", project, "-q"]) == 0  # fmt: skip
    assert (work / video).stat().st_size > 0
    assert json.loads((work / report).read_text())["verdict"] == "PASS"
    assert load_project(work / project).identities
    assert not [name for name in listing(work) if is_temp_name(Path(name).name)]
