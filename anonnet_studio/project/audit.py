"""The audit report of an export: a JSON record plus a self-contained HTML page.

It is meant to be filed by a newsroom or a clinic, so it states what was done to whom, with
which models and settings, and how re-identifiable the output still is. It never contains
an image of a face (not even a thumbnail), makes no network references, and by default
names files only, no folder, user or host name (`report_privacy`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from anonnet_studio import __version__
from anonnet_studio.core.anonymize.leakcheck import LeakRecord
from anonnet_studio.core.anonymize.plan import RedactionMethod, RenderPlan
from anonnet_studio.core.anonymize.renderer import RenderResult
from anonnet_studio.core.fileio import OutputTransaction, atomic_write_text, joined_or_own
from anonnet_studio.project.audit_corrections import corrections_entry, review_entry
from anonnet_studio.project.audit_html import jsonable, render_html
from anonnet_studio.project.audit_summary import plain_summary
from anonnet_studio.project.audit_synthetic import generation_entry, generator_prompt
from anonnet_studio.project.report_privacy import scrub
from anonnet_studio.project.schema import ATTRIBUTE_NAMES, Identity, Project
from anonnet_studio.project.voice_audit import voice_checks

__all__ = ["build_report", "render_html", "report_paths", "write_report"]

REPORT_FORMAT = "anonnet-audit-report"


def build_report(
    project: Project,
    plan: RenderPlan,
    result: RenderResult,
    *,
    output_sha256: str | None = None,
    notes: dict[str, str] | None = None,
    voice: dict[str, Any] | None = None,
    full_paths: bool = False,
) -> dict[str, Any]:
    """`notes`: per identity, why the chosen method was replaced (from earlier stages,
    e.g. synthetic weights not downloaded); they take precedence over the renderer's.
    `voice`: the voice section (`core.voice.export_step.audit_voice`); None: not run.
    `full_paths`: also name the folders of the source and the output (internal use);
    without it the report names files only and no folder, user or host name at all
    (`report_privacy`)."""
    fallbacks = {**result.method_fallbacks, **(notes or {})}
    motion = result.synthetic_motion
    planned = {person.identity_id: person.method for person in plan.people}
    leaks = result.leaks
    uncovered = [leak for leak in leaks if not leak.covered]
    reidentified = sorted(i for i, stats in result.residual.items() if stats.reidentified)
    sight = result.checker_sight
    blind = sight is not None and sight.blind
    checks = {
        "leak_check_ran": result.leak_check,
        # False: its detector found none of the tracked faces in the original frames, so
        # finding no leak means nothing (a wrong or tampered model); the export fails.
        "leak_check_saw_the_tracked_faces": None if sight is None else not blind,
        "leak_check_detectors": list(result.leak_check_looks),
        # Faces the check found in rendered frames and covered before encoding: they are
        # not in the exported file, so they do not fail the export. Which look found them
        # says where the analysis was blind.
        "leaks_found_and_covered": len(leaks) - len(uncovered),
        "leaks_covered_by_detector": _count_by_detector(leak for leak in leaks if leak.covered),
        "leaks_uncovered": len(uncovered),
        "identities_still_recognisable": reidentified,
        "face_failures_covered": result.face_failure_count,
        **voice_checks(voice),
    }
    voice_ok = not checks.get("voice_still_recognisable", False)
    passed = result.leak_check and not blind and not uncovered and not reidentified and voice_ok
    fps = _fps(project)
    media = {k: v for k, v in project.source.media_info.items() if k != "path"}
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        # 2: file names only unless full_paths; a plain summary; time ranges in seconds;
        # attributes and seed only for synthetic people.
        "format_version": 2,
        "tool": {"name": "AnonNET Studio", "version": __version__},
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "verdict": "PASS" if passed else "FAIL",
        "summary": "",  # filled in below, from the finished record
        "full_paths": full_paths,
        "source": {
            "file_name": Path(project.source.path).name,
            "sha256": project.source.sha256,
            "size_bytes": project.source.size_bytes,
            "media": media,
        },
        "output": {
            "file_name": result.dest.name,
            "sha256": output_sha256,
            "frames_written": result.frames_written,
        },
        "settings": {
            "policy": "hide everyone not kept" if plan.hide_everyone_else else "hide listed",
            "coverage_pad_frames": plan.coverage_pad_frames,
            "side_by_side": plan.side_by_side,
            "crf": plan.crf,
            "leak_check": plan.leak_check,
            "analysis": project.analysis.get("settings", {}),
        },
        "models": project.analysis.get("models", {}),
        "identities": [
            _identity_entry(project, i, planned[i.id], result, fallbacks.get(i.id), motion, fps)
            for i in project.identities
        ],
        "checks": checks,
        "corrections": corrections_entry(project),
        "review": review_entry(project),
        "leak_frames": sorted({leak.frame_index for leak in leaks})[:1000],
        "voice": voice,
        "timings_s": {
            "analysis": project.analysis.get("timings_s", {}),
            "render": result.timings,
        },
    }
    report["summary"] = plain_summary(report)
    if full_paths:
        report["source"]["path"] = str(Path(project.source.path).resolve())
        report["output"]["path"] = str(Path(result.dest).resolve())
        return report
    return dict(scrub(report, paths=[project.source.path, result.dest]))


def _fps(project: Project) -> float:
    video = project.source.media_info.get("video") or {}
    fps = video.get("fps")
    return float(fps) if isinstance(fps, int | float) and fps > 0 else 30.0


def _count_by_detector(leaks: Iterable[LeakRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for leak in leaks:
        counts[leak.detector] = counts.get(leak.detector, 0) + 1
    return counts


def _identity_entry(
    project: Project,
    identity: Identity,
    method: RedactionMethod,
    result: RenderResult,
    fallback: str | None,
    motion: str | None,
    fps: float,
) -> dict[str, Any]:
    frames = project.frames_of(identity.id)
    ranges = _ranges(frames)
    if fallback is None and method.value != str(identity.method) and identity.hidden:
        fallback = "no usable synthetic face; blurred instead"
    entry: dict[str, Any] = {
        "id": identity.id,
        "name": identity.name,
        "hidden": method.hides,
        "method": str(method),
        "method_chosen": str(identity.method),
        "method_fallback": fallback,
        "frames_covered": len(frames),
        "frame_ranges": ranges,
        # Seconds from the start, the last frame's end included: [start, end).
        "time_ranges_s": [[round(a / fps, 3), round((b + 1) / fps, 3)] for a, b in ranges],
        "needs_attention": identity.needs_attention,
        # Frames where the synthetic stage had no face and the person was blurred instead.
        "synthetic_fallback_frames": result.synthetic_fallback_frames.get(identity.id, 0),
    }
    # Attributes, prompt and seed describe the face that is generated: only for the people
    # it is generated for (for anyone else they are guesses about a real person's looks).
    if identity.method.value == "synthetic":
        entry["attributes"] = {n: identity.attributes.get(n).effective for n in ATTRIBUTE_NAMES}
        entry["seed"] = identity.generation.seed
        entry["prompt"] = generator_prompt(identity)
        entry["generation"] = generation_entry(identity)
        entry["synthetic_frames"] = result.synthetic_frames.get(identity.id, 0)
        entry["motion"] = motion if identity.id in result.synthetic_frames else None
    stats = result.residual.get(identity.id)
    if stats is not None:
        entry["residual_reidentification"] = {
            "embedder": stats.embedder,
            "threshold": stats.threshold,
            "frames_sampled": stats.frames_sampled,
            "frames_face_detectable": stats.frames_detectable,
            "min_distance": stats.min_distance,
            "median_distance": stats.median_distance,
            "recognisable": stats.reidentified,
        }
    return entry


def _ranges(frames: np.ndarray) -> list[list[int]]:
    """Consecutive frame runs as [first, last] pairs."""
    if len(frames) == 0:
        return []
    breaks = np.flatnonzero(np.diff(frames) > 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(frames) - 1]])
    return [[int(frames[s]), int(frames[e])] for s, e in zip(starts, ends, strict=True)]


def report_paths(path: Path) -> tuple[Path, Path]:
    """(JSON, HTML) of the report asked for as `path`: the two side by side, with the
    HTML named after the JSON; a name ending in .html names the HTML instead, so the
    two can never be the same file."""
    path = Path(path)
    if path.suffix.lower() in (".html", ".htm"):
        return path.with_suffix(".json"), path
    return path, path.with_suffix(".html")


def write_report(
    report: dict[str, Any], path: Path, *, transaction: OutputTransaction | None = None
) -> tuple[Path, Path]:
    """Write the JSON and the HTML (atomically; staged in `transaction` if given)."""
    json_path, html_path = report_paths(path)
    text = json.dumps(report, indent=2, default=jsonable) + "\n"
    with joined_or_own(transaction) as outputs:
        atomic_write_text(json_path, text, transaction=outputs)
        atomic_write_text(html_path, render_html(report), transaction=outputs)
    return json_path, html_path
