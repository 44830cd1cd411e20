"""The batch engine: which jobs are already done, running the rest, and the summary.

Shared by `anonnet-studio batch` and the editor; both hand in their own `FileTask`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.batch.runner import FileTask, Runner
from anonnet_studio.core.batch.state import completed_result
from anonnet_studio.core.batch.summary import BatchSummary, write_summary
from anonnet_studio.core.batch.tracker import BatchTracker
from anonnet_studio.core.progress import Progress


@dataclass(frozen=True, slots=True)
class BatchPlan:
    jobs: tuple[BatchJob, ...]
    done: Mapping[str, FileResult]  # by job key: complete from an earlier run
    settings: str  # `state.settings_key` of the options

    @property
    def todo(self) -> tuple[BatchJob, ...]:
        return tuple(job for job in self.jobs if job.key not in self.done)


def plan_batch(jobs: Sequence[BatchJob], settings: str, *, redo: bool = False) -> BatchPlan:
    """Looks up each job's done-record (hashing its source) unless `redo`."""
    done: dict[str, FileResult] = {}
    if not redo:
        for job in jobs:
            result = completed_result(job, settings)
            if result is not None:
                done[job.key] = result
    return BatchPlan(tuple(jobs), done, settings)


@dataclass
class BatchRun:
    """Runs a plan; `results` fills in as files finish (in the calling thread)."""

    plan: BatchPlan
    out_dir: Path
    settings: Mapping[str, Any]
    stages: Sequence[str]
    on_progress: Callable[[Progress], None] = lambda _p: None
    on_result: Callable[[BatchJob, FileResult], None] = lambda _j, _r: None
    results: dict[str, FileResult] = field(default_factory=dict)

    def run(self, task: FileTask, runner: Runner) -> BatchSummary:
        """Runs what is left, then writes the summary, also when interrupted."""
        start = time.monotonic()
        todo = self.plan.todo
        tracker = BatchTracker({j.key: j.frames for j in todo}, self.stages, self.on_progress)

        def finished(job: BatchJob, result: FileResult) -> None:
            self.results[job.key] = result
            tracker.job_finished(job.key)
            self.on_result(job, result)

        self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            tracker.emit()
            runner.run(task, todo, tracker.job_progress, finished)
        finally:
            summary = self.summary(time.monotonic() - start)
            write_summary(self.out_dir, summary)
        return summary

    def summary(self, seconds: float) -> BatchSummary:
        rows = []
        for job in self.plan.jobs:
            result = self.results.get(job.key)
            if result is None and job.key in self.plan.done:
                result = _as_skipped(self.plan.done[job.key])
            if result is None:
                result = FileResult(job.key, str(job.source), "not run")
            rows.append((job, result))
        return BatchSummary(tuple(rows), seconds, self.settings)


def _as_skipped(result: FileResult) -> FileResult:
    from dataclasses import replace

    return replace(result, status="skipped")


def exit_code(summary: BatchSummary, *, verdicts_matter: bool = True) -> int:
    """0 when every file is done with a PASS; 1 when any failed or did not run; 3 when
    all finished but some report does not PASS (like `anonymize`)."""
    statuses = [r.status for _, r in summary.rows]
    if any(s in ("failed", "not run") for s in statuses):
        return 1
    if verdicts_matter and any(not r.ok for _, r in summary.rows):
        return 3
    return 0
