"""Projects over the real fixture footage for editor tests that need no analysis run.

`fixture_project()` places the demo factory's tracks on a real clip (its true size, frame
count and fps from the media engine's probe), so preview and export jobs decode and
redact real frames.
"""

from __future__ import annotations

from pathlib import Path

from anonnet_studio.core.analysis.thumbnails import face_thumbnail
from anonnet_studio.core.media.probe import probe
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.project.schema import Project, SourceMedia
from tests.conftest import fixture_video
from tests.project.factories import make_demo_project


def fixture_source(path: Path) -> SourceMedia:
    info = probe(path)
    return SourceMedia(
        path=str(path.resolve()),
        sha256="0" * 64,  # exports check it; tests that export use `real_hash=True`
        size_bytes=path.stat().st_size,
        media_info=info.to_json_dict(),
    )


def fixture_project(name: str = "lp_d18.mp4", *, real_hash: bool = False) -> Project:
    """Two people over one real clip: P1 for the whole clip, P2 in its middle third."""
    path = fixture_video(name)
    source = fixture_source(path)
    if real_hash:
        from anonnet_studio.project.hashing import sha256_file

        source = SourceMedia(source.path, sha256_file(path), source.size_bytes, source.media_info)
    video = source.media_info["video"]
    frames, width, height = video["frame_count"], video["width"], video["height"]
    third = frames // 3
    project = make_demo_project(
        source=source,
        shots=((0, third), (third, frames)),
        tracks=((1, 0, 0, third), (2, 1, 0, third), (1, 1, 0, frames - third)),
        frame_size=(width, height),
    )
    _thumbnails_from_video(project, path)
    return project


def _thumbnails_from_video(project: Project, path: Path) -> None:
    """Replace the demo's noise thumbnails by crops of the real frames at the boxes."""
    with VideoReader(path) as reader:
        for identity in project.identities:
            track = project.tracks_of(identity.id)[0]
            frame = track.start_frame
            box = track.box_at(frame)
            assert box is not None
            identity.thumbnail = face_thumbnail(reader.frame_at(frame), box)
