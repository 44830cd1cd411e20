"""`probe(path)`: exact facts about a video file, or a typed error saying what is wrong."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.audio.stream
import av.container
import av.video.frame
import av.video.stream

from anonnet_studio.core.errors import CorruptMediaError, EmptyVideoError
from anonnet_studio.core.media._container import (
    check_readable,
    first_video_stream,
    media_errors,
    open_input,
    video_stream_at,
)
from anonnet_studio.core.media._index import (
    FrameIndex,
    decodable_only,
    is_variable_rate,
    scan_frames,
    stream_duration_ticks,
)
from anonnet_studio.core.media.info import AudioStreamInfo, MediaInfo, VideoStreamInfo


@dataclass(frozen=True, slots=True)
class _FirstFrame:
    width: int
    height: int
    rotation: int
    colorspace: int
    color_range: int
    pix_fmt: str


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe the file at `path`: container, exact frame count, fps, rotation, audio.

    Raises MediaNotFoundError, MediaUnreadableError, CorruptMediaError,
    NoVideoStreamError, UnsupportedCodecError or EmptyVideoError with a readable message.
    """
    info, _ = probe_with_index(path)
    return info


def probe_with_index(path: str | os.PathLike[str]) -> tuple[MediaInfo, FrameIndex]:
    """`probe()` plus the frame index it built (for the reader and writer)."""
    file = check_readable(path)
    with open_input(file) as container, media_errors(file, "reading the stream headers"):
        stream = first_video_stream(container, file)
        index, audio_seconds = scan_frames(container, stream, file.name)
        if index.frame_count == 0:
            if index.demux_failed:
                raise CorruptMediaError(
                    f"The video {file.name} is damaged: no frame could be read.",
                )
            raise EmptyVideoError(f"The video {file.name} contains no frames.")
        first = _decode_first_frame(file, stream.index)
        declared = int(stream.frames or 0)
        truncated = index.demux_failed or declared > index.packet_count
        if truncated:
            # Cut-off files lose more than their last packets: frames whose references
            # are gone do not decode. Count only what does (slow, but only on this path).
            with open_input(file) as again:
                index = decodable_only(again, video_stream_at(again, stream.index), index)
            if index.frame_count == 0:
                raise CorruptMediaError(f"The video {file.name} is damaged: no frame decodes.")
        video = _video_info(stream, index, first)
        audio = tuple(
            _audio_info(a, audio_seconds.get(a.index), prefer_measured=truncated)
            for a in container.streams.audio
            if a.codec_context
        )
        duration_s = _container_duration_s(container, video, audio, truncated)
        info = MediaInfo(
            path=file,
            container=container.format.name,
            size_bytes=file.stat().st_size,
            duration_s=duration_s,
            video=video,
            audio=audio,
            truncated=truncated,
        )
    return info, index


def rotation_from_display_angle(counterclockwise_deg: float) -> int:
    """Clockwise quarter turn (0/90/180/270) that makes a picture upright, from the
    display-matrix angle FFmpeg reports (counterclockwise, in [-180, 180])."""
    return round(-counterclockwise_deg / 90.0) % 4 * 90


def _decode_first_frame(file: Path, stream_index: int) -> _FirstFrame:
    # A separate container: the scan has consumed the first one, and reopening is more
    # reliable than seeking back to the start in every format.
    with open_input(file) as container, media_errors(file, "decoding the first frame"):
        stream = video_stream_at(container, stream_index)
        frame = _first_decodable_frame(container, stream)
        if frame is None:
            raise CorruptMediaError(
                f"The video {file.name} is damaged: none of its frames can be decoded.",
                hint="The file may be incomplete; try the original.",
            )
        rotation = rotation_from_display_angle(frame.rotation)
        legacy_tag = stream.metadata.get("rotate")
        if rotation == 0 and legacy_tag and legacy_tag.lstrip("-").isdigit():
            rotation = round(int(legacy_tag) / 90.0) % 4 * 90  # legacy tag: clockwise
        return _FirstFrame(
            width=frame.width,
            height=frame.height,
            rotation=rotation,
            colorspace=int(frame.colorspace),
            color_range=int(frame.color_range),
            pix_fmt=frame.format.name,
        )


def _first_decodable_frame(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> av.video.frame.VideoFrame | None:
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                return frame  # type: ignore[return-value]
    except av.InvalidDataError:
        return None
    return None


def _video_info(
    stream: av.video.stream.VideoStream, index: FrameIndex, first: _FirstFrame
) -> VideoStreamInfo:
    time_base = stream.time_base or Fraction(1, 90000)
    duration_ticks = stream_duration_ticks(index, stream.average_rate or Fraction(0), time_base)
    fps = stream.average_rate
    if not fps:
        seconds = duration_ticks * time_base
        fps = Fraction(index.frame_count) / seconds if seconds else Fraction(0)
        fps = fps.limit_denominator(1001 * 1000)
    swap = first.rotation in (90, 270)
    return VideoStreamInfo(
        index=stream.index,
        codec=stream.codec_context.name,
        coded_width=first.width,
        coded_height=first.height,
        width=first.height if swap else first.width,
        height=first.width if swap else first.height,
        pix_fmt=first.pix_fmt,
        fps=Fraction(fps),
        time_base=Fraction(time_base),
        frame_count=index.frame_count,
        is_vfr=is_variable_rate(index.pts),
        rotation=first.rotation,
        start_pts=int(index.pts[0]),
        duration_s=float(duration_ticks * time_base),
        colorspace=first.colorspace,
        color_range=first.color_range,
    )


def _audio_info(
    stream: av.audio.stream.AudioStream, measured_s: float | None, *, prefer_measured: bool
) -> AudioStreamInfo:
    # The header's duration excludes encoder priming/padding trimmed by the edit list, so
    # it is the playable length; the measured packet span is only used when the header
    # overstates what a truncated file holds, or is missing.
    context = stream.codec_context
    header_s = None
    if stream.duration is not None and stream.time_base is not None:
        header_s = float(stream.duration * stream.time_base)
    if header_s is None or (prefer_measured and measured_s is not None):
        duration_s = measured_s or 0.0
    else:
        duration_s = header_s
    return AudioStreamInfo(
        index=stream.index,
        codec=context.name,
        sample_rate=int(context.sample_rate or 0),
        channels=int(context.channels or 0),
        duration_s=duration_s,
    )


def _container_duration_s(
    container: av.container.InputContainer,
    video: VideoStreamInfo,
    audio: tuple[AudioStreamInfo, ...],
    truncated: bool,
) -> float:
    # A truncated file's header still announces the full length; report what is there.
    if truncated or container.duration is None:
        return video.duration_s
    return float(container.duration) / av.time_base
