"""The audit report's voice section: its checks and its HTML, kept apart from the faces.

The section itself is built by `core.voice.export_step.audit_voice` as plain data; this
module only turns it into report checks and a self-contained HTML block.
"""

from __future__ import annotations

import html
from typing import Any

_VERDICT_TEXT = {
    "DISGUISED": "the output voice no longer verifies as the speaker",
    "RECOGNISABLE": "the output voice still verifies as the speaker: choose a stronger setting",
    "NOT DISGUISED": "voices are the original ones",
    "NOT CHECKED": "disguised, but the speaker encoder was not available to check it",
    "NO AUDIO": "the source has no audio",
    "NO SPEECH": "no speech was found to compare",
}


def voice_checks(voice: dict[str, Any] | None) -> dict[str, Any]:
    """Entries for the report's "checks": only when a disguise was asked for."""
    if not voice or voice.get("method", "off") == "off":
        return {}
    return {"voice_still_recognisable": voice.get("verdict") == "RECOGNISABLE"}


def voice_html(voice: dict[str, Any] | None) -> str:
    if not voice:
        return ""
    e = html.escape
    verdict = str(voice.get("verdict", ""))
    rows = [
        ("Method", f"{voice.get('method')} (strength {voice.get('strength')})"),
        ("Parameters", ", ".join(f"{k} {v}" for k, v in voice.get("parameters", {}).items())),
        ("Audio", voice.get("audio", "")),
        ("Muted ranges (s)", ", ".join(f"{a:g}-{b:g} {k}" for a, b, k in voice["mute_ranges"])),
        ("Verdict", f"{verdict}: {_VERDICT_TEXT.get(verdict, '')}"),
    ]
    rows += [("Warning", w) for w in voice.get("warnings", [])]
    table = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v) or '-')}</td></tr>" for k, v in rows)
    tracks = []
    for track in voice.get("tracks", []):
        check = track.get("speaker_check") or {}
        cells = (
            track["stream_index"],
            f"{track['sample_rate']} Hz {track['layout']}",
            f"{track['samples_source']} / {track['samples_output']}",
            _number(check.get("speaker_similarity")),
            _number(check.get("same_speaker_threshold")),
            _number(check.get("stoi")),
        )
        tracks.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in cells) + "</tr>")
    track_table = ""
    if tracks:
        track_table = (
            "<table><tr><th>Stream</th><th>Format</th><th>Samples source / output</th>"
            "<th>Speaker similarity</th><th>Same-speaker threshold</th><th>STOI</th></tr>"
            + "".join(tracks)
            + "</table><p>Speaker similarity is the cosine between GE2E voice embeddings "
            "(Resemblyzer's encoder) of the original and the exported speech; at or above "
            "the threshold the voice still verifies as the speaker. STOI (0-1) estimates "
            "how intelligible the exported speech is (1 = as the original).</p>"
        )
    return f"<h2>Voice</h2><table>{table}</table>{track_table}"


def _number(value: object) -> str:
    return "-" if value is None else f"{value:.3f}"
