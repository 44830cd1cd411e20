"""Processed audio through the media engine's writer: exact sync, untouched video, bad
input (no audio, mono to 5.1, 8 to 96 kHz, a range outside the clip)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from anonnet_studio.core.errors import OutputError
from anonnet_studio.core.media import VideoReader, VideoWriter
from anonnet_studio.core.media.pcm import PcmAudio, decode_audio_tracks
from anonnet_studio.core.voice.export_step import prepare_audio
from anonnet_studio.core.voice.settings import (
    MuteRange,
    VoiceMethod,
    VoiceSettings,
    VoiceSettingsError,
)
from tests.conftest import fixture_video
from tests.core.voice.voice_media import decode_pcm, make_speech_clip, video_frames

# AAC's long transform spans 2048 samples: the codec's own rounding noise from the speech
# next to a muted range can reach that far into it (measured: up to 1599 samples, below
# -56 dBFS, on a quiet 5.1 side channel; about 160 samples on speech, where AAC switches
# to short blocks). Beyond it the file is digital silence.
CODEC_EDGE = 2048


def _export(source: Path, dest: Path, audio: list[PcmAudio] | None) -> Path:
    with (
        VideoReader(source) as reader,
        VideoWriter(
            dest, source=reader.info, source_path=source, audio=audio, preset="ultrafast"
        ) as writer,
    ):
        for frame in reader.iter_frames():
            writer.write(np.array(frame.image), frame.index)
    return dest


@pytest.mark.parametrize(
    ("rate", "layout"),
    [(8_000, "mono"), (16_000, "mono"), (44_100, "stereo"), (48_000, "5.1"), (96_000, "stereo")],
)
def test_disguised_audio_keeps_rate_layout_and_sample_count(
    tmp_path: Path, rate: int, layout: str
) -> None:
    source = make_speech_clip(tmp_path / "in.mp4", rate=rate, layout=layout, seconds=2.0)
    mute = MuteRange(0.5, 1.0)
    prepared = prepare_audio(source, VoiceSettings(VoiceMethod.MCADAMS, mute_ranges=(mute,)))
    out = _export(source, tmp_path / "out.mp4", list(prepared.processed))

    (before,) = decode_pcm(source)
    (after,) = decode_pcm(out)
    assert after[1:] == before[1:]  # rate and channel count
    assert after[0].shape == before[0].shape  # to the sample
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.layout.name == layout
    first, end = int(mute.start_s * rate), int(mute.end_s * rate)
    assert not np.any(prepared.processed[0].samples[:, first:end])  # the PCM: to the sample
    assert not np.any(after[0][:, first + CODEC_EDGE : end - CODEC_EDGE])  # the file
    assert not np.allclose(after[0], before[0], atol=1e-3)  # and the voice was changed


def test_a_track_that_is_not_whole_aac_frames_keeps_its_exact_sample_count(
    tmp_path: Path,
) -> None:
    # lp_d11's AAC track decodes to 397,248 samples, 64 short of whole 1024-sample frames:
    # a plain re-encode would come back 64 samples longer.
    source = fixture_video("lp_d11.mp4")
    (before,) = decode_pcm(source)
    assert before[0].shape[1] % 1024 != 0
    prepared = prepare_audio(source, VoiceSettings(mute_ranges=(MuteRange(1.0, 2.0),)))
    (after,) = decode_pcm(_export(source, tmp_path / "out.mp4", list(prepared.processed)))
    assert after[0].shape == before[0].shape


def test_video_is_untouched_and_audio_stays_in_sync(tmp_path: Path) -> None:
    source = make_speech_clip(tmp_path / "in.mp4", rate=44_100, layout="stereo", seconds=3.0)
    copied = _export(source, tmp_path / "copied.mp4", None)
    # Mute only: the rest of the audio is the original, re-encoded, to compare timing.
    prepared = prepare_audio(source, VoiceSettings(mute_ranges=(MuteRange(1.0, 1.5),)))
    muted = _export(source, tmp_path / "muted.mp4", list(prepared.processed))

    def video_packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(video=0) if p.size]

    assert video_packets(muted) == video_packets(copied)
    frames_a, frames_b = video_frames(muted), video_frames(copied)
    assert len(frames_a) == len(frames_b) == 75
    assert all(np.array_equal(a, b) for a, b in zip(frames_a, frames_b, strict=True))

    original = decode_pcm(source)[0][0][0].astype(np.float64)
    output = decode_pcm(muted)[0][0][0].astype(np.float64)
    assert output.size == original.size
    kept = slice(0, 44_100)  # the first second, before the muted range
    lags = range(-40, 41)
    score = [np.dot(np.roll(output[kept], lag), original[kept]) for lag in lags]
    assert list(lags)[int(np.argmax(score))] == 0  # no shift, to the sample
    assert np.max(np.abs(output[kept] - original[kept])) < 0.05  # only the codec's rounding


def test_a_source_without_audio_gives_a_video_without_audio_and_a_warning(tmp_path: Path) -> None:
    source = make_speech_clip(tmp_path / "silent.mp4", with_audio=False)
    prepared = prepare_audio(source, VoiceSettings(VoiceMethod.PITCH))
    assert prepared.processed == () and "no audio stream" in prepared.warnings[0]
    out = _export(source, tmp_path / "out.mp4", list(prepared.processed))
    with av.open(str(out)) as container:
        assert not container.streams.audio and container.streams.video


def test_silent_audio_stays_digital_silence(tmp_path: Path) -> None:
    source = make_speech_clip(tmp_path / "in.mp4", audio=np.zeros(3 * 16_000))
    prepared = prepare_audio(source, VoiceSettings(VoiceMethod.MCADAMS))
    out = _export(source, tmp_path / "out.mp4", list(prepared.processed))
    (after,) = decode_audio_tracks(out)
    assert not np.any(after.samples)


def test_a_mute_range_outside_the_clip_fails_before_anything_is_written(tmp_path: Path) -> None:
    source = make_speech_clip(tmp_path / "in.mp4", seconds=2.0)
    with pytest.raises(VoiceSettingsError, match="starts after the end of the clip"):
        prepare_audio(source, VoiceSettings(mute_ranges=(MuteRange(5, 6),)))
    prepared = prepare_audio(source, VoiceSettings(mute_ranges=(MuteRange(1.5, 9),)))
    assert prepared.settings.mute_ranges[0].end_s == pytest.approx(2.0, abs=0.05)
    assert "runs past the end" in prepared.warnings[0]


def test_more_than_six_channels_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    source = make_speech_clip(tmp_path / "in.mp4", seconds=1.0)
    wide = PcmAudio(np.zeros((8, 16_000), np.float32), 16_000, "7.1")
    with VideoReader(source) as reader, pytest.raises(OutputError, match="limited to 6"):
        VideoWriter(tmp_path / "out.mp4", source=reader.info, source_path=source, audio=[wide])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
