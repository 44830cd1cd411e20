"""Build job requests from a live project: copy out exactly what the job needs."""

from __future__ import annotations

from pathlib import Path

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.prompting import effective_prompt
from anonnet_studio.project.schema import Project, Track
from anonnet_studio.workers.requests import GenerationRequest, frozen_array


def best_keyframe_track(project: Project, identity_id: str) -> Track | None:
    """The person's track whose keyframe is the most frontal (lowest |yaw| + |pitch|),
    ties broken by detection score."""
    candidates = [t for t in project.tracks_of(identity_id) if t.keyframe is not None]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda t: (abs(t.keyframe.yaw) + abs(t.keyframe.pitch), -t.keyframe.score),  # type: ignore[union-attr]
    )


def generation_request(project: Project, identity_id: str) -> GenerationRequest:
    """What the worker needs to generate this person's synthetic face."""
    identity = project.identity(identity_id)
    track = best_keyframe_track(project, identity_id)
    if track is None or track.keyframe is None:
        raise AnonNetError(
            f"{identity.name} has no usable frontal keyframe, so no synthetic face can be "
            "generated for them.",
            hint="Choose blur, pixelate or mask for this person instead.",
        )
    keyframe = track.keyframe
    box = track.box_at(keyframe.frame_index)
    assert box is not None  # a keyframe lies inside its track
    settings = identity.generation
    return GenerationRequest(
        identity_id=identity.id,
        identity_name=identity.name,
        video_path=Path(project.source.path),
        keyframe_index=keyframe.frame_index,
        box=frozen_array(box),
        landmarks68=frozen_array(keyframe.landmarks68),
        prompt=effective_prompt(identity),
        negative_prompt=settings.negative_prompt,
        seed=settings.seed,
        strength=settings.strength,
        steps=settings.steps,
        guidance=settings.guidance,
        control_scales=tuple(settings.control_scales),  # type: ignore[arg-type]
        max_side=settings.max_side,
        mask_mode=settings.mask_mode,
        track_id=track.id,
        landmarks5=frozen_array(track.landmarks5_at(keyframe.frame_index)),
    )
