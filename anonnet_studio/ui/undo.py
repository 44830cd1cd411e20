"""QUndoCommand wrapper around the Qt-free project commands."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.commands import Command

if TYPE_CHECKING:
    from anonnet_studio.project.schema import Project

_log = logging.getLogger(__name__)

# QUndoStack only offers a merge when both commands report the same id.
_MERGE_ID = 0x414E


class ProjectUndoCommand(QUndoCommand):
    """Runs one project command on the document's project.

    The document applies the command *before* pushing it (so a rejected edit never enters
    the stack), hence the first `redo()` that QUndoStack.push makes is skipped.
    """

    def __init__(self, command: Command, project: Project, *, applied: bool) -> None:
        super().__init__(command.text)
        self.command = command
        self._project = project
        self._skip_next_redo = applied
        self._sealed = False

    def redo(self) -> None:
        if self._skip_next_redo:
            self._skip_next_redo = False
            return
        self._run(self.command.redo)

    def undo(self) -> None:
        self._run(self.command.undo)

    def id(self) -> int:
        return -1 if self._sealed or not hasattr(self.command, "merge_with") else _MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ProjectUndoCommand) or other._project is not self._project:
            return False
        merge_with = getattr(self.command, "merge_with", None)
        if merge_with is None or not merge_with(other.command):
            return False
        self.setText(self.command.text)
        return True

    def seal(self) -> None:
        """End coalescing: the next edit becomes its own undo step (slider released)."""
        self._sealed = True

    def _run(self, step: object) -> None:
        try:
            step(self._project)  # type: ignore[operator]
        except AnonNetError:
            # Commands validate before changing anything, so this means the document was
            # changed behind the stack's back; log rather than crash inside Qt's call.
            _log.exception("undo step %r failed", self.text())
