"""Carrying a source file's audio streams into an output file, interleaved with video.

Audio is stream-copied (identical packets, no quality loss) when the output container
accepts the codec, and otherwise decoded and re-encoded to AAC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.audio.stream
import av.container

from anonnet_studio.core.media._container import media_errors, open_input

# Codecs players reliably handle in each container (FFmpeg can mux more, e.g. PCM or
# Vorbis into MP4, but many players then play silence).
_PORTABLE_AUDIO = {
    "mp4": {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"},
    "mov": {"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s16be", "pcm_s24le"},
}
_AAC_BIT_RATE_PER_CHANNEL = 96_000
_LAYOUT_BY_CHANNELS = {1: "mono", 2: "stereo", 6: "5.1"}
# Audio is muxed this far ahead of the video so the muxer's interleaving queue stays short.
_LOOKAHEAD_S = 0.5


def can_stream_copy(output: av.container.OutputContainer, fmt: str, codec: str) -> bool:
    """Whether `codec` audio can be copied as-is into `output` (of format `fmt`)."""
    portable = _PORTABLE_AUDIO.get(fmt)
    if portable is not None and codec not in portable:
        return False
    return codec in output.supported_codecs


@dataclass
class _Track:
    source: av.audio.stream.AudioStream
    output: av.audio.stream.AudioStream
    copy: bool


class AudioCarrier:
    """Adds one output stream per source audio stream and feeds their packets in time."""

    def __init__(
        self, source_path: Path, output: av.container.OutputContainer, output_format: str
    ) -> None:
        self._path = source_path
        self._output = output
        self._input = open_input(source_path)
        self._tracks: dict[int, _Track] = {}
        with media_errors(source_path, "reading the audio streams"):
            for stream in self._input.streams.audio:
                if stream.codec_context is None:
                    continue  # no decoder and no parameters to copy: nothing usable
                self._tracks[stream.index] = self._add_track(stream, output_format)
        self._packets: Iterator[av.Packet] | None = None
        if self._tracks:
            sources = [track.source for track in self._tracks.values()]
            self._packets = self._input.demux(*sources)
        self._pending: av.Packet | None = None

    @property
    def copied_stream_count(self) -> int:
        return sum(track.copy for track in self._tracks.values())

    @property
    def reencoded_stream_count(self) -> int:
        return sum(not track.copy for track in self._tracks.values())

    def _add_track(self, stream: av.audio.stream.AudioStream, fmt: str) -> _Track:
        codec = stream.codec_context.name
        if can_stream_copy(self._output, fmt, codec):
            out = self._output.add_stream_from_template(stream)
            copy = True
        else:
            channels = stream.codec_context.channels or 2
            layout = _LAYOUT_BY_CHANNELS.get(channels, "stereo")
            rate = stream.codec_context.sample_rate or 48_000
            out = self._output.add_stream("aac", rate=rate, layout=layout)
            out.bit_rate = _AAC_BIT_RATE_PER_CHANNEL * min(channels, 6)
            copy = False
        # Only the language survives: handler names, creation times and vendor tags of
        # the source could identify the recording device or its owner.
        language = stream.metadata.get("language")
        out.metadata.clear()
        if language:
            out.metadata["language"] = language
        return _Track(source=stream, output=out, copy=copy)

    def write_until(self, time_s: float) -> None:
        """Mux every audio packet that starts before `time_s` (+ a short lookahead)."""
        while self._packets is not None:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None:
                self._packets = None
                break
            pts, time_base = packet.pts, packet.time_base
            timed = pts is not None and time_base is not None and packet.size
            if timed and float(pts * time_base) > time_s + _LOOKAHEAD_S:  # type: ignore[operator]
                self._pending = packet
                return
            self._mux(packet)

    def finish(self) -> None:
        """Mux the remaining audio and flush the AAC encoders."""
        self.write_until(float("inf"))
        for track in self._tracks.values():
            if not track.copy:
                self._output.mux(track.output.encode(None))

    def close(self) -> None:
        self._packets = None
        self._pending = None
        self._input.close()

    def _mux(self, packet: av.Packet) -> None:
        track = self._tracks.get(packet.stream_index)
        if track is None:
            return
        if track.copy:
            if packet.size == 0 or packet.dts is None:
                return  # flush packets carry no data; the muxer needs a dts
            packet.stream = track.output
            self._output.mux(packet)
            return
        try:
            frames = track.source.codec_context.decode(packet if packet.size else None)
        except av.InvalidDataError:
            return  # one damaged audio packet: skip it rather than lose the export
        for frame in frames:
            self._output.mux(track.output.encode(frame))
