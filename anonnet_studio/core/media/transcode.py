"""`transcode()`: decode every frame and re-encode it (tests, benchmarks, plain exports)."""

from __future__ import annotations

import os

from anonnet_studio.core.media.info import MediaInfo
from anonnet_studio.core.media.probe import probe
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.media.writer import VideoWriter
from anonnet_studio.core.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressThrottle,
    check_cancel,
)

STAGE = "Encoding video"


def transcode(
    source_path: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    crf: int = 18,
    preset: str = "veryfast",
    copy_audio: bool = True,
    threads: int = 0,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> MediaInfo:
    """Re-encode `source_path` to `dest` (H.264, audio kept); returns `probe(dest)`.

    Cancelling raises OperationCancelled and leaves no file at `dest`.
    """
    report = ProgressThrottle(on_progress)
    with VideoReader(source_path, threads=threads) as reader:
        total = reader.frame_count
        with VideoWriter(
            dest,
            source=reader.info,
            source_path=reader.info.path,
            crf=crf,
            preset=preset,
            copy_audio=copy_audio,
        ) as writer:
            report(Progress(STAGE, 0, total))
            for frame in reader.iter_frames():
                check_cancel(cancel)
                writer.write(frame.image, frame.index)
                report(Progress(STAGE, frame.index + 1, total))
    return probe(dest)
