"""The disguise methods on signals whose answer is known, and on the fixtures' speech."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from anonnet_studio.core.media.pcm import PcmAudio
from anonnet_studio.core.voice.disguise import disguise_channel, disguise_tracks
from anonnet_studio.core.voice.masking import BLEEP_HZ, apply_mute_ranges
from anonnet_studio.core.voice.mcadams import MCADAMS_RATE, mcadams
from anonnet_studio.core.voice.settings import MuteKind, MuteRange, VoiceMethod, VoiceSettings
from anonnet_studio.core.voice.world_shift import world_shift
from tests.core.voice.voice_media import CLEAN_SPEECH_FIXTURE, fixture_audio

RATE = MCADAMS_RATE


def _vowel(f0: float = 120.0, formants=(500.0, 1500.0), seconds: float = 1.0) -> np.ndarray:
    """A pulse train through two resonances: a synthetic vowel with known formants."""
    n = int(seconds * RATE)
    source = np.zeros(n)
    source[:: int(RATE / f0)] = 1.0
    poles = [0.97 * np.exp(2j * np.pi * f / RATE) for f in formants]
    denominator = np.real(np.poly(poles + [p.conjugate() for p in poles]))
    return lfilter([1.0], denominator, source) * 0.05


def _peak_hz(signal: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    freqs = np.fft.rfftfreq(signal.size, 1 / RATE)
    band = (freqs >= low) & (freqs <= high)
    # The envelope peak, not a harmonic's: smooth over a few harmonics first.
    smooth = np.convolve(spectrum, np.ones(301) / 301, mode="same")
    return float(freqs[band][np.argmax(smooth[band])])


def test_mcadams_with_alpha_one_gives_back_the_input() -> None:
    speech, rate = fixture_audio(CLEAN_SPEECH_FIXTURE)
    assert rate == RATE
    x = speech[0, : 2 * RATE].astype(np.float64)
    assert np.max(np.abs(mcadams(x, 1.0) - x)) < 1e-9


def test_mcadams_moves_the_first_formant_as_theta_to_the_alpha() -> None:
    vowel = _vowel()
    before = _peak_hz(vowel, 300, 700)
    after = _peak_hz(mcadams(vowel, 0.7), 300, 1100)
    expected = (2 * np.pi * 500 / RATE) ** 0.7 * RATE / (2 * np.pi)  # about 815 Hz
    assert abs(before - 500) < 40
    assert abs(after - expected) < 60, (before, after, expected)


def test_world_shift_raises_a_low_voice_by_the_asked_semitones() -> None:
    import pyworld

    vowel = _vowel(f0=110.0)
    shifted = world_shift(vowel, 6.0, 5.0)
    assert shifted.shape == vowel.shape
    f0, _ = pyworld.dio(shifted, RATE)
    measured = np.median(f0[f0 > 0])
    assert measured == pytest.approx(110.0 * 2 ** (6 / 12), rel=0.06)


@pytest.mark.parametrize("rate", [8_000, 22_050, 44_100, 96_000])
@pytest.mark.parametrize("method", [VoiceMethod.MCADAMS, VoiceMethod.PITCH])
def test_every_rate_keeps_its_length_and_level(rate: int, method: VoiceMethod) -> None:
    t = np.arange(int(0.7 * rate)) / rate
    signal = (0.2 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(
        np.float32
    )
    out = disguise_channel(signal, rate, VoiceSettings(method))
    assert out.shape == signal.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    rms_in, rms_out = np.sqrt(np.mean(signal**2)), np.sqrt(np.mean(out**2))
    assert rms_out == pytest.approx(rms_in, rel=0.05)


def test_silence_stays_silent_and_clipped_speech_does_not_clip_more() -> None:
    assert not np.any(disguise_channel(np.zeros(RATE, np.float32), RATE, VoiceSettings("pitch")))
    speech, _ = fixture_audio(CLEAN_SPEECH_FIXTURE)
    clipped = np.clip(speech[0, : 2 * RATE] * 20, -1, 1)  # hard-clipped, as a bad recording
    for method in (VoiceMethod.MCADAMS, VoiceMethod.PITCH):
        out = disguise_channel(clipped, RATE, VoiceSettings(method))
        assert np.max(np.abs(out)) <= 1.0
        assert np.all(np.isfinite(out))


def test_identical_channels_stay_identical_and_silent_ones_silent() -> None:
    speech, _ = fixture_audio(CLEAN_SPEECH_FIXTURE)
    mono = speech[0, :RATE]
    samples = np.stack([mono, mono, np.zeros_like(mono)])
    (out,) = disguise_tracks([PcmAudio(samples, RATE, "3.0")], VoiceSettings("mcadams"))
    assert np.array_equal(out.samples[0], out.samples[1])
    assert not np.array_equal(out.samples[0], mono)
    assert not np.any(out.samples[2])


def test_mute_and_bleep_are_exact_to_the_sample() -> None:
    rate = 48_000
    samples = np.full((2, rate), 0.5, np.float32)
    track = PcmAudio(samples, rate, "stereo", start_s=0.0)
    out = apply_mute_ranges(
        track, [MuteRange(0.25, 0.5), MuteRange(0.75, 0.875, MuteKind.BLEEP)]
    ).samples
    first, end = int(0.25 * rate), int(0.5 * rate)
    assert not np.any(out[:, first:end])
    assert np.all(out[:, first - 1] == 0.5) and np.all(out[:, end] == 0.5)
    bleep = out[0, int(0.75 * rate) : int(0.875 * rate)]
    assert np.all(out[:, int(0.75 * rate) - 1] == 0.5) and np.all(out[:, int(0.875 * rate)] == 0.5)
    freqs = np.fft.rfftfreq(bleep.size, 1 / rate)
    assert freqs[np.argmax(np.abs(np.fft.rfft(bleep)))] == pytest.approx(BLEEP_HZ, abs=10)
