"""Commands that change which tracks belong to which identity (merge, split)."""

from __future__ import annotations

import copy
import random

import numpy as np

from anonnet_studio.project.command_base import EditCommand, ProjectEditError, find_identity
from anonnet_studio.project.events import IdentitiesChanged, IdentityChanged, ProjectEvents
from anonnet_studio.project.schema import Identity, Project, Track

_MEMBERSHIP_FIELDS = frozenset({"track_ids", "embedding"})


class MergeIdentities(EditCommand):
    """Move every track of `source_id` into `target_id` and remove the source identity.

    The target keeps its own name and settings; its representative embedding becomes the
    normalised mean of all its tracks' embeddings. Undo puts the source identity back at its
    old position, unchanged.
    """

    def __init__(
        self, target_id: str, source_id: str, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        if target_id == source_id:
            raise ProjectEditError("A person cannot be merged with themselves.")
        self.target_id = target_id
        self.source_id = source_id
        self.text = f"Merge {source_id} into {target_id}"
        self._source: Identity | None = None
        self._source_position = 0
        self._old_track_ids: list[int] = []
        self._old_embedding = np.zeros(0, dtype=np.float32)
        self._old_last_number = 0

    def redo(self, project: Project) -> None:
        target = find_identity(project, self.target_id)
        source = find_identity(project, self.source_id)
        self.text = f"Merge {source.name} into {target.name}"
        self._source = source
        self._source_position = project.identity_index(self.source_id)
        self._old_track_ids = list(target.track_ids)
        self._old_embedding = target.embedding
        self._old_last_number = project.last_identity_number
        project.last_identity_number = project.next_identity_number() - 1
        merged = [project.tracks[t] for t in (*target.track_ids, *source.track_ids)]
        target.track_ids = [t.id for t in sorted(merged, key=_timeline_order)]
        for track_id in source.track_ids:
            project.tracks[track_id].identity_id = target.id
        if target.track_ids:  # two empty identities have no tracks to average
            target.embedding = project.representative_embedding(target.track_ids)
        del project.identities[self._source_position]
        self._publish(IdentityChanged(target.id, _MEMBERSHIP_FIELDS))
        self._publish(IdentitiesChanged())

    def undo(self, project: Project) -> None:
        assert self._source is not None, "undo() before redo()"
        target = find_identity(project, self.target_id)
        target.track_ids = self._old_track_ids
        target.embedding = self._old_embedding
        project.last_identity_number = self._old_last_number
        for track_id in self._source.track_ids:
            project.tracks[track_id].identity_id = self._source.id
        project.identities.insert(self._source_position, self._source)
        self._publish(IdentityChanged(target.id, _MEMBERSHIP_FIELDS))
        self._publish(IdentitiesChanged())


class SplitTrack(EditCommand):
    """Move one track into a new identity (new id, new random seed), e.g. when clustering
    put two people together.

    The new identity copies the method and attributes of the identity it came from, is
    hidden (anonymized) whatever that identity was, and is flagged `needs_attention` so the
    user checks it. Undo removes it and gives the track back.
    """

    def __init__(
        self, track_id: int, *, rng: random.Random, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        self.track_id = track_id
        self.text = f"Split track {track_id} into a new person"
        self._rng = rng
        self._new: Identity | None = None  # built once so that redo after undo is identical
        self._origin_id = ""
        self._old_track_ids: list[int] = []
        self._old_embedding = np.zeros(0, dtype=np.float32)
        self._old_last_number = 0

    def redo(self, project: Project) -> None:
        track = project.tracks.get(self.track_id)
        if track is None:
            raise ProjectEditError(f"There is no track {self.track_id}.")
        origin = find_identity(project, track.identity_id)
        if len(origin.track_ids) < 2:
            raise ProjectEditError(
                f"Track {self.track_id} is the only track of {origin.name}; "
                "there is nothing to split off."
            )
        if self._new is None:
            self._new = self._new_identity(project, origin, track)
        self._origin_id = origin.id
        self._old_track_ids = list(origin.track_ids)
        self._old_embedding = origin.embedding
        self._old_last_number = project.last_identity_number
        project.last_identity_number = max(project.last_identity_number, self._new.number or 0)
        origin.track_ids = [t for t in origin.track_ids if t != self.track_id]
        origin.embedding = project.representative_embedding(origin.track_ids)
        track.identity_id = self._new.id
        project.identities.insert(project.identity_index(origin.id) + 1, self._new)
        self.text = f"Split track {self.track_id} from {origin.name} into {self._new.name}"
        self._publish(IdentityChanged(origin.id, _MEMBERSHIP_FIELDS))
        self._publish(IdentitiesChanged())

    def undo(self, project: Project) -> None:
        assert self._new is not None, "undo() before redo()"
        del project.identities[project.identity_index(self._new.id)]
        origin = find_identity(project, self._origin_id)
        origin.track_ids = self._old_track_ids
        origin.embedding = self._old_embedding
        project.last_identity_number = self._old_last_number
        project.tracks[self.track_id].identity_id = origin.id
        self._publish(IdentityChanged(origin.id, _MEMBERSHIP_FIELDS))
        self._publish(IdentitiesChanged())

    @property
    def new_identity_id(self) -> str | None:
        """Id of the identity created by the first redo (None before it)."""
        return self._new.id if self._new is not None else None

    def _new_identity(self, project: Project, origin: Identity, track: Track) -> Identity:
        identity = Identity.create(
            project.next_identity_number(),
            rng=self._rng,
            embedding=track.embedding.copy(),
            track_ids=[track.id],
            method=origin.method,
            attributes=copy.deepcopy(origin.attributes),
        )
        identity.needs_attention = True
        return identity


def _timeline_order(track: Track) -> tuple[int, int]:
    return (track.start_frame, track.id)
