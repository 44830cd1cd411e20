"""Generating people's synthetic faces: one service for both backends.

`generate_face` runs the shared generate -> verify -> retry loop
(`core.synthetic.verify.verified_candidates`) for one `FaceJob` with the person's backend
(`generation.backend`: AnonNET's SD 1.5 inpainting, or FAMS); the editor's Regenerate and
Generate for everyone run it on the worker. `generate_missing_faces` does it for every
hidden synthetic person an export still needs, loading each backend once, and says who is
redacted instead (e.g. their backend's weights are not downloaded) and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.motion.driving import landmarks_agree
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.core.synthetic.attempts import FacePlacement
from anonnet_studio.core.synthetic.backends import missing_models, unavailable_reason
from anonnet_studio.core.vision.factory import build_embedder
from anonnet_studio.core.vision.landmarks import SHAPE68_FILE, DlibLandmarks68
from anonnet_studio.core.vision.types import FaceDetector, FaceEmbedder, LandmarkPredictor
from anonnet_studio.project.backends import analysed_embedder
from anonnet_studio.project.schema import Project
from anonnet_studio.project.synthetic_faces import (
    NEEDS_ATTENTION,
    FaceJob,
    GeneratedFace,
    face_job,
    held_back_people,
    people_to_generate,
    record_generated,
)

if TYPE_CHECKING:
    # torch and diffusers load only when a face is generated.
    from anonnet_studio.core.synthetic.candidates import Candidate, CandidateMaker
    from anonnet_studio.core.synthetic.devices import ComputeDevice
    from anonnet_studio.core.synthetic.verify import EmbeddingVerifier

LANDMARK_MODEL = "dlib-face-models"
# backend name -> the loaded generator of that backend (the editor's worker keeps them)
GeneratorFactory = Callable[[str], Any]


class SyntheticVisionModels(Protocol):
    """What the synthetic stage needs from the vision models (`VisionModels` fits); a
    `landmarks` attribute (68 points) is used when present."""

    @property
    def detector(self) -> FaceDetector: ...

    @property
    def embedder(self) -> FaceEmbedder: ...


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


def candidate_maker(job: FaceJob, generator: Any) -> CandidateMaker:
    """The person's backend, set up with their settings, around the loaded `generator`
    of that backend."""
    backend = job.settings.effective_backend
    if backend == "fams":
        from anonnet_studio.core.synthetic.fams.candidates import FamsCandidates
        from anonnet_studio.core.synthetic.fams.generator import FamsFaceGenerator
        from anonnet_studio.core.synthetic.fams.settings import fams_settings

        _require(generator, FamsFaceGenerator, backend)
        return FamsCandidates(generator, fams_settings(job.settings), job.settings.strength)
    from anonnet_studio.core.synthetic.candidates import AnonNetCandidates
    from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator

    _require(generator, SyntheticFaceGenerator, backend)
    return AnonNetCandidates(generator, job.prompt, job.settings.negative_prompt, job.settings)


def generate_face(
    job: FaceJob,
    generator: Any,
    verifier: EmbeddingVerifier,
    frame: np.ndarray,
    detector: FaceDetector,
    landmarks: LandmarkPredictor,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> GeneratedFace:
    """Generate, verify and retry one person's face on their keyframe `frame` with their
    backend; `generator` is that backend's loaded generator."""
    from anonnet_studio.core.synthetic.verify import verified_candidates

    maker = candidate_maker(job, generator)
    verified = verified_candidates(
        maker,
        verifier,
        frame,
        job.box,
        job.landmarks68,
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
        # FAMS reads no prompt: record none rather than one that was not used.
        prompt=job.prompt if job.settings.effective_backend == "anonnet" else "",
        device=maker.device.describe(),
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

    `generator(backend)` returns that backend's loaded generator (the editor's worker
    keeps them); by default each backend is loaded once for `device`. A backend whose
    weights are missing gives its people a reason with the download command, not an error.
    """
    reasons = held_back_people(project)
    jobs: list[FaceJob] = []
    missing_by_backend: dict[str, tuple[str, ...]] = {}
    for identity in people_to_generate(project):
        backend = identity.generation.effective_backend
        if backend not in missing_by_backend:
            missing_by_backend[backend] = missing_models(manager.is_available, backend)
        missing = missing_by_backend[backend]
        if missing:
            reasons[identity.id] = f"{unavailable_reason(backend, missing)}; redacted with blur"
            continue
        try:
            jobs.append(face_job(project, identity.id))
        except AnonNetError:  # no keyframe with 68 landmarks for this person
            reasons[identity.id] = "no usable keyframe (no face with 68 landmarks); redacted"
    if not jobs:
        return [], reasons
    loaded = generator if generator is not None else LoadedGenerators(manager, device)
    verifier = anonymity_verifier(manager, vision_models.detector, analysed_embedder(project))
    landmarks = landmark_predictor(vision_models, manager)
    generated: list[GeneratedFace] = []
    with VideoReader(Path(project.source.path)) as reader:
        for number, job in enumerate(jobs, start=1):
            check_cancel(cancel)
            face = generate_face(
                job,
                loaded(job.settings.effective_backend),
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


class LoadedGenerators:
    """`GeneratorFactory` that loads each backend's generator once, on first use."""

    def __init__(self, manager: ModelManager, device: str | ComputeDevice = "auto") -> None:
        self._manager = manager
        self._device = device
        self._loaded: dict[str, Any] = {}

    def __call__(self, backend: str) -> Any:
        if backend not in self._loaded:
            self._loaded[backend] = load_generator(self._manager, backend, self._device)
        return self._loaded[backend]


def load_generator(manager: ModelManager, backend: str, device: str | ComputeDevice) -> Any:
    """The backend's generator with its models from `manager` (ModelUnavailableError
    names a missing one)."""
    compute = compute_device(device)
    if backend == "fams":
        from anonnet_studio.core.synthetic.fams.generator import FamsFaceGenerator

        return FamsFaceGenerator.load(manager.resolve, compute)
    if backend != "anonnet":
        raise ValueError(f"unknown synthetic backend {backend!r}")
    from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator

    return SyntheticFaceGenerator.load(manager.resolve, compute)


def synthetic_landmarks(
    result: Candidate, detector: FaceDetector, landmarks: LandmarkPredictor
) -> np.ndarray:
    """The generated face's own 68 landmarks (crop pixels). Both backends keep the pose,
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


def _require(generator: Any, kind: type, backend: str) -> None:
    if not isinstance(generator, kind):
        raise TypeError(f"the {backend} backend needs a {kind.__name__}, not {generator!r}")


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
