"""Five-point face alignment to the 112x112 ArcFace template (used by SFace)."""

from __future__ import annotations

import cv2
import numpy as np

# Template in YuNet landmark order (eye on the image's left first, ..., mouth corners).
ARCFACE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares similarity (rotation, uniform scale, shift) mapping `source`
    points onto `target` (Umeyama 1991).

    This is what OpenCV's `FaceRecognizerSF.alignCrop` computes. A robust estimator
    (`estimateAffinePartial2D` with RANSAC/LMEDS) would be wrong here: with only five
    points it may ignore some of them, and the embedder was trained on all-point fits.
    """
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    reflection = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        reflection[1, 1] = -1.0
    rotation = u @ reflection @ vt
    variance = float((src_c**2).sum() / len(src))
    scale = float(np.trace(np.diag(singular) @ reflection)) / variance if variance > 0 else 1.0
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]]).astype(np.float32)


def align_face(image: np.ndarray, landmarks5: np.ndarray, size: int = 112) -> np.ndarray:
    """Similarity-warp the face so its 5 landmarks land on the template; (size, size, C)."""
    template = ARCFACE_112 * (size / 112.0)
    matrix = similarity_transform(landmarks5, template)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR)
