"""A few seconds of disguised voice around a point of the video, for the editor's preview.

Only a window of the first audio stream is decoded (by seeking), so a preview of an hour-long
interview costs as much as one of a short clip. The window is processed exactly as the
export processes the whole track (`disguise_tracks`, mute ranges included), but it is a
preview: its edges may sound slightly different from the same seconds of the export.
"""

from __future__ import annotations

import os

import av
import numpy as np

from anonnet_studio.core.media.pcm import PcmAudio
from anonnet_studio.core.progress import CancelToken, check_cancel
from anonnet_studio.core.voice.disguise import disguise_tracks
from anonnet_studio.core.voice.settings import VoiceSettings, VoiceSettingsError

PREVIEW_SECONDS = 4.0
_SEEK_MARGIN_S = 1.0  # seeking lands on a packet at or before the target


def decode_audio_window(
    path: str | os.PathLike[str], start_s: float, end_s: float, *, cancel: CancelToken | None = None
) -> PcmAudio:
    """Samples of the first audio stream from `start_s` to `end_s` (float32, planar)."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise VoiceSettingsError("The video has no audio stream, so there is no voice.")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        layout = stream.codec_context.layout.name
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        if start_s > _SEEK_MARGIN_S and stream.time_base is not None:
            target = int((start_s - _SEEK_MARGIN_S) / stream.time_base)
            container.seek(target, stream=stream, backward=True)
        chunks: list[np.ndarray] = []
        first_s: float | None = None
        for frame in container.decode(stream):
            check_cancel(cancel)
            if frame.pts is None or frame.time_base is None:
                continue
            begins = float(frame.pts * frame.time_base)
            if begins >= end_s:
                break
            if begins + frame.samples / rate <= start_s:
                continue
            for converted in resampler.resample(frame):
                first_s = begins if first_s is None else first_s
                chunks.append(converted.to_ndarray())
    if first_s is None:
        raise VoiceSettingsError(f"There is no audio between {start_s:.2f} and {end_s:.2f} s.")
    samples = np.concatenate(chunks, axis=1).astype(np.float32)
    skip = max(0, round((start_s - first_s) * rate))
    keep = max(1, round((end_s - max(start_s, first_s)) * rate))
    window = np.ascontiguousarray(samples[:, skip : skip + keep])
    return PcmAudio(window, rate, layout, start_s=max(start_s, first_s))


def preview_window(center_s: float, duration_s: float | None) -> tuple[float, float]:
    """`PREVIEW_SECONDS` around `center_s`, moved inside the clip where it would leave it."""
    start = max(0.0, center_s - PREVIEW_SECONDS / 2)
    end = start + PREVIEW_SECONDS
    if duration_s is not None and end > duration_s:
        end = duration_s
        start = max(0.0, end - PREVIEW_SECONDS)
    return start, end


def preview_voice(
    path: str | os.PathLike[str],
    settings: VoiceSettings,
    center_s: float,
    duration_s: float | None = None,
    *,
    cancel: CancelToken | None = None,
) -> tuple[PcmAudio, PcmAudio]:
    """(original, disguised) few seconds around `center_s`, same shape and timing."""
    start, end = preview_window(center_s, duration_s)
    original = decode_audio_window(path, start, end, cancel=cancel)
    (disguised,) = disguise_tracks([original], settings, cancel=cancel)
    return original, disguised
