"""The voice step of an export: prepare the replacement audio, then audit what was written.

`prepare_audio` runs before rendering (so a bad mute range fails before any frame is
encoded) and hands `VideoWriter` the processed tracks; `audit_voice` decodes the written
file and returns the audit report's self-contained "voice" section as plain data.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from anonnet_studio.core.media.pcm import MAX_PROCESSED_CHANNELS, PcmAudio, decode_audio_tracks
from anonnet_studio.core.media.probe import probe
from anonnet_studio.core.progress import CancelToken, ProgressCallback
from anonnet_studio.core.voice.disguise import WORK_RATE, disguise_tracks
from anonnet_studio.core.voice.settings import VoiceMethod, VoiceSettings, VoiceSettingsError
from anonnet_studio.core.voice.speaker_encoder import SpeakerEncoder
from anonnet_studio.core.voice.timecode import fit_ranges_to_clip
from anonnet_studio.core.voice.verify import check_voice


@dataclass(frozen=True, slots=True, eq=False)
class PreparedAudio:
    """The source's tracks and their processed versions (same order, same shapes)."""

    settings: VoiceSettings  # with mute ranges fitted to the clip
    original: tuple[PcmAudio, ...]
    processed: tuple[PcmAudio, ...]
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    audio_seconds: float = 0.0


def clip_duration_s(source_path: str | os.PathLike[str]) -> float:
    """Length of the video in seconds, against which mute ranges are checked."""
    info = probe(source_path)
    return info.video.duration_s


def fit_settings_to_clip(
    settings: VoiceSettings, duration_s: float
) -> tuple[VoiceSettings, list[str]]:
    """`settings` with mute ranges clipped to the clip (raises for one wholly outside)."""
    ranges, warnings = fit_ranges_to_clip(settings.mute_ranges, duration_s)
    fitted = VoiceSettings(settings.method, settings.strength, ranges)
    return fitted, warnings


def prepare_audio(
    source_path: str | os.PathLike[str],
    settings: VoiceSettings,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> PreparedAudio:
    """Decode every audio track of the source and apply `settings` to it."""
    started = time.perf_counter()
    fitted, warnings = fit_settings_to_clip(settings, clip_duration_s(source_path))
    original = tuple(decode_audio_tracks(source_path))
    too_wide = [t for t in original if t.channels > MAX_PROCESSED_CHANNELS]
    if too_wide:
        raise VoiceSettingsError(
            f"The source has {too_wide[0].channels}-channel audio ({too_wide[0].layout}); "
            f"voice disguise and muting handle up to {MAX_PROCESSED_CHANNELS} channels (5.1).",
            hint="Export without --voice/--mute to keep the audio as it is.",
        )
    if not original:
        warnings.append("the source has no audio stream, so there is no voice to disguise")
    processed = tuple(disguise_tracks(original, fitted, on_progress=on_progress, cancel=cancel))
    return PreparedAudio(
        fitted,
        original,
        processed,
        tuple(warnings),
        time.perf_counter() - started,
        sum(t.duration_s for t in original),
    )


def audit_voice(
    settings: VoiceSettings,
    prepared: PreparedAudio | None,
    output_path: str | os.PathLike[str],
    encoder: SpeakerEncoder | None,
) -> dict[str, Any]:
    """The audit report's "voice" section."""
    section: dict[str, Any] = {
        "method": str(settings.method),
        "strength": settings.strength,
        "parameters": settings.describe(),
        "mute_ranges": [r.to_list() for r in (prepared or _none(settings)).settings.mute_ranges],
    }
    if prepared is None:
        section["audio"] = "copied unchanged (voices are not disguised)"
        section["verdict"] = "NOT DISGUISED"
        return section
    section["audio"] = "re-encoded to AAC (same sample rate, channels and sample count)"
    section["warnings"] = list(prepared.warnings)
    section["processing_s"] = round(prepared.seconds, 3)
    section["real_time_factor"] = (
        round(prepared.seconds / prepared.audio_seconds, 4) if prepared.audio_seconds else None
    )
    section["working_rate_hz"] = WORK_RATE if settings.method is not VoiceMethod.OFF else None
    written = decode_audio_tracks(output_path) if prepared.original else []
    section["tracks"] = [
        _track_entry(before, after, prepared.settings, encoder)
        for before, after in zip(prepared.original, written, strict=False)
    ]
    section["verdict"] = _verdict(settings, section["tracks"], encoder)
    return section


def _none(settings: VoiceSettings) -> PreparedAudio:
    return PreparedAudio(settings, (), ())


def _track_entry(
    before: PcmAudio, after: PcmAudio, settings: VoiceSettings, encoder: SpeakerEncoder | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "stream_index": before.stream_index,
        "sample_rate": before.rate,
        "layout": before.layout,
        "samples_source": before.sample_count,
        "samples_output": after.sample_count,
        "same_timing": before.sample_count == after.sample_count
        and before.rate == after.rate
        and before.channels == after.channels,
    }
    if encoder is not None and settings.method is not VoiceMethod.OFF:
        entry["speaker_check"] = check_voice(
            before, after, encoder, excluded=settings.mute_ranges
        ).to_dict()
    return entry


def _verdict(
    settings: VoiceSettings, tracks: list[dict[str, Any]], encoder: SpeakerEncoder | None
) -> str:
    if settings.method is VoiceMethod.OFF:
        return "NOT DISGUISED"  # mute ranges only: the rest of the voice is the original
    if not tracks:
        return "NO AUDIO"
    if encoder is None:
        return "NOT CHECKED"
    checks = [t["speaker_check"] for t in tracks]
    if any(c["recognisable"] for c in checks):
        return "RECOGNISABLE"
    if all(c["speaker_similarity"] is None for c in checks):
        return "NO SPEECH"
    return "DISGUISED"
