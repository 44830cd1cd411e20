"""The headless CLI on real footage: analyze -> project, anonymize with a report, and
clean failures (message, non-zero exit, no traceback, nothing half-written)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import av
import pytest

from anonnet_studio.cli import main
from anonnet_studio.core.media.probe import probe
from tests.conftest import fixture_video
from tests.media_factory import make_montage, make_variant

CLIP_FRAMES = 45


@pytest.fixture(scope="module")
def two_people_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two shots (d18 then d3), short, with the original audio of neither (montage)."""
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "two_shots.mp4"
    make_montage(
        [fixture_video("lp_d18.mp4"), fixture_video("lp_d3.mp4")],
        path,
        size=(480, 480),
        max_frames_per_clip=CLIP_FRAMES,
    )
    return path


@pytest.fixture(scope="module")
def short_clip_with_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli_audio")
    return make_variant(fixture_video("lp_d19.mp4"), folder / "d19_short.mp4", max_frames=60)


def test_analyze_writes_project_and_summary(
    two_people_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "p.anonproj"
    summary_path = tmp_path / "summary.json"
    assert main(["analyze", str(two_people_clip), "-o", str(project), "--json",
                 str(summary_path)]) == 0  # fmt: skip
    # Progress without a terminal (capsys is none): a few lines per stage, bytes in MB.
    lines = capsys.readouterr().err.splitlines()
    stages = Counter(line.split(": ", 1)[0] for line in lines if ": " in line)
    assert stages["Analysing frames"] and max(stages.values()) <= 12, lines
    assert "\r" not in "".join(lines) and "it/s" not in "".join(lines)
    assert any(line.startswith("Fingerprinting video: 100%") and "MB)" in line for line in lines)
    summary = json.loads(summary_path.read_text())
    assert summary["scenes"] == [
        {"start_frame": 0, "end_frame": CLIP_FRAMES},
        {"start_frame": CLIP_FRAMES, "end_frame": 2 * CLIP_FRAMES},
    ]
    assert [p["scenes"] for p in summary["identities"]] == [[0], [1]]
    for person in summary["identities"]:
        assert person["prompt"].startswith("A photorealistic portrait of a")
        assert 1000 <= person["seed"] <= 9999
    assert main(["report", str(project)]) == 0


def test_anonymize_keeps_one_person_and_writes_a_passing_report(
    two_people_clip: Path, tmp_path: Path
) -> None:
    out, project = tmp_path / "out.mp4", tmp_path / "p.anonproj"
    report = tmp_path / "report.json"
    code = main(["anonymize", str(two_people_clip), "-o", str(out), "--keep", "P2",
                 "--method", "pixelate", "--report", str(report), "--project", str(project),
                 "-q"])  # fmt: skip
    assert code == 0
    data = json.loads(report.read_text())
    assert data["verdict"] == "PASS"
    methods = {p["id"]: p["method"] for p in data["identities"]}
    assert methods == {"P1": "pixelate", "P2": "keep"}
    assert data["summary"].startswith("2 people found; 1 hidden by pixelation, 1 kept visible;")
    assert probe(out).video.frame_count == 2 * CLIP_FRAMES
    # Shareable: the file names, and no folder of the source or of the outputs.
    text = report.read_text() + report.with_suffix(".html").read_text()
    assert two_people_clip.name in text and out.name in text
    folders = {*tmp_path.parts, *two_people_clip.parent.parts} - {"/"}
    assert [part for part in folders if part in text] == []

    # --report-paths (internal use) names them in full, in both files.
    internal = tmp_path / "internal.json"
    assert main(["export", str(project), "-o", str(tmp_path / "again.mp4"), "--report",
                 str(internal), "--report-paths", "--offline", "-q"]) == 0  # fmt: skip
    for written in (internal, internal.with_suffix(".html")):
        assert str(two_people_clip) in written.read_text()
        assert str(tmp_path / "again.mp4") in written.read_text()


def test_anonymize_keeps_audio_and_strips_metadata(
    short_clip_with_audio: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.mp4"
    assert main(["anonymize", str(short_clip_with_audio), "-o", str(out), "-q"]) == 0
    source, result = probe(short_clip_with_audio), probe(out)
    assert result.video.frame_count == source.video.frame_count
    assert len(result.audio) == len(source.audio) == 1
    assert abs(result.audio[0].duration_s - source.audio[0].duration_s) < 0.02
    with av.open(str(out)) as container:
        tags = {k.lower() for k in container.metadata}
    assert not tags & {"creation_time", "location", "make", "model", "com.apple.quicktime.make"}


def test_unknown_person_to_keep_is_a_clear_error(two_people_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    assert main(["anonymize", str(two_people_clip), "-o", str(out), "--keep", "P9", "-q"]) == 2
    assert not out.exists()


def test_a_chosen_face_model_that_is_not_installed_is_a_clear_error(
    two_people_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "p.anonproj"
    args = ["analyze", str(two_people_clip), "-o", str(project), "-q", "--offline"]
    code = main([*args, "--models-dir", str(tmp_path / "models"), "--embedder", "arcface"])
    assert code == 2
    err = capsys.readouterr().err
    assert "deepface-arcface" in err and "Traceback" not in err
    assert not project.exists()


@pytest.mark.parametrize(
    ("make_input", "expected"),
    [
        (lambda tmp: tmp / "missing.mp4", "does not exist"),
        (lambda tmp: _write(tmp / "notes.mp4", b"this is not a video"), "video"),
        (lambda tmp: tmp, "video"),
    ],
)
def test_bad_input_exits_cleanly_without_traceback(
    tmp_path: Path, make_input, expected: str
) -> None:
    source = make_input(tmp_path)
    out = tmp_path / "out.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "anonnet_studio", "anonymize", str(source), "-o", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected in result.stderr.lower()
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial files


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_synthetic_without_weights_is_redacted_and_says_why(
    two_people_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An empty models folder and cache: the diffusion weights are certainly absent.
    monkeypatch.setenv("ANONNET_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("ANONNET_MODELS_CACHE", str(tmp_path / "cache"))
    out, report = tmp_path / "out.mp4", tmp_path / "report.json"
    code = main(["anonymize", str(two_people_clip), "-o", str(out), "--method", "synthetic",
                 "--report", str(report), "--offline", "-q"])  # fmt: skip
    assert code == 0
    data = json.loads(report.read_text())
    assert data["verdict"] == "PASS"
    for person in data["identities"]:
        assert person["method_chosen"] == "synthetic"
        assert "not downloaded" in person["method_fallback"]
