"""Opening input files with PyAV and turning its exceptions into typed, readable errors.

Nothing in this package lets an `av.*` exception escape: every call into PyAV that can
fail on bad input goes through `open_input()` or `media_errors()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import av.container
import av.video.stream

from anonnet_studio.core.errors import (
    CorruptMediaError,
    MediaError,
    MediaNotFoundError,
    MediaUnreadableError,
    NoVideoStreamError,
    UnsupportedCodecError,
)

_NOT_MEDIA_HINT = "Check that it is a video file (for example MP4, MOV or MKV) and that it plays."
_DAMAGED_HINT = "The file may be incomplete (an interrupted download or copy); try the original."

# Magic numbers of containers PyAV reads, to tell "not a video at all" from "damaged video".
_MEDIA_SIGNATURES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"\x1aE\xdf\xa3", b"RIFF")


def check_readable(path: str | os.PathLike[str]) -> Path:
    """Return `path` as a Path if it is an existing, readable, non-empty file."""
    file = Path(path)
    if not file.exists():
        raise MediaNotFoundError(f"The file {file} does not exist.", hint="Check the path.")
    if file.is_dir():
        raise MediaUnreadableError(f"{file} is a folder, not a video file.")
    if not os.access(file, os.R_OK):
        raise MediaUnreadableError(
            f"The file {file} cannot be read (permission denied).",
            hint="Check the file's permissions.",
        )
    if file.stat().st_size == 0:
        raise CorruptMediaError(f"The file {file} is empty (0 bytes).", hint=_DAMAGED_HINT)
    return file


def _looks_like_media(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return any(sig in head for sig in _MEDIA_SIGNATURES)


def open_input(path: Path) -> av.container.InputContainer:
    """Open `path` for demuxing; raise a `MediaError` subclass on any failure."""
    try:
        return av.open(str(path), mode="r")
    except (FileNotFoundError, av.FileNotFoundError) as exc:
        raise MediaNotFoundError(f"The file {path} does not exist.") from exc
    except (PermissionError, av.PermissionError, IsADirectoryError, av.IsADirectoryError) as exc:
        raise MediaUnreadableError(f"The file {path} cannot be read ({exc.strerror}).") from exc
    except av.EOFError as exc:
        raise CorruptMediaError(
            f"The file {path.name} ends before any video data (it is empty or cut off).",
            hint=_DAMAGED_HINT,
        ) from exc
    except av.InvalidDataError as exc:
        if _looks_like_media(path):
            raise CorruptMediaError(
                f"The video {path.name} is damaged or truncated and cannot be opened.",
                hint=_DAMAGED_HINT,
            ) from exc
        raise CorruptMediaError(
            f"{path.name} is not a video file that can be read.", hint=_NOT_MEDIA_HINT
        ) from exc
    except (av.FFmpegError, OSError) as exc:
        raise CorruptMediaError(
            f"The file {path.name} cannot be opened as a video: {exc}.", hint=_NOT_MEDIA_HINT
        ) from exc


def first_video_stream(
    container: av.container.InputContainer, path: Path
) -> av.video.stream.VideoStream:
    """The first real video stream (cover art excluded), with a decoder available."""
    candidates = [
        stream
        for stream in container.streams.video
        if not (stream.disposition & av.stream.Disposition.attached_pic)
    ]
    if not candidates:
        kinds = sorted({stream.type for stream in container.streams})
        content = f"it contains {', '.join(kinds)} streams only" if kinds else "it is empty"
        raise NoVideoStreamError(
            f"{path.name} has no video stream ({content}).",
            hint="Choose a video file; audio-only files cannot be anonymized.",
        )
    stream = candidates[0]
    codec_context = stream.codec_context
    if codec_context is None or codec_context.name in ("", "none"):
        tag = _codec_tag(stream)
        raise UnsupportedCodecError(
            f"The video codec of {path.name}{tag} is not supported.",
            hint="Convert the file to H.264 MP4 with another tool first.",
        )
    return stream


def video_stream_at(
    container: av.container.InputContainer, index: int
) -> av.video.stream.VideoStream:
    """The video stream with container stream index `index` (as found by a probe)."""
    for stream in container.streams.video:
        if stream.index == index:
            return stream
    raise CorruptMediaError("The video stream disappeared while the file was open.")


def _codec_tag(stream: av.video.stream.VideoStream) -> str:
    try:
        tag = stream.codec_tag
    except (AttributeError, av.FFmpegError):
        return ""
    printable = tag.strip("\x00").strip()
    return f" ({printable!r})" if printable else ""


@contextmanager
def media_errors(path: Path, action: str) -> Iterator[None]:
    """Re-raise any PyAV/OS failure inside the block as a readable `MediaError`.

    `action` completes the sentence "... while <action>", e.g. "reading frames".
    """
    try:
        yield
    except MediaError:
        raise
    except av.DecoderNotFoundError as exc:
        raise UnsupportedCodecError(
            f"No decoder is available for {path.name} while {action}."
        ) from exc
    except av.PatchWelcomeError as exc:
        raise UnsupportedCodecError(
            f"{path.name} uses a codec feature that is not supported ({action})."
        ) from exc
    except (av.FFmpegError, OSError) as exc:
        raise CorruptMediaError(
            f"The video {path.name} is damaged: an error occurred while {action}.",
            hint=_DAMAGED_HINT,
        ) from exc
