"""Identity embedders: SFace (ONNX, default) and dlib's ResNet, behind `FaceEmbedder`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.align import align_face
from anonnet_studio.core.vision.types import FaceDetection

SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"


def _normalise(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32).ravel()
    return vector / max(float(np.linalg.norm(vector)), 1e-8)


def _pruned_sface(model_path: Path) -> bytes:
    """The int8 SFace file declares ~174 graph inputs that no node reads (its weights are
    listed as inputs too); OpenCV rejects it and onnxruntime would expect them fed. Keep
    only the real image input, in memory; the file on disk is never modified."""
    import onnx

    model = onnx.load(str(model_path))
    used = {name for node in model.graph.node for name in node.input}
    weights = {init.name for init in model.graph.initializer}
    keep = [i for i in model.graph.input if i.name in used and i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    return model.SerializeToString()


class SFaceEmbedder:
    """SFace 128-d on the 5-point-aligned 112x112 face (BGR, 0..255 input)."""

    name = "sface-2021dec-int8"
    # Calibrated on the six fixture clips (one person each, every 20th frame, 81 faces):
    # same person max 0.59 (p99 0.47, median 0.15); different people min 0.66 (p1 0.69,
    # median 0.92). See scripts/calibrate_embedder.py.
    threshold = 0.62

    def __init__(self, model_path: Path, *, threads: int = 1) -> None:
        import onnxruntime as ort

        if not Path(model_path).is_file():
            raise ModelError(f"The SFace identity model is missing: {model_path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # the pruned graph still has unused initialisers
        self._session = ort.InferenceSession(
            _pruned_sface(Path(model_path)), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    def embed(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        return self.embed_batch(image, [detection])[0]

    def embed_batch(self, image: np.ndarray, detections: list[FaceDetection]) -> np.ndarray:
        if not detections:
            return np.zeros((0, 128), np.float32)
        crops = [align_face(image, d.landmarks5)[:, :, ::-1] for d in detections]  # RGB->BGR
        batch = np.stack(crops).astype(np.float32).transpose(0, 3, 1, 2)
        features = np.concatenate(
            [self._session.run(None, {self._input: item[None]})[0] for item in batch]
        )
        return np.stack([_normalise(f) for f in features])


class DlibEmbedder:
    """dlib's ResNet 128-d face descriptor on a 5-point shape (slower, more robust)."""

    name = "dlib-resnet-v1"
    # Same calibration: same person max 0.069, different people min 0.072 (cosine
    # distance). The margin is thin, which is why SFace is the default.
    threshold = 0.07

    def __init__(self, resnet_path: Path, shape5_path: Path) -> None:
        import dlib

        for path in (resnet_path, shape5_path):
            if not Path(path).is_file():
                raise ModelError(f"A dlib identity model file is missing: {path}")
        self._net = dlib.face_recognition_model_v1(str(resnet_path))
        self._shape = dlib.shape_predictor(str(shape5_path))
        self._dlib = dlib

    def embed(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        x0, y0, x1, y1 = (round(v) for v in detection.box)
        rect = self._dlib.rectangle(x0, y0, x1, y1)
        shape = self._shape(np.ascontiguousarray(image), rect)
        descriptor = self._net.compute_face_descriptor(np.ascontiguousarray(image), shape)
        return _normalise(np.array(descriptor))
