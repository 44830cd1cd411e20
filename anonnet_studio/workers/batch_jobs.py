"""File > Batch export…: the batch engine of `anonnet-studio batch --projects`, run on the
compute thread, each project through the editor's own export job."""

from __future__ import annotations

import io
from collections.abc import Callable

from anonnet_studio.core.batch.engine import BatchRun, exit_code, plan_batch
from anonnet_studio.core.batch.inputs import (
    PROJECT_SUFFIXES,
    discover_inputs,
    plan_jobs,
    with_frame_counts,
)
from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.batch.recorded import FileOutcome, run_recorded
from anonnet_studio.core.batch.runner import InlineRunner
from anonnet_studio.core.batch.state import settings_key, source_sha256
from anonnet_studio.core.batch.summary import SUMMARY_HTML
from anonnet_studio.core.batch.tracker import PROJECT_STAGES
from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.core.progress import CancelToken, ProgressCallback, check_cancel
from anonnet_studio.workers.requests import BatchExportRequest, ExportRequest
from anonnet_studio.workers.results import BatchExportDone
from anonnet_studio.workers.services import ComputeServices


class _EditorExportTask:
    """One project at a time on this thread, through the editor's export handler."""

    def __init__(
        self, request: BatchExportRequest, services: ComputeServices, cancel: CancelToken
    ) -> None:
        self._request = request
        self._services = services
        self._cancel = cancel
        self.settings = settings_key(request.settings())

    def setup(self) -> None:
        """The services keep their models loaded between files."""

    def needs_gpu(self, job: BatchJob) -> bool:
        return False  # never scheduled on a cluster

    def run(self, job: BatchJob, on_progress: ProgressCallback) -> FileResult:
        check_cancel(self._cancel)
        return run_recorded(job, self.settings, lambda log: self._export(job, log, on_progress))

    def _export(
        self, job: BatchJob, log: io.StringIO, on_progress: ProgressCallback
    ) -> FileOutcome:
        from anonnet_studio.project.io import load_project
        from anonnet_studio.workers.handlers import export

        sha = source_sha256(job.source)
        project = load_project(job.source)
        request = ExportRequest(
            project=project, output_path=job.video, side_by_side=self._request.side_by_side,
            leak_check=self._request.leak_check, crf=self._request.crf,
        )  # fmt: skip
        if request.report_path != job.report:
            raise AnonNetError(f"Report path mismatch for {job.video}.")  # naming drifted
        done = export(request, self._services, on_progress, self._cancel)
        log.write(f"Wrote {done.output} ({done.frames_written} frames).\n")
        for identity_id, reason in done.fallbacks.items():
            log.write(f"note: {identity_id}: {reason}\n")
        log.write(f"Verdict: {done.verdict} ({done.leaks_covered} leak(s) found and covered)\n")
        return FileOutcome(
            source_sha256=sha,
            verdict=done.verdict,
            leaks=done.leaks_covered,
            people=len(project.identities),
            duration_s=float(project.source.media_info.get("duration_s", 0.0)),
            frames=done.frames_written,
            notes=tuple(f"{k}: {v}" for k, v in done.fallbacks.items()),
        )


def batch_export(
    request: BatchExportRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> BatchExportDone:
    out_dir = request.out_dir.expanduser().resolve()
    sources = discover_inputs(request.projects, suffixes=PROJECT_SUFFIXES, exclude=out_dir)
    task = _EditorExportTask(request, services, cancel)
    plan = plan_batch(with_frame_counts(plan_jobs(sources, out_dir)), task.settings)
    run = BatchRun(plan, out_dir, request.settings(), PROJECT_STAGES, on_progress=on_progress)
    summary = run.run(task, InlineRunner())
    return BatchExportDone(
        out_dir=out_dir,
        summary_html=out_dir / SUMMARY_HTML,
        counts=summary.counts(),
        failed=tuple(f"{r.key}: {r.error}" for _, r in summary.rows if r.status == "failed"),
        exit_code=exit_code(summary, verdicts_matter=request.leak_check),
    )


BATCH_HANDLERS: dict[type, Callable[..., object]] = {BatchExportRequest: batch_export}
