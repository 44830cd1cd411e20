"""`anonymize --method synthetic --backend fams` through the real CLI, with tiny random-
weight FAMS models (tests/core/synthetic/fams/tiny_fams.py) in a user models folder in
their real on-disk layouts, found by the real `ModelManager` and loaded by the real loader.

Only FAMS is installed: a person whose project says AnonNET keeps that choice (the flag
is the default for people without one) and is redacted with the download command, which
shows each person runs their own backend. Random weights paint no face, so every FAMS
attempt fails the anonymity check and each retry must raise the degree d.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anonnet_studio.cli import main
from anonnet_studio.core.media.probe import probe
from anonnet_studio.core.synthetic.fams.settings import DEFAULT_DEGREE, FamsSettings
from anonnet_studio.core.synthetic.settings import GenerationSettings
from anonnet_studio.project.field_commands import SetIdentityField
from anonnet_studio.project.io import load_project, save_project
from tests.cli.conftest import CLIP_FRAMES
from tests.core.synthetic.fams.tiny_fams import FACE_SIZE, install_tiny_fams
from tests.support.manifests import use_user_models

# FAMS runs steps * 25/35 (here 2) at min(max_side, 512) px: the tiny models' face size.
DRAFT = {"generation.steps": 3, "generation.max_side": FACE_SIZE}
ATTEMPTS = 1 + GenerationSettings().escalation.max_retries
STEP = FamsSettings().degree_step


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user-models"
    install_tiny_fams(folder)
    use_user_models(monkeypatch, folder, tmp_path)
    return folder


@pytest.mark.slow
def test_fams_backend_end_to_end_through_the_cli(
    clip: Path, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    analysed = tmp_path / "analysed.anonproj"
    assert main(["analyze", str(clip), "-o", str(analysed), "-q"]) == 0
    project = load_project(analysed)
    assert [i.generation.backend for i in project.identities] == [None, None]
    for identity in project.identities:
        for field, value in DRAFT.items():
            SetIdentityField(identity.id, field, value).redo(project)
    SetIdentityField("P2", "generation.backend", "anonnet").redo(project)  # her own choice
    save_project(project, analysed)

    output, report_path, kept = tmp_path / "out.mp4", tmp_path / "out.json", tmp_path / "k.anonproj"
    code = main(["anonymize", str(analysed), "-o", str(output), "--method", "synthetic",
                 "--backend", "fams", "--report", str(report_path), "--project", str(kept),
                 "-q"])  # fmt: skip
    assert code in (0, 3)  # 3: the leak check failed the output
    assert "Saved 1 generated synthetic face(s)" in capsys.readouterr().out
    assert output.is_file()
    result, source = probe(output), probe(clip)
    assert result.video.frame_count == source.video.frame_count == CLIP_FRAMES

    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["verdict"] == ("PASS" if code == 0 else "FAIL")
    people = {person["id"]: person for person in report["identities"]}
    fams, anonnet = people["P1"]["generation"], people["P2"]["generation"]
    assert fams["backend"] == "fams" and fams["degree"] == DEFAULT_DEGREE
    assert people["P1"]["prompt"] is None  # FAMS reads no prompt
    attempts = fams["attempts"]
    assert [a["backend"] for a in attempts] == ["fams"] * len(attempts)
    assert [a["passed"] for a in attempts] in ([False] * ATTEMPTS,
                                               [*[False] * (len(attempts) - 1), True])  # fmt: skip
    # Each retry moves further from the original: d goes up, the seed changes.
    assert [a["degree"] for a in attempts] == pytest.approx(
        [DEFAULT_DEGREE + n * STEP for n in range(len(attempts))]
    )
    assert len({a["seed"] for a in attempts}) == len(attempts)
    # Her AnonNET choice was kept; its weights are missing, so she is redacted and told how.
    assert anonnet["backend"] == "anonnet" and anonnet["attempts"] == []
    assert people["P2"]["method"] == "blur"
    assert "anonnet-studio models download" in people["P2"]["method_fallback"]
    html = report_path.with_suffix(".html").read_text(encoding="utf-8")
    assert "anonymization degree d = 1.25, 1.35" in html

    saved = load_project(kept)
    assert [a.backend for a in saved.identity("P1").attempts] == ["fams"] * len(attempts)
    assert saved.identity("P1").generation.backend == "fams"
    assert saved.identity("P2").generation.backend == "anonnet"
