"""The hand-correction part of the audit report: manual tracks, corrected frames, kept and
deleted faces, regions that are not faces, and how much of the review queue was checked."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from anonnet_studio.project.audit_summary import report_fps, time_ranges_text, timecode
from anonnet_studio.project.review import review_counts, review_queue
from anonnet_studio.project.schema import Project


def frame_ranges(frames: np.ndarray | list[int]) -> list[list[int]]:
    """Consecutive frame runs as [first, last] pairs."""
    values = np.unique(np.asarray(frames, dtype=np.int64))
    if values.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(values) > 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [values.size - 1]])
    return [[int(values[s]), int(values[e])] for s, e in zip(starts, ends, strict=True)]


def corrections_entry(project: Project) -> dict[str, Any]:
    """What the user changed by hand, for the report (no images, no geometry)."""
    names = {identity.id: identity.name for identity in project.identities}

    def track_entry(track_id: int) -> dict[str, Any]:
        track = project.tracks[track_id]
        return {
            "track_id": track.id,
            "identity_id": track.identity_id,
            "identity_name": names.get(track.identity_id),
            "shot": track.shot_index,
            "frames": frame_ranges(track.frames),
        }

    ordered = sorted(project.tracks)
    return {
        "manual_tracks": [track_entry(t) for t in ordered if project.tracks[t].manual],
        "corrected_frames": [
            {**track_entry(t), "corrected_frames": list(project.tracks[t].corrected_frames)}
            for t in ordered
            if project.tracks[t].corrected_frames
        ],
        "kept_faces": [track_entry(t) for t in ordered if project.tracks[t].kept],
        "removed_faces": [
            {
                "track_id": face.track_id,
                "identity_id": face.identity_id,
                "shot": face.shot_index,
                "frames": [[face.first_frame, face.last_frame]],
                "manual": face.manual,
            }
            for face in project.removed_faces
        ],
        "regions": [
            {
                "id": region.id,
                "name": region.name,
                "shape": region.shape.value,
                "method": region.method.value,
                "frames": [[region.start_frame, region.end_frame - 1]],
                "tracked": region.tracked,
                "corrected_frames": list(region.corrected_frames),
            }
            for region in project.regions
        ],
    }


def review_entry(project: Project) -> dict[str, Any]:
    """Counts of the review queue, plus the unreviewed items of high risk (first 100)."""
    counts = review_counts(project)
    marked = set(project.reviewed)
    pending = [i for i in review_queue(project) if i.key not in marked and i.risk >= 0.5]
    return {
        **counts,
        "unreviewed_high_risk_items": [
            {"kind": i.kind.value, "frames": [i.frame, i.last_frame], "risk": i.risk}
            for i in pending[:100]
        ],
    }


def corrections_html(report: dict[str, Any]) -> str:
    """The HTML section for `report["corrections"]` and `report["review"]`."""
    e = html.escape
    corrections = report.get("corrections") or {}
    review = report.get("review") or {}
    fps = report_fps(report)

    def spans(entry: dict[str, Any]) -> str:
        return time_ranges_text([[a / fps, (b + 1) / fps] for a, b in entry["frames"]])

    rows = []
    for label, key in (
        ("Face added by hand", "manual_tracks"),
        ("Face kept visible", "kept_faces"),
        ("Face deleted (not a face)", "removed_faces"),
    ):
        for entry in corrections.get(key, []):
            who = entry.get("identity_name") or entry["identity_id"]
            rows.append((label, f"track {entry['track_id']} ({who})", spans(entry)))
    for entry in corrections.get("corrected_frames", []):
        frames = ", ".join(timecode(f / fps) for f in entry["corrected_frames"][:50])
        rows.append(("Boxes corrected by hand", f"track {entry['track_id']}", frames))
    for region in corrections.get("regions", []):
        what = f"{region['name']} ({region['shape']}, {region['method']}"
        what += ", tracked)" if region["tracked"] else ", static)"
        rows.append(("Region redacted", what, spans(region)))
    reviewed = (
        f"In the editor's review list, {review.get('reviewed', 0)} of {review.get('items', 0)} "
        "places flagged for a check by eye were marked reviewed; "
        f"{review.get('unreviewed_high_risk', 0)} of high risk were not."
    )
    if not rows:
        return f"<h2>Hand corrections</h2><p>No hand corrections. {e(reviewed)}</p>"
    body = "".join(f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td></tr>" for a, b, c in rows)
    return (
        "<h2>Hand corrections</h2><table><tr><th>Change</th><th>What</th><th>When</th></tr>"
        f"{body}</table><p>{e(reviewed)}</p>"
    )
