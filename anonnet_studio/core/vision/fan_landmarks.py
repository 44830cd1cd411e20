"""68 iBUG landmarks from face_alignment's 2D-FAN-4 (TorchScript archive) on detector boxes.

Pre- and post-processing follow face_alignment 1.4 (the release that loads this archive with
`torch.jit.load`): a 256x256 crop around the box centre, RGB / 255 in, 68 heatmaps of 64x64
out, arg-max with a quarter-cell step towards the larger neighbour, then the inverse crop
transform. Own numpy code rather than the package: its utils import numba at module level
and it declares the GUI build of opencv; the whole of what we need is below.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from anonnet_studio.core.errors import ModelIntegrityError
from anonnet_studio.core.vision.model_files import require_model_file
from anonnet_studio.core.vision.torch_device import torch_device

FAN_FILE = "2DFAN4-cd938726ad.zip"
NUM_LANDMARKS = 68
CROP_SIZE = 256
HEATMAP_SIZE = 64
# face_alignment's crop is 200 * scale pixels wide, scale = (box w + h) / reference scale,
# its centre 0.12 box heights above the box centre.
CROP_UNIT = 200.0
CENTER_SHIFT = 0.12
# 195 is face_alignment's value for S3FD boxes, which are looser than YuNet's. Its own
# YuNet, RetinaFace and SCRFD detectors (face_alignment 1.5, same centre shift) use 165,
# i.e. an 18 % larger crop around the tighter box. Not checked with the real weights here.
YUNET_REFERENCE_SCALE = 165.0
S3FD_REFERENCE_SCALE = 195.0
# Faces per forward pass: bounds memory for frames with many faces.
MAX_BATCH = 8


def crop_geometry(box: np.ndarray, reference_scale: float) -> tuple[np.ndarray, float]:
    """face_alignment's (centre, scale) for a box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = (float(v) for v in box[:4])
    width, height = x1 - x0, y1 - y0
    center = np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0 - CENTER_SHIFT * height])
    return center, (width + height) / reference_scale


def _crop_to_image(points: np.ndarray, center: np.ndarray, scale: float, size: int) -> np.ndarray:
    """Inverse of face_alignment's `transform`: 1-based crop coordinates to image pixels."""
    side = CROP_UNIT * scale
    return points * (side / size) + center - side / 2.0


def crop_face(image: np.ndarray, center: np.ndarray, scale: float) -> np.ndarray:
    """The CROP_SIZE x CROP_SIZE uint8 crop face_alignment's `crop` makes (zeros outside)."""
    # Corners of the crop in integer image pixels, truncated towards zero as face_alignment
    # does (`.int()`), so the network sees the same pixels.
    corners = _crop_to_image(
        np.array([[1.0, 1.0], [CROP_SIZE, CROP_SIZE]]), center, scale, CROP_SIZE
    )
    (ux, uy), (bx, by) = np.trunc(corners).astype(np.int64)
    out = np.zeros((max(by - uy, 1), max(bx - ux, 1), 3), dtype=np.uint8)
    height, width = image.shape[:2]
    sx0, sx1 = max(ux, 0), min(bx, width)
    sy0, sy1 = max(uy, 0), min(by, height)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - uy : sy1 - uy, sx0 - ux : sx1 - ux] = image[sy0:sy1, sx0:sx1, :3]
    return cv2.resize(out, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LINEAR)


def heatmap_peaks(heatmaps: np.ndarray) -> np.ndarray:
    """(B, C, H, W) heatmaps -> (B, C, 2) peak x, y in face_alignment's heatmap coordinates
    (1-based arg-max, +-0.25 towards the larger neighbour away from the edge, then -0.5)."""
    batch, channels, height, width = heatmaps.shape
    flat = heatmaps.reshape(batch, channels, height * width)
    index = np.argmax(flat, axis=2)
    px, py = index % width, index // width
    peaks = np.stack([px, py], axis=-1).astype(np.float32) + 1.0
    inner = (px > 0) & (px < width - 1) & (py > 0) & (py < height - 1)
    b, c = np.nonzero(inner)
    x, y = px[b, c], py[b, c]
    dx = heatmaps[b, c, y, x + 1] - heatmaps[b, c, y, x - 1]
    dy = heatmaps[b, c, y + 1, x] - heatmaps[b, c, y - 1, x]
    peaks[b, c] += 0.25 * np.sign(np.stack([dx, dy], axis=-1))
    return peaks - 0.5


class FanLandmarks68:
    """68 iBUG landmarks (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67).

    Coordinates are floats: face_alignment truncates its output to integers, we keep the
    fraction (the points are otherwise identical)."""

    name = "face-alignment-2dfan4"

    def __init__(
        self,
        model_path: Path,
        device: str | None = None,
        reference_scale: float = YUNET_REFERENCE_SCALE,
    ) -> None:
        path = require_model_file(model_path, "FAN 68-point landmark")
        self._device = torch_device(device)
        self._reference_scale = reference_scale
        self._net = _load_torchscript(path, self._device)
        self._path = path
        self._max_batch = MAX_BATCH
        # One probe pass: a foreign network fails here with a clear message, not mid-analysis.
        try:
            self._forward(np.zeros((1, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8))
        except ModelIntegrityError:
            raise
        except Exception as exc:  # whatever a foreign TorchScript graph raises on our input
            raise ModelIntegrityError(
                f"The FAN landmark model ({path}) does not accept a 256x256 RGB face crop: "
                f"{_reason(exc)}.",
                hint="The file is not face_alignment's 2DFAN4 network; download it again.",
            ) from exc

    def landmarks68(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(68, 2) float32 pixel coordinates for the face in `box` (x0, y0, x1, y1)."""
        return self.landmarks68_batch(image, [box])[0]

    def landmarks68_batch(self, image: np.ndarray, boxes: Sequence[np.ndarray]) -> np.ndarray:
        """(N, 68, 2) float32 for several faces of one image, batched through the network."""
        if len(boxes) == 0:
            return np.zeros((0, NUM_LANDMARKS, 2), dtype=np.float32)
        geometry = [crop_geometry(np.asarray(box), self._reference_scale) for box in boxes]
        crops = np.stack([crop_face(image, center, scale) for center, scale in geometry])
        heatmaps = self._forward_batches(crops)
        peaks = heatmap_peaks(heatmaps)
        points = [
            _crop_to_image(peaks[i], center, scale, HEATMAP_SIZE)
            for i, (center, scale) in enumerate(geometry)
        ]
        return np.stack(points).astype(np.float32)

    def _forward_batches(self, crops: np.ndarray) -> np.ndarray:
        step = self._max_batch
        try:
            parts = [self._forward(crops[i : i + step]) for i in range(0, len(crops), step)]
        except ModelIntegrityError:
            raise
        except Exception:
            if step == 1 or len(crops) == 1:
                raise
            # An archive traced for a batch of one (or out of GPU memory): one face at a time.
            self._max_batch = 1
            return self._forward_batches(crops)
        return np.concatenate(parts)

    def _forward(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (B, 256, 256, 3) RGB crops -> float32 (B, 68, 64, 64) heatmaps."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(crops).to(self._device).permute(0, 3, 1, 2).float() / 255.0
            out = self._net(x)
            if isinstance(out, list | tuple):  # a stacked FAN returns every stage's output
                out = out[-1]
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            expected = (len(crops), NUM_LANDMARKS, HEATMAP_SIZE, HEATMAP_SIZE)
            if shape != expected:
                raise ModelIntegrityError(
                    f"The FAN landmark model ({self._path}) returned {shape}, "
                    f"expected heatmaps of shape {expected}.",
                    hint="The file is not face_alignment's 2DFAN4 network; download it again.",
                )
            return out.float().cpu().numpy()


def _load_torchscript(path: Path, device: torch.device) -> Any:

    try:
        with warnings.catch_warnings():
            # torch 2.x marks TorchScript deprecated; this archive only exists as TorchScript.
            warnings.simplefilter("ignore", FutureWarning)
            net = torch.jit.load(str(path), map_location=device)
    except Exception as exc:  # torch raises RuntimeError, ValueError or zip errors
        raise ModelIntegrityError(
            f"The FAN landmark model could not be loaded ({path}): it is not a TorchScript "
            f"archive ({_reason(exc)}).",
            hint="The file may be damaged; `anonnet-studio models verify` checks it.",
        ) from exc
    net.eval()
    return net


def _reason(exc: BaseException) -> str:
    """One line from a torch error: TorchScript errors end with the real message after a
    traceback; loader errors start with it and run on into advice about checkpoints."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    line = (lines[-1] if "Traceback" in str(exc) else lines[0]) if lines else ""
    message = line.split(". ")[0].rstrip(".")
    return (
        message if message.split(":")[0].endswith("Error") else f"{type(exc).__name__}: {message}"
    )
