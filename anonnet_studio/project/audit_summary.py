"""The audit report in plain words, for the journalist who files it: built from the
finished report record, so it says exactly what the record says (leaks, faces that could
be recognised, a check that was off or blind), never more reassuring than the checks."""

from __future__ import annotations

from collections import Counter
from typing import Any

# How each applied method reads in a sentence ("6 hidden by blur").
METHOD_PHRASES = {
    "blur": "hidden by blur",
    "pixelate": "hidden by pixelation",
    "mask": "hidden by a solid mask",
    "synthetic": "replaced by a synthetic face",
    "keep": "kept visible",
}
METHOD_NAMES = {
    "blur": "blur",
    "pixelate": "pixelation",
    "mask": "solid mask",
    "synthetic": "synthetic face",
    "keep": "kept visible",
}
MAX_RANGES_SHOWN = 12


def count(n: int, one: str, many: str | None = None) -> str:
    """'1 person', '7 people', 'no people'."""
    plural = many if many is not None else one + "s"
    if n == 0:
        return f"no {plural}"
    return f"{n} {one if n == 1 else plural}"


def people_clause(identities: list[dict[str, Any]]) -> str:
    """'7 people found; 6 hidden by blur, 1 kept visible'."""
    found = count(len(identities), "person", "people") + " found"
    if not identities:
        return found
    methods = Counter(str(i["method"]) for i in identities)
    order = [m for m in METHOD_PHRASES if m in methods] + sorted(set(methods) - set(METHOD_PHRASES))
    parts = [f"{methods[m]} {METHOD_PHRASES.get(m, 'shown with ' + m)}" for m in order]
    return f"{found}; {', '.join(parts)}"


def check_clauses(report: dict[str, Any]) -> list[str]:
    """What the second detection pass over the output found, in words."""
    checks = report["checks"]
    if not checks.get("leak_check_ran"):
        return ["the exported frames were NOT checked for faces (the check was turned off)"]
    if checks.get("leak_check_saw_the_tracked_faces") is False:
        return [
            "the face check could not find the people in the original video, so it cannot "
            "vouch for this export"
        ]
    clauses = ["every exported frame was checked for faces"]
    covered, uncovered = checks.get("leaks_found_and_covered", 0), checks.get("leaks_uncovered", 0)
    if covered:
        clauses.append(f"{count(covered, 'face')} it found unhidden {_were(covered)} then covered")
    if uncovered:
        clauses.append(f"{count(uncovered, 'face')} it found could NOT be covered")
    failures = checks.get("face_failures_covered", 0)
    if failures:
        clauses.append(
            f"{count(failures, 'face')} could not be processed as chosen and "
            f"{_were(failures)} covered with a solid fill"
        )
    hidden = [i for i in report["identities"] if i.get("hidden")]
    recognisable = checks.get("identities_still_recognisable") or []
    if recognisable:
        names = ", ".join(_who(report, i) for i in recognisable)
        clauses.append(f"face recognition could still recognise {names}")
    elif hidden:
        clauses.append("none could be recognised")
    if checks.get("voice_still_recognisable"):
        clauses.append("the disguised voice could still be recognised as the speaker's")
    return clauses


def plain_summary(report: dict[str, Any]) -> str:
    """One sentence: who was found, how each is shown, and what the checks found, e.g.
    '7 people found; 6 hidden by blur, 1 kept visible; every exported frame was checked
    for faces; none could be recognised.'"""
    return "; ".join([people_clause(report["identities"]), *check_clauses(report)]) + "."


def verdict_line(report: dict[str, Any]) -> str:
    if report["verdict"] == "PASS":
        return "Passed: every check of this export succeeded."
    return "Failed: do not publish this video as it is; the summary below says why."


def extra_notes(report: dict[str, Any]) -> list[str]:
    """Further plain sentences: people shown differently from the choice, and the sound
    (the hand corrections and the review have their own section)."""
    notes = []
    differs = [i for i in report["identities"] if i.get("method_fallback")]
    if differs:
        notes.append(
            f"{count(len(differs), 'person', 'people')} {'is' if len(differs) == 1 else 'are'} "
            "shown differently from what was chosen; the list of people says why."
        )
    voice = report.get("voice") or {}
    if voice.get("audio"):
        notes.append(f"Sound: {voice['audio']}.")
    return notes


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def _who(report: dict[str, Any], identity_id: str) -> str:
    for identity in report["identities"]:
        if identity["id"] == identity_id:
            name = identity.get("name")
            return f"{name} ({identity_id})" if name and name != identity_id else identity_id
    return identity_id


def timecode(seconds: float) -> str:
    """'00:01:23.40' (hours, minutes, seconds and hundredths)."""
    hundredths = max(0, round(seconds * 100))
    seconds_total, cs = divmod(hundredths, 100)
    hours, rest = divmod(seconds_total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{cs:02d}"


def time_ranges_text(ranges: list[list[float]]) -> str:
    """'00:00:01.00–00:00:03.50, ...' (the first few, then how many more)."""
    if not ranges:
        return "not on screen"
    shown = [f"{timecode(a)}–{timecode(b)}" for a, b in ranges[:MAX_RANGES_SHOWN]]
    more = len(ranges) - MAX_RANGES_SHOWN
    return ", ".join(shown) + (f", and {more} more" if more > 0 else "")


def report_fps(report: dict[str, Any]) -> float:
    fps = ((report.get("source") or {}).get("media") or {}).get("video", {}).get("fps")
    return float(fps) if isinstance(fps, int | float) and fps > 0 else 30.0
