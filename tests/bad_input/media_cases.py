"""Hostile and odd media inputs (issue 16, item 5), each built at test time with plain PyAV
and numpy from a few frames of a real fixture face (no media in the repository).

A case is a name, a builder that writes one file into a folder, and what a correct run
does with it: `Valid` (an anonymized video of this many frames and this display size) or
`Refused` (exit 2 and a one-line message holding `phrase`). Builders use PyAV directly,
never `anonnet_studio.core.media`, so the product is not graded by its own code.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.conftest import fixture_video
from tests.media_factory import decode_rgb

SIZE = 160  # px, square: the fixture face fills about half of it
FRAMES = 8
RATE = Fraction(25)
SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Valid:
    """Anonymized output expected: `frames` (None: as many as the file decodes, fewer than
    were written) at display size `size`; `face`: the fixture face is in the picture.
    The output holds one video stream (never a second, unanonymized one), `audio` audio
    streams, and nothing else (no subtitles: they can name people)."""

    frames: int | None
    size: tuple[int, int]
    face: bool = True
    audio: int = 0  # audio streams kept (every one of the source's)
    # How a source frame looks in the output (default: scaled to `size`).
    picture: Callable[[np.ndarray], np.ndarray] | None = None

    def upright(self, image: np.ndarray) -> np.ndarray:
        if self.picture is not None:
            return self.picture(image)
        return cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class Refused:
    phrase: str


@dataclass(frozen=True)
class MediaCase:
    name: str
    build: Callable[[Path, np.ndarray], Path] = field(repr=False)
    expect: Valid | Refused
    slow: bool = False

    def __str__(self) -> str:
        return self.name


def source_frames(count: int = 24, size: int = SIZE) -> np.ndarray:
    """(count, size, size, 3) RGB frames of a real talking head."""
    frames = [
        cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        for _, image in decode_rgb(fixture_video("lp_d19.mp4"), max_frames=count)
    ]
    return np.stack(frames)


# -- writing ---------------------------------------------------------------------------------


def encode(
    dest: Path,
    frames: Sequence[np.ndarray],
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    container_format: str | None = None,
    container_options: dict[str, str] | None = None,
    codec_options: dict[str, str] | None = None,
    pts: Sequence[int] | None = None,
    time_base: Fraction = 1 / RATE,
    rotation: int = 0,
    audio_streams: int = 0,
    second_video: bool = False,
    subtitles: bool = False,
    faststart: bool = True,
) -> Path:
    """Write `frames` (RGB, upright as stored) as one video stream, plus what is asked."""
    options = dict(container_options or {})
    if faststart and dest.suffix in (".mp4", ".mov"):
        options["movflags"] = "+faststart"  # index first: a cut copy still has frames
    with av.open(str(dest), "w", format=container_format, options=options) as out:
        height, width = frames[0].shape[:2]
        video = _video_stream(out, codec, pix_fmt, width, height, time_base, codec_options)
        if rotation:
            video.set_display_rotation(-rotation)  # matrix angle counterclockwise
        extra = _video_stream(out, "libx264", "yuv420p", 64, 48, time_base, None) \
            if second_video else None  # fmt: skip
        audios = [_audio_stream(out, number) for number in range(audio_streams)]
        cues = _subtitle_cues(dest) if subtitles else None
        subtitle = out.add_stream_from_template(cues.streams[0]) if cues else None
        for index, image in enumerate(frames):
            stamp = index if pts is None else pts[index]
            out.mux(video.encode(_frame(image, pix_fmt, stamp, time_base)))
            if extra is not None:
                small = cv2.resize(image, (64, 48), interpolation=cv2.INTER_AREA)
                out.mux(extra.encode(_frame(small, "yuv420p", stamp, time_base)))
        out.mux(video.encode(None))
        if extra is not None:
            out.mux(extra.encode(None))
        seconds = float(len(frames) / RATE)
        for number, audio in enumerate(audios):
            _mux_tone(out, audio, seconds, 220.0 * (number + 1))
        if cues is not None and subtitle is not None:
            for packet in cues.demux(cues.streams[0]):
                if packet.size:
                    packet.stream = subtitle
                    out.mux(packet)
            cues.close()
    return dest


def _video_stream(
    out: av.container.OutputContainer,
    codec: str,
    pix_fmt: str,
    width: int,
    height: int,
    time_base: Fraction,
    codec_options: dict[str, str] | None,
) -> av.video.stream.VideoStream:
    options = {"preset": "ultrafast"} if codec in ("libx264", "libx265") else {}
    if codec == "libx265":
        options["x265-params"] = "log-level=error"
    options.update(codec_options or {})
    stream = out.add_stream(codec, rate=RATE, options=options)
    stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
    stream.time_base = time_base
    stream.codec_context.time_base = time_base
    return stream  # type: ignore[return-value]


def _frame(image: np.ndarray, pix_fmt: str, stamp: int, time_base: Fraction) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    frame = frame.reformat(format=pix_fmt)
    frame.pts, frame.time_base = stamp, time_base
    return frame


def _audio_stream(out: av.container.OutputContainer, number: int) -> av.audio.stream.AudioStream:
    stream = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
    stream.metadata["language"] = ["eng", "fra", "deu", "spa", "ita", "nld"][number % 6]
    return stream  # type: ignore[return-value]


def _mux_tone(
    out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float,
    hertz: float,
) -> None:  # fmt: skip
    samples = int(seconds * SAMPLE_RATE)
    t = np.arange(samples) / SAMPLE_RATE
    tone = (0.2 * np.sin(2 * np.pi * hertz * t)).astype(np.float32)
    chunk = 1024
    for start in range(0, samples, chunk):
        block = tone[start : start + chunk]
        frame = av.AudioFrame.from_ndarray(block[None, :], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = SAMPLE_RATE, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def _subtitle_cues(dest: Path) -> av.container.InputContainer:
    """Two SubRip cues, opened from a text file that is then unlinked (FFmpeg's SubRip
    encoder needs an ASS header PyAV cannot give it; copied packets need none)."""
    text = dest.with_name(dest.name + ".srt")
    text.write_text(
        "1\n00:00:00,000 --> 00:00:00,150\nAlice Example speaking\n\n"
        "2\n00:00:00,150 --> 00:00:00,300\nRecorded at home\n",
        encoding="utf-8",
    )
    try:
        return av.open(str(text))  # an open file stays readable once unlinked
    finally:
        text.unlink()


# -- the cases ---------------------------------------------------------------------------------


def _clip(name: str, count: int = FRAMES, **kwargs: object) -> Callable[[Path, np.ndarray], Path]:
    def build(folder: Path, frames: np.ndarray) -> Path:
        return encode(folder / name, list(frames[:count]), **kwargs)  # type: ignore[arg-type]

    return build


def _truncated(name: str, fraction: float, *, faststart: bool) -> Callable[..., Path]:
    def build(folder: Path, frames: np.ndarray) -> Path:
        full = folder / f"whole-{name}"
        # Keyframes every 4 frames, so that a cut file still holds decodable ones.
        encode(full, list(frames), faststart=faststart,
               codec_options={"g": "4", "keyint_min": "4"})  # fmt: skip
        data = full.read_bytes()
        full.unlink()
        dest = folder / name
        dest.write_bytes(data[: int(len(data) * fraction)])
        return dest

    return build


def _moov_at_end(folder: Path, frames: np.ndarray) -> Path:
    dest = encode(folder / "moov_last.mp4", list(frames[:FRAMES]), faststart=False)
    data = dest.read_bytes()
    assert data.find(b"moov") > data.find(b"mdat"), "the index should follow the data"
    return dest


def _random_bytes(folder: Path, frames: np.ndarray) -> Path:
    dest = folder / "noise.mp4"
    dest.write_bytes(np.random.default_rng(16).integers(0, 256, 64 * 1024, np.uint8).tobytes())
    return dest


def _zero_bytes(folder: Path, frames: np.ndarray) -> Path:
    dest = folder / "empty.mp4"
    dest.write_bytes(b"")
    return dest


def _image_named_mp4(folder: Path, frames: np.ndarray) -> Path:
    ok, png = cv2.imencode(".png", cv2.cvtColor(frames[0], cv2.COLOR_RGB2BGR))
    assert ok
    dest = folder / "photo.mp4"
    dest.write_bytes(png.tobytes())
    return dest


def _audio_only(folder: Path, frames: np.ndarray) -> Path:
    dest = folder / "voice.mp4"
    with av.open(str(dest), "w", format="mp4") as out:
        _mux_tone(out, _audio_stream(out, 0), 1.0, 220.0)
    return dest


def _vfr(folder: Path, frames: np.ndarray) -> Path:
    # Irregular gaps in a 1/1000 s time base, like a phone dropping frames in low light.
    stamps = [0, 40, 80, 160, 200, 280, 300, 400]
    return encode(folder / "vfr.mp4", list(frames[:FRAMES]), pts=stamps,
                  time_base=Fraction(1, 1000))  # fmt: skip


def _rotated(degrees: int) -> Callable[[Path, np.ndarray], Path]:
    def build(folder: Path, frames: np.ndarray) -> Path:
        stored = [np.rot90(image, k=degrees // 90) for image in frames[:FRAMES]]
        return encode(folder / f"rotated_{degrees}.mp4", stored, rotation=degrees)

    return build


ODD_SIZE = (321, 179)


def odd_canvas(image: np.ndarray) -> np.ndarray:
    """The frame at an odd size: the face undistorted on a grey canvas (what a crop of a
    wide shot looks like), so the independent check still sees it."""
    canvas = np.full((ODD_SIZE[1], ODD_SIZE[0], 3), 90, np.uint8)
    canvas[7 : 7 + SIZE, 81 : 81 + SIZE] = image
    return canvas


def _odd_size(folder: Path, frames: np.ndarray) -> Path:
    stored = [odd_canvas(image) for image in frames[:FRAMES]]
    return encode(folder / "odd_321x179.mp4", stored, pix_fmt="yuv444p")


def _huge(folder: Path, frames: np.ndarray) -> Path:
    """A real 8000x8000 one-frame MJPEG (small on disk: flat grey around one face)."""
    canvas = np.full((8000, 8000, 3), 128, np.uint8)
    canvas[:SIZE, :SIZE] = frames[0]
    return encode(folder / "huge_8000.mov", [canvas], codec="mjpeg", pix_fmt="yuvj420p",
                  container_format="mov")  # fmt: skip


def _patched_header(side: int) -> Callable[[Path, np.ndarray], Path]:
    """MJPEG frames whose JPEG headers (SOF0) claim side x side over 160x160 data."""

    def build(folder: Path, frames: np.ndarray) -> Path:
        dest = encode(folder / f"claims_{side}.mov", list(frames[:4]), codec="mjpeg",
                      pix_fmt="yuvj420p", container_format="mov")  # fmt: skip
        data = bytearray(dest.read_bytes())
        start, patched = data.find(b"\xff\xc0"), 0
        while start >= 0:  # marker, length (2), precision (1), height (2), width (2)
            struct.pack_into(">HH", data, start + 5, side, side)
            start, patched = data.find(b"\xff\xc0", start + 2), patched + 1
        assert patched == 4
        dest.write_bytes(bytes(data))
        return dest

    return build


def _tiny(folder: Path, frames: np.ndarray) -> Path:
    small = [cv2.resize(image, (16, 16), interpolation=cv2.INTER_AREA) for image in frames[:FRAMES]]
    return encode(folder / "tiny_16.mp4", small)


def _tiny_2(folder: Path, frames: np.ndarray) -> Path:
    small = [cv2.resize(image, (2, 2), interpolation=cv2.INTER_AREA) for image in frames[:FRAMES]]
    return encode(folder / "tiny_2.mp4", small)


def _in_folder(folder_name: str, file_name: str) -> Callable[[Path, np.ndarray], Path]:
    def build(folder: Path, frames: np.ndarray) -> Path:
        (folder / folder_name).mkdir()
        return encode(folder / folder_name / file_name, list(frames[:FRAMES]))

    return build


FULL = (SIZE, SIZE)
DAMAGED = "is damaged"

CASES: tuple[MediaCase, ...] = (
    MediaCase("truncated_10", _truncated("cut10.mp4", 0.10, faststart=True), Refused(DAMAGED)),
    MediaCase("truncated_50", _truncated("cut50.mp4", 0.50, faststart=True), Valid(None, FULL)),
    MediaCase("truncated_90", _truncated("cut90.mp4", 0.90, faststart=True), Valid(None, FULL)),
    MediaCase("moov_at_end", _moov_at_end, Valid(FRAMES, FULL)),
    MediaCase(
        "moov_at_end_cut", _truncated("cut_moov.mp4", 0.9, faststart=False), Refused(DAMAGED)
    ),
    MediaCase("random_bytes", _random_bytes, Refused("is not a video file")),
    MediaCase("zero_bytes", _zero_bytes, Refused("is empty (0 bytes)")),
    MediaCase("png_named_mp4", _image_named_mp4, Valid(1, FULL)),  # a photo: one frame
    MediaCase("audio_only", _audio_only, Refused("has no video stream")),
    MediaCase("one_frame", _clip("one.mp4", count=1), Valid(1, FULL)),
    MediaCase("header_8000x8000", _huge, Valid(1, (8000, 8000), face=False), slow=True),
    MediaCase("header_claims_60000x60000", _patched_header(60000), Refused(DAMAGED)),
    MediaCase("odd_size_321x179", _odd_size, Valid(FRAMES, ODD_SIZE, picture=odd_canvas)),
    MediaCase("tiny_16x16", _tiny, Valid(FRAMES, (16, 16), face=False)),
    MediaCase("tiny_2x2", _tiny_2, Valid(FRAMES, (2, 2), face=False)),
    MediaCase("vfr", _vfr, Valid(FRAMES, FULL)),
    # Two pictures with one timestamp (a broken remux): the second has no frame number.
    MediaCase("duplicate_timestamps", _clip("dup.mkv", count=4, pts=[0, 1, 1, 2]), Valid(3, FULL)),
    MediaCase(
        "negative_start_time",
        _clip("neg.mkv", pts=[i - 4 for i in range(FRAMES)]),
        Valid(FRAMES, FULL),
    ),
    MediaCase(
        "frames_1ms_apart",
        _clip("fast.mp4", pts=list(range(FRAMES)), time_base=Fraction(1, 1000)),
        Valid(FRAMES, FULL),
    ),
    MediaCase(
        "frames_10s_apart",
        _clip("slow.mp4", count=3, pts=[0, 10, 20], time_base=Fraction(1)),
        Valid(3, FULL),
    ),
    MediaCase("rotation_90", _rotated(90), Valid(FRAMES, FULL)),
    MediaCase("rotation_180", _rotated(180), Valid(FRAMES, FULL)),
    MediaCase("rotation_270", _rotated(270), Valid(FRAMES, FULL)),
    MediaCase("two_video_streams", _clip("two_video.mp4", second_video=True), Valid(FRAMES, FULL)),
    MediaCase(
        "one_audio_stream", _clip("speech.mp4", audio_streams=1), Valid(FRAMES, FULL, audio=1)
    ),
    MediaCase(
        "six_audio_streams", _clip("six_audio.mp4", audio_streams=6), Valid(FRAMES, FULL, audio=6)
    ),
    MediaCase(
        "subtitle_stream",
        _clip("subtitled.mkv", audio_streams=1, subtitles=True),
        Valid(FRAMES, FULL, audio=1),
    ),
    MediaCase("h264_10bit", _clip("h264_10bit.mp4", pix_fmt="yuv420p10le"), Valid(FRAMES, FULL)),
    MediaCase("h264_444", _clip("h264_444.mp4", pix_fmt="yuv444p"), Valid(FRAMES, FULL)),
    MediaCase("hevc", _clip("hevc.mp4", codec="libx265"), Valid(FRAMES, FULL)),
    MediaCase(
        "hevc_10bit",
        _clip("hevc_10bit.mov", codec="libx265", pix_fmt="yuv420p10le", container_format="mov"),
        Valid(FRAMES, FULL),
    ),
    MediaCase(
        "prores_mov",
        _clip("prores.mov", codec="prores_ks", pix_fmt="yuv422p10le", container_format="mov"),
        Valid(FRAMES, FULL),
    ),
    MediaCase(
        "mjpeg_mov",
        _clip("mjpeg.mov", codec="mjpeg", pix_fmt="yuvj420p", container_format="mov"),
        Valid(FRAMES, FULL),
    ),
    MediaCase(
        "vp9_webm",
        _clip("vp9.webm", codec="libvpx-vp9", container_format="webm"),
        Valid(FRAMES, FULL),
    ),
    MediaCase(
        "mpeg4_avi", _clip("mpeg4.avi", codec="mpeg4", container_format="avi"), Valid(FRAMES, FULL)
    ),
    MediaCase("unicode_path", _in_folder("données ünïcode", "видео 顔 é.mp4"), Valid(FRAMES, FULL)),
    MediaCase(
        "spaces_path",
        _in_folder("a folder with spaces", "my clip  (final) .mp4"),
        Valid(FRAMES, FULL),
    ),
    MediaCase(
        "quotes_path", _in_folder('quote\'s "dir"', 'it\'s "the" clip.mp4'), Valid(FRAMES, FULL)
    ),
)
