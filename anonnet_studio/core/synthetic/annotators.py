"""Lineart and OpenPose (body + face) control images for the keyframe crop, computed with
controlnet_aux's annotators loaded from a local copy of `lllyasviel/Annotators`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from anonnet_studio.core.errors import AnonNetError, ModelError, ModelUnavailableError

LINEART_FILES = ("sk_model.pth", "sk_model2.pth")
OPENPOSE_FILES = ("body_pose_model.pth", "hand_pose_model.pth", "facenet.pth")
ANNOTATOR_FILES = (*LINEART_FILES, *OPENPOSE_FILES)


class ControlAnnotators:
    """Owns the two loaded annotators; `control_images(crop)` gives their maps at the
    crop's size, in the order the lineart and openpose ControlNets expect."""

    def __init__(self, lineart: Any, openpose: Any) -> None:
        self._lineart = lineart
        self._openpose = openpose

    @classmethod
    def load(cls, folder: Path, device: str | torch.device = "cpu") -> ControlAnnotators:
        """Load from `folder` (the model manager's 'controlnet-annotators' folder)."""
        missing = [name for name in ANNOTATOR_FILES if not (folder / name).is_file()]
        if missing:
            raise ModelUnavailableError(
                f"ControlNet annotator weights are missing in {folder}: {', '.join(missing)}.",
                hint="Download 'controlnet-annotators' in the model manager.",
            )
        lineart_class, openpose_class = _import_detectors()

        try:
            lineart = lineart_class.from_pretrained(str(folder))
            openpose = openpose_class.from_pretrained(str(folder))
        except AnonNetError:
            raise
        except Exception as exc:
            raise ModelError(
                f"ControlNet annotator weights in {folder} could not be loaded: {exc}",
                hint="The files may be damaged; download 'controlnet-annotators' again.",
            ) from exc
        return cls(lineart.to(device), openpose.to(device))

    def lineart(self, crop_rgb: np.ndarray) -> np.ndarray:
        """White lines on black, (S, S, 3) uint8."""
        size = crop_rgb.shape[0]
        with torch.inference_mode():
            result = self._lineart(
                crop_rgb,
                coarse=False,
                detect_resolution=size,
                image_resolution=size,
                output_type="np",
            )
        return _to_size(result, size)

    def openpose(self, crop_rgb: np.ndarray) -> np.ndarray:
        """Body and face keypoints drawn on black, (S, S, 3) uint8; all black when no
        person is found (the openpose ControlNet then adds nothing)."""
        size = crop_rgb.shape[0]
        with torch.inference_mode():
            result = self._openpose(
                crop_rgb,
                detect_resolution=size,
                image_resolution=size,
                include_body=True,
                include_hand=False,
                include_face=True,
                output_type="np",
            )
        return _to_size(result, size)

    def control_images(self, crop_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lineart, openpose) maps for a crop."""
        return self.lineart(crop_rgb), self.openpose(crop_rgb)


def _import_detectors() -> tuple[Any, Any]:
    # controlnet_aux's package __init__ imports every annotator (timm, segment-anything,
    # mediapipe) and each warns about deprecations that mean nothing to our users.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        from controlnet_aux.lineart import LineartDetector
        from controlnet_aux.open_pose import OpenposeDetector
    return LineartDetector, OpenposeDetector


def _to_size(image: np.ndarray, size: int) -> np.ndarray:
    # controlnet_aux rounds its output to multiples of 64; the pipeline needs the crop size.
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.shape[:2] != (size, size):
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
    return image
