"""A compact, JSON-ready summary of a project (for `analyze --json` and scripts)."""

from __future__ import annotations

from typing import Any

from anonnet_studio.project.prompting import effective_prompt
from anonnet_studio.project.review import review_counts
from anonnet_studio.project.schema import ATTRIBUTE_NAMES, Project


def project_summary(project: Project) -> dict[str, Any]:
    """`scenes`: [{start_frame, end_frame (exclusive)}]; `identities`: [{id, name, scenes
    (shot indices), frames (number of frames on screen), attributes, prompt, hidden,
    method}]."""
    identities = []
    for identity in project.identities:
        tracks = project.tracks_of(identity.id)
        attributes: dict[str, Any] = {}
        for name in ATTRIBUTE_NAMES:
            value = identity.attributes.get(name)
            attributes[name] = {
                "value": value.effective,
                "detected": value.detected,
                "confidence": value.confidence,
                "override": value.override,
            }
        attributes["age_years"] = identity.attributes.age_years
        identities.append(
            {
                "id": identity.id,
                "name": identity.name,
                "scenes": sorted({t.shot_index for t in tracks}),
                "frames": len(project.frames_of(identity.id)),
                "attributes": attributes,
                "prompt": effective_prompt(identity),
                "seed": identity.generation.seed,
                "hidden": identity.hidden,
                "method": str(identity.method),
            }
        )
    return {
        "source": project.source.path,
        "scenes": [{"start_frame": s.start_frame, "end_frame": s.end_frame} for s in project.shots],
        "identities": identities,
        "corrections": {
            "manual_tracks": sum(1 for t in project.tracks.values() if t.manual),
            "kept_faces": sum(1 for t in project.tracks.values() if t.kept),
            "corrected_frames": sum(len(t.corrected_frames) for t in project.tracks.values()),
            "removed_faces": len(project.removed_faces),
            "regions": len(project.regions),
        },
        "review": review_counts(project),
    }
