"""Plain, frozen descriptions of a media file, as returned by `probe()`.

They are safe to pass between threads and to store in a project file
(`to_json_dict()` / `from_json_dict()` round-trip exactly, fractions included).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any


def _fraction_str(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _parse_fraction(text: str | int | float) -> Fraction:
    # Fraction("30000/1001") is exact; a float is accepted only for hand-edited files.
    return Fraction(text) if isinstance(text, str | int) else Fraction(text).limit_denominator()


@dataclass(frozen=True, slots=True)
class VideoStreamInfo:
    """The first video stream of a file.

    `coded_width`/`coded_height` are the stored picture size; `width`/`height` are the
    display size after applying `rotation` (swapped for 90 and 270).
    """

    index: int
    codec: str
    coded_width: int
    coded_height: int
    width: int
    height: int
    pix_fmt: str
    fps: Fraction  # exact average rate, e.g. 30000/1001
    time_base: Fraction
    frame_count: int  # exact: counted packets, not the header's estimate
    is_vfr: bool
    rotation: int  # clockwise degrees the stored picture must turn to be upright
    start_pts: int  # pts of the first frame in presentation order, in time_base units
    duration_s: float  # first frame start to last frame end
    colorspace: int = 2  # AVColorSpace (1 = BT.709, 2 = unspecified, 5/6 = BT.601)
    color_range: int = 0  # AVColorRange (1 = limited, 2 = full, 0 = unspecified)

    @property
    def frame_duration_s(self) -> float:
        """Nominal duration of one frame (1 / average fps)."""
        return float(1 / self.fps) if self.fps else 0.0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "codec": self.codec,
            "coded_width": self.coded_width,
            "coded_height": self.coded_height,
            "width": self.width,
            "height": self.height,
            "pix_fmt": self.pix_fmt,
            "fps": float(self.fps),
            "fps_rational": _fraction_str(self.fps),
            "time_base": _fraction_str(self.time_base),
            "frame_count": self.frame_count,
            "is_vfr": self.is_vfr,
            "rotation": self.rotation,
            "start_pts": self.start_pts,
            "duration_s": self.duration_s,
            "colorspace": self.colorspace,
            "color_range": self.color_range,
        }

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> VideoStreamInfo:
        return cls(
            index=int(data.get("index", 0)),
            codec=str(data["codec"]),
            coded_width=int(data.get("coded_width", data["width"])),
            coded_height=int(data.get("coded_height", data["height"])),
            width=int(data["width"]),
            height=int(data["height"]),
            pix_fmt=str(data.get("pix_fmt", "yuv420p")),
            fps=_parse_fraction(data.get("fps_rational", data["fps"])),
            time_base=_parse_fraction(data["time_base"]),
            frame_count=int(data["frame_count"]),
            is_vfr=bool(data.get("is_vfr", False)),
            rotation=int(data.get("rotation", 0)),
            start_pts=int(data.get("start_pts", 0)),
            duration_s=float(data.get("duration_s", 0.0)),
            colorspace=int(data.get("colorspace", 2)),
            color_range=int(data.get("color_range", 0)),
        )


@dataclass(frozen=True, slots=True)
class AudioStreamInfo:
    """One audio stream; `index` is the stream index in the container."""

    index: int
    codec: str
    sample_rate: int
    channels: int
    duration_s: float

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "codec": self.codec,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "duration_s": self.duration_s,
        }

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> AudioStreamInfo:
        return cls(
            index=int(data.get("index", 0)),
            codec=str(data["codec"]),
            sample_rate=int(data["sample_rate"]),
            channels=int(data["channels"]),
            duration_s=float(data.get("duration_s", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What `probe()` learned about a file.

    `truncated` is True when the container announced more video frames than the file
    holds (a cut-off download or copy); `video.frame_count` is then the readable part.
    """

    path: Path
    container: str
    size_bytes: int
    duration_s: float
    video: VideoStreamInfo
    audio: tuple[AudioStreamInfo, ...] = ()
    truncated: bool = False

    @property
    def has_audio(self) -> bool:
        return bool(self.audio)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "container": self.container,
            "size_bytes": self.size_bytes,
            "duration_s": self.duration_s,
            "truncated": self.truncated,
            "video": self.video.to_json_dict(),
            "audio": [stream.to_json_dict() for stream in self.audio],
        }

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> MediaInfo:
        return cls(
            path=Path(data["path"]),
            container=str(data.get("container", "")),
            size_bytes=int(data.get("size_bytes", 0)),
            duration_s=float(data["duration_s"]),
            video=VideoStreamInfo.from_json_dict(data["video"]),
            audio=tuple(AudioStreamInfo.from_json_dict(a) for a in data.get("audio", [])),
            truncated=bool(data.get("truncated", False)),
        )
