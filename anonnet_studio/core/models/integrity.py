"""Every model file is checked against its known sha256 before it is loaded.

A detector file that was swapped (by accident or by someone who wants faces to stay
visible) must not be used: a blind detector finds no face, so nothing is hidden and the
leak check, blind too, finds no leak. `require_intact` compares each file of a model with
the sha256 in the manifest, or, for files whose hash is not published, with the one
recorded when we downloaded it (trust on first use), wherever the file was found (a folder
the user chose, the user's models folder, a Python package, the download cache). A file
with neither hash cannot be checked and is loaded as it is, as `models verify` reports.

Hashing gigabytes on every start would be slow, so `VerificationCache` remembers each
file's hash under everything that changes when its content can change: path, size,
modification and status-change times (the latter cannot be set back by a user) and inode.
It lives in memory and in a JSON file in the download cache; a file copied, replaced or
edited in place gets a new key and is hashed again.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from anonnet_studio.core.errors import ModelError, ModelIntegrityError
from anonnet_studio.core.models.hashing import sha256_file
from anonnet_studio.core.models.location import ModelLocation
from anonnet_studio.core.models.manifest import ModelSpec
from anonnet_studio.core.models.stores import TrustedHashes, read_json_object, write_json_atomic


class VerificationCache:
    """sha256 of model files already hashed, keyed by their identity on disk."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def sha256(self, file: Path) -> str:
        """The file's sha256, hashed only when its size, times or inode changed."""
        file = Path(os.path.abspath(file))
        key = _identity(file)
        with self._lock:
            entries = self._load()
            entry = entries.get(str(file))
            if entry is not None and {k: entry.get(k) for k in key} == key:
                return str(entry["sha256"])
        digest = sha256_file(file)
        if _identity(file) != key:  # changed while we read it: trust nothing, remember nothing
            return digest
        with self._lock:
            entries = self._load()
            entries[str(file)] = {**key, "sha256": digest}
            self._save(entries)
        return digest

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            raw: dict[str, Any] = {}
            if self.path is not None:
                with contextlib.suppress(ModelError):  # a damaged cache only costs time
                    raw = read_json_object(self.path, "verified model files")
            self._entries = {k: v for k, v in raw.items() if isinstance(v, dict)}
        return self._entries

    def _save(self, entries: dict[str, dict[str, Any]]) -> None:
        if self.path is None:
            return
        alive = {name: entry for name, entry in entries.items() if os.path.exists(name)}
        with contextlib.suppress(OSError):  # an unwritable cache only costs time
            write_json_atomic(self.path, alive)


def require_intact(
    spec: ModelSpec,
    location: ModelLocation,
    trusted: TrustedHashes,
    cache: VerificationCache,
) -> None:
    """Raise `ModelIntegrityError` if any file of `spec` at `location` differs from its
    published (or recorded) sha256; files without a known hash are not checked."""
    for model_file in spec.files:
        expected = model_file.sha256
        origin = "the sha256 in the manifest"
        if expected is None:
            record = trusted.get(spec.name, spec.revision, model_file.path)
            if record is None:
                continue
            expected, origin = record.sha256, "the sha256 recorded when it was downloaded"
        path = location.folder / model_file.path
        try:
            actual = cache.sha256(path)
        except OSError as exc:
            raise ModelError(f"Cannot read the model file {path}: {exc.strerror or exc}.") from exc
        if actual != expected:
            raise ModelIntegrityError(
                f"The model file {path} of '{spec.name}' does not match {origin}: expected "
                f"sha256 {expected}, found {actual}. It was not loaded.",
                hint="It was changed or replaced. Restore the original file (or delete it "
                "and download the model again); `anonnet-studio models verify` checks them all.",
            )


def _identity(file: Path) -> dict[str, int]:
    stat = os.stat(file)
    return {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "inode": stat.st_ino,
        "device": stat.st_dev,
    }
