"""The synthetic-face service: generation and motion, composed for the CLI and the editor.

One path for everybody and both backends (AnonNET's SD 1.5, FAMS). `generate_face`
(`app.synthetic_generation`) runs the generate -> verify -> retry loop for one `FaceJob`
with the person's backend (the editor's Regenerate and Generate for everyone run it on
the worker); `synthetic_stage` is what an export needs: it generates the faces still
missing (with the already loaded generators when there are), records them in the project
it was given
(`RecordGeneration`) and returns them, so the editor can record them in the live document
too and the next export reuses them; then it builds the animated face source (LivePortrait
when its weights are installed, else the embedded landmark warp). Missing diffusion weights
are not an error: the people concerned are redacted and the notes say why (with the
download command of their backend).

Typical export glue::

    stage = synthetic_stage(project, manager, vision, device=device, on_progress=bar)
    export_project(project, output, vision, synthetic=stage.source, notes=stage.notes)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from anonnet_studio.app.synthetic_generation import (
    GeneratorFactory,
    SyntheticVisionModels,
    anonymity_verifier,
    compute_device,
    generate_face,
    generate_missing_faces,
    landmark_predictor,
    synthetic_landmarks,
    verifier_embedder_key,
)
from anonnet_studio.core.anonymize.plan import TrackGeometry
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.motion.driving import VideoFrames
from anonnet_studio.core.motion.face_source import (
    AnimatedFaceSource,
    LivePortraitBackend,
    MotionBackend,
    MotionOptions,
    SyntheticKeyframe,
)
from anonnet_studio.core.motion.fallback_warp import FallbackWarpBackend
from anonnet_studio.core.progress import CancelToken, ProgressCallback
from anonnet_studio.core.vision.types import LandmarkPredictor
from anonnet_studio.project.render_plan import wants_synthetic_face
from anonnet_studio.project.schema import Identity, Project
from anonnet_studio.project.synthetic_faces import GeneratedFace, selected_face

if TYPE_CHECKING:
    # torch loads only when LivePortrait animates.
    from anonnet_studio.core.motion.liveportrait import LivePortraitConfig
    from anonnet_studio.core.synthetic.devices import ComputeDevice

__all__ = [
    "GeneratorFactory",
    "SyntheticStage",
    "SyntheticVisionModels",
    "anonymity_verifier",
    "build_face_source",
    "compute_device",
    "generate_face",
    "generate_missing_faces",
    "landmark_predictor",
    "motion_backend",
    "synthetic_keyframe",
    "synthetic_landmarks",
    "synthetic_stage",
    "verifier_embedder_key",
]

LIVEPORTRAIT_MODELS = ("liveportrait-safetensors", "liveportrait")
FALLBACK_NOTE = (
    "animated with the embedded landmark warp (lower quality than LivePortrait, whose "
    "weights are not downloaded)"
)


@dataclass(frozen=True, slots=True)
class SyntheticStage:
    """What an export gets from the synthetic stage."""

    source: AnimatedFaceSource | None  # None: nobody is shown with a synthetic face
    notes: dict[str, str] = field(default_factory=dict)  # identity -> why redacted/fallback
    generated: tuple[GeneratedFace, ...] = ()  # runs made now (already in the project)


# --- the export's stage -------------------------------------------------------------------


def synthetic_stage(
    project: Project,
    manager: ModelManager,
    vision_models: SyntheticVisionModels,
    *,
    device: str | ComputeDevice = "auto",
    generator: GeneratorFactory | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> SyntheticStage:
    """Everything an export needs from the synthetic stage, for the CLI and the editor:
    generate (and record) the missing faces, build the animated source, and say per
    person why they are redacted instead or animated with the lower-quality fallback."""
    if not any(wants_synthetic_face(identity) for identity in project.identities):
        return SyntheticStage(None)
    generated, notes = generate_missing_faces(
        project,
        manager,
        vision_models,
        device=device,
        generator=generator,
        on_progress=on_progress,
        cancel=cancel,
    )
    source = build_face_source(
        project, manager, vision_models, device=device, on_progress=on_progress, cancel=cancel
    )
    if source is not None and source.is_fallback:
        for identity_id in source.identities:
            notes.setdefault(identity_id, FALLBACK_NOTE)
    return SyntheticStage(source, notes, tuple(generated))


def build_face_source(
    project: Project,
    manager: ModelManager,
    vision_models: SyntheticVisionModels,
    *,
    device: str | ComputeDevice = "auto",
    options: MotionOptions | None = None,
    liveportrait_config: LivePortraitConfig | None = None,
    prepare: bool = True,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> AnimatedFaceSource | None:
    """The renderer's synthetic stage for every hidden synthetic person with a chosen,
    passing face, or None when there is none (the renderer then redacts them).

    LivePortrait animates when its weights resolve through `manager` (never downloaded
    here), else the embedded landmark warp (`source.is_fallback`). With `prepare` the
    driving motion of every track is read now (with progress), not during rendering.
    `liveportrait_config` overrides the network configuration (tests).
    """
    faces = {}
    for identity in project.identities:
        if wants_synthetic_face(identity) and not identity.needs_attention:
            face = synthetic_keyframe(project, identity)
            if face is not None:
                faces[identity.id] = face
    if not faces:
        return None
    landmarks = landmark_predictor(vision_models, manager)
    backend = motion_backend(manager, landmarks, device, options, liveportrait_config)
    tracks = {
        identity_id: [
            TrackGeometry(t.frames, t.boxes, t.landmarks5) for t in project.tracks_of(identity_id)
        ]
        for identity_id in faces
    }
    source = AnimatedFaceSource(faces, backend, VideoFrames(project.source.path), tracks=tracks)
    if prepare:
        source.prepare(on_progress=on_progress, cancel=cancel)
    return source


def motion_backend(
    manager: ModelManager,
    landmarks: LandmarkPredictor,
    device: str | ComputeDevice = "auto",
    options: MotionOptions | None = None,
    liveportrait_config: LivePortraitConfig | None = None,
) -> MotionBackend:
    """LivePortrait when its weights are installed, else the embedded landmark warp."""
    if not any(manager.is_available(name) for name in LIVEPORTRAIT_MODELS):
        return FallbackWarpBackend(landmarks)
    from anonnet_studio.core.motion.liveportrait import AnimatorOptions, LivePortraitAnimator
    from anonnet_studio.core.motion.liveportrait.loading import load_liveportrait_from

    compute = compute_device(device)
    models = load_liveportrait_from(
        manager, compute.torch_device, compute.dtype, liveportrait_config
    )
    options = options or MotionOptions()
    # No lip-zero: the reference frame is the original at the keyframe, whose mouth
    # matches the synthetic source's, so closing the source mouth first would be wrong.
    animator = LivePortraitAnimator(
        models, AnimatorOptions(lip_zero=False, motion_batch_size=options.motion_batch_size)
    )
    return LivePortraitBackend(animator, landmarks, options)


def synthetic_keyframe(project: Project, identity: Identity) -> SyntheticKeyframe | None:
    """The person's selected synthetic face, as the motion stage needs it."""
    stored = selected_face(project, identity)
    if stored is None:
        return None
    image, placement = stored
    return SyntheticKeyframe(
        identity_id=identity.id,
        image=image,
        landmarks68=placement.landmarks68_array(),
        image_to_frame=placement.image_to_frame_matrix(),
        frame_index=placement.frame_index,
        box=placement.box_array(),
        landmarks5=placement.landmarks5_array(),
    )
