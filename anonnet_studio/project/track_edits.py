"""Pure functions that build a changed copy of a `Track` (the commands put it in place).

Every function returns a new, validated Track and leaves its input untouched, which is what
lets the correction commands undo by swapping snapshots.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from anonnet_studio.core.correction.geometry import keyframe_correction, template_landmarks
from anonnet_studio.project.schema import Project, Track


def frame_size(project: Project) -> tuple[int, int]:
    """(width, height) of the project's video (0, 0 when not recorded)."""
    video = project.source.media_info.get("video") or {}
    return int(video.get("width") or 0), int(video.get("height") or 0)


def new_track(
    track_id: int,
    shot_index: int,
    identity_id: str,
    frame: int,
    box: np.ndarray,
    embedding: np.ndarray,
) -> Track:
    """A one-frame manual track at `box` (the frame is its first corrected keyframe)."""
    return Track(
        id=track_id,
        shot_index=shot_index,
        identity_id=identity_id,
        frames=np.array([frame], dtype=np.int32),
        boxes=np.asarray(box, dtype=np.float32)[None],
        landmarks5=template_landmarks(np.asarray(box, dtype=np.float32))[None],
        scores=np.zeros(1, dtype=np.float32),
        interpolated=np.zeros(1, dtype=bool),
        embedding=embedding,
        manual=True,
        corrected_frames=[frame],
    )


def subset(track: Track, keep: np.ndarray, *, new_id: int | None = None) -> Track:
    """The track with only the rows where `keep` is true (at least one)."""
    keep = np.asarray(keep, dtype=bool)
    frames = track.frames[keep]
    landmarks68 = landmarks68_frames = None
    if track.landmarks68 is not None and track.landmarks68_frames is not None:
        inside = np.isin(track.landmarks68_frames, frames)
        if inside.any():
            landmarks68 = track.landmarks68[inside]
            landmarks68_frames = track.landmarks68_frames[inside]
    keyframe = track.keyframe
    if keyframe is not None and keyframe.frame_index not in set(frames.tolist()):
        keyframe = None
    return dataclasses.replace(
        track,
        id=track.id if new_id is None else new_id,
        frames=frames,
        boxes=track.boxes[keep],
        landmarks5=track.landmarks5[keep],
        scores=track.scores[keep],
        interpolated=track.interpolated[keep],
        landmarks68=landmarks68,
        landmarks68_frames=landmarks68_frames,
        keyframe=keyframe,
        corrected_frames=[f for f in track.corrected_frames if f in set(frames.tolist())],
    )


def with_row(track: Track, frame: int) -> Track:
    """The track with a row at `frame` (inside its span), interpolated when it had none."""
    if track.row_of(frame) is not None:
        return track
    if not track.covers(frame):
        raise ValueError(f"frame {frame} lies outside track {track.id}")
    row = int(np.searchsorted(track.frames, frame))
    box, landmarks = track.box_at(frame), track.landmarks5_at(frame)
    assert box is not None and landmarks is not None
    return dataclasses.replace(
        track,
        frames=np.insert(track.frames, row, frame),
        boxes=np.insert(track.boxes, row, box, axis=0),
        landmarks5=np.insert(track.landmarks5, row, landmarks, axis=0),
        scores=np.insert(track.scores, row, 0.0),
        interpolated=np.insert(track.interpolated, row, True),
    )


def corrected(track: Track, frame: int, box: np.ndarray) -> Track:
    """The track with `box` set at `frame` as a keyframe, the rows up to the neighbouring
    keyframes interpolated (see `core.correction.geometry`), landmarks moved along."""
    track = with_row(track, frame)
    change = keyframe_correction(track.frames, track.boxes, track.corrected_frames, frame, box)
    landmarks68 = track.landmarks68
    if landmarks68 is not None and track.landmarks68_frames is not None:
        rows = np.searchsorted(track.frames, track.landmarks68_frames)
        landmarks68 = change.points(landmarks68, rows)
    keyframe = track.keyframe
    if keyframe is not None:
        row = int(np.searchsorted(track.frames, keyframe.frame_index))
        moved = change.points(keyframe.landmarks68[None], np.array([row]))[0]
        keyframe = dataclasses.replace(keyframe, landmarks68=moved)
    boxes = change.boxes(track.boxes)
    boxes[int(np.searchsorted(track.frames, frame))] = box  # exactly what the user set
    return dataclasses.replace(
        track,
        boxes=boxes,
        landmarks5=change.points(track.landmarks5),
        landmarks68=landmarks68,
        keyframe=keyframe,
        corrected_frames=sorted({*track.corrected_frames, frame}),
    )


def with_propagation(
    track: Track,
    frames: np.ndarray,
    boxes: np.ndarray,
    landmarks5: np.ndarray,
    scores: np.ndarray,
    embedding: np.ndarray,
) -> Track:
    """The track with the propagated rows in place of its own within their span; rows the
    user corrected by hand win over propagated ones."""
    frames = np.asarray(frames, dtype=np.int32)
    first, last = int(frames[0]), int(frames[-1])
    corrected_set = set(track.corrected_frames)
    take_new = np.array([int(f) not in corrected_set for f in frames], dtype=bool)
    keep_old = (
        (track.frames < first) | (track.frames > last) | np.isin(track.frames, list(corrected_set))
    )
    all_frames = np.concatenate([track.frames[keep_old], frames[take_new]])
    order = np.argsort(all_frames, kind="stable")

    def merged(old: np.ndarray, new: np.ndarray) -> np.ndarray:
        return np.concatenate([old[keep_old], np.asarray(new)[take_new]])[order]

    return dataclasses.replace(
        track,
        frames=all_frames[order],
        boxes=merged(track.boxes, boxes),
        landmarks5=merged(track.landmarks5, landmarks5),
        scores=merged(track.scores, scores),
        interpolated=merged(track.interpolated, np.zeros(len(frames), dtype=bool)),
        embedding=np.asarray(embedding, dtype=np.float32),
    )
