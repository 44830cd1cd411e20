"""Pitch-and-formant shift through the WORLD vocoder (`pyworld`).

WORLD splits speech into its pitch contour, spectral envelope and aperiodicity; moving
the pitch and stretching the envelope along the frequency axis (which moves the formants)
changes the two things listeners and speaker-verification models rely on most, then the
vocoder resynthesises. The shift goes up for a low voice and down for a high one, so a
man sounds higher and a woman or child lower, and the result stays in a human range.

Long tracks are processed in chunks that overlap and are cross-faded, so memory stays
bounded and a cancel is honoured between chunks.
"""

from __future__ import annotations

import numpy as np
import pyworld

from anonnet_studio.core.progress import CancelToken, check_cancel

WORLD_RATE = 16_000
_FRAME_PERIOD_MS = 5.0
_F0_FLOOR, _F0_CEIL = 60.0, 500.0
# A median pitch below this is treated as a low voice (most men), which is shifted up.
_LOW_VOICE_HZ = 165.0
_CHUNK_S = 20.0
_OVERLAP_S = 0.25


def world_shift(
    signal: np.ndarray,
    pitch_semitones: float,
    formant_semitones: float,
    *,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Shift 16 kHz mono `signal`; returns float64 of the same length."""
    x = np.ascontiguousarray(signal, dtype=np.float64)
    if len(x) < WORLD_RATE // 10:
        return np.zeros_like(x)  # under 100 ms: too short to analyse, never left as is
    direction = _shift_direction(x)
    pitch_ratio = 2.0 ** (direction * pitch_semitones / 12.0)
    formant_ratio = 2.0 ** (direction * formant_semitones / 12.0)
    chunk, overlap = int(_CHUNK_S * WORLD_RATE), int(_OVERLAP_S * WORLD_RATE)
    if len(x) <= chunk + overlap:
        return _shift(x, pitch_ratio, formant_ratio)
    out = np.zeros_like(x)
    fade_in = np.linspace(0.0, 1.0, overlap)
    for start in range(0, len(x), chunk):
        check_cancel(cancel)
        stop = min(len(x), start + chunk + overlap)
        piece = _shift(x[start:stop], pitch_ratio, formant_ratio)
        if start > 0:
            head = min(overlap, len(piece))
            piece[:head] *= fade_in[:head]
            out[start : start + head] *= 1.0 - fade_in[:head]
        out[start:stop] += piece
        if stop == len(x):
            break
    return out


def _shift_direction(x: np.ndarray) -> float:
    """+1 (up) for a low voice, -1 (down) for a high one; up when nothing is voiced."""
    f0, _ = pyworld.dio(x, WORLD_RATE, f0_floor=_F0_FLOOR, f0_ceil=_F0_CEIL)
    voiced = f0[f0 > 0]
    return 1.0 if voiced.size == 0 or np.median(voiced) < _LOW_VOICE_HZ else -1.0


def _shift(x: np.ndarray, pitch_ratio: float, formant_ratio: float) -> np.ndarray:
    f0, times = pyworld.dio(
        x, WORLD_RATE, f0_floor=_F0_FLOOR, f0_ceil=_F0_CEIL, frame_period=_FRAME_PERIOD_MS
    )
    f0 = pyworld.stonemask(x, f0, times, WORLD_RATE)
    envelope = pyworld.cheaptrick(x, f0, times, WORLD_RATE)
    aperiodicity = pyworld.d4c(x, f0, times, WORLD_RATE)
    out = pyworld.synthesize(
        f0 * pitch_ratio,
        _warp_frequency(envelope, formant_ratio),
        _warp_frequency(aperiodicity, formant_ratio),
        WORLD_RATE,
        _FRAME_PERIOD_MS,
    )
    # WORLD returns whole frames; cut or pad to the input's exact length.
    if len(out) >= len(x):
        return np.ascontiguousarray(out[: len(x)])
    return np.concatenate([out, np.zeros(len(x) - len(out))])


def _warp_frequency(spectra: np.ndarray, ratio: float) -> np.ndarray:
    """Each frame's spectrum stretched by `ratio` along frequency (formants move with it)."""
    bins = spectra.shape[1]
    source = np.arange(bins) / ratio  # new bin k takes the old value at k / ratio
    low = np.clip(np.floor(source).astype(int), 0, bins - 1)
    high = np.clip(low + 1, 0, bins - 1)
    weight = np.clip(source - low, 0.0, 1.0)
    warped = spectra[:, low] * (1.0 - weight) + spectra[:, high] * weight
    return np.ascontiguousarray(np.maximum(warped, 1e-16))
