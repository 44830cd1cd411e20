"""`ProjectDocument`: the open project, its undo stack, file path and change signals.

Every user edit arrives here as a project command; the document applies it, pushes it on
the QUndoStack and re-emits the command's `ProjectEvents` as Qt signals for the views.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.commands import (
    Command,
    MergeIdentities,
    RenameIdentity,
    SetAttributeOverride,
    SetIdentityField,
    SetPromptOverride,
    SplitTrack,
)
from anonnet_studio.project.events import (
    IdentitiesChanged,
    IdentityChanged,
    ProjectEvent,
    ProjectEvents,
    RegionsChanged,
    ReviewChanged,
    TracksChanged,
    VoiceChanged,
)
from anonnet_studio.project.io import save_project
from anonnet_studio.project.schema import Project
from anonnet_studio.ui.undo import ProjectUndoCommand

C = TypeVar("C", bound=Command)

# Edits that change what the export (and so the anonymized preview) looks like.
RENDER_FIELDS = frozenset(
    {"hidden", "method", "needs_attention", "generation.mask_margin", "track_ids", "embedding"}
)


class ProjectDocument(QObject):
    project_replaced = Signal()  # a project was opened, analysed or closed
    identity_changed = Signal(str, object)  # identity id, frozenset of changed fields
    identities_changed = Signal()  # people added, removed, reordered or tracks moved
    render_changed = Signal()  # anything that changes the anonymized picture
    modified_changed = Signal(bool)
    path_changed = Signal(object)  # Path | None
    leak_frames_changed = Signal()
    edit_rejected = Signal(str)  # a readable reason
    tracks_changed = Signal(object)  # frozenset of track ids added, removed or corrected
    regions_changed = Signal()  # regions that are not faces
    review_changed = Signal()  # review items marked (not) reviewed
    voice_changed = Signal()  # voice disguise, mute or bleep ranges

    def __init__(self, rng: random.Random | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.events = ProjectEvents()
        self.events.subscribe(self._on_project_event)
        self._rng = rng or random.Random()
        self._project: Project | None = None
        self._path: Path | None = None
        self._revision = 0
        self._render_revision = 0
        self._modified_outside_undo = False
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    # -- state ----------------------------------------------------------------------------

    @property
    def project(self) -> Project | None:
        return self._project

    @property
    def path(self) -> Path | None:
        """The project file, or None for a fresh analysis that was never saved."""
        return self._path

    @property
    def revision(self) -> int:
        """Increases with every change; autosave compares it."""
        return self._revision

    @property
    def render_revision(self) -> int:
        """Increases when the anonymized picture may change; preview caches key on it."""
        return self._render_revision

    def is_modified(self) -> bool:
        return self._project is not None and (
            not self.undo_stack.isClean() or self._modified_outside_undo
        )

    def display_name(self) -> str:
        if self._path is not None:
            return self._path.name
        if self._project is not None:
            return Path(self._project.source.path).stem + " (unsaved)"
        return "No project"

    # -- whole-document operations -------------------------------------------------------------

    def set_project(
        self, project: Project | None, path: Path | None = None, *, modified: bool = False
    ) -> None:
        """Replace the open project (None closes it); the undo history starts afresh."""
        self.undo_stack.clear()
        self._project = project
        self._path = Path(path) if path is not None else None
        self._modified_outside_undo = modified and project is not None
        self._bump(render=True)
        self.project_replaced.emit()
        self.path_changed.emit(self._path)
        self._emit_modified()

    def save(self, path: Path) -> None:
        """Write the project to `path` atomically and make it the document's file."""
        if self._project is None:
            raise AnonNetError("There is no project to save.")
        save_project(self._project, path)
        self._modified_outside_undo = False
        self.undo_stack.setClean()
        if self._path != Path(path):
            self._path = Path(path)
            self.path_changed.emit(self._path)
        self._emit_modified()

    def mark_modified_outside_undo(self) -> None:
        """For results recorded without an undo step (e.g. leak frames of an export)."""
        self._modified_outside_undo = True
        self._bump(render=False)
        self._emit_modified()

    def set_thumbnail(self, identity_id: str, thumbnail: np.ndarray) -> None:
        """A picture made for a person who had none (derived from the video, so no undo
        step: the split that made the person undoes as before)."""
        project = self._project
        if project is None or not project.has_identity(identity_id):
            return
        project.identity(identity_id).thumbnail = np.ascontiguousarray(thumbnail, np.uint8)
        self.mark_modified_outside_undo()
        self.identity_changed.emit(identity_id, frozenset({"thumbnail"}))

    def set_leak_frames(self, frames: list[int]) -> None:
        if self._project is None:
            return
        self._project.leak_frames = sorted(set(int(f) for f in frames))
        self.mark_modified_outside_undo()
        self.leak_frames_changed.emit()

    # -- edits ----------------------------------------------------------------------------

    def push(self, command: Command) -> bool:
        """Apply `command` and record it for undo. A rejected edit changes nothing and is
        reported through `edit_rejected`; returns whether it was applied."""
        if self._project is None:
            return False
        try:
            command.redo(self._project)
        except AnonNetError as exc:
            self.edit_rejected.emit(exc.user_message())
            return False
        self.undo_stack.push(ProjectUndoCommand(command, self._project, applied=True))
        return True

    def seal_merging(self) -> None:
        """Close the current coalescing run (a slider was released, a spin box lost focus)."""
        index = self.undo_stack.index()
        if index > 0:
            top = self.undo_stack.command(index - 1)
            if isinstance(top, ProjectUndoCommand):
                top.seal()

    def set_field(self, identity_id: str, field: str, value: object) -> bool:
        return self._build_and_push(
            lambda: SetIdentityField(identity_id, field, value, events=self.events)
        )

    def set_attribute_override(self, identity_id: str, attribute: str, value: str | None) -> bool:
        return self._build_and_push(
            lambda: SetAttributeOverride(identity_id, attribute, value, events=self.events)
        )

    def set_prompt_override(self, identity_id: str, text: str | None) -> bool:
        return self._build_and_push(
            lambda: SetPromptOverride(identity_id, text, events=self.events)
        )

    def rename(self, identity_id: str, name: str) -> bool:
        return self._build_and_push(lambda: RenameIdentity(identity_id, name, events=self.events))

    def merge(self, target_id: str, source_id: str) -> bool:
        return self._build_and_push(
            lambda: MergeIdentities(target_id, source_id, events=self.events)
        )

    def split_track(self, track_id: int) -> str | None:
        """Split a track into a new person; returns the new person's id."""
        command = SplitTrack(track_id, rng=self._rng, events=self.events)
        return command.new_identity_id if self.push(command) else None

    def push_built(self, build: Callable[[], C]) -> C | None:
        """Build a command (which checks its values) and push it; the command when it was
        applied, None when it was rejected (the reason goes to `edit_rejected`)."""
        try:
            command = build()
        except AnonNetError as exc:  # commands validate their values when built
            self.edit_rejected.emit(exc.user_message())
            return None
        return command if self.push(command) else None

    def _build_and_push(self, build: Callable[[], Command]) -> bool:
        return self.push_built(build) is not None

    # -- events ---------------------------------------------------------------------------

    def _on_project_event(self, event: ProjectEvent) -> None:
        if isinstance(event, IdentityChanged):
            self._bump(render=bool(event.fields & RENDER_FIELDS))
            self.identity_changed.emit(event.identity_id, event.fields)
        elif isinstance(event, IdentitiesChanged):
            self._bump(render=True)
            self.identities_changed.emit()
        elif isinstance(event, TracksChanged):
            self._bump(render=True)
            self.tracks_changed.emit(event.track_ids)
        elif isinstance(event, RegionsChanged):
            self._bump(render=True)
            self.regions_changed.emit()
        elif isinstance(event, ReviewChanged):
            self._bump(render=False)
            self.review_changed.emit()
        elif isinstance(event, VoiceChanged):
            self._bump(render=False)  # the picture is the same; only the audio changes
            self.voice_changed.emit()

    def _bump(self, *, render: bool) -> None:
        self._revision += 1
        if render:
            self._render_revision += 1
            self.render_changed.emit()

    def _on_clean_changed(self, clean: bool) -> None:
        # Uses the argument rather than the stack: this also runs while the stack is
        # being destroyed together with the document.
        self.modified_changed.emit(
            self._project is not None and (not clean or self._modified_outside_undo)
        )

    def _emit_modified(self) -> None:
        self.modified_changed.emit(self.is_modified())
