"""Turn the project document into the renderer's frozen, plain-data `RenderPlan`."""

from __future__ import annotations

from collections.abc import Collection

from anonnet_studio.core.anonymize.plan import (
    AreaPlan,
    PersonPlan,
    RedactionMethod,
    RenderPlan,
    TrackGeometry,
)
from anonnet_studio.project.schema import Identity, Method, Project, RegionMethod, Track

# Region methods as the renderer names them (a solid fill is the face "mask" method).
AREA_METHODS = {
    RegionMethod.BLUR: RedactionMethod.BLUR,
    RegionMethod.PIXELATE: RedactionMethod.PIXELATE,
    RegionMethod.FILL: RedactionMethod.MASK,
}
# Plan id of the faces the user keeps visible although their person is hidden.
KEPT_FACES_SUFFIX = "/kept"


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
    people = []
    for identity in project.identities:
        tracks = project.tracks_of(identity.id)
        method = effective_method(identity, synthetic_ids)
        kept = [t for t in tracks if t.kept] if method.hides else []
        people.append(
            PersonPlan(
                identity_id=identity.id,
                method=method,
                embedding=identity.embedding,
                tracks=[_geometry(t) for t in tracks if not (t.kept and method.hides)],
                mask_margin=identity.generation.mask_margin,
            )
        )
        if kept:
            # The person stays hidden (the leak check still covers any face that looks
            # like them); only these faces are left as they are.
            people.append(
                PersonPlan(
                    identity_id=identity.id + KEPT_FACES_SUFFIX,
                    method=RedactionMethod.KEEP,
                    embedding=identity.embedding,
                    tracks=[_geometry(t) for t in kept],
                    mask_margin=identity.generation.mask_margin,
                )
            )
    areas = []
    for region in project.regions:
        frames, boxes = region.dense()
        areas.append(
            AreaPlan(
                name=region.name,
                shape=region.shape.value,
                method=AREA_METHODS[region.method],
                frames=frames,
                boxes=boxes,
            )
        )
    return RenderPlan(
        people=people,
        hide_everyone_else=hide_everyone_else,
        shots=tuple((s.start_frame, s.end_frame) for s in project.shots),
        leak_check=leak_check,
        side_by_side=side_by_side,
        crf=crf,
        areas=areas,
    )


def _geometry(track: Track) -> TrackGeometry:
    return TrackGeometry(frames=track.frames, boxes=track.boxes, landmarks5=track.landmarks5)
