"""VideoWriter / transcode: exact timing, audio, quality, metadata, atomic output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.core.media import MediaInfo, VideoReader, probe, transcode
from tests.conftest import FIXTURE_VIDEOS
from tests.core.media.conftest import INJECTED_STREAM_TAGS, INJECTED_TAGS
from tests.core.media.media_testing import (
    all_metadata,
    audio_packets,
    plain_frame_times,
    psnr,
)


def _min_psnr(source: Path, output: Path, stride: int) -> float:
    """Lowest PSNR over every `stride`-th frame, comparing the source-sized region."""
    with VideoReader(source) as original, VideoReader(output) as encoded:
        assert encoded.frame_count == original.frame_count
        worst = float("inf")
        for a, b in zip(
            original.iter_frames(stride=stride), encoded.iter_frames(stride=stride), strict=True
        ):
            height, width = a.image.shape[:2]
            worst = min(worst, psnr(a.image, b.image[:height, :width]))
    return worst


def _assert_same_timing(source: MediaInfo, output: MediaInfo) -> None:
    assert output.video.frame_count == source.video.frame_count
    frame = source.video.frame_duration_s
    assert abs(output.video.duration_s - source.video.duration_s) <= frame
    assert abs(output.duration_s - source.duration_s) <= frame
    assert plain_frame_times(output.path) == plain_frame_times(source.path)


@pytest.mark.parametrize("path", FIXTURE_VIDEOS, ids=lambda p: p.name)
def test_round_trip_keeps_frames_timing_audio_and_quality(path: Path, tmp_path: Path) -> None:
    source = probe(path)
    output = transcode(path, tmp_path / "out.mp4")
    _assert_same_timing(source, output)
    assert (output.video.width, output.video.height) == (source.video.width, source.video.height)
    assert output.video.codec == "h264" and output.video.pix_fmt == "yuv420p"
    assert len(output.audio) == 1
    assert abs(output.audio[0].duration_s - source.audio[0].duration_s) <= 0.020
    assert audio_packets(output.path) == audio_packets(path)  # stream-copied, untouched
    assert _min_psnr(path, output.path, stride=9) > 35


def test_ntsc_and_vfr_timestamps_survive(ntsc_clip: Path, vfr_clip: Path, tmp_path: Path) -> None:
    for clip in (ntsc_clip, vfr_clip):
        source = probe(clip)
        output = transcode(clip, tmp_path / f"out_{clip.name}")
        _assert_same_timing(source, output)
        assert output.video.fps == source.video.fps
        assert output.video.is_vfr == source.video.is_vfr


def test_odd_size_is_padded_by_one_pixel(odd_clip: Path, tmp_path: Path) -> None:
    output = transcode(odd_clip, tmp_path / "odd.mp4")
    assert (output.video.width, output.video.height) == (242, 182)
    assert _min_psnr(odd_clip, output.path, stride=7) > 35
    with VideoReader(output.path) as reader:
        image = reader.frame_at(0)
    # The padding repeats the last column/row rather than adding a black edge.
    assert np.abs(image[:, -1].astype(int) - image[:, -2]).mean() < 4
    assert np.abs(image[-1].astype(int) - image[-2]).mean() < 4


def test_rotation_is_baked_in(rotated_clip: Path, tmp_path: Path) -> None:
    output = transcode(rotated_clip, tmp_path / "upright.mp4")
    assert output.video.rotation == 0
    assert (output.video.coded_width, output.video.coded_height) == (240, 160)
    assert (output.video.width, output.video.height) == (240, 160)
    assert not any("rotate" in key for key in all_metadata(output.path))
    assert _min_psnr(rotated_clip, output.path, stride=10) > 35


def test_identifying_metadata_is_stripped(tagged_clip: Path, tmp_path: Path) -> None:
    injected = all_metadata(tagged_clip)
    # The input really carries the tags, so this test can fail.
    assert injected.get("location") == INJECTED_TAGS["location"]
    assert injected.get("com.apple.quicktime.model") == INJECTED_TAGS["model"]
    assert injected.get("0:handler_name") == INJECTED_STREAM_TAGS["handler_name"]

    output = transcode(tagged_clip, tmp_path / "clean.mp4")
    tags = all_metadata(output.path)
    forbidden_keys = ("creation_time", "location", "make", "model", "encoder", "comment")
    assert not [key for key in tags if any(word in key.lower() for word in forbidden_keys)]
    secrets = {*INJECTED_TAGS.values(), *INJECTED_STREAM_TAGS.values()}
    assert not secrets & set(tags.values())
    raw = output.path.read_bytes()
    for text in ("iPhone", "Alice", "+48.8584", "HandBrake", "2021-06-01"):
        assert text.encode() not in raw


def test_silent_source_and_copy_audio_off(silent_clip: Path, tmp_path: Path) -> None:
    assert transcode(silent_clip, tmp_path / "silent.mp4").audio == ()
    dropped = transcode(FIXTURE_VIDEOS[0], tmp_path / "dropped.mp4", copy_audio=False)
    assert dropped.audio == ()


def test_audio_reencoded_when_container_refuses_codec(pcm_mov_clip: Path, tmp_path: Path) -> None:
    source = probe(pcm_mov_clip)
    assert source.audio[0].codec == "pcm_s16le"
    output = transcode(pcm_mov_clip, tmp_path / "aac.mp4")
    assert output.audio[0].codec == "aac"
    assert output.audio[0].sample_rate == source.audio[0].sample_rate
    assert abs(output.audio[0].duration_s - source.audio[0].duration_s) <= 0.05
    # MOV takes PCM as it is.
    kept = transcode(pcm_mov_clip, tmp_path / "pcm.mov")
    assert kept.audio[0].codec == "pcm_s16le"
    assert audio_packets(kept.path) == audio_packets(pcm_mov_clip)


def test_matroska_output(silent_clip: Path, tmp_path: Path) -> None:
    output = transcode(silent_clip, tmp_path / "out.mkv")
    assert "matroska" in output.container
    assert output.video.frame_count == probe(silent_clip).video.frame_count
