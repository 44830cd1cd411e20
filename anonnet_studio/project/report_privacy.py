"""Keep the audit report shareable: no folder, user name or host name in it.

The report is handed to editors and ethics boards, so by default it names files only
(`interview.mp4`), never where they live: a folder such as `/home/alice/Sources/Minister/`
can reveal the journalist, the source or the story. Full paths are an opt-in for internal
use (`--report-paths`). Besides the fields the report sets itself, free text that comes
from elsewhere (a fallback's reason, a warning, an error message) may quote a path, so
every string is scrubbed: an absolute path becomes its last component.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# An absolute POSIX path (/a/b, ~/a), or a Windows one (C:\a, \\server\share), that is not
# part of a word or a fraction ("and/or", "1/2", "MB/s" stay as they are).
_PATH = re.compile(
    r"(?<![\w.~/\\:])(?:~|[A-Za-z]:)?(?:[/\\]{1,2}[^\s/\\'\"<>|,;:()\[\]{}]+)+[/\\]?"
)
HIDDEN = "[folder]"
PRIVATE = "[private]"


def private_names() -> set[str]:
    """This machine's user and host names (as they could appear in free text)."""
    names: set[str] = set()
    for get in (getpass.getuser, socket.gethostname, lambda: Path.home().name):
        try:
            value = get()
        except Exception:  # no user database, no network name: nothing to hide
            continue
        names.update({value, value.split(".")[0]})
    return {n for n in names if len(n) >= 3}


def known_folders(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The folders of `paths` (as given and resolved) and the home folder, longest first:
    exact prefixes to strip, so a folder with spaces in its name goes too."""
    folders = {str(Path.home())}
    for path in paths:
        for candidate in (Path(path), Path(path).expanduser().resolve()):
            # Absolute only: a relative folder such as "out" is a plain word, and stripping
            # it everywhere would mangle "output" (a key of the report itself).
            if candidate.parent.is_absolute():
                folders.add(str(candidate.parent))
    return sorted((f for f in folders if len(f) > 1), key=len, reverse=True)


def scrub_text(text: str, names: Iterable[str] = (), folders: Iterable[str] = ()) -> str:
    """`text` without the `folders` (prefixes of a path), each other absolute path replaced
    by its last component (or `[folder]` when that is itself a private name), and private
    names by `[private]`."""
    private = set(names)
    for folder in folders:
        # A stand-in without spaces, so the path pattern below takes the rest of the path.
        text = text.replace(folder + os.sep, "/_/").replace(folder, HIDDEN)

    def last_component(match: re.Match[str]) -> str:
        parts = [p for p in re.split(r"[/\\]", match.group(0)) if p and p != "~"]
        name = parts[-1] if parts else ""
        if not name or name in private or name.endswith(":"):
            return HIDDEN
        return name

    text = _PATH.sub(last_component, text)
    for name in sorted(private, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", PRIVATE, text)
    return text


def scrub(
    value: Any,
    *,
    paths: Iterable[str | os.PathLike[str]] = (),
    names: Iterable[str] | None = None,
) -> Any:
    """A copy of a JSON-like `value` with every string (keys too) passed through
    `scrub_text`, the folders of `paths` stripped; numbers, booleans and None are kept."""
    private = private_names() if names is None else set(names)
    return _scrub(value, private, known_folders(paths))


def _scrub(value: Any, names: set[str], folders: list[str]) -> Any:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        return scrub_text(value, names, folders)
    if isinstance(value, dict):
        return {_scrub(k, names, folders): _scrub(v, names, folders) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, names, folders) for v in value]
    return value
