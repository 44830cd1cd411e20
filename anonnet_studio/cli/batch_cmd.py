"""`anonnet-studio batch INPUT... -o OUTDIR`: many files, unattended, resumable.

Each video goes through the same path as `anonymize` (with --projects, each project
through `export`, with its own choices), into a mirrored tree under OUTDIR: the video,
its JSON and HTML report and a log. The batch writes a summary (JSON, CSV, HTML index).
A rerun skips the files already done for the same source content and options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from anonnet_studio.cli.anonymize_cmd import add_choice_options, add_export_options
from anonnet_studio.cli.batch_task import AnonymizeTask, per_file_options
from anonnet_studio.cli.common import bounded_int
from anonnet_studio.cli.progress_bar import TerminalProgress
from anonnet_studio.core.batch.engine import BatchPlan, BatchRun, exit_code, plan_batch
from anonnet_studio.core.batch.inputs import (
    PROJECT_SUFFIXES,
    VIDEO_SUFFIXES,
    discover_inputs,
    plan_jobs,
    with_frame_counts,
)
from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.batch.runner import InlineRunner, Runner
from anonnet_studio.core.batch.state import settings_key
from anonnet_studio.core.batch.summary import SUMMARY_HTML
from anonnet_studio.core.batch.tracker import PROJECT_STAGES, VIDEO_STAGES
from anonnet_studio.core.errors import AnonNetError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="anonymize many videos (or export many projects) into one output tree",
        description="Process every INPUT (files, folders searched recursively, or .txt "
        "lists of paths) into OUTDIR, mirroring their folders: the anonymized video, "
        "its report (JSON + HTML) and a log per file, and a batch summary. A failing file "
        "is reported and the batch goes on; a rerun skips the files already done.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, metavar="OUTDIR")
    parser.add_argument(
        "--projects", action="store_true",
        help="the inputs are .anonproj projects, exported with their own choices "
        "(--method, --backend and --keep do not apply; the projects are not modified)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=bounded_int(1, 256), default=1,
        help="local worker processes, each with its own models (default: 1)",
    )  # fmt: skip
    parser.add_argument(
        "--ray", metavar="auto|ADDRESS",
        help="run one task per file on a Ray cluster: 'auto' starts or finds a local "
        "one, or the address of an existing cluster (needs the [cluster] extra)",
    )  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="list what would be done")
    add_choice_options(parser)
    add_export_options(parser, report=False)
    # --overwrite (from the export options) means here: redo the files already done.
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.ray and args.workers != 1:
        raise AnonNetError("Choose --workers or --ray, not both (Ray decides the parallelism).")
    out_dir = args.output_dir.expanduser().resolve()
    suffixes = PROJECT_SUFFIXES if args.projects else VIDEO_SUFFIXES
    sources = discover_inputs(args.inputs, suffixes=suffixes, exclude=out_dir)
    if not sources:
        looked_for = ", ".join(sorted(suffixes))
        raise AnonNetError("No input files found.", hint=f"Looked for {looked_for}.")
    options = per_file_options(args)
    settings = settings_key({"projects": args.projects, **options})
    plan = plan_batch(with_frame_counts(plan_jobs(sources, out_dir)), settings,
                      redo=args.overwrite)  # fmt: skip
    if args.dry_run:
        _print_plan(plan)
        return 0
    task = AnonymizeTask(options, args.projects, settings)
    print(f"{len(plan.jobs)} file(s): {len(plan.todo)} to do, {len(plan.done)} already done.")
    with TerminalProgress(enabled=not args.quiet) as bar:
        batch = BatchRun(
            plan, out_dir, {"projects": args.projects, **options},
            VIDEO_STAGES if not args.projects else PROJECT_STAGES,
            on_progress=bar, on_result=_print_result,
        )  # fmt: skip
        summary = batch.run(task, _runner(args))
    counts = summary.counts()
    print(
        f"{counts.get('pass', 0)} PASS, {counts.get('not_pass', 0)} not PASS, "
        f"{counts.get('failed', 0)} failed, {counts.get('skipped', 0)} skipped as done. "
        f"Summary: {out_dir / SUMMARY_HTML}"
    )
    return exit_code(summary, verdicts_matter=not args.no_leak_check)


def _runner(args: argparse.Namespace) -> Runner:
    if args.ray:
        from anonnet_studio.core.batch.ray_runner import RayRunner

        return RayRunner(None if args.ray == "auto" else args.ray)
    if args.workers == 1:
        return InlineRunner()
    from anonnet_studio.core.batch.local import ProcessPoolRunner

    return ProcessPoolRunner(args.workers)


def _print_plan(plan: BatchPlan) -> None:
    for job in plan.jobs:
        state = "done, skip" if job.key in plan.done else "to do"
        frames = f"{job.frames} frames" if job.frames else "unreadable?"
        print(f"{state:<10}  {job.source}  ->  {job.video}  ({frames})")
    print(f"{len(plan.todo)} to do, {len(plan.done)} already done (dry run: nothing written).")


def _print_result(job: BatchJob, result: FileResult) -> None:
    if result.status == "failed":
        line = f"FAILED {job.key}: {result.error}"
    else:
        line = (f"{result.verdict:<6} {job.key} ({result.leaks} leak(s), {result.people} "
                f"person(s), {result.seconds} s)")  # fmt: skip
    print(line, file=sys.stdout, flush=True)
