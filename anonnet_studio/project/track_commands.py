"""Undoable hand corrections of face tracks: add a missed face, fix boxes, trim, delete
frames, delete a false face, keep a face, move a track to another person."""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from anonnet_studio.core.correction.geometry import clip_box
from anonnet_studio.project.command_base import ProjectEditError, find_identity
from anonnet_studio.project.correction_state import SnapshotCommand
from anonnet_studio.project.events import (
    IdentitiesChanged,
    IdentityChanged,
    ProjectEvent,
    ProjectEvents,
    TracksChanged,
)
from anonnet_studio.project.schema import Identity, Method, Project, RemovedFace, Track
from anonnet_studio.project.track_edits import (
    corrected,
    frame_size,
    new_track,
    subset,
    with_propagation,
)

_MEMBERSHIP = frozenset({"track_ids", "embedding"})


def find_track(project: Project, track_id: int) -> Track:
    track = project.tracks.get(track_id)
    if track is None:
        raise ProjectEditError(f"There is no face track {track_id} (it may have been deleted).")
    return track


def user_box(project: Project, box: object) -> np.ndarray:
    """The user's box clipped to the picture; BoxError (a readable refusal) otherwise."""
    width, height = frame_size(project)
    return clip_box(box, width or 10**6, height or 10**6)  # type: ignore[arg-type]


def _changed(track_ids: set[int], identity_ids: set[str], *, people: bool) -> list[ProjectEvent]:
    events: list[ProjectEvent] = [TracksChanged(frozenset(track_ids))]
    events += [IdentityChanged(i, _MEMBERSHIP) for i in sorted(identity_ids)]
    if people:
        events.append(IdentitiesChanged())
    return events


def _refresh_embedding(project: Project, identity: Identity) -> None:
    if identity.track_ids:
        identity.embedding = project.representative_embedding(identity.track_ids)


def _embedding_size(project: Project) -> int:
    sizes = [len(t.embedding) for t in project.tracks.values()]
    sizes += [len(i.embedding) for i in project.identities]
    return max(sizes, default=128) or 128


class AddManualTrack(SnapshotCommand):
    """A face the analysis missed: a one-frame manual track at the user's box, owned by a
    new hidden person (default) or by `identity_id`. Propagation then extends it
    (`ApplyPropagation`). Its embedding stays zero until then, so the leak check never
    matches faces against a face it has not seen."""

    def __init__(
        self,
        frame: int,
        box: object,
        *,
        rng: random.Random,
        identity_id: str | None = None,
        method: Method = Method.BLUR,
        events: ProjectEvents | None = None,
    ) -> None:
        super().__init__(events)
        self.frame = int(frame)
        self.box = np.asarray(box, dtype=np.float64)
        self.identity_id = identity_id
        self.method = method
        self.text = "Add a face by hand"
        self._rng = rng
        self.track_id: int | None = None
        self.new_identity_id: str | None = None

    def _change(self, project: Project) -> list[ProjectEvent]:
        box = user_box(project, self.box)
        shot = project.shot_at(self.frame)
        if shot is None:
            raise ProjectEditError(f"Frame {self.frame} is not part of any shot.")
        track_id = project.next_track_id()
        embedding = np.zeros(_embedding_size(project), dtype=np.float32)
        if self.identity_id is None:
            identity = Identity.create(
                project.next_identity_number(),
                rng=self._rng,
                embedding=embedding,
                track_ids=[],
                method=self.method,
            )
            project.identities.append(identity)
            project.last_identity_number = max(project.last_identity_number, identity.number or 0)
            self.new_identity_id = identity.id
        else:
            identity = find_identity(project, self.identity_id)
        project.tracks[track_id] = new_track(
            track_id, shot.index, identity.id, self.frame, box, embedding
        )
        identity.track_ids = [*identity.track_ids, track_id]
        self.track_id = track_id
        self.text = f"Add a face by hand for {identity.name} at frame {self.frame}"
        return _changed({track_id}, {identity.id}, people=self.identity_id is None)


class ApplyPropagation(SnapshotCommand):
    """Put the rows found by propagation into a track (see `track_edits.with_propagation`)
    and take over the followed face's embedding for the track and its person."""

    def __init__(
        self,
        track_id: int,
        frames: np.ndarray,
        boxes: np.ndarray,
        landmarks5: np.ndarray,
        scores: np.ndarray,
        embedding: np.ndarray,
        *,
        thumbnail: np.ndarray | None = None,
        events: ProjectEvents | None = None,
    ) -> None:
        super().__init__(events)
        if len(frames) == 0:
            raise ProjectEditError("Propagation found no frames to add.")
        self.track_id = track_id
        self.rows = (frames, boxes, landmarks5, scores, embedding)
        self.thumbnail = thumbnail
        self.text = f"Follow face track {track_id} through its shot"

    def _change(self, project: Project) -> list[ProjectEvent]:
        track = find_track(project, self.track_id)
        shot = project.shots[track.shot_index]
        frames = np.asarray(self.rows[0])
        if not (shot.contains(int(frames[0])) and shot.contains(int(frames[-1]))):
            raise ProjectEditError("The propagated frames run outside the face's shot.")
        updated = with_propagation(track, *self.rows)
        project.tracks[track.id] = updated
        identity = find_identity(project, track.identity_id)
        _refresh_embedding(project, identity)
        if identity.thumbnail is None and self.thumbnail is not None:
            identity.thumbnail = np.ascontiguousarray(self.thumbnail, dtype=np.uint8)
            return [*_changed({track.id}, {identity.id}, people=False), IdentitiesChanged()]
        return _changed({track.id}, {identity.id}, people=False)


class SetTrackBox(SnapshotCommand):
    """Move or resize the box of one frame: it becomes a keyframe and the frames up to the
    neighbouring keyframes follow (interpolated boxes and landmarks)."""

    def __init__(
        self, track_id: int, frame: int, box: object, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        self.track_id = track_id
        self.frame = int(frame)
        self.box = np.asarray(box, dtype=np.float64)
        self.text = f"Correct the box of track {track_id} at frame {frame}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        track = find_track(project, self.track_id)
        if not track.covers(self.frame):
            raise ProjectEditError(
                f"Track {track.id} runs over frames {track.start_frame}–{track.end_frame - 1}; "
                f"frame {self.frame} is outside it."
            )
        project.tracks[track.id] = corrected(track, self.frame, user_box(project, self.box))
        return _changed({track.id}, set(), people=False)


class TrimTrack(SnapshotCommand):
    """Keep only the frames start..end-1 of a track."""

    def __init__(
        self, track_id: int, start: int, end: int, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        self.track_id, self.start, self.end = track_id, int(start), int(end)
        self.text = f"Trim track {track_id} to frames {start}–{end - 1}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        track = find_track(project, self.track_id)
        keep = (track.frames >= self.start) & (track.frames < self.end)
        if not keep.any():
            raise ProjectEditError(
                "Trimming would leave the track without frames; delete the face instead."
            )
        project.tracks[track.id] = subset(track, keep)
        return _changed({track.id}, set(), people=False)


class DeleteTrackFrames(SnapshotCommand):
    """Remove frames first..last (inclusive) from a track. Frames cut from its middle
    split it in two tracks of the same person, so nothing is redacted in between."""

    def __init__(
        self, track_id: int, first: int, last: int, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        self.track_id = track_id
        self.first, self.last = sorted((int(first), int(last)))
        self.text = f"Delete frames {self.first}–{self.last} of track {track_id}"
        self.split_track_id: int | None = None

    def _change(self, project: Project) -> list[ProjectEvent]:
        track = find_track(project, self.track_id)
        before = track.frames < self.first
        after = track.frames > self.last
        if not (before | after).any():
            raise ProjectEditError(
                "That would delete every frame of the track; delete the face instead."
            )
        if before.all() or after.all():
            raise ProjectEditError(f"Track {track.id} has no frames in that range.")
        if not before.any() or not after.any():
            project.tracks[track.id] = subset(track, before | after)
            return _changed({track.id}, set(), people=False)
        identity = find_identity(project, track.identity_id)
        split_id = project.next_track_id()
        project.tracks[track.id] = subset(track, before)
        project.tracks[split_id] = subset(track, after, new_id=split_id)
        position = identity.track_ids.index(track.id) + 1
        identity.track_ids = [*identity.track_ids[:position], split_id,
                              *identity.track_ids[position:]]  # fmt: skip
        self.split_track_id = split_id
        return _changed({track.id, split_id}, {identity.id}, people=False)


class DeleteTrack(SnapshotCommand):
    """Delete a false face (a poster, a reflection, not a face). A person left without any
    track goes too. The audit report lists the deletion. The leak check still covers any
    face it finds there later: deleting never lets a real face through."""

    def __init__(self, track_id: int, *, events: ProjectEvents | None = None) -> None:
        super().__init__(events)
        self.track_id = track_id
        self.text = f"Delete face track {track_id}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        track = find_track(project, self.track_id)
        identity = find_identity(project, track.identity_id)
        del project.tracks[track.id]
        project.removed_faces.append(
            RemovedFace(
                track.id,
                identity.id,
                track.shot_index,
                track.start_frame,
                track.end_frame - 1,
                track.manual,
            )
        )
        identity.track_ids = [t for t in identity.track_ids if t != track.id]
        self.text = f"Delete a face of {identity.name} (frames {track.start_frame}–"
        self.text += f"{track.end_frame - 1})"
        if identity.track_ids:
            _refresh_embedding(project, identity)
            return _changed({track.id}, {identity.id}, people=False)
        project.last_identity_number = max(project.last_identity_number, identity.number or 0)
        project.identities.remove(identity)
        return _changed({track.id}, set(), people=True)


class SetTrackKept(SnapshotCommand):
    """Keep one face visible although its person is hidden (or hide it again)."""

    def __init__(self, track_id: int, kept: bool, *, events: ProjectEvents | None = None) -> None:
        super().__init__(events)
        if not isinstance(kept, bool | np.bool_):
            raise ProjectEditError(f"kept must be true or false, not {kept!r}.")
        self.track_id, self.kept = track_id, bool(kept)
        self.text = f"{'Keep' if kept else 'Hide'} face track {track_id}"

    def _change(self, project: Project) -> list[ProjectEvent]:
        track = find_track(project, self.track_id)
        project.tracks[track.id] = dataclasses.replace(track, kept=self.kept)
        return _changed({track.id}, set(), people=False)


class AssignTrack(SnapshotCommand):
    """Give a track to another person, or to a new hidden person (`identity_id` None).
    A person left without any track is removed."""

    def __init__(
        self,
        track_id: int,
        identity_id: str | None,
        *,
        rng: random.Random,
        events: ProjectEvents | None = None,
    ) -> None:
        super().__init__(events)
        self.track_id, self.identity_id = track_id, identity_id
        self.text = f"Move track {track_id} to {identity_id or 'a new person'}"
        self._rng = rng
        self.target_id: str | None = None

    def _change(self, project: Project) -> list[ProjectEvent]:
        track = find_track(project, self.track_id)
        origin = find_identity(project, track.identity_id)
        if self.identity_id == origin.id:
            raise ProjectEditError(f"Track {track.id} already belongs to {origin.name}.")
        if self.identity_id is None:
            target = Identity.create(
                project.next_identity_number(),
                rng=self._rng,
                embedding=track.embedding.copy(),
                track_ids=[],
                method=origin.method if origin.method is not Method.KEEP else Method.BLUR,
            )
            project.identities.insert(project.identity_index(origin.id) + 1, target)
            project.last_identity_number = max(project.last_identity_number, target.number or 0)
        else:
            target = find_identity(project, self.identity_id)
        origin.track_ids = [t for t in origin.track_ids if t != track.id]
        target.track_ids = sorted(
            [*target.track_ids, track.id],
            key=lambda t: (project.tracks[t].start_frame, t),
        )
        project.tracks[track.id] = dataclasses.replace(track, identity_id=target.id)
        _refresh_embedding(project, target)
        self.target_id = target.id
        self.text = f"Move track {track.id} from {origin.name} to {target.name}"
        if origin.track_ids:
            _refresh_embedding(project, origin)
            return _changed({track.id}, {origin.id, target.id}, people=True)
        project.last_identity_number = max(project.last_identity_number, origin.number or 0)
        project.identities.remove(origin)
        return _changed({track.id}, {target.id}, people=True)
