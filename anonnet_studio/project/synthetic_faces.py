"""The document side of the synthetic-face service, for the CLI, Regenerate, Generate for
everyone and the export alike.

* `face_job` copies out of the project what one person's generation needs: the keyframe
  (`choose_keyframe`, one rule for everybody), the prompt and the person's settings.
* The composition side (`app.synthetic_generation`) runs the generate -> verify -> retry
  loop on it and returns a `GeneratedFace`.
* `RecordGeneration` stores that run as one undoable command: every attempt, the kept
  image under the one key scheme (`image_key`), its typed `FacePlacement`, the selection.
* `selected_face` / `people_to_generate` read it back for the motion stage and the export.

Qt-free and torch-free like the rest of `project/`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.backends import analysed_embedder
from anonnet_studio.project.command_base import EditCommand, find_identity
from anonnet_studio.project.events import IdentityChanged, ProjectEvents
from anonnet_studio.project.prompting import effective_prompt
from anonnet_studio.project.render_plan import wants_synthetic_face
from anonnet_studio.project.schema import (
    FacePlacement,
    GenerationAttempt,
    GenerationSettings,
    Identity,
    Keyframe,
    Project,
    Track,
)

NEEDS_ATTENTION = (
    "every generated face still looked like the original person (anonymity check); "
    "redacted with blur until a face is chosen or regenerated"
)
# Keyframe choice across a person's tracks: frontal first, then large.
_FRONTALITY_SCALE_DEG = 60.0
_SIZE_WEIGHT = 0.3
_RECORDED_FIELDS = frozenset({"attempts", "selected_attempt", "needs_attention"})


@dataclass(frozen=True, slots=True, eq=False)
class FaceJob:
    """Everything one person's generation needs, copied out of the project (arrays are
    private read-only copies, so the job can cross to the worker thread)."""

    identity_id: str
    identity_name: str
    video_path: Path
    track_id: int
    frame_index: int  # the keyframe
    box: np.ndarray  # (4,) the track's face box at the keyframe, frame pixels
    landmarks68: np.ndarray  # (68, 2) the keyframe's landmarks, frame pixels
    landmarks5: np.ndarray  # (5, 2) the track's landmarks at the keyframe
    prompt: str
    settings: GenerationSettings
    # The embedder the project was analysed with, which the export's leak check uses; the
    # anonymity check uses another one (None: not recorded, assume the default).
    leak_check_embedder: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class GeneratedFace:
    """One person's generation run, as `RecordGeneration` stores it."""

    identity_id: str
    attempts: tuple[GenerationAttempt, ...]  # in order, without image keys
    chosen_index: int  # the kept attempt: the first that passed, else the least similar
    image: np.ndarray  # RGB uint8 crop holding the kept synthetic face
    placement: FacePlacement  # where it sits in the keyframe
    needs_attention: bool  # no attempt passed the anonymity check
    prompt: str
    device: str  # what it ran on, e.g. "cuda (fp16)"


def choose_keyframe(project: Project, identity: Identity) -> tuple[Track, Keyframe] | None:
    """The person's best keyframe over all their tracks: frontal first, then large."""
    candidates = []
    for track in project.tracks_of(identity.id):
        keyframe = track.keyframe
        box = track.box_at(keyframe.frame_index) if keyframe is not None else None
        if keyframe is not None and box is not None:
            candidates.append((track, keyframe, float(max(box[2] - box[0], box[3] - box[1]))))
    if not candidates:
        return None
    largest = max(size for _, _, size in candidates) or 1.0

    def cost(item: tuple[Track, Keyframe, float]) -> float:
        _, keyframe, size = item
        frontality = (abs(keyframe.yaw) + abs(keyframe.pitch)) / _FRONTALITY_SCALE_DEG
        return frontality - _SIZE_WEIGHT * size / largest

    track, keyframe, _ = min(candidates, key=cost)
    return track, keyframe


def face_job(project: Project, identity_id: str) -> FaceJob:
    """What generating this person's face needs; AnonNetError when they have no keyframe."""
    identity = project.identity(identity_id)
    chosen = choose_keyframe(project, identity)
    if chosen is None:
        raise AnonNetError(
            f"{identity.name} has no usable keyframe (no face with 68 landmarks), so no "
            "synthetic face can be generated for them.",
            hint="Choose blur, pixelate or mask for this person instead.",
        )
    track, keyframe = chosen
    box = track.box_at(keyframe.frame_index)
    landmarks5 = track.landmarks5_at(keyframe.frame_index)
    assert box is not None and landmarks5 is not None  # a keyframe lies inside its track
    return FaceJob(
        identity_id=identity.id,
        identity_name=identity.name,
        video_path=Path(project.source.path),
        track_id=track.id,
        frame_index=keyframe.frame_index,
        box=_frozen(box),
        landmarks68=_frozen(keyframe.landmarks68),
        landmarks5=_frozen(landmarks5),
        prompt=effective_prompt(identity),
        settings=identity.generation,
        leak_check_embedder=analysed_embedder(project),
    )


def image_key(identity_id: str, attempt_index: int) -> str:
    """The key of an attempt's image in `Project.images`: "P1-attempt-3". Keys become file
    names in the project's array sidecar, so only letters, digits and dashes."""
    return f"{identity_id}-attempt-{attempt_index}"


def selected_face(project: Project, identity: Identity) -> tuple[np.ndarray, FacePlacement] | None:
    """The image and placement of the person's selected attempt, when it kept both."""
    index = identity.selected_attempt
    if index is None or not 0 <= index < len(identity.attempts):
        return None
    attempt = identity.attempts[index]
    image = project.images.get(attempt.image_key) if attempt.image_key else None
    if image is None or attempt.placement is None:
        return None
    return image, attempt.placement


def has_synthetic_face(project: Project, identity: Identity) -> bool:
    """True when the person's selected attempt has a stored, animatable face."""
    return selected_face(project, identity) is not None


def people_to_generate(project: Project) -> list[Identity]:
    """Hidden synthetic people without a stored face: what an export generates."""
    return [
        identity
        for identity in project.identities
        if wants_synthetic_face(identity) and not has_synthetic_face(project, identity)
    ]


def held_back_people(project: Project) -> dict[str, str]:
    """{identity: why} for synthetic people whose stored face failed the anonymity check:
    they stay redacted until the user chooses or regenerates a face."""
    return {
        identity.id: NEEDS_ATTENTION
        for identity in project.identities
        if wants_synthetic_face(identity)
        and has_synthetic_face(project, identity)
        and identity.needs_attention
    }


class RecordGeneration(EditCommand):
    """Append a run's attempts to the person, store the kept image and its placement, and
    select it; undo removes exactly what was added."""

    def __init__(self, face: GeneratedFace, *, events: ProjectEvents | None = None) -> None:
        super().__init__(events)
        self.face = face
        self.text = f"Generate a face for {face.identity_id}"
        self._first_new = 0
        self._key = ""
        self._old_selected: int | None = None
        self._old_needs_attention = False

    @property
    def image_key(self) -> str:
        """The key the kept image was stored under (after `redo`)."""
        return self._key

    def redo(self, project: Project) -> None:
        face = self.face
        identity = find_identity(project, face.identity_id)
        self.text = f"Generate a face for {identity.name}"
        self._first_new = len(identity.attempts)
        self._old_selected = identity.selected_attempt
        self._old_needs_attention = identity.needs_attention
        self._key = _free_key(project, image_key(identity.id, self._first_new + face.chosen_index))
        identity.attempts.extend(
            dataclasses.replace(a, image_key=self._key, placement=face.placement)
            if index == face.chosen_index
            else a
            for index, a in enumerate(face.attempts)
        )
        project.images[self._key] = face.image
        identity.selected_attempt = self._first_new + face.chosen_index
        identity.needs_attention = face.needs_attention
        self._publish(IdentityChanged(identity.id, _RECORDED_FIELDS))

    def undo(self, project: Project) -> None:
        identity = find_identity(project, self.face.identity_id)
        del identity.attempts[self._first_new :]
        project.images.pop(self._key, None)
        identity.selected_attempt = self._old_selected
        identity.needs_attention = self._old_needs_attention
        self._publish(IdentityChanged(identity.id, _RECORDED_FIELDS))


class RecordGenerations(EditCommand):
    """Several runs as one undo step (the faces one export generated)."""

    def __init__(
        self, faces: Sequence[GeneratedFace], *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(events)
        self.commands = [RecordGeneration(face, events=events) for face in faces]
        self.text = f"Record {len(self.commands)} generated face(s)"

    def redo(self, project: Project) -> None:
        done: list[RecordGeneration] = []
        try:
            for command in self.commands:
                command.redo(project)
                done.append(command)
        except Exception:
            for command in reversed(done):  # all or nothing, like every command
                command.undo(project)
            raise

    def undo(self, project: Project) -> None:
        for command in reversed(self.commands):
            command.undo(project)


def faces_still_missing(project: Project, faces: Sequence[GeneratedFace]) -> list[GeneratedFace]:
    """The runs of an export worth recording in the live document: for people who still
    have no face (one who got a face meanwhile, e.g. from Regenerate, keeps theirs)."""
    missing = {identity.id for identity in people_to_generate(project)}
    return [face for face in faces if face.identity_id in missing]


def record_generated(project: Project, faces: Sequence[GeneratedFace]) -> RecordGenerations:
    """Record runs without an undo stack (the CLI, an export's private project copy);
    returns the applied command."""
    command = RecordGenerations(faces)
    command.redo(project)
    return command


def _free_key(project: Project, key: str) -> str:
    # Attempt numbers are unique per person, so a clash only comes from an image another
    # program left under that name; never overwrite it.
    candidate, suffix = key, 1
    while candidate in project.images:
        candidate, suffix = f"{key}-{suffix}", suffix + 1
    return candidate


def _frozen(array: np.ndarray) -> np.ndarray:
    copied = np.array(array, copy=True)
    copied.setflags(write=False)
    return copied
