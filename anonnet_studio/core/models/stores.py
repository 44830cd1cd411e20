"""Small JSON files the model manager keeps: user-chosen model folders and trusted hashes.

Both are written atomically (temp file, fsync, rename) so a crash never leaves a
half-written settings file, and a corrupt file is reported instead of silently dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anonnet_studio.core.errors import ModelError


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object stored at `path`, or {} when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ModelError(f"Cannot read the {what} file {path}: {exc.strerror}.") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"The {what} file {path} is damaged (line {exc.lineno}: {exc.msg}).",
            hint="Delete it to start over.",
        ) from exc
    if not isinstance(value, dict):
        raise ModelError(f"The {what} file {path} is damaged.", hint="Delete it to start over.")
    return value


def write_json_atomic(path: Path, value: object) -> None:
    """Replace `path` with `value` as JSON so readers see either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


class LocalPathSettings:
    """Per-model folders the user picked with `set_local_path` (e.g. an air-gapped copy)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, name: str) -> Path | None:
        value = read_json_object(self.path, "model locations").get(name)
        return Path(value) if isinstance(value, str) else None

    def all(self) -> dict[str, Path]:
        raw = read_json_object(self.path, "model locations")
        return {name: Path(value) for name, value in raw.items() if isinstance(value, str)}

    def set(self, name: str, folder: Path | None) -> None:
        """Remember `folder` for `name`; None forgets it."""
        raw = read_json_object(self.path, "model locations")
        if folder is None:
            raw.pop(name, None)
        else:
            raw[name] = str(folder)
        write_json_atomic(self.path, raw)


FIRST_USE = "first-use"  # computed from the first download: nothing published to compare with
HUB_REPORTED = "hub"  # the Hub's own hash for the file at that revision, checked on download


@dataclass(frozen=True, slots=True)
class TrustedHash:
    """A sha256 recorded on the first successful download of a file with no published hash."""

    sha256: str
    recorded_at: str  # ISO 8601, UTC
    origin: str  # the URL or hub repo it came from
    kind: str = FIRST_USE  # FIRST_USE or HUB_REPORTED

    @property
    def hub_reported(self) -> bool:
        return self.kind == HUB_REPORTED


class TrustedHashes:
    """Lock file of recorded hashes: `{"<model>/<revision>/<path>": {...}}`.

    A file without a sha256 in the manifest gets one here on its first verified download:
    the Hub-reported sha256 (or Git blob id) for Hub files, else the hash of what arrived
    (trust on first use). Every later download and verify is checked against it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def key(model: str, revision: str, relpath: str) -> str:
        return f"{model}/{revision}/{relpath}"

    def get(self, model: str, revision: str, relpath: str) -> TrustedHash | None:
        entry = read_json_object(self.path, "trusted hashes").get(
            self.key(model, revision, relpath)
        )
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            return None
        return TrustedHash(
            sha256=entry["sha256"],
            recorded_at=str(entry.get("recorded_at", "")),
            origin=str(entry.get("origin", "")),
            kind=str(entry.get("kind", FIRST_USE)),
        )

    def record(
        self,
        model: str,
        revision: str,
        relpath: str,
        sha256: str,
        origin: str,
        kind: str = FIRST_USE,
    ) -> None:
        raw = read_json_object(self.path, "trusted hashes")
        raw[self.key(model, revision, relpath)] = {
            "sha256": sha256,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "origin": origin,
            "kind": kind,
        }
        write_json_atomic(self.path, raw)
