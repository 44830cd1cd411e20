"""Voice anonymization: disguising speech (McAdams, WORLD pitch-and-formant shift), muting
or bleeping time ranges, and checking the result with a speaker-verification model.

Everything here works on plain `PcmAudio` tracks and frozen settings, so the CLI, the
editor's export job and the tests call the same functions; nothing here imports Qt.
"""

from anonnet_studio.core.voice.settings import (
    DEFAULT_STRENGTH,
    STRENGTH_RANGE,
    MuteKind,
    MuteRange,
    VoiceMethod,
    VoiceSettings,
    VoiceSettingsError,
)

__all__ = [
    "DEFAULT_STRENGTH",
    "STRENGTH_RANGE",
    "MuteKind",
    "MuteRange",
    "VoiceMethod",
    "VoiceSettings",
    "VoiceSettingsError",
]
