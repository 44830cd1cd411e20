"""The editor's voice preview: a decoded window of the real track, disguised like the export."""

from __future__ import annotations

import numpy as np
import pytest

from anonnet_studio.core.media.pcm import decode_audio_tracks
from anonnet_studio.core.voice.preview import PREVIEW_SECONDS, preview_voice, preview_window
from anonnet_studio.core.voice.settings import (
    MuteRange,
    VoiceMethod,
    VoiceSettings,
    VoiceSettingsError,
)
from tests.conftest import fixture_video
from tests.core.voice.voice_media import CLEAN_SPEECH_FIXTURE, make_speech_clip


def test_the_window_is_the_same_samples_as_the_whole_track_and_is_disguised() -> None:
    path = fixture_video(CLEAN_SPEECH_FIXTURE)
    (full,) = decode_audio_tracks(path)
    settings = VoiceSettings(VoiceMethod.MCADAMS, mute_ranges=(MuteRange(4.0, 4.5),))
    original, disguised = preview_voice(path, settings, center_s=5.0, duration_s=full.duration_s)
    assert original.start_s == 3.0 and original.sample_count == PREVIEW_SECONDS * full.rate
    first = round(original.start_s * full.rate)
    np.testing.assert_array_equal(
        original.samples, full.samples[:, first : first + original.sample_count]
    )
    assert disguised.samples.shape == original.samples.shape
    assert not np.allclose(disguised.samples, original.samples, atol=1e-2)
    muted = disguised.samples[:, full.rate : full.rate * 3 // 2]  # 4.0-4.5 s of the clip
    assert not np.any(muted) and np.any(disguised.samples[:, : full.rate])


def test_the_window_stays_inside_the_clip() -> None:
    assert preview_window(0.5, 30.0) == (0.0, PREVIEW_SECONDS)
    assert preview_window(29.5, 30.0) == (30.0 - PREVIEW_SECONDS, 30.0)
    assert preview_window(1.0, 2.5) == (0.0, 2.5)


def test_a_video_without_audio_is_refused(tmp_path) -> None:
    clip = make_speech_clip(tmp_path / "no_audio.mp4", with_audio=False)
    with pytest.raises(VoiceSettingsError, match="no audio stream"):
        preview_voice(clip, VoiceSettings(VoiceMethod.PITCH), center_s=1.0)
