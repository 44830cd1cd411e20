"""Read Keras HDF5 weight files without TensorFlow.

DeepFace and serengil/retinaface release their networks as Keras 2 `.h5` files. We run
them as PyTorch ports (torch is already installed for the generative stack; TensorFlow
would add gigabytes), so this module reads the weights straight from HDF5 with h5py.

Layout (what Keras 2's `save_weights` / `model.save` write): the weights group is the
file root or its `model_weights` group. Its attribute `layer_names` lists every layer in
model order; each layer has a group whose `weight_names` attribute lists its datasets,
e.g. `conv2d_1/kernel:0`. Long attributes are split into `layer_names0`, `layer_names1`...
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anonnet_studio.core.errors import ModelIntegrityError
from anonnet_studio.core.vision.model_files import require_model_file


@dataclass(frozen=True, slots=True, eq=False)
class KerasLayerWeights:
    name: str
    # Short weight name ("kernel", "bias", "gamma", "beta", "moving_mean",
    # "moving_variance", "alpha", "depthwise_kernel") -> array, in the file's order.
    weights: dict[str, np.ndarray]

    def get(self, short_name: str) -> np.ndarray:
        try:
            return self.weights[short_name]
        except KeyError:
            raise ModelIntegrityError(
                f"Layer {self.name!r} has no {short_name!r} weight "
                f"(it has {', '.join(self.weights) or 'none'})."
            ) from None


class KerasWeights:
    """The layers that carry weights, in model order, addressable by name."""

    def __init__(self, layers: list[KerasLayerWeights], source: Path) -> None:
        self.layers = layers
        self.source = source
        self._by_name = {layer.name: layer for layer in layers}

    def __iter__(self) -> Iterator[KerasLayerWeights]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def layer(self, name: str) -> KerasLayerWeights:
        try:
            return self._by_name[name]
        except KeyError:
            raise ModelIntegrityError(
                f"{self.source.name} has no layer {name!r}; is it the right model file?"
            ) from None


def read_keras_weights(path: Path | str, description: str = "Keras") -> KerasWeights:
    """All weight-carrying layers of a Keras 2 HDF5 file, in model order."""
    import h5py  # local: only the downloaded DeepFace backends need it

    path = require_model_file(path, description)
    try:
        with h5py.File(path, "r") as handle:
            group = handle.get("model_weights", handle)
            layer_names = _string_list_attribute(group, "layer_names")
            if layer_names is None:
                raise ModelIntegrityError(
                    f"{path.name} is not a Keras 2 weight file (no 'layer_names' attribute)."
                )
            layers = []
            for layer_name in layer_names:
                layer_group = group[layer_name]
                weight_names = _string_list_attribute(layer_group, "weight_names") or []
                if not weight_names:
                    continue
                weights = {
                    _short_weight_name(name): np.asarray(layer_group[name][()])
                    for name in weight_names
                }
                layers.append(KerasLayerWeights(layer_name, weights))
    except ModelIntegrityError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise ModelIntegrityError(
            f"The {description} model file {path.name} cannot be read: {exc}",
            hint="Delete it and download it again with `anonnet-studio models download`.",
        ) from exc
    return KerasWeights(layers, path)


def conv_kernel_to_torch(kernel: np.ndarray) -> np.ndarray:
    """Keras (kh, kw, in, out) -> torch (out, in, kh, kw)."""
    return np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))


def depthwise_kernel_to_torch(kernel: np.ndarray) -> np.ndarray:
    """Keras depthwise (kh, kw, in, multiplier) -> torch grouped (in*multiplier, 1, kh, kw)."""
    kh, kw, channels, multiplier = kernel.shape
    return np.ascontiguousarray(
        kernel.reshape(kh, kw, channels * multiplier).transpose(2, 0, 1)[:, None]
    )


def dense_kernel_to_torch(kernel: np.ndarray) -> np.ndarray:
    """Keras (in, out) -> torch Linear (out, in)."""
    return np.ascontiguousarray(kernel.T)


def _short_weight_name(name: str) -> str:
    # "conv2d_1/kernel:0" -> "kernel"; Keras 3 legacy names may lack the ":0".
    return name.rsplit("/", 1)[-1].split(":", 1)[0]


def _string_list_attribute(group: object, name: str) -> list[str] | None:
    attrs = group.attrs  # type: ignore[attr-defined]
    if name in attrs:
        values = list(attrs[name])
    elif f"{name}0" in attrs:
        values, chunk = [], 0
        while f"{name}{chunk}" in attrs:
            values.extend(attrs[f"{name}{chunk}"])
            chunk += 1
    else:
        return None
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]
