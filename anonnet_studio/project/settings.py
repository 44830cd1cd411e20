"""Per-identity anonymization settings: method, generation parameters and their history."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

# Same text as resources/prompts/negative.txt (a test keeps them equal); a constant here so
# that a project document never depends on a resource folder being present.
DEFAULT_NEGATIVE_PROMPT = (
    "deformed iris, deformed pupils, deformed face, disfigured, distorted, mutated, bad "
    "anatomy, extra eyes, blurry, low quality, worst quality, jpeg artifacts, watermark, "
    "text, cgi, 3d render, cartoon, anime, drawing, painting, sketch, doll, plastic skin"
)
# Key in `Project.analysis` holding, per candidate image key, what the motion stage needs
# to animate that synthetic face (placement in the keyframe, 68 landmarks, the face box).
SYNTHETIC_FACES_KEY = "synthetic_faces"
SEED_RANGE = (1000, 9999)  # the reference method draws new identities' seeds from here

MaskMode = Literal["face", "head"]
MASK_MODES: tuple[MaskMode, ...] = ("face", "head")


class Method(StrEnum):
    """How a hidden person is anonymized."""

    SYNTHETIC = "synthetic"
    BLUR = "blur"
    PIXELATE = "pixelate"
    MASK = "mask"
    KEEP = "keep"


# Until the synthetic stage is available everywhere, new identities are blurred.
DEFAULT_METHOD = Method.BLUR

# Inclusive bounds checked on load and on every edit; wider than the reference's retry
# caps (guidance 20, steps 70) so that users can go past them on purpose.
_NUMERIC_LIMITS: dict[str, tuple[float, float]] = {
    "seed": (0, 2**32 - 1),
    "strength": (0.0, 1.0),
    "steps": (1, 150),
    "guidance": (0.0, 30.0),
    "max_side": (64, 4096),
    "mask_margin": (0.0, 2.0),
}
_CONTROL_SCALE_LIMITS = (0.0, 2.0)


@dataclass
class GenerationSettings:
    """Parameters of the synthetic-face generation for one identity."""

    seed: int
    prompt_override: str | None = None  # None: the prompt is built from the attributes
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    strength: float = 1.0
    steps: int = 35
    guidance: float = 8.0
    control_scales: tuple[float, float, float] = (0.9, 0.4, 0.3)  # inpaint, lineart, pose
    max_side: int = 612
    mask_mode: MaskMode = "face"
    mask_margin: float = 0.15  # fraction of the face size added around the mask

    @staticmethod
    def coerce_field(name: str, value: Any) -> Any:
        """`value` converted to the type of field `name`; ValueError says why it does not fit."""
        if name not in _FIELD_NAMES:
            raise ValueError(f"unknown generation setting {name!r}")
        if name == "prompt_override":
            if value is None:
                return None
            text = _require_str(name, value).strip()
            return text or None  # a blank override means "use the automatic prompt"
        if name == "negative_prompt":
            return _require_str(name, value)
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

    def problems(self) -> list[str]:
        """Every field whose value is out of range or of the wrong type."""
        found = []
        for name in _FIELD_NAMES:
            try:
                self.coerce_field(name, getattr(self, name))
            except ValueError as exc:
                found.append(str(exc))
        return found


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(GenerationSettings))
_INT_FIELDS = frozenset({"seed", "steps", "max_side"})


@dataclass(frozen=True)
class GenerationAttempt:
    """One synthetic-face candidate: the parameters used and how the anonymity check went."""

    seed: int
    strength: float
    steps: int
    guidance: float
    distance: float  # face-recognition distance between original and candidate
    passed: bool  # the distance cleared the anonymity threshold
    image_key: str | None  # key of the candidate image in `Project.images`
    created_at: str  # ISO 8601, UTC


def _require_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    return value


def _require_int(name: str, value: Any) -> int:
    # bool is an int subclass, but True as a step count is always a bug
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if not isinstance(value, numbers.Integral) and not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return int(value)


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
