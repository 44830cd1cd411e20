"""Hostile `.npz` array files for project-loading tests, written byte by byte.

A real decompression bomb: a member whose header declares a 4 GiB array and whose zip
entry declares 4 GiB uncompressed, holding 4 GiB of zeros deflated to a few MB. The
deflate stream is built from one compressed 16 MiB block repeated (a full flush makes
each block independent), so building it takes seconds, not minutes.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

_CHUNK = 1 << 24


@dataclass(frozen=True)
class Member:
    name: str
    deflated: bytes
    crc32: int
    size: int  # uncompressed


def npy_bytes(array: np.ndarray) -> bytes:
    stream = io.BytesIO()
    npy_format.write_array(stream, array, allow_pickle=False)
    return stream.getvalue()


def npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    stream = io.BytesIO()
    npy_format.write_array_header_1_0(
        stream, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return stream.getvalue()


def plain_member(name: str, data: bytes) -> Member:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Member(name, compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data))


def zero_bomb_member(name: str, header: bytes, zero_bytes: int) -> Member:
    """`header` followed by `zero_bytes` zeros (a multiple of 16 MiB), deflated."""
    assert zero_bytes % _CHUNK == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)]
    zeros = b"\0" * _CHUNK
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(header)
    for _ in range(zero_bytes // _CHUNK):
        crc = zlib.crc32(zeros, crc)
    parts += [block] * (zero_bytes // _CHUNK)
    parts.append(compressor.flush())
    return Member(name, b"".join(parts), crc, len(header) + zero_bytes)


def write_zip(path: Path, members: list[Member]) -> None:
    """A zip (deflate, zip64 sizes) of `members`, as numpy's savez would lay it out."""
    with open(path, "wb") as out:
        central = []
        for member in members:
            offset = out.tell()
            name = member.name.encode()
            extra = struct.pack("<HHQQ", 1, 16, member.size, len(member.deflated))
            out.write(
                struct.pack(
                    "<IHHHHHIIIHH",
                    0x04034B50,
                    45,
                    0,
                    8,
                    0,
                    0x21,
                    member.crc32,
                    0xFFFFFFFF,
                    0xFFFFFFFF,
                    len(name),
                    len(extra),
                )
            )
            out.write(name + extra + member.deflated)
            central.append((member, name, offset))
        start = out.tell()
        for member, name, offset in central:
            extra = struct.pack("<HHQQ", 1, 16, member.size, len(member.deflated))
            out.write(
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    45,
                    45,
                    0,
                    8,
                    0,
                    0x21,
                    member.crc32,
                    0xFFFFFFFF,
                    0xFFFFFFFF,
                    len(name),
                    len(extra),
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
            )
            out.write(name + extra)
        size = out.tell() - start
        out.write(
            struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), size, start, 0)
        )


def replace_arrays(project: Path, members: list[Member]) -> None:
    """Make `project` name a new array file of `members`, with its matching sha256 (as an
    attacker who edits both would)."""
    document = json.loads(project.read_text(encoding="utf-8"))
    folder = project.with_name(project.name + ".data")
    sidecar = folder / "arrays-hostile.npz"
    write_zip(sidecar, members)
    digest = hashlib.sha256(sidecar.read_bytes()).hexdigest()
    document["arrays"] = {"file": f"{folder.name}/{sidecar.name}", "sha256": digest}
    project.write_text(json.dumps(document), encoding="utf-8")


def members_of(project: Path) -> dict[str, np.ndarray]:
    """The arrays of a project as saved (to build hostile variants from)."""
    document = json.loads(project.read_text(encoding="utf-8"))
    with np.load(project.parent / document["arrays"]["file"], allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}
