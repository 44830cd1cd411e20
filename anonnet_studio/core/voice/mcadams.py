"""McAdams-coefficient voice anonymization (the VoicePrivacy Challenge 2020/22 baseline B2).

Per frame, an LPC model splits speech into a vocal-tract filter and its residual; the
angles of the filter's complex poles (the formant frequencies) are raised to the power
alpha, which moves every formant, and the residual is filtered through the moved poles.
Pitch and timing are untouched, so the output has exactly the input's length and timing.

Implemented from the method's description (Patino et al., "Speaker anonymisation using
the McAdams coefficient", Interspeech 2021), with square-root Hann analysis and synthesis
windows at 50 % overlap so that alpha = 1 reconstructs the input exactly.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from anonnet_studio.core.progress import CancelToken, check_cancel

# B2 works on 16 kHz speech with 20 ms frames, a 10 ms hop and 20 LPC coefficients; the
# pole angles (radians at that rate) are what alpha bends, so the rate is part of the method.
MCADAMS_RATE = 16_000
_FRAME_S = 0.020
_LPC_ORDER = 20
# Frames quieter than this carry no speech to disguise (and no stable LPC fit).
_SILENT_ENERGY = 1e-10
_CANCEL_EVERY = 500  # frames


def mcadams(signal: np.ndarray, alpha: float, *, cancel: CancelToken | None = None) -> np.ndarray:
    """Disguise 16 kHz mono `signal` (float, 1-D); returns float64 of the same length."""
    if not 0.0 < alpha <= 1.5:
        raise ValueError(f"the McAdams coefficient must be within (0, 1.5], got {alpha}")
    x = np.asarray(signal, dtype=np.float64)
    frame = round(_FRAME_S * MCADAMS_RATE)
    hop = frame // 2
    window = np.sqrt(np.hanning(frame + 1)[:-1])  # periodic: sqrt windows overlap-add to 1
    # Pad so the first and last samples are covered by two frames like every other.
    padded = np.concatenate([np.zeros(hop), x, np.zeros(frame + hop)])
    out = np.zeros_like(padded)
    for count, start in enumerate(range(0, len(padded) - frame + 1, hop)):
        if count % _CANCEL_EVERY == 0:
            check_cancel(cancel)
        piece = padded[start : start + frame] * window
        out[start : start + frame] += _disguise_frame(piece, alpha) * window
    return out[hop : hop + len(x)]


def _disguise_frame(piece: np.ndarray, alpha: float) -> np.ndarray:
    autocorr = np.correlate(piece, piece, mode="full")[len(piece) - 1 : len(piece) + _LPC_ORDER]
    if autocorr[0] < _SILENT_ENERGY:
        return piece
    # Levinson-Durbin through scipy; the small lift keeps the Toeplitz system well posed.
    column = autocorr[:_LPC_ORDER].copy()
    column[0] *= 1.0 + 1e-9
    try:
        predictor = solve_toeplitz(column, autocorr[1 : _LPC_ORDER + 1])
    except np.linalg.LinAlgError:
        return np.zeros_like(piece)  # never the undisguised voice: 20 ms of silence
    lpc = np.concatenate([[1.0], -predictor])
    residual = lfilter(lpc, [1.0], piece)
    moved = _move_poles(lpc, alpha)
    if moved is None:
        return np.zeros_like(piece)
    return lfilter([1.0], moved, residual)


def _move_poles(lpc: np.ndarray, alpha: float) -> np.ndarray | None:
    """The all-pole filter with each complex pole's angle raised to `alpha`."""
    poles = np.roots(lpc)
    if not np.all(np.isfinite(poles)):
        return None
    upper = poles.imag > 0
    angles = np.minimum(np.angle(poles[upper]) ** alpha, np.pi)
    moved_upper = np.abs(poles[upper]) * np.exp(1j * angles)
    real = poles[poles.imag == 0]
    # Conjugate pairs stay pairs, so the filter's coefficients stay real.
    new_poles = np.concatenate([moved_upper, moved_upper.conj(), real])
    if np.any(np.abs(new_poles) >= 1.0):
        return None  # numerically unstable fit: keep the frame as it was
    return np.real(np.poly(new_poles))
