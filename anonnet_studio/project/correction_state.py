"""Undo for hand corrections: each command swaps between a before and an after snapshot.

Correction commands never change a `Track` or `RedactionRegion` in place; they put new
objects into the project. A snapshot therefore only needs the containers (the tracks dict,
the identity, region and removed-face lists) and each identity's membership fields, which
makes undo and redo exact and cheap however large the tracks are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anonnet_studio.project.command_base import EditCommand
from anonnet_studio.project.events import ProjectEvent, ProjectEvents
from anonnet_studio.project.schema import Identity, Project, RedactionRegion, RemovedFace, Track


@dataclass(frozen=True, slots=True, eq=False)
class CorrectionSnapshot:
    tracks: dict[int, Track]
    identities: list[Identity]
    # identity id -> track_ids, embedding, thumbnail (what corrections change of a person)
    membership: dict[str, tuple[list[int], np.ndarray, np.ndarray | None]]
    last_identity_number: int
    removed_faces: list[RemovedFace]
    regions: list[RedactionRegion]
    reviewed: list[str]

    @classmethod
    def capture(cls, project: Project) -> CorrectionSnapshot:
        return cls(
            tracks=dict(project.tracks),
            identities=list(project.identities),
            membership={
                i.id: (list(i.track_ids), i.embedding, i.thumbnail) for i in project.identities
            },
            last_identity_number=project.last_identity_number,
            removed_faces=list(project.removed_faces),
            regions=list(project.regions),
            reviewed=list(project.reviewed),
        )

    def restore(self, project: Project) -> None:
        # Containers are refilled, not replaced: views may hold on to them.
        project.tracks.clear()
        project.tracks.update(self.tracks)
        project.identities[:] = self.identities
        for identity in self.identities:
            track_ids, embedding, thumbnail = self.membership[identity.id]
            identity.track_ids = list(track_ids)
            identity.embedding = embedding
            identity.thumbnail = thumbnail
        project.last_identity_number = self.last_identity_number
        project.removed_faces[:] = self.removed_faces
        project.regions[:] = self.regions
        project.reviewed[:] = self.reviewed


class SnapshotCommand(EditCommand):
    """Base of the correction commands: subclasses implement `_change`, which edits the
    project (raising ProjectEditError before touching anything when it cannot) and returns
    the events to publish; undo and any later redo restore the recorded snapshots."""

    def __init__(self, events: ProjectEvents | None) -> None:
        super().__init__(events)
        self._before: CorrectionSnapshot | None = None
        self._after: CorrectionSnapshot | None = None
        self._published: list[ProjectEvent] = []

    def redo(self, project: Project) -> None:
        if self._after is not None:
            self._after.restore(project)
        else:
            before = CorrectionSnapshot.capture(project)
            try:
                self._published = self._change(project)
            except Exception:
                before.restore(project)  # a failed edit leaves the project as it was
                raise
            self._before = before
            self._after = CorrectionSnapshot.capture(project)
        self._publish_all()

    def undo(self, project: Project) -> None:
        assert self._before is not None, "undo() before redo()"
        self._before.restore(project)
        self._publish_all()

    def _change(self, project: Project) -> list[ProjectEvent]:
        raise NotImplementedError

    def _publish_all(self) -> None:
        for event in self._published:
            self._publish(event)
