"""Speaker embeddings from the GE2E encoder that ships inside the `resemblyzer` wheel.

Our own small loader of its weights (a 3-layer LSTM over 40 mel bands, then a linear
layer, ReLU and L2 norm), so neither resemblyzer's code nor its dependencies (webrtcvad,
which needs `pkg_resources`, and librosa) are imported. The front end follows the
network's training setup: 16 kHz, 25 ms / 10 ms mel power spectrogram (Slaney mel scale
and area normalisation), 1.6 s partial utterances at 1.3 per second, averaged. Long
pauses are shortened by an energy gate instead of webrtcvad, so absolute similarities
may differ slightly from resemblyzer's; our threshold is calibrated on this pipeline
(`scripts/calibrate_voice_threshold.py`).
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from anonnet_studio.core.errors import ModelError

MODEL_NAME = "resemblyzer-ge2e"
WEIGHTS_FILE = "pretrained.pt"
ENCODER_RATE = 16_000
_N_FFT, _HOP, _N_MELS = 400, 160, 40
_HIDDEN, _LAYERS = 256, 3
_PARTIAL_FRAMES = 160  # 1.6 s
_PARTIALS_PER_S = 1.3
_MIN_COVERAGE = 0.75
_TARGET_DBFS = -30.0  # quiet speech is raised to this level (never lowered)
_GATE_WINDOW = 480  # 30 ms
_GATE_DB_BELOW_PEAK = 45.0
_GATE_MAX_PAUSE = 6  # windows of silence kept around speech (180 ms)


class SpeakerEncoder:
    """`embed(signal, rate)` -> unit-length 256-d voice embedding (float32)."""

    def __init__(self, weights: Path) -> None:
        import torch  # imported here: only the audit's voice check needs it

        try:
            checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
            state = checkpoint["model_state"]
        except (OSError, RuntimeError, KeyError, TypeError) as exc:
            raise ModelError(f"Cannot load the speaker encoder {weights}: {exc}") from exc
        self._torch = torch
        self._lstm = torch.nn.LSTM(_N_MELS, _HIDDEN, _LAYERS, batch_first=True)
        self._linear = torch.nn.Linear(_HIDDEN, _HIDDEN)
        lstm_state = {k.removeprefix("lstm."): v for k, v in state.items() if k.startswith("lstm.")}
        linear_state = {
            k.removeprefix("linear."): v for k, v in state.items() if k.startswith("linear.")
        }
        try:
            self._lstm.load_state_dict(lstm_state)
            self._linear.load_state_dict(linear_state)
        except RuntimeError as exc:
            raise ModelError(f"{weights} is not the GE2E speaker encoder: {exc}") from exc
        self._lstm.eval()
        self._linear.eval()
        self._filters = mel_filterbank(ENCODER_RATE, _N_FFT, _N_MELS)

    def embed(self, signal: np.ndarray, rate: int) -> np.ndarray:
        """Embedding of mono `signal` at `rate` (any length; silence gives a zero vector)."""
        wav = prepare_speech(signal, rate)
        if wav.size == 0:
            return np.zeros(_HIDDEN, dtype=np.float32)
        frames, starts = _partials(wav.size)
        needed = starts[-1] * _HOP + _PARTIAL_FRAMES * _HOP
        wav = np.pad(wav, (0, max(0, needed - wav.size)))
        mel = mel_spectrogram(wav, self._filters)
        batch = np.stack([mel[s : s + frames] for s in starts]).astype(np.float32)
        torch = self._torch
        with torch.inference_mode():
            _, (hidden, _) = self._lstm(torch.from_numpy(batch))
            raw = torch.relu(self._linear(hidden[-1]))
            partial = raw / torch.linalg.norm(raw, dim=1, keepdim=True).clamp_min(1e-12)
        mean = partial.numpy().mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return (mean / norm if norm > 0 else mean).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / denominator) if denominator > 0 else 0.0


def prepare_speech(signal: np.ndarray, rate: int) -> np.ndarray:
    """16 kHz float64, raised to -30 dBFS if quieter, with long pauses shortened."""
    x = np.asarray(signal, dtype=np.float64)
    if rate != ENCODER_RATE:
        common = gcd(rate, ENCODER_RATE)
        x = resample_poly(x, ENCODER_RATE // common, rate // common)
    rms = float(np.sqrt(np.mean(x**2))) if x.size else 0.0
    if rms <= 1e-9:
        return np.zeros(0)
    gain_db = _TARGET_DBFS - 20 * np.log10(rms)
    if gain_db > 0:
        x = x * 10 ** (gain_db / 20)
    return _drop_long_pauses(x)


def _drop_long_pauses(x: np.ndarray) -> np.ndarray:
    windows = x.size // _GATE_WINDOW
    if windows == 0:
        return x
    trimmed = x[: windows * _GATE_WINDOW]
    energy = np.mean(trimmed.reshape(windows, _GATE_WINDOW) ** 2, axis=1)
    level = 10 * np.log10(energy + 1e-20)
    voiced = level > level.max() - _GATE_DB_BELOW_PEAK
    # Keep up to _GATE_MAX_PAUSE windows on either side of speech, as pauses are natural.
    # Padded and "valid": one answer per window even when the clip is shorter than the
    # kernel ("same" returns the longer of the two, and a 0.3 s clip crashed here).
    kernel = np.ones(2 * _GATE_MAX_PAUSE + 1)
    padded = np.pad(voiced.astype(float), _GATE_MAX_PAUSE)
    keep = np.convolve(padded, kernel, mode="valid") > 0
    return trimmed.reshape(windows, _GATE_WINDOW)[keep].reshape(-1)


def _partials(n_samples: int) -> tuple[int, list[int]]:
    """Frame count per partial and the first frame of each, as the encoder was trained."""
    n_frames = int(np.ceil((n_samples + 1) / _HOP))
    step = round(ENCODER_RATE / _PARTIALS_PER_S / _HOP)
    starts = list(range(0, max(1, n_frames - _PARTIAL_FRAMES + step + 1), step))
    last = starts[-1] * _HOP
    coverage = (n_samples - last) / (_PARTIAL_FRAMES * _HOP)
    if coverage < _MIN_COVERAGE and len(starts) > 1:
        starts = starts[:-1]
    return _PARTIAL_FRAMES, starts


def mel_spectrogram(wav: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """(frames, mels) mel power spectrogram; frames centred, zero-padded at the ends."""
    padded = np.pad(wav, (_N_FFT // 2, _N_FFT // 2))
    count = 1 + (padded.size - _N_FFT) // _HOP
    index = np.arange(_N_FFT)[None, :] + _HOP * np.arange(count)[:, None]
    window = np.hanning(_N_FFT + 1)[:-1]  # periodic Hann
    power = np.abs(np.fft.rfft(padded[index] * window, axis=1)) ** 2
    return power @ filters.T


@lru_cache(maxsize=4)
def mel_filterbank(rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters on the Slaney mel scale, each of unit
    area (the convention the encoder was trained with)."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(rate / 2), n_mels + 2))
    bins = np.linspace(0, rate / 2, n_fft // 2 + 1)
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


_F_SP = 200.0 / 3  # Slaney: linear below 1 kHz, logarithmic above
_LOG_START_HZ = 1000.0
_LOG_START_MEL = _LOG_START_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / _F_SP
    log_part = _LOG_START_MEL + np.log(np.maximum(hz, 1e-10) / _LOG_START_HZ) / _LOG_STEP
    return np.where(hz >= _LOG_START_HZ, log_part, mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    hz = mel * _F_SP
    log_part = _LOG_START_HZ * np.exp(_LOG_STEP * (mel - _LOG_START_MEL))
    return np.where(mel >= _LOG_START_MEL, log_part, hz)


def load_speaker_encoder(model_dir: Path) -> SpeakerEncoder:
    """The encoder from a folder holding `pretrained.pt` (`ModelManager.resolve(MODEL_NAME)`)."""
    return SpeakerEncoder(model_dir / WEIGHTS_FILE)
