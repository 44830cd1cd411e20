"""Voice settings as plain data, and time ranges as people type them."""

from __future__ import annotations

import json

import pytest

from anonnet_studio.core.voice.settings import (
    DEFAULT_STRENGTH,
    MuteKind,
    MuteRange,
    VoiceMethod,
    VoiceSettings,
    VoiceSettingsError,
)
from anonnet_studio.core.voice.timecode import fit_ranges_to_clip, parse_range, parse_timecode


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("12", 12.0), ("12.5", 12.5), ("01:02.250", 62.25), ("01:00:02.5", 3602.5), ("0:00:00", 0)],
)
def test_timecodes_in_seconds_or_clock_form(text: str, seconds: float) -> None:
    assert parse_timecode(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "1:75", "-3", "1:2:3:4", "12,5"])
def test_bad_timecodes_say_how_to_write_one(text: str) -> None:
    with pytest.raises(VoiceSettingsError, match="Not a time"):
        parse_timecode(text)


def test_ranges_parse_and_reject_backwards_ranges() -> None:
    assert parse_range("00:00:01.500-2") == MuteRange(1.5, 2.0)
    assert parse_range("3-4", MuteKind.BLEEP).kind is MuteKind.BLEEP
    with pytest.raises(VoiceSettingsError, match="ends before it starts"):
        parse_range("4-3")
    with pytest.raises(VoiceSettingsError, match="Not a time range"):
        parse_range("1-2-3")


def test_a_range_past_the_end_is_clipped_with_a_warning_one_outside_is_an_error() -> None:
    fitted, warnings = fit_ranges_to_clip((MuteRange(1, 2), MuteRange(8, 12)), 10.0)
    assert fitted == (MuteRange(1, 2), MuteRange(8, 10.0))
    assert len(warnings) == 1 and "ends at 10.000 s" in warnings[0]
    with pytest.raises(VoiceSettingsError, match="starts after the end of the clip"):
        fit_ranges_to_clip((MuteRange(10, 11),), 10.0)


def test_settings_round_trip_through_json_and_check_the_strength() -> None:
    settings = VoiceSettings(
        VoiceMethod.MCADAMS, 0.6, (MuteRange(1, 2), MuteRange(3, 4, MuteKind.BLEEP))
    )
    assert VoiceSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    assert VoiceSettings().changes_audio is False
    assert VoiceSettings(mute_ranges=(MuteRange(0, 1),)).changes_audio is True
    assert VoiceSettings(VoiceMethod.MCADAMS, 0.5).mcadams_alpha == pytest.approx(0.8)
    assert VoiceSettings(VoiceMethod.MCADAMS).mcadams_alpha == pytest.approx(
        1 - 0.4 * DEFAULT_STRENGTH
    )
    for bad in (0.0, 1.5, -1):
        with pytest.raises(VoiceSettingsError, match="strength must be within"):
            VoiceSettings(VoiceMethod.PITCH, bad)
    with pytest.raises(VoiceSettingsError, match="end after it starts"):
        MuteRange(2, 2)
