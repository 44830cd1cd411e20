"""Render an anonymized video: decode, redact, leak-check, encode, one frame at a time.

Memory stays constant (one decoded frame and, for side-by-side, one copy of it). Output is
written through `VideoWriter`: source timestamps, audio stream-copied, no metadata, temp
file renamed into place only on success, so a failure or a cancel leaves no file at all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from anonnet_studio.core.anonymize.leakcheck import LeakChecker, LeakRecord, ResidualStats
from anonnet_studio.core.anonymize.looks import extra_looks
from anonnet_studio.core.anonymize.methods import (
    FaceRedactor,
    SyntheticFaceSource,
    SyntheticRedactor,
    default_redactors,
)
from anonnet_studio.core.anonymize.plan import RedactionMethod, RenderPlan, regions_at
from anonnet_studio.core.anonymize.redaction import FaceFailure, FrameRedactor, redact_frame
from anonnet_studio.core.anonymize.sight import CheckerSight, SightStats
from anonnet_studio.core.fileio import OutputTransaction
from anonnet_studio.core.media.pcm import PcmAudio
from anonnet_studio.core.media.reader import DecodedFrame, VideoReader
from anonnet_studio.core.media.writer import VideoWriter
from anonnet_studio.core.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressThrottle,
    check_cancel,
)
from anonnet_studio.core.vision.types import FaceDetector, FaceEmbedder

RENDER_STAGE = "Rendering"


class RenderModels(Protocol):
    """The models the leak check needs (`VisionModels` from the vision factory fits)."""

    @property
    def detector(self) -> FaceDetector: ...

    @property
    def embedder(self) -> FaceEmbedder: ...

    @property
    def check_detector(self) -> FaceDetector | None:
        """A detector of another family for the leak check's second look (None: none)."""
        ...


@dataclass(frozen=True, slots=True)
class RenderResult:
    dest: Path
    frames_written: int
    leaks: list[LeakRecord]
    residual: dict[str, ResidualStats]  # per hidden identity; empty without a leak check
    # identity -> why its chosen method was replaced (e.g. synthetic stage unavailable)
    method_fallbacks: dict[str, str] = field(default_factory=dict)
    face_failures: list[FaceFailure] = field(default_factory=list)  # first 1000 at most
    face_failure_count: int = 0
    # identity -> frames of a synthetic person that had no synthetic face (blurred instead)
    synthetic_fallback_frames: dict[str, int] = field(default_factory=dict)
    # identity -> frames that show the person's animated synthetic face
    synthetic_frames: dict[str, int] = field(default_factory=dict)
    synthetic_motion: str | None = None  # the motion backend that animated them
    leak_check: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    # Whether the leak check's detector found the tracked faces in original frames; None
    # without a leak check. A blind checker's clean result proves nothing.
    checker_sight: SightStats | None = None
    leak_check_looks: list[str] = field(default_factory=list)  # labels, in the order run


def render(
    source_path: str | os.PathLike[str],
    dest_path: str | os.PathLike[str],
    plan: RenderPlan,
    models: RenderModels | None,
    *,
    synthetic: SyntheticFaceSource | None = None,
    audio: Sequence[PcmAudio] | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    transaction: OutputTransaction | None = None,
) -> RenderResult:
    """Render `source_path` anonymized by `plan` into `dest_path` (.mp4/.mov/.mkv).

    `models` supplies the detector and embedder of the leak check (required when
    `plan.leak_check`). `synthetic` is the synthetic-face stage; without it, people planned
    as synthetic are blurred and `method_fallbacks` says so. `audio` (processed tracks,
    e.g. a disguised voice) replaces the source's audio, which is otherwise copied.
    Raises OperationCancelled (leaving no output) when `cancel` is set, and the media
    engine's typed errors. With `transaction`, the finished video is staged there instead
    of renamed into place.
    """
    if plan.leak_check and models is None:
        raise ValueError("the leak check needs a detector and an embedder (models=None)")
    report = ProgressThrottle(on_progress)
    redactors = default_redactors(synthetic)
    redactor = FrameRedactor(redactors)
    checker = None
    if plan.leak_check and models is not None:  # (models is never None with a leak check)
        looks = extra_looks(models.detector, models.check_detector, plan)
        checker = LeakChecker(models.detector, models.embedder, plan, looks)
    sight = CheckerSight(checker.looks, plan) if checker is not None else None
    plan.region_index()  # build the lookup once, before the clock of the first frame
    clock = _StageClock()
    leaks: list[LeakRecord] = []
    started = time.perf_counter()

    with VideoReader(Path(source_path)) as reader:
        info = reader.info
        total = reader.frame_count
        width, height = info.video.width, info.video.height
        size = (2 * width, height) if plan.side_by_side else None
        report(Progress(RENDER_STAGE, 0, total))
        with VideoWriter(
            dest_path,
            source=info,
            source_path=source_path,
            crf=plan.crf,
            size=size,
            copy_audio=plan.copy_audio,
            transaction=transaction,
            audio=audio,
        ) as writer:
            for frame in clock.timed_iter("decode_s", reader.iter_frames()):
                check_cancel(cancel)
                image = _writable(frame)
                original = image.copy() if plan.side_by_side else None
                regions = regions_at(plan, frame.index)
                if sight is not None:
                    with clock("leak_check_s"), clock("leak_check.sight_s"):
                        sight.probe(image, frame.index, regions)
                with clock("redact_s"):
                    redact_frame(redactor, image, plan, frame.index, regions)
                if checker is not None:
                    with clock("leak_check_s"):
                        leaks.extend(checker.check(image, frame.index, regions))
                if original is not None:
                    image = np.concatenate([original, image], axis=1)
                with clock("encode_s"):
                    writer.write(image, frame.index)
                report(Progress(RENDER_STAGE, frame.index + 1, total))
            check_cancel(cancel)  # a cancel during the last frame still leaves no file
            with clock("encode_s"):
                writer.close()
            frames_written = writer.frames_written

    timings = dict(clock.totals)
    if checker is not None:  # where the leak check's time went (part of leak_check_s)
        timings.update({f"leak_check.{k}_s": v for k, v in checker.clock.totals.items()})
    timings["total_s"] = time.perf_counter() - started
    return RenderResult(
        dest=Path(dest_path),
        frames_written=frames_written,
        leaks=leaks,
        residual=checker.residual() if checker is not None else {},
        method_fallbacks=dict(redactor.log.method_fallbacks),
        face_failures=list(redactor.log.failures),
        face_failure_count=redactor.log.failure_count,
        synthetic_fallback_frames=_synthetic_counts(redactors, "fallback_frames"),
        synthetic_frames=_synthetic_counts(redactors, "synthetic_frames"),
        synthetic_motion=getattr(synthetic, "backend_name", None) if synthetic else None,
        leak_check=checker is not None,
        timings=timings,
        checker_sight=sight.stats() if sight is not None else None,
        leak_check_looks=[look.label for look in checker.looks] if checker is not None else [],
    )


def _synthetic_counts(redactors: dict[RedactionMethod, FaceRedactor], name: str) -> dict[str, int]:
    synthetic = redactors.get(RedactionMethod.SYNTHETIC)
    return dict(getattr(synthetic, name)) if isinstance(synthetic, SyntheticRedactor) else {}


def _writable(frame: DecodedFrame) -> np.ndarray:
    image = frame.image
    return image if image.flags.writeable else image.copy()


class _StageClock:
    """Accumulates wall time per stage of the frame loop."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}

    def __call__(self, stage: str) -> _Timer:
        return _Timer(self, stage)

    def add(self, stage: str, seconds: float) -> None:
        self.totals[stage] = self.totals.get(stage, 0.0) + seconds

    def timed_iter(self, stage: str, items: Iterator[DecodedFrame]) -> Iterator[DecodedFrame]:
        while True:
            t0 = time.perf_counter()
            item = next(items, None)
            self.add(stage, time.perf_counter() - t0)
            if item is None:
                return
            yield item


class _Timer:
    def __init__(self, clock: _StageClock, stage: str) -> None:
        self._clock, self._stage, self._t0 = clock, stage, 0.0

    def __enter__(self) -> None:
        self._t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self._clock.add(self._stage, time.perf_counter() - self._t0)
