"""dlib's 68-point predictor served from a child process.

Loading the 99 MB predictor is one long C++ call that holds the GIL (~0.5 s of CPU, several
seconds on a busy machine): in the editor, a window whose every Python callback needs the
GIL freezes for that long, whichever thread loads it. The child process loads it with its
own GIL; this process only sends frames and reads back points. The child runs the same
dlib on the same pixels, so the landmarks are identical.

Protocol on the child's stdin/stdout: it writes b"R" once loaded (or b"E" + message and
exits); each request is a header (height, width, 4 box floats) and the RGB bytes, each
reply b"K" + 68x2 float32, or b"E" + length + message.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import IO

import numpy as np

import anonnet_studio
from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.model_files import require_model_file

_REQUEST = struct.Struct("<II4d")
_LENGTH = struct.Struct("<I")
_POINTS_BYTES = 68 * 2 * 4


class Landmarks68Process:
    """`landmarks68(image, box)` answered by a child process that loaded `predictor_path`.
    Loading starts at construction and is waited for on the first call (or `wait_ready`)."""

    name = "dlib-shape-predictor-68"  # the same predictor as DlibLandmarks68, same results

    def __init__(self, predictor_path: Path) -> None:
        path = require_model_file(predictor_path, "68-point landmark")
        self._lock = threading.Lock()
        self._ready = False
        # The child imports this package from where this process found it.
        package_root = str(Path(anonnet_studio.__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._finalizer = weakref.finalize(self, _stop, self._process)

    def wait_ready(self) -> None:
        with self._lock:
            self._wait_ready_locked()

    def landmarks68(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        if pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(f"need an RGB image, got shape {pixels.shape}")
        header = _REQUEST.pack(pixels.shape[0], pixels.shape[1], *(float(v) for v in box[:4]))
        with self._lock:
            self._wait_ready_locked()
            stdin, stdout = self._pipes()
            try:
                stdin.write(header)
                stdin.write(pixels.tobytes())
                stdin.flush()
                status = _read(stdout, 1)
                if status == b"K":
                    data = _read(stdout, _POINTS_BYTES)
                    return np.frombuffer(data, np.float32).reshape(68, 2).copy()
                (length,) = _LENGTH.unpack(_read(stdout, _LENGTH.size))
                message = _read(stdout, length).decode("utf-8", "replace")
            except (OSError, EOFError) as exc:
                raise ModelError(f"The 68-point landmark process stopped: {exc}") from exc
        raise ModelError(f"The 68-point landmark process failed: {message}")

    def close(self) -> None:
        self._finalizer()

    def _wait_ready_locked(self) -> None:
        if self._ready:
            return
        _, stdout = self._pipes()
        try:
            status = _read(stdout, 1)
        except EOFError:
            status = b""
        if status != b"R":
            detail = stdout.read().decode("utf-8", "replace") if status == b"E" else ""
            self.close()
            raise ModelError(f"The 68-point landmark model could not be loaded: {detail}")
        self._ready = True

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        stdin, stdout = self._process.stdin, self._process.stdout
        if stdin is None or stdout is None or self._process.poll() is not None:
            raise ModelError("The 68-point landmark process is not running.")
        return stdin, stdout


def _read(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the landmark process closed its output")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        if process.stdin is not None:
            process.stdin.close()  # the child exits at end of input
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None and not stream.closed:
            stream.close()


def _serve(predictor_path: str) -> int:
    from anonnet_studio.core.vision.landmarks import DlibLandmarks68

    out = sys.stdout.buffer
    try:
        predictor = DlibLandmarks68(Path(predictor_path))
    except Exception as exc:  # reported to the parent, which raises ModelError
        out.write(b"E" + str(exc).encode())
        out.flush()
        return 1
    out.write(b"R")
    out.flush()
    source = sys.stdin.buffer
    while header := source.read(_REQUEST.size):
        if len(header) < _REQUEST.size:
            return 1
        height, width, *box = _REQUEST.unpack(header)
        image = np.frombuffer(_read(source, height * width * 3), np.uint8)
        try:
            points = predictor.landmarks68(image.reshape(height, width, 3), np.asarray(box))
            out.write(b"K" + np.ascontiguousarray(points, np.float32).tobytes())
        except Exception as exc:  # one bad request does not end the service
            message = str(exc).encode()
            out.write(b"E" + _LENGTH.pack(len(message)) + message)
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve(sys.argv[1]))
