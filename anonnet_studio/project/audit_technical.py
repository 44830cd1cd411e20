"""The technical part of the HTML report: every model, threshold, distance and setting,
each with one line saying what it is, for the reader who has to vouch for the method."""

from __future__ import annotations

import html
from typing import Any

EXPLAIN = {
    "tool": "The program and version that made the export.",
    "detector": "Finds faces in each frame, in the analysis and again in the exported video.",
    "embedder": "Turns a face into a list of numbers; faces whose numbers are close are taken "
    "to be the same person. The leak check and the re-identification test use it.",
    "landmarks": "Places 68 points on each face, to shape the cover and fit synthetic faces.",
    "attributes": "Estimate age, gender and expression, used only to describe synthetic faces.",
    "backends": "Which model family did each job.",
    "revisions": "The published version of each model file, so the run can be repeated.",
    "threshold": "The embedder's same-person threshold: a cosine distance below it means "
    "'the same person'.",
    "distances": "For each hidden person, how far any face still found where they are in the "
    "output is from their real face (cosine distance; larger is safer, below the threshold "
    "counts as recognisable). 'Detectable' counts the sampled frames where a face was found.",
    "leak_check": "A second face detection over every rendered frame: a face that should be "
    "hidden and is still found is covered before the frame is written.",
    "leak_frames": "Frames where the leak check covered a face (first 50).",
    "analysis": "How densely the video was searched for faces and how sightings were joined.",
    "export": "Who is hidden, extra frames of cover before and after each sighting, layout and "
    "video quality (CRF: lower is better).",
    "source_sha256": "A checksum of the original file: it identifies the file exactly, "
    "without revealing anything in it.",
    "output_sha256": "A checksum of the exported file: any later change to it changes this.",
    "attempts": "Each generated face, its distance from the real person and the distance it "
    "had to reach to be used.",
    "timings": "Seconds each stage took.",
}


def technical_html(report: dict[str, Any]) -> str:
    e = html.escape
    rows: list[tuple[str, str, str]] = []

    def add(label: str, value: object, key: str) -> None:
        rows.append((label, str(value) if value not in (None, "", [], {}) else "-", EXPLAIN[key]))

    models = report.get("models") or {}
    tool = report["tool"]
    add("Tool", f"{tool['name']} {tool['version']}", "tool")
    add("Face detector", models.get("detector"), "detector")
    add("Identity embedder", models.get("embedder"), "embedder")
    thresholds = sorted(
        {
            i["residual_reidentification"]["threshold"]
            for i in report["identities"]
            if i.get("residual_reidentification")
        }
    )
    add("Same-person threshold", ", ".join(f"{t:.3f}" for t in thresholds), "threshold")
    add("Re-identification distances", _distances(report), "distances")
    add("Face landmarks", models.get("landmarks"), "landmarks")
    add("Attribute models", _prefixed(models, "attributes:"), "attributes")
    add("Backends", _prefixed(models, "backend:", with_key=True), "backends")
    add("Model revisions", _prefixed(models, "manifest:", with_key=True), "revisions")
    checks = report["checks"]
    add("Leak check", "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in checks.items()),
        "leak_check")  # fmt: skip
    add("Leak frames", ", ".join(str(f) for f in report.get("leak_frames", [])[:50]), "leak_frames")
    settings = report.get("settings") or {}
    add("Analysis settings", _pairs(settings.get("analysis") or {}), "analysis")
    add("Export settings", _pairs({k: v for k, v in settings.items() if k != "analysis"}), "export")
    add("Original checksum (SHA-256)", report["source"].get("sha256"), "source_sha256")
    add("Export checksum (SHA-256)", report["output"].get("sha256"), "output_sha256")
    add("Synthetic face attempts", _attempts(report), "attempts")
    timings = report.get("timings_s") or {}
    add("Timings", _pairs({k: (v or {}).get("total_s") for k, v in timings.items()}), "timings")
    body = "".join(
        f"<tr><th>{e(label)}</th><td><code>{e(value)}</code></td><td>{e(why)}</td></tr>"
        for label, value, why in rows
    )
    return f"<table><tr><th>Item</th><th>Value</th><th>What it is</th></tr>{body}</table>"


def _distances(report: dict[str, Any]) -> str:
    parts = []
    for person in report["identities"]:
        stats = person.get("residual_reidentification")
        if not stats:
            continue
        low, mid = stats.get("min_distance"), stats.get("median_distance")
        found = "no face found" if low is None else f"min {low:.3f}"
        if low is not None and mid is not None:
            found += f", median {mid:.3f}"
        parts.append(
            f"{person['id']}: {found} ({stats['frames_face_detectable']} detectable of "
            f"{stats['frames_sampled']} sampled frames)"
        )
    return "; ".join(parts)


def _attempts(report: dict[str, Any]) -> str:
    parts = []
    for person in report["identities"]:
        for attempt in (person.get("generation") or {}).get("attempts", []):
            distance, needed = attempt.get("distance"), attempt.get("required_distance")
            parts.append(
                f"{person['id']} seed {attempt['seed']}: distance "
                f"{'-' if distance is None else f'{distance:.3f}'} (needed "
                f"{'-' if needed is None else f'{needed:.3f}'}), "
                f"{'passed' if attempt.get('passed') else 'failed'}"
                + (", used" if attempt.get("kept") else "")
            )
    return "; ".join(parts)


def _prefixed(models: dict[str, Any], prefix: str, *, with_key: bool = False) -> str:
    items = [(k[len(prefix) :], v) for k, v in models.items() if k.startswith(prefix)]
    return "; ".join(f"{k}: {v}" if with_key else str(v) for k, v in items)


def _pairs(values: dict[str, Any]) -> str:
    def text(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    return "; ".join(f"{k.replace('_', ' ')} {text(v)}" for k, v in values.items())
