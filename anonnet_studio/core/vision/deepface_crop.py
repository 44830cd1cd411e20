"""The face crop DeepFace feeds its models, reproduced from our detections (no DeepFace).

DeepFace (0.0.9x-0.0.103, `modules/detection.py` `extract_face`, with align=True,
expand_percentage=0) takes the detector's integer box (x, y, w, h), cuts a sub-image
twice the box size around it (black where it leaves the frame: DeepFace pads the whole
frame with a black border of half its size first), rotates that sub-image about its
integer centre so the eyes are level (cubic interpolation, black border), and cuts the box,
re-centred by the rotation, out of it. `analyze` / `represent` then scale the face to 0..1,
put it in BGR order and `resize_image` it: aspect-preserving bilinear resize to fit the
model input, zero padding centred, float32.

Our detections give float boxes and eyes; the box is truncated to pixels as DeepFace's
detectors do, the eyes stay float (only their angle is used). DeepFace's `left_eye` is the
person's left eye, the one on the image's right: our `landmarks5[1]`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from anonnet_studio.core.vision.types import FaceDetection


def eye_angle(detection: FaceDetection) -> float:
    """Degrees to rotate (counter-clockwise on screen) so the eyes become level."""
    right_eye, left_eye = detection.landmarks5[0], detection.landmarks5[1]
    return math.degrees(
        math.atan2(float(left_eye[1] - right_eye[1]), float(left_eye[0] - right_eye[0]))
    )


def deepface_face(image: np.ndarray, detection: FaceDetection) -> np.ndarray:
    """The eye-levelled face crop, same dtype and channel order as `image` (may be empty)."""
    height, width = image.shape[:2]
    x, y, w, h = _integer_box(detection.box, width, height)
    rel_x, rel_y = int(0.5 * w), int(0.5 * h)
    sub = _region_zero_filled(image, x - rel_x, y - rel_y, w + 2 * rel_x, h + 2 * rel_y)
    if sub.shape[0] == 0 or sub.shape[1] == 0:
        return sub
    angle = eye_angle(detection)
    sub_h, sub_w = sub.shape[:2]
    matrix = cv2.getRotationMatrix2D((sub_w // 2, sub_h // 2), angle, 1.0)
    rotated = cv2.warpAffine(
        sub,
        matrix,
        (sub_w, sub_h),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    x1, y1, x2, y2 = _rotated_box((rel_x, rel_y, rel_x + w, rel_y + h), angle, sub_w, sub_h)
    return rotated[y1:y2, x1:x2]


def resize_to_input(face: np.ndarray, size: int) -> np.ndarray:
    """DeepFace's `resize_image` for a square input: (size, size, C) float32, zero padded.

    `face` should already be float in 0..1 (DeepFace divides before resizing).
    """
    factor = min(size / face.shape[0], size / face.shape[1])
    # DeepFace truncates; at least one pixel so extreme slivers do not crash cv2.resize.
    new_w = max(1, int(face.shape[1] * factor))
    new_h = max(1, int(face.shape[0] * factor))
    resized = cv2.resize(face, (new_w, new_h))
    pad_h, pad_w = size - resized.shape[0], size - resized.shape[1]
    padded = np.pad(
        resized,
        ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)),
        "constant",
    )
    return np.asarray(padded, dtype=np.float32)


def deepface_input(image_rgb: np.ndarray, detection: FaceDetection, size: int = 224) -> np.ndarray:
    """(size, size, 3) float32 BGR in 0..1: what DeepFace's VGG-based models receive."""
    face = deepface_face(image_rgb, detection)
    if face.shape[0] == 0 or face.shape[1] == 0:
        return np.zeros((size, size, 3), np.float32)
    # DeepFace divides by 255 in float64 before resizing (it skips that when the crop's
    # maximum is <= 1, a quirk for near-black crops we do not reproduce).
    bgr = face[:, :, ::-1].astype(np.float64) / 255.0
    return resize_to_input(np.ascontiguousarray(bgr), size)


def _integer_box(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) in whole pixels, clipped to the frame plus DeepFace's black border."""
    x, y = math.floor(float(box[0])), math.floor(float(box[1]))
    w, h = int(float(box[2] - box[0])), int(float(box[3] - box[1]))
    border_x, border_y = int(0.5 * width), int(0.5 * height)
    x0, y0 = max(x, -border_x), max(y, -border_y)
    w = max(0, min(width + border_x, x + w) - x0)
    h = max(0, min(height + border_y, y + h) - y0)
    return x0, y0, w, h


def _region_zero_filled(image: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    """image[y:y+h, x:x+w] with zeros wherever the window leaves the image."""
    out = np.zeros((h, w, *image.shape[2:]), dtype=image.dtype)
    src_x0, src_y0 = max(0, x), max(0, y)
    src_x1, src_y1 = min(image.shape[1], x + w), min(image.shape[0], y + h)
    if src_x1 > src_x0 and src_y1 > src_y0:
        out[src_y0 - y : src_y1 - y, src_x0 - x : src_x1 - x] = image[src_y0:src_y1, src_x0:src_x1]
    return out


def _rotated_box(
    box: tuple[int, int, int, int], angle: float, width: int, height: int
) -> tuple[int, int, int, int]:
    """Where the box lands after rotating the sub-image by `angle` about its centre
    (DeepFace's `project_facial_area`: the box keeps its size, its centre moves)."""
    sign = 1 if angle >= 0 else -1
    theta = math.radians(abs(angle) % 360)
    if theta == 0:
        return box
    cx = (box[0] + box[2]) / 2 - width / 2
    cy = (box[1] + box[3]) / 2 - height / 2
    new_cx = cx * math.cos(theta) + cy * sign * math.sin(theta) + width / 2
    new_cy = -cx * sign * math.sin(theta) + cy * math.cos(theta) + height / 2
    half_w, half_h = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    return (
        max(int(new_cx - half_w), 0),
        max(int(new_cy - half_h), 0),
        min(int(new_cx + half_w), width),
        min(int(new_cy + half_h), height),
    )
