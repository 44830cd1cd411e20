"""What every undoable edit of a project looks like, and the error it raises."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.events import ProjectEvent, ProjectEvents
from anonnet_studio.project.schema import Identity, Project


class ProjectEditError(AnonNetError):
    """An edit cannot be applied: unknown identity or track, or a value out of range."""


@runtime_checkable
class Command(Protocol):
    """An undoable edit. `redo` applies it (also the first time), `undo` reverts it exactly.

    A command either succeeds or raises `ProjectEditError` before changing anything, so a
    failed `redo` leaves the project untouched. Values are checked when the command is built,
    which lets the editor reject bad input before handing the command to a QUndoStack.
    """

    text: str  # shown in the Undo/Redo menu, e.g. "Hide Person 2"

    def redo(self, project: Project) -> None: ...

    def undo(self, project: Project) -> None: ...


class EditCommand:
    """Shared plumbing: optional event publishing and no merging by default."""

    text: str = ""

    def __init__(self, events: ProjectEvents | None = None) -> None:
        self._events = events

    def merge_with(self, other: Command) -> bool:
        """Absorb `other` (already applied) into this command; True when it did.

        Used to turn a slider drag into a single undo step.
        """
        return False

    def _publish(self, event: ProjectEvent) -> None:
        if self._events is not None:
            self._events.publish(event)


def find_identity(project: Project, identity_id: str) -> Identity:
    """The identity, or ProjectEditError naming the missing id."""
    try:
        return project.identity(identity_id)
    except KeyError:
        raise ProjectEditError(f"There is no person with id {identity_id!r}.") from None
