"""Composition of the synthetic-face stage for the CLI and the editor.

`prepare_synthetic_faces` generates ONE verified synthetic face per hidden person (from
their best keyframe, with the anonymity check and its retries) and stores it in the
project; `build_face_source` turns the chosen faces into the renderer's
`SyntheticFaceSource`, animated by LivePortrait when its weights are installed and by the
embedded landmark warp otherwise. Missing diffusion weights are not an error: the people
concerned are reported and redacted instead.

Typical export glue::

    notes = prepare_synthetic_faces(project, manager, vision, on_progress=bar, cancel=token)
    source = build_face_source(project, manager, vision, on_progress=bar, cancel=token)
    export_project(project, output, vision, synthetic=source, ...)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from anonnet_studio.core.anonymize.plan import TrackGeometry
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
from anonnet_studio.core.synthetic.devices import ComputeDevice, DevicePreference, select_device
from anonnet_studio.core.synthetic.generator import GenerationResult, SyntheticFaceGenerator
from anonnet_studio.core.synthetic.pipeline import REQUIRED_MODELS
from anonnet_studio.core.synthetic.settings import GenerationSettings
from anonnet_studio.core.synthetic.verify import (
    EmbeddingVerifier,
    VerifiedResult,
    box_iou,
    detection_from_landmarks,
    generate_verified,
)
from anonnet_studio.core.vision.landmarks import SHAPE68_FILE, DlibLandmarks68
from anonnet_studio.core.vision.types import FaceDetector, FaceEmbedder, LandmarkPredictor
from anonnet_studio.project.prompting import effective_prompt
from anonnet_studio.project.render_plan import wants_synthetic_face
from anonnet_studio.project.schema import (
    GenerationAttempt,
    Identity,
    Keyframe,
    Project,
    Track,
)
from anonnet_studio.project.settings import SYNTHETIC_FACES_KEY
from anonnet_studio.project.settings import GenerationSettings as ProjectGenerationSettings

if TYPE_CHECKING:
    from anonnet_studio.core.motion.liveportrait import LivePortraitConfig

# project.analysis[SYNTHETIC_FACES_KEY][image key]: how a candidate image sits in its
# keyframe and where the synthetic face's landmarks are (JSON, beside Project.images).
LANDMARK_MODEL = "dlib-face-models"
LIVEPORTRAIT_MODELS = ("liveportrait-safetensors", "liveportrait")
NEEDS_ATTENTION = (
    "every generated face still looked like the original person (anonymity check); "
    "redacted with blur until a face is chosen or regenerated"
)
# Keyframe choice across a person's tracks: frontal first, then large.
_FRONTALITY_SCALE_DEG = 60.0
_SIZE_WEIGHT = 0.3


class SyntheticVisionModels(Protocol):
    """What the synthetic stage needs from the vision models (`VisionModels` fits); a
    `landmarks` attribute (68 points) is used when present."""

    @property
    def detector(self) -> FaceDetector: ...

    @property
    def embedder(self) -> FaceEmbedder: ...


def prepare_synthetic_faces(
    project: Project,
    manager: ModelManager,
    vision_models: SyntheticVisionModels,
    *,
    device: DevicePreference | ComputeDevice | None = None,
    generator: SyntheticFaceGenerator | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, str]:
    """Generate a synthetic face for every hidden synthetic person without a chosen one.

    Stores the chosen candidate in `project.images` (key "P1-attempt-0", ...), every attempt
    in `identity.attempts`, selects it, and sets `needs_attention` when no attempt passed
    the anonymity check. Returns {identity id: why that person will be redacted instead of
    shown with a synthetic face}; empty when everyone has one. Missing diffusion weights
    give such reasons, not an error. `generator` reuses an already loaded generator.
    """
    people = [i for i in project.identities if wants_synthetic_face(i)]
    wanted = [i for i in people if not has_synthetic_face(project, i)]
    # People generated earlier whose face failed the anonymity check stay redacted.
    reasons = {
        i.id: NEEDS_ATTENTION
        for i in people
        if has_synthetic_face(project, i) and i.needs_attention
    }
    if not wanted:
        return reasons
    missing = [name for name in REQUIRED_MODELS if not manager.is_available(name)]
    if missing and generator is None:
        reason = (
            "synthetic face model not downloaded: run "
            f"`{DOWNLOAD_COMMAND} {' '.join(missing)}`; redacted with blur instead"
        )
        return reasons | {identity.id: reason for identity in wanted}
    if generator is None:
        generator = SyntheticFaceGenerator.load(manager.resolve, _compute_device(device))
    verifier = EmbeddingVerifier(vision_models.embedder, vision_models.detector)
    landmarks = landmark_predictor(vision_models, manager)
    with VideoReader(Path(project.source.path)) as reader:
        for number, identity in enumerate(wanted, start=1):
            check_cancel(cancel)
            chosen = choose_keyframe(project, identity)
            if chosen is None:
                reasons[identity.id] = "no usable keyframe (no face with 68 landmarks); redacted"
                continue
            track, keyframe = chosen
            frame = reader.frame_at(keyframe.frame_index)
            box = track.box_at(keyframe.frame_index)
            assert box is not None  # choose_keyframe only returns keyframes inside the track
            verified = generate_verified(
                generator,
                verifier,
                frame,
                box,
                keyframe.landmarks68,
                effective_prompt(identity),
                identity.generation.negative_prompt,
                generation_settings(identity.generation),
                on_progress=_person_progress(on_progress, identity, number, len(wanted)),
                cancel=cancel,
            )
            synthetic68 = synthetic_landmarks(verified.chosen, vision_models.detector, landmarks)
            store_result(project, identity, verified, track, keyframe.frame_index, synthetic68)
            if verified.needs_attention:
                reasons[identity.id] = NEEDS_ATTENTION
    return reasons


def build_face_source(
    project: Project,
    manager: ModelManager,
    vision_models: SyntheticVisionModels,
    *,
    device: DevicePreference | ComputeDevice | None = None,
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


def synthetic_stage(
    project: Project,
    manager: ModelManager,
    vision_models: SyntheticVisionModels,
    *,
    device: DevicePreference | ComputeDevice | None = None,
    generator: SyntheticFaceGenerator | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[AnimatedFaceSource | None, dict[str, str]]:
    """Everything export needs from the synthetic stage, shared by the CLI and the editor:
    generate the missing faces, build the animated source, and say per person why they are
    redacted instead or animated with the lower-quality fallback."""
    if not any(wants_synthetic_face(identity) for identity in project.identities):
        return None, {}
    notes = prepare_synthetic_faces(
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
            notes.setdefault(
                identity_id,
                "animated with the embedded landmark warp (lower quality than LivePortrait, "
                "whose weights are not downloaded)",
            )
    return source, notes


def motion_backend(
    manager: ModelManager,
    landmarks: LandmarkPredictor,
    device: DevicePreference | ComputeDevice | None = None,
    options: MotionOptions | None = None,
    liveportrait_config: LivePortraitConfig | None = None,
) -> MotionBackend:
    """LivePortrait when its weights are installed, else the embedded landmark warp."""
    if not any(manager.is_available(name) for name in LIVEPORTRAIT_MODELS):
        return FallbackWarpBackend(landmarks)
    from anonnet_studio.core.motion.liveportrait import AnimatorOptions, LivePortraitAnimator
    from anonnet_studio.core.motion.liveportrait.loading import load_liveportrait_from

    compute = _compute_device(device)
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


# --- the project side ---------------------------------------------------------------------


def has_synthetic_face(project: Project, identity: Identity) -> bool:
    """True when the person has a selected candidate whose image and placement exist."""
    return _selected_image_key(project, identity) is not None


def synthetic_keyframe(project: Project, identity: Identity) -> SyntheticKeyframe | None:
    """The person's selected synthetic face, as the motion stage needs it."""
    key = _selected_image_key(project, identity)
    if key is None:
        return None
    meta = project.analysis[SYNTHETIC_FACES_KEY][key]
    return SyntheticKeyframe(
        identity_id=identity.id,
        image=project.images[key],
        landmarks68=np.asarray(meta["landmarks68"], np.float32),
        image_to_frame=np.asarray(meta["image_to_frame"], np.float64),
        frame_index=int(meta["frame_index"]),
        box=np.asarray(meta["box"], np.float32),
        landmarks5=np.asarray(meta["landmarks5"], np.float32),
    )


def choose_keyframe(project: Project, identity: Identity) -> tuple[Track, Keyframe] | None:
    """The person's best keyframe over all their tracks: frontal first, then large."""
    candidates = []
    for track in project.tracks_of(identity.id):
        keyframe = track.keyframe
        box = track.box_at(keyframe.frame_index) if keyframe is not None else None
        if keyframe is not None and box is not None:
            candidates.append((track, keyframe, float(max(box[2] - box[0], box[3] - box[1]))))
    if not candidates:
        return None
    largest = max(size for _, _, size in candidates) or 1.0

    def cost(item: tuple[Track, Keyframe, float]) -> float:
        _, keyframe, size = item
        frontality = (abs(keyframe.yaw) + abs(keyframe.pitch)) / _FRONTALITY_SCALE_DEG
        return frontality - _SIZE_WEIGHT * size / largest

    track, keyframe, _ = min(candidates, key=cost)
    return track, keyframe


def generation_settings(settings: ProjectGenerationSettings) -> GenerationSettings:
    """The generator's settings for a person's (project) generation settings."""
    return GenerationSettings(
        seed=int(settings.seed),
        steps=int(settings.steps),
        guidance=float(settings.guidance),
        strength=float(settings.strength),
        control_scales=tuple(float(s) for s in settings.control_scales),  # type: ignore[arg-type]
        max_side=int(settings.max_side),
        min_side=min(512, int(settings.max_side)),
    ).for_mask_mode(settings.mask_mode)


def synthetic_landmarks(
    result: GenerationResult, detector: FaceDetector, landmarks: LandmarkPredictor
) -> np.ndarray:
    """The generated face's own 68 landmarks (crop pixels). The ControlNets keep the pose,
    so the original's landmarks stand in when the prediction is implausible."""
    crop = result.composited_crop
    expected = detection_from_landmarks(result.landmarks_crop)
    found = [d for d in detector.detect(crop) if box_iou(d.box, expected.box) > 0.3]
    if found:
        face = max(found, key=lambda d: box_iou(d.box, expected.box))
        points = landmarks.landmarks68(crop, face.box)
        if landmarks_agree(points, face.landmarks5, face.box):
            return np.asarray(points, np.float32)
    return np.asarray(result.landmarks_crop, np.float32)


def store_result(
    project: Project,
    identity: Identity,
    verified: VerifiedResult,
    track: Track,
    frame_index: int,
    synthetic68: np.ndarray,
) -> str:
    """Record every attempt, store and select the chosen candidate; returns its image key."""
    first = len(identity.attempts)
    # Image keys become file names in the project's array sidecar: no "/" (validation.py).
    key = f"{identity.id}-attempt-{first + verified.chosen_index}"
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    identity.attempts.extend(attempts_from_verified(verified, key, created))
    project.images[key] = verified.chosen.composited_crop
    box = track.box_at(frame_index)
    landmarks5 = track.landmarks5_at(frame_index)
    assert box is not None and landmarks5 is not None
    project.analysis.setdefault(SYNTHETIC_FACES_KEY, {})[key] = face_metadata(
        identity.id, verified.chosen, synthetic68, frame_index, box, landmarks5, track.id
    )
    identity.selected_attempt = first + verified.chosen_index
    identity.needs_attention = verified.needs_attention
    return key


def attempts_from_verified(
    verified: VerifiedResult, image_key: str, created_at: str
) -> list[GenerationAttempt]:
    """Project records of every attempt of one run. Only the chosen candidate keeps an
    image: the others were rejected (often still recognisable) and are stored nowhere."""
    return [
        GenerationAttempt(
            seed=attempt.seed,
            strength=attempt.strength,
            steps=attempt.steps,
            guidance=attempt.guidance,
            distance=attempt.distance,
            passed=attempt.passed,
            image_key=image_key if attempt.index == verified.chosen_index else None,
            created_at=created_at,
        )
        for attempt in verified.attempts
    ]


def face_metadata(
    identity_id: str,
    result: GenerationResult,
    synthetic68: np.ndarray,
    frame_index: int,
    box: np.ndarray,
    landmarks5: np.ndarray,
    track_id: int,
) -> dict[str, Any]:
    """What the motion stage needs to animate a stored candidate (JSON-ready), kept in
    `project.analysis["synthetic_faces"][image_key]`."""
    return {
        "identity_id": identity_id,
        "track_id": int(track_id),
        "frame_index": int(frame_index),
        "image_to_frame": result.placement.crop_to_frame_matrix().tolist(),
        "landmarks68": np.asarray(synthetic68, np.float64).round(2).tolist(),
        "box": np.asarray(box, np.float64).round(2).tolist(),
        "landmarks5": np.asarray(landmarks5, np.float64).round(2).tolist(),
    }


def landmark_predictor(
    vision_models: SyntheticVisionModels, manager: ModelManager
) -> LandmarkPredictor:
    """The vision models' 68-point predictor, else dlib's embedded one."""
    predictor = getattr(vision_models, "landmarks", None)
    if isinstance(predictor, LandmarkPredictor):
        return predictor
    return DlibLandmarks68(manager.file(LANDMARK_MODEL, SHAPE68_FILE))


def _selected_image_key(project: Project, identity: Identity) -> str | None:
    index = identity.selected_attempt
    if index is None or not 0 <= index < len(identity.attempts):
        return None
    key = identity.attempts[index].image_key
    faces = project.analysis.get(SYNTHETIC_FACES_KEY, {})
    if key is None or key not in project.images or key not in faces:
        return None
    return key


def _compute_device(device: DevicePreference | ComputeDevice | None) -> ComputeDevice:
    if isinstance(device, ComputeDevice):
        return device
    return select_device(device or "auto")


@dataclass(frozen=True, slots=True)
class _PersonProgress:
    callback: ProgressCallback
    label: str

    def __call__(self, progress: Progress) -> None:
        message = f"{self.label}: {progress.message}" if progress.message else self.label
        self.callback(Progress(progress.stage, progress.done, progress.total, message))


def _person_progress(
    callback: ProgressCallback | None, identity: Identity, number: int, count: int
) -> ProgressCallback | None:
    if callback is None:
        return None
    return _PersonProgress(callback, f"{identity.name} ({number} of {count})")
