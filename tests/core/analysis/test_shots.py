"""Cut detection on a montage of real clips (d18, d19, d18 again, d3) and on a fade."""

from __future__ import annotations

import itertools

import av
import numpy as np
import pytest

from anonnet_studio.core.analysis.shots import ShotDetector
from tests.conftest import fixture_video


def _decode_small(name: str, limit: int | None = None) -> list[np.ndarray]:
    frames = []
    with av.open(str(fixture_video(name))) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(width=160, height=160, format="rgb24"))
            if limit and len(frames) >= limit:
                break
    return frames


@pytest.fixture(scope="module")
def montage() -> tuple[list[np.ndarray], list[int]]:
    frames: list[np.ndarray] = []
    cuts: list[int] = []
    for name in ("lp_d18.mp4", "lp_d19.mp4", "lp_d18.mp4", "lp_d3.mp4"):
        if frames:
            cuts.append(len(frames))
        frames.extend(_decode_small(name))
    return frames, cuts


def test_hard_cuts_found_within_one_frame(montage: tuple[list[np.ndarray], list[int]]) -> None:
    frames, expected = montage
    detector = ShotDetector(30)
    for index, frame in enumerate(frames):
        detector.push(index, frame)
    found = detector.cuts
    assert len(found) == len(expected), found
    for cut, truth in zip(found, expected, strict=True):
        assert abs(cut - truth) <= 1
    shots = detector.shots(len(frames))
    assert shots[0][0] == 0 and shots[-1][1] == len(frames)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(shots))


def test_fade_through_black_is_not_a_storm_of_cuts() -> None:
    first = _decode_small("lp_d18.mp4", 90)
    second = _decode_small("lp_d3.mp4", 120)
    fade_out = [(f * (1 - k / 30)).astype(np.uint8) for k, f in enumerate(first[-30:])]
    fade_in = [(second[0] * (k / 30)).astype(np.uint8) for k in range(30)]
    sequence = first[:-30] + fade_out + fade_in + second
    detector = ShotDetector(30)
    for index, frame in enumerate(sequence):
        detector.push(index, frame)
    # A fade may be read as one transition at most, never as a run of cuts.
    assert len(detector.cuts) <= 1


def test_minimum_shot_length_is_enforced() -> None:
    clip = _decode_small("lp_d18.mp4", 60)
    other = _decode_small("lp_d3.mp4", 60)
    # Alternate every 3 frames: real cuts, but shorter than the 0.5 s minimum shot.
    sequence = [clip[i] if (i // 3) % 2 == 0 else other[i] for i in range(60)]
    detector = ShotDetector(30)
    for index, frame in enumerate(sequence):
        detector.push(index, frame)
    shots = detector.shots(60)
    assert all(end - start >= detector.min_shot_frames for start, end in shots)
