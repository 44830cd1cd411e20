"""Turn the project document into the renderer's frozen, plain-data `RenderPlan`."""

from __future__ import annotations

from collections.abc import Collection

from anonnet_studio.core.anonymize.plan import (
    PersonPlan,
    RedactionMethod,
    RenderPlan,
    TrackGeometry,
)
from anonnet_studio.project.schema import Identity, Method, Project


def wants_synthetic_face(identity: Identity) -> bool:
    """The user asked for this person to be replaced by a synthetic face."""
    return identity.hidden and identity.method == Method.SYNTHETIC


def effective_method(
    identity: Identity, synthetic_ids: Collection[str] | None = None
) -> RedactionMethod:
    """What the renderer does with this person. A person the user keeps is `keep`; a
    synthetic face that failed its anonymity check, or that the synthetic stage cannot
    serve (`synthetic_ids`: the people it has a face for), is blurred until the user acts."""
    if not identity.hidden or identity.method == Method.KEEP:
        return RedactionMethod.KEEP
    if identity.method == Method.SYNTHETIC and (
        identity.needs_attention or (synthetic_ids is not None and identity.id not in synthetic_ids)
    ):
        return RedactionMethod.BLUR
    return RedactionMethod(str(identity.method))


def render_plan_from_project(
    project: Project,
    *,
    side_by_side: bool = False,
    crf: int = 18,
    leak_check: bool = True,
    hide_everyone_else: bool = True,
    synthetic_ids: Collection[str] | None = None,
) -> RenderPlan:
    people = [
        PersonPlan(
            identity_id=identity.id,
            method=effective_method(identity, synthetic_ids),
            embedding=identity.embedding,
            tracks=[
                TrackGeometry(frames=t.frames, boxes=t.boxes, landmarks5=t.landmarks5)
                for t in project.tracks_of(identity.id)
            ],
            mask_margin=identity.generation.mask_margin,
        )
        for identity in project.identities
    ]
    return RenderPlan(
        people=people,
        hide_everyone_else=hide_everyone_else,
        shots=tuple((s.start_frame, s.end_frame) for s in project.shots),
        leak_check=leak_check,
        side_by_side=side_by_side,
        crf=crf,
    )
