"""Aligned square face crops for FAMS, and the way back into the frame.

The published weights were trained on aligned 512 px faces and the authors' inference
aligns unaligned faces first: the crop is a rotated square, upright along the face,
centred a little below the eyes, about four eye distances wide. Our geometry builds that
square from the eye centres and mouth corners of the 68 landmarks:

- the face's axes: the eye line and the eyes-to-mouth line, averaged (robust to either
  being off, e.g. a slanted mouth or an eye occluded by hair);
- the half side: the larger of 2.0 eye distances and 1.8 eye-to-mouth distances, so
  frontal and foreshortened (looking up or down) faces keep their size;
- the centre: 0.39 eye-to-mouth distances below the eyes' midpoint.

The constants were measured against the published recipe's crops on the 13 faces of the
test footage (dlib landmarks): its half side is 1.00 +- 0.05 of this rule and its centre
0.39 +- 0.04 eye-to-mouth distances below the eyes; the corners of our squares lie 4% of
the side from its corners on average (13% at worst).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_HALF_SIDE_PER_EYE_DISTANCE = 2.0
_HALF_SIDE_PER_EYE_TO_MOUTH = 1.8
_CENTRE_BELOW_EYES = 0.39  # in eye-to-mouth distances
# A warp that shrinks by more than this first area-averages, so fine detail (hair,
# stubble, the JPEG grain of a 4K frame) does not alias into the crop or the frame.
_MAX_DIRECT_SHRINK = 1.5


@dataclass(frozen=True, slots=True, eq=False)
class AlignedPlacement:
    """Where an aligned `size` x `size` crop lies in the frame: `matrix` (2x3) maps frame
    pixel coordinates to crop pixel coordinates (rotation, uniform scale, shift)."""

    matrix: np.ndarray
    size: int
    frame_height: int
    frame_width: int

    @property
    def scale(self) -> float:
        """Crop pixels per frame pixel."""
        return float(np.hypot(self.matrix[0, 0], self.matrix[1, 0]))

    def frame_to_crop(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) frame coordinates into crop coordinates."""
        return _apply(self.matrix, points)

    def crop_to_frame(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) crop coordinates back into frame coordinates."""
        return _apply(self.crop_to_frame_matrix(), points)

    def crop_to_frame_matrix(self) -> np.ndarray:
        """2x3 matrix taking crop coordinates to frame coordinates."""
        return cv2.invertAffineTransform(self.matrix.astype(np.float64))

    def frame_box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1): the frame pixels the crop square covers, clipped to the
        frame (empty when it lies outside)."""
        s = float(self.size)
        corners = self.crop_to_frame(np.array([[0, 0], [s, 0], [s, s], [0, s]], np.float32))
        x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 1
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
        return (
            int(max(x0, 0)),
            int(max(y0, 0)),
            int(min(x1, self.frame_width)),
            int(min(y1, self.frame_height)),
        )


def plan_alignment(
    landmarks68: np.ndarray, frame_shape: tuple[int, ...], size: int = 512
) -> AlignedPlacement:
    """The aligned crop of the face with these 68 iBUG landmarks (frame pixels)."""
    pts = np.asarray(landmarks68, dtype=np.float64).reshape(-1, 2)
    if len(pts) != 68:
        raise ValueError(f"expected 68 landmarks, got {len(pts)}")
    left_eye, right_eye = pts[36:42].mean(axis=0), pts[42:48].mean(axis=0)
    eyes = (left_eye + right_eye) / 2.0
    eye_to_eye = right_eye - left_eye
    eye_to_mouth = (pts[48] + pts[54]) / 2.0 - eyes
    eye_distance, mouth_distance = np.hypot(*eye_to_eye), np.hypot(*eye_to_mouth)
    if eye_distance < 1e-3 or mouth_distance < 1e-3:
        raise ValueError("degenerate landmarks: the eyes or the mouth coincide")
    # Image y points down: the face's right-pointing axis is the eye line, or the
    # eyes-to-mouth line turned by -90 degrees.
    right = (
        eye_to_eye / eye_distance + np.array([eye_to_mouth[1], -eye_to_mouth[0]]) / mouth_distance
    )
    right /= np.hypot(*right)
    down = np.array([-right[1], right[0]])
    half = max(
        _HALF_SIDE_PER_EYE_DISTANCE * eye_distance, _HALF_SIDE_PER_EYE_TO_MOUTH * mouth_distance
    )
    centre = eyes + _CENTRE_BELOW_EYES * eye_to_mouth
    top_left = centre - half * right - half * down
    scale = size / (2.0 * half)
    linear = scale * np.stack([right, down])  # rows: crop x and y axes in the frame
    matrix = np.hstack([linear, (-linear @ top_left)[:, None]])
    return AlignedPlacement(matrix, int(size), int(frame_shape[0]), int(frame_shape[1]))


def extract_aligned(frame: np.ndarray, placement: AlignedPlacement) -> np.ndarray:
    """The aligned crop, (size, size, C); parts outside the frame replicate its edge."""
    if frame.shape[:2] != (placement.frame_height, placement.frame_width):
        raise ValueError("frame size differs from the one the crop was planned for")
    source, matrix = frame, placement.matrix.astype(np.float64)
    shrink = 1.0 / placement.scale
    if shrink > _MAX_DIRECT_SHRINK:
        x0, y0, x1, y1 = placement.frame_box()
        if x1 > x0 and y1 > y0:
            region = frame[y0:y1, x0:x1]
            width = max(1, round((x1 - x0) / shrink))
            height = max(1, round((y1 - y0) / shrink))
            source = cv2.resize(region, (width, height), interpolation=cv2.INTER_AREA)
            # Crop coords of a pixel p of the shrunk region: matrix @ (p * factor + offset).
            factor = np.array([(x1 - x0) / width, (y1 - y0) / height])
            offset = matrix[:, :2] @ np.array([x0, y0], np.float64) + matrix[:, 2]
            matrix = np.hstack([matrix[:, :2] * factor, offset[:, None]])
    return cv2.warpAffine(
        source,
        matrix,
        (placement.size, placement.size),
        flags=cv2.INTER_LANCZOS4,
        borderMode=cv2.BORDER_REPLICATE,
    )


def warp_to_frame(
    crop: np.ndarray,
    placement: AlignedPlacement,
    box: tuple[int, int, int, int],
    *,
    nearest: bool = False,
) -> np.ndarray:
    """`crop` (crop coordinates) resampled onto the frame pixels of `box`
    (x0, y0, x1, y1); pixels outside the crop square are 0."""
    x0, y0, x1, y1 = box
    source, matrix = crop, placement.matrix.astype(np.float64)
    if not nearest and placement.scale > _MAX_DIRECT_SHRINK:
        side = max(1, round(placement.size / placement.scale))
        source = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
        matrix = matrix * (side / placement.size)
    # Destination pixel q of the box is frame pixel q + (x0, y0).
    shifted = np.hstack(
        [matrix[:, :2], (matrix[:, :2] @ np.array([x0, y0]) + matrix[:, 2])[:, None]]
    )
    flags = (cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(
        source, shifted, (x1 - x0, y1 - y0), flags=flags, borderMode=cv2.BORDER_CONSTANT
    )
    if crop.ndim == 3 and warped.ndim == 2:
        warped = warped[..., None]
    return warped


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return (pts @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)
