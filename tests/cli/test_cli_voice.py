"""`anonymize`/`export` with --voice, --voice-strength, --mute and --bleep on real speech."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from anonnet_studio.cli import main
from anonnet_studio.core.voice.settings import MuteKind, MuteRange, VoiceSettings
from anonnet_studio.project.io import load_project, save_project
from tests.conftest import fixture_video
from tests.core.voice.voice_media import decode_pcm

SPEECH = "lia_vox2.mp4"  # 8.8 s, the fixture with clean speech


@pytest.fixture(scope="module")
def disguised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, int]:
    folder = tmp_path_factory.mktemp("cli_voice")
    out, report, project = folder / "out.mp4", folder / "report.json", folder / "p.anonproj"
    code = main(["anonymize", str(fixture_video(SPEECH)), "-o", str(out), "--voice", "mcadams",
                 "--mute", "1-2", "--bleep", "00:00:03.000-00:00:03.500", "--report",
                 str(report), "--project", str(project), "-q"])  # fmt: skip
    return out, report, project, code


@pytest.mark.slow
def test_anonymize_disguises_the_voice_in_sync_and_the_report_says_so(
    disguised: tuple[Path, Path, Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    out, report_path, project, code = disguised
    assert code == 0
    saved = load_project(project).voice  # a later `export` of it disguises the same way
    assert saved.method.value == "mcadams"
    assert [(r.start_s, r.end_s, r.kind.value) for r in saved.mute_ranges] == [
        (1.0, 2.0, "mute"),
        (3.0, 3.5, "bleep"),
    ]
    report = json.loads(report_path.read_text())
    voice = report["voice"]
    assert voice["method"] == "mcadams" and voice["verdict"] == "DISGUISED"
    (track,) = voice["tracks"]
    assert track["samples_source"] == track["samples_output"] and track["same_timing"]
    check = track["speaker_check"]
    assert check["speaker_similarity"] < check["same_speaker_threshold"]
    assert 0 < check["stoi"] <= 1
    assert report["checks"]["voice_still_recognisable"] is False
    assert report["verdict"] == "PASS"
    assert "<h2>Voice</h2>" in report_path.with_suffix(".html").read_text()

    (before,) = decode_pcm(fixture_video(SPEECH))
    (after,) = decode_pcm(out)
    assert after[0].shape == before[0].shape and after[1] == before[1]
    assert not np.any(after[0][:, 16_000 + 2048 : 32_000 - 2048])  # the muted second
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 221
        assert not {k for k in container.metadata if k not in ("major_brand", "minor_version",
                    "compatible_brands")}  # fmt: skip


@pytest.mark.slow
def test_export_without_voice_keeps_the_stream_copy_and_reports_it(
    disguised: tuple[Path, Path, Path, int], tmp_path: Path
) -> None:
    _, _, saved, _ = disguised
    project = tmp_path / "plain.anonproj"
    plain = load_project(saved)
    plain.voice = VoiceSettings()  # voice off, no ranges
    save_project(plain, project)
    out, report = tmp_path / "plain.mp4", tmp_path / "plain.json"
    assert main(["export", str(project), "-o", str(out), "--report", str(report), "-q"]) == 0
    voice = json.loads(report.read_text())["voice"]
    assert voice["verdict"] == "NOT DISGUISED" and "copied unchanged" in voice["audio"]
    with av.open(str(fixture_video(SPEECH))) as src, av.open(str(out)) as dst:
        original = [bytes(p) for p in src.demux(audio=0) if p.size]
        copied = [bytes(p) for p in dst.demux(audio=0) if p.size]
    assert copied == original  # identical packets: a stream copy


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--mute", "50-60"], "starts after the end of the clip"),
        (["--mute", "5-4"], "ends before it starts"),
        (["--mute", "soon"], "Not a time"),
        (["--voice", "mcadams", "--voice-strength", "3"], "strength must be within 0.1..1"),
    ],
)
def test_bad_voice_options_fail_before_any_work(
    options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.mp4"
    code = main(["anonymize", str(fixture_video(SPEECH)), "-o", str(out), "-q", *options])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_export_applies_the_voice_settings_saved_in_the_project(
    disguised: tuple[Path, Path, Path, int], tmp_path: Path
) -> None:
    _, _, saved, _ = disguised
    project = load_project(saved)
    project.voice = VoiceSettings(mute_ranges=(MuteRange(4.0, 5.0, MuteKind.MUTE),))
    path = tmp_path / "drawn.anonproj"  # as the editor saves ranges drawn on the audio lane
    save_project(project, path)
    out, report = tmp_path / "drawn.mp4", tmp_path / "drawn.json"
    code = main(["export", str(path), "-o", str(out), "--report", str(report),
                 "--bleep", "6-6.5", "-q"])  # fmt: skip
    assert code == 0
    voice = json.loads(report.read_text())["voice"]
    assert voice["mute_ranges"] == [[4.0, 5.0, "mute"], [6.0, 6.5, "bleep"]]
    assert voice["method"] == "off"  # the project's choice, as no --voice was given
    (after,) = decode_pcm(out)
    assert not np.any(after[0][:, 4 * 16_000 + 2048 : 5 * 16_000 - 2048])
    assert load_project(path).voice == project.voice  # options do not rewrite the project


def test_the_speaker_encoder_is_loaded_once_per_process(tmp_path: Path) -> None:
    # A batch worker checks the disguise of many files with the same weights.
    from anonnet_studio.cli.voice_options import speaker_encoder_for
    from anonnet_studio.core.models import ModelManager
    from anonnet_studio.core.voice.settings import VoiceMethod

    manager = ModelManager.from_environment(models_dir=tmp_path / "models", offline=True)
    disguised = VoiceSettings(method=VoiceMethod.MCADAMS)
    first = speaker_encoder_for(disguised, manager)
    assert first is not None and speaker_encoder_for(disguised, manager) is first
    assert speaker_encoder_for(VoiceSettings(), manager) is None  # off: nothing to check
