"""Pixel conversions between decoded/encoded frames and upright RGB numpy images.

Reader and writer share these so that a decode → encode → decode round trip uses the same
colour matrix both ways (BT.709 for sources tagged so, BT.601 otherwise).
"""

from __future__ import annotations

import av
import av.video.frame
import numpy as np

# AVColorSpace values (libavutil/pixfmt.h) → swscale matrix names PyAV understands.
_AVCOL_SPC_BT709 = 1
_AVCOL_SPC_BT2020 = (9, 10)
_AVCOL_SPC_SMPTE240M = 7
_AVCOL_RANGE_MPEG = 1
_AVCOL_RANGE_JPEG = 2


def swscale_matrix(av_colorspace: int) -> str:
    """The swscale colour matrix for a stream's AVColorSpace tag (BT.601 when untagged,
    which is also what FFmpeg and players assume for untagged SD video)."""
    if av_colorspace == _AVCOL_SPC_BT709:
        return "itu709"
    if av_colorspace in _AVCOL_SPC_BT2020:
        return "bt2020"
    if av_colorspace == _AVCOL_SPC_SMPTE240M:
        return "smpte240m"
    return "itu601"


def fit_within(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) scaled down, aspect kept, so the longer side is at most max_side."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def rotate_upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a stored picture `rotation` degrees clockwise so it displays upright."""
    quarter_turns = rotation // 90 % 4
    if quarter_turns == 0:
        return image
    # np.rot90 turns counterclockwise for positive k.
    return np.ascontiguousarray(np.rot90(image, k=-quarter_turns))


def frame_to_rgb(
    frame: av.video.frame.VideoFrame, *, rotation: int, max_side: int | None = None
) -> np.ndarray:
    """Decoded frame → upright RGB uint8 (H, W, 3), optionally downscaled (area filter)."""
    width, height = fit_within(frame.width, frame.height, max_side)
    full_range = int(frame.color_range) == _AVCOL_RANGE_JPEG
    # Scaling and colour conversion happen in one swscale pass, before the rotation,
    # because the longest side is the same either way.
    image = frame.to_ndarray(
        format="rgb24",
        width=width,
        height=height,
        interpolation="AREA" if (width, height) != (frame.width, frame.height) else None,
        src_colorspace=swscale_matrix(int(frame.colorspace)),
        src_color_range="JPEG" if full_range else "MPEG",
    )
    return rotate_upright(image, rotation)


def even_size(width: int, height: int) -> tuple[int, int]:
    """The encodable yuv420p size: odd dimensions grow by one pixel (padding)."""
    return width + width % 2, height + height % 2


def pad_to_even(image: np.ndarray) -> np.ndarray:
    """Pad an odd-sized image by repeating its last row/column (no source pixel is lost;
    chroma subsampling in yuv420p needs even dimensions)."""
    height, width = image.shape[:2]
    pad_h, pad_w = height % 2, width % 2
    if not pad_h and not pad_w:
        return image
    return np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def rgb_to_frame(image: np.ndarray, *, matrix: str) -> av.video.frame.VideoFrame:
    """RGB uint8 (H, W, 3) with even H and W → limited-range yuv420p frame in `matrix`."""
    rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    return rgb.reformat(
        format="yuv420p",
        src_colorspace=matrix,
        dst_colorspace=matrix,
        dst_color_range="MPEG",
    )
