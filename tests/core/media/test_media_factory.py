"""The shared test-media helpers produce what they promise (other suites rely on them)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from anonnet_studio.core.media import VideoReader, probe
from tests.conftest import fixture_video
from tests.media_factory import make_montage, make_side_by_side


def test_montage_cuts_are_where_reported(tmp_path: Path) -> None:
    clips = [fixture_video(n) for n in ("lp_d18.mp4", "lp_d11.mp4", "lp_d18.mp4")]
    cuts = make_montage(clips, tmp_path / "montage.mp4", (160, 120), max_frames_per_clip=15)
    assert cuts == [15, 30]
    with VideoReader(tmp_path / "montage.mp4") as reader:
        assert reader.frame_count == 45
        assert not reader.info.video.is_vfr
        frames = [f.image.astype(np.int16) for f in reader.iter_frames()]
    change = [float(np.abs(b - a).mean()) for a, b in itertools.pairwise(frames)]
    at_cuts = [change[c - 1] for c in cuts]
    elsewhere = [d for i, d in enumerate(change) if i + 1 not in cuts]
    assert min(at_cuts) > 3 * max(elsewhere)


def test_side_by_side(tmp_path: Path) -> None:
    dest = make_side_by_side(
        fixture_video("lp_d18.mp4"),
        fixture_video("lp_d19.mp4"),
        tmp_path / "two_shot.mp4",
        (320, 160),
        max_frames=10,
    )
    info = probe(dest)
    assert (info.video.width, info.video.height) == (320, 160)
    assert info.video.frame_count == 10
    with VideoReader(dest) as reader:
        image = reader.frame_at(0).astype(np.int16)
    assert np.abs(image[:, :160] - image[:, 160:]).mean() > 10  # two different people
