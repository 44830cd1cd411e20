"""Reading the frames of a stretch of video outwards from a seed frame, at the tracking
scale, decoding each frame once.

One decoder runs from the keyframe before the first backward chunk through the seed to
the end of the span: the frames before the seed are buffered for the backward direction,
the rest stream to the forward direction. Earlier chunks for the backward direction are
decoded from their own keyframes, each within a memory budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from anonnet_studio.core.media.info import MediaInfo

Frame = tuple[int, np.ndarray]


class FrameSource(Protocol):
    """What propagation needs from `VideoReader`."""

    @property
    def info(self) -> MediaInfo: ...

    @property
    def frame_count(self) -> int: ...

    def iter_frames(
        self, start: int = 0, end: int | None = None, stride: int = 1, max_side: int | None = None
    ) -> Iterator[object]: ...

    def keyframe_at_or_before(self, index: int) -> int: ...


@dataclass(eq=False)
class OutwardFrames:
    """The seed's image, then the backward frames (seed-1 down to `start`) and the forward
    frames (seed+1 up to `end`-1), in that order of use."""

    seed_image: np.ndarray
    backward: Iterator[Frame]
    forward: Iterator[Frame]


def outward_frames(
    source: FrameSource,
    seed: int,
    start: int,
    end: int,
    max_side: int,
    chunk_frames: int,
    *,
    backward: bool = True,
    forward: bool = True,
) -> OutwardFrames:
    """Raises ValueError when the seed frame cannot be decoded."""
    first = _chunk_start(source, seed, start, chunk_frames) if backward else seed
    stream = source.iter_frames(first, end if forward else seed + 1, max_side=max_side)
    buffered: list[Frame] = []
    seed_image = None
    for frame in stream:
        index, image = frame.index, frame.image  # type: ignore[attr-defined]
        if index < seed:
            buffered.append((index, image))
            continue
        if index == seed:
            seed_image = np.asarray(image)
        break
    if seed_image is None:
        raise ValueError(f"frame {seed} cannot be decoded")

    def backward_frames() -> Iterator[Frame]:
        yield from reversed(buffered)
        buffered.clear()  # the memory goes before the next chunk is read
        chunk_end = first
        while chunk_end > start:
            chunk_start = _chunk_start(source, chunk_end, start, chunk_frames)
            chunk = [
                (f.index, f.image)  # type: ignore[attr-defined]
                for f in source.iter_frames(chunk_start, chunk_end, max_side=max_side)
            ]
            if not chunk:
                return
            yield from reversed(chunk)
            chunk_end = chunk_start

    def forward_frames() -> Iterator[Frame]:
        for frame in stream:
            yield frame.index, frame.image  # type: ignore[attr-defined]

    return OutwardFrames(
        seed_image,
        backward_frames() if backward else iter(()),
        forward_frames() if forward else iter(()),
    )


def _chunk_start(source: FrameSource, chunk_end: int, start: int, chunk_frames: int) -> int:
    """Where the chunk of frames before `chunk_end` starts: at a keyframe when that keeps
    it within `chunk_frames` (no frame is then decoded twice), else just within it."""
    keyframe = source.keyframe_at_or_before(chunk_end - 1)
    chunk_start = keyframe if chunk_end - keyframe <= chunk_frames else chunk_end - chunk_frames
    return max(start, chunk_start)
