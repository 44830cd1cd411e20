"""Anonymity check: is the generated face still recognisable as the original person?

Faces are compared as aligned faces through a `FaceEmbedder` (it aligns on the 5
landmarks of each detection), never as whole crops: crops share background and hair and
would look alike whatever the face. A result counts as anonymous only when its distance
clears the embedder's same-person threshold by `ANONYMITY_MARGIN`, and the export should
give the verifier another embedder than its leak check's (`app.synthetic_generation`), so
the two checks cannot share a blind spot. If the result still matches, generation is
retried further from the original with a new seed: escalating strength, guidance and
steps for AnonNET (`settings.escalated`), a larger degree d for FAMS
(`fams.settings.escalated`); the loop is the same for both (`verified_candidates`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.core.synthetic.attempts import GenerationAttempt
from anonnet_studio.core.synthetic.candidates import (
    AnonNetCandidates,
    Candidate,
    CandidateMaker,
)
from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator
from anonnet_studio.core.synthetic.settings import GenerationSettings
from anonnet_studio.core.vision.types import (
    FaceDetection,
    FaceDetector,
    FaceEmbedder,
    cosine_distance,
)

# A candidate must be this much (as a fraction of the threshold) further from the original
# than the embedder's same-person threshold. The thresholds sit in the middle of the gap
# between same-person and stranger distances (core/vision/embedder.py); 15 % above SFace's
# 0.54 is 0.62, the closest two different people of the calibration ever came.
ANONYMITY_MARGIN = 0.15


@dataclass(frozen=True, slots=True)
class IdentityComparison:
    distance: float  # cosine distance between the two identity embeddings
    threshold: float  # below this the embedder calls them the same person
    # False when no face could be detected in the result: it cannot be recognised, but
    # it is no usable synthetic face either.
    face_found: bool = True
    note: str = ""

    margin: float = ANONYMITY_MARGIN

    @property
    def same_person(self) -> bool:
        return self.distance < self.threshold

    @property
    def required_distance(self) -> float:
        """What a candidate must reach to count as anonymous: threshold plus margin."""
        return self.threshold * (1.0 + self.margin)

    @property
    def anonymous(self) -> bool:
        """A usable synthetic face that is clearly (with the margin) another person."""
        return self.face_found and self.distance >= self.required_distance


class IdentityVerifier(Protocol):
    def compare(
        self, original_crop: np.ndarray, generated_crop: np.ndarray, landmarks_crop: np.ndarray
    ) -> IdentityComparison: ...


class EmbeddingVerifier:
    """`IdentityVerifier` from any embedder + detector (use the strongest embedder
    available: its threshold decides what counts as still recognisable)."""

    def __init__(self, embedder: FaceEmbedder, detector: FaceDetector) -> None:
        self._embedder = embedder
        self._detector = detector

    @property
    def threshold(self) -> float:
        return float(self._embedder.threshold)

    def compare(
        self, original_crop: np.ndarray, generated_crop: np.ndarray, landmarks_crop: np.ndarray
    ) -> IdentityComparison:
        """Distance between the original face and the generated one, both in crop pixels;
        `landmarks_crop` are the original 68 landmarks there."""
        expected = detection_from_landmarks(landmarks_crop)
        original = self._find_face(original_crop, expected) or expected
        generated = self._find_face(generated_crop, expected)
        face_found, note = generated is not None, ""
        if generated is None:
            # The ControlNets keep the pose, so the original landmarks still align the
            # generated face well enough to embed it and report a distance.
            generated = expected
            note = "no face detected in the result; compared at the original landmarks"
        distance = cosine_distance(
            self._embedder.embed(original_crop, original),
            self._embedder.embed(generated_crop, generated),
        )
        return IdentityComparison(distance, self.threshold, face_found=face_found, note=note)

    def _find_face(self, image: np.ndarray, expected: FaceDetection) -> FaceDetection | None:
        best, best_iou = None, 0.3  # below this overlap it is another face
        for detection in self._detector.detect(image):
            overlap = box_iou(detection.box, expected.box)
            if overlap > best_iou:
                best, best_iou = detection, overlap
        return best


@dataclass(frozen=True, slots=True)
class VerifiedResult:
    attempts: tuple[GenerationAttempt, ...]  # in order; no image keys or placements yet
    # First passing attempt, else the least similar one that shows a face (a
    # `GenerationResult` or a FAMS result: both are `Candidate`s).
    chosen: Any
    chosen_index: int
    # True when every attempt still matched the original: the exporter must redact this
    # person instead of showing the synthetic face.
    needs_attention: bool


def generate_verified(
    generator: SyntheticFaceGenerator,
    verifier: IdentityVerifier,
    frame_rgb: np.ndarray,
    box: np.ndarray,
    landmarks68: np.ndarray,
    prompt: str,
    negative_prompt: str,
    settings: GenerationSettings,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> VerifiedResult:
    """`verified_candidates` with the SD 1.5 backend: retries escalate strength, guidance
    and steps up to `settings.escalation.max_retries` times."""
    maker = AnonNetCandidates(generator, prompt, negative_prompt, settings)
    return verified_candidates(
        maker, verifier, frame_rgb, box, landmarks68, on_progress=on_progress, cancel=cancel
    )


def verified_candidates(
    maker: CandidateMaker,
    verifier: IdentityVerifier,
    frame_rgb: np.ndarray,
    box: np.ndarray,
    landmarks68: np.ndarray,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> VerifiedResult:
    """Generate, check anonymity, and retry (up to `maker.max_attempts` in all) while the
    result is still recognisable. Every attempt is recorded."""
    max_attempts = maker.max_attempts
    # Retries change only the generation parameters: crop, mask and control images are
    # computed once.
    prepared = maker.prepare(
        frame_rgb,
        box,
        landmarks68,
        on_progress=_attempt_progress(on_progress, 0, max_attempts),
        cancel=cancel,
    )
    attempts: list[GenerationAttempt] = []
    best: Candidate | None = None
    best_index = 0
    for index in range(max_attempts):
        check_cancel(cancel)
        result, used = maker.make(
            frame_rgb,
            prepared,
            index,
            on_progress=_attempt_progress(on_progress, index, max_attempts),
            cancel=cancel,
        )
        check_cancel(cancel)
        comparison = verifier.compare(
            prepared.crop, result.composited_crop, prepared.landmarks_crop
        )
        attempt = GenerationAttempt(
            seed=used.seed,
            strength=used.strength,
            steps=used.steps,
            guidance=used.guidance,
            distance=comparison.distance,
            threshold=comparison.required_distance,
            face_found=comparison.face_found,
            passed=comparison.anonymous,
            note=comparison.note,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            backend=used.backend,
            degree=used.degree,
        )
        attempts.append(attempt)
        if best is None or _rank(attempt) > _rank(attempts[best_index]):
            best, best_index = result, index
        if attempt.passed:
            return VerifiedResult(tuple(attempts), result, index, needs_attention=False)
    assert best is not None  # max_attempts >= 1
    return VerifiedResult(tuple(attempts), best, best_index, needs_attention=True)


def _rank(attempt: GenerationAttempt) -> tuple[bool, float]:
    return attempt.face_found, attempt.distance


def detection_from_landmarks(landmarks68: np.ndarray, score: float = 1.0) -> FaceDetection:
    """A `FaceDetection` built from 68 iBUG landmarks (YuNet's 5-point order)."""
    pts = np.asarray(landmarks68, dtype=np.float32).reshape(68, 2)
    five = np.stack(
        [pts[36:42].mean(axis=0), pts[42:48].mean(axis=0), pts[30], pts[48], pts[54]]
    ).astype(np.float32)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    # The landmarks stop at the brows; detector boxes include the forehead.
    y0 -= 0.25 * (y1 - y0)
    return FaceDetection(box=np.array([x0, y0, x1, y1], np.float32), landmarks5=five, score=score)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix0, iy0 = max(a[0], b[0]), max(a[1], b[1])
    ix1, iy1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, float(ix1 - ix0)) * max(0.0, float(iy1 - iy0))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def _attempt_progress(
    callback: ProgressCallback | None, index: int, max_attempts: int
) -> ProgressCallback | None:
    if callback is None:
        return None

    def forward(progress: Progress) -> None:
        label = f"attempt {index + 1} of up to {max_attempts}"
        message = f"{progress.message} ({label})" if progress.message else label
        callback(Progress(progress.stage, progress.done, progress.total, message))

    return forward
