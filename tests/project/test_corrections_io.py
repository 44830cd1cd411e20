"""Hand corrections survive save and load; a real schema-1 file migrates to the current one."""

from __future__ import annotations

import copy
import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.core.errors import ProjectFileError
from anonnet_studio.project import migrations
from anonnet_studio.project.commands import (
    AddManualTrack,
    AddRegion,
    ApplyRegionTracking,
    CommandStack,
    DeleteTrack,
    SetReviewed,
    SetTrackBox,
    SetTrackKept,
)
from anonnet_studio.project.io import load_project, save_project
from anonnet_studio.project.schema import SCHEMA_VERSION
from tests.project.factories import make_demo_project

# Saved by AnonNET Studio at commit b428baf (schema 1), before hand corrections existed.
V1_FILE = Path(__file__).parent / "data" / "v1_demo.anonproj"


def _corrected_project():
    stack = CommandStack(make_demo_project())
    stack.push(AddManualTrack(320, (100, 120, 180, 220), rng=random.Random(1)))
    stack.push(SetTrackBox(3, 400, (500, 300, 620, 440)))
    stack.push(SetTrackKept(2, True))
    stack.push(DeleteTrack(4))
    stack.push(AddRegion((900, 600, 1300, 680), 100, 250, name="Name tag", shape="ellipse"))
    frames = np.arange(120, 131, dtype=np.int32)
    stack.push(ApplyRegionTracking(1, frames, np.tile([[900, 600, 1200, 680]], (11, 1))))
    stack.push(SetReviewed(["leak:17-18", "gap:1:100"], True))
    return stack.project


def test_every_correction_round_trips_through_a_saved_file(tmp_path):
    project = _corrected_project()
    path = tmp_path / "fixed.anonproj"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded == project
    assert loaded.tracks[5].manual and loaded.tracks[2].kept
    assert loaded.tracks[3].corrected_frames == [400]
    assert loaded.regions[0].tracked and loaded.regions[0].shape.value == "ellipse"
    assert [f.track_id for f in loaded.removed_faces] == [4]
    assert loaded.reviewed == ["gap:1:100", "leak:17-18"]
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema_version"] == SCHEMA_VERSION


def test_a_real_schema_1_file_loads_with_no_corrections_and_is_not_rewritten(tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(V1_FILE.parent, folder)
    path = folder / V1_FILE.name
    on_disk = path.read_bytes()
    assert json.loads(on_disk)["schema_version"] == 1
    project = load_project(path)
    assert path.read_bytes() == on_disk
    assert project.schema_version == SCHEMA_VERSION
    assert len(project.tracks) == 3 and len(project.identities) == 2
    tracks = project.tracks.values()
    assert all(not t.manual and not t.kept and t.corrected_frames == [] for t in tracks)
    assert project.regions == [] and project.removed_faces == [] and project.reviewed == []
    assert project.identity("P2").hidden is False, "the v1 fields come through unchanged"
    save_project(project, path)
    assert json.loads(path.read_text(encoding="utf-8"))["schema_version"] == SCHEMA_VERSION
    assert load_project(path) == project


def test_the_migration_only_adds_the_correction_fields():
    document = json.loads(V1_FILE.read_text(encoding="utf-8"))
    step = migrations.MIGRATIONS[2]  # schema 2 -> 3: hand corrections
    before_step = migrations.MIGRATIONS[1](copy.deepcopy(document))
    upgraded = step(copy.deepcopy(before_step))
    before, after = before_step["project"], upgraded["project"]
    assert set(after) - set(before) == {"regions", "removed_faces", "reviewed"}
    for key, track in after["tracks"].items():
        added = {k: v for k, v in track.items() if k not in before["tracks"][key]}
        assert added == {"manual": False, "kept": False, "corrected_frames": []}
    assert "manual" not in next(iter(before_step["project"]["tracks"].values()))
    others = {k: v for k, v in after.items() if k in before and k != "tracks"}
    assert others == {k: v for k, v in before.items() if k != "tracks"}, "nothing else changed"
    for key, track in before["tracks"].items():
        assert {k: after["tracks"][key][k] for k in track} == track


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p["tracks"]["3"].update(corrected_frames=[999]), "outside the track"),
        (lambda p: p["tracks"]["3"].update(corrected_frames=[400, 390]), "strictly increasing"),
        (lambda p: p["regions"][0].update(end_frame=5000), "past the end of the video"),
        (lambda p: p["regions"][0].update(start_frame=300), "empty or negative"),
        (lambda p: p["regions"][0].update(shape="triangle"), "one of 'rectangle', 'ellipse'"),
        (lambda p: p["reviewed"].append("leak:17-18"), "reviewed twice"),
        (lambda p: p["removed_faces"][0].update(track_id=1), "both present and removed"),
    ],
)
def test_damaged_correction_fields_are_refused_on_load(tmp_path, edit, message):
    path = tmp_path / "bad.anonproj"
    save_project(_corrected_project(), path)
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document["project"])
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ProjectFileError, match=message):
        load_project(path)
