"""Finding a batch's input files and planning the mirrored output tree.

An INPUT is a file, a folder (searched recursively) or a list file (`.txt`/`.lst`: one
path per line, `#` comments, relative paths relative to the list's folder). Each output
folder mirrors where its source sits below the deepest folder common to all sources, so
two clips of the same name in different folders never collide.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from anonnet_studio.core.batch.jobs import BatchJob
from anonnet_studio.core.errors import AnonNetError, MediaNotFoundError

VIDEO_SUFFIXES = frozenset(
    (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mts", ".m2ts", ".mpg", ".mpeg",
     ".wmv", ".flv", ".3gp", ".ts")
)  # fmt: skip
PROJECT_SUFFIXES = frozenset((".anonproj",))
LIST_SUFFIXES = frozenset((".txt", ".lst"))
# The writer can keep these containers; anything else becomes MP4.
_KEPT_CONTAINERS = frozenset((".mp4", ".m4v", ".mov", ".mkv"))


def discover_inputs(
    inputs: Sequence[Path], *, suffixes: frozenset[str], exclude: Path | None = None
) -> list[Path]:
    """Absolute paths of every input file, in a stable order, without duplicates.

    Folders yield the files with one of `suffixes` below them (hidden names and anything
    under `exclude`, the output folder, are skipped); a file named on the command line or
    in a list is taken whatever its suffix, so a bad file is reported, not ignored.
    """
    found: dict[Path, None] = {}
    excluded = exclude.resolve() if exclude is not None else None
    for path in _expand(inputs, seen_lists=set()):
        if path.is_dir():
            for file in _walk(path, suffixes, excluded):
                found.setdefault(file, None)
        elif path.exists():
            found.setdefault(path.resolve(), None)
        else:
            raise MediaNotFoundError(f"The input does not exist: {path}")
    return list(found)


def plan_jobs(sources: Sequence[Path], out_dir: Path) -> list[BatchJob]:
    """One job per source, its outputs under `out_dir` in a mirrored tree."""
    if not sources:
        return []
    root = Path(os.path.commonpath([s.parent for s in sources]))
    jobs: list[BatchJob] = []
    taken: set[tuple[Path, str]] = set()
    for source in sources:
        relative = source.relative_to(root)
        folder = out_dir / relative.parent
        stem = relative.stem
        if (folder, stem.lower()) in taken:
            # clip.mov beside clip.mp4: the suffix makes the name unique again.
            stem = relative.name.replace(".", "_")
        taken.add((folder, stem.lower()))
        suffix = source.suffix.lower() if source.suffix.lower() in _KEPT_CONTAINERS else ".mp4"
        key = (relative.parent / stem).as_posix()
        jobs.append(BatchJob(source, key, folder, stem, video_suffix=suffix))
    return jobs


def with_frame_counts(jobs: Sequence[BatchJob]) -> list[BatchJob]:
    """The jobs with their frame counts, for the overall rate and ETA. A file that cannot
    be read counts 0 here and fails with its reason when its turn comes."""
    from anonnet_studio.core.media.probe import probe

    counted = []
    for job in jobs:
        try:
            if job.source.suffix.lower() in PROJECT_SUFFIXES:
                frames = _project_frame_count(job.source)
            else:
                frames = probe(job.source).video.frame_count
        except (AnonNetError, OSError, ValueError, KeyError, TypeError):
            frames = 0
        counted.append(replace(job, frames=frames))
    return counted


def _project_frame_count(path: Path) -> int:
    """From the project file's record of its source (no arrays loaded)."""
    data = json.loads(path.read_text(encoding="utf-8"))["project"]
    return int(data["source"]["media_info"]["video"]["frame_count"])


def _expand(inputs: Iterable[Path], seen_lists: set[Path]) -> Iterable[Path]:
    for raw in inputs:
        path = Path(raw).expanduser()
        if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            resolved = path.resolve()
            if resolved in seen_lists:  # a list that names itself
                continue
            seen_lists.add(resolved)
            yield from _expand(_read_list(path), seen_lists)
        else:
            yield path


def _read_list(path: Path) -> list[Path]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        entry = Path(text).expanduser()
        entries.append(entry if entry.is_absolute() else path.parent / entry)
    return entries


def _walk(folder: Path, suffixes: frozenset[str], excluded: Path | None) -> list[Path]:
    files: list[Path] = []
    for current, dirs, names in os.walk(folder.resolve()):
        here = Path(current)
        # Hidden folders, project data folders and the output tree are never inputs.
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and not d.endswith(".data")
            and (excluded is None or here / d != excluded)
        )  # fmt: skip
        if excluded is not None and (here == excluded or excluded in here.parents):
            continue
        files += [
            here / name
            for name in sorted(names)
            if not name.startswith(".") and Path(name).suffix.lower() in suffixes
        ]
    return files
