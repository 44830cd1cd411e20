"""Derived media for the media-engine tests, built once per session from real fixtures."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from tests.conftest import fixture_video
from tests.media_factory import (
    make_audio_only,
    make_empty_video,
    make_variant,
    truncate_file,
)

# The fixtures README's table: (display size, fps, frame count). Independent ground truth.
FIXTURE_FACTS = {
    "lp_d18.mp4": ((480, 480), 30, 216),
    "lp_d19.mp4": ((480, 480), 30, 250),
    "lp_d3.mp4": ((512, 512), 30, 354),
    "lp_d11.mp4": ((512, 512), 25, 225),
    "lp_s18.mp4": ((1280, 720), 30, 282),
    "lia_vox2.mp4": ((256, 256), 25, 221),
}
VFR_FRAMES = 60
SHORT_FRAMES = 30
INJECTED_TAGS = {
    "creation_time": "2021-06-01T12:34:56.000000Z",
    "location": "+48.8584+002.2945/",
    "make": "Apple",
    "model": "iPhone 13 Pro",
    "com.apple.quicktime.make": "Apple",
    "com.apple.quicktime.model": "iPhone 13 Pro",
    "com.apple.quicktime.location.ISO6709": "+48.8584+002.2945+035.000/",
    "encoder": "HandBrake 1.8.1 2024062200",
    "comment": "Recorded by Alice Example",
}
INJECTED_STREAM_TAGS = {
    "creation_time": "2021-06-01T12:34:56.000000Z",
    "handler_name": "Core Media Video of Alice",
    "encoder": "H.264 Alice-Phone",
}


@pytest.fixture(scope="session")
def derived(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("derived_media")


@pytest.fixture(scope="session")
def odd_clip(derived: Path) -> Path:
    return make_variant(
        fixture_video("lp_d18.mp4"),
        derived / "odd_241x181.mp4",
        width=241,
        height=181,
        max_frames=SHORT_FRAMES,
    )


@pytest.fixture(scope="session")
def ntsc_clip(derived: Path) -> Path:
    return make_variant(
        fixture_video("lp_d19.mp4"),
        derived / "ntsc_2997.mp4",
        fps=Fraction(30000, 1001),
        max_frames=60,
    )


@pytest.fixture(scope="session")
def vfr_clip(derived: Path) -> Path:
    return make_variant(
        fixture_video("lp_d18.mp4"), derived / "vfr.mp4", vfr=True, max_frames=VFR_FRAMES
    )


@pytest.fixture(scope="session")
def upright_small_clip(derived: Path) -> Path:
    """lp_d3 at 240x160, unrotated: what the rotated clip must look like when displayed."""
    return make_variant(
        fixture_video("lp_d3.mp4"),
        derived / "upright_240x160.mp4",
        width=240,
        height=160,
        max_frames=SHORT_FRAMES,
    )


@pytest.fixture(scope="session")
def rotated_clip(derived: Path) -> Path:
    """lp_d3 at 240x160 stored sideways (160x240) with rotation-90 display metadata."""
    return make_variant(
        fixture_video("lp_d3.mp4"),
        derived / "rotated_90.mp4",
        width=240,
        height=160,
        rotation=90,
        max_frames=SHORT_FRAMES,
    )


@pytest.fixture(scope="session")
def silent_clip(derived: Path) -> Path:
    return make_variant(
        fixture_video("lia_vox2.mp4"),
        derived / "no_audio.mp4",
        drop_audio=True,
        max_frames=SHORT_FRAMES,
    )


@pytest.fixture(scope="session")
def pcm_mov_clip(derived: Path) -> Path:
    """PCM audio in MOV: MP4 output must re-encode it to AAC."""
    return make_variant(
        fixture_video("lp_d18.mp4"),
        derived / "pcm_audio.mov",
        audio_codec="pcm_s16le",
        max_frames=SHORT_FRAMES,
    )


@pytest.fixture(scope="session")
def tagged_clip(derived: Path) -> Path:
    return make_variant(
        fixture_video("lp_d19.mp4"),
        derived / "tagged.mp4",
        max_frames=SHORT_FRAMES,
        metadata=INJECTED_TAGS,
        stream_metadata=INJECTED_STREAM_TAGS,
    )


@pytest.fixture(scope="session")
def short_gop_clip(derived: Path) -> Path:
    """Keyframe every 12 frames with open GOPs and B-frames: real seeking on every jump."""
    return make_variant(
        fixture_video("lp_d3.mp4"),
        derived / "short_gop.mp4",
        width=256,
        max_frames=120,
        x264_params="keyint=12:min-keyint=12:scenecut=0:open-gop=1:bframes=3",
    )


@pytest.fixture(scope="session")
def truncated_clip(derived: Path, silent_clip: Path) -> Path:
    return truncate_file(silent_clip, derived / "truncated.mp4", keep_fraction=0.5)


@pytest.fixture(scope="session")
def audio_only_file(derived: Path) -> Path:
    return make_audio_only(fixture_video("lp_d18.mp4"), derived / "audio_only.m4a")


@pytest.fixture(scope="session")
def empty_video_file(derived: Path) -> Path:
    return make_empty_video(fixture_video("lp_d18.mp4"), derived / "no_frames.mkv")


@pytest.fixture(scope="session")
def text_as_mp4(derived: Path) -> Path:
    path = derived / "notes.mp4"
    path.write_text("These are meeting notes, not a video.\n" * 20)
    return path


@pytest.fixture(scope="session")
def unknown_codec_file(derived: Path) -> Path:
    """lp_d18 with its sample entry fourcc changed from avc1 to an unknown one."""
    data = bytearray(fixture_video("lp_d18.mp4").read_bytes())
    entry = data.find(b"avc1", data.find(b"stsd"))
    assert entry > 0
    data[entry : entry + 4] = b"zzzz"
    path = derived / "unknown_codec.mp4"
    path.write_bytes(bytes(data))
    return path
