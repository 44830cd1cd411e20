"""Regenerate from the editor: the real generator (tiny random-weight diffusion models in
the real on-disk layout, resolved by the real model manager) runs on the worker on a real
frame, its anonymity check uses the real embedded face models, and the result becomes
one undoable step."""

from __future__ import annotations

import pytest

from anonnet_studio.core.synthetic.settings import GenerationSettings
from anonnet_studio.core.synthetic.verify import ANONYMITY_MARGIN
from anonnet_studio.core.vision.embedder import DlibEmbedder
from tests.core.synthetic.tiny_models import build_tiny_models
from tests.ui.conftest import make_window, worker_with_models
from tests.ui.fixture_projects import fixture_project

TIMEOUT_MS = 300_000


@pytest.fixture
def tiny_worker(qtbot, tmp_path):
    yield from worker_with_models(build_tiny_models(tmp_path / "tiny"), tmp_path / "manager")


@pytest.mark.slow
def test_regenerate_records_the_attempts_as_one_undo_step(qtbot, tiny_worker, store, tmp_path):
    window = make_window(qtbot, tiny_worker, store, tmp_path / "rec")
    with qtbot.waitSignal(window.generation.availability_changed, timeout=TIMEOUT_MS) as status:
        pass
    assert status.args[0] is True, status.args[1]

    window.document.set_project(fixture_project())  # demo tracks on the real clip
    document = window.document
    person = document.project.identity("P2")  # no attempts yet
    window.state.select_identity(person.id)
    # tiny models on a small crop with few steps: the test is about the plumbing
    document.set_field(person.id, "generation.steps", 2)
    document.set_field(person.id, "generation.max_side", 256)
    steps_done = document.undo_stack.count()
    button = window.identities.editor.generation.regenerate
    assert button.isEnabled()

    finished = []
    window.generation.generation_finished.connect(finished.append)
    button.click()
    qtbot.waitUntil(lambda: bool(finished or window.messenger.errors), timeout=TIMEOUT_MS)
    assert window.messenger.errors == []
    assert person.attempts and person.selected_attempt is not None
    chosen = person.attempts[person.selected_attempt]
    assert chosen.image_key in document.project.images
    assert document.project.images[chosen.image_key].ndim == 3
    assert "Attempt" in window.identities.editor.generation.result_label.text()
    # Random tiny weights paint no face, so the anonymity check cannot pass: every retry
    # ran, the person is flagged (and blurred in exports) and the user is told why.
    assert len(person.attempts) == 1 + GenerationSettings().escalation.max_retries
    assert not any(a.passed or a.face_found for a in person.attempts)
    assert person.needs_attention
    assert window.messenger.infos and "recognisable" in window.messenger.infos[0][0]
    # The check embeds with dlib, not the SFace embedder of the project's leak check, and
    # demands the margin above dlib's threshold.
    expected = DlibEmbedder.threshold * (1 + ANONYMITY_MARGIN)
    assert all(a.threshold == pytest.approx(expected) for a in person.attempts)
    assert chosen.placement is not None and chosen.placement.frame_index >= 0
    assert document.undo_stack.count() == steps_done + 1

    document.undo_stack.undo()
    assert person.attempts == [] and person.selected_attempt is None
    assert chosen.image_key not in document.project.images
