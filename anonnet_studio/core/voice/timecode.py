"""Parsing time ranges as people type them: "12.5-14", "00:01:02.250-00:01:03.5"."""

from __future__ import annotations

import re

from anonnet_studio.core.voice.settings import MuteKind, MuteRange, VoiceSettingsError

_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")  # [HH:]MM:SS[.mmm]
_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")
_RANGE_HINT = "Write START-END in seconds (12.5-14) or as HH:MM:SS.mmm (00:01:02.250-00:01:03)."


def parse_timecode(text: str) -> float:
    """Seconds from "SS[.mmm]", "MM:SS[.mmm]" or "HH:MM:SS[.mmm]"."""
    value = text.strip()
    if _SECONDS.match(value):
        return float(value)
    clock = _CLOCK.match(value)
    if clock is None:
        raise VoiceSettingsError(f"Not a time: {text!r}. {_RANGE_HINT}")
    hours, minutes, seconds = int(clock[1] or 0), int(clock[2]), float(clock[3])
    if minutes >= 60 or seconds >= 60:
        raise VoiceSettingsError(f"Not a time: {text!r} (minutes and seconds go up to 59).")
    return hours * 3600 + minutes * 60 + seconds


def parse_range(text: str, kind: MuteKind = MuteKind.MUTE) -> MuteRange:
    """A `MuteRange` from "START-END"."""
    parts = text.split("-")
    if len(parts) != 2:
        raise VoiceSettingsError(f"Not a time range: {text!r}. {_RANGE_HINT}")
    start, end = (parse_timecode(p) for p in parts)
    if end <= start:
        raise VoiceSettingsError(f"The range {text!r} ends before it starts. {_RANGE_HINT}")
    return MuteRange(start, end, kind)


def fit_ranges_to_clip(
    ranges: tuple[MuteRange, ...], duration_s: float
) -> tuple[tuple[MuteRange, ...], list[str]]:
    """Ranges clipped to a clip of `duration_s`, and a warning per clipped range.

    A range that starts at or after the end of the clip is an error, not a warning: the
    words the user meant to remove are somewhere else, and exporting would leave them in.
    """
    fitted: list[MuteRange] = []
    warnings: list[str] = []
    for item in ranges:
        label = f"{item.start_s:g}-{item.end_s:g} s"
        if item.start_s >= duration_s:
            raise VoiceSettingsError(
                f"The {item.kind} range {label} starts after the end of the clip "
                f"({duration_s:.3f} s), so it would remove nothing.",
                hint="Check the time; ranges count from the start of the video.",
            )
        if item.end_s > duration_s:
            warnings.append(
                f"the {item.kind} range {label} runs past the end of the clip; "
                f"it ends at {duration_s:.3f} s"
            )
            item = MuteRange(item.start_s, duration_s, item.kind)
        fitted.append(item)
    return tuple(fitted), warnings
