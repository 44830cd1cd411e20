"""Frame index of a video stream built by demuxing packets (no decoding).

One packet carries one frame for every codec PyAV writes into MP4/MOV/MKV, so the sorted
packet timestamps are the presentation timestamps of every frame: this gives an exact
frame count, the VFR flag, and the pts → frame-index map that random access relies on.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
import av.container
import av.video.stream
import numpy as np

from anonnet_studio.core.errors import UnsupportedCodecError


@dataclass(frozen=True, slots=True, eq=False)
class FrameIndex:
    """Presentation timestamps of every frame and which frames are keyframes."""

    pts: np.ndarray  # int64, strictly increasing: pts[i] is frame i
    keyframes: np.ndarray  # int64 frame indices of keyframes (seek points), increasing
    last_duration: int  # duration of the last frame in time_base units (0 if unknown)
    packet_count: int  # every non-empty packet, including ones the decoder drops
    demux_failed: bool  # the demuxer stopped on damaged data before the end

    @property
    def frame_count(self) -> int:
        return int(self.pts.size)

    def index_of_pts(self, pts: int) -> int | None:
        """Frame index with exactly this pts, or None for a pts not in the stream."""
        position = int(np.searchsorted(self.pts, pts))
        if position < self.pts.size and int(self.pts[position]) == pts:
            return position
        return None

    def keyframe_at_or_before(self, index: int) -> int:
        """Index of the last keyframe at or before frame `index` (0 when there is none)."""
        position = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        return int(self.keyframes[position]) if position >= 0 else 0

    def keyframe_between(self, after: int, up_to: int) -> bool:
        """Whether a keyframe lies in the frame-index range (after, up_to]."""
        lo = int(np.searchsorted(self.keyframes, after, side="right"))
        hi = int(np.searchsorted(self.keyframes, up_to, side="right"))
        return hi > lo


def scan_frames(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, name: str
) -> tuple[FrameIndex, dict[int, float]]:
    """Demux every packet of the file, index the frames of `stream` and measure audio.

    Returns the frame index and, per audio stream index, the seconds its packets span
    (measured, so a truncated file reports what is really there). Damaged data ends the
    scan early (`demux_failed`) instead of raising, so a truncated file still yields the
    frames before the damage.
    """
    audio_streams = list(container.streams.audio)
    audio_start: dict[int, int] = {}
    audio_end: dict[int, int] = {}
    pts_list: list[int] = []
    key_pts: list[int] = []
    durations: dict[int, int] = {}
    demux_failed = False
    packet_count = 0
    try:
        for packet in container.demux(stream, *audio_streams):
            if packet.size == 0:
                continue  # the flush packet at the end
            if packet.stream_index != stream.index:
                _extend_span(packet, audio_start, audio_end)
                continue
            packet_count += 1
            if packet.is_discard:
                continue  # a frame the decoder drops (cut by an edit list)
            packet_pts = packet.pts if packet.pts is not None else packet.dts
            if packet_pts is None:
                raise UnsupportedCodecError(
                    f"The video frames in {name} carry no timestamps, so frames cannot be "
                    "located exactly.",
                    hint="Re-save the file as MP4 or MKV with another tool first.",
                )
            pts_list.append(packet_pts)
            if packet.is_keyframe:
                key_pts.append(packet_pts)
            if packet.duration:
                durations[packet_pts] = int(packet.duration)
    except av.FFmpegError:
        demux_failed = True
    pts = np.unique(np.asarray(pts_list, dtype=np.int64))  # sorted = presentation order
    keyframes = np.unique(np.searchsorted(pts, np.asarray(key_pts, dtype=np.int64)))
    if keyframes.size == 0 or (pts.size and keyframes[0] != 0):
        # Decoding can always start at the first frame; make it a seek point.
        keyframes = np.unique(np.concatenate([[0], keyframes])).astype(np.int64)
    last_duration = durations.get(int(pts[-1]), 0) if pts.size else 0
    index = FrameIndex(
        pts=pts,
        keyframes=keyframes.astype(np.int64),
        last_duration=last_duration,
        packet_count=packet_count,
        demux_failed=demux_failed,
    )
    audio_seconds = {
        a.index: float((audio_end[a.index] - audio_start[a.index]) * a.time_base)
        for a in audio_streams
        if a.index in audio_start and a.time_base is not None
    }
    return index, audio_seconds


def _extend_span(packet: av.Packet, start: dict[int, int], end: dict[int, int]) -> None:
    if packet.pts is None:
        return
    key = packet.stream_index
    start[key] = min(start.get(key, packet.pts), packet.pts)
    end[key] = max(end.get(key, packet.pts), packet.pts + int(packet.duration or 0))


def decodable_only(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, index: FrameIndex
) -> FrameIndex:
    """`index` reduced to the frames that really decode (for truncated or damaged files,
    where frames whose references were cut off are dropped by the decoder)."""
    decoded: list[int] = []
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                if frame.pts is not None:
                    decoded.append(frame.pts)
    except av.FFmpegError:
        pass  # keep what decoded before the damage
    pts = np.intersect1d(index.pts, np.asarray(decoded, dtype=np.int64))
    key_pts = index.pts[index.keyframes]
    keyframes = np.searchsorted(pts, np.intersect1d(key_pts, pts)).astype(np.int64)
    if pts.size and (keyframes.size == 0 or keyframes[0] != 0):
        keyframes = np.unique(np.concatenate([[0], keyframes])).astype(np.int64)
    return FrameIndex(
        pts=pts,
        keyframes=keyframes,
        last_duration=index.last_duration if pts.size and pts[-1] == index.pts[-1] else 0,
        packet_count=index.packet_count,
        demux_failed=index.demux_failed,
    )


def is_variable_rate(pts: np.ndarray) -> bool:
    """True when frame durations differ by more than timestamp rounding.

    One tick of jitter is rounding (29.97 fps in a 1/1000 time base alternates 33/34);
    anything more than that and 0.5 % of a frame is a real change of rate.
    """
    if pts.size < 3:
        return False
    deltas = np.diff(pts)
    typical = float(np.median(deltas))
    tolerance = max(1.0, 0.005 * typical)
    return bool(np.max(np.abs(deltas - typical)) > tolerance)


def stream_duration_ticks(index: FrameIndex, fps: Fraction, time_base: Fraction) -> int:
    """First frame start to last frame end, in time_base units."""
    if index.frame_count == 0:
        return 0
    last = index.last_duration
    if last <= 0:
        if index.frame_count >= 2:
            last = int(np.median(np.diff(index.pts)))
        elif fps and time_base:
            last = round(1 / (fps * time_base))
    return int(index.pts[-1] - index.pts[0]) + max(0, last)
