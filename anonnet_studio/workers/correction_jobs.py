"""The propagation job: follow a hand-drawn face (or a region) through its shot on the
compute thread, with progress and cancel like every other job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.workers.requests import JobKind, frozen_array
from anonnet_studio.workers.services import ComputeServices

Target = Literal["track", "region"]


@dataclass(frozen=True, slots=True, eq=False)
class PropagationRequest:
    """Follow `seed_box` from `seed_frame` within `span` (the shot: first, end exclusive).

    A "track" target is a face: the detector re-runs around the box and the embedder (the
    one the project was analysed with, `embedder`) vetoes jumps to another face. A
    "region" target is followed by the visual tracker alone."""

    kind: ClassVar[JobKind] = JobKind.PROPAGATION
    video_path: Path
    target: Target
    target_id: int
    seed_frame: int
    seed_box: np.ndarray  # (4,) full-frame pixels, frozen
    span: tuple[int, int]
    directions: tuple[str, ...] = ("backward", "forward")
    embedder: str | None = None  # backend key pinned by the project (None: the settings')

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed_box", frozen_array(np.asarray(self.seed_box, np.float32)))

    def describe(self) -> str:
        what = "the face" if self.target == "track" else "the region"
        return f"Following {what} from frame {self.seed_frame}"


@dataclass(frozen=True, slots=True, eq=False)
class PropagationDone:
    target: Target
    target_id: int
    seed_frame: int
    frames: np.ndarray
    boxes: np.ndarray
    landmarks5: np.ndarray
    scores: np.ndarray
    embedding: np.ndarray
    stopped_early: bool  # the face was lost or vetoed before the shot ended
    message: str  # where and why it stopped, for the user
    thumbnail: np.ndarray | None = None  # of the face at the seed frame (faces only)


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


CORRECTION_HANDLERS = {PropagationRequest: propagate}
