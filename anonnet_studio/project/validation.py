"""Cross-references inside a project that field types alone cannot guarantee."""

from __future__ import annotations

import re

import numpy as np

from anonnet_studio.project.correction_validation import correction_problems
from anonnet_studio.project.schema import Project, Track

# Face boxes may reach past the frame edge (a face half out of the picture), but not by
# more than this many frame widths/heights: further out they describe no face on screen.
_BOX_MARGIN = 1.0

# Image keys become file names inside the array sidecar; keep them plain.
IMAGE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def project_problems(project: Project) -> list[str]:
    """Every inconsistency found, as readable sentences; empty when the project is sound."""
    problems: list[str] = []
    problems += _shot_problems(project)
    problems += _track_problems(project)
    problems += _identity_problems(project)
    problems += correction_problems(project)
    problems += [f"leak frame {f} is negative" for f in project.leak_frames if f < 0]
    if project.last_identity_number < 0:
        problems.append("last_identity_number is negative")
    return problems


def _shot_problems(project: Project) -> list[str]:
    problems = []
    for position, shot in enumerate(project.shots):
        if shot.index != position:
            problems.append(f"shot at position {position} has index {shot.index}")
        if not 0 <= shot.start_frame < shot.end_frame:
            problems.append(f"shot {shot.index} has an empty or negative frame range")
    return problems


def _track_problems(project: Project) -> list[str]:
    problems = []
    frame_size = _frame_size(project)
    shots = {shot.index: shot for shot in project.shots}
    identity_ids = {identity.id for identity in project.identities}
    for key, track in project.tracks.items():
        if key != track.id:
            problems.append(f"track {track.id} is stored under id {key}")
        problem = track.consistency_problem()
        if problem:
            problems.append(f"track {track.id}: {problem}")
            continue
        problems += _geometry_problems(key, track, frame_size)
        if track.identity_id not in identity_ids:
            problems.append(f"track {track.id} belongs to unknown identity {track.identity_id!r}")
        shot = shots.get(track.shot_index)
        if shot is None:
            problems.append(f"track {track.id} is in unknown shot {track.shot_index}")
        elif not (shot.contains(track.start_frame) and shot.contains(track.end_frame - 1)):
            problems.append(f"track {track.id} runs outside shot {shot.index}")
        if track.keyframe is not None and track.row_of(track.keyframe.frame_index) is None:
            problems.append(f"track {track.id} has a keyframe outside its frames")
    return problems


def _identity_problems(project: Project) -> list[str]:
    problems = []
    seen_ids: set[str] = set()
    owner_of: dict[int, str] = {}
    for key in project.images:
        if not IMAGE_KEY.match(key):
            problems.append(f"image key {key!r} may only use letters, digits, '_', '.', '-'")
    for identity in project.identities:
        where = f"identity {identity.id}"
        if identity.id in seen_ids:
            problems.append(f"{where} appears twice")
        seen_ids.add(identity.id)
        if not identity.name.strip():
            problems.append(f"{where} has an empty name")
        for track_id in identity.track_ids:
            track = project.tracks.get(track_id)
            if track is None:
                problems.append(f"{where} lists unknown track {track_id}")
            elif track.identity_id != identity.id:
                problems.append(f"{where} lists track {track_id} of {track.identity_id}")
            if track_id in owner_of:
                problems.append(f"track {track_id} is listed by {owner_of[track_id]} and {where}")
            owner_of[track_id] = identity.id
        # identity.generation needs no check here: GenerationSettings refuses bad values
        # when it is built, so a file holding one fails to decode, naming the field.
        if identity.selected_attempt is not None and not (
            0 <= identity.selected_attempt < len(identity.attempts)
        ):
            problems.append(f"{where} selects attempt {identity.selected_attempt}, which is absent")
        for attempt in identity.attempts:
            if attempt.image_key is not None and attempt.image_key not in project.images:
                problems.append(f"{where} refers to missing image {attempt.image_key!r}")
        if not re.match(r"^#[0-9a-fA-F]{6}$", identity.color):
            problems.append(f"{where} has colour {identity.color!r}, expected #rrggbb")
    for track_id, track in project.tracks.items():
        if track_id not in owner_of and track.identity_id in seen_ids:
            problems.append(f"track {track_id} is not listed by identity {track.identity_id}")
    return problems


def _frame_size(project: Project) -> tuple[int, int] | None:
    """(width, height) of the source video, when its media info says so."""
    video = project.source.media_info.get("video")
    if not isinstance(video, dict):
        return None
    width, height = video.get("width"), video.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    return None


def _geometry_problems(key: int, track: Track, frame_size: tuple[int, int] | None) -> list[str]:
    """Coordinates must be numbers (NaN boxes crash rendering and cover nothing), boxes
    well-formed and on or near the frame."""
    where = f"tracks[{key}]"
    arrays = {
        "boxes": track.boxes,
        "landmarks5": track.landmarks5,
        "scores": track.scores,
        "embedding": track.embedding,
        "landmarks68": track.landmarks68,
        "keyframe.landmarks68": track.keyframe.landmarks68 if track.keyframe else None,
    }
    problems = []
    for name, values in arrays.items():
        if values is not None and not np.all(np.isfinite(values)):
            row = int(np.argwhere(~np.isfinite(values))[0][0])
            problems.append(f"{where}.{name}: row {row} is not a finite number")
    if problems:
        return problems
    boxes = track.boxes
    if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
        row = int(np.argmax((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])))
        problems.append(f"{where}.boxes: row {row} ends before it starts")
    if frame_size is not None:
        width, height = frame_size
        low = np.array([-width, -height, -width, -height]) * _BOX_MARGIN
        high = np.array([width, height, width, height]) * (1 + _BOX_MARGIN)
        outside = np.any((boxes < low) | (boxes > high), axis=1)
        if np.any(outside):
            row = int(np.argmax(outside))
            problems.append(
                f"{where}.boxes: row {row} {boxes[row].tolist()} lies outside the "
                f"{width}x{height} frame"
            )
    return problems
