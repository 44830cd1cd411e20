"""Whole audio tracks as plain sample arrays: decoding a file's audio streams to PCM.

`PcmAudio` is what an audio-processing step (voice disguise, muting) receives and returns,
and what `VideoWriter(audio=...)` encodes instead of copying the source's audio. Samples
are placed by their timestamps, so a gap in the source stays a gap of the same length
and the track stays in sync with the video to the sample.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.audio.stream
import numpy as np

from anonnet_studio.core.media._container import check_readable, media_errors, open_input

# Up to 5.1. PyAV 18 mishandles 8-channel planar frames (an index error building them,
# a crash when filled by hand), so 7.1 is refused up front rather than half-written.
MAX_PROCESSED_CHANNELS = 6
# Planar float is what FFmpeg's AAC encoder takes and what every decoder can be resampled to.
_PCM_FORMAT = "fltp"


@dataclass(frozen=True, slots=True, eq=False)
class PcmAudio:
    """One audio track: `samples` is float32 (channels, n) in [-1, 1] at `rate` Hz.

    `layout` is FFmpeg's channel layout name ("mono", "stereo", "5.1", ...); `start_s` is
    the presentation time of the first sample; `stream_index` is the source stream.
    """

    samples: np.ndarray
    rate: int
    layout: str
    start_s: float = 0.0
    stream_index: int = 0
    language: str | None = None

    def __post_init__(self) -> None:
        if self.samples.ndim != 2 or self.samples.dtype != np.float32:
            raise ValueError(
                f"samples must be float32 (channels, n), got {self.samples.dtype} "
                f"{self.samples.shape}"
            )
        if self.rate <= 0:
            raise ValueError(f"sample rate must be positive, got {self.rate}")

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def sample_count(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.sample_count / self.rate

    def with_samples(self, samples: np.ndarray) -> PcmAudio:
        """The same track (rate, layout, timing) holding other samples of the same shape."""
        if samples.shape != self.samples.shape:
            raise ValueError(f"expected shape {self.samples.shape}, got {samples.shape}")
        return PcmAudio(
            np.ascontiguousarray(samples, dtype=np.float32),
            self.rate,
            self.layout,
            self.start_s,
            self.stream_index,
            self.language,
        )


def decode_audio_tracks(path: str | os.PathLike[str]) -> list[PcmAudio]:
    """Every decodable audio stream of `path`, fully decoded (empty list: no audio).

    Memory: 4 bytes per sample per channel (48 kHz stereo: about 1.4 GB per hour).
    """
    source = check_readable(path)
    container = open_input(source)
    try:
        with media_errors(source, "decoding the audio"):
            streams = [s for s in container.streams.audio if s.codec_context is not None]
            return [track for s in streams if (track := _decode_stream(source, s)) is not None]
    finally:
        container.close()


def _decode_stream(source: Path, stream: av.audio.stream.AudioStream) -> PcmAudio | None:
    # A fresh container per stream: demuxing one stream at a time keeps memory to one track.
    container = open_input(source)
    try:
        own = container.streams[stream.index]
        # Any: PyAV's stubs type a stream's codec context as the generic base class.
        codec: Any = own.codec_context
        rate = codec.sample_rate
        layout = codec.layout.name
        resampler = av.AudioResampler(format=_PCM_FORMAT, layout=layout, rate=rate)
        pieces: list[tuple[int | None, np.ndarray]] = []
        for packet in container.demux(own):
            try:
                frames = codec.decode(packet if packet.size else None)
            except av.InvalidDataError:
                continue  # one damaged packet: its samples stay silent, the rest keeps sync
            for frame in frames:
                position = _sample_position(frame, rate)
                for converted in resampler.resample(frame):
                    pieces.append((position, converted.to_ndarray()))
                    position = None  # a resampler split continues where the last piece ended
        for converted in resampler.resample(None):
            pieces.append((None, converted.to_ndarray()))
        language = own.metadata.get("language")
    finally:
        container.close()
    if not pieces:
        return None
    return _assemble(pieces, rate, layout, stream.index, language)


def _sample_position(frame: av.AudioFrame, rate: int) -> int | None:
    if frame.pts is None or frame.time_base is None:
        return None
    return round(float(frame.pts * frame.time_base) * rate)


def _assemble(
    pieces: list[tuple[int | None, np.ndarray]],
    rate: int,
    layout: str,
    stream_index: int,
    language: str | None,
) -> PcmAudio:
    """Place each piece at its timestamp; untimed pieces follow the previous one."""
    first = next((p for p, _ in pieces if p is not None), 0)
    placed: list[tuple[int, np.ndarray]] = []
    cursor = 0
    for position, data in pieces:
        offset = cursor if position is None else position - first
        if abs(offset - cursor) <= 2:
            offset = cursor  # timestamps rounded to the sample: no gap, no overlap
        if offset < 0:
            data, offset = data[:, -offset:], 0
        placed.append((offset, data))
        cursor = offset + data.shape[1]
    channels = pieces[0][1].shape[0]
    total = max(offset + data.shape[1] for offset, data in placed)
    samples = np.zeros((channels, total), dtype=np.float32)
    for offset, data in placed:
        samples[:, offset : offset + data.shape[1]] = data
    return PcmAudio(samples, rate, layout, first / rate, stream_index, language)
