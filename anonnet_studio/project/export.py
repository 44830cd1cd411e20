"""Export a project: render it, check it for leaks, and write the audit report.

Shared by the CLI (`anonymize`, `export`) and the editor's export job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from anonnet_studio.core.anonymize.methods import SyntheticFaceSource
from anonnet_studio.core.anonymize.renderer import RenderModels, render
from anonnet_studio.core.destinations import PathRole, check_destinations
from anonnet_studio.core.errors import MediaError
from anonnet_studio.core.fileio import OutputTransaction, joined_or_own
from anonnet_studio.core.progress import CancelToken, ProgressCallback
from anonnet_studio.core.voice.export_step import audit_voice, prepare_audio
from anonnet_studio.core.voice.settings import VoiceSettings
from anonnet_studio.core.voice.speaker_encoder import SpeakerEncoder
from anonnet_studio.project.audit import build_report, report_paths, write_report
from anonnet_studio.project.backends import require_matching_embedder
from anonnet_studio.project.hashing import sha256_file, source_unchanged
from anonnet_studio.project.render_plan import render_plan_from_project
from anonnet_studio.project.schema import Project


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    output: Path
    frames_written: int
    verdict: str  # "PASS" or "FAIL" (see the audit report's checks)
    leaks_covered: int
    fallbacks: dict[str, str] = field(default_factory=dict)
    report_paths: tuple[Path, Path] | tuple[()] = ()
    # The leak check's detector found none of the tracked faces: its clean result is void.
    checker_blind: bool = False
    voice: dict = field(default_factory=dict)  # the report's "voice" section


def export_project(
    project: Project,
    output: Path,
    models: RenderModels | None,
    *,
    synthetic: SyntheticFaceSource | None = None,
    notes: dict[str, str] | None = None,
    side_by_side: bool = False,
    crf: int = 18,
    leak_check: bool = True,
    report_path: Path | None = None,
    report_full_paths: bool = False,
    voice: VoiceSettings | None = None,
    speaker_encoder: SpeakerEncoder | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    transaction: OutputTransaction | None = None,
) -> ExportOutcome:
    """Render `project` to `output`. Records the leak frames and a summary of the export
    in the project (the caller saves it). `notes` explains per identity why a chosen method
    was replaced before rendering. `voice` disguises or mutes the audio (default: copied
    unchanged); `speaker_encoder` checks the disguise for the report. The report names
    files only, unless `report_full_paths` (internal use). Raises MediaError if the source
    changed.

    The video and the report are committed together at the end, or, with `transaction`,
    staged there for the caller to commit with its other outputs. An output that would
    overwrite the source or another output is refused before anything is rendered
    (`DestinationError`); replacing an existing output is the caller's decision."""
    check_destinations(
        [PathRole(Path(project.source.path), "source video")],
        export_destinations(output, report_path),
        overwrite=True,
    )
    if not source_unchanged(project.source, on_progress=on_progress, cancel=cancel):
        raise MediaError(
            f"The source video {project.source.path} is missing or has changed since it was "
            "analysed; analyse it again before exporting."
        )
    if leak_check and models is not None:
        require_matching_embedder(project, models.embedder.name)
    plan = render_plan_from_project(
        project,
        side_by_side=side_by_side,
        crf=crf,
        leak_check=leak_check,
        synthetic_ids=set(synthetic.identities) if synthetic else set(),
    )
    voice = voice or VoiceSettings()
    prepared = None
    if voice.changes_audio:
        prepared = prepare_audio(project.source.path, voice, on_progress=on_progress, cancel=cancel)
    with joined_or_own(transaction) as outputs:
        result = render(
            project.source.path,
            output,
            plan,
            models,
            synthetic=synthetic,
            audio=prepared.processed if prepared is not None else None,
            on_progress=on_progress,
            cancel=cancel,
            transaction=outputs,
        )
        written = outputs.staged_path(result.dest) or result.dest
        output_sha = sha256_file(written, on_progress=on_progress, stage="Hashing output")
        voice_section = audit_voice(voice, prepared, written, speaker_encoder)
        report = build_report(
            project,
            plan,
            result,
            output_sha256=output_sha,
            notes=notes,
            voice=voice_section,
            full_paths=report_full_paths,
        )
        paths: tuple[Path, Path] | tuple[()] = ()
        if report_path is not None:
            paths = write_report(report, report_path, transaction=outputs)
    project.leak_frames = list(report["leak_frames"])
    project.analysis["last_export"] = {
        "output": str(Path(output).resolve()),
        "verdict": report["verdict"],
        "checks": report["checks"],
        "voice": voice_section["verdict"],
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return ExportOutcome(
        output=result.dest,
        frames_written=result.frames_written,
        verdict=report["verdict"],
        leaks_covered=report["checks"]["leaks_found_and_covered"],
        fallbacks={**result.method_fallbacks, **(notes or {})},
        report_paths=paths,
        checker_blind=report["checks"]["leak_check_saw_the_tracked_faces"] is False,
        voice=voice_section,
    )


def export_destinations(output: Path, report_path: Path | None) -> list[PathRole]:
    """The files an export writes, for `check_destinations`."""
    roles = [PathRole(Path(output), "output video")]
    if report_path is not None:
        json_path, html_path = report_paths(report_path)
        roles += [PathRole(json_path, "report JSON"), PathRole(html_path, "report HTML")]
    return roles
