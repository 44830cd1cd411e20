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


def _add_hand_corrections(document: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: hand corrections. Tracks gain `manual`, `kept` (both false) and
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


# from_version -> step to from_version + 1
MIGRATIONS: dict[int, Migration] = {
    0: _v0_to_v1,
    1: _add_hand_corrections,
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
