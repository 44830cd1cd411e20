"""Regenerate synthetic faces on the worker (one person or everyone) and record the
results (undoable); choose which earlier candidate a person uses."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.schema import Method
from anonnet_studio.project.synthetic_faces import GeneratedFace, RecordGeneration, face_job
from anonnet_studio.ui.backend_status import DEFAULT_BACKEND, BackendStatus, resolve
from anonnet_studio.ui.dialogs.messages import Messenger
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.workers.requests import GenerationRequest, ModelStatusRequest
from anonnet_studio.workers.results import JobInfo, ModelStatus
from anonnet_studio.workers.worker import ComputeWorker

READY = "Generate a new synthetic face with these settings"


def _availability(status: BackendStatus, backend: str | None) -> tuple[bool, str]:
    reason = status.reason(backend)
    if reason is None:
        return True, READY
    return False, reason


class GenerationController(QObject):
    generation_finished = Signal(str)  # identity id
    # some backend can generate, reason (tooltip) when none can
    availability_changed = Signal(bool, str)
    backend_status_changed = Signal(object)  # BackendStatus

    def __init__(
        self,
        document: ProjectDocument,
        worker: ComputeWorker,
        messenger: Messenger,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._worker = worker
        self._messenger = messenger
        self._status = BackendStatus()  # checking until the worker answers
        self._status_job: int | None = None
        self._jobs: dict[int, str] = {}
        worker.job_finished.connect(self._on_finished)
        worker.job_failed.connect(lambda job, _m: self._jobs.pop(job.job_id, None))
        worker.job_cancelled.connect(lambda job: self._jobs.pop(job.job_id, None))

    def availability(self, backend: str | None = None) -> tuple[bool, str]:
        """(can generate, why not) with `backend`; None: with any backend, which is what
        "Generate for everyone" needs (each person runs their own; the default
        backend's reason is given when none can)."""
        if backend is None:
            if self._status.any_available():
                return True, READY
            backend = DEFAULT_BACKEND
        return _availability(self._status, backend)

    def backend_status(self) -> BackendStatus:
        return self._status

    def unavailable_backends(self) -> frozenset[str]:
        """The backends the worker found models missing for (none while it checks)."""
        return self._status.unavailable()

    def models_missing(self) -> bool:
        """The worker checked, and some backend's models are missing."""
        return bool(self.unavailable_backends())

    def refresh_availability(self) -> None:
        """Ask the worker which synthetic-stage models are installed (after start-up and
        whenever the model folder changes)."""
        self._publish(BackendStatus())
        self._status_job = self._worker.submit(ModelStatusRequest()).job_id

    def _publish(self, status: BackendStatus) -> None:
        self._status = status
        self.backend_status_changed.emit(status)
        self.availability_changed.emit(*self.availability())

    def regenerate(self, identity_id: str) -> JobInfo | None:
        project = self._document.project
        if project is None:
            return None
        if not project.has_identity(identity_id):
            return None
        backend = project.identity(identity_id).generation.backend
        available, reason = self.availability(resolve(backend))
        if not available:
            self._messenger.error("Synthetic faces are not available", reason)
            return None
        try:
            request = GenerationRequest(face_job(project, identity_id))
        except AnonNetError as exc:
            self._messenger.error("Cannot generate a face", exc.user_message())
            return None
        job = self._worker.submit(request)
        self._jobs[job.job_id] = identity_id
        return job

    def generate_all(self) -> list[JobInfo]:
        """Queue one generation per hidden person whose method is synthetic. People that
        cannot be generated (no frontal keyframe) are named in one message; the others
        still run."""
        project = self._document.project
        if project is None:
            return []
        available, reason = self.availability()
        if not available:
            self._messenger.error("Synthetic faces are not available", reason)
            return []
        jobs: list[JobInfo] = []
        problems: list[str] = []
        for identity in project.identities:
            if not identity.hidden or identity.method is not Method.SYNTHETIC:
                continue
            why_not = self._status.reason(identity.generation.backend)
            if why_not is not None:  # their backend's weights are missing: the others run
                problems.append(f"{identity.name}: {why_not}")
                continue
            try:
                request = GenerationRequest(face_job(project, identity.id))
            except AnonNetError as exc:
                problems.append(exc.user_message())
                continue
            job = self._worker.submit(request)
            self._jobs[job.job_id] = identity.id
            jobs.append(job)
        if problems:
            self._messenger.error("Some faces cannot be generated", "\n\n".join(problems))
        elif not jobs:
            self._messenger.info(
                "Nobody to generate",
                "No anonymized person uses the synthetic-face method.",
            )
        return jobs

    def choose_candidate(self, identity_id: str, index: int) -> bool:
        """Use an earlier attempt's face, as one undo step. A candidate that passed the
        anonymity check clears `needs_attention`; one that failed sets it, so a face that
        still looks like the person is never used in an export (it is blurred instead)."""
        project = self._document.project
        if project is None or not project.has_identity(identity_id):
            return False
        identity = project.identity(identity_id)
        if not 0 <= index < len(identity.attempts) or index == identity.selected_attempt:
            return False
        needs_attention = not identity.attempts[index].passed
        if identity.needs_attention == needs_attention:
            return self._document.set_field(identity_id, "selected_attempt", index)
        stack = self._document.undo_stack
        stack.beginMacro(f"Use attempt {index + 1} for {identity.name}")
        try:
            applied = self._document.set_field(identity_id, "selected_attempt", index)
            if applied:
                self._document.set_field(identity_id, "needs_attention", needs_attention)
        finally:
            stack.endMacro()
        return applied

    def _on_finished(self, job: JobInfo, result: object) -> None:
        if job.job_id == self._status_job and isinstance(result, ModelStatus):
            missing = dict(result.missing_by_backend) or {DEFAULT_BACKEND: result.missing_synthetic}
            self._publish(BackendStatus(missing, checking=False))
            return
        identity_id = self._jobs.pop(job.job_id, None)
        if identity_id is None or not isinstance(result, GeneratedFace):
            return
        project = self._document.project
        if project is None or not project.has_identity(identity_id):
            return  # the person was merged away or another project opened meanwhile
        self._document.push(RecordGeneration(result, events=self._document.events))
        self.generation_finished.emit(identity_id)
        if result.needs_attention:
            self._messenger.info(
                "Synthetic face not usable yet (still recognisable or no face)",
                f"No attempt for {project.identity(identity_id).name} passed the anonymity "
                "check (the result still looked like them, or showed no face); they are "
                "blurred in exports until a new face passes.\n"
                "Try another seed or a higher strength.",
            )
