"""Encoding replacement audio tracks (`PcmAudio`) to AAC, interleaved with the video.

The counterpart of `AudioCarrier` for audio that was processed (disguised, muted) rather
than copied: same interface, so `VideoWriter` feeds either one the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import av.audio.stream
import av.container
import numpy as np

from anonnet_studio.core.errors import OutputError
from anonnet_studio.core.media.pcm import MAX_PROCESSED_CHANNELS, PcmAudio

_AAC_BIT_RATE_PER_CHANNEL = 96_000
# One AAC frame; feeding whole frames keeps the encoder's padding to the very end.
_FRAME_SAMPLES = 1024
_LOOKAHEAD_S = 0.5  # as AudioCarrier: keeps the muxer's interleaving queue short


@dataclass
class _EncodedTrack:
    pcm: PcmAudio
    stream: av.audio.stream.AudioStream
    # Samples to prepend (silence, before the first pts) so the track is a whole number of
    # AAC frames: players decode whole frames, and the MP4 edit list trims only the start,
    # so without this a decoder would return up to 1023 samples more than the source had.
    lead: int
    next_sample: int = 0
    flushed: bool = False


class PcmAudioEncoder:
    """One AAC output stream per `PcmAudio`, fed up to the video time as frames are written."""

    def __init__(self, output: av.container.OutputContainer, tracks: Sequence[PcmAudio]) -> None:
        self._output = output
        self._tracks = [
            _EncodedTrack(pcm, self._add_stream(pcm), lead=-pcm.sample_count % _FRAME_SAMPLES)
            for pcm in tracks
        ]

    @property
    def copied_stream_count(self) -> int:
        return 0

    @property
    def reencoded_stream_count(self) -> int:
        return len(self._tracks)

    def _add_stream(self, pcm: PcmAudio) -> av.audio.stream.AudioStream:
        if pcm.channels > MAX_PROCESSED_CHANNELS:
            raise OutputError(
                f"Cannot re-encode {pcm.channels}-channel audio ({pcm.layout}): processed "
                f"audio is limited to {MAX_PROCESSED_CHANNELS} channels (5.1).",
                hint="Export without --voice/--mute to keep the audio as it is.",
            )
        try:
            stream = self._output.add_stream("aac", rate=pcm.rate, layout=pcm.layout)
        except (av.FFmpegError, ValueError) as exc:
            raise OutputError(
                f"Cannot encode {pcm.channels}-channel audio ({pcm.layout}) at {pcm.rate} Hz "
                f"to AAC: {exc}."
            ) from exc
        stream.bit_rate = _AAC_BIT_RATE_PER_CHANNEL * min(pcm.channels, 6)
        stream.time_base = Fraction(1, pcm.rate)
        # No handler names or vendor tags; only the language, as for copied audio.
        stream.metadata.clear()
        if pcm.language:
            stream.metadata["language"] = pcm.language
        return stream

    def write_until(self, time_s: float) -> None:
        """Encode and mux every track's samples up to `time_s` (+ a short lookahead)."""
        for track in self._tracks:
            pcm = track.pcm
            limit = (time_s + _LOOKAHEAD_S - pcm.start_s) * pcm.rate
            total = pcm.sample_count + track.lead
            end = total if limit + track.lead >= total else max(0, int(limit) + track.lead)
            while track.next_sample + _FRAME_SAMPLES <= end:
                self._encode(track, track.next_sample)
                track.next_sample += _FRAME_SAMPLES

    def finish(self) -> None:
        """Encode what is left and flush the encoders."""
        self.write_until(float("inf"))
        for track in self._tracks:
            if not track.flushed:
                self._output.mux(track.stream.encode(None))
                track.flushed = True

    def close(self) -> None:
        """Nothing to release: the samples belong to the caller."""

    def _encode(self, track: _EncodedTrack, start: int) -> None:
        """Encode one frame starting at `start` (counted from the first lead sample)."""
        pcm = track.pcm
        chunk = np.zeros((pcm.channels, _FRAME_SAMPLES), dtype=np.float32)
        first = start - track.lead  # index into pcm.samples (negative inside the lead)
        take = slice(max(first, 0), first + _FRAME_SAMPLES)
        chunk[:, take.start - first :] = pcm.samples[:, take]
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=pcm.layout)
        frame.sample_rate = pcm.rate
        frame.time_base = Fraction(1, pcm.rate)
        # A negative first pts makes the muxer's edit list skip the lead on playback.
        frame.pts = round(pcm.start_s * pcm.rate) + first
        self._output.mux(track.stream.encode(frame))
