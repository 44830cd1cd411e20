"""The same frames always encode to the same bytes: the audit report publishes the export's
sha256, and batch outputs must not depend on the number of workers. With veryfast's
subpixel refinement (2) and its macroblock tree, x264 gave two to six different files in
a dozen encodes of one clip, in one process and on one thread."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.core.media.info import MediaInfo
from anonnet_studio.core.media.probe import probe
from anonnet_studio.core.media.writer import VideoWriter
from tests.conftest import fixture_video
from tests.media_factory import decode_rgb

ENCODES = 16
FRAMES = 30
CLIPS = ("lp_d18.mp4", "lp_s18.mp4")


def _encode(frames: list[np.ndarray], info: MediaInfo, source: Path, dest: Path) -> str:
    with VideoWriter(dest, source=info, source_path=source) as writer:
        for index, image in enumerate(frames):
            writer.write(image, index)
    return hashlib.sha256(dest.read_bytes()).hexdigest()


@pytest.mark.parametrize("clip", CLIPS)
def test_the_same_frames_encode_to_the_same_bytes_every_time(clip: str, tmp_path: Path) -> None:
    source = fixture_video(clip)
    frames = [image for _, image in decode_rgb(source, max_frames=FRAMES)]
    # Part of each frame flattened, as a redaction does: the encoder's choices then differ
    # most between regions, where run-to-run differences showed.
    height, width = frames[0].shape[:2]
    face = np.s_[height // 4 : height * 7 // 8, width // 5 : width * 4 // 5]
    for image in frames:
        image[face] = image[face].mean(axis=(0, 1)).astype(np.uint8)
    info = probe(source)
    digests = {_encode(frames, info, source, tmp_path / f"out{n}.mp4") for n in range(ENCODES)}
    assert len(digests) == 1
