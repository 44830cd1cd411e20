"""Independent measurements for media tests, made with plain PyAV (not the code under test)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def plain_frame_times(path: Path) -> list[Fraction]:
    """Presentation time (seconds, exact) of every frame a plain PyAV decode yields."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = []
        try:
            for frame in container.decode(stream):
                times.append(frame.pts * stream.time_base)
        except av.InvalidDataError:
            pass  # truncated input: count what decodes
    return times


def audio_packets(path: Path) -> list[bytes]:
    """Payload of every audio packet of the first audio stream."""
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def all_metadata(path: Path) -> dict[str, str]:
    """Container and stream tags merged, stream keys prefixed with their index."""
    with av.open(str(path)) as container:
        tags = dict(container.metadata)
        for stream in container.streams:
            tags.update({f"{stream.index}:{k}": v for k, v in stream.metadata.items()})
    return tags


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
