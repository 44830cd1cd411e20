"""The bookkeeping around one file that every `FileTask` shares: its log, its result,
its done-record (written last) and turning its failure into a result."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.batch.state import forget, write_done_record
from anonnet_studio.core.errors import AnonNetError, OperationCancelled
from anonnet_studio.core.fileio import atomic_write_text


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What the single-file path reports back (its outputs are published by then)."""

    source_sha256: str  # the content the outputs were made from
    verdict: str
    leaks: int
    people: int
    duration_s: float
    frames: int
    notes: tuple[str, ...] = field(default_factory=tuple)


def run_recorded(
    job: BatchJob, settings: str, work: Callable[[io.StringIO], FileOutcome]
) -> FileResult:
    """Runs `work(log)` for `job`; writes the log, then the done-record. A failure of the
    file becomes a "failed" result with its log; a cancel, Ctrl+C and SIGTERM pass through."""
    start = time.monotonic()
    log = io.StringIO()
    log.write(f"{_now()} {job.source}\n")
    try:
        forget(job)  # from here on the job is not done until its new record is written
        job.out_dir.mkdir(parents=True, exist_ok=True)
        outcome = work(log)
        result = FileResult(
            job.key, str(job.source), "done",
            verdict=outcome.verdict, leaks=outcome.leaks, people=outcome.people,
            duration_s=round(outcome.duration_s, 3), frames=outcome.frames,
            seconds=round(time.monotonic() - start, 3), notes=outcome.notes,
        )  # fmt: skip
        log.write(f"{_now()} done in {result.seconds} s\n")
        atomic_write_text(job.log, log.getvalue())
        write_done_record(job, result, outcome.source_sha256, settings)  # last
        return result
    except OperationCancelled:  # the user stops the batch, not this file
        raise
    except Exception as exc:  # the file failed; the batch goes on
        if isinstance(exc, AnonNetError):
            message = exc.user_message()
        else:
            message = f"{type(exc).__name__}: {exc}"
        log.write(f"error: {message}\n{traceback.format_exc()}")
        with contextlib.suppress(Exception):
            atomic_write_text(job.log, log.getvalue())
        return FileResult(
            job.key, str(job.source), "failed",
            seconds=round(time.monotonic() - start, 3),
            error=" ".join(message.splitlines()),  # one line in the summary's table
        )  # fmt: skip


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
