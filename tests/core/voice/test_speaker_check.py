"""The audit's voice check with the embedded GE2E encoder, on the fixtures' real speech."""

from __future__ import annotations

import numpy as np
import pytest

from anonnet_studio.app.runtime import model_manager
from anonnet_studio.core.media.pcm import PcmAudio
from anonnet_studio.core.models.location import ModelOrigin
from anonnet_studio.core.voice.disguise import disguise_tracks
from anonnet_studio.core.voice.settings import VoiceMethod, VoiceSettings
from anonnet_studio.core.voice.speaker_encoder import (
    ENCODER_RATE,
    MODEL_NAME,
    SpeakerEncoder,
    cosine,
    load_speaker_encoder,
    prepare_speech,
)
from anonnet_studio.core.voice.verify import SAME_SPEAKER_THRESHOLD, check_voice
from tests.core.voice.voice_media import CLEAN_SPEECH_FIXTURE, SPEECH_FIXTURES, fixture_audio


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return load_speaker_encoder(model_manager(offline=True).resolve(MODEL_NAME))


def _track(name: str) -> PcmAudio:
    samples, rate = fixture_audio(name)
    return PcmAudio(samples, rate, "mono" if samples.shape[0] == 1 else "stereo")


def test_the_encoder_is_an_embedded_model_with_a_verified_hash() -> None:
    manager = model_manager(offline=True)
    location = manager.locate(MODEL_NAME)
    assert location is not None and location.origin is ModelOrigin.EMBEDDED
    report = manager.verify(MODEL_NAME)
    assert report.ok and report.fully_verified


@pytest.mark.parametrize("name", SPEECH_FIXTURES)
def test_two_halves_of_one_speaker_verify_as_the_same(encoder: SpeakerEncoder, name: str) -> None:
    samples, rate = fixture_audio(name)
    mono = samples.mean(axis=0)
    half = mono.size // 2
    assert cosine(encoder.embed(mono[:half], rate), encoder.embed(mono[half:], rate)) > (
        SAME_SPEAKER_THRESHOLD
    )


def test_different_speakers_do_not_verify(encoder: SpeakerEncoder) -> None:
    embeddings = [encoder.embed(fixture_audio(n)[0].mean(axis=0), fixture_audio(n)[1])
                  for n in SPEECH_FIXTURES]  # fmt: skip
    for i in range(len(embeddings)):
        for j in range(i + 1, len(embeddings)):
            assert cosine(embeddings[i], embeddings[j]) < SAME_SPEAKER_THRESHOLD


@pytest.mark.parametrize("name", SPEECH_FIXTURES)
def test_default_mcadams_no_longer_verifies_as_the_speaker(
    encoder: SpeakerEncoder, name: str
) -> None:
    track = _track(name)
    (disguised,) = disguise_tracks([track], VoiceSettings(VoiceMethod.MCADAMS))
    check = check_voice(track, disguised, encoder)
    assert check.similarity is not None and not check.recognisable, check
    assert check.stoi is not None and check.stoi > 0.5  # still intelligible


def test_default_pitch_shift_no_longer_verifies_on_clean_speech(encoder: SpeakerEncoder) -> None:
    track = _track(CLEAN_SPEECH_FIXTURE)
    (disguised,) = disguise_tracks([track], VoiceSettings(VoiceMethod.PITCH))
    assert not check_voice(track, disguised, encoder).recognisable


def test_an_undisguised_voice_is_reported_recognisable(encoder: SpeakerEncoder) -> None:
    track = _track(CLEAN_SPEECH_FIXTURE)
    check = check_voice(track, track, encoder)
    assert check.recognisable and check.similarity == pytest.approx(1.0, abs=1e-5)
    assert check.stoi == pytest.approx(1.0, abs=1e-3)


def test_silence_is_no_speech_not_a_pass_by_accident(encoder: SpeakerEncoder) -> None:
    silent = PcmAudio(np.zeros((1, 32_000), np.float32), 16_000, "mono")
    check = check_voice(silent, silent, encoder)
    assert check.similarity is None and not check.recognisable


@pytest.mark.parametrize("seconds", [0.03, 0.2, 0.38, 2.0])
def test_speech_shorter_than_the_pause_gate_is_prepared(seconds: float) -> None:
    """A clip of fewer 30 ms windows than the gate's kernel (13) crashed the audit of a
    short export (issue 16); long pauses are still cut from longer ones."""
    t = np.arange(int(seconds * ENCODER_RATE)) / ENCODER_RATE
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    assert prepare_speech(tone, ENCODER_RATE).size == tone.size // 480 * 480
    silence = np.zeros(ENCODER_RATE)  # a 1 s pause between two bursts: 2 x 180 ms kept
    gated = prepare_speech(np.concatenate([tone, silence, tone]), ENCODER_RATE)
    kept_pause = gated.size - 2 * tone.size
    assert 11 * 480 <= kept_pause <= 14 * 480  # window alignment moves it by one or two
