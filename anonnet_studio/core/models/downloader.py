"""Download every file of one model into a folder, verified, atomically, with retries.

A file reaches its final name only after its size and sha256 were checked, so anything at
a final path is complete. Until then it lives as `<name>.part` (plain HTTP, resumable) or
in huggingface_hub's staging folder. A file that fails the check is deleted and fetched
again, up to `max_attempts` times, then `ModelIntegrityError` is raised.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from anonnet_studio.core.errors import ModelIntegrityError
from anonnet_studio.core.models.hashing import sha256_file
from anonnet_studio.core.models.http_download import fetch_to_part
from anonnet_studio.core.models.hub_download import fetch_from_hub
from anonnet_studio.core.models.manifest import (
    HubSource,
    ModelFile,
    ModelSource,
    ModelSpec,
    UrlSource,
)
from anonnet_studio.core.models.stores import TrustedHashes
from anonnet_studio.core.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressThrottle,
    check_cancel,
)

PART_SUFFIX = ".part"
STAGING_DIR_NAME = ".staging"


@dataclass(frozen=True, slots=True)
class DownloadSettings:
    """How downloads behave; one value shared by every download of a manager."""

    timeout_s: float = 30.0
    max_attempts: int = 3
    hf_endpoint: str | None = None  # None: huggingface_hub's default (or $HF_ENDPOINT)


class _ByteProgress:
    """Aggregates per-chunk byte deltas of all files of a model into `Progress` events."""

    def __init__(self, stage: str, total: int | None, callback: ProgressCallback | None) -> None:
        self._stage = stage
        self._total = total
        self._forward = ProgressThrottle(callback)
        self.done = 0
        self.message = ""

    def add(self, delta: int) -> None:
        self.done = max(0, self.done + delta)
        self.emit()

    def emit(self) -> None:
        self._forward(Progress(self._stage, self.done, self._total, self.message, unit="B"))


class ModelDownloader:
    """Fetches a model's files from their manifest sources into a target folder."""

    def __init__(self, settings: DownloadSettings, trusted: TrustedHashes) -> None:
        self._settings = settings
        self._trusted = trusted

    def download(
        self,
        spec: ModelSpec,
        target: Path,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Fetch every missing file of `spec` into `target`; returns `target`."""
        progress = _ByteProgress(f"Downloading {spec.name}", spec.total_size, on_progress)
        progress.emit()
        for model_file in spec.files:
            check_cancel(cancel)
            progress.message = model_file.path
            self._download_file(spec, model_file, target, progress, cancel)
        progress.message = "done"
        progress.emit()
        with contextlib.suppress(OSError):
            shutil.rmtree(target / STAGING_DIR_NAME)
        return target

    def _download_file(
        self,
        spec: ModelSpec,
        model_file: ModelFile,
        target: Path,
        progress: _ByteProgress,
        cancel: CancelToken | None,
    ) -> None:
        final = target / model_file.path
        if final.is_file() and model_file.size in (None, final.stat().st_size):
            # Only verified files are ever renamed to a final path.
            progress.add(final.stat().st_size)
            return
        trusted = self._trusted.get(spec.name, spec.revision, model_file.path)
        expected = model_file.sha256 or (trusted.sha256 if trusted else None)
        source = spec.source_of(model_file)
        problem = ""
        for attempt in range(1, self._settings.max_attempts + 1):
            candidate = self._fetch(source, model_file, final, target, progress, cancel, attempt)
            progress.message = f"verifying {model_file.path}"
            progress.emit()
            actual, problem = _check(candidate, model_file, expected, cancel)
            if not problem:
                _move_into_place(candidate, final)
                if expected is None:
                    self._trusted.record(
                        spec.name, spec.revision, model_file.path, actual, _describe(source)
                    )
                return
            progress.add(-candidate.stat().st_size)
            candidate.unlink()
            progress.message = f"{model_file.path}: {problem}; retrying"
            progress.emit()
        raise ModelIntegrityError(
            f"'{model_file.path}' of model '{spec.name}' from {_describe(source)} failed "
            f"verification {self._settings.max_attempts} times: {problem}. "
            "Nothing was kept.",
            hint=_integrity_hint(model_file, trusted is not None, self._trusted.path),
        )

    def _fetch(
        self,
        source: ModelSource,
        model_file: ModelFile,
        final: Path,
        target: Path,
        progress: _ByteProgress,
        cancel: CancelToken | None,
        attempt: int,
    ) -> Path:
        if isinstance(source, UrlSource):
            part = final.with_name(final.name + PART_SUFFIX)
            if part.exists():
                progress.add(part.stat().st_size)  # resuming: those bytes are already done
            fetch_to_part(
                source.url,
                part,
                expected_size=model_file.size,
                timeout_s=self._settings.timeout_s,
                on_bytes=progress.add,
                cancel=cancel,
            )
            return part
        if isinstance(source, HubSource):
            return fetch_from_hub(
                source,
                model_file.path,
                target / STAGING_DIR_NAME,
                endpoint=self._settings.hf_endpoint,
                timeout_s=self._settings.timeout_s,
                on_bytes=progress.add,
                cancel=cancel,
                force=attempt > 1,
            )
        raise TypeError(f"cannot download from {source!r}")


def _check(
    candidate: Path, model_file: ModelFile, expected: str | None, cancel: CancelToken | None
) -> tuple[str, str]:
    """(actual sha256, problem); problem is "" when the file is acceptable."""
    size = candidate.stat().st_size
    if model_file.size is not None and size != model_file.size:
        return "", f"size is {size} bytes, expected {model_file.size}"
    actual = sha256_file(candidate, cancel=cancel)
    if expected is not None and actual != expected:
        return actual, f"sha256 is {actual}, expected {expected}"
    return actual, ""


def _move_into_place(candidate: Path, final: Path) -> None:
    """fsync, then rename: the final name appears only with complete contents."""
    with candidate.open("rb") as handle:
        os.fsync(handle.fileno())
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(candidate, final)


def _describe(source: ModelSource) -> str:
    if isinstance(source, UrlSource):
        return source.url
    if isinstance(source, HubSource):
        return f"huggingface.co/{source.repo}@{source.revision}"
    return repr(source)


def _integrity_hint(model_file: ModelFile, trusted: bool, lock_path: Path) -> str:
    if model_file.sha256 is None and trusted:
        return (
            "The file differs from the copy first downloaded (trust on first use). If the "
            f"publisher changed it on purpose, remove its entry from {lock_path}."
        )
    return "The server may be serving a damaged or changed file; try again later."
