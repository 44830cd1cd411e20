"""Download every file of one model into a folder: verified, atomic, resumed, retried.

A file reaches its final name only after its size and hash were checked, so anything at a
final path is complete. Until then it lives as `<name>.part`, the resume point for every
source (plain URLs and Hub files alike, see `hub_download`).

A file may have several sources (mirrors). They are tried in order in rounds: a source
that cannot serve the file (404, wrong commit, a different hash) is dropped; one with a
transient problem (timeout, dropped connection, 5xx) is tried again in the next round,
after an exponential backoff, resuming its `.part`. A round that adds no bytes counts as a
failed attempt, so a flaky connection that keeps making progress is never given up on,
while a dead network is, after `max_attempts` rounds. A transfer whose hash is wrong is
deleted and fetched again, up to `max_attempts` times, then `ModelIntegrityError`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from anonnet_studio.core.errors import ModelIntegrityError, ModelUnavailableError
from anonnet_studio.core.models.hashing import sha256_and_git_sha1, sha256_file
from anonnet_studio.core.models.http_download import (
    PermanentDownloadError,
    TransientDownloadError,
    fetch_to_part,
    probe_url_size,
)
from anonnet_studio.core.models.hub_download import check_commit, describe, hub_file_info
from anonnet_studio.core.models.manifest import (
    HubSource,
    ModelFile,
    ModelSource,
    ModelSpec,
    UrlSource,
)
from anonnet_studio.core.models.retry import Backoff, wait
from anonnet_studio.core.models.stores import FIRST_USE, HUB_REPORTED, TrustedHashes
from anonnet_studio.core.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressThrottle,
    check_cancel,
)

PART_SUFFIX = ".part"
_LEGACY_STAGING_DIR = ".staging"  # where older versions staged Hub files; cleaned up


@dataclass(frozen=True, slots=True)
class DownloadSettings:
    """How downloads behave; one value shared by every download of a manager."""

    timeout_s: float = 30.0
    max_attempts: int = 3
    hf_endpoint: str | None = None  # None: huggingface_hub's default (or $HF_ENDPOINT)
    retry_delay_s: float = 1.0  # first backoff; doubles per retry without progress
    max_retry_delay_s: float = 30.0


class _ByteProgress:
    """Aggregates per-chunk byte deltas of all files of a model into `Progress` events."""

    def __init__(self, stage: str, total: int | None, callback: ProgressCallback | None) -> None:
        self._stage = stage
        self._total = total
        self._callback = callback
        self._throttled = ProgressThrottle(callback)
        self.done = 0
        self.message = ""

    def add(self, delta: int) -> None:
        self.done = max(0, self.done + delta)
        self.emit()

    def emit(self, *, force: bool = False) -> None:
        """Forward the state; `force` skips the throttle (a retry notice must be seen)."""
        event = Progress(self._stage, self.done, self._total, self.message, unit="B")
        if force and self._callback is not None:
            self._callback(event)
        else:
            self._throttled(event)


class _SourceMismatch(PermanentDownloadError):
    """The source describes a different file than the manifest pins (size or hash)."""


@dataclass(slots=True)
class _Fetched:
    """A finished `.part` and what it must match."""

    size: int | None
    sha256: str | None
    git_sha1: str | None
    origin: str
    hub_reported: bool  # the expected hash came from the Hub's metadata


@dataclass(slots=True)
class _Attempts:
    """Bookkeeping of one file's tries across its sources."""

    failures: dict[int, str] = field(default_factory=dict)  # source index -> last problem
    dead: set[int] = field(default_factory=set)
    integrity_failures: int = 0
    stalled_rounds: int = 0
    retries_without_progress: int = 0


class ModelDownloader:
    """Fetches a model's files from their manifest sources into a target folder."""

    def __init__(self, settings: DownloadSettings, trusted: TrustedHashes) -> None:
        self._settings = settings
        self._trusted = trusted
        self._backoff = Backoff(settings.retry_delay_s, settings.max_retry_delay_s)

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
            shutil.rmtree(target / _LEGACY_STAGING_DIR)
        return target

    def remote_size(self, spec: ModelSpec, model_file: ModelFile) -> int | None:
        """The size the first answering source reports for a file (None: none knows)."""
        for source in spec.sources_of(model_file):
            try:
                if isinstance(source, HubSource):
                    info = hub_file_info(
                        source,
                        source.path_for(model_file),
                        endpoint=self._settings.hf_endpoint,
                        timeout_s=self._settings.timeout_s,
                    )
                    size = info.size
                elif isinstance(source, UrlSource):
                    size = probe_url_size(source.url, timeout_s=self._settings.timeout_s)
                else:
                    size = None
            except ModelUnavailableError:
                continue
            if size is not None:
                return size
        return None

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
        part = final.with_name(final.name + PART_SUFFIX)
        progress.add(_size(part))  # resuming: those bytes are already done
        trusted = self._trusted.get(spec.name, spec.revision, model_file.path)
        known = model_file.sha256 or (trusted.sha256 if trusted else None)
        sources = spec.sources_of(model_file)
        attempts = _Attempts()
        while True:
            grew = False
            for index, source in enumerate(sources):
                if index in attempts.dead:
                    continue
                before = _size(part)
                fetched = self._attempt(
                    source, index, model_file, part, known, attempts, progress, cancel
                )
                grew = grew or _size(part) > before
                if fetched is None:
                    continue
                progress.message = f"verifying {model_file.path}"
                progress.emit()
                actual, problem = _check(part, fetched, cancel)
                if not problem:
                    _move_into_place(part, final)
                    if model_file.sha256 is None and trusted is None:
                        kind = HUB_REPORTED if fetched.hub_reported else FIRST_USE
                        self._trusted.record(
                            spec.name, spec.revision, model_file.path, actual, fetched.origin, kind
                        )
                    return
                attempts.integrity_failures += 1
                attempts.failures[index] = f"{fetched.origin}: {problem}"
                progress.add(-_size(part))
                part.unlink()
                grew = False
                if attempts.integrity_failures >= self._settings.max_attempts:
                    raise self._give_up(spec, model_file, attempts, trusted is not None)
            self._before_next_round(
                spec, model_file, attempts, grew, progress, cancel, trusted is not None
            )

    def _attempt(
        self,
        source: ModelSource,
        index: int,
        model_file: ModelFile,
        part: Path,
        known: str | None,
        attempts: _Attempts,
        progress: _ByteProgress,
        cancel: CancelToken | None,
    ) -> _Fetched | None:
        """One fetch from one source; None (with the problem noted) when it failed."""
        try:
            return self._fetch(source, model_file, part, known, progress, cancel)
        except _SourceMismatch as exc:
            attempts.dead.add(index)
            attempts.integrity_failures += 1
            attempts.failures[index] = exc.message
        except PermanentDownloadError as exc:
            attempts.dead.add(index)
            attempts.failures[index] = exc.message
        except TransientDownloadError as exc:
            attempts.failures[index] = exc.message
        return None

    def _before_next_round(
        self,
        spec: ModelSpec,
        model_file: ModelFile,
        attempts: _Attempts,
        grew: bool,
        progress: _ByteProgress,
        cancel: CancelToken | None,
        trusted: bool,
    ) -> None:
        """Give up, or wait out the backoff before trying the live sources again."""
        if grew:
            attempts.stalled_rounds = 0
            attempts.retries_without_progress = 1
        else:
            attempts.stalled_rounds += 1
            attempts.retries_without_progress += 1
        if (
            len(attempts.dead) == len(spec.sources_of(model_file))
            or attempts.stalled_rounds >= self._settings.max_attempts
        ):
            raise self._give_up(spec, model_file, attempts, trusted)
        delay = self._backoff.delay(attempts.retries_without_progress)
        last = next(reversed(attempts.failures.values()), "")
        progress.message = f"{model_file.path}: {last} (retrying in {delay:.0f} s)"
        progress.emit(force=True)
        wait(delay, cancel)
        progress.message = model_file.path

    def _fetch(
        self,
        source: ModelSource,
        model_file: ModelFile,
        part: Path,
        known: str | None,
        progress: _ByteProgress,
        cancel: CancelToken | None,
    ) -> _Fetched:
        timeout_s = self._settings.timeout_s
        if isinstance(source, UrlSource):
            fetch_to_part(
                source.url,
                part,
                expected_size=model_file.size,
                timeout_s=timeout_s,
                on_bytes=progress.add,
                cancel=cancel,
            )
            return _Fetched(model_file.size, known, None, source.url, hub_reported=False)
        if not isinstance(source, HubSource):
            raise TypeError(f"cannot download from {source!r}")
        filename = source.path_for(model_file)
        info = hub_file_info(
            source, filename, endpoint=self._settings.hf_endpoint, timeout_s=timeout_s
        )
        check_commit(info, source, filename)
        where = describe(source, filename)
        if model_file.size is not None and info.size not in (None, model_file.size):
            raise _SourceMismatch(
                f"{where} is {info.size} bytes, the manifest expects {model_file.size}."
            )
        if known is not None and info.sha256 not in (None, known):
            raise _SourceMismatch(
                f"The Hub reports sha256 {info.sha256} for {where}; expected {known}."
            )
        size = model_file.size if model_file.size is not None else info.size
        fetch_to_part(
            info.url,
            part,
            expected_size=size,
            timeout_s=timeout_s,
            on_bytes=progress.add,
            cancel=cancel,
        )
        sha256 = known or info.sha256
        git_sha1 = None if sha256 else info.git_sha1
        origin = f"{where} (commit {info.commit})" if info.commit else where
        hub_reported = known is None and (sha256 or git_sha1) is not None
        return _Fetched(size, sha256, git_sha1, origin, hub_reported)

    def _give_up(
        self, spec: ModelSpec, model_file: ModelFile, attempts: _Attempts, trusted: bool
    ) -> ModelUnavailableError | ModelIntegrityError:
        tried = "; ".join(attempts.failures.values()) or "no source answered"
        what = f"'{model_file.path}' of model '{spec.name}'"
        if attempts.integrity_failures:
            return ModelIntegrityError(
                f"{what} failed verification: {tried} Nothing was kept.",
                hint=_integrity_hint(model_file, trusted, self._trusted.path),
            )
        return ModelUnavailableError(
            f"Could not download {what}: {tried}",
            hint="Check the connection and run the download again; it resumes where it stopped.",
        )


def _check(part: Path, fetched: _Fetched, cancel: CancelToken | None) -> tuple[str, str]:
    """(actual sha256, problem); problem is "" when the file is acceptable."""
    size = part.stat().st_size
    if fetched.size is not None and size != fetched.size:
        return "", f"size is {size} bytes, expected {fetched.size}."
    if fetched.git_sha1 is not None:
        actual, git_sha1 = sha256_and_git_sha1(part, cancel=cancel)
        if git_sha1 != fetched.git_sha1:
            return actual, f"Git blob id is {git_sha1}, the Hub reports {fetched.git_sha1}."
        return actual, ""
    actual = sha256_file(part, cancel=cancel)
    if fetched.sha256 is not None and actual != fetched.sha256:
        return actual, f"sha256 is {actual}, expected {fetched.sha256}."
    return actual, ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _move_into_place(candidate: Path, final: Path) -> None:
    """fsync, then rename: the final name appears only with complete contents."""
    with candidate.open("rb") as handle:
        os.fsync(handle.fileno())
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(candidate, final)


def _integrity_hint(model_file: ModelFile, trusted: bool, lock_path: Path) -> str:
    if model_file.sha256 is None and trusted:
        return (
            "The file differs from the copy first downloaded (trust on first use). If the "
            f"publisher changed it on purpose, remove its entry from {lock_path}."
        )
    return "The server may be serving a damaged or changed file; try again later."
