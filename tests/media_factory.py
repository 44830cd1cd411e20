"""Derived test media built at test time from the real fixture footage (plain PyAV).

Every helper writes into a path the test chooses (normally under `tmp_path`). They use
PyAV directly, not `anonnet_studio.core.media`, so media tests do not grade the code
under test with its own output. Keep inputs short (`max_frames`) to keep tests fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import av
import av.container
import cv2
import numpy as np

_X264 = {"crf": "14", "preset": "veryfast"}
_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}


# -- building blocks -------------------------------------------------------------------------


def decode_rgb(src: Path, max_frames: int | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds since the first frame, upright-as-stored RGB image) of each frame of `src`."""
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        first: int | None = None
        for count, frame in enumerate(container.decode(stream)):
            if max_frames is not None and count >= max_frames:
                return
            first = frame.pts if first is None else first
            yield float((frame.pts - first) * stream.time_base), frame.to_ndarray(format="rgb24")


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Fit `image` inside size=(W, H), aspect kept, centred on black."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    new_w, new_h = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((height, width, 3), np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


class _VideoOut:
    """An H.264 output file: `add(image, pts)` in `time_base` units, then `close()`."""

    def __init__(
        self,
        dest: Path,
        size: tuple[int, int],
        rate: Fraction,
        time_base: Fraction,
        *,
        rotation: int = 0,
        metadata: Mapping[str, str] | None = None,
        stream_metadata: Mapping[str, str] | None = None,
        x264_params: str | None = None,
    ) -> None:
        fmt = _FORMATS[dest.suffix.lower()]
        options = {}
        if fmt in ("mp4", "mov"):
            # faststart puts the index first, so a truncated copy still has decodable frames
            options["movflags"] = "+faststart" + ("+use_metadata_tags" if metadata else "")
        self.container: av.container.OutputContainer = av.open(
            str(dest), "w", format=fmt, options=options
        )
        self.container.metadata.update(metadata or {})
        width, height = size
        codec_options = dict(_X264)
        if x264_params:
            codec_options["x264-params"] = x264_params
        self.stream = self.container.add_stream("libx264", rate=rate, options=codec_options)
        self.stream.width, self.stream.height = width, height
        # yuv420p cannot hold odd sizes; 4:4:4 can (High 4:4:4 profile).
        self.stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        self.stream.time_base = time_base
        self.stream.codec_context.time_base = time_base
        self.stream.metadata.update(stream_metadata or {})
        if rotation:
            # Display matrix angles are counterclockwise; `rotation` is clockwise.
            self.stream.set_display_rotation(-rotation)
        self.time_base = time_base
        self.frames = 0
        self._audio_packets: list[av.Packet] = []

    def add_audio_from(self, src: Path, until_s: float | None, codec: str | None) -> None:
        """Copy (or re-encode to `codec`) the first audio stream of `src`; call before the
        first `add()` (streams are fixed once the header is written)."""
        with av.open(str(src)) as source:
            if not source.streams.audio:
                return
            in_audio = source.streams.audio[0]
            if codec is None:
                out_audio = self.container.add_stream_from_template(in_audio)
            else:
                context = in_audio.codec_context
                out_audio = self.container.add_stream(
                    codec, rate=context.sample_rate, layout=context.layout.name
                )
            for packet in source.demux(in_audio):
                if packet.dts is None or packet.size == 0:
                    continue
                if until_s is not None and float(packet.pts * packet.time_base) >= until_s:
                    break
                if codec is None:
                    packet.stream = out_audio
                    self._audio_packets.append(packet)
                else:
                    for frame in packet.decode():
                        self._audio_packets.extend(out_audio.encode(frame))
            if codec is not None:
                self._audio_packets.extend(out_audio.encode(None))

    def add(self, image: np.ndarray, pts: int) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = pts
        frame.time_base = self.time_base
        self.container.mux(self.stream.encode(frame))
        self.frames += 1

    def close(self) -> None:
        self.container.mux(self.stream.encode(None))
        # All audio at the end: the muxer's interleaving queue sorts short clips fine.
        for packet in self._audio_packets:
            self.container.mux(packet)
        self.container.close()


def resample(
    frames: Iterator[tuple[float, np.ndarray]], fps: Fraction, frame_duration_s: float
) -> Iterator[np.ndarray]:
    """Constant-rate frames at `fps`: output k shows the source frame on screen at k/fps."""
    k = 0
    current = next(frames, None)
    while current is not None:
        following = next(frames, None)
        end = following[0] if following is not None else current[0] + frame_duration_s
        while float(k / fps) < end - 1e-9:
            yield current[1]
            k += 1
        current = following


# -- public helpers ---------------------------------------------------------------------------


def make_variant(
    src: Path,
    dest: Path,
    *,
    width: int | None = None,
    height: int | None = None,
    fps: Fraction | None = None,
    rotation: int = 0,
    drop_audio: bool = False,
    vfr: bool = False,
    max_frames: int | None = None,
    metadata: Mapping[str, str] | None = None,
    stream_metadata: Mapping[str, str] | None = None,
    audio_codec: str | None = None,
    x264_params: str | None = None,
) -> Path:
    """Re-encode `src` to `dest` with changed properties; returns `dest`.

    width/height: resize (one given: the other keeps the aspect; odd sizes allowed).
    fps: resample to this exact rate (nearest earlier frame), duration kept.
    rotation: clockwise degrees a player must turn the picture; the stored picture is
        turned the other way, so the upright display equals the original.
    vfr: drop frames in an irregular pattern, keeping the others' original timestamps.
    max_frames: stop after this many output frames (audio is cut to match).
    metadata/stream_metadata: tags to inject (e.g. creation_time, location, make, model).
    audio_codec: None copies the audio packets, a codec name re-encodes to it.
    x264_params: extra encoder settings, e.g. "keyint=12:open-gop=1" for many seek points.
    """
    src_fps = _source_rate(src)
    if fps is not None:
        rate, time_base = fps, 1 / fps
        images = resample(decode_rgb(src), fps, float(1 / src_fps))
        timed: Iterator[tuple[int, np.ndarray]] = enumerate(images)
    else:
        rate, time_base = src_fps, Fraction(1, 90000)
        timed = (
            (round(t / time_base), image)
            for i, (t, image) in enumerate(decode_rgb(src))
            if not (vfr and _vfr_drop(i))
        )
    if max_frames is not None:
        timed = (item for _, item in zip(range(max_frames), timed, strict=False))
    src_w, src_h = _source_size(src)
    out_w, out_h = _target_size(src_w, src_h, width, height)
    stored = (out_h, out_w) if rotation in (90, 270) else (out_w, out_h)
    out = _VideoOut(
        dest,
        stored,
        rate,
        time_base,
        rotation=rotation,
        metadata=metadata,
        stream_metadata=stream_metadata,
        x264_params=x264_params,
    )
    if not drop_audio:
        until_s = None
        if max_frames is not None:
            source_frames = _kept_span(max_frames) if vfr and fps is None else max_frames
            until_s = source_frames / float(rate)
        out.add_audio_from(src, until_s, audio_codec)
    for pts, image in timed:
        if (out_w, out_h) != (image.shape[1], image.shape[0]):
            image = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)
        out.add(np.rot90(image, k=rotation // 90), pts)
    out.close()
    return dest


def truncate_file(src: Path, dest: Path, keep_fraction: float) -> Path:
    """Copy the first `keep_fraction` of the bytes of `src` (a cut-off download)."""
    data = Path(src).read_bytes()
    Path(dest).write_bytes(data[: int(len(data) * keep_fraction)])
    return Path(dest)


def make_montage(
    clips: Sequence[Path],
    dest: Path,
    size: tuple[int, int] = (480, 480),
    *,
    fps: Fraction = Fraction(30),
    max_frames_per_clip: int | None = None,
) -> list[int]:
    """Concatenate `clips` with hard cuts, each letterboxed to size=(W, H), at a constant
    `fps` (no audio). Returns the frame indices where a new shot starts (the cuts)."""
    out = _VideoOut(dest, size, fps, 1 / fps)
    cuts: list[int] = []
    for clip_number, clip in enumerate(clips):
        if clip_number:
            cuts.append(out.frames)
        images = resample(decode_rgb(clip), fps, float(1 / _source_rate(clip)))
        for _, image in zip(range(max_frames_per_clip or 10**9), images, strict=False):
            out.add(letterbox(image, size), out.frames)
    out.close()
    return cuts


def make_side_by_side(
    left: Path,
    right: Path,
    dest: Path,
    size: tuple[int, int] = (960, 480),
    *,
    max_frames: int | None = None,
    audio_from: Path | None = None,
) -> Path:
    """A two-shot: `left` and `right` letterboxed into the two halves of size=(W, H),
    as long as the shorter clip, at the left clip's frame rate; with the audio of
    `audio_from` (cut to `max_frames`), else none."""
    width, height = size
    half = (width // 2, height)
    rate = _source_rate(left)
    out = _VideoOut(dest, size, rate, 1 / rate)
    if audio_from is not None:
        until_s = max_frames / float(rate) if max_frames is not None else None
        out.add_audio_from(audio_from, until_s, None)
    pairs = zip(decode_rgb(left, max_frames), decode_rgb(right, max_frames), strict=False)
    for (_, image_l), (_, image_r) in pairs:
        canvas = np.zeros((height, width, 3), np.uint8)
        canvas[:, : half[0]] = letterbox(image_l, half)
        canvas[:, half[0] : half[0] * 2] = letterbox(image_r, half)
        out.add(canvas, out.frames)
    out.close()
    return dest


def write_video(
    images: Iterator[np.ndarray] | Sequence[np.ndarray], dest: Path, fps: Fraction = Fraction(30)
) -> Path:
    """Encode RGB `images` (all of one even size) as an H.264 file at a constant `fps`."""
    out: _VideoOut | None = None
    for image in images:
        if out is None:
            out = _VideoOut(dest, (image.shape[1], image.shape[0]), fps, 1 / fps)
        out.add(image, out.frames)
    if out is None:
        raise ValueError("write_video needs at least one image")
    out.close()
    return dest


def make_audio_only(src: Path, dest: Path) -> Path:
    """An audio-only file (`dest` .m4a/.mp4) with the audio packets of `src`."""
    with av.open(str(src)) as source, av.open(str(dest), "w", format="mp4") as target:
        in_audio = source.streams.audio[0]
        out_audio = target.add_stream_from_template(in_audio)
        for packet in source.demux(in_audio):
            if packet.dts is not None and packet.size:
                packet.stream = out_audio
                target.mux(packet)
    return dest


def make_empty_video(audio_src: Path, dest: Path, size: tuple[int, int] = (64, 64)) -> Path:
    """A Matroska file (`dest` .mkv) with a video stream that holds no frames, plus the
    audio of `audio_src` (MP4 drops empty tracks, and a file with no packets at all does
    not open)."""
    out = _VideoOut(dest, size, Fraction(25), Fraction(1, 25))
    out.add_audio_from(audio_src, until_s=1.0, codec=None)
    out.close()
    return dest


# -- internals --------------------------------------------------------------------------------


def _source_size(src: Path) -> tuple[int, int]:
    with av.open(str(src)) as container:
        context = container.streams.video[0].codec_context
        return context.width, context.height


def _source_rate(src: Path) -> Fraction:
    with av.open(str(src)) as container:
        return Fraction(container.streams.video[0].average_rate or 30)


def _vfr_drop(index: int) -> bool:
    # Irregular gaps of 1-2 frames, like a phone dropping frames in low light.
    return index % 7 == 3 or index % 11 == 5


def _kept_span(kept: int) -> int:
    """How many source frames the VFR pattern consumes to keep `kept` of them."""
    index = count = 0
    while count < kept:
        count += not _vfr_drop(index)
        index += 1
    return index


def _target_size(src_w: int, src_h: int, width: int | None, height: int | None) -> tuple[int, int]:
    if width and height:
        return width, height
    if width:
        return width, max(1, round(src_h * width / src_w))
    if height:
        return max(1, round(src_w * height / src_h)), height
    return src_w, src_h
