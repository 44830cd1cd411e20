"""A seekable frame decoder that identifies every frame by its pts, and a byte-bounded
LRU cache of decoded (still YUV) frames for random access."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import av
import av.container
import av.video.frame
import av.video.stream

from anonnet_studio.core.media._container import media_errors, open_input, video_stream_at
from anonnet_studio.core.media._index import FrameIndex


class FrameDecoder:
    """Decodes one video stream forward from any keyframe, yielding (frame index, frame).

    Frames are identified by pts through the frame index, never by counting, so a seek
    that lands on a different keyframe than asked cannot shift the numbering.
    """

    def __init__(self, path: Path, stream_index: int, index: FrameIndex, threads: int) -> None:
        self._path = path
        self._stream_index = stream_index
        self._index = index
        self._threads = threads
        self._container: av.container.InputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._frames: Iterator[tuple[int, av.video.frame.VideoFrame]] | None = None
        self.position = -1  # index of the last frame yielded since the last seek
        self.exhausted = False  # the stream ended (or broke) since the last seek
        self.seek_count = 0  # repositionings so far (diagnostics)

    def close(self) -> None:
        self._frames = None
        if self._container is not None:
            self._container.close()
            self._container = None
            self._stream = None

    def seek(self, keyframe: int, *, heading_for: int | None = None) -> None:
        """Position the decoder so the next frames start at or before frame `keyframe`.

        Keyframe 0 reopens the file, which is always exact; other keyframes seek by pts.
        `heading_for` names the one frame the caller wants: frames no other frame refers
        to are then skipped until it, which roughly halves the work of a long jump.
        """
        self.seek_count += 1
        if keyframe <= 0 or self._container is None:
            self.close()
            self._open()
        if keyframe > 0:
            assert self._container is not None and self._stream is not None
            with media_errors(self._path, "seeking"):
                self._container.seek(
                    int(self._index.pts[keyframe]),
                    stream=self._stream,
                    backward=True,
                    any_frame=False,
                )
        skip_until = None
        if heading_for is not None and heading_for > keyframe + 2:
            skip_until = int(self._index.pts[heading_for])
        self._frames = self._decode_from(keyframe, skip_until)
        self.position = -1
        self.exhausted = False

    def next_frame(self) -> tuple[int, av.video.frame.VideoFrame] | None:
        """The next decoded frame in presentation order, or None at the end of the stream."""
        if self._frames is None:
            self.seek(0)
        assert self._frames is not None
        item = next(self._frames, None)
        if item is None:
            self.exhausted = True
        else:
            self.position = item[0]
        return item

    def _open(self) -> None:
        container = open_input(self._path)
        stream = video_stream_at(container, self._stream_index)
        # Frame + slice threading; the frame index (not output order) names each frame,
        # so the extra decoder delay of frame threads cannot confuse the numbering.
        stream.codec_context.thread_type = "AUTO"
        stream.codec_context.thread_count = self._threads
        self._container, self._stream = container, stream

    def _decode_from(
        self, keyframe: int, skip_until_pts: int | None
    ) -> Iterator[tuple[int, av.video.frame.VideoFrame]]:
        assert self._container is not None and self._stream is not None
        container, stream = self._container, self._stream
        context = stream.codec_context
        # Non-reference frames cannot change any other frame's pixels, so skipping them
        # on the way to a target leaves the target identical to a sequential decode.
        context.skip_frame = "DEFAULT" if skip_until_pts is None else "NONREF"
        packets = container.demux(stream)
        last = -1
        while True:
            try:
                packet = next(packets, None)
                if skip_until_pts is not None and packet is not None:
                    stamp = packet.pts if packet.pts is not None else packet.dts
                    if stamp is None or stamp == skip_until_pts:
                        context.skip_frame = "DEFAULT"
                        skip_until_pts = None
                decoded = context.decode(packet)
                # PyAV ends the demux with an empty flush packet, which drains the decoder.
                finished = packet is None or packet.size == 0
            except av.FFmpegError:
                # Damaged or cut-off data: keep what the decoder still holds, then stop.
                decoded, finished = self._drain(stream), True
            for frame in decoded:
                frame_index = self._index.index_of_pts(frame.pts) if frame.pts is not None else None
                # After a seek, an open-GOP decoder may emit leading pictures whose
                # references were skipped; they are not the frames a sequential decode gives.
                # A picture sharing an earlier one's timestamp (a broken remux) has no frame
                # number of its own: the index counts each timestamp once, so it is dropped.
                if frame_index is not None and frame_index >= max(keyframe, last + 1):
                    last = frame_index
                    yield frame_index, frame
            if finished:
                return

    @staticmethod
    def _drain(stream: av.video.stream.VideoStream) -> list[av.video.frame.VideoFrame]:
        try:
            return list(stream.codec_context.decode(None))
        except av.FFmpegError:
            return []


class FrameCache:
    """LRU of decoded frames keyed by frame index, bounded by their total size in bytes.

    Holding the decoder's reference-counted frames costs no copy; colour conversion
    happens only when a frame is actually requested.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._frames: OrderedDict[int, tuple[av.video.frame.VideoFrame, int]] = OrderedDict()
        self._bytes = 0

    def get(self, index: int) -> av.video.frame.VideoFrame | None:
        entry = self._frames.get(index)
        if entry is None:
            return None
        self._frames.move_to_end(index)
        return entry[0]

    def put(self, index: int, frame: av.video.frame.VideoFrame) -> None:
        if self._max_bytes <= 0 or index in self._frames:
            return
        size = sum(plane.buffer_size for plane in frame.planes)
        self._frames[index] = (frame, size)
        self._bytes += size
        while self._bytes > self._max_bytes and len(self._frames) > 1:
            _, (_, evicted) = self._frames.popitem(last=False)
            self._bytes -= evicted

    def clear(self) -> None:
        self._frames.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._frames)
