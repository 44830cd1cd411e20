"""Per-identity anonymization settings: the method, and the synthetic-face settings and
attempts (one class each, shared with the synthetic stage in `core.synthetic`)."""

from __future__ import annotations

from enum import StrEnum

from anonnet_studio.core.synthetic.attempts import FacePlacement, GenerationAttempt
from anonnet_studio.core.synthetic.settings import (
    DEFAULT_NEGATIVE_PROMPT,
    MASK_MODES,
    GenerationSettings,
    MaskMode,
)

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_NEGATIVE_PROMPT",
    "MASK_MODES",
    "SEED_RANGE",
    "FacePlacement",
    "GenerationAttempt",
    "GenerationSettings",
    "MaskMode",
    "Method",
]

SEED_RANGE = (1000, 9999)  # the reference method draws new identities' seeds from here


class Method(StrEnum):
    """How a hidden person is anonymized."""

    SYNTHETIC = "synthetic"
    BLUR = "blur"
    PIXELATE = "pixelate"
    MASK = "mask"
    KEEP = "keep"


# Until the synthetic stage is available everywhere, new identities are blurred.
DEFAULT_METHOD = Method.BLUR
