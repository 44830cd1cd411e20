"""Write tiny Keras 2 HDF5 weight files, byte-layout compatible with Keras' save_weights.

Tests of the DeepFace ports build small randomly initialised networks and save them with
this, so the real loading code (`core/vision/keras_h5.py`) reads them exactly as it reads
a downloaded `.h5`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

# (layer name, [(short weight name, array), ...]); an empty list is a weightless layer.
LayerSpec = tuple[str, Sequence[tuple[str, np.ndarray]]]


def write_keras_weights(
    path: Path, layers: Sequence[LayerSpec], *, full_model: bool = False
) -> Path:
    """`full_model=True` nests the weights under `model_weights`, as `model.save` does."""
    with h5py.File(path, "w") as handle:
        group = handle.create_group("model_weights") if full_model else handle
        group.attrs["layer_names"] = np.array([name.encode() for name, _ in layers])
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = b"2.2.4"
        for name, weights in sorted(layers, key=lambda layer: layer[0]):
            layer_group = group.create_group(name)
            names = [f"{name}/{short}:0".encode() for short, _ in weights]
            layer_group.attrs["weight_names"] = np.array(names, dtype="S")
            for full_name, (_, value) in zip(names, weights, strict=True):
                layer_group.create_dataset(full_name.decode(), data=value)
    return path


def random_array(rng: np.random.Generator, *shape: int, scale: float = 0.1) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)
