"""RetinaFace face detector (serengil/retinaface's Keras weights, run as a PyTorch port).

The weights are `retinaface.h5` (serengil/deepface_models v1.0), read with h5py
(`keras_h5`), no TensorFlow; the network is in `retinaface_net`. Pre- and post-processing
follow serengil's `RetinaFace.detect_faces`: RGB 0..255 in, two anchors per location at
strides 32/16/8, box and landmark deltas relative to the anchor, face probability >= 0.9,
boxes clipped to the image, greedy NMS at IoU 0.4 (with the +1 pixel areas of Fast R-CNN).
Unlike serengil, images are never upscaled (his default scales the short side to 1024):
callers pass frames at the size they want searched, `max_side` only caps large ones.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from anonnet_studio.core.errors import ModelIntegrityError
from anonnet_studio.core.vision.keras_h5 import read_keras_weights
from anonnet_studio.core.vision.retinaface_net import STRIDES, build_retinaface
from anonnet_studio.core.vision.torch_device import torch_device
from anonnet_studio.core.vision.types import FaceDetection

RETINAFACE_FILE = "retinaface.h5"
# serengil caps the long side at 1980 px (his `scales = [1024, 1980]`).
DEFAULT_MAX_SIDE = 1980
# InsightFace's RetinaFace anchor config (not in the file): square anchors of side
# 16 * scale centred on (7.5, 7.5) + stride * (x, y); two scales per stride. serengil
# hard-codes the resulting corners, e.g. stride 32: [-248, -248, 263, 263], [-120, ...].
ANCHOR_BASE_SIZE = 16
ANCHOR_SCALES = {32: (32.0, 16.0), 16: (8.0, 4.0), 8: (2.0, 1.0)}
# serengil's landmark order is right eye, left eye, nose, right and left mouth corner,
# named from the person's side: his "right_eye" is the one on the image's left (his
# docstring's example has it at the smaller x; InsightFace's 5-point template agrees).
# That is our order (types.FaceDetection), so the mapping is the identity.
LANDMARK_ORDER = (0, 1, 2, 3, 4)


def base_anchors(stride: int) -> np.ndarray:
    """(A, 4) anchor corners x0, y0, x1, y1 at grid cell (0, 0), inclusive pixel ends."""
    centre = 0.5 * (ANCHOR_BASE_SIZE - 1)
    half = 0.5 * (np.asarray(ANCHOR_SCALES[stride]) * ANCHOR_BASE_SIZE - 1)
    return np.stack([centre - half, centre - half, centre + half, centre + half], 1)


def anchor_grid(height: int, width: int, stride: int) -> np.ndarray:
    """(height * width * A, 4) anchors in (y, x, anchor) order, the order of the heads'
    NHWC outputs reshaped to one row per anchor."""
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    shifts = np.stack([xs, ys, xs, ys], -1).reshape(-1, 1, 4) * stride
    return (shifts + base_anchors(stride)[None]).reshape(-1, 4)


def decode(
    outputs: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    image_size: tuple[int, int],
    score_threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (N, 4), scores (N,) and landmarks (N, 5, 2) above `score_threshold`, in the
    pixels of the network's input image (height, width) = `image_size`, from the per-
    stride (cls_prob, bbox, landmark) NHWC maps of one image (batch of 1)."""
    height, width = image_size
    all_boxes, all_scores, all_landmarks = [], [], []
    for stride, (prob, bbox, landmark) in zip(STRIDES, outputs, strict=True):
        anchors_per_cell = prob.shape[-1] // 2
        grid_h, grid_w = prob.shape[1:3]
        scores = prob[0, :, :, anchors_per_cell:].reshape(-1)
        keep = np.flatnonzero(scores >= score_threshold)
        anchors = anchor_grid(grid_h, grid_w, stride)[keep]
        deltas = bbox[0].reshape(-1, 4)[keep].astype(np.float64)
        points = landmark[0].reshape(-1, 5, 2)[keep].astype(np.float64)
        size = anchors[:, 2:4] - anchors[:, 0:2] + 1.0
        centre = anchors[:, 0:2] + 0.5 * (size - 1.0)
        box_centre = centre + deltas[:, 0:2] * size
        half = 0.5 * (np.exp(deltas[:, 2:4]) * size - 1.0)
        boxes = np.concatenate([box_centre - half, box_centre + half], 1)
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, width - 1)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, height - 1)
        all_boxes.append(boxes)
        all_scores.append(scores[keep].astype(np.float64))
        all_landmarks.append(points * size[:, None] + centre[:, None])
    return np.concatenate(all_boxes), np.concatenate(all_scores), np.concatenate(all_landmarks)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy NMS, best score first; areas count inclusive pixel ends
    (+1) and IoU >= threshold suppresses, as in serengil's `cpu_nms`."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        lo = np.maximum(boxes[best, :2], boxes[rest, :2])
        hi = np.minimum(boxes[best, 2:], boxes[rest, 2:])
        inter = np.prod(np.maximum(0.0, hi - lo + 1), axis=1)
        iou = inter / (areas[best] + areas[rest] - inter)
        order = rest[iou < iou_threshold]
    return np.asarray(keep, dtype=np.int64)


class RetinaFaceDetector:
    """`detect(image)` returns faces (box, 5 landmarks, face probability) in the input
    image's pixels. `max_side` (here or per call) downscales larger images first.

    Cost: a ResNet-50 at full frame resolution, ~0.4-0.6 s (0.9 CPU-seconds) per 640 px
    frame on 2 CPU cores, some 40x YuNet; it finds smaller and more turned faces.
    """

    name = "retinaface"

    def __init__(
        self,
        weights_path: Path | str,
        *,
        score_threshold: float = 0.9,
        nms_threshold: float = 0.4,
        max_side: int | None = DEFAULT_MAX_SIDE,
        device: str | None = None,
    ) -> None:
        weights = read_keras_weights(weights_path, "RetinaFace")
        net = build_retinaface(weights)
        if net.anchors != len(ANCHOR_SCALES[STRIDES[0]]):
            raise ModelIntegrityError(
                f"{weights.source.name} has {net.anchors} anchors per location; the "
                "RetinaFace anchor settings have 2."
            )
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side
        self.device = torch_device(device)
        # Channels-last convolutions are ~15% faster on the CPU (oneDNN), not slower on CUDA.
        self._net = net.to(self.device, memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs omit memory_format

    def detect(self, image: np.ndarray, *, max_side: int | None = None) -> list[FaceDetection]:
        """Faces in an RGB uint8 image; `max_side` overrides the constructor's cap."""
        max_side = max_side if max_side is not None else self.max_side
        height, width = image.shape[:2]
        scale_x = scale_y = 1.0
        if max_side and max(height, width) > max_side:
            factor = max_side / max(height, width)
            size = (max(1, round(width * factor)), max(1, round(height * factor)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            # The rounded size's own ratios, so image edges map back onto image edges.
            scale_x, scale_y = size[0] / width, size[1] / height
        outputs = self.raw_outputs(image)
        boxes, scores, landmarks = decode(outputs, image.shape[:2], self.score_threshold)
        keep = nms(boxes, scores, self.nms_threshold)
        scale = np.array([scale_x, scale_y])
        boxes = boxes[keep] / np.tile(scale, 2)
        landmarks = landmarks[keep][:, LANDMARK_ORDER] / scale
        return [
            FaceDetection(box.astype(np.float32), points.astype(np.float32), float(score))
            for box, points, score in zip(boxes, landmarks, scores[keep], strict=True)
        ]

    def raw_outputs(self, image: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The network's per-stride (cls_prob, bbox, landmark) NHWC maps for an RGB image,
        as serengil's Keras model returns them."""
        tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
        tensor = tensor.permute(2, 0, 1)[None].to(self.device, memory_format=torch.channels_last)
        with torch.inference_mode():
            outputs = self._net(tensor)
        return [tuple(t.float().cpu().numpy() for t in level) for level in outputs]  # type: ignore[misc]
