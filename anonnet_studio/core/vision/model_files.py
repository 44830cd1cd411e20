"""Loading helpers shared by the embedded backends: file checks and ONNX sessions.

Every backend receives its model file paths from the caller (the model manager resolves
them); these helpers turn a missing or unreadable file into a typed, readable error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from anonnet_studio.core.errors import ModelError, ModelUnavailableError

if TYPE_CHECKING:
    import onnxruntime


def require_model_file(path: Path | str, description: str) -> Path:
    """`path` as a Path, or `ModelUnavailableError` naming the model when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise ModelUnavailableError(
            f"The {description} model file is missing: {path}",
            hint="Check the model folders with `anonnet-studio models list`.",
        )
    return path


def onnx_session(
    model: Path | bytes,
    description: str,
    *,
    threads: int = 0,
    optimise: bool = True,
    fold_dequantization: bool = False,
    save_optimised_to: Path | None = None,
) -> onnxruntime.InferenceSession:
    """A CPU onnxruntime session; `threads=0` lets onnxruntime choose.

    `optimise=False` disables graph rewrites, for networks whose results must match a
    reference implementation bit for bit (the age/gender manifest asks for that).
    `fold_dequantization` turns int8 weights (`DequantizeLinear` of stored tensors) into
    float ones once, while the session is built: onnxruntime otherwise keeps them for
    int8 kernels it does not have for these graphs and dequantizes on every call. It does
    this in C++ without the GIL, so loading does not freeze the editor's window.
    `save_optimised_to` writes the graph onnxruntime runs (for tests and debugging).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Warnings about unused initialisers in pruned graphs are noise for the user.
    options.log_severity_level = 3
    if not optimise:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if fold_dequantization:
        # Constant folding skips DequantizeLinear only to keep QDQ patterns for
        # quantized kernels; with those transforms off it folds them.
        options.add_session_config_entry("session.disable_quant_qdq", "1")
    if save_optimised_to is not None:
        options.optimized_model_filepath = str(save_optimised_to)
    source = model if isinstance(model, bytes) else str(model)
    try:
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated exception types
        where = "" if isinstance(model, bytes) else f" ({model})"
        raise ModelError(
            f"The {description} model could not be loaded{where}: {exc}",
            hint="The file may be damaged; `anonnet-studio models verify` checks it.",
        ) from exc
