"""`--voice`, `--voice-strength`, `--mute` and `--bleep` for `anonymize` and `export`."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.voice.settings import (
    DEFAULT_STRENGTH,
    STRENGTH_RANGE,
    MuteKind,
    VoiceMethod,
    VoiceSettings,
)
from anonnet_studio.core.voice.speaker_encoder import (
    MODEL_NAME,
    SpeakerEncoder,
    load_speaker_encoder,
)
from anonnet_studio.core.voice.timecode import parse_range


def add_voice_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "voice",
        "By default the audio is copied unchanged. A disguise or a muted range re-encodes "
        "it to AAC with the same sample rate, channels and sample count (in sync).",
    )
    group.add_argument(
        "--voice",
        choices=[str(m) for m in VoiceMethod],
        default=None,
        help="disguise every voice: mcadams (formants moved, pitch kept) or pitch "
        "(pitch and formants shifted); default: the project's choice, else off",
    )
    low, high = STRENGTH_RANGE
    group.add_argument(
        "--voice-strength",
        type=float,
        default=None,
        metavar=f"{low:g}..{high:g}",
        help=f"how strongly to disguise (default: the project's, else {DEFAULT_STRENGTH:g}; "
        "mcadams uses alpha = 1 - 0.4 x strength)",
    )
    group.add_argument(
        "--mute",
        action="append",
        default=[],
        metavar="START-END",
        help="silence a time range, in seconds (12.5-14) or HH:MM:SS.mmm; repeatable, and "
        "added to the ranges the project holds (drawn in the editor). "
        "A range past the end of the clip is cut there (with a warning); one that starts "
        "after the end is an error",
    )
    group.add_argument(
        "--bleep",
        action="append",
        default=[],
        metavar="START-END",
        help="replace a time range with a 1 kHz tone; same format as --mute; repeatable",
    )


def voice_settings(args: argparse.Namespace, project: VoiceSettings | None = None) -> VoiceSettings:
    """The settings the options ask for on top of the project's own (its method and
    strength unless the options name them, its mute ranges plus theirs); raises
    VoiceSettingsError with a clear message."""
    base = project or VoiceSettings()
    ranges = list(base.mute_ranges)
    ranges += [parse_range(text, MuteKind.MUTE) for text in args.mute]
    ranges += [parse_range(text, MuteKind.BLEEP) for text in args.bleep]
    method = VoiceMethod(args.voice) if args.voice is not None else base.method
    strength = args.voice_strength if args.voice_strength is not None else base.strength
    return VoiceSettings(method, strength, tuple(sorted(ranges, key=lambda r: r.start_s)))


def check_against_clip(settings: VoiceSettings, source: Path) -> None:
    """Fail before any analysis or rendering if a mute range lies outside the clip."""
    if not settings.mute_ranges:
        return
    from anonnet_studio.core.voice.export_step import clip_duration_s, fit_settings_to_clip

    fit_settings_to_clip(settings, clip_duration_s(source))


def speaker_encoder_for(settings: VoiceSettings, manager: ModelManager) -> SpeakerEncoder | None:
    """The embedded GE2E encoder when a disguise is to be checked (never downloads).

    Loaded once per process and folder (a batch worker checks many files); `resolve`
    still verifies the weights every time."""
    if settings.method is VoiceMethod.OFF:
        return None
    return _encoder_in(manager.resolve(MODEL_NAME))


@functools.cache
def _encoder_in(model_dir: Path) -> SpeakerEncoder:
    return load_speaker_encoder(model_dir)


def print_voice_summary(section: dict) -> None:
    for warning in section.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    if section.get("method") == "off" and not section.get("mute_ranges"):
        return
    line = f"Voice: {section['method']}, {section['verdict']}"
    for track in section.get("tracks", []):
        check = track.get("speaker_check")
        if check and check.get("speaker_similarity") is not None:
            stoi = check.get("stoi")
            line += (
                f"; stream {track['stream_index']}: speaker similarity "
                f"{check['speaker_similarity']:.3f} (same-speaker threshold "
                f"{check['same_speaker_threshold']:.3f})"
                + (f", STOI {stoi:.3f}" if stoi is not None else "")
            )
    print(line)
