"""The resumable state of a batch: one done-record per finished file, written last.

A file counts as done when its record exists, names the same source content (sha256) and
the same settings, and every output it lists is still there with the size recorded.
The record is written atomically after the video and report were published together
(`OutputTransaction`), so a run killed at any point leaves either a complete file with its
record or something that the next run redoes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.fileio import atomic_write_text

RECORD_VERSION = 1
_CHUNK_BYTES = 1 << 20


def settings_key(settings: Mapping[str, Any]) -> str:
    """A short fingerprint of the options that shape the outputs; a rerun with other
    options redoes every file."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def source_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def write_done_record(job: BatchJob, result: FileResult, sha256: str, settings: str) -> None:
    """The last write of a finished job (its outputs must already be published)."""
    record = {
        "version": RECORD_VERSION,
        "source": str(job.source),
        "source_sha256": sha256,
        "settings": settings,
        "outputs": {path.name: path.stat().st_size for path in job.outputs()},
        "result": result.to_json(),
    }
    atomic_write_text(job.done_record, json.dumps(record, indent=2) + "\n")


def forget(job: BatchJob) -> None:
    """Drop a job's record before it is redone, so a failed redo is not taken as done."""
    with contextlib.suppress(FileNotFoundError):
        job.done_record.unlink()


def completed_result(job: BatchJob, settings: str, sha256: str | None = None) -> FileResult | None:
    """The recorded result if `job` is complete for this source and these settings, else
    None. Hashes the source unless `sha256` is given."""
    try:
        record = json.loads(job.done_record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
        return None
    if record.get("settings") != settings:
        return None
    sizes = record.get("outputs")
    if not isinstance(sizes, dict) or set(sizes) != {p.name for p in job.outputs()}:
        return None
    for path in job.outputs():
        try:
            if path.stat().st_size != sizes[path.name]:
                return None
        except OSError:
            return None
    try:
        current = sha256 or source_sha256(job.source)
    except OSError:
        return None
    if record.get("source_sha256") != current:
        return None
    return FileResult.from_json(record["result"])
