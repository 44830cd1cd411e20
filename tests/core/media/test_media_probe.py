"""probe(): exact facts on every real fixture and derived edge cases; typed errors."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import pytest

from anonnet_studio.core.errors import (
    CorruptMediaError,
    EmptyVideoError,
    MediaNotFoundError,
    MediaUnreadableError,
    NoVideoStreamError,
    UnsupportedCodecError,
)
from anonnet_studio.core.media import MediaInfo, probe
from tests.conftest import FIXTURE_VIDEOS
from tests.core.media.conftest import FIXTURE_FACTS, SHORT_FRAMES, VFR_FRAMES
from tests.core.media.media_testing import plain_frame_times


def test_every_fixture_is_listed() -> None:
    assert sorted(p.name for p in FIXTURE_VIDEOS) == sorted(FIXTURE_FACTS)


@pytest.mark.parametrize("path", FIXTURE_VIDEOS, ids=lambda p: p.name)
def test_fixture_facts(path: Path) -> None:
    info = probe(path)
    (width, height), fps, frames = FIXTURE_FACTS[path.name]
    video = info.video
    assert (video.width, video.height) == (width, height)
    assert video.fps == Fraction(fps)
    assert video.frame_count == frames
    assert video.frame_count == len(plain_frame_times(path))
    assert video.codec == "h264"
    assert video.rotation == 0
    assert not video.is_vfr
    assert not info.truncated
    assert video.duration_s == pytest.approx(frames / fps, abs=1e-6)
    assert len(info.audio) == 1 and info.audio[0].codec == "aac"
    assert info.audio[0].duration_s == pytest.approx(info.duration_s, abs=0.05)
    assert info.size_bytes == path.stat().st_size


def test_json_round_trip_and_required_keys() -> None:
    info = probe(FIXTURE_VIDEOS[0])
    data = json.loads(json.dumps(info.to_json_dict()))
    assert MediaInfo.from_json_dict(data) == info
    assert set(data) >= {"duration_s", "video", "audio"}
    assert set(data["video"]) >= {
        "width",
        "height",
        "fps",
        "fps_rational",
        "frame_count",
        "codec",
        "rotation",
    }
    assert isinstance(data["video"]["fps"], float)
    assert set(data["audio"][0]) >= {"codec", "sample_rate", "channels"}


def test_ntsc_rate_is_exact(ntsc_clip: Path) -> None:
    info = probe(ntsc_clip)
    assert info.video.fps == Fraction(30000, 1001)
    assert info.video.to_json_dict()["fps_rational"] == "30000/1001"
    assert not info.video.is_vfr
    assert info.video.frame_count == 60
    restored = MediaInfo.from_json_dict(json.loads(json.dumps(info.to_json_dict())))
    assert restored.video.fps == Fraction(30000, 1001)


def test_variable_frame_rate_detected(vfr_clip: Path) -> None:
    video = probe(vfr_clip).video
    assert video.is_vfr
    assert video.frame_count == VFR_FRAMES


def test_rotation_from_display_matrix(rotated_clip: Path) -> None:
    video = probe(rotated_clip).video
    assert video.rotation == 90
    assert (video.coded_width, video.coded_height) == (160, 240)
    assert (video.width, video.height) == (240, 160)


def test_odd_size_and_no_audio(odd_clip: Path, silent_clip: Path) -> None:
    odd = probe(odd_clip)
    assert (odd.video.width, odd.video.height) == (241, 181)
    assert odd.video.frame_count == SHORT_FRAMES
    assert probe(silent_clip).audio == ()


def test_truncated_file_reports_decodable_part(truncated_clip: Path, silent_clip: Path) -> None:
    info = probe(truncated_clip)
    assert info.truncated
    assert 0 < info.video.frame_count < probe(silent_clip).video.frame_count
    assert info.video.frame_count == len(plain_frame_times(truncated_clip))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFoundError, match="does not exist"):
        probe(tmp_path / "nowhere.mp4")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(MediaUnreadableError, match="folder"):
        probe(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without read permission")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.mp4"
    path.write_bytes(FIXTURE_VIDEOS[0].read_bytes()[:1000])
    path.chmod(0)
    with pytest.raises(MediaUnreadableError, match="permission"):
        probe(path)


def test_text_file_renamed_mp4(text_as_mp4: Path) -> None:
    with pytest.raises(CorruptMediaError, match="not a video file"):
        probe(text_as_mp4)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(CorruptMediaError, match="empty"):
        probe(path)


def test_cut_before_index(tmp_path: Path) -> None:
    # The fixtures keep their index (moov) at the end: cut in half, nothing is readable.
    path = tmp_path / "half.mp4"
    path.write_bytes(FIXTURE_VIDEOS[0].read_bytes()[: FIXTURE_VIDEOS[0].stat().st_size // 2])
    with pytest.raises(CorruptMediaError, match="damaged or truncated"):
        probe(path)


def test_audio_only(audio_only_file: Path) -> None:
    with pytest.raises(NoVideoStreamError, match="no video stream"):
        probe(audio_only_file)


def test_video_stream_without_frames(empty_video_file: Path) -> None:
    with pytest.raises(EmptyVideoError, match="no frames"):
        probe(empty_video_file)


def test_unknown_codec(unknown_codec_file: Path) -> None:
    with pytest.raises(UnsupportedCodecError, match="not supported"):
        probe(unknown_codec_file)
