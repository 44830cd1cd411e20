"""VideoReader: sequential decode, exact random access, stride/downscale, rotation."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from anonnet_studio.core.media import VideoReader
from tests.conftest import FIXTURE_VIDEOS, fixture_video
from tests.core.media.conftest import SHORT_FRAMES
from tests.core.media.media_testing import plain_frame_times, psnr


def _digest(image: np.ndarray) -> str:
    return hashlib.sha1(image.tobytes()).hexdigest()


@pytest.mark.parametrize("path", FIXTURE_VIDEOS, ids=lambda p: p.name)
def test_sequential_then_random_access_match(path: Path) -> None:
    rng = np.random.default_rng(20240601)
    with VideoReader(path) as reader:
        info = reader.info.video
        digests, times = [], []
        for expected_index, frame in enumerate(reader.iter_frames()):
            assert frame.index == expected_index
            assert frame.image.shape == (info.height, info.width, 3)
            assert frame.image.dtype == np.uint8
            digests.append(_digest(frame.image))
            times.append(frame.time_s)
        assert len(digests) == info.frame_count
        plain = plain_frame_times(path)
        assert times == pytest.approx([float(t - plain[0]) for t in sorted(plain)], abs=1e-9)
        assert reader.frame_pts.size == info.frame_count
        assert np.all(np.diff(reader.frame_pts) > 0)

        # Random jumps, a backward walk and a forward walk, all against the sequential decode.
        jumps = [int(i) for i in rng.integers(0, info.frame_count, size=12)]
        last = info.frame_count - 1
        walks = [last, last - 1, last - 2, 3, 4, 5, 6, 0]
        for index in jumps + walks:
            assert _digest(reader.frame_at(index)) == digests[index], f"frame {index}"


def test_random_access_with_many_keyframes(short_gop_clip: Path) -> None:
    """Open GOPs with B-frames every 12 frames: seeks land on real keyframes."""
    with VideoReader(short_gop_clip) as reader:
        sequential = [frame.image for frame in reader.iter_frames()]
        assert len(sequential) == reader.frame_count == 120
        rng = np.random.default_rng(7)
        order = [int(i) for i in rng.permutation(reader.frame_count)[:40]]
        for index in [*order, 11, 12, 13, 23, 24, 119, 0]:
            assert np.array_equal(reader.frame_at(index), sequential[index]), f"frame {index}"
        for start in (0, 5, 12, 13, 37):
            window = list(reader.iter_frames(start=start, end=start + 8))
            assert [f.index for f in window] == list(range(start, start + 8))
            for frame in window:
                assert np.array_equal(frame.image, sequential[frame.index])


def test_stepping_reuses_the_decoder_and_cache(short_gop_clip: Path) -> None:
    with VideoReader(short_gop_clip) as reader:
        reader.frame_at(50)
        after_jump = reader.seek_count
        assert after_jump == 1
        for index in range(51, 61):  # stepping forward continues decoding
            reader.frame_at(index)
        for index in range(60, 47, -1):  # back to the seek point: served by the cache
            reader.frame_at(index)
        assert reader.seek_count == after_jump
        reader.frame_at(100)  # keyframes lie between: jumping is cheaper than decoding on
        assert reader.seek_count == after_jump + 1


def test_stride_range_and_downscale() -> None:
    path = fixture_video("lp_s18.mp4")
    with VideoReader(path) as reader:
        frames = list(reader.iter_frames(start=10, end=100, stride=7, max_side=320))
        assert [f.index for f in frames] == list(range(10, 100, 7))
        assert all(f.image.shape == (180, 320, 3) for f in frames)
        full = reader.frame_at(frames[3].index)
        reference = cv2.resize(full, (320, 180), interpolation=cv2.INTER_AREA)
        assert psnr(frames[3].image, reference) > 35
        assert np.array_equal(reader.frame_at(frames[3].index, max_side=320), frames[3].image)
        assert list(reader.iter_frames(start=50, end=50)) == []


def test_ntsc_times_are_exact(ntsc_clip: Path) -> None:
    with VideoReader(ntsc_clip) as reader:
        frames = {f.index: f for f in reader.iter_frames(stride=15)}
        for index, frame in frames.items():
            assert frame.time_s == pytest.approx(float(index * Fraction(1001, 30000)), abs=1e-9)
        assert reader.index_at_time(frames[30].time_s + 0.001) == 30
        assert reader.time_of(30) == frames[30].time_s


def test_rotated_clip_is_upright(rotated_clip: Path, upright_small_clip: Path) -> None:
    with VideoReader(rotated_clip) as rotated, VideoReader(upright_small_clip) as upright:
        for turned, straight in zip(
            rotated.iter_frames(stride=10), upright.iter_frames(stride=10), strict=True
        ):
            assert turned.image.shape == (160, 240, 3)
            assert psnr(turned.image, straight.image) > 30
        assert rotated.frame_at(SHORT_FRAMES - 1).shape == (160, 240, 3)


def test_truncated_file_decodes_what_is_there(truncated_clip: Path) -> None:
    with VideoReader(truncated_clip) as reader:
        frames = list(reader.iter_frames())
        assert len(frames) == reader.frame_count > 0
        assert np.array_equal(reader.frame_at(reader.frame_count - 1), frames[-1].image)


def test_index_out_of_range() -> None:
    with VideoReader(fixture_video("lia_vox2.mp4")) as reader:
        with pytest.raises(IndexError):
            reader.frame_at(reader.frame_count)
        with pytest.raises(IndexError):
            reader.frame_at(-1)
