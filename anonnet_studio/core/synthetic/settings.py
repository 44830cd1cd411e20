"""Generation parameters for one person's synthetic face, and the retry escalation schedule.

Everything is a frozen dataclass so a request can cross the worker thread boundary as a
snapshot; per-person overrides are made with `GenerationSettings.with_overrides(...)`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

MaskMode = Literal["face", "head"]

# CelebAMask-HQ labels of the BiSeNet parser (0 background, 1 skin, 2/3 brows, 4/5 eyes,
# 6 glasses, 7/8 ears, 9 earring, 10 nose, 11 mouth, 12/13 lips, 14 neck, 15 necklace,
# 16 cloth, 17 hair, 18 hat). The face set is the reference's `segment face` classes.
FACE_PARSING_CLASSES: tuple[int, ...] = (1, 2, 3, 4, 5, 9, 10, 11, 12, 13)
HEAD_PARSING_CLASSES: tuple[int, ...] = (*FACE_PARSING_CLASSES, 6, 7, 8, 17, 18)

# SD 1.5 works on latents 8x smaller than the image, so every side must divide by 8.
SIZE_MULTIPLE = 8


@dataclass(frozen=True, slots=True)
class EscalationSchedule:
    """How each retry of the anonymity check pushes the generation further from the
    original: more denoising strength, more guidance, more steps, and a new seed."""

    strength_step: float = 0.05
    max_strength: float = 1.0
    guidance_step: float = 1.0
    max_guidance: float = 20.0
    steps_step: int = 5
    max_steps: int = 70
    max_retries: int = 3


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    """Parameters of one inpainting run. Defaults follow the AnonNET reference."""

    seed: int = 1000
    steps: int = 35
    guidance: float = 8.0
    # 1.0 regenerates the masked area from pure noise (only the ControlNets keep pose and
    # shape): the most anonymous setting and diffusers' default. A person may be given
    # less to keep more of the original's lighting; retries then raise it again.
    strength: float = 1.0
    # Conditioning scales of the inpaint, lineart and openpose ControlNets, in that order.
    control_scales: tuple[float, float, float] = (0.9, 0.4, 0.3)
    # The crop is at most `max_side` (rounded down to a multiple of 8) and small faces are
    # upsampled to at least `min_side`, because SD 1.5 degrades quickly below 512 px.
    max_side: int = 612
    min_side: int = 512
    # Side of the square crop relative to the larger side of the face box.
    crop_scale: float = 1.8
    mask_mode: MaskMode = "face"
    # Face-parsing labels to regenerate; None = the default set of `mask_mode`.
    parsing_classes: tuple[int, ...] | None = None
    # Relative to the crop size, so the mask looks the same at every resolution.
    mask_dilate: float = 0.02
    mask_feather: float = 0.03
    escalation: EscalationSchedule = EscalationSchedule()

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError("steps must be at least 1")
        if not 0.0 < self.strength <= 1.0:
            raise ValueError("strength must be in (0, 1]")
        if len(self.control_scales) != 3:
            raise ValueError("control_scales needs one scale per ControlNet (3)")
        if self.max_side < SIZE_MULTIPLE or self.min_side < SIZE_MULTIPLE:
            raise ValueError(f"max_side and min_side must be at least {SIZE_MULTIPLE}")

    @property
    def crop_limits(self) -> tuple[int, int]:
        """(smallest, largest) crop side in pixels, both multiples of 8."""
        largest = round_down_to_multiple(self.max_side)
        smallest = min(round_down_to_multiple(self.min_side), largest)
        return smallest, largest

    @property
    def mask_classes(self) -> tuple[int, ...]:
        """Parsing labels the mask covers: the explicit ones, else the mode's default."""
        if self.parsing_classes is not None:
            return self.parsing_classes
        return HEAD_PARSING_CLASSES if self.mask_mode == "head" else FACE_PARSING_CLASSES

    @property
    def effective_steps(self) -> int:
        """Denoising steps actually run: diffusers skips the first (1 - strength) part."""
        return max(1, min(int(self.steps * self.strength), self.steps))

    def with_overrides(self, **overrides: Any) -> GenerationSettings:
        """A copy with some fields replaced (per-person overrides from the project)."""
        if "control_scales" in overrides:
            overrides["control_scales"] = tuple(float(s) for s in overrides["control_scales"])
        if overrides.get("parsing_classes") is not None:
            overrides["parsing_classes"] = tuple(int(c) for c in overrides["parsing_classes"])
        return dataclasses.replace(self, **overrides)


def escalated(base: GenerationSettings, retry: int) -> GenerationSettings:
    """Settings for retry number `retry` (1-based) after the anonymity check failed on
    `base`: each retry adds one more step of strength, guidance and steps (capped) and
    uses a new seed.

    Only scalar generation parameters change; the ControlNet scales stay as they are (the
    reference added 0.05 to the list of scales here and crashed with a TypeError).
    """
    if retry < 1:
        raise ValueError("retry numbers start at 1")
    schedule = base.escalation
    strength = round(base.strength + retry * schedule.strength_step, 6)
    return dataclasses.replace(
        base,
        seed=retry_seed(base.seed, retry),
        strength=min(schedule.max_strength, strength),
        guidance=min(schedule.max_guidance, base.guidance + retry * schedule.guidance_step),
        steps=min(schedule.max_steps, base.steps + retry * schedule.steps_step),
    )


def retry_seed(base_seed: int, retry: int) -> int:
    """A new seed for a retry that is still reproducible from the person's seed."""
    # A large odd multiplier spreads consecutive retries far apart in seed space.
    return (base_seed + retry * 1_000_003) % (2**31 - 1)


def round_down_to_multiple(value: float, multiple: int = SIZE_MULTIPLE) -> int:
    """Largest multiple of `multiple` that is <= value (at least `multiple`)."""
    return max(multiple, int(value) // multiple * multiple)
