"""The editor's export of synthetic people, end to end on the real worker: tiny diffusion
weights (and later tiny LivePortrait weights) in a user models folder, found by the real
model manager, a real analysis of a two-person clip with sound.

The export generates the missing faces with the worker's one generator on the device of
the settings, returns them, and the editor records them as one undo step, so the next
export (and Regenerate) reuses them instead of generating or loading anything again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anonnet_studio.app.runtime import load_vision_models, model_manager
from anonnet_studio.cli import main
from anonnet_studio.core.media.probe import probe
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.motion.fallback_warp import BACKEND_NAME as WARP_NAME
from anonnet_studio.core.motion.liveportrait import loading as liveportrait_loading
from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator
from anonnet_studio.project.io import load_project
from anonnet_studio.project.synthetic_faces import RecordGeneration, selected_face
from anonnet_studio.ui.dialogs.export_dialog import ExportDialog
from anonnet_studio.ui.main_window import MainWindow
from anonnet_studio.workers.requests import ComputeConfig
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker
from tests.cli.conftest import CLIP_FRAMES
from tests.cli.conftest import clip as clip
from tests.cli.test_synthetic_end_to_end import DRAFT, _donor
from tests.core.motion.liveportrait_testing import TINY_CONFIG, install_tiny_liveportrait
from tests.core.synthetic.tiny_models import install_tiny_models
from tests.support.manifests import manifest_publishing_installed
from tests.support.synthetic_faces import stand_in_run
from tests.ui.conftest import make_window

TIMEOUT_MS = 600_000


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "user-models"
    install_tiny_models(folder)
    return folder


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts diffusion pipeline loads (the real loader still runs)."""
    calls: list[str] = []
    real_load = SyntheticFaceGenerator.load

    def counting_load(resolver: Any, device: Any, **kwargs: Any) -> SyntheticFaceGenerator:
        calls.append(device.describe())
        return real_load(resolver, device, **kwargs)

    monkeypatch.setattr(SyntheticFaceGenerator, "load", staticmethod(counting_load))
    return calls


@pytest.fixture
def tiny_worker(qtbot, models_dir: Path, tmp_path: Path):
    home = tmp_path / "manager"

    def manager_factory(config: ComputeConfig) -> ModelManager:
        return ModelManager(
            # Tiny weights differ from the real ones' published hashes.
            manifest_publishing_installed(models_dir),
            user_dir=config.models_dir,
            cache_dir=home / "cache",
            offline=True,
            settings_path=home / "model-locations.json",
        )

    config = ComputeConfig(device="cpu", models_dir=models_dir, offline=True)
    worker = ComputeWorker(ComputeServices(config, manager_factory=manager_factory))
    worker.start()
    yield worker
    assert worker.shutdown(60_000)


def _export(qtbot, window: MainWindow, output: Path) -> tuple[Any, dict[str, Any]]:
    dialog = window.show_export_dialog()
    assert isinstance(dialog, ExportDialog)
    dialog.output.setText(str(output))
    with qtbot.waitSignal(dialog.export_finished, timeout=TIMEOUT_MS):
        dialog.export_button.click()
    done = dialog.outcome
    assert done is not None, dialog.result_view.toPlainText()
    source = probe(Path(window.document.project.source.path))
    result = probe(output)
    assert result.video.frame_count == source.video.frame_count == CLIP_FRAMES
    assert len(result.audio) == len(source.audio) == 1
    report = json.loads(done.report_paths[0].read_text(encoding="utf-8"))
    return done, {person["id"]: person for person in report["identities"]}


@pytest.mark.slow
def test_editor_export_generates_records_and_then_reuses_the_faces(
    qtbot,
    tiny_worker,
    store,
    clip: Path,
    models_dir: Path,
    loads: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    analysed = tmp_path / "analysed.anonproj"
    assert main(["analyze", str(clip), "-o", str(analysed), "-q"]) == 0
    window = make_window(qtbot, tiny_worker, store, tmp_path / "recovery")
    document = window.document
    document.set_project(load_project(analysed), analysed)
    people = [identity.id for identity in document.project.identities]
    assert len(people) == 2
    for person in people:
        document.set_field(person, "method", "synthetic")
        for field, value in DRAFT.items():
            document.set_field(person, field, value)
    steps = document.undo_stack.count()

    # 1. The export generates each person's face, and the editor records them (one step).
    done, report = _export(qtbot, window, tmp_path / "first.mp4")
    assert sorted(face.identity_id for face in done.generated) == people
    assert loads == ["cpu (fp32)"]  # the worker's generator, on the device of the settings
    assert document.undo_stack.count() == steps + 1
    for face in done.generated:
        identity = document.project.identity(face.identity_id)
        assert len(identity.attempts) == len(face.attempts) >= 1
        assert [a["seed"] for a in report[face.identity_id]["generation"]["attempts"]] == [
            a.seed for a in face.attempts
        ]
        stored = selected_face(document.project, identity)
        assert stored is not None and stored[1] == face.placement
        assert identity.needs_attention == face.needs_attention
    counts = {p: len(document.project.identity(p).attempts) for p in people}

    # 2. The next export generates nothing and loads nothing.
    again, _ = _export(qtbot, window, tmp_path / "second.mp4")
    assert again.generated == () and loads == ["cpu (fp32)"]
    assert {p: len(document.project.identity(p).attempts) for p in people} == counts
    assert document.undo_stack.count() == steps + 1

    # 3. Faces that pass (stand-ins through the same command): the landmark warp animates.
    vision = load_vision_models(model_manager(offline=True))  # the embedded models
    donors = {people[0]: _donor("lp_d3.mp4"), people[1]: _donor("lp_d11.mp4", 5)}
    for person, donor in donors.items():
        run = stand_in_run(document.project, person, donor, vision)
        assert document.push(RecordGeneration(run, events=document.events))
    done, report = _export(qtbot, window, tmp_path / "warp.mp4")
    assert done.generated == () and done.verdict == "PASS"
    for person in people:
        assert report[person]["motion"] == WARP_NAME and report[person]["synthetic_frames"] > 0

    # 4. LivePortrait's weights installed: it animates, still without generating anything.
    install_tiny_liveportrait(models_dir)
    monkeypatch.setattr(liveportrait_loading, "official_config", lambda: TINY_CONFIG)
    done, report = _export(qtbot, window, tmp_path / "liveportrait.mp4")
    assert done.generated == () and loads == ["cpu (fp32)"]
    for person in people:
        assert report[person]["motion"] == "LivePortrait"
        assert report[person]["synthetic_frames"] > 0

    # Undoing the two stand-ins and the export's step takes every face away again.
    for _ in range(3):
        document.undo_stack.undo()
    assert document.undo_stack.index() == steps
    assert all(document.project.identity(p).attempts == [] for p in people)
    assert not document.project.images
