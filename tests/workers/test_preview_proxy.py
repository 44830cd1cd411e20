"""The preview scrubs from the source's proxy once it is built; every other job (export,
analysis, generation) reads the source itself."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from anonnet_studio.core.media.proxy import ProxyBuilder, ProxyCache
from anonnet_studio.core.progress import CancelToken
from anonnet_studio.workers.handlers import render_preview
from anonnet_studio.workers.requests import ComputeConfig, PreviewRequest
from anonnet_studio.workers.services import ComputeServices
from tests.conftest import fixture_video
from tests.media_factory import make_variant

KEY = "c" * 64


@pytest.fixture
def source_1080p(tmp_path: Path) -> Path:
    return make_variant(
        fixture_video("lp_s18.mp4"), tmp_path / "s18_1080p.mp4", width=1920, height=1080,
        max_frames=30,
    )  # fmt: skip


def test_preview_scrubs_from_the_proxy_once_built_and_nothing_else_does(
    source_1080p, tmp_path
) -> None:
    builder = ProxyBuilder(ProxyCache(tmp_path / "proxies"))
    services = ComputeServices(ComputeConfig(offline=True), proxies=builder)
    request = PreviewRequest(source_1080p, 21, None, 0, max_side=640, source_hash=KEY)
    first = render_preview(request, services, lambda _: None, CancelToken())
    assert builder.wait(timeout=120) and builder.ready(KEY) is not None
    proxy_reader = services.preview_reader(source_1080p, KEY)
    assert proxy_reader is not None and proxy_reader.info.path == builder.ready(KEY)
    second = render_preview(request, services, lambda _: None, CancelToken())
    assert second.original.shape == first.original.shape == (360, 640, 3)
    expected = cv2.resize(proxy_reader.frame_at(21), (640, 360), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(second.original, expected)
    assert np.abs(second.original.astype(int) - first.original.astype(int)).mean() < 3.0
    # Exports, analysis and generation read through `reader`: always the source itself.
    assert services.reader(source_1080p).info.path == source_1080p
    services.close()
