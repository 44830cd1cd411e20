"""The audit report as one self-contained HTML page, written for a journalist first.

The page opens with the verdict and one plain sentence (`audit_summary`), then each
person: how they appear, when they are on screen (timecodes) and why that differs from
what was chosen. Synthetic people get their attributes, prompt and seed. The technical
record (models, thresholds, distances, settings, checksums) is folded away in a
<details> section, one line of explanation per item. No script, no image, no external
reference: the page opens the same offline, in any browser or mail client.
"""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np

from anonnet_studio.project.audit_corrections import corrections_html
from anonnet_studio.project.audit_summary import (
    METHOD_NAMES,
    extra_notes,
    time_ranges_text,
    timecode,
    verdict_line,
)
from anonnet_studio.project.audit_technical import technical_html
from anonnet_studio.project.voice_audit import voice_html

ATTRIBUTE_LABELS = {
    "age_group": "Age group",
    "gender": "Gender",
    "race": "Ethnicity",
    "expression": "Expression",
}

_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
  max-width: 60em; padding: 0 1em; color: #1f1f1f; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; width: 100%; }
td, th { border: 1px solid #d0d0d0; padding: 5px 9px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; }
.badge { color: #fff; padding: 2px 10px; border-radius: 4px; font-size: .8em;
  vertical-align: middle; }
.pass { background: #1b7f3b; } .fail { background: #b3261e; }
.summary { font-size: 1.2em; margin: .8em 0; padding: .7em 1em; border-left: 5px solid;
  background: #f7f7f7; }
.summary.pass { border-color: #1b7f3b; background: #eef7f0; }
.summary.fail { border-color: #b3261e; background: #fbeeed; }
.muted { color: #666; } .note { color: #8a4b00; }
details { margin: 1.5em 0; border: 1px solid #d0d0d0; border-radius: 4px; padding: .4em 1em; }
summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f6f6; padding: 1em; overflow: auto; font-size: 12px; }
code { font-size: .9em; word-break: break-all; }
"""


def jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    verdict = str(report["verdict"])
    css = "pass" if verdict == "PASS" else "fail"
    notes = "".join(f"<li>{e(n)}</li>" for n in extra_notes(report))
    raw = e(json.dumps(report, indent=2, default=jsonable))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Anonymization report: {e(report["source"]["file_name"])}</title>
<style>{_STYLE}</style></head><body>
<h1>Anonymization report <span class="badge {css}">{e(verdict)}</span></h1>
<p class="muted">{e(report["output"]["file_name"])}, made from {e(report["source"]["file_name"])}
by {e(report["tool"]["name"])} {e(report["tool"]["version"])} on
{e(str(report["created_utc"])[:10])}. This report contains no image of anyone.</p>
<p><strong>{e(verdict_line(report))}</strong></p>
<p class="summary {css}">{e(_sentence_case(report.get("summary", "")))}</p>
{f"<ul>{notes}</ul>" if notes else ""}
{_video_table(report)}
<h2>People</h2>
{_people_table(report)}
{_synthetic_section(report)}
{corrections_html(report)}
{voice_html(report.get("voice"))}
<details><summary>Technical details</summary>
{technical_html(report)}
<details><summary>Full record (the same as the JSON file)</summary><pre>{raw}</pre></details>
</details>
</body></html>
"""


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _video_table(report: dict[str, Any]) -> str:
    e = html.escape
    source, output = report["source"], report["output"]
    duration = (source.get("media") or {}).get("duration_s")
    rows = [
        ("Original video", source["file_name"]),
        ("Length", "-" if duration is None else timecode(float(duration))),
        ("Exported video", f"{output['file_name']} ({output['frames_written']} frames)"),
    ]
    if report.get("full_paths"):
        rows += [("Original at", source.get("path", "")), ("Exported to", output.get("path", ""))]
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _people_table(report: dict[str, Any]) -> str:
    e = html.escape
    rows = []
    for person in report["identities"]:
        shown = METHOD_NAMES.get(person["method"], person["method"])
        chosen = METHOD_NAMES.get(person["method_chosen"], person["method_chosen"])
        if not person["hidden"] or person["method"] == person["method_chosen"]:
            how = e(shown)
        else:
            how = f"{e(shown)}<br><span class=note>chosen: {e(chosen)}</span>"
        seconds = sum(b - a for a, b in person.get("time_ranges_s", []))
        when = f"{e(time_ranges_text(person.get('time_ranges_s', [])))}"
        when += f"<br><span class=muted>{seconds:.1f} s in all</span>"
        rows.append(
            f"<tr><td>{e(_label(person))}</td><td>{how}</td><td>{when}</td>"
            f"<td>{_why(person)}</td></tr>"
        )
    if not rows:
        return "<p>No one was found in this video.</p>"
    return (
        "<table><tr><th>Person</th><th>Shown as</th><th>On screen</th>"
        "<th>Why it differs from the choice</th></tr>" + "".join(rows) + "</table>"
    )


def _label(person: dict[str, Any]) -> str:
    name, pid = person.get("name") or "", person["id"]
    return f"{name} ({pid})" if name and name != pid else pid


def _why(person: dict[str, Any]) -> str:
    e = html.escape
    reasons = []
    if person.get("method_fallback"):
        reasons.append(str(person["method_fallback"]))
    blurred = person.get("synthetic_fallback_frames") or 0
    if blurred:
        reasons.append(f"{blurred} frame(s) blurred where the synthetic face could not be placed")
    if person.get("needs_attention"):
        reasons.append("marked as needing attention in the editor")
    if not reasons:
        return "<span class=muted>as chosen</span>"
    return "<br>".join(e(r[:1].upper() + r[1:]) for r in reasons)


_BACKEND_NAMES = {
    "anonnet": "AnonNET (Stable Diffusion 1.5 inpainting with ControlNets)",
    "fams": "FAMS, Face Anonymization Made Simple (Stable Diffusion 2.1 with a ReferenceNet)",
}
_NO_PROMPT = "none (FAMS is guided by the original face, not by a description)"


def _backend_text(generation: dict[str, Any]) -> str:
    backend = generation.get("backend") or "anonnet"
    text = _BACKEND_NAMES.get(backend, str(backend))
    if backend == "fams":
        used = [a["degree"] for a in generation.get("attempts") or [] if a.get("degree")]
        degrees = ", ".join(f"{d:.2f}" for d in used) or f"{generation.get('degree') or 0:.2f}"
        text += f"; anonymization degree d = {degrees}"
    return text


def _synthetic_section(report: dict[str, Any]) -> str:
    """Attributes, prompt and seed: only the people given a synthetic face have them."""
    e = html.escape
    blocks = []
    for person in report["identities"]:
        if "prompt" not in person:
            continue
        attributes = person.get("attributes") or {}
        rows = [(ATTRIBUTE_LABELS.get(k, k), v if v else "not set") for k, v in attributes.items()]
        generation = person.get("generation") or {}
        attempts = generation.get("attempts") or []
        passed = sum(1 for a in attempts if a.get("passed"))
        rows += [
            ("Generated with", _backend_text(generation)),
            ("Description given to the generator", person["prompt"] or _NO_PROMPT),
            ("Seed", person.get("seed")),
            ("Faces generated", f"{len(attempts)}, of which {passed} passed the anonymity check"),
            ("Animated with", person.get("motion") or "not animated (not shown)"),
        ]
        body = "".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
        blocks.append(f"<h3>{e(_label(person))}</h3><table>{body}</table>")
    if not blocks:
        return ""
    return (
        "<h2>Synthetic faces</h2><p>These people were to be shown with a generated face "
        "that keeps their expression and head movement (where it could not be, the list "
        "above says so and why). The face is generated from the description below "
        "(attributes estimated from the person or set by hand), and one that face "
        "recognition still matches to the person is never used.</p>" + "".join(blocks)
    )
