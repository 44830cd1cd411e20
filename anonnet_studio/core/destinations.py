"""One check of every path a run will write, made before the run does any work.

A run names its inputs (the source video, an input project and its data file) and its
outputs (video, report JSON and HTML, project and its data folder, summary). Before
anything is computed, `check_destinations` refuses, with one clear sentence:

- an output that is an input, by resolved path or by the same-file test (so symlinks
  and hard links count), even with `overwrite`: the source is never modified;
- two outputs that are the same file, or one inside another's folder;
- an output whose folder is missing or not writable, that is a folder itself, or whose
  name is longer than the file system allows;
- an output that already exists, unless `overwrite` is given (the existing-output
  policy: nothing a user made is replaced unless they said so).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from anonnet_studio.core.errors import OutputError

_OVERWRITE_HINT = "Choose another name, or pass --overwrite to replace it."


class DestinationError(OutputError):
    """An output path collides with an input or another output, or cannot be written."""


@dataclass(frozen=True, slots=True)
class PathRole:
    """A path a run reads or writes, and what it is to the user ("the report JSON")."""

    path: Path
    role: str
    folder: bool = False  # a folder the run writes into (a project's data folder)


def check_destinations(
    inputs: Sequence[PathRole], outputs: Sequence[PathRole], *, overwrite: bool
) -> None:
    """Raise `DestinationError` for the first problem found (see the module docstring)."""
    for output in outputs:
        _check_writable(output)
        for source in inputs:
            if _same(output.path, source.path) or _inside(source.path, output):
                raise DestinationError(
                    f"The {output.role} would overwrite the {source.role} {source.path}.",
                    hint="The input is never modified: choose another output name.",
                )
            if source.folder and _inside(output.path, source):
                raise DestinationError(
                    f"The {output.role} {output.path} is inside the {source.role}.",
                    hint="Choose another folder.",
                )
    for index, first in enumerate(outputs):
        for second in outputs[index + 1 :]:
            if _same(first.path, second.path) or _inside(second.path, first):
                raise DestinationError(
                    f"The {first.role} and the {second.role} would both be written to "
                    f"{second.path}.",
                    hint="Give each output its own name.",
                )
            if _inside(first.path, second):
                raise DestinationError(
                    f"The {first.role} {first.path} is inside the {second.role}.",
                    hint="Give each output its own name.",
                )
    if not overwrite:
        for output in outputs:
            if not output.folder and os.path.lexists(output.path):
                raise DestinationError(
                    f"The {output.role} {output.path} already exists.", hint=_OVERWRITE_HINT
                )


def _check_writable(output: PathRole) -> None:
    path = output.path
    if output.folder:
        if os.path.lexists(path) and not path.is_dir():
            raise DestinationError(
                f"Cannot write the {output.role} {path}: a file of that name is in the way."
            )
    elif path.is_dir():
        raise DestinationError(f"Cannot write the {output.role} {path}: it is a folder.")
    parent = _absolute(path).parent
    if not parent.is_dir():
        raise DestinationError(
            f"Cannot write the {output.role} {path}: the folder {parent} does not exist."
        )
    limit = _name_limit(parent)
    if len(os.fsencode(path.name)) > limit:
        raise DestinationError(
            f"Cannot write the {output.role}: its name is {len(os.fsencode(path.name))} "
            f"bytes long, and the file system allows {limit}.",
            hint="Choose a shorter name.",
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DestinationError(
            f"Cannot write the {output.role} {path}: no permission to write in {parent}.",
            hint="Choose another folder.",
        )


def _name_limit(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):  # no pathconf on Windows
        return 255


def _same(first: Path, second: Path) -> bool:
    """The same file: by inode when both exist, else by resolved (symlink-free) path."""
    try:
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
    except OSError:
        pass
    return _key(first) == _key(second)


def _inside(path: Path, folder: PathRole) -> bool:
    """True when `path` lies inside `folder` (only for folder roles)."""
    if not folder.folder:
        return False
    inner, outer = _key(path), _key(folder.path)
    return inner != outer and inner.startswith(outer.rstrip(os.sep) + os.sep)


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _key(path: Path) -> str:
    # Names differing only in case are one file on the default macOS and Windows file
    # systems; elsewhere they are two.
    resolved = str(Path(path).expanduser().resolve(strict=False))
    return resolved.casefold() if sys.platform in ("darwin", "win32") else resolved
