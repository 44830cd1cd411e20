"""DeepFace's race classifier (VGG-Face trunk + 6-class head) as a PyTorch port.

DeepFace's `Race.load_model` takes `VGGFace.base_model()`, puts a 1x1 convolution with 6
filters on fc7 (after its dropout), then Flatten and softmax, and loads
`race_model_single_batch.h5` (serengil/deepface_models v1.0) into it. `analyze` feeds the
same eye-levelled, zero-padded 224x224 BGR 0..1 crop as for VGG-Face (`deepface_crop`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from anonnet_studio.core.analysis.prompt import RACES
from anonnet_studio.core.vision.deepface_crop import deepface_input
from anonnet_studio.core.vision.deepface_vgg import (
    INPUT_SIZE,
    load_vgg_face,
    to_tensor,
)
from anonnet_studio.core.vision.torch_device import torch_device
from anonnet_studio.core.vision.types import AttributeEstimate, FaceDetection

RACE_FILE = "race_model_single_batch.h5"
# The network's output order (deepface/models/demography/DemographyUtils.py RACE_LABELS,
# unchanged since the race model was added), written in our prompt vocabulary.
DEEPFACE_RACE_LABELS = ("asian", "indian", "black", "white", "middle eastern", "latino hispanic")
LABELS = tuple(label.title() for label in DEEPFACE_RACE_LABELS)
assert set(LABELS) == set(RACES), "prompt.RACES and DeepFace's race labels drifted apart"


class DeepFaceRaceEstimator:
    """`estimate()` gives `race`: one of `prompt.RACES`, with all six probabilities."""

    name = "deepface-race"

    def __init__(self, weights_path: Path | str, device: str | None = None) -> None:
        self.device = torch_device(device)
        net = load_vgg_face(weights_path, classes=len(LABELS), description="DeepFace race")
        self._net = net.to(self.device)

    def face_input(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """The (224, 224, 3) BGR 0..1 float32 input the network sees."""
        return deepface_input(image, detection, INPUT_SIZE)

    def estimate(self, image: np.ndarray, detection: FaceDetection) -> dict[str, AttributeEstimate]:
        return self.estimate_batch(image, [detection])[0]

    def estimate_batch(
        self, image: np.ndarray, detections: Sequence[FaceDetection]
    ) -> list[dict[str, AttributeEstimate]]:
        """One result per detection, in one network call."""
        if not detections:
            return []
        inputs = np.stack([self.face_input(image, d) for d in detections])
        return [_estimate(p) for p in self.probabilities(inputs)]

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """(N, 224, 224, 3) prepared inputs -> (N, 6) softmax, in DeepFace's label order."""
        with torch.inference_mode():
            logits = self._net(to_tensor(inputs, self.device)).float()
            return torch.softmax(logits, dim=1).cpu().numpy()


def _estimate(probabilities: np.ndarray) -> dict[str, AttributeEstimate]:
    # DeepFace reports p / sum(p) (as percentages); the sum is 1 up to rounding.
    p = probabilities.astype(np.float64) / max(float(probabilities.sum()), 1e-12)
    scores = {label: float(value) for label, value in zip(LABELS, p, strict=True)}
    best = LABELS[int(np.argmax(p))]  # ties go to the first label, like np.argmax in DeepFace
    return {"race": AttributeEstimate(value=best, confidence=scores[best], scores=scores)}
