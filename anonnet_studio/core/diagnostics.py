"""Crash logs: the traceback of an unexpected error, kept where the user can find it.

An error that is not an `AnonNetError` is a bug. The person using the tool sees one line
(what failed and where the details are); the details go to a log file in the user's log
folder (`$ANONNET_LOG_DIR`, else the platform's, e.g. `~/.local/state/anonnet-studio/log`),
never next to the source or the outputs, readable by the user only. A log holds the
traceback and versions, never pixels: no frame locals are written, and every line is cut
to `MAX_LINE_CHARS`, so an array that found its way into an exception message cannot
carry more than a few numbers of it.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from anonnet_studio import __version__

EX_SOFTWARE = 70  # sysexits.h: an internal software error
LOG_DIR_ENV = "ANONNET_LOG_DIR"
LOG_FOLDER_NAME = "anonnet-studio"  # the same app folder name as the models' data folder
MAX_LINE_CHARS = 300
MAX_SUMMARY_CHARS = 160
KEEP_LOGS = 20  # older crash logs are removed, so a crash loop cannot fill the disk
_LOG_PREFIX = "crash-"


@dataclass(frozen=True, slots=True)
class CrashReport:
    """What to show about an unexpected error: `summary` (one line), `details` (the text
    of the log) and where the log was written (None if no folder could take it)."""

    summary: str
    details: str
    log_path: Path | None

    def one_line(self) -> str:
        where = f"details in {self.log_path}" if self.log_path else "no log could be written"
        return f"{self.summary} ({where})"


def crash_log_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    override = env.get(LOG_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs  # imported here: only a crash needs it

    return Path(platformdirs.user_log_dir(LOG_FOLDER_NAME, appauthor=False))


def summarize(exc: BaseException, action: str) -> str:
    """'<action> failed unexpectedly: <Type>: <first line of the message>', one line."""
    if isinstance(exc, MemoryError):
        return f"{action} ran out of memory"
    message = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    kind = type(exc).__name__
    text = f"{action} failed unexpectedly: {kind}" + (f": {message}" if message else "")
    if len(text) > MAX_SUMMARY_CHARS:
        text = text[: MAX_SUMMARY_CHARS - 3].rstrip() + "..."
    return text


def format_details(exc: BaseException, action: str) -> str:
    """The log's text: versions, what was being done, and the traceback (lines cut)."""
    header = [
        f"AnonNET Studio {__version__} crash log",
        f"time (UTC): {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())}",
        f"action: {action}",
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        "",
    ]
    lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).splitlines()
    return "\n".join(_cut(line) for line in [*header, *lines]) + "\n"


def record_crash(
    exc: BaseException, action: str, environ: Mapping[str, str] | None = None
) -> CrashReport:
    """Writes the crash log and returns what to show. Never raises: a crash report that
    crashes would hide the first error."""
    summary = summarize(exc, action)
    try:
        details = format_details(exc, action)
    except Exception:  # a broken __str__ or traceback; still say something
        details = f"{summary}\n(the traceback could not be formatted)\n"
    return CrashReport(summary, details, _write_log(details, environ))


def _write_log(details: str, environ: Mapping[str, str] | None) -> Path | None:
    try:
        folders = [crash_log_dir(environ)]
    except Exception:
        folders = []
    # The temp folder only if the log folder cannot be made (a read-only home).
    folders.append(Path(tempfile.gettempdir()) / f"{LOG_FOLDER_NAME}-logs")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = folder / f"{_LOG_PREFIX}{stamp}-{os.getpid()}.log"
            suffix = 1
            while path.exists():
                path = folder / f"{_LOG_PREFIX}{stamp}-{os.getpid()}-{suffix}.log"
                suffix += 1
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
                handle.write(details)
        except OSError:
            continue
        _prune(folder, keep=path)
        return path
    return None


def _prune(folder: Path, keep: Path) -> None:
    try:
        logs = sorted(folder.glob(f"{_LOG_PREFIX}*.log"), key=lambda p: p.stat().st_mtime)
        for old in logs[:-KEEP_LOGS]:
            if old != keep:
                old.unlink()
    except OSError:
        pass


def _cut(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 3] + "..."
