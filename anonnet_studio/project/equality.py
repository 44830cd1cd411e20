"""Value equality for document dataclasses that hold numpy arrays.

The generated dataclass `__eq__` compares arrays with `==`, which yields an array and then
raises "truth value is ambiguous"; documents compare field by field with exact array
equality (same dtype, shape and values) instead.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np


def values_equal(a: Any, b: Any) -> bool:
    """Exact structural equality; NaN equals NaN so that round trips of NaN compare equal."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return _arrays_equal(a, b)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            values_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(values_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _arrays_equal(a: Any, b: Any) -> bool:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


class ArrayAwareEquality:
    """Mixin for `@dataclass(eq=False)` classes: `==` compares fields with `values_equal`."""

    __hash__ = None  # type: ignore[assignment]  # mutable documents are not hashable

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return values_equal(self, other)
