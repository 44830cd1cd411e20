"""The synthetic-face path through the real CLI, with every model the stage needs installed
in a user models folder the way a user copies them there by hand.

Tiny random-weight Stable Diffusion 1.5 + three ControlNets + controlnet_aux annotators +
BiSeNet (tests/core/synthetic/tiny_models.py) and later tiny LivePortrait weights
(tests/core/motion/liveportrait_testing.py), all in the real on-disk layouts, found and
loaded by the real `ModelManager` from `$ANONNET_MODELS_DIR`. Only the LivePortrait
network sizes are the tiny configuration's (the official ones would not fit the files).

Random weights paint no face, so every attempt fails the anonymity check; to reach the
motion stage the test then stores a stand-in face (another real person) through the same
storage path, as the motion tests do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from anonnet_studio.app.runtime import load_vision_models, model_manager
from anonnet_studio.cli import main
from anonnet_studio.core.media.probe import probe
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.motion.fallback_warp import BACKEND_NAME as WARP_NAME
from anonnet_studio.core.motion.liveportrait import loading as liveportrait_loading
from anonnet_studio.core.synthetic.settings import GenerationSettings
from anonnet_studio.project.field_commands import SetIdentityField
from anonnet_studio.project.io import load_project, save_project
from anonnet_studio.project.synthetic_faces import record_generated, selected_face
from tests.cli.conftest import CLIP_FRAMES
from tests.conftest import fixture_video
from tests.core.motion.liveportrait_testing import TINY_CONFIG, install_tiny_liveportrait
from tests.core.synthetic.tiny_models import install_tiny_models
from tests.support.manifests import use_user_models
from tests.support.synthetic_faces import stand_in_run

# A draft on a CPU: with the defaults (612 px, 35 steps) one tiny-weight attempt takes
# minutes here; the project's settings are what every generation path reads.
DRAFT = {"generation.steps": 2, "generation.max_side": 128}
ATTEMPTS = 1 + GenerationSettings().escalation.max_retries


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user models folder holding the tiny diffusion models; every other folder the
    manager reads (cache, settings) is private to the test."""
    folder = tmp_path / "user-models"
    install_tiny_models(folder)
    use_user_models(monkeypatch, folder, tmp_path)
    return folder


def _report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _assert_same_frames_and_audio(output: Path, clip: Path) -> None:
    source, result = probe(clip), probe(output)
    assert result.video.frame_count == source.video.frame_count == CLIP_FRAMES
    assert len(result.audio) == len(source.audio) == 1


def _donor(name: str, index: int = 30) -> np.ndarray:
    with VideoReader(fixture_video(name)) as reader:
        return reader.frame_at(index)


@pytest.mark.slow
def test_synthetic_faces_end_to_end_through_the_cli(
    clip: Path,
    models_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    analysed = tmp_path / "analysed.anonproj"
    assert main(["analyze", str(clip), "-o", str(analysed), "-q"]) == 0
    project = load_project(analysed)
    assert len(project.identities) == 2
    for identity in project.identities:
        for field, value in DRAFT.items():
            SetIdentityField(identity.id, field, value).redo(project)
    save_project(project, analysed)

    # 1. anonymize --method synthetic: one generation per hidden person, all recorded.
    kept, first = tmp_path / "kept.anonproj", tmp_path / "1.mp4"
    first_report = tmp_path / "1.json"
    code = main(["anonymize", str(analysed), "-o", str(first), "--method", "synthetic",
                 "--report", str(first_report), "--project", str(kept), "-q"])  # fmt: skip
    assert code in (0, 3)  # 3: the leak check failed the output (then it says so)
    assert "Saved 2 generated synthetic face(s)" in capsys.readouterr().out
    report, project = _report(first_report), load_project(kept)
    for person in report["identities"]:
        identity = project.identity(person["id"])
        passed = [a.passed for a in identity.attempts]
        # Retries run until one passes: all of them when none does, none after a pass.
        assert passed in ([False] * ATTEMPTS, [*[False] * (len(passed) - 1), True])
        attempts = person["generation"]["attempts"]
        assert [a["seed"] for a in attempts] == [a.seed for a in identity.attempts]
        assert [a["passed"] for a in attempts] == passed
        assert [a["kept"] for a in attempts].count(True) == 1
        assert identity.needs_attention == (not any(passed))
        if identity.needs_attention:  # redacted instead, and the report says why
            assert person["method"] == "blur" and "anonymity check" in person["method_fallback"]
        else:  # the generated face is shown, animated by the embedded warp
            assert person["method"] == "synthetic" and person["motion"] == WARP_NAME
        stored = selected_face(project, identity)  # the kept candidate reloads with its place
        assert stored is not None and stored[0].ndim == 3
        keyframe = project.tracks_of(identity.id)[0].keyframe
        assert keyframe is not None and stored[1].frame_index == keyframe.frame_index
    _assert_same_frames_and_audio(first, clip)
    counts = [len(i.attempts) for i in project.identities]

    # 2. Exporting again generates nothing: the stored faces are reused.
    assert main(["export", str(kept), "-o", str(tmp_path / "2.mp4"), "--offline", "-q"]) in (0, 3)
    assert "face(s)" not in capsys.readouterr().out  # no "Saved N generated face(s)"
    assert [len(i.attempts) for i in load_project(kept).identities] == counts

    # 3. Faces that pass, stored through the real path: the embedded landmark warp animates.
    vision = load_vision_models(model_manager(offline=True))
    donors = {"P1": _donor("lp_d3.mp4"), "P2": _donor("lp_d11.mp4", 5)}
    record_generated(project, [stand_in_run(project, i, d, vision) for i, d in donors.items()])
    save_project(project, kept)
    warp, warp_report = tmp_path / "3.mp4", tmp_path / "3.json"
    code = main(["export", str(kept), "-o", str(warp), "--report", str(warp_report),
                 "--offline", "-q"])  # fmt: skip
    assert code == 0 and "face(s)" not in capsys.readouterr().out
    report = _report(warp_report)
    assert report["verdict"] == "PASS"
    for person in report["identities"]:
        assert person["method"] == "synthetic" and person["motion"] == WARP_NAME
        assert person["synthetic_frames"] > CLIP_FRAMES // 2
        assert "landmark warp" in person["method_fallback"]
    assert [len(i.attempts) for i in load_project(kept).identities] == [n + 1 for n in counts]
    _assert_same_frames_and_audio(warp, clip)

    # 4. With LivePortrait's weights installed too, LivePortrait animates.
    install_tiny_liveportrait(models_dir)
    monkeypatch.setattr(liveportrait_loading, "official_config", lambda: TINY_CONFIG)
    animated, animated_report = tmp_path / "4.mp4", tmp_path / "4.json"
    code = main(["export", str(kept), "-o", str(animated), "--report", str(animated_report),
                 "--offline", "-q"])  # fmt: skip
    assert code == 0 and "face(s)" not in capsys.readouterr().out
    for person in _report(animated_report)["identities"]:
        assert person["motion"] == "LivePortrait" and person["method_fallback"] is None
        assert person["synthetic_frames"] > CLIP_FRAMES // 2
    _assert_same_frames_and_audio(animated, clip)
