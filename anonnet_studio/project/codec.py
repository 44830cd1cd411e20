"""Converts a `Project` to JSON-ready data plus named arrays, and back, checking every field.

The conversion is driven by the dataclasses' type hints, so a field added to the schema is
stored without touching this module. Decoding is strict: every declared field must be
present with the declared type and nothing else may be there; a mismatch raises
`DocumentError` naming the exact place (e.g. `identities[2].generation.steps`).
"""

from __future__ import annotations

import dataclasses
import numbers
import types
import typing
from enum import Enum
from typing import Annotated, Any

import numpy as np

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.arrays import ArraySpec, array_spec, type_hints
from anonnet_studio.project.schema import Project

# Fields that live outside the "project" object in the file (see `project.io`).
_TOP_LEVEL_FIELDS = frozenset({"schema_version"})


class DocumentError(ValueError):
    """A field of a project document is missing, unexpected, or of the wrong type."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


def encode_project(project: Project) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The project as a JSON-ready dict and the arrays it refers to by key."""
    arrays: dict[str, np.ndarray] = {}
    data = _encode_dataclass(project, "", arrays, skip=_TOP_LEVEL_FIELDS)
    return data, arrays


def decode_project(data: Any, arrays: dict[str, np.ndarray], schema_version: int) -> Project:
    """Rebuild a `Project` from `encode_project`'s output; raises `DocumentError`."""
    return _decode_dataclass(Project, data, "", arrays, extra={"schema_version": schema_version})


# --- encoding ----------------------------------------------------------------------------


def _encode_dataclass(
    obj: Any, path: str, arrays: dict[str, np.ndarray], skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    hints = type_hints(type(obj))
    return {
        f.name: _encode(getattr(obj, f.name), hints[f.name], _join(path, f.name), arrays)
        for f in _stored_fields(type(obj))
        if f.name not in skip
    }


def _stored_fields(cls: type) -> list[dataclasses.Field[Any]]:
    """The fields a file holds: all but those marked `metadata={"persist": False}`
    (parameters of a method rather than of the document; they take their defaults)."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("persist", True)]


def _encode(value: Any, tp: Any, path: str, arrays: dict[str, np.ndarray]) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _encode(value, inner, path, arrays)
    if origin is Annotated:
        spec = _require_spec(tp, path)
        problem = spec.problem(value)
        if problem:
            raise DocumentError(path, problem)
        arrays[path] = value
        return {"array": path, "dtype": str(value.dtype), "shape": list(value.shape)}
    if dataclasses.is_dataclass(tp):
        return _encode_dataclass(value, path, arrays)
    if origin is list:
        return [_encode(v, args[0], f"{path}[{i}]", arrays) for i, v in enumerate(value)]
    if origin is tuple:
        return [
            _encode(v, t, f"{path}[{i}]", arrays)
            for i, (v, t) in enumerate(zip(value, _tuple_types(args, len(value)), strict=True))
        ]
    if origin is dict:
        return {str(k): _encode(v, args[1], f"{path}[{k}]", arrays) for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value).value
    if tp is bool:
        return bool(value)
    if tp is int:
        return int(value)
    if tp is float:
        return float(value)
    if tp is Any:
        return _plain_json(value)
    return value  # str, Literal[...] of strings


# --- decoding ----------------------------------------------------------------------------


def _decode_dataclass(
    cls: type,
    data: Any,
    path: str,
    arrays: dict[str, np.ndarray],
    extra: dict[str, Any] | None = None,
) -> Any:
    if not isinstance(data, dict):
        raise DocumentError(path, f"expected an object, got {_json_type(data)}")
    hints = type_hints(cls)
    fields = [f for f in _stored_fields(cls) if not (extra and f.name in extra)]
    names = {f.name for f in fields}
    unknown = sorted(set(data) - names)
    if unknown:
        raise DocumentError(path, f"unexpected field {unknown[0]!r}")
    kwargs: dict[str, Any] = dict(extra or {})
    for f in fields:
        if f.name not in data:
            raise DocumentError(_join(path, f.name), "the field is missing")
        kwargs[f.name] = _decode(data[f.name], hints[f.name], _join(path, f.name), arrays)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError, AnonNetError) as exc:  # e.g. a voice strength out of range
        raise DocumentError(path, str(exc)) from exc


def _decode(data: Any, tp: Any, path: str, arrays: dict[str, np.ndarray]) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if data is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(data, inner, path, arrays)
    if data is None and tp is not Any:
        raise DocumentError(path, "must not be null")
    if origin is Annotated:
        return _decode_array(data, _require_spec(tp, path), path, arrays)
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, data, path, arrays)  # type: ignore[arg-type]
    if origin is list:
        _expect(isinstance(data, list), path, "a list", data)
        return [_decode(v, args[0], f"{path}[{i}]", arrays) for i, v in enumerate(data)]
    if origin is tuple:
        _expect(isinstance(data, list), path, "a list", data)
        wanted = _tuple_types(args, len(data))
        _expect(len(wanted) == len(data), path, f"a list of {len(wanted)} items", data)
        return tuple(
            _decode(v, t, f"{path}[{i}]", arrays)
            for i, (v, t) in enumerate(zip(data, wanted, strict=True))
        )
    if origin is dict:
        _expect(isinstance(data, dict), path, "an object", data)
        key_type = args[0]
        return {
            _decode_key(k, key_type, path): _decode(v, args[1], f"{path}[{k}]", arrays)
            for k, v in data.items()
        }
    if origin is typing.Literal:
        _expect(data in args, path, f"one of {', '.join(map(repr, args))}", data)
        return data
    if isinstance(tp, type) and issubclass(tp, Enum):
        allowed = [m.value for m in tp]
        _expect(data in allowed, path, f"one of {', '.join(map(repr, allowed))}", data)
        return tp(data)
    if tp is bool:
        _expect(isinstance(data, bool), path, "true or false", data)
        return data
    if tp is int:
        _expect(isinstance(data, int) and not isinstance(data, bool), path, "a whole number", data)
        return data
    if tp is float:
        _expect(
            isinstance(data, numbers.Real) and not isinstance(data, bool), path, "a number", data
        )
        return float(data)
    if tp is str:
        _expect(isinstance(data, str), path, "text", data)
        return data
    if tp is Any:
        return data
    raise TypeError(f"{path}: the codec does not know how to read {tp!r}")


def _decode_array(
    data: Any, spec: ArraySpec, path: str, arrays: dict[str, np.ndarray]
) -> np.ndarray:
    _expect(
        isinstance(data, dict) and isinstance(data.get("array"), str),
        path,
        "an array reference",
        data,
    )
    key = data["array"]
    if key not in arrays:
        raise DocumentError(path, f"array {key!r} is missing from the array file")
    array = arrays[key]
    if data.get("dtype") != str(array.dtype) or data.get("shape") != list(array.shape):
        raise DocumentError(path, f"array {key!r} does not match its description")
    problem = spec.problem(array)
    if problem:
        raise DocumentError(path, problem)
    return array


def _decode_key(key: str, key_type: Any, path: str) -> Any:
    if key_type is int:
        try:
            return int(key)
        except ValueError:
            raise DocumentError(path, f"key {key!r} is not a whole number") from None
    return key


# --- helpers -----------------------------------------------------------------------------


def _plain_json(value: Any) -> Any:
    """Free-form data (analysis records, media info) with numpy scalars made plain, so that
    a stray np.float32 in a timing does not make the whole project unsavable."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(v) for v in value]
    return value


def _require_spec(tp: Any, path: str) -> ArraySpec:
    spec = array_spec(tp)
    if spec is None or typing.get_args(tp)[0] is not np.ndarray:
        raise TypeError(f"{path}: only Annotated[np.ndarray, ArraySpec(...)] is supported")
    return spec


def _tuple_types(args: tuple[Any, ...], length: int) -> tuple[Any, ...]:
    if len(args) == 2 and args[1] is Ellipsis:
        return (args[0],) * length
    return args


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _expect(ok: bool, path: str, wanted: str, data: Any) -> None:
    if not ok:
        raise DocumentError(path, f"expected {wanted}, got {_describe(data)}")


def _describe(data: Any) -> str:
    text = repr(data)
    return f"{_json_type(data)} {text if len(text) <= 40 else text[:37] + '...'}"


def _json_type(data: Any) -> str:
    if data is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "text",
        list: "list",
        dict: "object",
    }.get(type(data), type(data).__name__)
