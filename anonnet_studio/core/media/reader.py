"""`VideoReader`: sequential and random-access decoding to upright RGB numpy frames."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

import av.video.frame
import numpy as np

from anonnet_studio.core.errors import CorruptMediaError
from anonnet_studio.core.media._container import media_errors
from anonnet_studio.core.media._convert import frame_to_rgb
from anonnet_studio.core.media._decoder import FrameCache, FrameDecoder
from anonnet_studio.core.media.info import MediaInfo
from anonnet_studio.core.media.probe import probe_with_index

# Decoded YUV frames kept for random access: ~120 frames of 720p, ~50 of 1080p.
DEFAULT_CACHE_BYTES = 160 * 1024 * 1024
# How many seek attempts at ever earlier keyframes before decoding from the start.
_SEEK_ATTEMPTS = 3


@dataclass(frozen=True, slots=True, eq=False)
class DecodedFrame:
    """One decoded frame: `image` is upright RGB uint8 (H, W, 3)."""

    index: int
    pts: int
    time_s: float  # presentation time relative to the first frame
    image: np.ndarray


class VideoReader:
    """Reads the first video stream of a file as upright RGB frames.

    Use as a context manager. `iter_frames()` decodes sequentially (for analysis and
    rendering); `frame_at()` returns any single frame exactly (for scrubbing), reusing
    the decoder position and a cache so stepping forward or back stays cheap.
    Not thread-safe: use one reader per thread.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        threads: int = 0,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self._info, self._index = probe_with_index(path)
        self._threads = threads
        self._random_access = FrameDecoder(
            self._info.path, self._info.video.index, self._index, threads
        )
        self._cache = FrameCache(cache_bytes)
        self._pts = self._index.pts.copy()
        self._pts.setflags(write=False)

    # -- lifetime ----------------------------------------------------------------------

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder and cached frames (the reader can be reopened by using it)."""
        self._random_access.close()
        self._cache.clear()

    # -- facts ---------------------------------------------------------------------------

    @property
    def info(self) -> MediaInfo:
        return self._info

    @property
    def frame_count(self) -> int:
        return self._index.frame_count

    @property
    def frame_pts(self) -> np.ndarray:
        """Read-only int64 pts of every frame in presentation order (time_base units)."""
        return self._pts

    @property
    def seek_count(self) -> int:
        """How often `frame_at` had to reposition the decoder (stepping forward does not)."""
        return self._random_access.seek_count

    def keyframe_at_or_before(self, index: int) -> int:
        """The last keyframe at or before frame `index`: decoding can start there without
        decoding anything earlier (used to read a stretch of video backwards in chunks)."""
        return self._index.keyframe_at_or_before(index)

    def time_of(self, index: int) -> float:
        """Presentation time in seconds of frame `index`, relative to the first frame."""
        self._check_index(index)
        return float((int(self._pts[index]) - int(self._pts[0])) * self._info.video.time_base)

    def index_at_time(self, time_s: float) -> int:
        """The frame shown at `time_s` seconds (relative to the first frame), clamped."""
        ticks = int(self._pts[0]) + int(time_s / self._info.video.time_base)
        position = int(np.searchsorted(self._pts, ticks, side="right")) - 1
        return min(max(position, 0), self.frame_count - 1)

    # -- sequential ----------------------------------------------------------------------

    def iter_frames(
        self,
        start: int = 0,
        end: int | None = None,
        stride: int = 1,
        max_side: int | None = None,
    ) -> Iterator[DecodedFrame]:
        """Yield frames start, start+stride, ... before `end` (default: all), in order.

        Every frame is decoded (inter frames need their references) but only the yielded
        ones are converted to RGB. A damaged tail ends the iteration early; a file with no
        decodable frame at all raises CorruptMediaError.
        """
        end = self.frame_count if end is None else min(end, self.frame_count)
        if start < 0 or stride < 1:
            raise ValueError(f"need start >= 0 and stride >= 1, got {start=} {stride=}")
        if start >= end:
            return
        decoder = FrameDecoder(self._info.path, self._info.video.index, self._index, self._threads)
        try:
            keyframe = self._index.keyframe_at_or_before(start)
            decoder.seek(keyframe)
            yielded = False
            while (item := decoder.next_frame()) is not None:
                index, frame = item
                if index > start and not yielded and keyframe > 0:
                    # The seek overshot (an unusual index): restart from the first frame.
                    keyframe = 0
                    decoder.seek(0)
                    continue
                if index >= end:
                    break
                if index >= start and (index - start) % stride == 0:
                    yielded = True
                    yield self._decoded(index, frame, max_side)
            if not yielded and decoder.position < 0:
                raise CorruptMediaError(
                    f"No frame of {self._info.path.name} could be decoded from frame {start} on.",
                    hint="The file may be damaged or incomplete.",
                )
        finally:
            decoder.close()

    # -- random access ---------------------------------------------------------------------

    def frame_at(self, index: int, *, max_side: int | None = None) -> np.ndarray:
        """Exactly the `index`-th frame (same pixels as `iter_frames`), upright RGB."""
        self._check_index(index)
        frame = self._cache.get(index)
        if frame is None:
            frame = self._decode_exact(index)
        return self._to_rgb(frame, max_side)

    def decoded_frame_at(self, index: int, *, max_side: int | None = None) -> DecodedFrame:
        """`frame_at()` with the frame's pts and time."""
        image = self.frame_at(index, max_side=max_side)
        return DecodedFrame(index, int(self._pts[index]), self.time_of(index), image)

    def _decode_exact(self, target: int) -> av.video.frame.VideoFrame:
        keyframe = self._index.keyframe_at_or_before(target)
        decoder = self._random_access
        # Decoding on from the current position is never slower than seeking when no
        # keyframe nearer to the target lies ahead of it.
        resume = (
            not decoder.exhausted and decoder.position < target and decoder.position >= keyframe - 1
        )
        for attempt in range(_SEEK_ATTEMPTS + 1):
            if not resume:
                # Retries decode every frame, in case skipping was what lost the target.
                decoder.seek(keyframe, heading_for=target if attempt == 0 else None)
            resume = False
            while (item := decoder.next_frame()) is not None:
                index, frame = item
                self._cache.put(index, frame)
                if index == target:
                    return frame
                if index > target:
                    break  # the seek landed past the target: retry from an earlier keyframe
            keyframe = 0 if attempt + 1 >= _SEEK_ATTEMPTS else self._earlier_keyframe(keyframe)
        raise CorruptMediaError(
            f"Frame {target} of {self._info.path.name} cannot be decoded.",
            hint="The file may be damaged at that point.",
        )

    def _earlier_keyframe(self, keyframe: int) -> int:
        return self._index.keyframe_at_or_before(keyframe - 1) if keyframe > 0 else 0

    # -- helpers ---------------------------------------------------------------------------

    def _decoded(
        self, index: int, frame: av.video.frame.VideoFrame, max_side: int | None
    ) -> DecodedFrame:
        return DecodedFrame(
            index, int(self._pts[index]), self.time_of(index), self._to_rgb(frame, max_side)
        )

    def _to_rgb(self, frame: av.video.frame.VideoFrame, max_side: int | None) -> np.ndarray:
        with media_errors(self._info.path, "converting a frame to RGB"):
            return frame_to_rgb(frame, rotation=self._info.video.rotation, max_side=max_side)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} out of range (0..{self.frame_count - 1})")
