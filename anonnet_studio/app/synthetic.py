"""The synthetic-face service: generation and motion, composed for the CLI and the editor.

One path for everybody. `generate_face` runs the generate -> verify -> retry loop for one
`FaceJob` (the editor's Regenerate and Generate for everyone run it on the worker);
`synthetic_stage` is what an export needs: it generates the faces still missing (with the
already loaded generator when there is one), records them in the project it was given
(`RecordGeneration`) and returns them, so the editor can record them in the live document
too and the next export reuses them; then it builds the animated face source (LivePortrait
when its weights are installed, else the embedded landmark warp). Missing diffusion weights
are not an error: the people concerned are redacted and the notes say why.

Typical export glue::

    stage = synthetic_stage(project, manager, vision, device=device, on_progress=bar)
    export_project(project, output, vision, synthetic=stage.source, notes=stage.notes)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from anonnet_studio.core.anonymize.plan import TrackGeometry
from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.models.manager import DOWNLOAD_COMMAND, ModelManager
from anonnet_studio.core.motion.driving import VideoFrames, landmarks_agree
from anonnet_studio.core.motion.face_source import (
    AnimatedFaceSource,
    LivePortraitBackend,
    MotionBackend,
    MotionOptions,
    SyntheticKeyframe,
)
from anonnet_studio.core.motion.fallback_warp import FallbackWarpBackend
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.core.synthetic.attempts import FacePlacement
from anonnet_studio.core.vision.factory import build_embedder
from anonnet_studio.core.vision.landmarks import SHAPE68_FILE, DlibLandmarks68
from anonnet_studio.core.vision.types import FaceDetector, FaceEmbedder, LandmarkPredictor
from anonnet_studio.project.backends import analysed_embedder
from anonnet_studio.project.render_plan import wants_synthetic_face
from anonnet_studio.project.schema import Identity, Project
from anonnet_studio.project.synthetic_faces import (
    NEEDS_ATTENTION,
    FaceJob,
    GeneratedFace,
    face_job,
    held_back_people,
    people_to_generate,
    record_generated,
    selected_face,
)

if TYPE_CHECKING:
    # torch and diffusers load only when a face is generated or LivePortrait animates.
    from anonnet_studio.core.motion.liveportrait import LivePortraitConfig
    from anonnet_studio.core.synthetic.devices import ComputeDevice
    from anonnet_studio.core.synthetic.generator import GenerationResult, SyntheticFaceGenerator
    from anonnet_studio.core.synthetic.verify import EmbeddingVerifier

LANDMARK_MODEL = "dlib-face-models"
LIVEPORTRAIT_MODELS = ("liveportrait-safetensors", "liveportrait")
FALLBACK_NOTE = (
    "animated with the embedded landmark warp (lower quality than LivePortrait, whose "
    "weights are not downloaded)"
)
GeneratorFactory = Callable[[], "SyntheticFaceGenerator"]


class SyntheticVisionModels(Protocol):
    """What the synthetic stage needs from the vision models (`VisionModels` fits); a
    `landmarks` attribute (68 points) is used when present."""

    @property
    def detector(self) -> FaceDetector: ...

    @property
    def embedder(self) -> FaceEmbedder: ...


@dataclass(frozen=True, slots=True)
class SyntheticStage:
    """What an export gets from the synthetic stage."""

    source: AnimatedFaceSource | None  # None: nobody is shown with a synthetic face
    notes: dict[str, str] = field(default_factory=dict)  # identity -> why redacted/fallback
    generated: tuple[GeneratedFace, ...] = ()  # runs made now (already in the project)


# --- generation ---------------------------------------------------------------------------


def verifier_embedder_key(leak_check_embedder: str | None) -> str:
    """The embedded embedder the anonymity check uses: never the leak check's own, so a
    face one of them cannot tell apart from the person is still caught by the other."""
    return "dlib" if leak_check_embedder in (None, "sface") else "sface"


def anonymity_verifier(
    manager: ModelManager, detector: FaceDetector, leak_check_embedder: str | None
) -> EmbeddingVerifier:
    """The anonymity check for a project whose leak check uses `leak_check_embedder`."""
    from anonnet_studio.core.synthetic.verify import EmbeddingVerifier

    embedder = build_embedder(verifier_embedder_key(leak_check_embedder), manager.resolve)
    return EmbeddingVerifier(embedder, detector)


def generate_face(
    job: FaceJob,
    generator: SyntheticFaceGenerator,
    verifier: EmbeddingVerifier,
    frame: np.ndarray,
    detector: FaceDetector,
    landmarks: LandmarkPredictor,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> GeneratedFace:
    """Generate, verify and retry one person's face on their keyframe `frame`."""
    from anonnet_studio.core.synthetic.verify import generate_verified

    verified = generate_verified(
        generator,
        verifier,
        frame,
        job.box,
        job.landmarks68,
        job.prompt,
        job.settings.negative_prompt,
        job.settings,
        on_progress=on_progress,
        cancel=cancel,
    )
    chosen = verified.chosen
    placement = FacePlacement.from_arrays(
        track_id=job.track_id,
        frame_index=job.frame_index,
        image_to_frame=chosen.placement.crop_to_frame_matrix(),
        landmarks68=synthetic_landmarks(chosen, detector, landmarks),
        box=job.box,
        landmarks5=job.landmarks5,
    )
    image = np.array(chosen.composited_crop, copy=True)
    image.setflags(write=False)
    return GeneratedFace(
        identity_id=job.identity_id,
        attempts=verified.attempts,
        chosen_index=verified.chosen_index,
        image=image,
        placement=placement,
        needs_attention=verified.needs_attention,
        prompt=job.prompt,
        device=generator.device.describe(),
    )


def generate_missing_faces(
    project: Project,
    manager: ModelManager,
    vision_models: SyntheticVisionModels,
    *,
    device: str | ComputeDevice = "auto",
    generator: GeneratorFactory | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[list[GeneratedFace], dict[str, str]]:
    """Generate a face for every hidden synthetic person without one and record each run
    in `project`. Returns (the runs, {identity: why that person is redacted instead}).

    `generator` returns the loaded generator (the editor's worker keeps one); by default
    it is loaded for `device`. Missing diffusion weights give reasons, not an error.
    """
    from anonnet_studio.core.synthetic.pipeline import REQUIRED_MODELS

    reasons = held_back_people(project)
    wanted = people_to_generate(project)
    if not wanted:
        return [], reasons
    missing = [name for name in REQUIRED_MODELS if not manager.is_available(name)]
    if missing:
        reason = (
            "synthetic face model not downloaded: run "
            f"`{DOWNLOAD_COMMAND} {' '.join(missing)}`; redacted with blur instead"
        )
        return [], reasons | {identity.id: reason for identity in wanted}
    jobs = []
    for identity in wanted:
        try:
            jobs.append(face_job(project, identity.id))
        except AnonNetError:  # no keyframe with 68 landmarks for this person
            reasons[identity.id] = "no usable keyframe (no face with 68 landmarks); redacted"
    if not jobs:
        return [], reasons
    loaded = generator() if generator is not None else _load_generator(manager, device)
    verifier = anonymity_verifier(manager, vision_models.detector, analysed_embedder(project))
    landmarks = landmark_predictor(vision_models, manager)
    generated: list[GeneratedFace] = []
    with VideoReader(Path(project.source.path)) as reader:
        for number, job in enumerate(jobs, start=1):
            check_cancel(cancel)
            face = generate_face(
                job,
                loaded,
                verifier,
                reader.frame_at(job.frame_index),
                vision_models.detector,
                landmarks,
                on_progress=_person_progress(on_progress, job.identity_name, number, len(jobs)),
                cancel=cancel,
            )
            generated.append(face)
            if face.needs_attention:
                reasons[job.identity_id] = NEEDS_ATTENTION
    record_generated(project, generated)
    return generated, reasons


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


def synthetic_landmarks(
    result: GenerationResult, detector: FaceDetector, landmarks: LandmarkPredictor
) -> np.ndarray:
    """The generated face's own 68 landmarks (crop pixels). The ControlNets keep the pose,
    so the original's landmarks stand in when the prediction is implausible."""
    from anonnet_studio.core.synthetic.verify import box_iou, detection_from_landmarks

    crop = result.composited_crop
    expected = detection_from_landmarks(result.landmarks_crop)
    found = [d for d in detector.detect(crop) if box_iou(d.box, expected.box) > 0.3]
    if found:
        face = max(found, key=lambda d: box_iou(d.box, expected.box))
        points = landmarks.landmarks68(crop, face.box)
        if landmarks_agree(points, face.landmarks5, face.box):
            return np.asarray(points, np.float32)
    return np.asarray(result.landmarks_crop, np.float32)


def landmark_predictor(
    vision_models: SyntheticVisionModels, manager: ModelManager
) -> LandmarkPredictor:
    """The vision models' 68-point predictor, else dlib's embedded one."""
    predictor = getattr(vision_models, "landmarks", None)
    if isinstance(predictor, LandmarkPredictor):
        return predictor
    return DlibLandmarks68(manager.file(LANDMARK_MODEL, SHAPE68_FILE))


def compute_device(device: str | ComputeDevice) -> ComputeDevice:
    """The torch device for a preference ("auto", "cpu", "cuda", "mps")."""
    from anonnet_studio.core.synthetic.devices import ComputeDevice, select_device

    if isinstance(device, ComputeDevice):
        return device
    return select_device(device)  # type: ignore[arg-type]  # checked there, with a message


def _load_generator(manager: ModelManager, device: str | ComputeDevice) -> SyntheticFaceGenerator:
    from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator

    return SyntheticFaceGenerator.load(manager.resolve, compute_device(device))


@dataclass(frozen=True, slots=True)
class _PersonProgress:
    callback: ProgressCallback
    label: str

    def __call__(self, progress: Progress) -> None:
        message = f"{self.label}: {progress.message}" if progress.message else self.label
        self.callback(Progress(progress.stage, progress.done, progress.total, message))


def _person_progress(
    callback: ProgressCallback | None, name: str, number: int, count: int
) -> ProgressCallback | None:
    if callback is None:
        return None
    return _PersonProgress(callback, f"{name} ({number} of {count})")
