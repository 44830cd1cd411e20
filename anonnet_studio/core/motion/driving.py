"""Driving data of the motion stage, measured from OUR tracks (no second face detector).

* `FaceCrop`: LivePortrait's crop convention (a square rotated with the face, 2.3 times the
  face extent, shifted up by 0.125 of its side) computed from a track's box and 5 landmarks,
  with the exact affine transform to and from the frame.
* `TrackCrops`: those crops for every frame of a track, temporally smoothed (zero phase), so
  the driving crops do not jitter with the detector.
* `LandmarkSeries`: 68 landmarks per track frame (predicted on the track's box), checked
  against the track's own 5 landmarks and smoothed over time; implausible frames stay None.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from anonnet_studio.core.anonymize.plan import Region, TrackGeometry
from anonnet_studio.core.media.reader import VideoReader

LIVEPORTRAIT_SCALE = 2.3
LIVEPORTRAIT_VY = -0.125
CROP_SIZE = 512  # official crop resolution; the networks see it resized to 256
# LivePortrait sizes its crop from the extent of its dense landmarks (jaw to jaw, brows to
# chin). Measured on the fixtures with dlib's 68 points on YuNet boxes: that extent is about
# 1.03 x the box width and 0.78 x its height, and its centre lies 0.14 of the box's larger
# side below the box centre (the YuNet box includes the forehead).
EXTENT_PER_BOX_WIDTH = 1.03
EXTENT_PER_BOX_HEIGHT = 0.78
LANDMARK_CENTRE_DROP = 0.14
CROP_SIGMA_FRAMES = 2.0  # temporal smoothing of the crop geometry
LANDMARK_SIGMA_FRAMES = 1.5  # temporal smoothing of the 68 landmarks
# 68 landmarks whose eyes/nose/mouth sit further than this (fraction of the face size) from
# the track's 5 landmarks are a failed prediction (profile view, occlusion, drift).
MAX_LANDMARK_DISAGREEMENT = 0.2
# Tracks closer than this many frames are measured in one decoding pass; beyond it, the
# frames between them are skipped by seeking.
SPAN_MAX_GAP = 150
# Columns of the crop parameter arrays.
CX, CY, SIDE, ANGLE = range(4)


@dataclass(frozen=True, slots=True)
class FaceCrop:
    """A square of `side` frame pixels centred at (cx, cy), rotated by `angle` (radians,
    the face's roll), sampled into a `dsize` x `dsize` crop."""

    cx: float
    cy: float
    side: float
    angle: float
    dsize: int = CROP_SIZE

    def crop_to_frame(self, crop_size: int | None = None) -> np.ndarray:
        """2x3 affine matrix from crop pixels (of a crop `crop_size` wide, default `dsize`)
        to frame pixels."""
        size = crop_size or self.dsize
        step = self.side / size
        ux = np.array([math.cos(self.angle), math.sin(self.angle)]) * step
        uy = np.array([-math.sin(self.angle), math.cos(self.angle)]) * step
        # Pixel centres sit at integer coordinates (OpenCV's convention) at every crop size:
        # crop pixel i lies (i + 0.5 - size / 2) steps from the centre.
        origin = np.array([self.cx, self.cy]) - (ux + uy) * (size / 2 - 0.5)
        return np.array([[ux[0], uy[0], origin[0]], [ux[1], uy[1], origin[1]]])

    def frame_to_crop(self, crop_size: int | None = None) -> np.ndarray:
        """2x3 affine matrix from frame pixels to crop pixels."""
        return cv2.invertAffineTransform(self.crop_to_frame(crop_size))

    def extract(self, frame: np.ndarray) -> np.ndarray:
        """The crop as RGB uint8 (dsize, dsize, 3); outside the frame the edge is repeated."""
        matrix = self.frame_to_crop()
        scale = self.dsize / max(self.side, 1.0)
        if scale < 0.5:
            # warpAffine samples without prefiltering: shrink the face region first so a
            # big close-up does not alias (the motion extractor would see it as jitter).
            frame, matrix = _prefiltered(frame, self, scale)
        return cv2.warpAffine(
            frame,
            matrix,
            (self.dsize, self.dsize),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )

    def to_frame(self, points: np.ndarray, crop_size: int | None = None) -> np.ndarray:
        """Map (N, 2) crop points to frame points."""
        return _apply(self.crop_to_frame(crop_size), points)

    def to_crop(self, points: np.ndarray, crop_size: int | None = None) -> np.ndarray:
        """Map (N, 2) frame points to crop points."""
        return _apply(self.frame_to_crop(crop_size), points)


def crop_parameters(
    boxes: np.ndarray,
    landmarks5: np.ndarray,
    *,
    scale: float = LIVEPORTRAIT_SCALE,
    vy: float = LIVEPORTRAIT_VY,
) -> np.ndarray:
    """Raw LivePortrait crop parameters (N, 4): cx, cy, side, angle, one row per face.

    The roll follows the official rule (the eye-centre to mouth-centre direction is the
    crop's vertical axis); the extent comes from the box (see the constants above).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    points = np.asarray(landmarks5, dtype=np.float64).reshape(-1, 5, 2)
    down = (points[:, 3] + points[:, 4]) / 2 - (points[:, 0] + points[:, 1]) / 2
    length = np.linalg.norm(down, axis=1, keepdims=True)
    down = np.where(length > 1e-3, down / np.maximum(length, 1e-3), [0.0, 1.0])
    angle = np.arctan2(-down[:, 0], down[:, 1])
    width = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    height = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    extent = np.maximum(EXTENT_PER_BOX_WIDTH * width, EXTENT_PER_BOX_HEIGHT * height)
    side = extent * scale
    drop = LANDMARK_CENTRE_DROP * np.maximum(width, height) + vy * side
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 + down[:, 0] * drop
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 + down[:, 1] * drop
    return np.stack([cx, cy, side, angle], axis=1)


def smooth_crop_parameters(params: np.ndarray, sigma: float = CROP_SIGMA_FRAMES) -> np.ndarray:
    """Zero-phase Gaussian smoothing over time of (N, 4) crop parameters."""
    params = np.asarray(params, dtype=np.float64)
    if sigma <= 0 or len(params) < 2:
        return params.copy()
    smoothed = gaussian_filter1d(params, sigma, axis=0, mode="nearest")
    smoothed[:, ANGLE] = gaussian_filter1d(np.unwrap(params[:, ANGLE]), sigma, mode="nearest")
    return smoothed


def face_crop(
    box: np.ndarray, landmarks5: np.ndarray, dsize: int = CROP_SIZE, **options: float
) -> FaceCrop:
    """The (unsmoothed) LivePortrait crop of one face."""
    row = crop_parameters(box[None], np.asarray(landmarks5)[None], **options)[0]
    return _face_crop_from(row, dsize)


class TrackCrops:
    """Temporally smoothed LivePortrait crops for every frame of a track."""

    def __init__(
        self,
        track: TrackGeometry,
        *,
        dsize: int = CROP_SIZE,
        sigma: float = CROP_SIGMA_FRAMES,
        scale: float = LIVEPORTRAIT_SCALE,
        vy: float = LIVEPORTRAIT_VY,
    ) -> None:
        self.track = track
        self.dsize = dsize
        raw = crop_parameters(track.boxes, track.landmarks5, scale=scale, vy=vy)
        self.params = smooth_crop_parameters(raw, sigma)

    def __len__(self) -> int:
        return len(self.params)

    def at(self, row: int) -> FaceCrop:
        """The crop of track row `row`."""
        return _face_crop_from(self.params[row], self.dsize)


def _face_crop_from(params: np.ndarray, dsize: int) -> FaceCrop:
    cx, cy, side, angle = (float(v) for v in params)  # one row of `crop_parameters`
    return FaceCrop(cx, cy, side, angle, dsize=dsize)


def track_row(track: TrackGeometry, frame_index: int) -> int:
    """Row of `frame_index` in the track; frames before/after it (coverage padding) and in
    its gaps take the nearest earlier (or the first) row, as the render plan does."""
    row = int(np.searchsorted(track.frames, frame_index, side="right")) - 1
    return min(max(row, 0), len(track.frames) - 1)


def region_track(region: Region) -> TrackGeometry | None:
    """The track of the region's person that produced this region's geometry."""
    fallback = None
    for track in region.person.tracks:
        row = track_row(track, region.frame_index)
        if np.array_equal(track.boxes[row], region.box) and np.array_equal(
            track.landmarks5[row], region.landmarks5
        ):
            if int(track.frames[0]) <= region.frame_index <= int(track.frames[-1]):
                return track
            fallback = fallback or track  # coverage padding before/after the track
    return fallback


def track_spans(tracks: list[TrackGeometry], max_gap: int = SPAN_MAX_GAP) -> list[tuple[int, int]]:
    """Frame ranges [start, end) covering the tracks, merged across gaps up to `max_gap`."""
    spans: list[tuple[int, int]] = []
    for start, end in sorted((int(t.frames[0]), int(t.frames[-1]) + 1) for t in tracks):
        if spans and start <= spans[-1][1] + max_gap:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


# --- 68 landmarks per track frame ----------------------------------------------------------

LandmarkFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def landmarks_agree(landmarks68: np.ndarray, landmarks5: np.ndarray, box: np.ndarray) -> bool:
    """True when the 68 landmarks put the eyes, nose tip and mouth corners where the
    track's 5 landmarks are (within `MAX_LANDMARK_DISAGREEMENT` of the face size)."""
    points = np.asarray(landmarks68, dtype=np.float64)
    if points.shape != (68, 2) or not np.all(np.isfinite(points)):
        return False
    five = np.stack(
        [points[36:42].mean(0), points[42:48].mean(0), points[30], points[48], points[54]]
    )
    size = max(float(box[2] - box[0]), float(box[3] - box[1]), 1.0)
    error = np.linalg.norm(five - np.asarray(landmarks5, dtype=np.float64), axis=1)
    return float(error.mean()) <= MAX_LANDMARK_DISAGREEMENT * size


@dataclass(frozen=True, slots=True, eq=False)
class LandmarkSeries:
    """Smoothed 68 landmarks (N, 68, 2) per track row; rows whose prediction failed are
    marked invalid and have no landmarks."""

    points: np.ndarray
    valid: np.ndarray  # (N,) bool

    def at(self, row: int) -> np.ndarray | None:
        return self.points[row] if self.valid[row] else None


class LandmarkSeriesBuilder:
    """Collects one 68-landmark prediction per track row, then smooths them."""

    def __init__(
        self,
        track: TrackGeometry,
        predict: LandmarkFunction,
        sigma: float = LANDMARK_SIGMA_FRAMES,
    ) -> None:
        self.track = track
        self._predict = predict
        self._sigma = sigma
        rows = len(track.frames)
        self._points = np.zeros((rows, 68, 2), np.float64)
        self._valid = np.zeros(rows, bool)

    def add(self, row: int, frame: np.ndarray) -> None:
        """Predict the landmarks of track row `row` in `frame` (RGB uint8)."""
        box = self.track.boxes[row]
        points = np.asarray(self._predict(frame, box), dtype=np.float64)
        if landmarks_agree(points, self.track.landmarks5[row], box):
            self._points[row] = points
            self._valid[row] = True

    def finish(self) -> LandmarkSeries:
        smoothed = smooth_valid(self._points, self._valid, self._sigma)
        return LandmarkSeries(smoothed.astype(np.float32), self._valid.copy())


def smooth_valid(values: np.ndarray, valid: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing over axis 0 that ignores invalid rows (normalised convolution);
    invalid rows come back unchanged."""
    if sigma <= 0 or len(values) < 2 or not valid.any():
        return values.copy()
    weights = valid.astype(np.float64)
    shape = (-1,) + (1,) * (values.ndim - 1)
    numerator = gaussian_filter1d(values * weights.reshape(shape), sigma, axis=0, mode="nearest")
    denominator = gaussian_filter1d(weights, sigma, mode="nearest").reshape(shape)
    smoothed = numerator / np.maximum(denominator, 1e-9)
    return np.where(valid.reshape(shape), smoothed, values)


# --- where the driving frames come from ---------------------------------------------------


class FrameSource(Protocol):
    def frames(self, start: int, end: int) -> Iterator[tuple[int, np.ndarray]]:
        """(index, RGB image) for the frames start..end-1, in order."""
        ...

    def frame(self, index: int) -> np.ndarray: ...


class VideoFrames:
    """`FrameSource` over a video file, opened on first use (the renderer keeps its own)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._reader: VideoReader | None = None

    def _open(self) -> VideoReader:
        if self._reader is None:
            self._reader = VideoReader(self.path)
        return self._reader

    def frames(self, start: int, end: int) -> Iterator[tuple[int, np.ndarray]]:
        for frame in self._open().iter_frames(start, end):
            yield frame.index, frame.image

    def frame(self, index: int) -> np.ndarray:
        return self._open().frame_at(index)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


# --- helpers -------------------------------------------------------------------------------


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def _prefiltered(frame: np.ndarray, crop: FaceCrop, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The frame region under `crop`, shrunk by about `scale` with area averaging, and the
    frame-to-crop matrix for that smaller image."""
    corners = crop.to_frame(np.array([[0, 0], [crop.dsize, 0], [0, crop.dsize], [crop.dsize] * 2]))
    height, width = frame.shape[:2]
    x0 = int(np.clip(math.floor(corners[:, 0].min()), 0, width - 1))
    y0 = int(np.clip(math.floor(corners[:, 1].min()), 0, height - 1))
    x1 = int(np.clip(math.ceil(corners[:, 0].max()) + 1, x0 + 1, width))
    y1 = int(np.clip(math.ceil(corners[:, 1].max()) + 1, y0 + 1, height))
    factor = 2.0 * scale  # leave the final 2x step to warpAffine's bilinear sampling
    region = frame[y0:y1, x0:x1]
    small_w = max(1, round((x1 - x0) * factor))
    small_h = max(1, round((y1 - y0) * factor))
    small = cv2.resize(region, (small_w, small_h), interpolation=cv2.INTER_AREA)
    # frame -> small, with cv2.resize's pixel-centre convention: dst = (src + 0.5) s - 0.5.
    sx, sy = small_w / (x1 - x0), small_h / (y1 - y0)
    to_small = np.array(
        [[sx, 0.0, (0.5 - x0) * sx - 0.5], [0.0, sy, (0.5 - y0) * sy - 0.5], [0.0, 0.0, 1.0]]
    )
    from_small = np.linalg.inv(to_small)
    matrix = np.vstack([crop.frame_to_crop(), [0.0, 0.0, 1.0]]) @ from_small
    return small, matrix[:2]
