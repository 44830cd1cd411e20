"""Older project files load through the migration table; the file itself is not changed."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from anonnet_studio.core.errors import ProjectFileError
from anonnet_studio.core.voice.settings import (
    DEFAULT_STRENGTH,
    MuteKind,
    MuteRange,
    VoiceMethod,
    VoiceSettings,
)
from anonnet_studio.project import migrations
from anonnet_studio.project.codec import DocumentError
from anonnet_studio.project.io import load_project, save_project
from anonnet_studio.project.schema import SCHEMA_VERSION, Project
from tests.project.factories import make_demo_project


def _write_v0(tmp_path: Path) -> tuple[Project, Path]:
    """A file as version 0 wrote it: `enabled` where version 1 has `hidden`."""
    project = make_demo_project()
    project.identities[1].hidden = False  # a person the user chose to keep visible
    path = tmp_path / "old.anonproj"
    save_project(project, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["schema_version"] = 0
    for identity in document["project"]["identities"]:
        identity["enabled"] = identity.pop("hidden")
    path.write_text(json.dumps(document), encoding="utf-8")
    return project, path


def test_every_older_version_has_a_migration_step() -> None:
    assert sorted(migrations.MIGRATIONS) == list(range(SCHEMA_VERSION))


def test_v0_file_loads_with_enabled_renamed_to_hidden(tmp_path: Path) -> None:
    project, path = _write_v0(tmp_path)
    on_disk = path.read_bytes()
    loaded = load_project(path)
    assert loaded == project
    assert [i.hidden for i in loaded.identities] == [True, False, True]
    assert loaded.schema_version == SCHEMA_VERSION
    assert path.read_bytes() == on_disk  # loading never rewrites the user's file


def test_saving_a_migrated_project_writes_the_current_version(tmp_path: Path) -> None:
    project, path = _write_v0(tmp_path)
    save_project(load_project(path), path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema_version"] == SCHEMA_VERSION
    assert "enabled" not in document["project"]["identities"][0]
    assert load_project(path) == project


def test_migrate_leaves_its_input_untouched() -> None:
    document: dict[str, Any] = {
        "schema_version": 0,
        "project": {"identities": [{"id": "P1", "enabled": False}]},
    }
    before = copy.deepcopy(document)
    upgraded = migrations.migrate(document)
    assert document == before
    assert upgraded["schema_version"] == SCHEMA_VERSION
    assert upgraded["project"]["identities"] == [{"id": "P1", "hidden": False}]


def test_a_missing_step_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DocumentError, match="no upgrade exists from version 0"):
        migrations.migrate({"schema_version": 0, "project": {}}, migrations={})
    _, path = _write_v0(tmp_path)
    monkeypatch.delitem(migrations.MIGRATIONS, 0)
    with pytest.raises(ProjectFileError, match=r"cannot be upgraded: .*version 0"):
        load_project(path)


def test_malformed_v0_values_are_reported_with_their_place(tmp_path: Path) -> None:
    _, path = _write_v0(tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["project"]["identities"][2]["enabled"] = "yes"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ProjectFileError, match=r"identities\[2\]\.enabled"):
        load_project(path)


def _write_v1(tmp_path: Path) -> tuple[Project, Path]:
    """A file as version 1 wrote it: attempts without threshold / face_found / note /
    placement, the kept face's placement untyped in analysis["synthetic_faces"], and a
    strength of 0 (which v1 allowed)."""
    project = make_demo_project()
    path = tmp_path / "v1.anonproj"
    save_project(project, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["schema_version"] = 1
    faces = {}
    for identity in document["project"]["identities"]:
        for attempt in identity["attempts"]:
            placement = attempt.pop("placement")
            for name in ("threshold", "face_found", "note"):
                attempt.pop(name)
            if placement is not None:
                faces[attempt["image_key"]] = {"identity_id": identity["id"], **placement}
    document["project"]["analysis"]["synthetic_faces"] = faces
    document["project"]["identities"][2]["generation"]["strength"] = 0.0
    path.write_text(json.dumps(document), encoding="utf-8")
    return project, path


def test_v1_file_loads_with_typed_face_placements(tmp_path: Path) -> None:
    project, path = _write_v1(tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["project"]["analysis"]["synthetic_faces"], "the v1 file holds a placement"
    loaded = load_project(path)
    (attempt,) = loaded.identity("P1").attempts
    (original,) = project.identity("P1").attempts
    assert attempt.placement is not None and attempt.placement == original.placement
    assert attempt.threshold is None and attempt.face_found and attempt.note == ""
    assert "synthetic_faces" not in loaded.analysis  # no untyped copy left behind
    assert loaded.identity("P3").generation.strength == 0.01
    # Everything else came through unchanged.
    expected = project
    expected.identities[0].attempts = [loaded.identity("P1").attempts[0]]
    expected.identities[2].generation = loaded.identities[2].generation
    assert loaded == expected


def test_v1_placement_that_is_incomplete_is_reported(tmp_path: Path) -> None:
    _, path = _write_v1(tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    next(iter(document["project"]["analysis"]["synthetic_faces"].values())).pop("box")
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ProjectFileError, match=r"synthetic_faces\[P1-attempt-0\]"):
        load_project(path)


def _write_v3(tmp_path: Path) -> tuple[Project, Path]:
    """A file as version 3 wrote it: no voice settings (its exports copied the audio)."""
    project = make_demo_project()
    path = tmp_path / "v3.anonproj"
    save_project(project, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["schema_version"] = 3
    del document["project"]["voice"]
    path.write_text(json.dumps(document), encoding="utf-8")
    return project, path


def test_v3_file_loads_with_the_voice_off_and_saves_as_v4(tmp_path: Path) -> None:
    project, path = _write_v3(tmp_path)
    on_disk = path.read_bytes()
    loaded = load_project(path)
    assert path.read_bytes() == on_disk
    assert loaded.voice == VoiceSettings()
    assert loaded.voice.method is VoiceMethod.OFF and loaded.voice.mute_ranges == ()
    assert not loaded.voice.changes_audio  # exports keep copying the audio unchanged
    assert loaded == project
    save_project(loaded, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["project"]["voice"] == {"method": "off", "strength": DEFAULT_STRENGTH,
                                            "mute_ranges": []}  # fmt: skip


def test_voice_settings_round_trip_and_bad_values_are_reported(tmp_path: Path) -> None:
    project = make_demo_project()
    project.voice = VoiceSettings(
        VoiceMethod.PITCH, 0.5, (MuteRange(1.0, 2.5), MuteRange(3.0, 3.25, MuteKind.BLEEP))
    )
    path = tmp_path / "voice.anonproj"
    save_project(project, path)
    assert load_project(path).voice == project.voice
    document = json.loads(path.read_text(encoding="utf-8"))
    document["project"]["voice"]["strength"] = 7
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ProjectFileError, match=r"voice: The voice strength must be within"):
        load_project(path)


def _write_v4(tmp_path: Path) -> tuple[Project, Path]:
    """A file as version 4 wrote it: one synthetic backend, so no backend anywhere."""
    project = make_demo_project()
    assert project.identities[0].attempts  # the demo keeps one generated face
    path = tmp_path / "v4.anonproj"
    save_project(project, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["schema_version"] = 4
    for identity in document["project"]["identities"]:
        del identity["generation"]["backend"]
        for attempt in identity["attempts"]:
            del attempt["backend"], attempt["degree"]
    path.write_text(json.dumps(document), encoding="utf-8")
    return project, path


def test_v4_file_loads_unchanged_with_anonnet_faces_and_no_backend_chosen(
    tmp_path: Path,
) -> None:
    project, path = _write_v4(tmp_path)
    on_disk = path.read_bytes()
    loaded = load_project(path)
    assert path.read_bytes() == on_disk
    assert loaded == project
    # Nobody chose: AnonNET, the only backend v4 had, still generates them.
    assert [i.generation.backend for i in loaded.identities] == [None, None, None]
    assert {i.generation.effective_backend for i in loaded.identities} == {"anonnet"}
    attempt = loaded.identities[0].attempts[0]
    assert (attempt.backend, attempt.degree) == ("anonnet", None)
    save_project(loaded, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema_version"] == SCHEMA_VERSION == 5
    assert document["project"]["identities"][0]["generation"]["backend"] is None


def test_a_chosen_backend_and_fams_attempts_round_trip(tmp_path: Path) -> None:
    project = make_demo_project()
    person = project.identities[0]
    person.generation = person.generation.with_overrides(backend="fams")
    person.attempts[0] = dataclasses.replace(person.attempts[0], backend="fams", degree=1.35)
    path = tmp_path / "fams.anonproj"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded == project
    assert loaded.identities[0].generation.backend == "fams"
    assert loaded.identities[0].attempts[0].degree == 1.35
    document = json.loads(path.read_text(encoding="utf-8"))
    document["project"]["identities"][0]["generation"]["backend"] = "sd3"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ProjectFileError, match=r"identities\[0\]\.generation\.backend"):
        load_project(path)
