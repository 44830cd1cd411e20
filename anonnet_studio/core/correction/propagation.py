"""Follow a hand-drawn face box through its shot, forward and backward from the seed frame.

The point is faces the detector missed, so the detector alone cannot do it. Each step:

1. a visual tracker (OpenCV's CSRT from the contrib build) moves the box to the next frame;
2. the face detector is re-run on a crop around that box: a face it finds there anchors
   the box (the user's framing is kept relative to the detection) and gives landmarks;
3. every few detections the embedder compares the face with the seed's: a face of
   somebody else means the tracker has jumped to another person, and propagation stops.

Propagation also stops at the shot's boundaries and when the face is lost (the tracker
gives up, the box leaves the picture or changes size implausibly), and says where. Frames
are tracked on a copy shrunk so the face is about `target_face_px` big: the tracker's
cost follows the face's size, not the frame's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from anonnet_studio.core.correction.anchoring import (
    Found,
    apply_relation,
    detect_near,
    relation,
)
from anonnet_studio.core.correction.frames import FrameSource, outward_frames
from anonnet_studio.core.correction.geometry import box_iou, template_landmarks
from anonnet_studio.core.correction.tracker import VisualTracker, csrt_tracker
from anonnet_studio.core.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressThrottle,
    check_cancel,
)
from anonnet_studio.core.vision.types import (
    FaceDetection,
    FaceDetector,
    FaceEmbedder,
    cosine_distance,
)

PROPAGATION_STAGE = "Following the face"


class StopReason(StrEnum):
    SHOT_START = "shot start"
    SHOT_END = "shot end"
    LOST = "lost"
    OTHER_FACE = "other face"


@dataclass(frozen=True, slots=True)
class PropagationStop:
    """Where one direction of propagation ended. `frame` is the first frame it did not
    cover (the shot boundary itself for SHOT_START/SHOT_END)."""

    frame: int
    reason: StopReason
    message: str

    @property
    def early(self) -> bool:
        """True when the face was lost or vetoed before the shot ended."""
        return self.reason in (StopReason.LOST, StopReason.OTHER_FACE)


@dataclass(frozen=True, slots=True)
class PropagationSettings:
    target_face_px: float = 96.0  # the face is tracked at about this size
    max_work_side: int = 1280  # never track on a larger copy than this
    min_work_side: int = 160
    detection_iou: float = 0.3  # a detection belongs to the box from this overlap on
    redetect_iou: float = 0.6  # below this the tracker is re-centred on the detection
    embed_every: int = 5  # embedder veto on every Nth detection (an SFace call costs ~40 ms)
    veto_factor: float = 1.5  # veto beyond this times the embedder's threshold
    max_size_change: float = 3.0  # relative to the seed box, either way
    min_visible_fraction: float = 0.4  # of the box inside the picture
    backward_chunk_bytes: int = 192 * 1024 * 1024  # frames held while going backward


@dataclass(frozen=True, slots=True, eq=False)
class PropagatedTrack:
    """The face's box in every frame it was followed, full-frame pixels."""

    frames: np.ndarray  # (N,) int32, consecutive
    boxes: np.ndarray  # (N, 4) float32
    landmarks5: np.ndarray  # (N, 5, 2) float32; a template where no face was detected
    scores: np.ndarray  # (N,) float32 detection score, 0 where the detector found nothing
    embedding: np.ndarray  # L2-normalised identity vector of the face (empty: no embedder)
    backward: PropagationStop
    forward: PropagationStop
    detected_frames: int = 0  # rows where the detector confirmed the face

    def describe(self) -> str:
        """One sentence for the user: how far it went and why it stopped each way."""
        first, last = int(self.frames[0]), int(self.frames[-1])
        return (
            f"Followed the face over frames {first}–{last} ({len(self.frames)} frames). "
            f"Backward: {self.backward.message} Forward: {self.forward.message}"
        )


@dataclass(slots=True, eq=False)
class _Row:
    frame: int
    box: np.ndarray
    landmarks5: np.ndarray
    score: float


@dataclass(slots=True, eq=False)
class _Identity:
    """What the followed face looks like: its embedding and where the user's box sits
    relative to a detection of it (centre offset in detection units, size ratio)."""

    reference: np.ndarray | None = None
    relation: np.ndarray | None = None  # dx, dy, rw, rh
    samples: list[np.ndarray] = field(default_factory=list)


def propagate_box(
    source: FrameSource,
    seed_frame: int,
    seed_box: np.ndarray,
    span: tuple[int, int],
    detector: FaceDetector | None,
    embedder: FaceEmbedder | None,
    *,
    directions: tuple[str, ...] = ("backward", "forward"),
    settings: PropagationSettings | None = None,
    tracker_factory: Callable[[], VisualTracker] = csrt_tracker,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> PropagatedTrack:
    """Follow `seed_box` (full-frame x0, y0, x1, y1 at `seed_frame`) within `span` = (first
    frame, end exclusive) of its shot. Raises OperationCancelled when `cancel` is set.

    Without a detector and embedder (a region that is not a face) only the visual tracker
    runs; rows then carry template landmarks, score 0, and the embedding is empty."""
    settings = settings or PropagationSettings()
    start, end = max(0, span[0]), min(span[1], source.frame_count)
    if not start <= seed_frame < end:
        raise ValueError(f"seed frame {seed_frame} lies outside the span {start}..{end - 1}")
    seed_box = np.asarray(seed_box, dtype=np.float32)
    width, height = source.info.video.width, source.info.video.height
    scale = _work_scale(seed_box, width, height, settings)
    max_side = max(1, round(max(width, height) * scale))
    work_w, work_h = max(1, round(width * scale)), max(1, round(height * scale))
    frames = outward_frames(
        source, seed_frame, start, end, max_side,
        max(8, settings.backward_chunk_bytes // (3 * work_w * work_h)),
        backward="backward" in directions, forward="forward" in directions,
    )  # fmt: skip
    seed_work = frames.seed_image
    scale = seed_work.shape[1] / width  # what the decoder actually produced
    identity = _Identity()
    seed_detection = None
    if detector is not None and embedder is not None:
        seed_detection = detect_near(detector, seed_work, seed_box * scale, settings.detection_iou)
    if seed_detection is not None and embedder is not None:
        identity.relation = relation(seed_detection[0].box, seed_box * scale)
        identity.reference = embedder.embed(*seed_detection[1:])
        identity.samples.append(identity.reference)
    seed_row = _row_for(seed_frame, seed_box, seed_detection, scale)
    seed_row.box = seed_box.copy()  # the user's box is kept as drawn
    report = ProgressThrottle(on_progress)
    total = max(1, end - start - 1)
    done = [0]

    def step() -> None:
        check_cancel(cancel)
        done[0] += 1
        report(Progress(PROPAGATION_STAGE, min(done[0], total), total))

    report(Progress(PROPAGATION_STAGE, 0, total))
    follower = _Follower(
        detector, embedder, tracker_factory, settings, identity, seed_box, (width, height), scale
    )
    backward_rows: list[_Row] = []
    backward = PropagationStop(start, StopReason.SHOT_START, "reached the start of the shot.")
    if "backward" in directions and seed_frame > start:
        backward_rows, backward = follower.follow(seed_work, frames.backward, backward, step)
    elif "backward" not in directions:
        backward = PropagationStop(seed_frame, StopReason.SHOT_START, "not followed.")
    forward_rows: list[_Row] = []
    forward = PropagationStop(end, StopReason.SHOT_END, "reached the end of the shot.")
    if "forward" in directions and seed_frame < end - 1:
        forward_rows, forward = follower.follow(seed_work, frames.forward, forward, step)
    elif "forward" not in directions:
        forward = PropagationStop(seed_frame + 1, StopReason.SHOT_END, "not followed.")
    check_cancel(cancel)
    report(Progress(PROPAGATION_STAGE, total, total))
    rows = [*reversed(backward_rows), seed_row, *forward_rows]
    return PropagatedTrack(
        frames=np.array([r.frame for r in rows], dtype=np.int32),
        boxes=np.stack([r.box for r in rows]).astype(np.float32),
        landmarks5=np.stack([r.landmarks5 for r in rows]).astype(np.float32),
        scores=np.array([r.score for r in rows], dtype=np.float32),
        embedding=(
            _identity_embedding(identity, embedder, seed_work, seed_box * scale)
            if embedder is not None
            else np.zeros(0, dtype=np.float32)
        ),
        backward=backward,
        forward=forward,
        detected_frames=sum(1 for r in rows if r.score > 0),
    )


class _Follower:
    """Runs the tracker in one direction from the seed; shared state is the identity."""

    def __init__(
        self,
        detector: FaceDetector | None,
        embedder: FaceEmbedder | None,
        tracker_factory: Callable[[], VisualTracker],
        settings: PropagationSettings,
        identity: _Identity,
        seed_box: np.ndarray,
        frame_size: tuple[int, int],
        scale: float,
    ) -> None:
        self._detector = detector
        self._embedder = embedder
        self._tracker_factory = tracker_factory
        self._settings = settings
        self._identity = identity
        self._seed_box = seed_box
        self._frame_size = frame_size
        self._scale = scale

    def follow(
        self,
        seed_work: np.ndarray,
        frames: Iterator[tuple[int, np.ndarray]],
        boundary: PropagationStop,
        step: Callable[[], None],
    ) -> tuple[list[_Row], PropagationStop]:
        """Rows of the frames followed, and why it stopped (`boundary` when every frame
        up to the shot's boundary was followed)."""
        tracker = self._tracker_factory()
        tracker.init(_bgr(seed_work), _xywh(self._seed_box * self._scale))
        rows: list[_Row] = []
        detections = 0
        verified = 0  # rows up to here were confirmed to show the seed's face
        last_frame = None
        previous: np.ndarray = self._seed_box * self._scale
        for frame_index, image in frames:
            step()
            last_frame = frame_index
            ok, rect = tracker.update(_bgr(image))
            if not ok:
                return rows, _lost(frame_index, "the tracker lost the face")
            box_work = np.array(
                [rect[0], rect[1], rect[0] + rect[2], rect[1] + rect[3]], dtype=np.float32
            )
            problem = self._implausible(box_work / self._scale)
            if problem:
                return rows, _lost(frame_index, problem)
            found = None
            if self._detector is not None:
                found = detect_near(self._detector, image, box_work, self._settings.detection_iou)
            if found is not None:
                detections += 1
                due = detections % self._settings.embed_every == 1 or _jumped(previous, box_work)
                verdict = self._same_face(found, due)
                if verdict is False:
                    # The jump happened at the latest here, at the earliest right after the
                    # last confirmed row: drop everything since, it may be the other face.
                    stop = rows[verified].frame if verified < len(rows) else frame_index
                    return rows[:verified], PropagationStop(
                        stop,
                        StopReason.OTHER_FACE,
                        f"stopped at frame {stop}: the box moved onto someone else's face.",
                    )
                anchored = self._anchored_box(found[0].box, box_work)
                if box_iou(anchored, box_work) < self._settings.redetect_iou:
                    tracker = self._tracker_factory()
                    tracker.init(_bgr(image), _xywh(anchored))
                box_work = anchored
                if verdict:
                    verified = len(rows) + 1
            rows.append(_row_for(frame_index, box_work / self._scale, found, self._scale))
            previous = box_work
        backward = boundary.reason is StopReason.SHOT_START
        expected_last = boundary.frame if backward else boundary.frame - 1
        if last_frame is not None and last_frame != expected_last:
            following = last_frame - 1 if backward else last_frame + 1
            return rows, _lost(following, "the video cannot be decoded there")
        return rows, boundary

    def _implausible(self, box: np.ndarray) -> str | None:
        width, height = self._frame_size
        area = float((box[2] - box[0]) * (box[3] - box[1]))
        if area <= 0:
            return "the box collapsed"
        inside_w = max(0.0, min(float(box[2]), width) - max(float(box[0]), 0.0))
        inside_h = max(0.0, min(float(box[3]), height) - max(float(box[1]), 0.0))
        if inside_w * inside_h / area < self._settings.min_visible_fraction:
            return "the face left the picture"
        seed = self._seed_box
        seed_area = float((seed[2] - seed[0]) * (seed[3] - seed[1]))
        change = math.sqrt(area / max(seed_area, 1e-6))
        limit = self._settings.max_size_change
        if not 1 / limit <= change <= limit:
            return "the box changed size implausibly"
        return None

    def _same_face(self, found: Found, due: bool) -> bool | None:
        """Whether the detection is the seed's face: None when not checked this time (the
        embedder runs on every Nth detection, and after any sudden jump of the box)."""
        identity = self._identity
        if self._embedder is None or (identity.reference is not None and not due):
            return None
        embedding = self._embedder.embed(found[1], found[2])
        if identity.reference is None:
            identity.reference = embedding  # the first sight of the face sets who it is
            identity.samples.append(embedding)
            return True
        limit = self._settings.veto_factor * float(self._embedder.threshold)
        if cosine_distance(embedding, identity.reference) > limit:
            return False
        identity.samples.append(embedding)
        return True

    def _anchored_box(self, detection_box: np.ndarray, tracked: np.ndarray) -> np.ndarray:
        """The user's framing around a detection; the first detection fixes that framing
        relative to the tracked box when the seed itself had none."""
        if self._identity.relation is None:
            self._identity.relation = relation(detection_box, tracked)
        return apply_relation(detection_box, self._identity.relation)


def _jumped(previous: np.ndarray, box: np.ndarray) -> bool:
    """The box's centre moved more than half its size in one frame."""
    size = max(1.0, float(box[2] - box[0] + box[3] - box[1]) / 2)
    shift = np.hypot(
        float(box[0] + box[2] - previous[0] - previous[2]) / 2,
        float(box[1] + box[3] - previous[1] - previous[3]) / 2,
    )
    return shift > 0.5 * size


def _lost(frame: int, why: str) -> PropagationStop:
    return PropagationStop(frame, StopReason.LOST, f"lost the face at frame {frame} ({why}).")


def _work_scale(box: np.ndarray, width: int, height: int, settings: PropagationSettings) -> float:
    face = math.sqrt(max(1.0, float((box[2] - box[0]) * (box[3] - box[1]))))
    longest = max(width, height)
    wanted = max(settings.target_face_px / face, settings.min_work_side / longest)
    return min(1.0, settings.max_work_side / longest, wanted)


def _row_for(
    frame: int,
    box: np.ndarray,
    found: Found | None,
    scale: float,
) -> _Row:
    if found is None:
        return _Row(frame, box.astype(np.float32), template_landmarks(box), 0.0)
    detection = found[0]
    return _Row(frame, box.astype(np.float32), detection.landmarks5 / scale, detection.score)


def _identity_embedding(
    identity: _Identity, embedder: FaceEmbedder, seed_work: np.ndarray, seed_box: np.ndarray
) -> np.ndarray:
    """Mean of the face's embeddings; a face the detector never saw is embedded from the
    seed box with template landmarks (weaker, but of the right network and size)."""
    if identity.samples:
        mean = np.mean(np.stack(identity.samples).astype(np.float64), axis=0)
    else:
        guess = FaceDetection(seed_box, template_landmarks(seed_box), 0.0)
        mean = np.asarray(embedder.embed(seed_work, guess), dtype=np.float64)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 1e-12 else mean).astype(np.float32)


def _bgr(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)


def _xywh(box: np.ndarray) -> tuple[int, int, int, int]:
    x0, y0 = round(float(box[0])), round(float(box[1]))
    return x0, y0, max(1, round(float(box[2])) - x0), max(1, round(float(box[3])) - y0)
