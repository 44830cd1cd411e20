"""Candidate history and "generate for everyone": the strip lists each attempt that kept an
image, choosing one is one undo step, and generating for everyone queues one job per
anonymized synthetic person."""

from __future__ import annotations

import random

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtTest import QTest

from anonnet_studio.project.schema import Method, Project
from anonnet_studio.project.settings import GenerationAttempt
from anonnet_studio.ui.dialogs.messages import RecordingMessenger
from anonnet_studio.ui.generation import GenerationController
from anonnet_studio.ui.identity.panel import IdentityPanel
from anonnet_studio.workers.requests import GenerationRequest, JobKind, JobRequest
from anonnet_studio.workers.results import JobInfo, ModelStatus


def _attempt(seed: int, passed: bool, image_key: str | None) -> GenerationAttempt:
    return GenerationAttempt(
        seed=seed,
        strength=0.9,
        steps=20,
        guidance=7.0,
        distance=0.9 if passed else 0.2,
        threshold=0.62,
        face_found=True,
        passed=passed,
        image_key=image_key,
        created_at="2026-01-02T03:04:05+00:00",
    )


def _add_history(project: Project) -> None:
    """P1 gets a second run: a failed attempt without image, then a failed chosen one."""
    person = project.identity("P1")
    project.images["P1-attempt-2"] = np.full((64, 48, 3), 120, dtype=np.uint8)
    person.attempts += [_attempt(7, False, None), _attempt(8, False, "P1-attempt-2")]


class StubWorker(QObject):
    """Records the requests; answers the model check as if every model were installed."""

    job_finished = Signal(object, object)
    job_failed = Signal(object, str)
    job_cancelled = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[JobRequest] = []

    def submit(self, request: JobRequest) -> JobInfo:
        self.requests.append(request)
        kind = (
            JobKind.GENERATION if isinstance(request, GenerationRequest) else JobKind.MODEL_STATUS
        )
        return JobInfo(len(self.requests), kind, "test job")


def _panel(qtbot, document, state) -> IdentityPanel:
    panel = IdentityPanel(document, state, random.Random(11))
    qtbot.addWidget(panel)
    panel.resize(460, 900)
    panel.show()
    state.select_identity("P1")
    return panel


def test_strip_shows_one_thumbnail_per_attempt_with_an_image(qtbot, document, state):
    _add_history(document.project)
    panel = _panel(qtbot, document, state)
    strip = panel.editor.generation.candidates
    assert strip.attempt_indices() == [0, 2]  # attempt 1 kept no image
    assert strip.currentItem().data(Qt.ItemDataRole.UserRole + 1) == 0  # the selected one
    assert "seed" in strip.item(0).toolTip() and "0.41" in strip.item(0).toolTip()
    assert "FAILED" in strip.item(1).toolTip() and "FAILED" not in strip.item(0).toolTip()
    state.select_identity("P2")  # no attempts: nothing to choose from
    assert strip.count() == 0 and strip.isHidden()


def test_choosing_a_candidate_is_one_undo_step(qtbot, window):
    window.document.set_project(_demo_with_history())
    project = window.document.project
    person = project.identity("P1")
    window.state.select_identity("P1")
    strip = window.identities.editor.generation.candidates
    steps = window.document.undo_stack.count()

    item = strip.item_for_attempt(2)
    assert item is not None
    QTest.mouseClick(
        strip.viewport(), Qt.MouseButton.LeftButton, pos=strip.visualItemRect(item).center()
    )
    assert person.selected_attempt == 2
    assert person.needs_attention  # a face that failed the check is blurred in exports
    assert strip.currentItem().data(Qt.ItemDataRole.UserRole + 1) == 2
    assert "Attempt 3 of 3" in window.identities.editor.generation.result_label.text()
    assert window.document.undo_stack.count() == steps + 1

    window.document.undo_stack.undo()
    assert person.selected_attempt == 0 and not person.needs_attention
    assert strip.currentItem().data(Qt.ItemDataRole.UserRole + 1) == 0

    window.document.undo_stack.redo()
    window.identities.editor.generation.candidate_chosen.emit("P1", 0)  # back to the passed one
    assert person.selected_attempt == 0 and not person.needs_attention
    assert window.document.undo_stack.count() == steps + 2


def _demo_with_history() -> Project:
    from tests.project.factories import make_demo_project

    project = make_demo_project()
    _add_history(project)
    return project


def test_generate_all_queues_one_request_per_synthetic_hidden_person(qtbot, document):
    worker = StubWorker()
    messenger = RecordingMessenger()
    controller = GenerationController(document, worker, messenger)  # type: ignore[arg-type]
    controller.refresh_availability()
    status_job = JobInfo(len(worker.requests), JobKind.MODEL_STATUS, "models")
    worker.job_finished.emit(status_job, ModelStatus(()))
    assert controller.availability()[0]

    document.set_field("P3", "method", Method.SYNTHETIC.value)
    document.set_field("P3", "hidden", True)
    document.set_field("P2", "method", Method.SYNTHETIC.value)
    document.set_field("P2", "hidden", False)  # shown people keep their own face
    expected = [
        i.id for i in document.project.identities if i.hidden and i.method is Method.SYNTHETIC
    ]
    assert "P3" in expected and "P2" not in expected

    jobs = controller.generate_all()
    requests = [r for r in worker.requests if isinstance(r, GenerationRequest)]
    assert [r.job.identity_id for r in requests] == expected
    assert len(jobs) == len(expected)
    assert messenger.errors == []


def test_generate_all_runs_each_person_with_their_own_backend(qtbot, document):
    """FAMS's weights missing: people who chose FAMS are named with the download command,
    the others (AnonNET, installed) still run."""
    worker = StubWorker()
    messenger = RecordingMessenger()
    controller = GenerationController(document, worker, messenger)  # type: ignore[arg-type]
    controller.refresh_availability()
    status_job = JobInfo(len(worker.requests), JobKind.MODEL_STATUS, "models")
    missing = (("anonnet", ()), ("fams", ("face-anon-simple",)))
    worker.job_finished.emit(status_job, ModelStatus((), missing))
    assert controller.unavailable_backends() == {"fams"}
    for person in ("P1", "P3"):
        document.set_field(person, "method", Method.SYNTHETIC.value)
        document.set_field(person, "hidden", True)
    document.set_field("P3", "generation.backend", "fams")

    jobs = controller.generate_all()
    requests = [r for r in worker.requests if isinstance(r, GenerationRequest)]
    assert [r.job.identity_id for r in requests] == ["P1"] and len(jobs) == 1
    assert len(messenger.errors) == 1
    assert "Person 3" in messenger.errors[0][1]
    assert "anonnet-studio models download face-anon-simple" in messenger.errors[0][1]
    assert controller.regenerate("P3") is None  # Regenerate follows her backend too


def test_generate_all_is_disabled_and_explains_when_models_are_missing(qtbot, window):
    action = window.actions_.generate_all
    # the worker's model folder is empty, so its model check reports what is missing
    qtbot.waitUntil(lambda: "not installed" in action.toolTip(), timeout=20_000)
    assert not action.isEnabled()
    assert not window.identities.editor.generation.regenerate.isEnabled()
    window.document.set_project(_demo_with_history())
    assert not action.isEnabled()  # opening a project does not enable it without models
    assert window.generation.generate_all() == []
    assert window.messenger.errors and "not available" in window.messenger.errors[0][0]
