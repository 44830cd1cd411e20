"""`VideoWriter`: H.264 output at the source's exact timestamps, with the source's audio,
no identifying metadata, written atomically (temp file + rename)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import av
import av.container
import av.video.stream
import numpy as np

from anonnet_studio.core.errors import MediaError, OutputError
from anonnet_studio.core.fileio import OutputTransaction, TempFile
from anonnet_studio.core.media._audio import AudioCarrier
from anonnet_studio.core.media._convert import even_size, pad_to_even, rgb_to_frame, swscale_matrix
from anonnet_studio.core.media._index import FrameIndex
from anonnet_studio.core.media._pcm_encoder import PcmAudioEncoder
from anonnet_studio.core.media.info import MediaInfo
from anonnet_studio.core.media.pcm import PcmAudio
from anonnet_studio.core.media.probe import probe_with_index

# Output container by file extension (the muxer name FFmpeg expects).
OUTPUT_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
_X264_FRAME_THREADS = 4
_AVCOL_RANGE_MPEG = 1
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)


class VideoWriter:
    """Encodes upright RGB frames to H.264 (yuv420p) at the source frames' timestamps.

    `write(image, frame_index)` places the image at the source's pts for that frame, so
    29.97 fps and variable frame rate timing survive exactly; indices must increase.
    Odd output dimensions are padded by one pixel (last row/column repeated), since
    yuv420p needs even sizes: the output is then 1 px wider/taller, no pixel is lost.
    Audio streams are copied unchanged when the container accepts their codec and
    re-encoded to AAC otherwise; `audio` (processed tracks, e.g. a disguised voice) replaces
    them and is encoded to AAC at the source's timing. No metadata of the source (creation
    time, location, device make/model, encoder, handler names) is carried over, no rotate tag is
    written: frames from `VideoReader` are already upright.

    Output goes to a hidden, locked temp file next to `dest` (see `core.fileio`), renamed
    onto `dest` only by a successful `close()`, or, with `transaction`, handed to it to be
    renamed together with the run's other outputs. Leaving the `with` block with an
    exception (including OperationCancelled) deletes it, so `dest` is never half-written.
    """

    def __init__(
        self,
        dest: str | os.PathLike[str],
        *,
        source: MediaInfo,
        source_path: str | os.PathLike[str],
        crf: int = 18,
        preset: str = "veryfast",
        size: tuple[int, int] | None = None,
        copy_audio: bool = True,
        transaction: OutputTransaction | None = None,
        audio: Sequence[PcmAudio] | None = None,
        gop: int | None = None,
    ) -> None:
        # x264 only checks its settings at the first frame; fail here instead.
        if preset not in X264_PRESETS:
            raise ValueError(f"unknown x264 preset {preset!r}; use one of {X264_PRESETS}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be within 0..51, got {crf}")
        if gop is not None and gop < 1:
            raise ValueError(f"gop must be at least 1, got {gop}")
        self._gop = gop
        self._dest = Path(dest)
        self._source = source
        source_file = Path(source_path)
        output_format = _check_destination(self._dest, source_file)
        self._index = _source_frame_index(source, source_file)
        self._pts = self._index.pts
        self._time_base = source.video.time_base
        self._size = size or (source.video.width, source.video.height)
        if min(self._size) < 1:
            raise ValueError(f"output size must be positive, got {self._size}")
        self._matrix = swscale_matrix(source.video.colorspace)
        self._frames_written = 0
        self._last_index = -1
        self._finished = False
        self._transaction = transaction
        self._temp = TempFile(self._dest.parent, self._dest.name)
        self._tmp = self._temp.path
        self._audio: AudioCarrier | PcmAudioEncoder | None = None
        try:
            options = {"movflags": "+faststart"} if output_format in ("mp4", "mov") else {}
            options["fflags"] = "+bitexact"  # no muxer version tag, no wall-clock times
            self._output: av.container.OutputContainer = av.open(
                str(self._tmp), mode="w", format=output_format, options=options
            )
            self._output.metadata.clear()  # nothing of the source's container tags
            self._video = self._add_video_stream(crf, preset)
            if audio is not None:
                self._audio = PcmAudioEncoder(self._output, audio) if audio else None
            elif copy_audio and source.audio:
                self._audio = AudioCarrier(source_file, self._output, output_format)
        except (MediaError, OutputError):  # e.g. audio the encoder refuses: no temp file left
            self._abort()
            raise
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._abort()
            raise OutputError(f"Cannot start writing {self._dest.name}: {exc}") from exc

    # -- lifetime ----------------------------------------------------------------------

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort()

    @property
    def dest(self) -> Path:
        return self._dest

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the images `write()` expects."""
        return self._size

    @property
    def encoded_size(self) -> tuple[int, int]:
        """(width, height) in the file: `size`, padded to even numbers."""
        return even_size(*self._size)

    @property
    def file_path(self) -> Path:
        """Where the finished video is now: `dest`, or its temp file while a transaction
        still holds it."""
        return self._dest if self._temp.finished else self._tmp

    @property
    def frames_written(self) -> int:
        return self._frames_written

    # -- writing -------------------------------------------------------------------------

    def write(self, image: np.ndarray, frame_index: int) -> None:
        """Encode `image` (RGB uint8, H×W×3 matching `size`) as source frame `frame_index`."""
        if self._finished:
            raise RuntimeError("VideoWriter is closed")
        if not self._last_index < frame_index < self._pts.size:
            raise ValueError(
                f"frame_index must increase and be < {self._pts.size}; got {frame_index} "
                f"after {self._last_index}"
            )
        width, height = self._size
        if image.shape != (height, width, 3) or image.dtype != np.uint8:
            raise ValueError(
                f"expected an RGB uint8 image of shape {(height, width, 3)}, "
                f"got {image.shape} {image.dtype}"
            )
        frame = rgb_to_frame(pad_to_even(image), matrix=self._matrix)
        frame.pts = int(self._pts[frame_index])
        frame.time_base = self._time_base
        try:
            self._mux_video(self._video.encode(frame))
            if self._audio is not None:
                self._audio.write_until(float(frame.pts * self._time_base))
        except (av.FFmpegError, OSError) as exc:
            self._abort()
            raise _write_failed(f"Writing {self._dest.name}", exc) from exc
        self._last_index = frame_index
        self._frames_written += 1

    def close(self) -> Path:
        """Finish the file and move it onto `dest`; returns `dest`."""
        if self._finished:
            return self._dest
        if self._frames_written == 0:
            self._abort()
            raise OutputError(f"No frames were written, so {self._dest.name} was not created.")
        try:
            self._mux_video(self._video.encode(None))
            if self._audio is not None:
                self._audio.finish()
                self._audio.close()
            self._output.close()
            if self._transaction is not None:
                self._transaction.adopt(self._temp)
            else:
                self._temp.commit()
        except (av.FFmpegError, OSError) as exc:
            self._abort()
            raise _write_failed(f"Finishing {self._dest.name}", exc) from exc
        self._finished = True
        return self._dest

    def abort(self) -> None:
        """Stop without producing `dest` (the temp file is removed)."""
        self._abort()

    # -- internals -------------------------------------------------------------------------

    def _mux_video(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            # The encoder guesses durations from the average rate; the muxer needs the
            # true one for the last frame (VFR), or the output is longer than the source.
            if packet.pts is not None:
                position = int(np.searchsorted(self._pts, packet.pts))
                if position < self._pts.size and self._pts[position] == packet.pts:
                    packet.duration = self._frame_duration(position)
        self._output.mux(packets)

    def _frame_duration(self, frame_index: int) -> int:
        if frame_index + 1 < self._pts.size:
            return int(self._pts[frame_index + 1] - self._pts[frame_index])
        if self._index.last_duration > 0:
            return self._index.last_duration
        return int(np.median(np.diff(self._pts))) if self._pts.size > 1 else 1

    def _add_video_stream(self, crf: int, preset: str) -> av.video.stream.VideoStream:
        video = self._source.video
        rate = video.fps if video.fps > 0 else 30
        # Subpixel refinement 1, not veryfast's 2: with 2 and the macroblock tree, x264
        # (even on one thread) encoded the same frames to different bytes from run to run,
        # and the report's sha256 must be reproducible (test_media_writer_determinism.py).
        # Turning the macroblock tree off was reproducible too, but the files grew by 85 %;
        # subme 1 costs about 8 %.
        x264_params = ["subme=1"]
        options = {"crf": str(crf), "preset": preset}
        if self._gop is not None:
            # A keyframe every `gop` frames and no B-frames: any frame decodes from at
            # most gop - 1 earlier ones (the preview proxy's fast random access).
            options.update(g=str(self._gop), keyint_min=str(self._gop), bf="0")
            x264_params.append("scenecut=0")
        options["x264-params"] = ":".join(x264_params)
        stream = self._output.add_stream("libx264", rate=rate, options=options)
        stream.width, stream.height = self.encoded_size
        stream.pix_fmt = "yuv420p"
        # The source's time base keeps every pts exact (29.97 fps, VFR); the muxer may
        # choose a finer one, which only rescales by an integer factor.
        stream.time_base = self._time_base
        stream.codec_context.time_base = self._time_base
        context = stream.codec_context
        # A fixed number of frame threads: x264's bytes depend on its thread count, and
        # PyAV's default (sliced threads, one per core) ties them to the machine.
        context.thread_type = "FRAME"
        context.thread_count = _X264_FRAME_THREADS
        context.color_range = _AVCOL_RANGE_MPEG
        if video.colorspace in (1, 5, 6, 7, 9, 10):
            # Tag what rgb_to_frame used, so players convert back with the same matrix.
            context.colorspace = video.colorspace
        stream.metadata.clear()
        return stream

    def _abort(self) -> None:
        self._finished = True
        if self._audio is not None:
            with contextlib.suppress(av.FFmpegError, OSError):
                self._audio.close()
        output = getattr(self, "_output", None)
        if output is not None:
            with contextlib.suppress(av.FFmpegError, OSError, ValueError):
                output.close()
        temp = getattr(self, "_temp", None)
        if temp is not None:
            temp.discard()


def _check_destination(dest: Path, source: Path) -> str:
    """Fail early, before any encoding, if `dest` cannot be written; return the format."""
    output_format = OUTPUT_FORMATS.get(dest.suffix.lower())
    if output_format is None:
        raise OutputError(
            f"Cannot write {dest.name}: unsupported file type {dest.suffix or '(none)'}.",
            hint="Use a name ending in .mp4, .mov or .mkv.",
        )
    parent = dest.parent
    if not parent.is_dir():
        raise OutputError(f"Cannot write {dest}: the folder {parent} does not exist.")
    if dest.is_dir():
        raise OutputError(f"Cannot write {dest}: it is a folder.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"Cannot write {dest}: no permission to write in {parent}.",
            hint="Choose another folder.",
        )
    with contextlib.suppress(OSError):
        if dest.exists() and source.exists() and os.path.samefile(dest, source):
            raise OutputError(
                f"Cannot write {dest.name}: it is the source video, which is never modified.",
                hint="Choose another output name.",
            )
    return output_format


def _source_frame_index(source: MediaInfo, source_path: Path) -> FrameIndex:
    current, index = probe_with_index(source_path)
    if current.video.frame_count != source.video.frame_count:
        raise MediaError(
            f"{source_path.name} has changed since it was opened "
            f"({current.video.frame_count} frames now, {source.video.frame_count} before).",
            hint="Re-open the video.",
        )
    return index


def _write_failed(action: str, exc: Exception) -> OutputError:
    """'<action> failed: <reason>.' The reason without the temp file's name, which means
    nothing to the user (the final name is in `action`)."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return OutputError(
        f"{action} failed: {reason}.", hint="Check that the destination disk has free space."
    )
