"""`anonymize VIDEO|PROJECT -o OUT`, `export PROJECT -o OUT` and `report PROJECT`."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anonnet_studio.app.runtime import load_vision_models, model_manager
from anonnet_studio.cli.common import (
    add_model_options,
    add_overwrite_option,
    backend_choice,
    bounded_int,
    existing_file,
)
from anonnet_studio.cli.outputs import project_inputs, project_outputs, video_output
from anonnet_studio.cli.progress_bar import TerminalProgress
from anonnet_studio.cli.voice_options import (
    add_voice_options,
    check_against_clip,
    print_voice_summary,
    speaker_encoder_for,
    voice_settings,
)
from anonnet_studio.core.destinations import PathRole, check_destinations
from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.core.fileio import OutputTransaction
from anonnet_studio.core.synthetic.settings import SYNTHETIC_BACKENDS
from anonnet_studio.project.backends import choice_for_project
from anonnet_studio.project.io import load_project, save_project
from anonnet_studio.project.schema import Method, Project

if TYPE_CHECKING:
    from anonnet_studio.app.synthetic import SyntheticStage
    from anonnet_studio.core.models.manager import ModelManager
    from anonnet_studio.core.progress import ProgressCallback
    from anonnet_studio.core.vision.factory import VisionModels
    from anonnet_studio.core.vision.selection import BackendChoice
    from anonnet_studio.core.voice.settings import VoiceSettings
    from anonnet_studio.project.export import ExportOutcome

PROJECT_SUFFIX = ".anonproj"
METHOD_CHOICES = ("blur", "pixelate", "mask", "synthetic")

# A batch worker passes one that keeps the models it loaded for the next file.
ModelLoader = Callable[["BackendChoice"], "VisionModels"]


def register(subparsers: argparse._SubParsersAction) -> None:
    anonymize = subparsers.add_parser(
        "anonymize",
        help="hide everyone (except --keep) in a video or project and export it",
        description="Analyse VIDEO (or open PROJECT), hide every person except those kept, "
        "and write the anonymized video. The source is never modified.",
    )
    anonymize.add_argument("input", type=Path, help="a video file or a .anonproj project")
    anonymize.add_argument("-o", "--output", type=Path, required=True)
    add_choice_options(anonymize)
    anonymize.add_argument("--project", type=Path, help="also save the analysed project here")
    add_export_options(anonymize)
    anonymize.set_defaults(handler=run_anonymize)

    export = subparsers.add_parser("export", help="render a project with the choices saved in it")
    export.add_argument("project", type=Path)
    export.add_argument("-o", "--output", type=Path, required=True)
    add_export_options(export)
    export.set_defaults(handler=run_export)

    report = subparsers.add_parser(
        "report", help="print who a project hides and how, and its last export's verdict"
    )
    report.add_argument("project", type=Path)
    report.add_argument("--json", action="store_true", help="print JSON")
    report.set_defaults(handler=run_report)


def add_choice_options(parser: argparse.ArgumentParser) -> None:
    """Who is hidden and how (also taken by `batch`)."""
    parser.add_argument("--method", choices=METHOD_CHOICES, help="method for everyone hidden")
    parser.add_argument(
        "--backend",
        choices=SYNTHETIC_BACKENDS,
        help="how synthetic faces are generated for people without their own choice in "
        "the project: anonnet (SD 1.5 + ControlNets, the default) or fams (Face "
        "Anonymization Made Simple, SD 2.1)",
    )
    parser.add_argument(
        "--keep", nargs="+", default=[], metavar="IDENTITY", help="ids (P1...) or names to keep"
    )


def add_export_options(parser: argparse.ArgumentParser, *, report: bool = True) -> None:
    """Options of every export (also taken by `batch`, which always writes the report)."""
    if report:
        parser.add_argument("--report", type=Path, help="write an audit report (JSON + HTML)")
    parser.add_argument(
        "--report-paths",
        action="store_true",
        help="name the full paths of the source and output in the report (internal use; "
        "by default it gives file names only, so it can be shared)",
    )
    parser.add_argument("--side-by-side", action="store_true", help="original | anonymized")
    parser.add_argument(
        "--crf",
        type=bounded_int(0, 51),
        default=18,
        help="H.264 quality, 0..51 (lower = better; default 18)",
    )
    parser.add_argument(
        "--no-leak-check", action="store_true", help="skip the second detection pass (unsafe)"
    )
    add_overwrite_option(parser)
    add_model_options(parser)
    add_voice_options(parser)


def run_anonymize(args: argparse.Namespace) -> int:
    outcome, stage, project = anonymize_file(args.input, args)
    return _report_outcome(outcome, stage, args, saved_to=args.project, project=project)


def anonymize_file(
    input_path: Path,
    args: argparse.Namespace,
    *,
    load_models: ModelLoader | None = None,
    on_progress: ProgressCallback | None = None,
) -> tuple[ExportOutcome, SyntheticStage, Project]:
    """`anonymize` of one video or project, its outputs committed; nothing printed.
    `on_progress` replaces the terminal bars (a batch collects them)."""
    source = existing_file(input_path)
    project = load_project(source) if source.suffix == PROJECT_SUFFIX else None
    inputs = project_inputs(source, project) if project else [PathRole(source, "source video")]
    extra = project_outputs(args.project) if args.project else []
    _check_paths(args, inputs, extra)
    # Mute ranges are checked against the clip before minutes of analysis, not after.
    voice = voice_settings(args, project.voice if project else None)
    check_against_clip(voice, Path(project.source.path) if project else source)
    if project is None:
        from anonnet_studio.cli.analyze_cmd import analyze_to_project

        project = analyze_to_project(source, args, load_models=load_models, on_progress=on_progress)
    backend = getattr(args, "backend", None)
    apply_choices(project, method=args.method, keep=args.keep, backend=backend)
    project.voice = voice  # a saved project exports again with the same voice choices
    with OutputTransaction() as transaction:
        outcome, stage = _export(project, args, voice, transaction, load_models, on_progress)
        if args.project:
            # Saved after the export, so it records the export's verdict, leak frames and
            # the faces generated now; committed with the video, or not at all.
            save_project(project, args.project, transaction=transaction)
        transaction.commit()
    return outcome, stage, project


def run_export(args: argparse.Namespace) -> int:
    path = existing_file(args.project, "project")
    outcome, stage, project = export_file(path, args)
    return _report_outcome(outcome, stage, args, saved_to=path, project=project)


def export_file(
    path: Path,
    args: argparse.Namespace,
    *,
    save_back: bool = True,
    load_models: ModelLoader | None = None,
    on_progress: ProgressCallback | None = None,
) -> tuple[ExportOutcome, SyntheticStage, Project]:
    """`export` of one project with its own choices, outputs committed; nothing printed.
    `save_back=False` leaves the project file as it was (a batch never writes its inputs)."""
    project = load_project(path)
    _check_paths(args, project_inputs(path, project), [])
    # The options apply to this export only: the project's own voice settings are saved
    # back unchanged.
    voice = voice_settings(args, project.voice)
    check_against_clip(voice, Path(project.source.path))
    with OutputTransaction() as transaction:
        outcome, stage = _export(project, args, voice, transaction, load_models, on_progress)
        if save_back:
            # Saved back: the faces generated now (so the next export reuses them), the
            # leak frames and the export record that `report` prints.
            save_project(project, path, transaction=transaction)
        transaction.commit()
    return outcome, stage, project


def _check_paths(
    args: argparse.Namespace, inputs: list[PathRole], extra_outputs: list[PathRole]
) -> None:
    """Every path the run will write, checked before any work (see `cli.outputs`)."""
    from anonnet_studio.project.export import export_destinations

    video = video_output(args.output)
    outputs = [video, *export_destinations(args.output, args.report)[1:], *extra_outputs]
    check_destinations(inputs, outputs, overwrite=args.overwrite)


def apply_choices(
    project: Project, *, method: str | None, keep: list[str], backend: str | None = None
) -> None:
    """Everyone is hidden except the kept ids or names; `method` applies to the hidden,
    `backend` to the hidden who have no synthetic backend of their own yet."""
    wanted = {k.lower() for k in keep}
    known = {i.id.lower() for i in project.identities} | {
        i.name.lower() for i in project.identities
    }
    unknown = sorted(wanted - known)
    if unknown:
        ids = ", ".join(f"{i.id} ({i.name})" for i in project.identities) or "none"
        raise AnonNetError(f"No such person to keep: {', '.join(unknown)}. People: {ids}.")
    for identity in project.identities:
        kept = identity.id.lower() in wanted or identity.name.lower() in wanted
        identity.hidden = not kept
        if method and not kept:
            identity.method = Method(method)
        if backend and not kept and identity.generation.backend is None:
            identity.generation = identity.generation.with_overrides(backend=backend)


def _export(
    project: Project,
    args: argparse.Namespace,
    voice: VoiceSettings,
    transaction: OutputTransaction,
    load_models: ModelLoader | None = None,
    on_progress: ProgressCallback | None = None,
) -> tuple[ExportOutcome, SyntheticStage]:
    """Renders the video and the report, staged in `transaction` for the caller to commit."""
    from anonnet_studio.project.export import export_project

    manager = model_manager(args.models_dir, args.offline)
    # The leak check compares embeddings, so it uses the embedder the project was analysed
    # with, whatever --embedder says.
    choice = choice_for_project(backend_choice(args), project)
    if load_models is None:
        models = load_vision_models(manager, choice, args.device)
    else:
        models = load_models(choice)
    encoder = speaker_encoder_for(voice, manager)
    with _progress_sink(args, on_progress) as progress:
        stage = _synthetic_stage(project, manager, models, args.device, progress)
        outcome = export_project(
            project,
            args.output,
            models,
            synthetic=stage.source,
            notes=stage.notes,
            side_by_side=args.side_by_side,
            crf=args.crf,
            leak_check=not args.no_leak_check,
            report_path=args.report,
            report_full_paths=args.report_paths,
            voice=voice,
            speaker_encoder=encoder,
            on_progress=progress,
            transaction=transaction,
        )
    return outcome, stage


def _progress_sink(
    args: argparse.Namespace, on_progress: ProgressCallback | None
) -> contextlib.AbstractContextManager[Any]:
    if on_progress is not None:
        return contextlib.nullcontext(on_progress)
    return TerminalProgress(enabled=not args.quiet)


def _report_outcome(
    outcome: ExportOutcome,
    stage: SyntheticStage,
    args: argparse.Namespace,
    *,
    saved_to: Path | None,
    project: Project,
) -> int:
    """Prints what was written (once it is committed); the exit code: 3 for a FAIL."""
    print(f"Wrote {outcome.output} ({outcome.frames_written} frames).")
    print(review_line(project))
    for identity_id, reason in outcome.fallbacks.items():
        print(f"note: {identity_id}: {reason}")
    if outcome.report_paths:
        print(f"Audit report: {outcome.report_paths[0]} and {outcome.report_paths[1]}")
    print_voice_summary(outcome.voice)
    print(f"Verdict: {outcome.verdict} ({outcome.leaks_covered} leak(s) found and covered)")
    if outcome.checker_blind:
        print(
            "The leak check's face detector found none of the tracked faces in the original "
            "frames, so it cannot vouch for this export: check its model "
            "(`anonnet-studio models verify`)."
        )
    generated = len(stage.generated)
    if generated and saved_to is not None:
        print(f"Saved {generated} generated synthetic face(s) to {saved_to}.")
    elif generated:
        print(
            f"note: {generated} synthetic face(s) were generated but not saved; pass "
            "--project FILE to keep them for the next export."
        )
    return 0 if outcome.verdict == "PASS" or args.no_leak_check else 3


def _synthetic_stage(
    project: Project, manager: ModelManager, models: VisionModels, device: str, progress: Any
) -> SyntheticStage:
    """The animated faces (generating missing ones) and per-person notes."""
    # Imported only when needed: the generative stack (torch, diffusers) is slow to import.
    from anonnet_studio.app.synthetic import SyntheticStage, synthetic_stage
    from anonnet_studio.project.render_plan import wants_synthetic_face

    if not any(wants_synthetic_face(i) for i in project.identities):
        return SyntheticStage(None)
    return synthetic_stage(project, manager, models, device=device, on_progress=progress)


def review_line(project: Project) -> str:
    """Hand corrections and review state in one line, e.g. for a script's log."""
    from anonnet_studio.project.review import review_counts

    counts = review_counts(project)
    manual = sum(1 for t in project.tracks.values() if t.manual)
    return (
        f"Hand corrections: {manual} hand-drawn face track(s), {len(project.regions)} region(s); "
        f"review: {counts['reviewed']} of {counts['items']} items reviewed"
        + (
            f", {counts['unreviewed_high_risk']} of high risk not yet"
            if counts["unreviewed"]
            else ""
        )
        + "."
    )


def run_report(args: argparse.Namespace) -> int:
    from anonnet_studio.project.summary import project_summary

    project = load_project(existing_file(args.project, "project"))
    summary = project_summary(project)
    summary["last_export"] = project.analysis.get("last_export")
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"Source: {summary['source']}")
    for person in summary["identities"]:
        state = person["method"] if person["hidden"] else "kept"
        print(f"  {person['id']:<4} {person['name']:<16} {state:<10} {person['frames']:>6} frames")
    print(review_line(project))
    last = summary["last_export"]
    if last:
        print(f"Last export: {last['output']} - {last['verdict']} ({last['created_utc']})")
    else:
        print("Not exported yet.")
    return 0
