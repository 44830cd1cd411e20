"""The whole editor on a real clip: analyse, inspect the timeline, edit, undo, export.

Real embedded face models, real footage, the real worker thread; nothing is mocked.
"""

from __future__ import annotations

import pytest

from anonnet_studio.core.media.probe import probe
from anonnet_studio.ui.timeline.items import ShotItem, SpanItem
from anonnet_studio.workers.requests import ComputeConfig
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker
from tests.conftest import fixture_video
from tests.ui.conftest import make_window

ANALYSIS_TIMEOUT_MS = 240_000


@pytest.fixture
def analysing_worker(qtbot, tmp_path):
    worker = ComputeWorker(ComputeServices(ComputeConfig(models_dir=tmp_path / "m", offline=True)))
    worker.start()
    yield worker
    assert worker.shutdown(30_000)


def test_open_analyse_edit_undo_export(qtbot, analysing_worker, store, tmp_path):
    opened_folders = []
    window = make_window(
        qtbot, analysing_worker, store, tmp_path / "rec", folder_opener=opened_folders.append
    )
    window.resize(1280, 800)
    window.show()

    # 1. Open a fixture clip: the analysis job runs on the worker and completes.
    clip = fixture_video("lp_d18.mp4")
    with qtbot.waitSignal(window.files.document_loaded, timeout=ANALYSIS_TIMEOUT_MS):
        job = window.files.open_path(clip)
        assert job is not None and job.kind == "analysis"
    assert window.messenger.errors == []
    project = window.document.project
    assert project is not None and window.document.is_modified()

    # 2. The timeline shows the one shot (the clip has no cut) and the one person.
    scene = window.timeline.view.timeline
    shots = [i for i in scene.items() if isinstance(i, ShotItem)]
    assert len(shots) == len(project.shots) == 1
    assert (shots[0].rect().left(), shots[0].rect().right()) == (0, 216)
    people = [lane.identity_id for lane in scene.lanes if lane.kind != "audio"]
    assert people == [i.id for i in project.identities]
    assert len(project.identities) == 1
    spans = [i for i in scene.items() if isinstance(i, SpanItem)]
    assert {s.track_id for s in spans} == set(project.tracks)
    covered = sum(s.rect().width() for s in spans)
    assert covered >= 0.9 * 216, "the man is on screen almost the whole clip"

    # 3. An attribute override updates the prompt.
    person = project.identities[0]
    window.state.select_identity(person.id)
    editor = window.identities.editor
    prompt_before = editor.generation.prompt.toPlainText()
    assert prompt_before.startswith("A photorealistic portrait of a")
    combo = editor.attributes.overrides["age_group"]
    combo.setCurrentIndex(combo.findData("elderly"))
    combo.activated.emit(combo.currentIndex())
    assert "elderly" in editor.generation.prompt.toPlainText()

    # 4. Undo restores the prompt.
    window.actions_.undo.trigger()
    assert editor.generation.prompt.toPlainText() == prompt_before
    assert person.attributes.age_group.override is None

    # 5. Export writes a file (with the leak check, on the worker).
    dialog = window.show_export_dialog()
    output = tmp_path / "out" / "d18_anonymized.mp4"
    output.parent.mkdir()
    dialog.output.setText(str(output))
    with qtbot.waitSignal(dialog.export_finished, timeout=ANALYSIS_TIMEOUT_MS):
        dialog.export_button.click()
    assert output.is_file() and probe(output).video.frame_count == 216
    assert probe(output).has_audio, "the original audio is kept"
    assert dialog.outcome is not None and dialog.outcome.verdict in ("PASS", "FAIL")
    assert opened_folders == [output.parent]
    assert window.messenger.errors == []
