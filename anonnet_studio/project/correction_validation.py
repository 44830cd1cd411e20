"""Consistency of the hand corrections (schema 3) that field types alone cannot check."""

from __future__ import annotations

from anonnet_studio.project.schema import Project


def correction_problems(project: Project) -> list[str]:
    """Every inconsistency of regions, removed faces and review state, as sentences."""
    problems: list[str] = []
    video = project.source.media_info.get("video") or {}
    frame_count = int(video.get("frame_count") or 0)
    seen: set[int] = set()
    for region in project.regions:
        if region.id in seen:
            problems.append(f"region {region.id} appears twice")
        seen.add(region.id)
        problem = region.consistency_problem()
        if problem:
            problems.append(f"region {region.id}: {problem}")
        elif frame_count and region.end_frame > frame_count:
            problems.append(f"region {region.id} runs past the end of the video")
    for removed in project.removed_faces:
        if removed.track_id in project.tracks:
            problems.append(f"track {removed.track_id} is both present and removed")
        if removed.last_frame < removed.first_frame:
            problems.append(f"removed track {removed.track_id} has an empty frame range")
    if len(set(project.reviewed)) != len(project.reviewed):
        problems.append("a review item is marked reviewed twice")
    if any(not key.strip() for key in project.reviewed):
        problems.append("a reviewed item has an empty key")
    return problems
