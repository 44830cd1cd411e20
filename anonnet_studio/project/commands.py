"""Undoable edits of a project, in plain Python.

The editor wraps each command in a QUndoCommand (calling `redo`/`undo`/`merge_with` and
showing `text`); the CLI and tests use `CommandStack`. Pass the editor's `ProjectEvents` to
each command so that views refresh after every redo and undo.
"""

from anonnet_studio.project.command_base import (
    Command,
    EditCommand,
    ProjectEditError,
)
from anonnet_studio.project.command_stack import CommandStack
from anonnet_studio.project.field_commands import (
    EDITABLE_FIELDS,
    MERGEABLE_FIELDS,
    RenameIdentity,
    SetAttributeOverride,
    SetIdentityField,
    SetPromptOverride,
    coerce_identity_field,
)
from anonnet_studio.project.identity_commands import MergeIdentities, SplitTrack

__all__ = [
    "EDITABLE_FIELDS",
    "MERGEABLE_FIELDS",
    "Command",
    "CommandStack",
    "EditCommand",
    "MergeIdentities",
    "ProjectEditError",
    "RenameIdentity",
    "SetAttributeOverride",
    "SetIdentityField",
    "SetPromptOverride",
    "SplitTrack",
    "coerce_identity_field",
]
