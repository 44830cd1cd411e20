"""Muting and bleeping time ranges of a track, to the sample."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from anonnet_studio.core.media.pcm import PcmAudio
from anonnet_studio.core.voice.settings import MuteKind, MuteRange

BLEEP_HZ = 1000.0
BLEEP_LEVEL = 0.25  # -12 dBFS: clearly a bleep, not painful
_BLEEP_FADE_S = 0.005  # the tone's own edges are shaped so it does not click


def sample_span(pcm: PcmAudio, item: MuteRange) -> tuple[int, int]:
    """[first, end) sample indices of `item` in `pcm` (times count from the video's 0)."""
    first = round((item.start_s - pcm.start_s) * pcm.rate)
    end = round((item.end_s - pcm.start_s) * pcm.rate)
    return max(0, first), min(pcm.sample_count, max(0, end))


def apply_mute_ranges(pcm: PcmAudio, ranges: Iterable[MuteRange]) -> PcmAudio:
    """`pcm` with every range replaced by silence or a bleep on every channel."""
    samples = pcm.samples.copy()
    for item in ranges:
        first, end = sample_span(pcm, item)
        if end <= first:
            continue
        if item.kind is MuteKind.BLEEP:
            samples[:, first:end] = _bleep(end - first, pcm.rate)
        else:
            samples[:, first:end] = 0.0
    return pcm.with_samples(samples)


def _bleep(length: int, rate: int) -> np.ndarray:
    t = np.arange(length) / rate
    tone = BLEEP_LEVEL * np.sin(2 * np.pi * BLEEP_HZ * t)
    fade = min(length // 2, int(_BLEEP_FADE_S * rate))
    if fade > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
        tone[:fade] *= ramp
        tone[-fade:] *= ramp[::-1]
    return tone.astype(np.float32)
