"""Applying `VoiceSettings` to whole audio tracks: disguise every channel, then mute.

Both methods run on a 16 kHz working copy (McAdams' pole angles are defined at that rate,
and WORLD is fastest there), resampled back to the track's own rate and cut to its exact
length. The output therefore carries no content above 8 kHz: the speech band is kept, and
the high band (breath and fricative detail that also identifies a speaker) is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd

import numpy as np
from scipy.signal import resample_poly

from anonnet_studio.core.media.pcm import PcmAudio
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.core.voice.masking import apply_mute_ranges
from anonnet_studio.core.voice.mcadams import MCADAMS_RATE, mcadams
from anonnet_studio.core.voice.settings import VoiceMethod, VoiceSettings
from anonnet_studio.core.voice.world_shift import world_shift

VOICE_STAGE = "Disguising voices"
WORK_RATE = MCADAMS_RATE  # == WORLD_RATE: both methods run on one 16 kHz copy
_SILENT_PEAK = 1e-6  # about -120 dBFS: an empty channel (e.g. a silent LFE) stays empty
_PEAK_LIMIT = 0.999


def disguise_tracks(
    tracks: Sequence[PcmAudio],
    settings: VoiceSettings,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[PcmAudio]:
    """Every track disguised and muted by `settings`: same shape, rate, layout and timing."""
    total = sum(t.channels for t in tracks)
    done = 0
    out = []
    for track in tracks:
        samples = track.samples.copy()
        results: list[np.ndarray] = []
        for channel in range(track.channels):
            check_cancel(cancel)
            if on_progress is not None:
                on_progress(Progress(VOICE_STAGE, done, total, unit="channels"))
            source = track.samples[channel]
            same = (i for i in range(channel) if np.array_equal(track.samples[i], source))
            twin = next(same, None)
            if twin is not None:
                samples[channel] = results[twin]  # dual mono: disguise once, identically
            else:
                samples[channel] = disguise_channel(source, track.rate, settings, cancel=cancel)
            results.append(samples[channel])
            done += 1
        out.append(apply_mute_ranges(track.with_samples(samples), settings.mute_ranges))
    if on_progress is not None:
        on_progress(Progress(VOICE_STAGE, total, total, unit="channels"))
    return out


def disguise_channel(
    signal: np.ndarray, rate: int, settings: VoiceSettings, *, cancel: CancelToken | None = None
) -> np.ndarray:
    """One channel at `rate` disguised by `settings.method` (float32, same length)."""
    if settings.method is VoiceMethod.OFF:
        return np.asarray(signal, dtype=np.float32)
    x = np.asarray(signal, dtype=np.float64)
    if x.size == 0 or np.max(np.abs(x)) < _SILENT_PEAK:
        return np.zeros(x.shape, dtype=np.float32)
    work = _resample(x, rate, WORK_RATE)
    if settings.method is VoiceMethod.MCADAMS:
        disguised = mcadams(work, settings.mcadams_alpha, cancel=cancel)
    else:
        disguised = world_shift(
            work, settings.pitch_semitones, settings.formant_semitones, cancel=cancel
        )
    y = _fit_length(_resample(disguised, WORK_RATE, rate), x.size)
    return _match_level(y, x).astype(np.float32)


def _resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return x
    common = gcd(rate, target)
    return resample_poly(x, target // common, rate // common)


def _fit_length(y: np.ndarray, length: int) -> np.ndarray:
    if y.size >= length:
        return y[:length]
    return np.concatenate([y, np.zeros(length - y.size)])


def _match_level(y: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`y` at the loudness (RMS) of `reference`, scaled down if that would clip."""
    rms_y = float(np.sqrt(np.mean(y**2)))
    if rms_y == 0.0:
        return y
    y = y * (float(np.sqrt(np.mean(reference**2))) / rms_y)
    peak = float(np.max(np.abs(y)))
    return y * (_PEAK_LIMIT / peak) if peak > _PEAK_LIMIT else y
