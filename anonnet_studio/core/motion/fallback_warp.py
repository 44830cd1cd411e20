"""The embedded motion fallback: a 68-landmark piecewise-affine warp (offline, CPU).

The synthetic keyframe face (with its own 68 landmarks) is warped onto each frame's 68
landmarks, triangle by triangle (Delaunay over the landmarks plus forehead points and an
outer ring). Forehead and ring points follow a similarity transform fitted on the rigid
landmarks, so the skin around the face moves with the head while the eyes, brows, mouth
and jaw follow their landmarks exactly. Only the face's mask window is computed.

It cannot show what the keyframe does not: teeth, a turned-away cheek. An opening mouth is
darkened inside the lips; the editor labels this backend as lower quality.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay

from anonnet_studio.core.anonymize.plan import TrackGeometry
from anonnet_studio.core.motion.composite import AnimatedPatch, Window, edge_coverage
from anonnet_studio.core.motion.driving import LandmarkSeries, LandmarkSeriesBuilder
from anonnet_studio.core.motion.face_source import SyntheticKeyframe
from anonnet_studio.core.vision.types import LandmarkPredictor

# Brows, nose, eyes and the jaw ends by the ears: the points that move with the skull.
RIGID_POINTS = np.array([0, 1, 15, 16, *range(17, 48)])
FOREHEAD_BROW_POINTS = np.array([17, 19, 21, 22, 24, 26])
FOREHEAD_LIFT = 0.8  # forehead points sit this many eye-to-mouth distances above the brows
RING_POINTS = 20
RING_RADIUS = 1.6  # outer ring radius, relative to the farthest face control point
FACE_POINTS = 68 + len(FOREHEAD_BROW_POINTS)  # landmarks and forehead points
INNER_LIPS = np.arange(60, 68)
MOUTH_COLOUR = np.array([52, 24, 26], np.float32)  # RGB of a shadowed mouth interior
BACKEND_NAME = "landmark warp (fallback)"


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + shift (2x3) taking `source` to `target`."""
    src = np.asarray(source, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(target, dtype=np.float64).reshape(-1, 2)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    a, b = src - src_mean, dst - dst_mean
    norm = float((a**2).sum()) or 1.0
    # As complex numbers: dst = z * src, z = sum(conj(a) b) / sum(|a|^2).
    re = float((a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1]).sum()) / norm
    im = float((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum()) / norm
    linear = np.array([[re, -im], [im, re]])
    return np.hstack([linear, (dst_mean - linear @ src_mean)[:, None]])


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def control_points(landmarks68: np.ndarray) -> np.ndarray:
    """The 68 landmarks plus forehead points and an outer ring (68 + 6 + RING_POINTS, 2)."""
    points = np.asarray(landmarks68, dtype=np.float64)
    eyes = (points[36:42].mean(0) + points[42:48].mean(0)) / 2
    mouth = (points[48] + points[54]) / 2
    up = eyes - mouth
    forehead = points[FOREHEAD_BROW_POINTS] + FOREHEAD_LIFT * up
    face = np.vstack([points, forehead])
    centre = (face.min(0) + face.max(0)) / 2
    radius = RING_RADIUS * float(np.linalg.norm(face - centre, axis=1).max())
    angles = np.linspace(0, 2 * np.pi, RING_POINTS, endpoint=False)
    ring = centre + radius * np.stack([np.cos(angles), np.sin(angles)], 1)
    return np.vstack([face, ring])


class PiecewiseAffineWarp:
    """Warps one source face image, given its 68 landmarks, onto target landmarks."""

    def __init__(self, image: np.ndarray, landmarks68: np.ndarray) -> None:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError("the source face must be an RGB uint8 image")
        landmarks68 = np.asarray(landmarks68, dtype=np.float64)
        if landmarks68.shape != (68, 2):
            raise ValueError("the source face needs (68, 2) landmarks")
        self.image = image
        self.landmarks68 = landmarks68
        self.source_points = control_points(landmarks68)
        self.triangles = Delaunay(self.source_points).simplices.astype(np.int32)
        self._source_lip_gap = _lip_gap(landmarks68)

    def target_points(self, target68: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where every control point goes for a face with landmarks `target68`, and the
        rigid (similarity) source-to-target transform that moves the extra points."""
        target68 = np.asarray(target68, dtype=np.float64)
        rigid = similarity_transform(self.landmarks68[RIGID_POINTS], target68[RIGID_POINTS])
        extra = apply_affine(rigid, self.source_points[68:])
        return np.vstack([target68, extra]), rigid

    def warp(self, target68: np.ndarray, window: Window) -> AnimatedPatch:
        """The source face warped onto `target68` (frame pixels), for the window only
        (RGB of shape (y1 - y0, x1 - x0, 3))."""
        x0, y0, x1, y1 = window
        width, height = x1 - x0, y1 - y0
        target, rigid = self.target_points(target68)
        local = target - (x0, y0)
        labels = np.zeros((height, width), np.uint16)
        for index, triangle in enumerate(self.triangles, start=1):
            corners = np.round(local[triangle] * 16).astype(np.int32)
            cv2.fillConvexPoly(labels, corners, index, lineType=cv2.LINE_8, shift=4)
        # Label 0 (outside the ring) follows the same rigid transform as the ring points,
        # mapped from window pixels (window -> frame -> source).
        outside = np.asarray(cv2.invertAffineTransform(rigid), np.float64)
        outside[:, 2] += outside[:, :2] @ np.array([x0, y0], np.float64)
        affines = np.empty((len(self.triangles) + 1, 6), np.float64)
        affines[0] = outside.ravel()
        affines[1:] = _triangle_affines(local, self.source_points, self.triangles, outside)
        coefficients = affines.astype(np.float32)[labels]
        xs = np.arange(width, dtype=np.float32)[None, :]
        ys = np.arange(height, dtype=np.float32)[:, None]
        map_x = coefficients[..., 0] * xs + coefficients[..., 1] * ys + coefficients[..., 2]
        map_y = coefficients[..., 3] * xs + coefficients[..., 4] * ys + coefficients[..., 5]
        patch = cv2.remap(
            self.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        self._shade_open_mouth(patch, target68, (x0, y0))
        coverage = edge_coverage(map_x, map_y, self.image.shape[1], self.image.shape[0])
        if coverage is not None:
            # The live frame may show through only around the face, never on it.
            face = cv2.convexHull(local[:FACE_POINTS].astype(np.float32)).astype(np.int32)
            inside = np.zeros(coverage.shape, np.uint8)
            cv2.fillConvexPoly(inside, face, 1)
            coverage = np.maximum(coverage, inside.astype(np.float32))
        return AnimatedPatch(patch, coverage)

    def _shade_open_mouth(
        self, patch: np.ndarray, target68: np.ndarray, origin: tuple[int, int]
    ) -> None:
        """Darken the inside of the lips when the target mouth is more open than the
        source's: stretched lip pixels would otherwise fill the gap."""
        target68 = np.asarray(target68, dtype=np.float64)
        extra_gap = _lip_gap(target68) - self._source_lip_gap
        strength = float(np.clip(extra_gap / 0.15, 0.0, 0.85))
        if strength <= 0.0:
            return
        lips = target68[INNER_LIPS] - origin
        # Only the lips' bounding box is touched (the mouth is small next to the window).
        height, width = patch.shape[:2]
        x0, y0 = (max(0, int(v) - 1) for v in lips.min(0))
        x1, y1 = (int(v) + 2 for v in lips.max(0))
        x1, y1 = min(width, x1), min(height, y1)
        if x1 <= x0 or y1 <= y0:
            return
        inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
        corners = np.round((lips - (x0, y0)) * 16).astype(np.int32)
        cv2.fillConvexPoly(inside, corners, 255, lineType=cv2.LINE_AA, shift=4)
        alpha = inside.astype(np.float32)[..., None] * (strength / 255.0)
        region = patch[y0:y1, x0:x1]
        mixed = region.astype(np.float32) * (1 - alpha) + MOUTH_COLOUR * alpha
        region[...] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def _triangle_affines(
    target: np.ndarray, source: np.ndarray, triangles: np.ndarray, fallback: np.ndarray
) -> np.ndarray:
    """Per triangle, the 2x3 map (flattened) from target (window) pixels to source pixels.
    Degenerate target triangles (no area) use `fallback`."""
    corners = target[triangles]  # (M, 3, 2)
    homogeneous = np.concatenate([corners, np.ones((*corners.shape[:2], 1))], axis=2)
    usable = np.abs(np.linalg.det(homogeneous)) > 1e-6
    result = np.empty((len(triangles), 6), np.float64)
    result[:] = fallback.ravel()
    if usable.any():
        # homogeneous @ A^T = source corners, solved for every usable triangle at once.
        solved = np.linalg.solve(homogeneous[usable], source[triangles[usable]])
        result[usable] = solved.transpose(0, 2, 1).reshape(-1, 6)
    return result


def _lip_gap(landmarks68: np.ndarray) -> float:
    """Inner-lip opening relative to the mouth width."""
    width = float(np.linalg.norm(landmarks68[54] - landmarks68[48])) or 1.0
    return float(np.linalg.norm(landmarks68[66] - landmarks68[62])) / width


# --- the motion backend --------------------------------------------------------------------


class FallbackWarpBackend:
    """`MotionBackend` of the landmark warp: per track, smoothed 68 landmarks of the
    original face; per frame, the keyframe face warped onto them."""

    name = BACKEND_NAME
    is_fallback = True
    needs_reference_frame = False

    def __init__(self, landmarks: LandmarkPredictor) -> None:
        self._landmarks = landmarks

    def prepare_face(
        self, face: SyntheticKeyframe, reference_frame: np.ndarray | None
    ) -> PiecewiseAffineWarp:
        return PiecewiseAffineWarp(face.image, face.landmarks68)

    def measurer(self, track: TrackGeometry) -> LandmarkSeriesBuilder:
        return LandmarkSeriesBuilder(track, self._landmarks.landmarks68)

    def render(
        self, face: PiecewiseAffineWarp, driving: LandmarkSeries, row: int, window: Window
    ) -> AnimatedPatch | None:
        target = driving.at(row)
        if target is None:
            return None
        return face.warp(target, window)
