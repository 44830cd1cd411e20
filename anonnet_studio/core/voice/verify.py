"""Does the disguised voice still verify as the speaker, and is it still intelligible?

Similarity is the cosine between GE2E embeddings of the original and the output speech,
compared with the same-speaker threshold calibrated on the fixture speakers by
`scripts/calibrate_voice_threshold.py`. Intelligibility is STOI (0..1, `pystoi`).
Muted and bleeped ranges are left out of both: they hold no speech by design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from anonnet_studio.core.media.pcm import PcmAudio
from anonnet_studio.core.voice.masking import sample_span
from anonnet_studio.core.voice.settings import MuteRange
from anonnet_studio.core.voice.speaker_encoder import SpeakerEncoder, cosine

# Midpoint between the highest different-speaker and the lowest same-speaker similarity
# of 3 s segments of the fixture speakers (scripts/calibrate_voice_threshold.py prints
# both populations and this value). At or above it, the voice counts as recognisable.
SAME_SPEAKER_THRESHOLD = 0.722
_STOI_MIN_S = 0.4  # pystoi needs a few 384 ms segments of speech


@dataclass(frozen=True, slots=True)
class VoiceCheck:
    similarity: float | None  # None: no speech in the original to compare
    threshold: float
    stoi: float | None
    seconds_compared: float

    @property
    def recognisable(self) -> bool:
        return self.similarity is not None and self.similarity >= self.threshold

    def to_dict(self) -> dict[str, object]:
        return {
            "speaker_similarity": None if self.similarity is None else round(self.similarity, 4),
            "same_speaker_threshold": self.threshold,
            "recognisable": self.recognisable,
            "stoi": None if self.stoi is None else round(self.stoi, 4),
            "seconds_compared": round(self.seconds_compared, 3),
        }


def mono_speech(track: PcmAudio, excluded: Sequence[MuteRange] = ()) -> np.ndarray:
    """The track mixed to mono (float64), without the `excluded` ranges."""
    mono = track.samples.astype(np.float64).mean(axis=0)
    keep = np.ones(mono.size, dtype=bool)
    for item in excluded:
        first, end = sample_span(track, item)
        keep[first:end] = False
    return mono[keep]


def check_voice(
    original: PcmAudio,
    output: PcmAudio,
    encoder: SpeakerEncoder,
    *,
    excluded: Sequence[MuteRange] = (),
    threshold: float = SAME_SPEAKER_THRESHOLD,
) -> VoiceCheck:
    """Compare one original track with the same track as exported."""
    reference = mono_speech(original, excluded)
    disguised = mono_speech(output, excluded)
    length = min(reference.size, disguised.size)
    reference, disguised = reference[:length], disguised[:length]
    seconds = length / original.rate
    before = encoder.embed(reference, original.rate)
    if not np.any(before):
        return VoiceCheck(None, threshold, None, seconds)
    similarity = cosine(before, encoder.embed(disguised, output.rate))
    return VoiceCheck(similarity, threshold, _stoi(reference, disguised, original.rate), seconds)


def _stoi(reference: np.ndarray, processed: np.ndarray, rate: int) -> float | None:
    if reference.size < _STOI_MIN_S * rate:
        return None
    from pystoi import stoi  # imported here: only the audit needs it

    value = float(stoi(reference, processed, rate, extended=False))
    return value if np.isfinite(value) else None
