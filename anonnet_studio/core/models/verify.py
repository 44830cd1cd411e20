"""Checking model files against the sha256 in the manifest (or recorded on first download)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from anonnet_studio.core.models.hashing import sha256_file
from anonnet_studio.core.models.location import ModelLocation
from anonnet_studio.core.models.manifest import ModelSpec
from anonnet_studio.core.models.stores import TrustedHashes
from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, ProgressThrottle


class FileStatus(enum.Enum):
    OK = "ok"  # matches the sha256 published in the manifest
    TRUSTED = "ok (trust on first use)"  # matches the sha256 recorded on first download
    HUB = "ok (Hub-reported sha256)"  # matches the Hub's sha256, recorded when downloaded
    UNVERIFIED = "unverified"  # no published hash and none recorded: nothing to compare
    MISMATCH = "MISMATCH"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class FileCheck:
    path: str
    status: FileStatus
    expected: str | None
    actual: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The result of `ModelManager.verify`: one check per manifest file."""

    name: str
    location: ModelLocation | None  # None: the model was not found anywhere
    files: tuple[FileCheck, ...]

    @property
    def ok(self) -> bool:
        """True when every file is present and none contradicts a known hash."""
        return all(
            check.status not in (FileStatus.MISMATCH, FileStatus.MISSING) for check in self.files
        )

    @property
    def fully_verified(self) -> bool:
        """True when every file matched a known (published or recorded) hash."""
        verified = (FileStatus.OK, FileStatus.TRUSTED, FileStatus.HUB)
        return all(check.status in verified for check in self.files)


def verify_location(
    spec: ModelSpec,
    location: ModelLocation | None,
    trusted: TrustedHashes,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> VerifyReport:
    """Hash every file of `spec` found at `location` and compare with the known hashes."""
    if location is None:
        missing = tuple(
            FileCheck(f.path, FileStatus.MISSING, f.sha256, None, "model not found")
            for f in spec.files
        )
        return VerifyReport(spec.name, None, missing)
    stage = f"Verifying {spec.name}"
    total = sum(
        (location.folder / f.path).stat().st_size
        for f in spec.files
        if (location.folder / f.path).is_file()
    )
    forward = ProgressThrottle(on_progress)
    done = 0

    def advance(delta: int) -> None:
        nonlocal done
        done += delta
        forward(Progress(stage, done, total, unit="B"))

    forward(Progress(stage, 0, total, unit="B"))
    checks = []
    for model_file in spec.files:
        path: Path = location.folder / model_file.path
        if not path.is_file():
            checks.append(
                FileCheck(model_file.path, FileStatus.MISSING, model_file.sha256, None, str(path))
            )
            continue
        actual = sha256_file(path, on_bytes=advance, cancel=cancel)
        if model_file.sha256 is not None:
            status = FileStatus.OK if actual == model_file.sha256 else FileStatus.MISMATCH
            checks.append(
                FileCheck(model_file.path, status, model_file.sha256, actual, "manifest sha256")
            )
            continue
        record = trusted.get(spec.name, spec.revision, model_file.path)
        if record is None:
            detail = "no sha256 is published and none was recorded (not downloaded by us)"
            checks.append(FileCheck(model_file.path, FileStatus.UNVERIFIED, None, actual, detail))
            continue
        if record.hub_reported:
            status = FileStatus.HUB if actual == record.sha256 else FileStatus.MISMATCH
            detail = (
                "no sha256 is published; compared with the hash the Hugging Face Hub reported "
                f"for this revision, checked on download ({record.recorded_at}, {record.origin})"
            )
        else:
            status = FileStatus.TRUSTED if actual == record.sha256 else FileStatus.MISMATCH
            detail = (
                "no sha256 is published; compared with the sha256 recorded on first download "
                f"({record.recorded_at}, {record.origin}): trust on first use"
            )
        checks.append(FileCheck(model_file.path, status, record.sha256, actual, detail))
    return VerifyReport(spec.name, location, tuple(checks))
