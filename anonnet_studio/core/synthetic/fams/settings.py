"""Generation parameters of the FAMS backend, and its retry escalation.

A frozen dataclass, so a request can cross the worker thread boundary as a snapshot.
Defaults are the authors' published ones for unaligned faces: 25 DDPM steps, guidance 4,
anonymization degree 1.25, 512 px faces.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from anonnet_studio.core.synthetic.settings import (
    GenerationSettings,
    retry_seed,
    round_down_to_multiple,
)

# The degree the authors recommend (they publish 1.2-1.3) and an upper bound well past
# it, so a mistyped value cannot ask for an arbitrarily far extrapolation.
DEFAULT_DEGREE = 1.25
MAX_DEGREE = 2.0
# The size the published weights were trained on: larger crops only cost time.
TRAINED_FACE_SIZE = 512


@dataclass(frozen=True, slots=True)
class FamsSettings:
    """Parameters of one FAMS generation."""

    seed: int = 1000
    steps: int = 25
    guidance: float = 4.0
    # 0 reconstructs the face, 1 removes its identity, above 1 moves away from it.
    degree: float = DEFAULT_DEGREE
    # The published weights were trained on 512 px faces; other sizes degrade them.
    face_size: int = 512
    # Relative to the crop size, so the mask looks the same at every resolution.
    mask_dilate: float = 0.02
    mask_feather: float = 0.04
    colour_match: bool = True
    # Each failed anonymity check raises the degree by this much (and changes the seed).
    degree_step: float = 0.1
    max_retries: int = 3

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError("steps must be at least 1")
        if not 0.0 <= self.degree <= MAX_DEGREE:
            raise ValueError(f"the anonymization degree must be in [0, {MAX_DEGREE}]")
        if self.face_size < 64 or self.face_size % 8:
            raise ValueError("face_size must be a multiple of 8, at least 64")

    @property
    def effective_steps(self) -> int:
        """Denoising steps that run (all of them: FAMS starts from pure noise)."""
        return self.steps


def escalated(base: FamsSettings, retry: int) -> FamsSettings:
    """Settings for retry `retry` (1-based) after the anonymity check failed on `base`:
    a larger degree (capped) and a new, reproducible seed."""
    if retry < 1:
        raise ValueError("retry numbers start at 1")
    degree = min(MAX_DEGREE, round(base.degree + retry * base.degree_step, 6))
    return dataclasses.replace(base, seed=retry_seed(base.seed, retry), degree=degree)


# A person's strength (0.01..1, SD 1.5's denoising strength) spans the degrees from
# reconstruction (0) to the published one, so the default strength 1.0 runs the authors'
# setting and a lower strength keeps more of the original, as it does with AnonNET.
# Steps and guidance keep their ratio to each backend's default (35 -> 25 steps, 8 -> 4).
_SD15, _FAMS = GenerationSettings(), FamsSettings()
_STEPS_RATIO = _FAMS.steps / _SD15.steps
_GUIDANCE_RATIO = _FAMS.guidance / _SD15.guidance


def degree_for_strength(strength: float) -> float:
    """The anonymization degree d for a person's strength (1.0 -> 1.25)."""
    return round(min(MAX_DEGREE, max(0.0, DEFAULT_DEGREE * float(strength))), 6)


def fams_settings(generation: GenerationSettings) -> FamsSettings:
    """A person's project settings as FAMS parameters: same seed, d from the strength,
    the crop at most `max_side` (and at most the trained 512 px) and the person's number
    of retries; mask and colour settings are FAMS's own."""
    return FamsSettings(
        seed=generation.seed,
        steps=max(1, round(generation.steps * _STEPS_RATIO)),
        guidance=round(generation.guidance * _GUIDANCE_RATIO, 6),
        degree=degree_for_strength(generation.strength),
        face_size=max(64, min(TRAINED_FACE_SIZE, round_down_to_multiple(generation.max_side))),
        max_retries=generation.escalation.max_retries,
    )
