"""The inputs and outputs of each writing subcommand, checked before it does any work.

Each command lists what it reads and what it will write with these helpers, and
`check_destinations` refuses collisions, missing or unwritable folders, and (without
--overwrite) existing outputs, before any model is loaded or frame decoded.
"""

from __future__ import annotations

from pathlib import Path

from anonnet_studio.core.destinations import PathRole
from anonnet_studio.core.errors import OutputError
from anonnet_studio.core.media.writer import OUTPUT_FORMATS
from anonnet_studio.project.io import sidecar_dir
from anonnet_studio.project.schema import Project


def video_output(path: Path) -> PathRole:
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise OutputError(
            f"Cannot write {path.name}: unsupported file type {path.suffix or '(none)'}.",
            hint="Use a name ending in .mp4, .mov or .mkv.",
        )
    return PathRole(path, "output video")


def project_outputs(path: Path) -> list[PathRole]:
    """A project file and its data folder, as outputs."""
    return [
        PathRole(path, "project file"),
        PathRole(sidecar_dir(path), "project's data folder", folder=True),
    ]


def project_inputs(path: Path, project: Project) -> list[PathRole]:
    """An opened project: its file, its data folder and the video it was made from."""
    return [
        PathRole(path, "input project"),
        PathRole(sidecar_dir(path), "input project's data folder", folder=True),
        PathRole(Path(project.source.path), "source video"),
    ]
