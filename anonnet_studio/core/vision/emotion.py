"""Facial expression from fer's mini-Xception (7 classes, 64x64 grey), run as TFLite on
ai-edge-litert so TensorFlow (which the fer package imports) is never needed.

Preprocessing follows fer's `FER.detect_emotions`: the face box grown by a margin, grey,
resized to 64x64, scaled to [-1, 1]. fer reports probabilities 0..1 (its README rounds
them); the AnonNET reference compared DeepFace's 0..100 percentages with 0.5, which is the
defect we avoid by always returning 0..1 here.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.model_files import require_model_file
from anonnet_studio.core.vision.types import AttributeEstimate, FaceDetection

EMOTION_FILE = "emotion_model_quantized.tflite"
# Class order of the network's output, from fer's `FER._get_labels`.
EMOTION_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
_MIN_FACE_PX = 8


class EmotionEstimator:
    """`estimate()` gives `expression`: the top class, with all 7 probabilities (sum 1)."""

    name = "fer-mini-xception-tflite"

    def __init__(self, model_path: Path, *, padding: float = 0.1) -> None:
        """`padding`: margin added on each side, as a fraction of the box size (fer adds
        10 px around Haar boxes of ~100 px)."""
        from ai_edge_litert.interpreter import Interpreter

        path = require_model_file(model_path, "expression")
        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=1)
            self._interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"The expression model could not be loaded ({path}): {exc}") from exc
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        height, width = (int(v) for v in self._input["shape"][1:3])
        self._size = (width, height)
        self._padding = padding

    def face_crop(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray | None:
        """The (64, 64) uint8 grey crop the network sees, or None for a tiny face."""
        img_height, img_width = image.shape[:2]
        x0, y0, x1, y1 = (float(v) for v in detection.box)
        pad_x, pad_y = (x1 - x0) * self._padding, (y1 - y0) * self._padding
        left, top = int(max(0.0, x0 - pad_x)), int(max(0.0, y0 - pad_y))
        right, bottom = int(min(img_width, x1 + pad_x)), int(min(img_height, y1 + pad_y))
        if right - left < _MIN_FACE_PX or bottom - top < _MIN_FACE_PX:
            return None
        grey = cv2.cvtColor(image[top:bottom, left:right], cv2.COLOR_RGB2GRAY)
        return cv2.resize(grey, self._size, interpolation=cv2.INTER_AREA)

    def estimate(self, image: np.ndarray, detection: FaceDetection) -> dict[str, AttributeEstimate]:
        """Expression of one detected face; empty for a face too small to read."""
        face = self.face_crop(image, detection)
        if face is None:
            return {}
        tensor = ((face.astype(np.float32) / 255.0 - 0.5) * 2.0)[None, :, :, None]
        self._interpreter.set_tensor(self._input["index"], tensor.astype(self._input["dtype"]))
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._output["index"])[0].astype(np.float64)
        if raw.min() < 0 or abs(raw.sum() - 1.0) > 1e-3:
            # Defensive: a replacement model without the final softmax gives logits.
            raw = np.exp(raw - raw.max())
        probabilities = raw / raw.sum()
        scores = {label: float(p) for label, p in zip(EMOTION_LABELS, probabilities, strict=True)}
        top = max(scores, key=scores.__getitem__)
        return {"expression": AttributeEstimate(value=top, confidence=scores[top], scores=scores)}
