"""Fold int8 weight quantization out of an ONNX graph once, at load time.

The embedded YuNet and SFace files store their weights as block-quantized int8
(`DequantizeLinear` with `block_size`, opset 21). Neither onnxruntime nor OpenCV fuses
that form into int8 kernels: both dequantize every weight on every call and then run
float convolutions. Doing the dequantization once in memory gives the same float weights
(so the same outputs, to float rounding) and removes that per-call work: SFace runs in
~0.55x the time. The file on disk is never modified.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from anonnet_studio.core.vision.onnx_proto import (
    attribute_values,
    set_float_tensor,
    tensor_to_array,
)


def fold_weight_dequantization(model: Any) -> int:
    """Replace every `DequantizeLinear` of a `ModelProto` whose inputs are all stored
    weights by its float result, in place. Returns how many nodes were folded.

    Tensors are edited where they are and list entries deleted by index, never whole
    lists copied: each protobuf call holds the GIL, and copying SFace's 39 MB of weights
    at once froze the editor's window for ~250 ms while it loaded models."""
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    readers = Counter(name for node in graph.node for name in node.input)
    folded = []
    for index, node in enumerate(graph.node):
        inputs = [name for name in node.input if name]
        if node.op_type != "DequantizeLinear" or not all(n in weights for n in inputs):
            continue
        attributes = attribute_values(node)
        arrays = [tensor_to_array(weights[name]) for name in inputs]
        values = _dequantize(arrays, int(attributes.get("axis", 1)), attributes.get("block_size"))
        # The int8 tensor becomes the float one unless another node also reads it.
        only_here = readers[inputs[0]] == 1
        target = weights[inputs[0]] if only_here else graph.initializer.add()
        set_float_tensor(target, values, node.output[0])
        folded.append(index)
    for index in reversed(folded):
        del graph.node[index]
    still_read = {name for node in graph.node for name in node.input}
    keep_only_initializers(graph, still_read)
    return len(folded)


def keep_only_initializers(graph: Any, names: set[str]) -> None:
    """Drop the stored tensors not in `names`, by index (`remove()` would find each one
    by comparing whole tensors, seconds of GIL-held work on a big graph)."""
    for index in reversed(range(len(graph.initializer))):
        if graph.initializer[index].name not in names:
            del graph.initializer[index]


def _dequantize(arrays: list[np.ndarray], axis: int, block_size: object) -> np.ndarray:
    """ONNX DequantizeLinear: (x - zero_point) * scale, per tensor, axis or block."""
    quantized = arrays[0].astype(np.float32)
    scale = arrays[1].astype(np.float32)
    zero = arrays[2].astype(np.float32) if len(arrays) > 2 else np.zeros_like(scale)
    if scale.ndim == 0 or scale.size == 1:
        return ((quantized - zero) * scale).astype(np.float32)
    axis %= quantized.ndim
    if isinstance(block_size, int) and block_size > 0:
        # Blocked: scale has the weight's shape with `axis` shrunk by block_size.
        length = quantized.shape[axis]
        scale = np.repeat(scale, block_size, axis=axis).take(range(length), axis=axis)
        zero = np.repeat(zero, block_size, axis=axis).take(range(length), axis=axis)
    else:  # per axis: a 1-d scale along `axis`
        shape = [1] * quantized.ndim
        shape[axis] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return ((quantized - zero) * scale).astype(np.float32)
