"""Identity embedders behind `FaceEmbedder`: SFace (ONNX, default) and dlib's ResNet.

Both return L2-normalised 128-d float32 vectors; compare them with
`types.cosine_distance` against the embedder's calibrated `threshold`
(see scripts/calibrate_embedder.py for how the thresholds were chosen).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.align import align_face
from anonnet_studio.core.vision.landmarks import dlib_rectangle, load_shape_predictor
from anonnet_studio.core.vision.model_files import onnx_session, require_model_file
from anonnet_studio.core.vision.onnx_proto import load_model
from anonnet_studio.core.vision.onnx_weights import (
    fold_weight_dequantization,
    keep_only_initializers,
)
from anonnet_studio.core.vision.types import FaceDetection

SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
DLIB_RESNET_FILE = "dlib_face_recognition_resnet_model_v1.dat"
EMBEDDING_SIZE = 128


def _normalised_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8)
    return (vectors / norms).astype(np.float32)


def pruned_sface_graph(model_path: Path, *, fold_weights: bool = True) -> bytes:
    """The SFace graph with only its image input declared, a free batch size, and, with
    `fold_weights`, float weights folded here in Python (see `onnx_weights`; for OpenCV,
    which would dequantize on every call). `SFaceEmbedder` passes False and lets
    onnxruntime fold them while it builds the session, without holding the GIL.

    The int8 file lists ~174 graph inputs that are really weights (or unused at all);
    OpenCV's `FaceRecognizerSF` rejects it and onnxruntime would treat them as feedable.
    Pruning happens in memory, the file on disk is never modified.
    """
    try:
        model = load_model(model_path)
    except (OSError, ValueError, ImportError) as exc:
        raise ModelError(f"The SFace identity model is not a valid ONNX file: {exc}") from exc
    graph = model.graph
    read_by_nodes = {name for node in graph.node for name in node.input}
    weights = {init.name for init in graph.initializer}
    images = [i for i in graph.input if i.name in read_by_nodes and i.name not in weights]
    if len(images) != 1:
        raise ModelError(f"The SFace model has {len(images)} image inputs; expected exactly 1.")
    del graph.input[:]
    graph.input.extend(images)
    keep_only_initializers(graph, read_by_nodes)
    # The file fixes the batch size to 1; the network itself (convs + flatten + gemm)
    # works for any batch, so one call can embed every face of a frame.
    for value in (graph.input[0], graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    if fold_weights:
        fold_weight_dequantization(model)
    return model.SerializeToString()


class SFaceEmbedder:
    """SFace 128-d on the 5-point-aligned 112x112 face (RGB, 0..255, NCHW)."""

    name = "sface-2021dec-int8"
    # Cosine distance. scripts/calibrate_embedder.py on the six fixture clips (one person
    # each, every 10th frame, 158 faces): same person median 0.14, max 0.47; different
    # people min 0.62, median 0.91. 0.54 is the middle of that gap (OpenCV's 0.363
    # default similarity, i.e. distance 0.637, would be just past the closest strangers).
    threshold = 0.54

    def __init__(self, model_path: Path, *, threads: int = 1) -> None:
        path = require_model_file(model_path, "SFace identity")
        # onnxruntime folds the int8 weights while building the session (without the
        # GIL); the same fold in Python (`fold_weights`) froze the editor ~250 ms.
        self._session = onnx_session(
            pruned_sface_graph(path, fold_weights=False),
            "SFace identity",
            threads=threads,
            fold_dequantization=True,
        )
        self._input = self._session.get_inputs()[0].name

    def aligned_face(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """The (112, 112, 3) RGB crop the network sees (also handy for previews)."""
        return align_face(image, detection.landmarks5)

    def embed(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """(128,) float32, L2-normalised."""
        return self.embed_batch(image, [detection])[0]

    def embed_batch(self, image: np.ndarray, detections: Sequence[FaceDetection]) -> np.ndarray:
        """(N, 128) float32 for several faces of one image, in one network call."""
        if not detections:
            return np.zeros((0, EMBEDDING_SIZE), np.float32)
        # OpenCV's FaceRecognizerSF takes BGR and swaps to RGB inside blobFromImage, so
        # the network itself expects RGB: our images already are.
        crops = np.stack([self.aligned_face(image, d) for d in detections])
        batch = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)
        return _normalised_rows(self._session.run(None, {self._input: batch})[0])


class DlibEmbedder:
    """dlib's ResNet 128-d face descriptor on a 5-point shape (slower than SFace)."""

    name = "dlib-resnet-v1"
    # Cosine distance of the normalised descriptors (raw descriptors have norm ~1.5, so
    # dlib's usual Euclidean 0.6 is about 0.08 here). Same calibration: same person max
    # 0.069, different people min 0.068 (the two women, lp_d3 and lp_s18): the
    # distributions touch, and 0.07 misclassifies 5 of 12,403 pairs. SFace separates
    # these people with a wide margin, which is why it is the default.
    threshold = 0.07

    def __init__(self, resnet_path: Path, shape5_path: Path) -> None:
        import dlib

        path = require_model_file(resnet_path, "dlib ResNet identity")
        try:
            self._net = dlib.face_recognition_model_v1(str(path))
        except RuntimeError as exc:
            message = f"The dlib identity model could not be loaded ({path}): {exc}"
            raise ModelError(message) from exc
        self._shape = load_shape_predictor(shape5_path, "dlib 5-point landmark")

    def embed(self, image: np.ndarray, detection: FaceDetection) -> np.ndarray:
        """(128,) float32, L2-normalised."""
        return self.embed_batch(image, [detection])[0]

    def embed_batch(self, image: np.ndarray, detections: Sequence[FaceDetection]) -> np.ndarray:
        """(N, 128) float32 for several faces of one image, in one network call."""
        if not detections:
            return np.zeros((0, EMBEDDING_SIZE), np.float32)
        import dlib

        pixels = np.ascontiguousarray(image)
        shapes = dlib.full_object_detections()
        for detection in detections:
            shapes.append(self._shape(pixels, dlib_rectangle(detection.box)))
        descriptors = self._net.compute_face_descriptor(pixels, shapes)
        return _normalised_rows(np.array([np.array(d) for d in descriptors]))
