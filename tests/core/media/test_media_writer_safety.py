"""VideoWriter safety: atomic output, cancellation, unwritable destinations, misuse."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.core.errors import MediaError, OperationCancelled, OutputError
from anonnet_studio.core.fileio import is_temp_name
from anonnet_studio.core.media import VideoReader, VideoWriter, probe, transcode
from anonnet_studio.core.progress import CancelToken, Progress, check_cancel
from tests.conftest import fixture_video


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def small_source(silent_clip: Path) -> Path:
    return silent_clip


class CancelAfterChecks(CancelToken):
    """A real cancel token that the user "presses" once `checks` frames have been polled."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self._left = checks
        self.polls = 0

    def raise_if_cancelled(self) -> None:
        self.polls += 1
        self._left -= 1
        if self._left <= 0:
            self.cancel()
        super().raise_if_cancelled()


def test_cancel_mid_transcode_leaves_nothing(small_source: Path, tmp_path: Path) -> None:
    token = CancelAfterChecks(10)
    seen: list[Progress] = []
    with pytest.raises(OperationCancelled):
        transcode(small_source, tmp_path / "out.mp4", on_progress=seen.append, cancel=token)
    assert token.polls == 10 < probe(small_source).video.frame_count
    # Throttled to ~10/s, so which updates arrive varies; none may claim more than was done.
    assert seen and all(update.done <= 9 for update in seen)
    assert _leftovers(tmp_path) == []


def test_cancel_inside_writer_block(small_source: Path, tmp_path: Path) -> None:
    info = probe(small_source)
    token = CancelToken()
    with (
        VideoReader(small_source) as reader,
        pytest.raises(OperationCancelled),
        VideoWriter(tmp_path / "out.mp4", source=info, source_path=small_source) as writer,
    ):
        for frame in reader.iter_frames():
            check_cancel(token)
            writer.write(frame.image, frame.index)
            if frame.index == 12:
                token.cancel()
    assert writer.frames_written == 13
    assert _leftovers(tmp_path) == []


def test_cancel_keeps_an_existing_destination(small_source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "previous_export.mp4"
    dest.write_bytes(b"the previous export")
    token = CancelToken()
    token.cancel()
    with pytest.raises(OperationCancelled):
        transcode(small_source, dest, cancel=token)
    assert dest.read_bytes() == b"the previous export"
    assert _leftovers(tmp_path) == ["previous_export.mp4"]


def test_exception_inside_with_removes_temp(small_source: Path, tmp_path: Path) -> None:
    info = probe(small_source)
    with (
        VideoReader(small_source) as reader,
        pytest.raises(RuntimeError, match="boom"),
        VideoWriter(tmp_path / "out.mp4", source=info, source_path=small_source) as writer,
    ):
        for frame in reader.iter_frames(end=5):
            writer.write(frame.image, frame.index)
        assert any(is_temp_name(name) for name in _leftovers(tmp_path))
        raise RuntimeError("boom")
    assert _leftovers(tmp_path) == []


def test_partial_write_and_side_by_side_size(small_source: Path, tmp_path: Path) -> None:
    info = probe(small_source)
    size = (info.video.width * 2, info.video.height)
    dest = tmp_path / "two_up.mp4"
    with (
        VideoReader(small_source) as reader,
        VideoWriter(
            dest, source=info, source_path=small_source, size=size, copy_audio=False
        ) as writer,
    ):
        for frame in reader.iter_frames(stride=3):
            writer.write(np.concatenate([frame.image, frame.image[:, ::-1]], axis=1), frame.index)
    output = probe(dest)
    assert (output.video.width, output.video.height) == size
    assert output.video.frame_count == len(range(0, info.video.frame_count, 3))
    assert _leftovers(tmp_path) == ["two_up.mp4"]


def test_missing_folder_fails_before_encoding(small_source: Path, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        VideoWriter(tmp_path / "no" / "x.mp4", source=probe(small_source), source_path=small_source)


def test_parent_is_a_file(small_source: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        VideoWriter(blocker / "out.mp4", source=probe(small_source), source_path=small_source)


def test_destination_is_a_folder(small_source: Path, tmp_path: Path) -> None:
    (tmp_path / "out.mp4").mkdir()
    with pytest.raises(OutputError, match="folder"):
        VideoWriter(tmp_path / "out.mp4", source=probe(small_source), source_path=small_source)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_folder(small_source: Path, tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="permission"):
            VideoWriter(folder / "out.mp4", source=probe(small_source), source_path=small_source)
    finally:
        folder.chmod(0o755)


def test_unsupported_extension(small_source: Path, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"\.avi"):
        VideoWriter(tmp_path / "out.avi", source=probe(small_source), source_path=small_source)
    assert _leftovers(tmp_path) == []


def test_never_overwrites_the_source(small_source: Path, tmp_path: Path) -> None:
    copy = tmp_path / "source.mp4"
    copy.write_bytes(small_source.read_bytes())
    with pytest.raises(OutputError, match="source"):
        VideoWriter(copy, source=probe(copy), source_path=copy)
    assert copy.read_bytes() == small_source.read_bytes()


def test_changed_source_is_refused(tmp_path: Path) -> None:
    stale = probe(fixture_video("lp_d18.mp4"))
    with pytest.raises(MediaError, match="changed"):
        VideoWriter(tmp_path / "out.mp4", source=stale, source_path=fixture_video("lia_vox2.mp4"))


def test_misuse_is_reported(small_source: Path, tmp_path: Path) -> None:
    info = probe(small_source)
    with VideoWriter(tmp_path / "out.mp4", source=info, source_path=small_source) as writer:
        black = np.zeros((info.video.height, info.video.width, 3), np.uint8)
        writer.write(black, 3)
        with pytest.raises(ValueError, match="increase"):
            writer.write(black, 3)
        with pytest.raises(ValueError, match="shape"):
            writer.write(black[:-2], 4)
        writer.write(black, 4)
    assert probe(tmp_path / "out.mp4").video.frame_count == 2


def test_no_frames_written(small_source: Path, tmp_path: Path) -> None:
    info = probe(small_source)
    with (
        pytest.raises(OutputError, match="No frames"),
        VideoWriter(tmp_path / "out.mp4", source=info, source_path=small_source),
    ):
        pass
    assert _leftovers(tmp_path) == []


def test_bad_encoder_settings_fail_before_any_file(small_source: Path, tmp_path: Path) -> None:
    info = probe(small_source)
    with pytest.raises(ValueError, match="preset"):
        VideoWriter(tmp_path / "out.mp4", source=info, source_path=small_source, preset="warp")
    with pytest.raises(ValueError, match="crf"):
        VideoWriter(tmp_path / "out.mp4", source=info, source_path=small_source, crf=60)
    assert _leftovers(tmp_path) == []
