"""The audit report of an export: a JSON record plus a self-contained HTML page.

It is meant to be filed by a newsroom or a clinic, so it states what was done to whom, with
which models and settings, and how re-identifiable the output still is. It never contains
an image of a face (not even a thumbnail) and makes no network references.
"""

from __future__ import annotations

import datetime as dt
import html
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
from anonnet_studio.project.audit_corrections import (
    corrections_entry,
    corrections_html,
    review_entry,
)
from anonnet_studio.project.prompting import effective_prompt
from anonnet_studio.project.schema import ATTRIBUTE_NAMES, Identity, Project
from anonnet_studio.project.voice_audit import voice_checks, voice_html

REPORT_FORMAT = "anonnet-audit-report"


def build_report(
    project: Project,
    plan: RenderPlan,
    result: RenderResult,
    *,
    output_sha256: str | None = None,
    notes: dict[str, str] | None = None,
    voice: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`notes`: per identity, why the chosen method was replaced (from earlier stages,
    e.g. synthetic weights not downloaded); they take precedence over the renderer's.
    `voice`: the voice section (`core.voice.export_step.audit_voice`); None: not run."""
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
    return {
        "format": REPORT_FORMAT,
        "format_version": 1,
        "tool": {"name": "AnonNET Studio", "version": __version__},
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "verdict": "PASS" if passed else "FAIL",
        "source": {
            "file_name": Path(project.source.path).name,
            "sha256": project.source.sha256,
            "size_bytes": project.source.size_bytes,
            "media": project.source.media_info,
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
            _identity_entry(project, i, planned[i.id], result, fallbacks.get(i.id), motion)
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
) -> dict[str, Any]:
    frames = project.frames_of(identity.id)
    if fallback is None and method.value != str(identity.method) and identity.hidden:
        fallback = "no usable synthetic face; blurred instead"
    entry: dict[str, Any] = {
        "id": identity.id,
        "name": identity.name,
        "hidden": method.hides,
        "method": str(method),
        "method_chosen": str(identity.method),
        "method_fallback": fallback,
        "attributes": {n: identity.attributes.get(n).effective for n in ATTRIBUTE_NAMES},
        "seed": identity.generation.seed,
        "frames_covered": len(frames),
        "frame_ranges": _ranges(frames),
        "needs_attention": identity.needs_attention,
        # Frames where the synthetic stage had no face and the person was blurred instead.
        "synthetic_fallback_frames": result.synthetic_fallback_frames.get(identity.id, 0),
    }
    if identity.method.value == "synthetic":
        entry["prompt"] = effective_prompt(identity)
        entry["generation"] = {
            "strength": identity.generation.strength,
            "steps": identity.generation.steps,
            "guidance": identity.generation.guidance,
            # Every attempt, also those the user never saw (retries of the anonymity check).
            "attempts": [
                {
                    "seed": a.seed,
                    "strength": a.strength,
                    "steps": a.steps,
                    "guidance": a.guidance,
                    "distance": a.distance,
                    "required_distance": a.threshold,
                    "face_found": a.face_found,
                    "passed": a.passed,
                    "kept": a.image_key is not None,
                    "created_utc": a.created_at,
                }
                for a in identity.attempts
            ],
            "selected_attempt": identity.selected_attempt,
        }
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
    text = json.dumps(report, indent=2, default=_jsonable) + "\n"
    with joined_or_own(transaction) as outputs:
        atomic_write_text(json_path, text, transaction=outputs)
        atomic_write_text(html_path, render_html(report), transaction=outputs)
    return json_path, html_path


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    verdict = report["verdict"]
    rows = []
    for ident in report["identities"]:
        residual = ident.get("residual_reidentification") or {}
        min_d, med_d = residual.get("min_distance"), residual.get("median_distance")
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{e(str(v))}</td>"
                for v in (
                    ident["id"],
                    ident["name"],
                    ident["method"] + (" (fallback)" if ident.get("method_fallback") else ""),
                    ", ".join(str(v) for v in ident["attributes"].values() if v) or "-",
                    ident["seed"],
                    ident["frames_covered"],
                    "-" if min_d is None else f"{min_d:.3f}",
                    "-" if med_d is None else f"{med_d:.3f}",
                )
            )
            + "</tr>"
        )
    checks = "".join(
        f"<tr><th>{e(k.replace('_', ' '))}</th><td>{e(str(v))}</td></tr>"
        for k, v in report["checks"].items()
    )
    embedders = {
        (i["residual_reidentification"]["embedder"], i["residual_reidentification"]["threshold"])
        for i in report["identities"]
        if i.get("residual_reidentification")
    }
    embedder_note = "; ".join(f"{name} (same-person threshold {t:.3f})" for name, t in embedders)
    raw = e(json.dumps(report, indent=2, default=_jsonable))
    colour = "#1b7f3b" if verdict == "PASS" else "#b3261e"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>AnonNET audit report: {e(report["source"]["file_name"])}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 62em; color: #222; }}
h1 {{ font-size: 1.4em; }} table {{ border-collapse: collapse; margin: 1em 0; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
.verdict {{ color: #fff; background: {colour}; padding: 2px 10px; border-radius: 4px; }}
pre {{ background: #f6f6f6; padding: 1em; overflow: auto; font-size: 12px; }}
</style></head><body>
<h1>AnonNET Studio audit report <span class="verdict">{e(verdict)}</span></h1>
<p>Created {e(report["created_utc"])} by {e(report["tool"]["name"])} {e(report["tool"]["version"])}.
This report contains no images of faces.</p>
<table>
<tr><th>Source file</th><td>{e(report["source"]["file_name"])}</td></tr>
<tr><th>Source sha256</th><td><code>{e(report["source"]["sha256"])}</code></td></tr>
<tr><th>Output file</th><td>{e(report["output"]["file_name"])}
 ({e(str(report["output"]["frames_written"]))} frames)</td></tr>
<tr><th>Policy</th><td>{e(report["settings"]["policy"])}</td></tr>
</table>
<h2>People</h2>
<table><tr><th>Id</th><th>Name</th><th>Method</th><th>Attributes used</th><th>Seed</th>
<th>Frames covered</th><th>Min re-id distance</th><th>Median re-id distance</th></tr>
{"".join(rows)}</table>
<p>Re-identification distances are cosine distances between each hidden person's original
identity embedding and any face still detectable in the output:
{e(embedder_note or "no embedder ran")}. Larger is safer; below the threshold counts as
recognisable.</p>
<h2>Checks</h2><table>{checks}</table>
{corrections_html(report)}
{voice_html(report.get("voice"))}
<h2>Full record</h2><pre>{raw}</pre>
</body></html>
"""
