"""Face parsing with BiSeNet (the reference's `segment face`), from the downloaded
`bisenet-face-parsing` model: zllrunning/face-parsing.PyTorch's `79999_iter.pth`.

Input: RGB resized to 512x512, ImageNet-normalised; output: 19 CelebAMask-HQ labels.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from anonnet_studio.core.errors import ModelError, ModelUnavailableError
from anonnet_studio.core.synthetic.bisenet import BiSeNet

BISENET_FILE = "79999_iter.pth"
INPUT_SIDE = 512
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class BiSeNetFaceParser:
    """`FaceParser` over a loaded BiSeNet; loads once, parses many crops."""

    name = "bisenet"

    def __init__(self, network: BiSeNet, device: str | torch.device = "cpu") -> None:
        self._device = torch.device(device)
        self._network = network.eval().to(self._device)

    @classmethod
    def load(cls, checkpoint: Path, device: str | torch.device = "cpu") -> BiSeNetFaceParser:
        """Load `79999_iter.pth` (a plain state dict; loaded without unpickling code)."""
        if not checkpoint.is_file():
            raise ModelUnavailableError(
                f"The face-parsing model 'bisenet-face-parsing' is missing: {checkpoint}",
                hint="Download 'bisenet-face-parsing' in the model manager; until then masks "
                "come from the face landmarks.",
            )
        network = BiSeNet()
        try:
            state = torch.load(checkpoint, map_location="cpu", weights_only=True)
            network.load_state_dict(state, strict=True)
        except Exception as exc:  # torch raises RuntimeError, pickle and zip errors here
            raise ModelError(
                f"The face-parsing model could not be loaded from {checkpoint.name}: {exc}",
                hint="The file may be damaged or a different model; download it again.",
            ) from exc
        return cls(network, device)

    @classmethod
    def from_folder(cls, folder: Path, device: str | torch.device = "cpu") -> BiSeNetFaceParser:
        """Load from the folder the model manager resolved for 'bisenet-face-parsing'."""
        return cls.load(folder / BISENET_FILE, device)

    def parse(self, image: np.ndarray) -> np.ndarray:
        """(H, W) int32 labels for an RGB uint8 image."""
        height, width = image.shape[:2]
        resized = cv2.resize(image, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_LINEAR)
        blob = (resized.astype(np.float32) / 255.0 - _MEAN) / _STD
        tensor = torch.from_numpy(np.ascontiguousarray(blob.transpose(2, 0, 1)[None]))
        with torch.inference_mode():
            logits = self._network(tensor.to(self._device))
        labels = logits[0].argmax(dim=0).to(torch.int32).cpu().numpy()
        if labels.shape != (height, width):
            labels = cv2.resize(labels, (width, height), interpolation=cv2.INTER_NEAREST)
        return labels
