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


def align_face(image: np.ndarray, landmarks5: np.ndarray, size: int = 112) -> np.ndarray:
    """Similarity-warp the face so its 5 landmarks land on the template."""
    template = ARCFACE_112 * (size / 112.0)
    matrix, _ = cv2.estimateAffinePartial2D(
        np.asarray(landmarks5, dtype=np.float32), template, method=cv2.LMEDS
    )
    if matrix is None:  # degenerate landmarks: fall back to an exact least-squares fit
        matrix = cv2.getAffineTransform(np.asarray(landmarks5[:3], np.float32), template[:3])
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR)
