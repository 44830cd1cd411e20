"""What to do with the voices of an export, as frozen plain data.

`VoiceSettings.to_dict()` / `from_dict()` round-trip through JSON, so a project file can
hold them as one field and the editor can build them from its export dialog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from anonnet_studio.core.errors import AnonNetError

# One strength scale for every method, so one slider serves them all: 0 would leave the
# voice unchanged, 1 is the strongest disguise offered. Below 0.1 no method disguises.
# The default is 0.75, not the B2 baseline's 0.5 (alpha 0.8): at 0.5 every fixture
# speaker still verified as themselves (GE2E similarity 0.73-0.81 against a threshold of
# 0.722), at 0.75 none did (0.61-0.67); see scripts/bench_voice.py.
STRENGTH_RANGE = (0.1, 1.0)
DEFAULT_STRENGTH = 0.75
# McAdams: alpha = 1 - 0.4 * strength: strength 0.5 is the VoicePrivacy Challenge B2
# baseline's alpha of 0.8, the default 0.75 gives 0.7, strength 1 gives 0.6.
_MCADAMS_SPAN = 0.4
# WORLD shift: up to 8 semitones of pitch and a formant ratio of up to 2**(7/12) (about
# 1.5) at strength 1; the default (0.75) shifts pitch by 6 and formants by 5.25 semitones.
_PITCH_SEMITONES_AT_FULL = 8.0
_FORMANT_SEMITONES_AT_FULL = 7.0


class VoiceSettingsError(AnonNetError):
    """Voice settings that cannot be applied (a bad strength, a bad mute range)."""


class VoiceMethod(StrEnum):
    OFF = "off"  # the voice is not disguised (mute ranges still apply)
    MCADAMS = "mcadams"  # LPC pole angles raised to alpha (VoicePrivacy Challenge B2)
    PITCH = "pitch"  # WORLD vocoder: pitch and formants shifted away from the speaker's


class MuteKind(StrEnum):
    MUTE = "mute"  # digital silence
    BLEEP = "bleep"  # a 1 kHz tone, the broadcast convention for a removed word


@dataclass(frozen=True, slots=True)
class MuteRange:
    """A time range of the source, in seconds from the start of the video, to silence."""

    start_s: float
    end_s: float
    kind: MuteKind = MuteKind.MUTE

    def __post_init__(self) -> None:
        if not (self.start_s >= 0 and self.end_s > self.start_s):
            raise VoiceSettingsError(
                f"A mute range must start at 0 or later and end after it starts, got "
                f"{self.start_s:g}-{self.end_s:g} s."
            )
        object.__setattr__(self, "kind", MuteKind(self.kind))

    def to_list(self) -> list[Any]:
        return [self.start_s, self.end_s, str(self.kind)]

    @classmethod
    def from_list(cls, value: list[Any]) -> MuteRange:
        start, end, *kind = value
        return cls(float(start), float(end), MuteKind(kind[0]) if kind else MuteKind.MUTE)


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    """How an export treats its audio. The default (off, no ranges) copies it unchanged."""

    method: VoiceMethod = VoiceMethod.OFF
    strength: float = DEFAULT_STRENGTH
    mute_ranges: tuple[MuteRange, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", VoiceMethod(self.method))
        low, high = STRENGTH_RANGE
        if not low <= self.strength <= high:
            raise VoiceSettingsError(
                f"The voice strength must be within {low:g}..{high:g}, got {self.strength:g}."
            )
        object.__setattr__(self, "mute_ranges", tuple(self.mute_ranges))

    @property
    def changes_audio(self) -> bool:
        """Whether the audio must be decoded, processed and re-encoded (not copied)."""
        return self.method is not VoiceMethod.OFF or bool(self.mute_ranges)

    @property
    def mcadams_alpha(self) -> float:
        return 1.0 - _MCADAMS_SPAN * self.strength

    @property
    def pitch_semitones(self) -> float:
        """Size of the pitch shift (its direction is chosen per speaker)."""
        return _PITCH_SEMITONES_AT_FULL * self.strength

    @property
    def formant_semitones(self) -> float:
        return _FORMANT_SEMITONES_AT_FULL * self.strength

    def describe(self) -> dict[str, Any]:
        """The method's own parameters, for the audit report."""
        if self.method is VoiceMethod.MCADAMS:
            return {"mcadams_alpha": round(self.mcadams_alpha, 4)}
        if self.method is VoiceMethod.PITCH:
            return {
                "pitch_shift_semitones": round(self.pitch_semitones, 3),
                "formant_shift_semitones": round(self.formant_semitones, 3),
            }
        return {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": str(self.method),
            "strength": self.strength,
            "mute_ranges": [r.to_list() for r in self.mute_ranges],
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> VoiceSettings:
        return cls(
            method=VoiceMethod(value.get("method", "off")),
            strength=float(value.get("strength", DEFAULT_STRENGTH)),
            mute_ranges=tuple(MuteRange.from_list(r) for r in value.get("mute_ranges", [])),
        )
