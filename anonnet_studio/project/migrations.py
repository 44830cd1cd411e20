"""Upgrades of older project files, one schema version at a time.

A migration takes the whole JSON document of version n (the dict with "format",
"schema_version", "arrays" and "project") and returns it as version n + 1. Migrations
work on plain JSON data, before any dataclass is built, so they never depend on today's
schema classes. To change the schema: bump `SCHEMA_VERSION`, add the step here, and add a
test that loads a file of the previous version.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from anonnet_studio.core.voice.settings import DEFAULT_STRENGTH
from anonnet_studio.project.codec import DocumentError
from anonnet_studio.project.schema import SCHEMA_VERSION

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v0_to_v1(document: dict[str, Any]) -> dict[str, Any]:
    """v0 stored `enabled` ("anonymize this person") where v1 stores `hidden`."""
    project = document.get("project")
    identities = project.get("identities") if isinstance(project, dict) else None
    if not isinstance(identities, list):
        return document  # the strict decoder reports the malformed list with its path
    for position, identity in enumerate(identities):
        if not isinstance(identity, dict) or "enabled" not in identity:
            continue
        enabled = identity.pop("enabled")
        if not isinstance(enabled, bool):
            raise DocumentError(f"identities[{position}].enabled", "expected true or false")
        identity["hidden"] = enabled
    return document


# v1 kept where each stored synthetic face sits in its keyframe as untyped JSON in
# project.analysis["synthetic_faces"][image key]; v2 types it as each attempt's `placement`.
_V1_FACES_KEY = "synthetic_faces"
_V1_PLACEMENT_FIELDS = ("track_id", "frame_index", "image_to_frame", "landmarks68", "box",
                        "landmarks5")  # fmt: skip


def _v1_to_v2(document: dict[str, Any]) -> dict[str, Any]:
    """Synthetic faces, typed: every attempt gains `threshold` (unknown, null), `face_found`,
    `note` and `placement` (moved from analysis["synthetic_faces"], matched by image key),
    and strength, which v1 allowed to be 0 (a no-op generation), is at least 0.01.

    Touches only those fields, so it composes with other steps of the same version."""
    project = document.get("project")
    if not isinstance(project, dict):
        return document
    analysis = project.get("analysis")
    faces = analysis.pop(_V1_FACES_KEY, None) if isinstance(analysis, dict) else None
    faces = faces if isinstance(faces, dict) else {}
    identities = project.get("identities")
    for position, identity in enumerate(identities if isinstance(identities, list) else []):
        if not isinstance(identity, dict):
            continue
        generation = identity.get("generation")
        if isinstance(generation, dict) and _is_number(generation.get("strength")):
            generation["strength"] = max(0.01, generation["strength"])
        attempts = identity.get("attempts")
        for index, attempt in enumerate(attempts if isinstance(attempts, list) else []):
            if isinstance(attempt, dict):
                where = f"identities[{position}].attempts[{index}]"
                _upgrade_attempt(attempt, faces, where)
    return document


def _upgrade_attempt(attempt: dict[str, Any], faces: dict[str, Any], where: str) -> None:
    attempt.setdefault("threshold", None)
    # v1 recorded no detection result; an attempt that passed certainly showed a face, and
    # one that failed is marked failed anyway, so True loses nothing.
    attempt.setdefault("face_found", True)
    attempt.setdefault("note", "")
    key = attempt.get("image_key")
    face = faces.get(key) if isinstance(key, str) else None
    if face is None:
        attempt.setdefault("placement", None)
        return
    if not isinstance(face, dict) or any(name not in face for name in _V1_PLACEMENT_FIELDS):
        raise DocumentError(f"analysis.synthetic_faces[{attempt['image_key']}]",
                            f"incomplete placement of the face kept by {where}")  # fmt: skip
    attempt["placement"] = {name: face[name] for name in _V1_PLACEMENT_FIELDS}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _add_hand_corrections(document: dict[str, Any]) -> dict[str, Any]:
    """v2 -> v3: hand corrections. Tracks gain `manual`, `kept` (both false) and
    `corrected_frames` (none); the project gains empty `regions`, `removed_faces` and
    `reviewed`. Nothing else is touched; present values are left for the decoder to check."""
    project = document.get("project")
    if not isinstance(project, dict):
        return document
    tracks = project.get("tracks")
    if isinstance(tracks, dict):
        for track in tracks.values():
            if isinstance(track, dict):
                track.setdefault("manual", False)
                track.setdefault("kept", False)
                track.setdefault("corrected_frames", [])
    project.setdefault("regions", [])
    project.setdefault("removed_faces", [])
    project.setdefault("reviewed", [])
    return document


def _add_voice(document: dict[str, Any]) -> dict[str, Any]:
    """v3 -> v4: voice settings. The project gains `voice` with the disguise off and no
    mute ranges, which is what a v3 export did (the audio was copied unchanged)."""
    project = document.get("project")
    if isinstance(project, dict):
        project.setdefault("voice", {"method": "off", "strength": DEFAULT_STRENGTH,
                                     "mute_ranges": []})  # fmt: skip
    return document


def _add_synthetic_backend(document: dict[str, Any]) -> dict[str, Any]:
    """v4 -> v5: two synthetic backends. Each person's generation settings gain `backend`
    (null: not chosen, so AnonNET, the only backend v4 had, still generates them) and
    each attempt records its `backend` ("anonnet") and FAMS `degree` (null)."""
    project = document.get("project")
    identities = project.get("identities") if isinstance(project, dict) else None
    for identity in identities if isinstance(identities, list) else []:
        if not isinstance(identity, dict):
            continue
        generation = identity.get("generation")
        if isinstance(generation, dict):
            generation.setdefault("backend", None)
        attempts = identity.get("attempts")
        for attempt in attempts if isinstance(attempts, list) else []:
            if isinstance(attempt, dict):
                attempt.setdefault("backend", "anonnet")
                attempt.setdefault("degree", None)
    return document


# from_version -> step to from_version + 1
MIGRATIONS: dict[int, Migration] = {
    0: _v0_to_v1,
    1: _v1_to_v2,
    2: _add_hand_corrections,
    3: _add_voice,
    4: _add_synthetic_backend,
}


def migrate(
    document: dict[str, Any], migrations: dict[int, Migration] | None = None
) -> dict[str, Any]:
    """`document` upgraded to `SCHEMA_VERSION` (a new dict; the input is left untouched).

    Raises `DocumentError` when no chain of migrations leads to the current version.
    """
    steps = MIGRATIONS if migrations is None else migrations
    version = document["schema_version"]
    if version == SCHEMA_VERSION:
        return document
    upgraded = copy.deepcopy(document)
    while version < SCHEMA_VERSION:
        step = steps.get(version)
        if step is None:
            raise DocumentError("schema_version", f"no upgrade exists from version {version}")
        upgraded = step(upgraded)
        version += 1
        upgraded["schema_version"] = version
    return upgraded
