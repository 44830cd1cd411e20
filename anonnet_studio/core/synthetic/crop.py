"""Square crop around one face, sized for SD 1.5, and the way back into the frame.

The crop is cut from the frame at integer pixel positions (padded by edge replication
where it leaves the frame) and resized to a multiple of 8, so the transform between crop
and frame is a pure scale plus offset, and pasting back touches only the crop's square.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from anonnet_studio.core.synthetic.settings import MaskMode, round_down_to_multiple

# Head mode needs room above the face for hair, so the square grows and moves up.
_HEAD_SCALE_FACTOR = 1.2
_HEAD_SHIFT_UP = 0.08
# The square is at least this many face sizes, whatever the frame.
_MIN_FACE_MARGIN = 1.15


@dataclass(frozen=True, slots=True)
class CropPlacement:
    """Where the crop lies in the frame: the square [x0, x0 + side) x [y0, y0 + side) in
    frame pixels (it may extend past the frame edges), resized to `size` x `size`."""

    x0: int
    y0: int
    side: int
    size: int
    frame_height: int
    frame_width: int

    @property
    def scale(self) -> float:
        """Crop pixels per frame pixel."""
        return self.size / self.side

    def frame_to_crop(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) frame coordinates into crop coordinates."""
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        return (pts - np.array([self.x0, self.y0], dtype=np.float32)) * self.scale

    def crop_to_frame(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) crop coordinates back into frame coordinates."""
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        return pts / self.scale + np.array([self.x0, self.y0], dtype=np.float32)

    def crop_to_frame_matrix(self) -> np.ndarray:
        """2x3 affine matrix taking crop coordinates to frame coordinates (for motion and
        compositing stages that warp with OpenCV)."""
        inv = 1.0 / self.scale
        return np.array([[inv, 0.0, self.x0], [0.0, inv, self.y0]], dtype=np.float64)

    def visible_region(self) -> tuple[slice, slice, slice, slice]:
        """(frame_rows, frame_cols, square_rows, square_cols): the part of the square that
        lies inside the frame, in frame and in unscaled-square coordinates."""
        fx0, fy0 = max(self.x0, 0), max(self.y0, 0)
        fx1 = min(self.x0 + self.side, self.frame_width)
        fy1 = min(self.y0 + self.side, self.frame_height)
        return (
            slice(fy0, fy1),
            slice(fx0, fx1),
            slice(fy0 - self.y0, fy1 - self.y0),
            slice(fx0 - self.x0, fx1 - self.x0),
        )


def plan_crop(
    box: np.ndarray,
    landmarks68: np.ndarray | None,
    frame_shape: tuple[int, ...],
    *,
    crop_scale: float,
    size_limits: tuple[int, int],
    mask_mode: MaskMode = "face",
) -> CropPlacement:
    """Square crop centred on the face, `crop_scale` times the face box's larger side
    (at most the frame's larger side, at least 1.15 face sizes).

    `size_limits` = (smallest, largest) output side; the output side is the square's own
    side rounded down to a multiple of 8 and clamped to those limits (themselves rounded
    down to multiples of 8).
    """
    x0, y0, x1, y1 = (float(v) for v in np.asarray(box, dtype=np.float32).ravel()[:4])
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"empty face box: {box!r}")
    if landmarks68 is not None and len(landmarks68) == 68:
        # Landmarks stop at the brows and detector boxes differ in how much forehead and
        # chin they include; their union spans forehead to chin on every detector.
        pts = np.asarray(landmarks68, dtype=np.float32)
        x0, y0 = min(x0, float(pts[:, 0].min())), min(y0, float(pts[:, 1].min()))
        x1, y1 = max(x1, float(pts[:, 0].max())), max(y1, float(pts[:, 1].max()))
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    face_side = max(x1 - x0, y1 - y0)

    height, width = int(frame_shape[0]), int(frame_shape[1])
    side_f = face_side * crop_scale
    if mask_mode == "head":
        side_f *= _HEAD_SCALE_FACTOR
    # Past the frame edge there are only replicated pixels, which the model reads as
    # smeared context: a close-up keeps the square within the frame, as long as the face
    # still fits with a margin.
    side_f = max(min(side_f, max(height, width)), face_side * _MIN_FACE_MARGIN)
    if mask_mode == "head":
        cy -= side_f * _HEAD_SHIFT_UP
    side = max(8, round(side_f))
    x0_px, y0_px = round(cx - side / 2.0), round(cy - side / 2.0)
    # Slide the square back inside the frame where it fits: the face stays inside (the
    # square is >= 1.15 faces) and no edge needs padding.
    if side <= width:
        x0_px = min(max(x0_px, 0), width - side)
    if side <= height:
        y0_px = min(max(y0_px, 0), height - side)
    largest = round_down_to_multiple(size_limits[1])
    smallest = min(round_down_to_multiple(size_limits[0]), largest)
    size = int(np.clip(round_down_to_multiple(side), smallest, largest))
    return CropPlacement(
        x0=x0_px,
        y0=y0_px,
        side=side,
        size=size,
        frame_height=height,
        frame_width=width,
    )


def extract_crop(frame: np.ndarray, placement: CropPlacement) -> np.ndarray:
    """The crop as an (size, size, C) array; parts outside the frame replicate its edge."""
    if frame.shape[:2] != (placement.frame_height, placement.frame_width):
        raise ValueError("frame size differs from the one the crop was planned for")
    pad_left = max(0, -placement.x0)
    pad_top = max(0, -placement.y0)
    pad_right = max(0, placement.x0 + placement.side - placement.frame_width)
    pad_bottom = max(0, placement.y0 + placement.side - placement.frame_height)
    rows, cols, _, _ = placement.visible_region()
    square = frame[rows, cols]
    if pad_left or pad_top or pad_right or pad_bottom:
        square = cv2.copyMakeBorder(
            square, pad_top, pad_bottom, pad_left, pad_right, cv2.BORDER_REPLICATE
        )
    return _resize(square, placement.size)


def composite_into_frame(
    frame: np.ndarray,
    crop_rgb: np.ndarray,
    crop_alpha: np.ndarray,
    placement: CropPlacement,
) -> np.ndarray:
    """A copy of `frame` with `crop_rgb` blended in where `crop_alpha` (0..1, crop
    coordinates) is positive. Pixels whose alpha is 0 keep their exact original value."""
    out = frame.copy()
    rows, cols, sq_rows, sq_cols = placement.visible_region()
    if rows.stop <= rows.start or cols.stop <= cols.start:
        return out
    rgb = _resize(crop_rgb, placement.side)[sq_rows, sq_cols].astype(np.float32)
    alpha = _resize(crop_alpha.astype(np.float32), placement.side)[sq_rows, sq_cols]
    alpha = np.clip(alpha, 0.0, 1.0)
    # Resampling can smear a little alpha just past the mask edge; only pixels the mask
    # itself covered may change, so zero stays zero.
    covered = _resize((crop_alpha > 0).astype(np.uint8), placement.side, nearest=True)
    alpha = np.where(covered[sq_rows, sq_cols] > 0, alpha, 0.0)[..., None]
    region = out[rows, cols].astype(np.float32)
    blended = region * (1.0 - alpha) + rgb * alpha
    changed = alpha[..., 0] > 0
    region_out = out[rows, cols]
    region_out[changed] = np.clip(np.rint(blended[changed]), 0, 255).astype(out.dtype)
    return out


def _resize(image: np.ndarray, side: int, *, nearest: bool = False) -> np.ndarray:
    if image.shape[0] == side and image.shape[1] == side:
        return image.copy()
    if nearest:
        interpolation = cv2.INTER_NEAREST
    elif image.shape[0] > side:
        interpolation = cv2.INTER_AREA  # anti-aliased downscale
    else:
        interpolation = cv2.INTER_CUBIC
    resized = cv2.resize(image, (side, side), interpolation=interpolation)
    if image.ndim == 3 and resized.ndim == 2:
        resized = resized[..., None]
    return resized
