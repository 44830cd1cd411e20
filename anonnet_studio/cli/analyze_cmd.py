"""`anonnet-studio analyze VIDEO -o PROJECT [--json SUMMARY]`."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from anonnet_studio.app.runtime import load_vision_models, model_manager
from anonnet_studio.cli.common import (
    add_model_options,
    add_overwrite_option,
    backend_choice,
    existing_file,
)
from anonnet_studio.cli.outputs import project_outputs
from anonnet_studio.cli.progress_bar import TerminalProgress
from anonnet_studio.core.analysis.pipeline import analyze_video
from anonnet_studio.core.destinations import PathRole, check_destinations
from anonnet_studio.core.fileio import OutputTransaction, atomic_write_text
from anonnet_studio.project.from_analysis import project_from_analysis
from anonnet_studio.project.io import save_project
from anonnet_studio.project.summary import project_summary

if TYPE_CHECKING:
    from anonnet_studio.core.progress import ProgressCallback
    from anonnet_studio.core.vision.factory import VisionModels
    from anonnet_studio.core.vision.selection import BackendChoice


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="find shots, faces and people; write a project file",
        description="Detect shots, track faces, group them into people, pick keyframes and "
        "estimate attributes. Writes an editable project file (the video is not modified).",
    )
    parser.add_argument("video", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True, help="project file to write")
    parser.add_argument("--json", type=Path, dest="summary_json", help="also write a summary")
    add_overwrite_option(parser)
    add_model_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    video = existing_file(args.video, "video")
    output = args.output if args.output.suffix else args.output.with_suffix(".anonproj")
    outputs = project_outputs(output)
    if args.summary_json:
        outputs.append(PathRole(args.summary_json, "summary JSON"))
    check_destinations([PathRole(video, "source video")], outputs, overwrite=args.overwrite)
    project = analyze_to_project(video, args)
    summary = project_summary(project)
    # The project and the summary appear together, or neither does.
    with OutputTransaction() as transaction:
        save_project(project, output, transaction=transaction)
        if args.summary_json:
            _write_json(args.summary_json, summary, transaction)
        transaction.commit()
    print_summary_table(summary)
    print(f"Project written to {output}")
    return 0


def analyze_to_project(
    video: Path,
    args: argparse.Namespace,
    *,
    load_models: Callable[[BackendChoice], VisionModels] | None = None,
    on_progress: ProgressCallback | None = None,
):
    """Shared by `analyze` and `anonymize VIDEO` (and `batch`, which passes a loader that
    keeps the models for the next file, and its own progress sink)."""
    if load_models is None:
        models = load_vision_models(
            model_manager(args.models_dir, args.offline), backend_choice(args), args.device
        )
    else:
        models = load_models(backend_choice(args))
    sink = (
        contextlib.nullcontext(on_progress)
        if on_progress is not None
        else TerminalProgress(enabled=not args.quiet)
    )
    with sink as progress:
        result = analyze_video(video, models, on_progress=progress)
        return project_from_analysis(result, video, on_progress=progress)


def print_summary_table(summary: dict) -> None:
    out = sys.stdout
    scenes = summary["scenes"]
    print(f"{len(scenes)} shot(s), {len(summary['identities'])} person(s)", file=out)
    print(f"{'id':<5}{'shots':<14}{'frames':>8}  prompt", file=out)
    for person in summary["identities"]:
        shots = ",".join(str(s) for s in person["scenes"])
        print(f"{person['id']:<5}{shots:<14}{person['frames']:>8}  {person['prompt']}", file=out)


def _write_json(path: Path, data: dict, transaction: OutputTransaction) -> None:
    atomic_write_text(path, json.dumps(data, indent=2) + "\n", transaction=transaction)
