"""A person's synthetic-face generation settings, and the retry escalation schedule.

`GenerationSettings` is the one settings class of the synthetic stage: the project stores
it per person (`Identity.generation`), the editor edits it through commands, a job request
carries it to the worker, and the generator runs it. It is frozen, so a request holds a
snapshot; a change is a new value (`with_overrides`, `dataclasses.replace`). Every field
is checked when a value is built, so an out-of-range setting cannot exist (a project file
holding one fails to load, naming the field).

Fields marked `RUN_ONLY` are parameters of the method, not choices of the user: the
project file does not store them (`project/codec.py` skips them), so they always take
today's defaults when a project is opened.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Literal

MaskMode = Literal["face", "head"]
MASK_MODES: tuple[MaskMode, ...] = ("face", "head")
# The two ways of generating a face: AnonNET's SD 1.5 inpainting with ControlNets and a
# prompt, or FAMS (Kung et al., WACV 2025), an SD 2.1 UNet guided by the original face.
SyntheticBackend = Literal["anonnet", "fams"]
SYNTHETIC_BACKENDS: tuple[SyntheticBackend, ...] = ("anonnet", "fams")
DEFAULT_BACKEND: SyntheticBackend = "anonnet"

# Same text as resources/prompts/negative.txt (a test keeps them equal); a constant here so
# that a project document never depends on a resource folder being present.
DEFAULT_NEGATIVE_PROMPT = (
    "deformed iris, deformed pupils, deformed face, disfigured, distorted, mutated, bad "
    "anatomy, extra eyes, blurry, low quality, worst quality, jpeg artifacts, watermark, "
    "text, cgi, 3d render, cartoon, anime, drawing, painting, sketch, doll, plastic skin"
)

# CelebAMask-HQ labels of the BiSeNet parser (0 background, 1 skin, 2/3 brows, 4/5 eyes,
# 6 glasses, 7/8 ears, 9 earring, 10 nose, 11 mouth, 12/13 lips, 14 neck, 15 necklace,
# 16 cloth, 17 hair, 18 hat). The face set is the reference's `segment face` classes.
FACE_PARSING_CLASSES: tuple[int, ...] = (1, 2, 3, 4, 5, 9, 10, 11, 12, 13)
HEAD_PARSING_CLASSES: tuple[int, ...] = (*FACE_PARSING_CLASSES, 6, 7, 8, 17, 18)

# SD 1.5 works on latents 8x smaller than the image, so every side must divide by 8.
SIZE_MULTIPLE = 8

# Metadata of the fields a project file does not store (see the module docstring).
RUN_ONLY = {"persist": False}

# Inclusive bounds, checked whenever a value is built. Strength starts at 0.01: at 0
# diffusers denoises nothing and returns the original face. The other bounds are wider
# than the reference's retry caps (guidance 20, steps 70) so users can go past them.
_NUMERIC_LIMITS: dict[str, tuple[float, float]] = {
    "seed": (0, 2**32 - 1),
    "strength": (0.01, 1.0),
    "steps": (1, 150),
    "guidance": (0.0, 30.0),
    "max_side": (64, 4096),
    "mask_margin": (0.0, 2.0),
}
_CONTROL_SCALE_LIMITS = (0.0, 2.0)


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
    """Parameters of one person's synthetic face. Defaults follow the AnonNET reference."""

    seed: int = 1000
    # None: not chosen for this person, the run's default applies (the CLI's --backend,
    # else DEFAULT_BACKEND); see `effective_backend`.
    backend: SyntheticBackend | None = None
    prompt_override: str | None = None  # None: the prompt is built from the attributes
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    # 1.0 regenerates the masked area from pure noise (only the ControlNets keep pose and
    # shape): the most anonymous setting and diffusers' default. A person may be given
    # less to keep more of the original's lighting; retries then raise it again.
    strength: float = 1.0
    steps: int = 35
    guidance: float = 8.0
    # Conditioning scales of the inpaint, lineart and openpose ControlNets, in that order.
    control_scales: tuple[float, float, float] = (0.9, 0.4, 0.3)
    # The crop is at most `max_side` (rounded down to a multiple of 8) and small faces are
    # upsampled to at least `min_side`, because SD 1.5 degrades quickly below 512 px.
    max_side: int = 612
    mask_mode: MaskMode = "face"
    # Redaction ellipse margin (fraction of the face size) while this person is blurred,
    # pixelated or masked instead; the synthetic mask itself follows `mask_mode`.
    mask_margin: float = 0.15
    min_side: int = field(default=512, metadata=RUN_ONLY)
    # Side of the square crop relative to the larger side of the face box.
    crop_scale: float = field(default=1.8, metadata=RUN_ONLY)
    # Face-parsing labels to regenerate; None = the default set of `mask_mode`.
    parsing_classes: tuple[int, ...] | None = field(default=None, metadata=RUN_ONLY)
    # Relative to the crop size, so the mask looks the same at every resolution.
    mask_dilate: float = field(default=0.02, metadata=RUN_ONLY)
    mask_feather: float = field(default=0.03, metadata=RUN_ONLY)
    escalation: EscalationSchedule = field(default=EscalationSchedule(), metadata=RUN_ONLY)

    def __post_init__(self) -> None:
        for name in _DOCUMENT_FIELDS:
            object.__setattr__(self, name, self.coerce_field(name, getattr(self, name)))
        if self.min_side < SIZE_MULTIPLE:
            raise ValueError(f"min_side must be at least {SIZE_MULTIPLE}")
        if not self.crop_scale > 0 or self.mask_dilate < 0 or self.mask_feather < 0:
            raise ValueError("crop_scale must be positive, mask_dilate and mask_feather >= 0")
        if self.parsing_classes is not None:
            object.__setattr__(self, "parsing_classes", tuple(int(c) for c in self.parsing_classes))

    @staticmethod
    def coerce_field(name: str, value: Any) -> Any:
        """`value` converted to the type of stored field `name`; ValueError says why it
        does not fit (the editor's field commands and every constructor use this)."""
        if name not in _DOCUMENT_FIELDS:
            raise ValueError(f"unknown generation setting {name!r}")
        if name == "prompt_override":
            if value is None:
                return None
            text = _require_str(name, value).strip()
            return text or None  # a blank override means "use the automatic prompt"
        if name == "negative_prompt":
            return _require_str(name, value)
        if name == "backend":
            if value is not None and value not in SYNTHETIC_BACKENDS:
                choices = ", ".join(SYNTHETIC_BACKENDS)
                raise ValueError(f"backend must be one of {choices}, not {value!r}")
            return None if value is None else str(value)
        if name == "mask_mode":
            if value not in MASK_MODES:
                raise ValueError(f"mask_mode must be one of {', '.join(MASK_MODES)}, not {value!r}")
            return str(value)
        if name == "control_scales":
            return _coerce_control_scales(value)
        low, high = _NUMERIC_LIMITS[name]
        number = _require_int(name, value) if name in _INT_FIELDS else _require_float(name, value)
        if not low <= number <= high:
            raise ValueError(f"{name} must be between {low:g} and {high:g}, not {number:g}")
        return number

    @property
    def effective_backend(self) -> SyntheticBackend:
        """The backend that generates this person's face."""
        return self.backend if self.backend is not None else DEFAULT_BACKEND

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
        """A copy with some fields replaced (values are checked like the constructor's)."""
        return dataclasses.replace(self, **overrides)


_DOCUMENT_FIELDS = tuple(
    f.name for f in dataclasses.fields(GenerationSettings) if f.metadata.get("persist", True)
)
_INT_FIELDS = frozenset({"seed", "steps", "max_side"})


def escalated(base: GenerationSettings, retry: int) -> GenerationSettings:
    """Settings for retry number `retry` (1-based) after the anonymity check failed on
    `base`: each retry adds one more step of strength, guidance and steps (capped, but
    never below what `base` already had) and uses a new seed.

    Only scalar generation parameters change; the ControlNet scales stay as they are (the
    reference added 0.05 to the list of scales here and crashed with a TypeError).
    """
    if retry < 1:
        raise ValueError("retry numbers start at 1")
    schedule = base.escalation
    strength = round(base.strength + retry * schedule.strength_step, 6)
    guidance = base.guidance + retry * schedule.guidance_step
    steps = base.steps + retry * schedule.steps_step
    return dataclasses.replace(
        base,
        seed=retry_seed(base.seed, retry),
        strength=max(base.strength, min(schedule.max_strength, strength)),
        guidance=max(base.guidance, min(schedule.max_guidance, guidance)),
        steps=max(base.steps, min(schedule.max_steps, steps)),
    )


def retry_seed(base_seed: int, retry: int) -> int:
    """A new seed for a retry that is still reproducible from the person's seed."""
    # A large odd multiplier spreads consecutive retries far apart in seed space.
    return (base_seed + retry * 1_000_003) % (2**31 - 1)


def round_down_to_multiple(value: float, multiple: int = SIZE_MULTIPLE) -> int:
    """Largest multiple of `multiple` that is <= value (at least `multiple`)."""
    return max(multiple, int(value) // multiple * multiple)


def _require_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    return value


def _require_int(name: str, value: Any) -> int:
    # bool is an int subclass, but True as a step count is always a bug
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return int(float(value))


def _require_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return number


def _coerce_control_scales(value: Any) -> tuple[float, float, float]:
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ValueError(f"control_scales must be three numbers, not {value!r}")
    low, high = _CONTROL_SCALE_LIMITS
    scales = tuple(_require_float("control_scales", v) for v in value)
    if not all(low <= s <= high for s in scales):
        raise ValueError(f"control_scales must each be between {low:g} and {high:g}")
    return (scales[0], scales[1], scales[2])
