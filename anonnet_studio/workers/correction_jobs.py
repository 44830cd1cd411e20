"""The propagation job: follow a hand-drawn face (or a region) through its shot on the
compute thread, with progress and cancel like every other job."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.workers.requests import PropagationRequest, ThumbnailRequest
from anonnet_studio.workers.results import PropagationDone, ThumbnailDone
from anonnet_studio.workers.services import ComputeServices


def propagate(
    request: PropagationRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> PropagationDone:
    from anonnet_studio.core.analysis.thumbnails import face_thumbnail
    from anonnet_studio.core.correction.propagation import propagate_box

    check_cancel(cancel)
    detector = embedder = None
    if request.target == "track":
        on_progress(Progress("Loading face models", 0, None))
        choice = services.config.backends
        if request.embedder is not None:
            choice = choice.with_role("embedder", request.embedder)
        vision = services.vision(choice)
        detector, embedder = vision.detector, vision.embedder
    reader = services.reader(request.video_path)
    result = propagate_box(
        reader,
        request.seed_frame,
        np.asarray(request.seed_box),
        request.span,
        detector,
        embedder,
        directions=request.directions,
        on_progress=on_progress,
        cancel=cancel,
    )
    thumbnail = None
    if request.target == "track":
        thumbnail = face_thumbnail(reader.frame_at(request.seed_frame), request.seed_box)
    return PropagationDone(
        target=request.target,
        target_id=request.target_id,
        seed_frame=request.seed_frame,
        frames=result.frames,
        boxes=result.boxes,
        landmarks5=result.landmarks5,
        scores=result.scores,
        embedding=result.embedding,
        stopped_early=result.backward.early or result.forward.early,
        message=result.describe(),
        thumbnail=thumbnail,
    )


def thumbnail(
    request: ThumbnailRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> ThumbnailDone:
    from anonnet_studio.core.analysis.thumbnails import face_thumbnail

    check_cancel(cancel)
    frame = services.reader(request.video_path).frame_at(request.frame_index)
    return ThumbnailDone(request.identity_id, face_thumbnail(frame, np.asarray(request.box)))


# Merged into the worker's handler table (handlers.py).
CORRECTION_HANDLERS: dict[type, Callable[..., object]] = {
    PropagationRequest: propagate,
    ThumbnailRequest: thumbnail,
}
