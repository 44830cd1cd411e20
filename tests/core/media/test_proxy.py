"""Preview proxies: frame-for-frame, short GOP, preview-sized, atomic, cached with a cap."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.core.errors import OperationCancelled
from anonnet_studio.core.media.proxy import (
    PROXY_GOP,
    PROXY_MAX_SIDE,
    ProxyBuilder,
    ProxyCache,
    build_proxy,
)
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.progress import CancelToken
from tests.conftest import fixture_video
from tests.media_factory import make_variant

KEY = "a" * 64


@pytest.fixture(scope="module")
def source_1080p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("proxy_source")
    return make_variant(
        fixture_video("lp_s18.mp4"), folder / "s18_1080p.mp4", width=1920, height=1080,
        max_frames=40,
    )  # fmt: skip


def test_proxy_is_a_frame_for_frame_short_gop_preview_copy(source_1080p, tmp_path) -> None:
    proxy = build_proxy(source_1080p, tmp_path / "proxy.mp4")
    with VideoReader(source_1080p) as source, VideoReader(proxy) as copy:
        assert copy.frame_count == source.frame_count
        np.testing.assert_array_equal(copy.frame_pts, source.frame_pts)
        assert max(copy.info.video.width, copy.info.video.height) == PROXY_MAX_SIDE
        assert not copy.info.audio
        for index in range(copy.frame_count):
            assert index - copy.keyframe_at_or_before(index) < PROXY_GOP
        for index in (0, 17, 39):
            expected = source.frame_at(index, max_side=PROXY_MAX_SIDE).astype(np.float32)
            shown = copy.frame_at(index).astype(np.float32)
            assert np.abs(shown - expected).mean() < 3.0  # same picture, display quality
        later = source.frame_at(39, max_side=PROXY_MAX_SIDE).astype(np.float32)
        assert np.abs(copy.frame_at(0).astype(np.float32) - later).mean() > 3.0


def test_proxies_are_readable_by_their_user_only(source_1080p, tmp_path) -> None:
    cache = ProxyCache(tmp_path / "cache")
    path = cache.build(source_1080p, KEY)
    assert path.stat().st_mode & 0o777 == 0o600  # it shows the original faces
    assert cache.folder.stat().st_mode & 0o777 == 0o700
    cache.clear()
    assert not path.exists()


def test_cancelled_build_leaves_no_file(source_1080p, tmp_path) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(OperationCancelled):
        build_proxy(source_1080p, tmp_path / "proxy.mp4", cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_cache_trims_least_recently_used_beyond_its_cap(tmp_path) -> None:
    cache = ProxyCache(tmp_path, cap_bytes=250)
    keys = [f"{n:08d}" for n in range(3)]
    for age, key in enumerate(keys):
        path = cache.path_for(key)
        path.write_bytes(b"x" * 100)
        stamp = 1_000_000 + age
        os.utime(path, (stamp, stamp))
    assert cache.get(keys[0]) is not None  # used now: the newest
    cache.trim()
    assert sorted(p.stem for p in tmp_path.glob("*.mp4")) == [keys[0], keys[2]]
    cache.clear()
    assert list(tmp_path.glob("*.mp4")) == []
    with pytest.raises(ValueError, match="source hash"):
        cache.path_for("../../etc/passwd")


def test_builder_builds_in_the_background_and_reports_failures(source_1080p, tmp_path) -> None:
    builder = ProxyBuilder(ProxyCache(tmp_path / "proxies"))
    assert builder.ready(KEY) is None
    builder.start(source_1080p, KEY)
    assert builder.wait(timeout=120)
    assert builder.error is None
    assert builder.ready(KEY) == tmp_path / "proxies" / f"{KEY}.mp4"
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    builder.start(broken, "b" * 64)
    assert builder.wait(timeout=60)
    assert builder.error is not None and builder.ready("b" * 64) is None
