"""FAMS per person in the editor, on the real worker: the worker's model check decides
which backends the identity panel offers, and Regenerate with FAMS chosen runs the real
FAMS generator (tiny random-weight models in the real on-disk layouts, resolved by the
real model manager) through the shared anonymity-check loop, as one undo step."""

from __future__ import annotations

import pytest

from anonnet_studio.core.synthetic.fams.loading import FAMS_MODELS
from anonnet_studio.core.synthetic.fams.settings import DEFAULT_DEGREE, FamsSettings
from anonnet_studio.core.synthetic.settings import GenerationSettings
from tests.core.synthetic.fams.tiny_fams import FACE_SIZE, build_tiny_fams
from tests.ui.conftest import make_window, worker_with_models
from tests.ui.fixture_projects import fixture_project

TIMEOUT_MS = 300_000
ATTEMPTS = 1 + GenerationSettings().escalation.max_retries


@pytest.fixture
def fams_worker(qtbot, tmp_path):
    """A worker whose model manager has only the tiny FAMS models (AnonNET's are missing)."""
    yield from worker_with_models(build_tiny_fams(tmp_path / "tiny-fams"), tmp_path / "manager")


def _lane(window, identity_id: str):
    return next(x for x in window.timeline.view.timeline.lanes if x.identity_id == identity_id)


def _checked(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.generation.backend_status().checking, timeout=TIMEOUT_MS)


def test_without_fams_weights_the_panel_offers_fams_disabled_with_the_command(qtbot, window):
    _checked(qtbot, window)  # the worker's model folder is empty
    window.document.set_project(fixture_project())
    window.state.select_identity("P1")
    row = window.identities.editor.generation.backend
    fams = row.combo.findData("fams")
    assert not row.is_offered(fams)
    assert f"anonnet-studio models download {' '.join(FAMS_MODELS)}" in row.reason(fams)


@pytest.mark.slow
def test_regenerate_with_fams_records_backend_and_degree(qtbot, fams_worker, store, tmp_path):
    window = make_window(qtbot, fams_worker, store, tmp_path / "rec")
    _checked(qtbot, window)
    document = window.document
    document.set_project(fixture_project())
    person = document.project.identity("P2")
    document.set_field(person.id, "method", "synthetic")
    window.state.select_identity(person.id)
    box = window.identities.editor.generation
    combo = box.backend.combo
    # Only FAMS is installed: AnonNET (and the default, which is AnonNET) are not offered,
    # and Regenerate waits until FAMS is chosen.
    assert not box.backend.is_offered(combo.findData(None))
    assert not box.backend.is_offered(combo.findData("anonnet"))
    assert box.backend.is_offered(combo.findData("fams"))
    assert not box.regenerate.isEnabled()
    assert _lane(window, person.id).models_missing  # shown blurred: AnonNET is missing
    combo.setCurrentIndex(combo.findData("fams"))
    combo.activated.emit(combo.currentIndex())
    assert person.generation.backend == "fams" and box.regenerate.isEnabled()
    assert not _lane(window, person.id).models_missing  # FAMS can run for her
    # FAMS runs steps * 25/35 at the tiny models' face size: the test is the plumbing.
    document.set_field(person.id, "generation.steps", 3)
    document.set_field(person.id, "generation.max_side", FACE_SIZE)
    steps_done = document.undo_stack.count()

    finished: list[str] = []
    window.generation.generation_finished.connect(finished.append)
    box.regenerate.click()
    qtbot.waitUntil(lambda: bool(finished or window.messenger.errors), timeout=TIMEOUT_MS)
    assert window.messenger.errors == []
    # Random weights paint no face: every retry ran, each further away (d + 0.1).
    assert len(person.attempts) == ATTEMPTS
    assert [a.backend for a in person.attempts] == ["fams"] * ATTEMPTS
    step = FamsSettings().degree_step
    assert [a.degree for a in person.attempts] == pytest.approx(
        [DEFAULT_DEGREE + n * step for n in range(ATTEMPTS)]
    )
    assert len({a.seed for a in person.attempts}) == ATTEMPTS
    chosen = person.attempts[person.selected_attempt]
    assert chosen.image_key in document.project.images
    # The candidate strip shows the run's kept candidate, as it does AnonNET's.
    assert box.candidates.attempt_indices() == [person.selected_attempt]
    assert "Attempt" in box.result_label.text()
    assert document.undo_stack.count() == steps_done + 1

    document.undo_stack.undo()
    assert person.attempts == [] and box.candidates.attempt_indices() == []
    assert person.generation.backend == "fams"  # undo took the generation only
