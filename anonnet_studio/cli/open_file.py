"""`anonnet-studio FILE`: a video or a project as the only argument opens the editor on it.

A first argument that is neither a command nor an option is taken as a file to open, so
`anonnet-studio interview.mp4` and `anonnet-studio interview.anonproj` work as a desktop
file manager calls them; a path that is neither a video nor a project is a one-line error
that also names the commands (a mistyped command lands here too).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.io import PROJECT_SUFFIX
from anonnet_studio.project.openable import VIDEO_SUFFIXES, is_openable


def file_to_open(argv: Sequence[str], commands: Collection[str]) -> Path | None:
    """The file named by `argv`, when it asks the editor to open one; None when `argv` is
    empty or starts with a command or an option. Raises AnonNetError for a path that is
    missing, or neither a video nor a project."""
    if len(argv) != 1 or argv[0].startswith("-") or argv[0] in commands:
        return None
    path = Path(argv[0]).expanduser()
    known = f"Commands: {', '.join(sorted(commands))} (see anonnet-studio --help)."
    if not path.exists():
        raise AnonNetError(f"No such file or command: {argv[0]}. {known}")
    if not path.is_file() or not is_openable(path):
        raise AnonNetError(
            f"{path.name} is neither a video ({', '.join(VIDEO_SUFFIXES)}) nor an AnonNET "
            f"project ({PROJECT_SUFFIX}), so the editor cannot open it. {known}"
        )
    return path.resolve()
