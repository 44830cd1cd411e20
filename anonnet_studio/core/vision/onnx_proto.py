"""Read and edit ONNX graphs with only the protobuf schema, without importing `onnx`.

`import onnx` pulls in ml_dtypes, whose extension module initialises for ~0.5 s of CPU
(seconds on a busy machine) while holding the GIL: the editor's window freezes if that
happens while it loads models on the compute thread. The graph edits here (pruning
inputs, folding weights) need nothing but the message classes, so the generated schema
module `onnx/onnx_ml_pb2.py` is loaded on its own; it registers the same descriptors that
`import onnx` would, so both can be used in one process.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

# TensorProto.DataType -> numpy dtype, for the types that raw_data can hold here.
_DTYPES = {
    1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
    7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64,
}  # fmt: skip
_FLOAT = 1
_ATTRIBUTE_INT, _ATTRIBUTE_FLOAT, _ATTRIBUTE_INTS = 2, 1, 7


@cache
def _schema() -> ModuleType:
    spec = importlib.util.find_spec("onnx")  # locates the package without importing it
    if spec is None or spec.origin is None:
        raise ImportError("the onnx package is not installed")
    path = Path(spec.origin).parent / "onnx_ml_pb2.py"
    module_spec = importlib.util.spec_from_file_location("_anonnet_onnx_ml_pb2", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load the ONNX schema from {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def load_model(source: Path | bytes) -> Any:
    """A parsed `ModelProto`; raises ValueError when the bytes are not one."""
    data = Path(source).read_bytes() if isinstance(source, Path) else source
    model = _schema().ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError, whichever implementation
        raise ValueError(f"not an ONNX model: {exc}") from exc
    if not model.HasField("graph"):
        raise ValueError("not an ONNX model: it has no graph")
    return model


def tensor_to_array(tensor: Any) -> np.ndarray:
    """A stored tensor (raw or typed fields) as a numpy array of its shape."""
    dtype = _DTYPES.get(int(tensor.data_type))
    if dtype is None:
        raise ValueError(f"unsupported tensor type {tensor.data_type} in {tensor.name!r}")
    shape = tuple(int(d) for d in tensor.dims)
    if tensor.raw_data:
        return np.frombuffer(tensor.raw_data, dtype=dtype).reshape(shape).copy()
    for field in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
        values = getattr(tensor, field)
        if len(values):
            return np.asarray(values).astype(dtype).reshape(shape)
    return np.zeros(shape, dtype)


def set_float_tensor(tensor: Any, values: np.ndarray, name: str) -> None:
    """Make `tensor` (a TensorProto, edited in place) hold `values` as float32 raw data."""
    for field in (
        "dims",
        "float_data",
        "int32_data",
        "int64_data",
        "double_data",
        "uint64_data",
        "string_data",
        "external_data",
        "data_location",
    ):
        tensor.ClearField(field)
    tensor.name = name
    tensor.data_type = _FLOAT
    tensor.dims.extend(values.shape)
    tensor.raw_data = np.ascontiguousarray(values, dtype=np.float32).tobytes()


def attribute_values(node: Any) -> dict[str, Any]:
    """A node's int, float and int-list attributes by name (the others are left out)."""
    values: dict[str, Any] = {}
    for attribute in node.attribute:
        if attribute.type == _ATTRIBUTE_INT:
            values[attribute.name] = int(attribute.i)
        elif attribute.type == _ATTRIBUTE_FLOAT:
            values[attribute.name] = float(attribute.f)
        elif attribute.type == _ATTRIBUTE_INTS:
            values[attribute.name] = [int(v) for v in attribute.ints]
    return values
