"""Weights dequantized once at load time give the same results as the int8 files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from anonnet_studio.core.vision.detector import YUNET_FILE, float_weight_graph
from anonnet_studio.core.vision.embedder import SFACE_FILE, SFaceEmbedder, pruned_sface_graph
from anonnet_studio.core.vision.model_files import onnx_session
from anonnet_studio.core.vision.onnx_proto import load_model
from anonnet_studio.core.vision.onnx_weights import fold_weight_dequantization
from anonnet_studio.core.vision.types import cosine_distance
from tests.core.vision.conftest import VIDEO_MAX_SIDE, clip_frames, load_image


def _dequantize_graph(weight: np.ndarray, scale: np.ndarray, zero: np.ndarray, **attrs: int):
    """A graph whose output is DequantizeLinear of stored weights, plus a float input
    added to it (so the folded graph still has a node to run)."""
    inputs = [numpy_helper.from_array(a, n) for a, n in ((weight, "w"), (scale, "s"), (zero, "z"))]
    nodes = [
        helper.make_node("DequantizeLinear", ["w", "s", "z"], ["wf"], **attrs),
        helper.make_node("Add", ["wf", "x"], ["y"]),
    ]
    shape = list(weight.shape)
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        initializer=inputs,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


@pytest.mark.parametrize(
    ("scale_shape", "attrs"),
    [((), {}), ((6,), {"axis": 0}), ((6, 2), {"axis": 1, "block_size": 4})],
    ids=["per-tensor", "per-axis", "blocked"],
)
def test_folding_matches_the_onnx_reference_semantics(scale_shape, attrs) -> None:
    rng = np.random.default_rng(1)
    weight = rng.integers(-128, 128, (6, 7), dtype=np.int8)  # 7: a last, partial block
    scale = rng.uniform(0.01, 0.1, scale_shape).astype(np.float32)
    zero = rng.integers(-5, 5, scale_shape, dtype=np.int8)
    model = _dequantize_graph(weight, scale, zero, **attrs)
    x = np.zeros(weight.shape, np.float32)
    expected = ReferenceEvaluator(model).run(None, {"x": x})[0]
    assert fold_weight_dequantization(model) == 1
    assert [n.op_type for n in model.graph.node] == ["Add"]
    assert {i.name for i in model.graph.initializer} == {"wf"}
    folded = ReferenceEvaluator(model).run(None, {"x": x})[0]
    np.testing.assert_allclose(folded, expected, rtol=0, atol=1e-7)


def test_sface_embeddings_unchanged_by_folding(
    model_dir: Callable[[str], Path], sface: SFaceEmbedder, vision
) -> None:
    path = model_dir("sface") / SFACE_FILE
    folded = onnx.load_from_string(pruned_sface_graph(path))
    assert not [n for n in folded.graph.node if n.op_type == "DequantizeLinear"]
    int8 = onnx_session(pruned_sface_graph(path, fold_weights=False), "SFace", threads=1)
    for image in clip_frames("lp_d19.mp4", [0, 120]):
        face = vision.detector.detect(image, max_side=VIDEO_MAX_SIDE)[0]
        crop = sface.aligned_face(image, face)[None].transpose(0, 3, 1, 2).astype(np.float32)
        reference = int8.run(None, {int8.get_inputs()[0].name: crop})[0][0]
        assert cosine_distance(reference, sface.embed(image, face)) < 1e-5


@pytest.mark.parametrize("fold", [True, False])
def test_onnxruntime_folds_the_sface_weights_while_it_builds_the_session(
    model_dir: Callable[[str], Path], tmp_path: Path, fold: bool
) -> None:
    # What the embedder asks for; the Python fold it replaces held the GIL ~250 ms.
    optimised = tmp_path / "optimised.onnx"
    graph = pruned_sface_graph(model_dir("sface") / SFACE_FILE, fold_weights=False)
    onnx_session(graph, "SFace", fold_dequantization=fold, save_optimised_to=optimised)
    ops = {n.op_type for n in onnx.load(str(optimised)).graph.node}
    assert ("DequantizeLinear" in ops) is not fold


def test_yunet_detections_unchanged_by_folding(model_dir: Callable[[str], Path]) -> None:
    path = model_dir("yunet") / YUNET_FILE
    assert b"DequantizeLinear" in path.read_bytes()
    graph = onnx.load_from_string(float_weight_graph(path))
    assert not [n for n in graph.graph.node if n.op_type == "DequantizeLinear"]
    image = cv2.resize(cv2.cvtColor(load_image("fas_friends.jpg"), cv2.COLOR_RGB2BGR), (960, 540))
    size = (image.shape[1], image.shape[0])
    from_file = cv2.FaceDetectorYN.create(str(path), "", size, 0.6, 0.3, 5000)
    from_folded = cv2.FaceDetectorYN.create(
        "onnx", np.frombuffer(float_weight_graph(path), np.uint8), np.zeros(0, np.uint8),
        size, 0.6, 0.3, 5000,
    )  # fmt: skip
    expected, got = from_file.detect(image)[1], from_folded.detect(image)[1]
    assert expected is not None and len(expected) == 6
    np.testing.assert_allclose(got, expected, atol=1e-3)


def test_loading_the_vision_models_does_not_import_onnx(tmp_path: Path) -> None:
    """`import onnx` holds the GIL for ~0.5 s of CPU (ml_dtypes): the editor would freeze."""
    code = (
        "import sys; from pathlib import Path\n"
        "from anonnet_studio.core.models.manager import ModelManager\n"
        "from anonnet_studio.core.vision.factory import build_embedded_vision\n"
        f"m = ModelManager.from_environment(models_dir=Path({str(tmp_path)!r}), offline=True)\n"
        "build_embedded_vision(m.resolve)\n"
        "print(sorted(n for n in ('onnx', 'ml_dtypes') if n in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_file_that_is_not_onnx_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ONNX model"):
        load_model(b"\x00\x01 not protobuf")
