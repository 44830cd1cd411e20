"""Reading a project's `.npz` array file without trusting what it declares.

A project file may come from anyone. Each member of the array file declares its dtype
and shape in a small `.npy` header, and the zip declares each member's uncompressed size;
numpy would allocate whatever they say (a 100 GB array, a 4 GB decompression bomb of a
few MB). So every header is read and checked first, against what the project's own video
allows (`ArrayLimits.for_media`): no axis longer than the video has frames or pixels, no
member larger than its header says, no more bytes in all than such a project can hold.
Only then are the arrays read, and never unpickled.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

# Generous fixed allowances on top of what the video implies: embeddings (VGG-Face has
# 2622 dimensions), generated candidate images, thumbnails.
_MIN_AXIS = 8192
_BASE_BYTES = 512 * 1024 * 1024
# Per source frame, room for many faces' boxes, landmarks and scores.
_BYTES_PER_FRAME = 64 * 1024
_MAX_MEMBERS = 1_000_000
_ALLOWED_KINDS = "biuf"  # bool, integers, floats: never objects or strings


class ArrayFileError(ValueError):
    """The array file is malformed or declares more than its project can hold."""


@dataclass(frozen=True, slots=True)
class ArrayLimits:
    max_axis: int  # the longest any axis of any array may be
    max_total_bytes: int  # all arrays together, uncompressed

    @classmethod
    def for_media(cls, media_info: Any) -> ArrayLimits:
        """Limits for a project of the video described by `media_info` (raw JSON)."""
        video = media_info.get("video") if isinstance(media_info, dict) else None
        video = video if isinstance(video, dict) else {}
        numbers = [video.get(key) for key in ("frame_count", "width", "height")]
        frames, width, height = (
            n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0 for n in numbers
        )
        return cls(
            max_axis=max(_MIN_AXIS, frames, width, height),
            max_total_bytes=_BASE_BYTES + frames * _BYTES_PER_FRAME,
        )


def read_arrays(path: Path, limits: ArrayLimits) -> dict[str, np.ndarray]:
    """Every array of the `.npz` at `path`, after checking each declaration against
    `limits`. Raises `ArrayFileError` naming the member, OSError or BadZipFile."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > _MAX_MEMBERS:
            raise ArrayFileError(f"it holds {len(members)} arrays, more than any project")
        total = 0
        for member in members:
            total += _check_member(archive, member, limits)
            if total > limits.max_total_bytes:
                raise ArrayFileError(
                    f"its arrays declare {total} bytes in all, more than a project of this "
                    f"video can hold ({limits.max_total_bytes})"
                )
    archive_arrays = np.load(path, allow_pickle=False)
    if not isinstance(archive_arrays, np.lib.npyio.NpzFile):
        raise ArrayFileError("not an array archive")
    with archive_arrays:
        return {key: archive_arrays[key] for key in archive_arrays.files}


def _check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ArrayLimits) -> int:
    """Checks one member's header; returns its declared uncompressed size."""
    name = member.filename
    field = name[: -len(".npy")] if name.endswith(".npy") else name
    if not name.endswith(".npy") or member.is_dir():
        raise ArrayFileError(f"{field}: not an array")
    if member.file_size > limits.max_total_bytes:
        raise ArrayFileError(
            f"{field}: declares {member.file_size} bytes uncompressed, more than a project "
            f"of this video can hold ({limits.max_total_bytes})"
        )
    with archive.open(member) as stream:
        shape, dtype, header_bytes = _read_header(stream, field)
    if dtype.kind not in _ALLOWED_KINDS or dtype.itemsize > 8:
        raise ArrayFileError(f"{field}: unsupported element type {dtype}")
    if any(n < 0 for n in shape):
        raise ArrayFileError(f"{field}: declares a negative shape {tuple(shape)}")
    too_long = [n for n in shape if n > limits.max_axis]
    if too_long:
        raise ArrayFileError(
            f"{field}: declares shape {tuple(shape)}, longer than the video's frames and "
            f"pixels allow (at most {limits.max_axis} per axis)"
        )
    data_bytes = math.prod(shape) * dtype.itemsize
    if header_bytes + data_bytes != member.file_size:
        raise ArrayFileError(
            f"{field}: its header declares {data_bytes} bytes of data but the file holds "
            f"{member.file_size - header_bytes}"
        )
    return member.file_size


def _read_header(stream: IO[bytes], field: str) -> tuple[tuple[int, ...], np.dtype, int]:
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, _fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _fortran, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ArrayFileError(f"{field}: unsupported array format {version}")
    except (ValueError, EOFError) as exc:
        if isinstance(exc, ArrayFileError):
            raise
        raise ArrayFileError(f"{field}: damaged array header ({exc})") from None
    return tuple(int(n) for n in shape), np.dtype(dtype), stream.tell()
