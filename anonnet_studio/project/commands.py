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
from anonnet_studio.project.region_commands import (
    AddRegion,
    ApplyRegionTracking,
    RemoveRegion,
    SetRegionBox,
    SetRegionField,
    SetRegionRange,
    SetReviewed,
)
from anonnet_studio.project.track_commands import (
    AddManualTrack,
    ApplyPropagation,
    AssignTrack,
    DeleteTrack,
    DeleteTrackFrames,
    SetTrackBox,
    SetTrackKept,
    TrimTrack,
)
from anonnet_studio.project.voice_commands import AddMuteRange, RemoveMuteRange, SetVoiceDisguise

__all__ = [
    "EDITABLE_FIELDS",
    "MERGEABLE_FIELDS",
    "AddManualTrack",
    "AddMuteRange",
    "AddRegion",
    "ApplyPropagation",
    "ApplyRegionTracking",
    "AssignTrack",
    "Command",
    "CommandStack",
    "DeleteTrack",
    "DeleteTrackFrames",
    "EditCommand",
    "MergeIdentities",
    "ProjectEditError",
    "RemoveMuteRange",
    "RemoveRegion",
    "RenameIdentity",
    "SetAttributeOverride",
    "SetIdentityField",
    "SetPromptOverride",
    "SetRegionBox",
    "SetRegionField",
    "SetRegionRange",
    "SetReviewed",
    "SetTrackBox",
    "SetTrackKept",
    "SetVoiceDisguise",
    "SplitTrack",
    "TrimTrack",
    "coerce_identity_field",
]
