"""`anonnet-studio probe FILE [--json]`: what the media engine sees in a video file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from anonnet_studio.core.media import MediaInfo, probe


def register(subparsers: Any) -> None:
    """Add the `probe` subcommand."""
    parser = subparsers.add_parser(
        "probe",
        help="show a video's size, frame rate, exact frame count, rotation and audio",
        description="Describe a video file: container, codec, display size, exact frame "
        "count, frame rate (and whether it varies), rotation and audio streams.",
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="the video file to inspect")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    info = probe(args.file)
    if args.json:
        print(json.dumps(info.to_json_dict(), indent=2))
    else:
        print(format_table(info))
    return 0


def format_table(info: MediaInfo) -> str:
    """Human-readable two-column summary of `info`."""
    video = info.video
    fps = f"{float(video.fps):.3f}".rstrip("0").rstrip(".")
    rational = f"{video.fps.numerator}/{video.fps.denominator}"
    rows: list[tuple[str, str]] = [
        ("File", str(info.path)),
        ("Container", f"{_container_name(info)} ({_size(info.size_bytes)})"),
        ("Duration", f"{info.duration_s:.3f} s"),
        ("Video", f"{video.codec}, {video.pix_fmt}"),
        ("Display size", f"{video.width}x{video.height}"),
    ]
    if video.rotation:
        rows.append(
            ("Rotation", f"{video.rotation}° (stored as {video.coded_width}x{video.coded_height})")
        )
    rows += [
        ("Frame rate", f"{fps} fps ({rational})" + (", variable" if video.is_vfr else "")),
        ("Frames", f"{video.frame_count}" + (" (file is truncated)" if info.truncated else "")),
    ]
    if not info.audio:
        rows.append(("Audio", "none"))
    for number, audio in enumerate(info.audio, start=1):
        label = "Audio" if len(info.audio) == 1 else f"Audio {number}"
        channels = {1: "mono", 2: "stereo"}.get(audio.channels, f"{audio.channels} channels")
        rows.append(
            (label, f"{audio.codec}, {audio.sample_rate} Hz, {channels}, {audio.duration_s:.3f} s")
        )
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def _container_name(info: MediaInfo) -> str:
    # FFmpeg names demuxers by family ("mov,mp4,m4a,..."); the extension says which member.
    names = info.container.split(",")
    suffix = info.path.suffix.lower().lstrip(".")
    if suffix in names:
        return suffix.upper()
    return "Matroska" if "matroska" in names else names[0]


def _size(size_bytes: int) -> str:
    if size_bytes >= 1 << 20:
        return f"{size_bytes / (1 << 20):.1f} MiB"
    return f"{size_bytes / 1024:.1f} KiB"
