"""What each job does: plain functions over `core`/`project`, run on the compute thread.

Each handler takes its frozen request, the thread's `ComputeServices`, a progress callback
and a cancel token, and returns a plain-data result (see `results.py`).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from anonnet_studio.core.anonymize.methods import default_redactors
from anonnet_studio.core.anonymize.redaction import FrameRedactor, redact_frame
from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.core.voice.settings import VoiceMethod
from anonnet_studio.project.backends import choice_for_project
from anonnet_studio.project.synthetic_faces import GeneratedFace
from anonnet_studio.workers.batch_jobs import BATCH_HANDLERS
from anonnet_studio.workers.correction_jobs import CORRECTION_HANDLERS
from anonnet_studio.workers.model_jobs import MODEL_HANDLERS
from anonnet_studio.workers.requests import (
    AnalysisRequest,
    ConfigureRequest,
    ExportRequest,
    GenerationRequest,
    JobRequest,
    ModelStatusRequest,
    OpenProjectRequest,
    PreviewRequest,
    WarmUpRequest,
)
from anonnet_studio.workers.results import (
    AnalysisDone,
    Configured,
    ExportDone,
    ModelStatus,
    PreviewFrame,
    ProjectOpened,
)
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.voice_jobs import VOICE_HANDLERS

if TYPE_CHECKING:
    from anonnet_studio.app.synthetic import SyntheticStage
    from anonnet_studio.core.vision.factory import VisionModels

Handler = Callable[[Any, ComputeServices, ProgressCallback, CancelToken], object]


def run_request(
    request: JobRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> object:
    """Dispatch `request` to its handler."""
    handler = _HANDLERS.get(type(request))
    if handler is None:
        raise TypeError(f"no handler for {type(request).__name__}")
    return handler(request, services, on_progress, cancel)


def configure(
    request: ConfigureRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> Configured:
    services.configure(request.config)
    return Configured(f"Compute device: {request.config.device}")


def model_status(
    request: ModelStatusRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> ModelStatus:
    from anonnet_studio.core.synthetic.backends import (
        DEFAULT_BACKEND,
        SYNTHETIC_BACKENDS,
        missing_models,
    )

    manager = services.manager()
    by_backend = tuple((b, missing_models(manager.is_available, b)) for b in SYNTHETIC_BACKENDS)
    return ModelStatus(dict(by_backend)[DEFAULT_BACKEND], by_backend)


def warm_up(
    request: WarmUpRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> Configured:
    on_progress(Progress("Loading face models", 0, None))
    models = services.vision()
    return Configured("Face models ready: " + ", ".join(models.describe().values()))


def analyse(
    request: AnalysisRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> AnalysisDone:
    from anonnet_studio.core.analysis.pipeline import analyze_video
    from anonnet_studio.project.from_analysis import project_from_analysis

    on_progress(Progress("Loading face models", 0, None))
    models = services.vision()
    check_cancel(cancel)
    result = analyze_video(
        request.video_path, models, request.settings, on_progress=on_progress, cancel=cancel
    )
    project = project_from_analysis(
        result,
        request.video_path,
        rng=random.Random(request.identity_seed),
        default_method=request.default_method,
        on_progress=on_progress,
        cancel=cancel,
    )
    for identity in project.identities:
        identity.generation = dataclasses.replace(
            identity.generation, mask_margin=request.default_mask_margin
        )
    return AnalysisDone(project=project, timings_s=dict(result.timings_s))


def open_project(
    request: OpenProjectRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> ProjectOpened:
    from anonnet_studio.project.io import load_project

    project = load_project(request.project_path, on_progress=on_progress, cancel=cancel)
    return ProjectOpened(project=project, path=request.project_path)


def render_preview(
    request: PreviewRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> PreviewFrame:
    """Decode one frame and redact it the way the export will (at full size, so the plan's
    coordinates fit), then shrink both for display. Once the source's proxy is built the
    frame comes from it (fast random access), scaled up to full size for the redaction;
    until then, and for every export, frames are decoded exactly from the source."""
    reader = services.reader(request.video_path)
    proxy = services.preview_reader(request.video_path, request.source_hash)
    shown = (proxy or reader).frame_at(request.frame_index)
    anonymized = None
    if request.plan is not None:
        size = (reader.info.video.width, reader.info.video.height)
        full = shown if proxy is None else cv2.resize(shown, size, interpolation=cv2.INTER_LINEAR)
        anonymized = np.array(full, copy=True)
        redactor = FrameRedactor(default_redactors())
        redact_frame(redactor, anonymized, request.plan, request.frame_index)
        anonymized = _fit(anonymized, request.max_side)
    original = _fit(shown, request.max_side)
    return PreviewFrame(request.frame_index, request.plan_version, original, anonymized)


def generate(
    request: GenerationRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> GeneratedFace:
    """One person's face through the shared service (`app.synthetic.generate_face`)."""
    from anonnet_studio.app.synthetic import generate_face, landmark_predictor

    job = request.job
    on_progress(Progress("Loading the diffusion models", 0, None))
    generator = services.generator(job.settings.effective_backend)
    verifier = services.verifier(job.leak_check_embedder)
    vision = services.vision()
    check_cancel(cancel)
    return generate_face(
        job,
        generator,
        verifier,
        services.reader(job.video_path).frame_at(job.frame_index),
        vision.detector,
        landmark_predictor(vision, services.manager()),
        on_progress=on_progress,
        cancel=cancel,
    )


def export(
    request: ExportRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> ExportDone:
    from anonnet_studio.project.export import export_project

    check_cancel(cancel)  # cancelled while queued: do not load models for nothing
    models = None
    if request.leak_check:
        on_progress(Progress("Loading face models", 0, None))
        # The leak check compares embeddings: use the project's own embedder.
        models = services.vision(choice_for_project(services.config.backends, request.project))
    stage = _synthetic_for_export(request, services, models, on_progress, cancel)
    # The project's voice settings, as the CLI's `export PROJECT` applies them.
    voice = request.project.voice
    encoder = services.speaker_encoder() if voice.method is not VoiceMethod.OFF else None
    outcome = export_project(
        request.project,
        request.output_path,
        models,
        synthetic=stage.source,
        notes=stage.notes,
        side_by_side=request.side_by_side,
        crf=request.crf,
        leak_check=request.leak_check,
        report_path=request.report_path,
        voice=voice,
        speaker_encoder=encoder,
        on_progress=on_progress,
        cancel=cancel,
    )
    return ExportDone(
        output=outcome.output,
        frames_written=outcome.frames_written,
        verdict=outcome.verdict,
        leaks_covered=outcome.leaks_covered,
        report_paths=tuple(outcome.report_paths),
        fallbacks=dict(outcome.fallbacks),
        leak_frames=tuple(request.project.leak_frames),
        last_export=dict(request.project.analysis.get("last_export", {})),
        generated=stage.generated,
        voice=dict(outcome.voice),
    )


def _synthetic_for_export(
    request: ExportRequest,
    services: ComputeServices,
    models: VisionModels | None,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> SyntheticStage:
    """The synthetic stage for an export, or why its people are blurred instead. Missing
    face models only downgrade synthetic people to blur; they never fail the export. The
    generator and device are the worker's (shared with Regenerate), never a second copy."""
    # Imported only when needed: the generative stack (torch, diffusers) is slow to import.
    from anonnet_studio.app.synthetic import SyntheticStage, synthetic_stage
    from anonnet_studio.project.render_plan import wants_synthetic_face

    wanted = [i.id for i in request.project.identities if wants_synthetic_face(i)]
    if not wanted:
        return SyntheticStage(None)
    try:
        vision = models if models is not None else services.vision()
    except AnonNetError as exc:
        reason = f"face models unavailable ({exc.message}); blurred"
        return SyntheticStage(None, dict.fromkeys(wanted, reason))
    return synthetic_stage(
        request.project,
        services.manager(),
        vision,
        device=services.config.device,
        generator=services.generator,
        on_progress=on_progress,
        cancel=cancel,
    )


def _fit(image: np.ndarray, max_side: int | None) -> np.ndarray:
    if max_side is None or max(image.shape[:2]) <= max_side:
        return image
    scale = max_side / max(image.shape[:2])
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


_HANDLERS: dict[type, Handler] = {
    ConfigureRequest: configure,
    ModelStatusRequest: model_status,
    WarmUpRequest: warm_up,
    AnalysisRequest: analyse,
    OpenProjectRequest: open_project,
    PreviewRequest: render_preview,
    GenerationRequest: generate,
    ExportRequest: export,
    **CORRECTION_HANDLERS,
    **MODEL_HANDLERS,
    **VOICE_HANDLERS,
    **BATCH_HANDLERS,
}
