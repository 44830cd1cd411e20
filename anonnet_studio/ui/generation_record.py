"""`RecordGeneration`: an undoable command that stores a generation run in the project.

Qt-free like the commands in `project.commands` (it could move there); it lives here
because only the editor produces generation runs today.
"""

from __future__ import annotations

from anonnet_studio.project.command_base import EditCommand, find_identity
from anonnet_studio.project.events import IdentityChanged, ProjectEvents
from anonnet_studio.project.schema import Project
from anonnet_studio.project.settings import SYNTHETIC_FACES_KEY
from anonnet_studio.workers.results import GenerationDone

_FIELDS = frozenset({"attempts", "selected_attempt", "needs_attention"})


class RecordGeneration(EditCommand):
    """Append the run's attempts and candidate images to the person and select the chosen
    attempt; undo removes exactly what was added."""

    def __init__(self, done: GenerationDone, *, events: ProjectEvents | None = None) -> None:
        super().__init__(events)
        self.done = done
        self.text = f"Generate a face for {done.identity_id}"
        self._first_new = 0
        self._old_selected: int | None = None
        self._old_needs_attention = False

    def redo(self, project: Project) -> None:
        identity = find_identity(project, self.done.identity_id)
        self._first_new = len(identity.attempts)
        self._old_selected = identity.selected_attempt
        self._old_needs_attention = identity.needs_attention
        identity.attempts.extend(self.done.attempts)
        project.images.update(self.done.images)
        faces = project.analysis.setdefault(SYNTHETIC_FACES_KEY, {})
        faces.update(self.done.face_metadata)
        identity.selected_attempt = self._first_new + self.done.chosen_index
        identity.needs_attention = self.done.needs_attention
        self._publish(IdentityChanged(identity.id, _FIELDS))

    def undo(self, project: Project) -> None:
        identity = find_identity(project, self.done.identity_id)
        del identity.attempts[self._first_new :]
        for key in self.done.images:
            project.images.pop(key, None)
        for key in self.done.face_metadata:
            project.analysis.get(SYNTHETIC_FACES_KEY, {}).pop(key, None)
        identity.selected_attempt = self._old_selected
        identity.needs_attention = self._old_needs_attention
        self._publish(IdentityChanged(identity.id, _FIELDS))
