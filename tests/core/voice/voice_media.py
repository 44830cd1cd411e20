"""Speech clips for the voice tests, built at test time from the real fixture footage.

Plain PyAV and scipy (not `anonnet_studio.core.media`), so the code under test does not
grade itself with its own output.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd
from pathlib import Path

import av
import numpy as np
from scipy.signal import resample_poly

from tests.conftest import fixture_video

# The fixture clips whose audio is speech or voice (the others are digital silence).
SPEECH_FIXTURES = ("lia_vox2.mp4", "lp_d11.mp4", "lp_s18.mp4")
CLEAN_SPEECH_FIXTURE = "lia_vox2.mp4"  # the only one without background music
_CHANNELS = {"mono": 1, "stereo": 2, "5.1": 6}


def fixture_audio(name: str) -> tuple[np.ndarray, int]:
    """(float32 (channels, n), rate) of a fixture clip's first audio stream, via PyAV."""
    with av.open(str(fixture_video(name))) as container:
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
        return np.concatenate(chunks, axis=1).astype(np.float32), stream.codec_context.sample_rate


def decode_pcm(path: Path) -> list[tuple[np.ndarray, int, int]]:
    """(samples (channels, n), rate, channels) of every audio stream of `path`."""
    out = []
    with av.open(str(path)) as container:
        for stream in container.streams.audio:
            resampler = av.AudioResampler(format="fltp", layout=stream.codec_context.layout)
            chunks = [
                converted.to_ndarray()
                for frame in container.decode(stream)
                for converted in resampler.resample(frame)
            ]
            samples = np.concatenate(chunks, axis=1)
            out.append((samples, stream.codec_context.sample_rate, samples.shape[0]))
    return out


def video_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def make_speech_clip(
    dest: Path,
    *,
    rate: int = 16_000,
    layout: str = "mono",
    seconds: float = 3.0,
    audio: np.ndarray | None = None,
    with_audio: bool = True,
) -> Path:
    """A short H.264 + AAC clip: lia_vox2's first frames with its speech (or `audio`, a
    mono float signal at `rate`) at `rate` Hz in `layout` (5.1: speech in the centre)."""
    speech, speech_rate = fixture_audio(CLEAN_SPEECH_FIXTURE)
    if audio is None:
        mono = speech.mean(axis=0).astype(np.float64)
        common = gcd(rate, speech_rate)
        audio = resample_poly(mono, rate // common, speech_rate // common)
    audio = np.asarray(audio, dtype=np.float64)[: int(seconds * rate)]
    channels = np.zeros((_CHANNELS[layout], audio.size), dtype=np.float32)
    if layout == "5.1":
        channels[2] = audio  # FC
        channels[0] = channels[1] = 0.3 * audio  # some spill into FL/FR; LFE stays empty
    else:
        channels[:] = audio
    footage = fixture_video(CLEAN_SPEECH_FIXTURE)
    with av.open(str(footage)) as source, av.open(str(dest), "w") as out:
        video_in = source.streams.video[0]
        video = out.add_stream("libx264", rate=25, options={"crf": "20", "preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = video_in.width, video_in.height, "yuv420p"
        audio_out = out.add_stream("aac", rate=rate, layout=layout) if with_audio else None
        frames = int(seconds * 25)
        for index, frame in enumerate(source.decode(video_in)):
            if index >= frames:
                break
            picture = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            picture.pts = index
            picture.time_base = Fraction(1, 25)
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
        if audio_out is not None:
            for start in range(0, channels.shape[1], 1024):
                chunk = np.ascontiguousarray(channels[:, start : start + 1024])
                piece = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                piece.sample_rate, piece.pts = rate, start
                piece.time_base = Fraction(1, rate)
                out.mux(audio_out.encode(piece))
            out.mux(audio_out.encode(None))
    return dest
