"""Streaming content hashes of source videos and sidecar files, with progress and cancel."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from anonnet_studio.core.errors import MediaNotFoundError, MediaUnreadableError
from anonnet_studio.core.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressThrottle,
    check_cancel,
)
from anonnet_studio.project.schema import SourceMedia

_CHUNK_BYTES = 1 << 20


def sha256_file(
    path: str | os.PathLike[str],
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    stage: str = "Hashing",
) -> str:
    """Hex sha256 of a whole file, read in chunks; progress counts bytes.

    Raises OSError when the file cannot be read and OperationCancelled when cancelled.
    """
    report = ProgressThrottle(on_progress)
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        total = os.fstat(stream.fileno()).st_size
        done = 0
        report(Progress(stage, 0, total, unit="B"))
        while chunk := stream.read(_CHUNK_BYTES):
            check_cancel(cancel)
            digest.update(chunk)
            done += len(chunk)
            report(Progress(stage, done, total, unit="B"))
    report(
        Progress(stage, done, done, unit="B")
    )  # final update even when the size changed meanwhile
    return digest.hexdigest()


def describe_source(
    path: str | os.PathLike[str],
    media_info: dict[str, Any],
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> SourceMedia:
    """The `SourceMedia` record of a video: absolute path, size and content hash."""
    absolute = Path(path).expanduser().resolve()
    try:
        sha256 = sha256_file(
            absolute, on_progress=on_progress, cancel=cancel, stage="Fingerprinting video"
        )
        size = absolute.stat().st_size
    except FileNotFoundError:
        raise MediaNotFoundError(f"The video {absolute} does not exist.") from None
    except OSError as exc:
        raise MediaUnreadableError(
            f"The video {absolute} cannot be read: {exc.strerror or exc}."
        ) from None
    return SourceMedia(
        path=str(absolute), sha256=sha256, size_bytes=size, media_info=dict(media_info)
    )


def source_unchanged(
    source: SourceMedia,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> bool:
    """True when the file at `source.path` still has the recorded size and content hash.

    A missing or unreadable file counts as changed; the size is compared first so that a
    different file is usually recognised without reading it.
    """
    try:
        if os.stat(source.path).st_size != source.size_bytes:
            return False
        digest = sha256_file(
            source.path, on_progress=on_progress, cancel=cancel, stage="Checking video"
        )
    except OSError:
        return False
    return digest == source.sha256
