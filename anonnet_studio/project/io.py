"""Saving and loading project files: JSON for scalars, an `.npz` sidecar for arrays.

Layout next to `clip.anonproj`:

    clip.anonproj                        JSON; names the sidecar and its sha256
    clip.anonproj.data/arrays-<hash12>.npz

A save writes the new sidecar under a new name, then atomically replaces the JSON, then
deletes sidecars no longer referenced. A crash at any point therefore leaves either the old
JSON with its (untouched) old sidecar or the new JSON with its complete new sidecar.
Nothing is ever unpickled: arrays are written and read with pickling disabled.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from anonnet_studio import __version__
from anonnet_studio.core.errors import OutputError, ProjectFileError
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback
from anonnet_studio.project.codec import DocumentError, decode_project, encode_project
from anonnet_studio.project.hashing import sha256_file
from anonnet_studio.project.migrations import migrate
from anonnet_studio.project.schema import SCHEMA_VERSION, Project
from anonnet_studio.project.validation import project_problems

FORMAT_MARKER = "anonnet-studio-project"
PROJECT_SUFFIX = ".anonproj"
_SIDECAR_PREFIX = "arrays-"
# The JSON holds no arrays, so anything this large is not a project file of ours.
_MAX_JSON_BYTES = 256 * 1024 * 1024
_KEEP_TOGETHER_HINT = (
    "Keep the .anonproj file and its .anonproj.data folder together when copying or moving "
    "a project."
)


def sidecar_dir(path: str | os.PathLike[str]) -> Path:
    """The folder holding the array sidecars of the project file at `path`."""
    path = Path(path)
    return path.with_name(path.name + ".data")


def save_project(
    project: Project, path: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None
) -> None:
    """Write `project` to `path` atomically (see the module docstring).

    Raises OutputError when the destination cannot be written, ValueError when the project
    is internally inconsistent (a bug in the caller: such a file could never be opened).
    """
    path = Path(path)
    problems = project_problems(project)
    if problems:
        raise ValueError("refusing to save an inconsistent project: " + "; ".join(problems[:5]))
    data, arrays = encode_project(project)
    json.dumps(data)  # fail on non-JSON analysis data before anything touches the disk

    def report(done: int, message: str) -> None:
        if on_progress is not None:
            on_progress(Progress("Saving project", done, 3, message))

    folder = sidecar_dir(path)
    try:
        report(0, "Writing arrays")
        folder.mkdir(exist_ok=True)
        sidecar_name, sidecar_sha = _write_sidecar(folder, arrays)
        report(1, "Writing project file")
        document = {
            "format": FORMAT_MARKER,
            "schema_version": SCHEMA_VERSION,
            "saved_by": f"AnonNET Studio {__version__}",
            "arrays": {"file": f"{folder.name}/{sidecar_name}", "sha256": sidecar_sha},
            "project": data,
        }
        text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        _write_atomically(path, text.encode("utf-8"))
        report(2, "Removing old arrays")
        _remove_leftovers(path, keep=sidecar_name)
        report(3, "Saved")
    except OSError as exc:
        raise OutputError(
            f"Could not save the project to {path}: {exc.strerror or exc}.",
            hint="Choose a folder you can write to, with enough free space.",
        ) from exc


def load_project(
    path: str | os.PathLike[str],
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Project:
    """Read a project file and its sidecar; raises ProjectFileError with a readable reason.

    Files of older schema versions are upgraded in memory; the file itself is not changed.
    """
    path = Path(path)
    document = _read_document(path)
    try:
        document = migrate(document)
    except DocumentError as exc:
        raise ProjectFileError(f"The project {path} cannot be upgraded: {exc}.") from exc
    arrays = _read_sidecar(path, document.get("arrays"), on_progress, cancel)
    try:
        project = decode_project(document.get("project"), arrays, SCHEMA_VERSION)
    except DocumentError as exc:
        raise ProjectFileError(
            f"The project {path} is damaged: {exc}.",
            hint="It may have been edited by hand or written by another program.",
        ) from exc
    problems = project_problems(project)
    if problems:
        raise ProjectFileError(f"The project {path} is inconsistent: {problems[0]}.")
    return project


# --- writing -----------------------------------------------------------------------------


def _write_sidecar(folder: Path, arrays: dict[str, np.ndarray]) -> tuple[str, str]:
    """Write the arrays to `arrays-<hash12>.npz` in `folder`; returns (name, sha256)."""
    with _temporary_file(folder, prefix=f".{_SIDECAR_PREFIX}") as (stream, temp_path):
        np.savez(stream, allow_pickle=False, **arrays)
        stream.flush()
        os.fsync(stream.fileno())
        stream.close()
        digest = sha256_file(temp_path)
        name = f"{_SIDECAR_PREFIX}{digest[:12]}.npz"
        os.replace(temp_path, folder / name)
    _fsync_dir(folder)
    return name, digest


def _write_atomically(path: Path, content: bytes) -> None:
    with _temporary_file(path.parent, prefix=f".{path.name}.") as (stream, temp_path):
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())
        stream.close()
        os.replace(temp_path, path)
    _fsync_dir(path.parent)


@contextlib.contextmanager
def _temporary_file(folder: Path, prefix: str) -> Iterator[tuple[Any, Path]]:
    """A temp file in `folder` (same file system, so renaming it is atomic), removed unless
    the caller renamed it away."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
    temp_path = Path(name)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream, temp_path
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp_path.unlink()


def _fsync_dir(folder: Path) -> None:
    # Persists the rename itself; directories cannot be opened this way on Windows.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_leftovers(path: Path, keep: str) -> None:
    """Delete sidecars the JSON no longer names and temp files of earlier, killed saves.

    Only names this module creates are touched; a leftover that cannot be removed only
    wastes space, so errors are ignored (the save itself has succeeded).
    """
    folder = sidecar_dir(path)
    candidates = [
        *(p for p in folder.glob(f"{_SIDECAR_PREFIX}*.npz") if p.name != keep),
        *folder.glob(f".{_SIDECAR_PREFIX}*.tmp"),
        *path.parent.glob(f".{glob.escape(path.name)}.*.tmp"),
    ]
    for candidate in candidates:
        with contextlib.suppress(OSError):
            candidate.unlink()


# --- reading -----------------------------------------------------------------------------


def _read_document(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as stream:
            raw = stream.read(_MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        raise ProjectFileError(f"The project file {path} does not exist.") from None
    except OSError as exc:
        raise ProjectFileError(
            f"The project file {path} cannot be read: {exc.strerror or exc}."
        ) from None
    if not raw.lstrip().startswith(b"{") or len(raw) > _MAX_JSON_BYTES:
        raise _foreign(path)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (
            f" (line {exc.lineno}, column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise ProjectFileError(
            f"The project file {path} is damaged or incomplete{where}.",
            hint="It may have been cut off while copying; use a backup copy if you have one.",
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_MARKER:
        raise _foreign(path)
    version = document.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ProjectFileError(f"The project file {path} has no valid schema_version.")
    if version > SCHEMA_VERSION:
        raise ProjectFileError(
            f"The project {path} was saved by a newer version of AnonNET Studio "
            f"(project format {version}; this version reads up to {SCHEMA_VERSION}).",
            hint="Update AnonNET Studio to open it.",
        )
    return document


def _foreign(path: Path) -> ProjectFileError:
    return ProjectFileError(
        f"{path} is not an AnonNET Studio project file.",
        hint=f"Open a {PROJECT_SUFFIX} file saved by AnonNET Studio, or analyse a video first.",
    )


def _read_sidecar(
    path: Path,
    reference: Any,
    on_progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> dict[str, np.ndarray]:
    if not (
        isinstance(reference, dict)
        and isinstance(reference.get("file"), str)
        and isinstance(reference.get("sha256"), str)
    ):
        raise ProjectFileError(f"The project file {path} does not name its data file.")
    relative = PurePosixPath(reference["file"])
    # A project may only point into its own folder, never elsewhere on the disk.
    if relative.is_absolute() or ".." in relative.parts or "\\" in reference["file"]:
        raise ProjectFileError(f"The project file {path} names an invalid data file.")
    sidecar = path.parent / relative
    if not sidecar.is_file():
        raise ProjectFileError(
            f"The data file {relative} of the project {path} is missing.",
            hint=_KEEP_TOGETHER_HINT,
        )
    try:
        digest = sha256_file(
            sidecar, on_progress=on_progress, cancel=cancel, stage="Checking project data"
        )
    except OSError as exc:
        raise ProjectFileError(
            f"The data file {sidecar} cannot be read: {exc.strerror or exc}."
        ) from None
    if digest != reference["sha256"]:
        raise ProjectFileError(
            f"The data file {relative} does not match the project {path}: it was changed or "
            "belongs to a different save.",
            hint=_KEEP_TOGETHER_HINT,
        )
    try:
        archive = np.load(sidecar, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("not an array archive")
        with archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ProjectFileError(f"The data file {sidecar} is damaged: {exc}.") from None
