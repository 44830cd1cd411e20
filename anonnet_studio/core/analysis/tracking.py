"""Link per-frame face detections into tracks, then bridge gaps and smooth them.

Online association is by IoU (with a centre-distance fallback for fast motion at a
detection stride), and identity embeddings veto a link whenever both sides have one, so
two people crossing in a two-shot do not swap tracks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from anonnet_studio.core.vision.types import FaceDetection, cosine_distance


@dataclass(slots=True, eq=False)
class EmbeddingSample:
    frame_index: int
    embedding: np.ndarray
    quality: float


@dataclass(slots=True, eq=False)
class RawTrack:
    """A track as observed: only frames where the detector fired."""

    id: int
    frames: list[int] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    landmarks5: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    samples: list[EmbeddingSample] = field(default_factory=list)
    # Ids of fragments stitched into this track (their per-id samples belong here too).
    stitched_ids: list[int] = field(default_factory=list)

    @property
    def source_ids(self) -> list[int]:
        return [self.id, *self.stitched_ids]

    @property
    def last_frame(self) -> int:
        return self.frames[-1]

    def mean_embedding(self) -> np.ndarray | None:
        """Quality-weighted mean of the embedding samples, L2-normalised."""
        if not self.samples:
            return None
        weights = np.array([max(s.quality, 1e-3) for s in self.samples], dtype=np.float32)
        stacked = np.stack([s.embedding for s in self.samples]).astype(np.float32)
        mean = (stacked * weights[:, None]).sum(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else mean


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _centre_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Centre distance in units of the mean face size."""
    ca = np.array([(a[0] + a[2]) / 2, (a[1] + a[3]) / 2])
    cb = np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2])
    size = ((a[2] - a[0]) + (a[3] - a[1]) + (b[2] - b[0]) + (b[3] - b[1])) / 4
    return float(np.linalg.norm(ca - cb) / max(size, 1.0))


class FaceTracker:
    """Online tracker over one video; call `update` per analysed frame, then `finish`."""

    def __init__(
        self,
        *,
        max_gap_frames: int,
        iou_threshold: float = 0.25,
        max_centre_distance: float = 0.6,
        embedding_threshold: float | None = None,
    ) -> None:
        self.max_gap_frames = max_gap_frames
        self.iou_threshold = iou_threshold
        self.max_centre_distance = max_centre_distance
        self.embedding_threshold = embedding_threshold
        self._active: list[RawTrack] = []
        self._finished: list[RawTrack] = []
        self._next_id = 0

    def update(
        self,
        frame_index: int,
        detections: list[FaceDetection],
        embeddings: list[np.ndarray | None] | None = None,
        qualities: list[float] | None = None,
    ) -> list[int]:
        """Associate `detections` with tracks; returns the track id of each detection."""
        self._retire(frame_index)
        embeddings = embeddings or [None] * len(detections)
        qualities = qualities or [1.0] * len(detections)
        assigned = self._associate(detections, embeddings)
        ids: list[int] = []
        for det_index, detection in enumerate(detections):
            track = assigned.get(det_index)
            if track is None:
                track = RawTrack(id=self._next_id)
                self._next_id += 1
                self._active.append(track)
            track.frames.append(frame_index)
            track.boxes.append(np.asarray(detection.box, dtype=np.float32))
            track.landmarks5.append(np.asarray(detection.landmarks5, dtype=np.float32))
            track.scores.append(float(detection.score))
            embedding = embeddings[det_index]
            if embedding is not None:
                track.samples.append(
                    EmbeddingSample(frame_index, embedding, float(qualities[det_index]))
                )
            ids.append(track.id)
        return ids

    def active_track(self, track_id: int) -> RawTrack | None:
        return next((t for t in self._active if t.id == track_id), None)

    def finish(self) -> list[RawTrack]:
        tracks = self._finished + self._active
        self._active, self._finished = [], []
        return sorted(tracks, key=lambda t: (t.frames[0], t.id))

    def _retire(self, frame_index: int) -> None:
        still_active = []
        for track in self._active:
            if frame_index - track.last_frame > self.max_gap_frames:
                self._finished.append(track)
            else:
                still_active.append(track)
        self._active = still_active

    def _associate(
        self, detections: list[FaceDetection], embeddings: list[np.ndarray | None]
    ) -> dict[int, RawTrack]:
        if not detections or not self._active:
            return {}
        impossible = 1e6
        cost = np.full((len(detections), len(self._active)), impossible)
        switched: set[int] = set()
        for i, detection in enumerate(detections):
            for j, track in enumerate(self._active):
                last_box = track.boxes[-1]
                iou = box_iou(detection.box, last_box)
                if self._vetoed_by_embedding(embeddings[i], track):
                    if iou >= self.iou_threshold:
                        switched.add(j)  # someone else is where this track's face was
                    continue
                if iou >= self.iou_threshold:
                    cost[i, j] = 1.0 - iou
                else:
                    distance = _centre_distance(detection.box, last_box)
                    if distance <= self.max_centre_distance:
                        cost[i, j] = 1.0 + distance  # worse than any IoU match
        rows, cols = linear_sum_assignment(cost)
        assigned = {
            int(r): self._active[int(c)]
            for r, c in zip(rows, cols, strict=True)
            if cost[r, c] < impossible
        }
        # A track whose place was taken by a different person has ended: keeping it alive
        # would let it steal that person's next detections and duplicate their track.
        taken = {id(t) for t in assigned.values()}
        for j in sorted(switched, reverse=True):
            if id(self._active[j]) not in taken:
                self._finished.append(self._active.pop(j))
        return assigned

    def _vetoed_by_embedding(self, embedding: np.ndarray | None, track: RawTrack) -> bool:
        if embedding is None or self.embedding_threshold is None or not track.samples:
            return False
        recent = track.samples[-1].embedding
        # Generous margin: the veto is for clear identity switches, not noisy frames.
        return cosine_distance(embedding, recent) > self.embedding_threshold * 1.5


def stitch_fragments(
    pieces: list[RawTrack],
    embedding_of: Callable[[RawTrack], np.ndarray],
    *,
    max_gap_frames: int,
    embedding_threshold: float,
    iou_threshold: float = 0.3,
) -> list[RawTrack]:
    """Join consecutive fragments of one face within a shot (the detector lost it for a
    while, or a track was cut short at a shot change): the later fragment must start
    close in time and place to where the earlier one ended, with a matching identity."""
    pieces = sorted(pieces, key=lambda p: p.frames[0])
    joined: list[RawTrack] = []
    for piece in pieces:
        target = None
        for candidate in joined:
            gap = piece.frames[0] - candidate.frames[-1]
            if not 0 < gap <= max_gap_frames:
                continue
            if box_iou(candidate.boxes[-1], piece.boxes[0]) < iou_threshold:
                continue
            distance = cosine_distance(embedding_of(candidate), embedding_of(piece))
            if distance < embedding_threshold:
                target = candidate
                break
        if target is None:
            joined.append(piece)
            continue
        target.frames += piece.frames
        target.boxes += piece.boxes
        target.landmarks5 += piece.landmarks5
        target.scores += piece.scores
        target.samples += piece.samples
        target.stitched_ids += piece.source_ids
    return joined


@dataclass(frozen=True, slots=True, eq=False)
class TrackArrays:
    """A finished track: every frame from first to last, gaps bridged, geometry smoothed."""

    frames: np.ndarray  # (N,) int32, consecutive
    boxes: np.ndarray  # (N, 4) float32
    landmarks5: np.ndarray  # (N, 5, 2) float32
    scores: np.ndarray  # (N,) float32, 0 where interpolated
    interpolated: np.ndarray  # (N,) bool


def split_at_cuts(track: RawTrack, shot_bounds: list[tuple[int, int]]) -> list[RawTrack]:
    """Split a raw track wherever it crosses a shot boundary (tracks never span a cut)."""
    pieces: list[RawTrack] = []
    for start, end in shot_bounds:
        keep = [i for i, f in enumerate(track.frames) if start <= f < end]
        if not keep:
            continue
        piece = RawTrack(id=track.id)
        piece.frames = [track.frames[i] for i in keep]
        piece.boxes = [track.boxes[i] for i in keep]
        piece.landmarks5 = [track.landmarks5[i] for i in keep]
        piece.scores = [track.scores[i] for i in keep]
        piece.samples = [s for s in track.samples if start <= s.frame_index < end]
        pieces.append(piece)
    return pieces


def densify(
    track: RawTrack,
    smoothing_sigma_frames: float = 1.5,
    *,
    extend: int = 0,
    bounds: tuple[int, int] | None = None,
) -> TrackArrays:
    """Fill every frame between the first and last observation by linear interpolation,
    then smooth boxes and landmarks over time so masks neither jitter nor flicker.

    `extend` adds that many frames before and after (holding the end geometry, within
    `bounds` = (first, last) allowed frame): with a detection stride, the frames between
    the last detection and the next unexamined one may still show the face."""
    observed = np.asarray(track.frames, dtype=np.int64)
    first, last = int(observed[0]) - extend, int(observed[-1]) + extend
    if bounds is not None:
        first, last = max(first, bounds[0]), min(last, bounds[1])
    frames = np.arange(min(first, observed[0]), max(last, observed[-1]) + 1, dtype=np.int64)
    boxes_obs = np.stack(track.boxes).astype(np.float64)
    lm_obs = np.stack(track.landmarks5).astype(np.float64).reshape(len(observed), -1)
    boxes = np.stack([np.interp(frames, observed, boxes_obs[:, k]) for k in range(4)], axis=1)
    landmarks = np.stack(
        [np.interp(frames, observed, lm_obs[:, k]) for k in range(lm_obs.shape[1])], axis=1
    )
    interpolated = ~np.isin(frames, observed)
    scores = np.zeros(len(frames), dtype=np.float32)
    scores[np.searchsorted(frames, observed)] = np.asarray(track.scores, dtype=np.float32)
    if smoothing_sigma_frames > 0 and len(frames) > 2:
        boxes = gaussian_smooth(boxes, smoothing_sigma_frames)
        landmarks = gaussian_smooth(landmarks, smoothing_sigma_frames)
    return TrackArrays(
        frames=frames.astype(np.int32),
        boxes=boxes.astype(np.float32),
        landmarks5=landmarks.reshape(len(frames), 5, 2).astype(np.float32),
        scores=scores,
        interpolated=interpolated,
    )


def gaussian_smooth(values: np.ndarray, sigma: float) -> np.ndarray:
    """Smooth (N, K) values along axis 0, repeating the end values so the ends do not drift."""
    radius = max(1, round(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, ((radius, radius), (0, 0)), mode="edge")
    out = np.empty_like(values, dtype=np.float64)
    for k in range(values.shape[1]):
        out[:, k] = np.convolve(padded[:, k], kernel, mode="valid")
    return out
