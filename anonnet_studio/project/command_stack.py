"""A plain undo stack for the CLI and tests (the editor uses QUndoStack instead)."""

from __future__ import annotations

from anonnet_studio.project.command_base import Command, ProjectEditError
from anonnet_studio.project.schema import Project


class CommandStack:
    """Applies commands to one project and remembers them for undo and redo.

    The clean state marks the position that matches the file on disk (`set_clean()` after
    saving); it is lost for good when the commands after it are discarded.
    """

    def __init__(self, project: Project, *, limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        self.project = project
        self._limit = limit
        self._commands: list[Command] = []
        self._index = 0  # commands[:index] are applied
        self._clean_index: int | None = 0

    def push(self, command: Command) -> None:
        """Apply `command` and make it the newest undo step (merging with the previous one
        when both agree, except across the clean state)."""
        command.redo(self.project)  # raises before anything changed; the stack stays as is
        del self._commands[self._index :]
        if self._clean_index is not None and self._clean_index > self._index:
            self._clean_index = None
        if self._index > 0 and self._clean_index != self._index and self._merge(command):
            return
        self._commands.append(command)
        self._index += 1
        self._enforce_limit()

    def undo(self) -> None:
        if not self.can_undo():
            raise ProjectEditError("There is nothing to undo.")
        self._commands[self._index - 1].undo(self.project)
        self._index -= 1

    def redo(self) -> None:
        if not self.can_redo():
            raise ProjectEditError("There is nothing to redo.")
        self._commands[self._index].redo(self.project)
        self._index += 1

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    def undo_text(self) -> str | None:
        return self._commands[self._index - 1].text if self.can_undo() else None

    def redo_text(self) -> str | None:
        return self._commands[self._index].text if self.can_redo() else None

    def is_clean(self) -> bool:
        return self._clean_index == self._index

    def set_clean(self) -> None:
        self._clean_index = self._index

    @property
    def index(self) -> int:
        """How many commands are currently applied."""
        return self._index

    def __len__(self) -> int:
        return len(self._commands)

    def _merge(self, command: Command) -> bool:
        merge_with = getattr(self._commands[self._index - 1], "merge_with", None)
        return bool(merge_with is not None and merge_with(command))

    def _enforce_limit(self) -> None:
        if self._limit is None or len(self._commands) <= self._limit:
            return
        dropped = len(self._commands) - self._limit
        del self._commands[:dropped]
        self._index -= dropped
        if self._clean_index is not None:
            self._clean_index -= dropped
            if self._clean_index < 0:
                self._clean_index = None
