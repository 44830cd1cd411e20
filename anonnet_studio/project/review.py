"""The review queue: the frames most likely to be wrong, ordered by risk.

Each item names a stretch of frames and why it deserves a look: the leak check found a
face there, a person's track has a gap (the detector lost the face and the box was
bridged, or the person vanishes between two tracks of one shot), a track is very short or
one person's tracks are fragmented, the detector was unsure, the face is very small, or a
track starts or ends (a face may be visible just before or after). Risks are 0..1; items of
people the user keeps visible count for less. An item's key is stable as long as the data
it was computed from does not change, so "reviewed" marks survive saving and reopening.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from anonnet_studio.project.render_plan import effective_method
from anonnet_studio.project.schema import Project, Track

LOW_SCORE = 0.7  # detection confidence below which a frame is worth a look
SMALL_FACE_PX = 24.0  # shorter side of the box
SHORT_TRACK_SECONDS = 1.0
FRAGMENTED_TRACKS = 3  # tracks of one person in one shot
KEPT_FACTOR = 0.3  # items of people kept visible matter less


class ReviewKind(StrEnum):
    LEAK = "leak"
    GAP = "gap"
    MISSING = "missing"  # a person vanishes between two of their tracks in one shot
    SHORT = "short track"
    FRAGMENTED = "fragmented"
    LOW_CONFIDENCE = "low confidence"
    SMALL = "small face"
    TRACK_START = "track start"
    TRACK_END = "track end"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    key: str
    kind: ReviewKind
    frame: int  # where to look first
    last_frame: int  # inclusive end of the stretch
    risk: float
    description: str
    track_id: int | None = None
    identity_id: str | None = None


def review_queue(project: Project) -> list[ReviewItem]:
    """Every review item of the project, riskiest first (then by frame)."""
    fps = float((project.source.media_info.get("video") or {}).get("fps") or 30.0) or 30.0
    stride = detection_stride(project)
    items = _leak_items(project)
    for identity in project.identities:
        factor = 1.0 if effective_method(identity).hides else KEPT_FACTOR
        tracks = project.tracks_of(identity.id)
        found: list[ReviewItem] = []
        for track in tracks:
            found += _track_items(project, track, identity.name, fps, stride)
        found += _between_items(project, tracks, identity.id, identity.name)
        for item in found:
            owner = project.tracks.get(item.track_id) if item.track_id is not None else None
            scale = KEPT_FACTOR if owner is not None and owner.kept else factor
            items.append(_scaled(item, scale, identity.id))
    return sorted(items, key=lambda i: (-i.risk, i.frame, i.key))


def review_counts(project: Project) -> dict[str, int]:
    """How many items there are, how many are marked reviewed, how many are not."""
    queue = review_queue(project)
    marked = set(project.reviewed)
    reviewed = sum(1 for item in queue if item.key in marked)
    unreviewed_risky = sum(1 for item in queue if item.key not in marked and item.risk >= 0.5)
    return {
        "items": len(queue),
        "reviewed": reviewed,
        "unreviewed": len(queue) - reviewed,
        "unreviewed_high_risk": unreviewed_risky,
    }


def detection_stride(project: Project) -> int:
    """The analysis ran the detector on every stride-th frame (frame index % stride == 0)
    and interpolated the frames between: those were never looked at, so not missed."""
    settings = project.analysis.get("settings") or {}
    try:
        return max(1, int(settings.get("detection_stride") or 1))
    except (TypeError, ValueError):
        return 1


def _scaled(item: ReviewItem, factor: float, identity_id: str) -> ReviewItem:
    return ReviewItem(
        key=item.key,
        kind=item.kind,
        frame=item.frame,
        last_frame=item.last_frame,
        risk=round(item.risk * factor, 4),
        description=item.description,
        track_id=item.track_id,
        identity_id=identity_id,
    )


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) row indices of each run of True in a boolean array."""
    values = np.asarray(mask, dtype=bool)
    if not values.any():
        return []
    edges = np.diff(np.concatenate([[0], values.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def _leak_items(project: Project) -> list[ReviewItem]:
    frames = np.unique(np.asarray(project.leak_frames, dtype=np.int64))
    if frames.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(frames) > 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [frames.size - 1]])
    items = []
    for s, e in zip(starts, ends, strict=True):
        first, last = int(frames[s]), int(frames[e])
        span = f"frame {first}" if first == last else f"frames {first}–{last}"
        items.append(
            ReviewItem(
                key=f"leak:{first}-{last}",
                kind=ReviewKind.LEAK,
                frame=first,
                last_frame=last,
                risk=1.0,
                description=f"The leak check found and covered a face in {span} of the last "
                "export: check who it is.",
            )
        )
    return items


def _track_items(
    project: Project, track: Track, name: str, fps: float, stride: int
) -> list[ReviewItem]:
    items: list[ReviewItem] = []
    frames = track.frames
    by_hand = np.isin(frames, track.corrected_frames)
    # A guessed box is a miss only where the detector ran; hand-made tracks were
    # followed on every frame.
    looked_at = frames % (1 if track.manual else stride) == 0
    label = f"{name}, track {track.id}"

    def add(kind: ReviewKind, first: int, last: int, risk: float, text: str, key: str) -> None:
        items.append(
            ReviewItem(f"{key}:{track.id}:{first}", kind, first, last, risk, text, track.id)
        )

    for a, b in runs(track.interpolated & ~by_hand):
        if not looked_at[a : b + 1].any():
            continue  # only frames between detector passes: interpolated by design
        length = b - a + 1
        risk = 0.55 + 0.35 * min(1.0, length / fps)
        text = f"{label}: the detector lost the face for {length} frame(s); the box is guessed."
        add(ReviewKind.GAP, int(frames[a]), int(frames[b]), risk, text, "gap")
    if not track.manual:
        unsure = (track.scores > 0) & (track.scores < LOW_SCORE) & ~by_hand
        for a, b in runs(unsure):
            lowest = a + int(np.argmin(track.scores[a : b + 1]))
            score = float(track.scores[lowest])
            risk = 0.4 + 0.3 * (LOW_SCORE - score) / LOW_SCORE
            text = f"{label}: low detection confidence ({score:.2f})."
            add(ReviewKind.LOW_CONFIDENCE, int(frames[lowest]), int(frames[b]), risk, text, "low")
    sides = np.minimum(track.boxes[:, 2] - track.boxes[:, 0], track.boxes[:, 3] - track.boxes[:, 1])
    for a, b in runs((sides < SMALL_FACE_PX) & ~by_hand):
        text = f"{label}: a very small face ({float(sides[a]):.0f} px); check it is covered."
        add(ReviewKind.SMALL, int(frames[a]), int(frames[b]), 0.45, text, "small")
    if len(track) < SHORT_TRACK_SECONDS * fps:
        text = f"{label}: only {len(track)} frames long; a face may be missed around it."
        add(ReviewKind.SHORT, track.start_frame, track.end_frame - 1, 0.5, text, "short")
    shot = project.shots[track.shot_index] if track.shot_index < len(project.shots) else None
    for kind, frame, at_cut in (
        (
            ReviewKind.TRACK_START,
            track.start_frame,
            shot is None or track.start_frame == shot.start_frame,
        ),
        (
            ReviewKind.TRACK_END,
            track.end_frame - 1,
            shot is None or track.end_frame == shot.end_frame,
        ),
    ):
        if at_cut:
            risk = 0.15
        elif track.manual:
            risk = 0.7  # propagation stopped here: the face may still be on screen
        else:
            risk = 0.35
        where = "starts" if kind is ReviewKind.TRACK_START else "ends"
        text = f"{label} {where} at frame {frame}" + ("" if at_cut else " inside its shot") + "."
        add(kind, frame, frame, risk, text, "start" if kind is ReviewKind.TRACK_START else "end")
    return items


def _between_items(
    project: Project, tracks: list[Track], identity_id: str, name: str
) -> list[ReviewItem]:
    items: list[ReviewItem] = []
    by_shot: dict[int, list[Track]] = {}
    for track in tracks:
        by_shot.setdefault(track.shot_index, []).append(track)
    for shot_index, in_shot in sorted(by_shot.items()):
        in_shot.sort(key=lambda t: t.start_frame)
        if len(in_shot) >= FRAGMENTED_TRACKS:
            first = in_shot[0].start_frame
            items.append(
                ReviewItem(
                    key=f"fragmented:{identity_id}:{shot_index}",
                    kind=ReviewKind.FRAGMENTED,
                    frame=first,
                    last_frame=in_shot[-1].end_frame - 1,
                    risk=0.5,
                    description=f"{name} is split into {len(in_shot)} tracks in shot "
                    f"{shot_index + 1}: check no stretch between them is uncovered.",
                    track_id=in_shot[0].id,
                )
            )
        for before, after in itertools.pairwise(in_shot):
            if after.start_frame <= before.end_frame:
                continue  # overlapping tracks leave no hole
            first, last = before.end_frame, after.start_frame - 1
            items.append(
                ReviewItem(
                    key=f"missing:{before.id}:{after.id}",
                    kind=ReviewKind.MISSING,
                    frame=first,
                    last_frame=last,
                    risk=0.85,
                    description=f"{name} has no box in frames {first}–{last} between tracks "
                    f"{before.id} and {after.id} of one shot: is the face visible there?",
                    track_id=before.id,
                )
            )
    return items
