"""Declared dtype and shape of the numpy arrays held by document dataclasses.

Array fields are annotated `Annotated[np.ndarray, ArraySpec(dtype, shape)]`. The same spec
coerces arrays when a document object is built (so callers may pass lists or float64),
validates arrays read back from a sidecar, and lets the file codec find arrays generically.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np

# A shape pattern: an int fixes that axis, None accepts any length.
ShapePattern = tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class ArraySpec:
    dtype: str  # numpy dtype name, e.g. "float32"
    shape: ShapePattern

    def describe(self) -> str:
        axes = ", ".join("N" if n is None else str(n) for n in self.shape)
        return f"{self.dtype} array of shape ({axes}{',' if len(self.shape) == 1 else ''})"

    def problem(self, value: Any) -> str | None:
        """Why `value` does not match exactly (dtype and shape), or None when it does."""
        if not isinstance(value, np.ndarray):
            return f"expected a {self.describe()}, got {type(value).__name__}"
        if value.dtype != np.dtype(self.dtype):
            return f"expected a {self.describe()}, got dtype {value.dtype}"
        if len(value.shape) != len(self.shape) or any(
            want is not None and got != want
            for got, want in zip(value.shape, self.shape, strict=True)
        ):
            return f"expected a {self.describe()}, got shape {value.shape}"
        return None

    def coerce(self, value: Any, name: str) -> np.ndarray:
        """`value` as a contiguous array of this dtype; lossy kind changes are refused."""
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"{name}: object arrays are not allowed")
        array = np.ascontiguousarray(array.astype(self.dtype, casting="same_kind", copy=False))
        problem = self.problem(array)
        if problem:
            raise ValueError(f"{name}: {problem}")
        return array


def array_spec(hint: Any) -> ArraySpec | None:
    """The spec inside an `Annotated[np.ndarray, ArraySpec(...)]` hint (optional or not)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = inner[0] if len(inner) == 1 else hint
    if typing.get_origin(hint) is Annotated:
        return next((m for m in hint.__metadata__ if isinstance(m, ArraySpec)), None)
    return None


def type_hints(cls: type) -> dict[str, Any]:
    """Resolved field annotations of a dataclass, `Annotated` extras included."""
    return _cached_type_hints(cls)


@functools.cache
def _cached_type_hints(cls: Hashable) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def coerce_array_fields(obj: Any) -> None:
    """Coerce every declared array field of a dataclass instance in place (None stays None)."""
    hints = type_hints(type(obj))
    for field in dataclasses.fields(obj):
        spec = array_spec(hints[field.name])
        value = getattr(obj, field.name)
        if spec is not None and value is not None:
            setattr(obj, field.name, spec.coerce(value, f"{type(obj).__name__}.{field.name}"))
