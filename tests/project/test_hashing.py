"""Streaming content hashes of the source video, with progress and cancellation."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from anonnet_studio.core.errors import MediaNotFoundError, MediaUnreadableError, OperationCancelled
from anonnet_studio.core.progress import CancelToken, Progress
from anonnet_studio.project.hashing import describe_source, sha256_file, source_unchanged
from tests.conftest import fixture_video

VIDEO = "lp_d3.mp4"  # the largest clip: two 1 MiB read chunks


def test_sha256_matches_hashlib_and_reports_byte_progress() -> None:
    video = fixture_video(VIDEO)
    progress: list[Progress] = []
    digest = sha256_file(video, on_progress=progress.append)
    assert digest == hashlib.sha256(video.read_bytes()).hexdigest()
    size = video.stat().st_size
    assert progress[0].done == 0 and progress[-1].done == size
    assert all(p.total == size for p in progress)


class _CancelAfterChecks(CancelToken):
    """A real token that the "user" cancels once hashing has checked it `checks` times."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.remaining = checks

    def raise_if_cancelled(self) -> None:
        if self.remaining == 0:
            self.cancel()
        self.remaining -= 1
        super().raise_if_cancelled()


def test_cancel_stops_hashing_between_chunks() -> None:
    video = fixture_video(VIDEO)
    assert video.stat().st_size > 1 << 20  # more than one chunk
    with pytest.raises(OperationCancelled):
        sha256_file(video, cancel=_CancelAfterChecks(1))
    already = CancelToken()
    already.cancel()
    with pytest.raises(OperationCancelled):
        sha256_file(video, cancel=already)


def test_describe_source_records_absolute_path_size_and_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = fixture_video("lp_d18.mp4")
    monkeypatch.chdir(video.parent)
    source = describe_source(video.name, {"video": {"frame_count": 216}})
    assert Path(source.path).is_absolute() and Path(source.path) == video.resolve()
    assert source.size_bytes == video.stat().st_size
    assert source.sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
    assert source.media_info == {"video": {"frame_count": 216}}

    with pytest.raises(MediaNotFoundError, match="does not exist"):
        describe_source(tmp_path / "missing.mp4", {})
    with pytest.raises(MediaUnreadableError, match="cannot be read"):
        describe_source(tmp_path, {})


def test_source_unchanged_detects_edits_and_missing_files(tmp_path: Path) -> None:
    copy = tmp_path / "clip.mp4"
    shutil.copyfile(fixture_video("lp_d18.mp4"), copy)
    source = describe_source(copy, {})
    assert source_unchanged(source)

    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content
    copy.write_bytes(bytes(data))
    assert not source_unchanged(source)

    copy.write_bytes(bytes(data[:-10]))
    assert not source_unchanged(source)
    copy.unlink()
    assert not source_unchanged(source)
