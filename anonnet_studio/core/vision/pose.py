"""Head pose from 68 landmarks (cv2.solvePnP on 6 points) and frame-quality measures.

The reference used the classic 3D model whose y axis points up while image y points
down, so a frontal face read as pitch = +-180 deg and its "most frontal" pick preferred
tilted faces. Here the model is expressed in image axes (y down, z away from the camera)
so a frontal face gives yaw = pitch = roll = 0, and pitch is wrapped into (-180, 180].
"""

from __future__ import annotations

import cv2
import numpy as np

from anonnet_studio.core.vision.types import HeadPose

# Generic 3D face (mm), image axes: x right, y down, z away from the camera.
_MODEL_POINTS = np.array(
    [
        [0.0, 0.0, 0.0],  # 30 nose tip
        [0.0, 330.0, 65.0],  # 8 chin
        [-225.0, -170.0, 135.0],  # 36 outer corner of the eye on the image's left
        [225.0, -170.0, 135.0],  # 45 outer corner of the other eye
        [-150.0, 150.0, 125.0],  # 48 mouth corner, image left
        [150.0, 150.0, 125.0],  # 54 mouth corner, image right
    ],
    dtype=np.float64,
)
_LANDMARK_INDICES = (30, 8, 36, 45, 48, 54)


def _wrap(angle: float) -> float:
    wrapped = (angle + 180.0) % 360.0 - 180.0
    return 180.0 if wrapped == -180.0 else wrapped


def head_pose(landmarks68: np.ndarray, image_size: tuple[int, int]) -> HeadPose:
    """Yaw/pitch/roll in degrees of a face's 68 landmarks; image_size is (width, height).

    Signs: yaw > 0 when the face turns towards the image's left, pitch > 0 when it tilts
    up. The generic rigid model ignores expressions: a wide-open mouth (chin down, mouth
    corners in) biases yaw by up to ~30 deg on a frontal face (lp_d18 frame 90), so
    prefer neutral frames when choosing the most frontal one.
    """
    width, height = image_size
    focal = float(max(width, height))
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], np.float64)
    points = np.asarray(landmarks68, dtype=np.float64)[list(_LANDMARK_INDICES)]
    # Start the solver from a frontal head at the distance the eye spacing implies.
    # Without a start, six nearly coplanar points let it converge to a flipped solution
    # (seen on lp_d3 frame 260: roll 167 deg for a head turned ~20 deg and tilted down).
    eye_span_px = float(np.linalg.norm(points[3] - points[2]))
    model_eye_span = float(np.linalg.norm(_MODEL_POINTS[3] - _MODEL_POINTS[2]))
    distance = focal * model_eye_span / max(eye_span_px, 1.0)
    rotation_vector: np.ndarray = np.zeros((3, 1), np.float64)
    translation = np.array([[0.0], [0.0], [distance]], np.float64)
    ok, rotation_vector, _ = cv2.solvePnP(
        _MODEL_POINTS,
        points,
        camera,
        np.zeros(4),
        rvec=rotation_vector,
        tvec=translation,
        useExtrinsicGuess=True,
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    if not ok:
        return HeadPose(yaw=90.0, pitch=90.0, roll=0.0)  # unusable: never frontal
    rotation, _ = cv2.Rodrigues(rotation_vector)
    # Euler angles (x: pitch, y: yaw, z: roll) of R = Rz * Ry * Rx.
    sy = float(np.hypot(rotation[0, 0], rotation[1, 0]))
    if sy > 1e-6:
        pitch = np.degrees(np.arctan2(rotation[2, 1], rotation[2, 2]))
        yaw = np.degrees(np.arctan2(-rotation[2, 0], sy))
        roll = np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))
    else:
        pitch = np.degrees(np.arctan2(-rotation[1, 2], rotation[1, 1]))
        yaw = np.degrees(np.arctan2(-rotation[2, 0], sy))
        roll = 0.0
    return HeadPose(yaw=_wrap(float(yaw)), pitch=_wrap(float(pitch)), roll=_wrap(float(roll)))


def eye_aspect_ratio(landmarks68: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes (about 0.3 open, under 0.2 closed)."""
    points = np.asarray(landmarks68, dtype=np.float64)

    def ear(eye: np.ndarray) -> float:
        vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
        horizontal = 2.0 * np.linalg.norm(eye[0] - eye[3])
        return float(vertical / horizontal) if horizontal > 0 else 0.0

    return (ear(points[36:42]) + ear(points[42:48])) / 2.0


def sharpness(image: np.ndarray, box: np.ndarray) -> float:
    """Variance of the Laplacian over the face box (higher = sharper)."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = (round(v) for v in box)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0
    grey = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def landmarks_inside_fraction(landmarks68: np.ndarray, image_size: tuple[int, int]) -> float:
    """Fraction of the landmarks inside the (width, height) image (the reference drops
    frames under 0.8: a face cut by the frame edge makes a poor keyframe)."""
    width, height = image_size
    points = np.asarray(landmarks68)
    inside = (
        (points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)
    )
    return float(inside.mean())
