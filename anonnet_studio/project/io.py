"""Saving and loading project files: JSON for scalars, an `.npz` sidecar for arrays.

Layout next to `clip.anonproj`:

    clip.anonproj                        JSON; names the sidecar and its sha256
    clip.anonproj.data/arrays-<hash12>.npz
    clip.anonproj.data/.save.lock        held (flock) by whoever is saving

A save takes the project's save lock, writes the new sidecar under a new name, then
atomically replaces the JSON, then deletes sidecars that neither it nor the JSON on disk
names. A crash at any point therefore leaves either the old JSON with its (untouched) old
sidecar or the new JSON with its complete new sidecar, and two processes saving at once
take turns. Temp files follow `core.fileio` (recognisable, locked, swept when stale).
Nothing is ever unpickled, and the array file's declared sizes are checked before anything
is allocated (`project.array_file`).
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import filelock
import numpy as np

from anonnet_studio import __version__
from anonnet_studio.core.errors import OutputError, ProjectFileError
from anonnet_studio.core.fileio import (
    OutputTransaction,
    TempFile,
    atomic_write_bytes,
    joined_or_own,
)
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback
from anonnet_studio.project.array_file import ArrayLimits, read_arrays
from anonnet_studio.project.codec import DocumentError, decode_project, encode_project
from anonnet_studio.project.hashing import sha256_file
from anonnet_studio.project.migrations import migrate
from anonnet_studio.project.schema import SCHEMA_VERSION, Project
from anonnet_studio.project.validation import project_problems

FORMAT_MARKER = "anonnet-studio-project"
PROJECT_SUFFIX = ".anonproj"
_SIDECAR_PREFIX = "arrays-"
# Inside the data folder, so a project never leaves extra files beside it.
SAVE_LOCK_NAME = ".save.lock"
SAVE_LOCK_TIMEOUT_S = 60.0
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
    project: Project,
    path: str | os.PathLike[str],
    *,
    on_progress: ProgressCallback | None = None,
    transaction: OutputTransaction | None = None,
) -> None:
    """Write `project` to `path` atomically (see the module docstring).

    The whole save holds the project's save lock, so two processes saving the same
    project take turns instead of interleaving. With `transaction`, the JSON is only
    staged there (the lock is held until the transaction is committed or discarded).
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
    created_folder = not folder.exists()
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise _save_error(path, exc) from exc
    lock = _lock_for_saving(path)
    written: list[str] = []
    handed_over = False
    try:
        report(0, "Writing arrays")
        sidecar_name, sidecar_sha = _write_sidecar(folder, arrays)
        written.append(sidecar_name)
        report(1, "Writing project file")
        document = {
            "format": FORMAT_MARKER,
            "schema_version": SCHEMA_VERSION,
            "saved_by": f"AnonNET Studio {__version__}",
            "arrays": {"file": f"{folder.name}/{sidecar_name}", "sha256": sidecar_sha},
            "project": data,
        }
        text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        with joined_or_own(transaction) as outputs:
            # From here the transaction owns the cleanup, whatever happens.
            handed_over = True
            outputs.after_commit(lambda: _remove_leftovers(path, keep=sidecar_name))
            outputs.after_discard(lambda: _remove_unsaved(path, written))
            outputs.on_close(lock.release)
            outputs.on_close(lambda: _remove_empty_folder(path, created_folder))
            atomic_write_bytes(path, text.encode("utf-8"), transaction=outputs)
        report(3, "Saved" if transaction is None else "Ready to save")
    except OSError as exc:
        raise _save_error(path, exc) from exc
    finally:
        if not handed_over:
            _remove_unsaved(path, written)
            lock.release()
            _remove_empty_folder(path, created_folder)


def _save_error(path: Path, exc: OSError) -> OutputError:
    return OutputError(
        f"Could not save the project to {path}: {exc.strerror or exc}.",
        hint="Choose a folder you can write to, with enough free space.",
    )


def _lock_for_saving(path: Path) -> filelock.BaseFileLock:
    """The project's save lock, held; another process saving it makes this wait."""
    lock = filelock.FileLock(
        sidecar_dir(path) / SAVE_LOCK_NAME, timeout=SAVE_LOCK_TIMEOUT_S, thread_local=False
    )
    try:
        lock.acquire()
    except filelock.Timeout:
        raise OutputError(
            f"The project {path} is being saved by another program and did not finish "
            f"within {SAVE_LOCK_TIMEOUT_S:.0f} s.",
            hint="Try again when the other save has finished.",
        ) from None
    except OSError as exc:
        raise _save_error(path, exc) from exc
    return lock


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
    document, arrays = _read_in_step(path, on_progress, cancel)
    try:
        document = migrate(document)
    except DocumentError as exc:
        raise ProjectFileError(f"The project {path} cannot be upgraded: {exc}.") from exc
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


# Saves in another process may replace the sidecar between our two reads; each retry needs
# a newer project file, so this bounds only how many saves in a row we wait out.
_MAX_READS_OUT_OF_STEP = 20


def _read_in_step(
    path: Path, on_progress: ProgressCallback | None, cancel: CancelToken | None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The project JSON and the sidecar it names, read as one consistent pair."""
    document = _read_document(path)
    for _ in range(_MAX_READS_OUT_OF_STEP):
        try:
            return document, _read_sidecar(path, document, on_progress, cancel)
        except _SidecarOutOfStep:
            again = _read_document(path)
            if again == document:
                raise
            document = again
    return document, _read_sidecar(path, document, on_progress, cancel)


# --- writing -----------------------------------------------------------------------------


def _write_sidecar(folder: Path, arrays: dict[str, np.ndarray]) -> tuple[str, str]:
    """Write the arrays to `arrays-<hash12>.npz` in `folder`; returns (name, sha256)."""
    with TempFile(folder, f"{_SIDECAR_PREFIX}new.npz") as temp:
        with open(temp.fd, "wb", closefd=False) as stream:
            np.savez(stream, allow_pickle=False, **arrays)
        digest = sha256_file(temp.path)
        name = f"{_SIDECAR_PREFIX}{digest[:12]}.npz"
        temp.commit(name)
    return name, digest


def _remove_leftovers(path: Path, keep: str) -> None:
    """Delete sidecars that neither this save nor the project file on disk names.

    Runs under the save lock. Re-reading the JSON means a sidecar the current project file
    names is never deleted, even if something else replaced that file meanwhile. Only
    names this module creates are touched; a leftover that cannot be removed only wastes
    space, so errors are ignored (the save itself has succeeded).
    """
    named = _sidecar_named_by(path)
    if named is None:
        return  # cannot tell what the file on disk needs: delete nothing
    for candidate in sidecar_dir(path).glob(f"{_SIDECAR_PREFIX}*.npz"):
        if candidate.name not in (keep, named):
            with contextlib.suppress(OSError):
                candidate.unlink()


def _remove_unsaved(path: Path, written: list[str]) -> None:
    """After a failed or discarded save: delete the sidecar it wrote, unless the project
    file on disk names it (an identical earlier save) or cannot be read to tell."""
    named = _sidecar_named_by(path)
    if named is None and path.exists():
        return
    for name in written:
        if name != named:
            with contextlib.suppress(OSError):
                (sidecar_dir(path) / name).unlink()


def _remove_empty_folder(path: Path, created: bool) -> None:
    """Remove the data folder a failed first save created, when nothing else is in it."""
    folder = sidecar_dir(path)
    if not created or path.exists():
        return
    with contextlib.suppress(OSError):
        if {p.name for p in folder.iterdir()} <= {SAVE_LOCK_NAME}:
            (folder / SAVE_LOCK_NAME).unlink(missing_ok=True)
            folder.rmdir()


def _sidecar_named_by(path: Path) -> str | None:
    """The name of the sidecar the project file at `path` names, or None if unknown."""
    try:
        with open(path, "rb") as stream:
            document = json.loads(stream.read(_MAX_JSON_BYTES + 1))
        relative = PurePosixPath(document["arrays"]["file"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return relative.name if relative.parent.name == sidecar_dir(path).name else None


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
        document = json.loads(raw.decode("utf-8"), parse_constant=_refuse_non_finite)
    except _NonFiniteNumber as exc:
        raise ProjectFileError(
            f"The project file {path} holds {exc}, which no field accepts.",
            hint="It may have been edited by hand or written by another program.",
        ) from None
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


class _NonFiniteNumber(ValueError):
    pass


def _refuse_non_finite(constant: str) -> None:
    # Python's json reads NaN and Infinity, which standard JSON does not have; a NaN box
    # or strength passes every range check and then breaks rendering.
    raise _NonFiniteNumber(f"the number {constant}")


def _foreign(path: Path) -> ProjectFileError:
    return ProjectFileError(
        f"{path} is not an AnonNET Studio project file.",
        hint=f"Open a {PROJECT_SUFFIX} file saved by AnonNET Studio, or analyse a video first.",
    )


class _SidecarOutOfStep(ProjectFileError):
    """The data file the project names is missing or is not the one it names."""


def _read_sidecar(
    path: Path,
    document: dict[str, Any],
    on_progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> dict[str, np.ndarray]:
    reference = document.get("arrays")
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
        raise _SidecarOutOfStep(
            f"The data file {relative} of the project {path} is missing.",
            hint=_KEEP_TOGETHER_HINT,
        )
    try:
        digest = sha256_file(
            sidecar, on_progress=on_progress, cancel=cancel, stage="Checking project data"
        )
    except FileNotFoundError:
        raise _SidecarOutOfStep(  # a save elsewhere replaced it since the check above
            f"The data file {relative} of the project {path} is missing.",
            hint=_KEEP_TOGETHER_HINT,
        ) from None
    except OSError as exc:
        raise ProjectFileError(
            f"The data file {sidecar} cannot be read: {exc.strerror or exc}."
        ) from None
    if digest != reference["sha256"]:
        raise _SidecarOutOfStep(
            f"The data file {relative} does not match the project {path}: it was changed or "
            "belongs to a different save.",
            hint=_KEEP_TOGETHER_HINT,
        )
    project = document.get("project")
    source = project.get("source") if isinstance(project, dict) else None
    media_info = source.get("media_info") if isinstance(source, dict) else None
    try:
        return read_arrays(sidecar, ArrayLimits.for_media(media_info))
    except FileNotFoundError:
        raise _SidecarOutOfStep(  # replaced by a save elsewhere after it was hashed
            f"The data file {relative} of the project {path} is missing.",
            hint=_KEEP_TOGETHER_HINT,
        ) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ProjectFileError(
            f"The data file {relative} of the project {path} is damaged: {exc}.",
            hint="It may have been edited by hand or written by another program.",
        ) from None
