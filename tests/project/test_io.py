"""Saving and loading: exact round trips, atomic replacement, readable load errors."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from anonnet_studio.core.errors import OutputError, ProjectFileError
from anonnet_studio.core.progress import Progress
from anonnet_studio.project import io as project_io
from anonnet_studio.project.io import SAVE_LOCK_NAME, load_project, save_project, sidecar_dir
from anonnet_studio.project.schema import SCHEMA_VERSION, Method, Project
from tests.conftest import fixture_video
from tests.project.factories import make_demo_project
from tests.support.processes import finished_process_id


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Project, Path]:
    project = make_demo_project()
    path = tmp_path / "interview.anonproj"
    save_project(project, path)
    return project, path


def _sidecars(path: Path) -> list[str]:
    """Everything in the data folder but its save lock (temp files would show here)."""
    return sorted(p.name for p in sidecar_dir(path).iterdir() if p.name != SAVE_LOCK_NAME)


def _edit_json(path: Path, edit: Any) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def _load_error(path: Path) -> str:
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    return info.value.user_message()


def test_round_trip_is_exact(saved: tuple[Project, Path]) -> None:
    project, path = saved
    loaded = load_project(path)
    assert loaded == project
    # Spot checks that do not rely on the document equality under test.
    for track_id, track in project.tracks.items():
        again = loaded.tracks[track_id]
        for name in ("frames", "boxes", "landmarks5", "scores", "interpolated", "landmarks68"):
            original, restored = getattr(track, name), getattr(again, name)
            assert restored.dtype == original.dtype and restored.shape == original.shape
            assert restored.tobytes() == original.tobytes()
        assert again.keyframe is not None and track.keyframe is not None
        assert again.keyframe.yaw == track.keyframe.yaw  # floats are bit-exact
    person = loaded.identity("P1")
    assert person.method is Method.SYNTHETIC
    assert isinstance(person.generation.control_scales, tuple)
    assert person.attempts[0].distance == 0.4123456789
    assert loaded.images["P1-attempt-0"].tobytes() == project.images["P1-attempt-0"].tobytes()
    assert loaded.identity("P2").attributes.expression.effective == "happy"
    assert loaded.source.media_info == project.source.media_info
    assert loaded.leak_frames == [17, 18, 600]


def test_numpy_scalars_in_free_form_analysis_data_are_saved_as_plain_numbers(
    tmp_path: Path,
) -> None:
    project = make_demo_project()
    project.analysis["timings_s"] = {"detection": np.float32(1.5), "frames": np.int64(900)}
    save_project(project, tmp_path / "p.anonproj")
    loaded = load_project(tmp_path / "p.anonproj")
    assert loaded.analysis["timings_s"] == {"detection": 1.5, "frames": 900}
    assert type(loaded.analysis["timings_s"]["detection"]) is float


def test_file_layout_json_names_its_sidecar_and_holds_no_arrays(
    saved: tuple[Project, Path],
) -> None:
    _, path = saved
    document = json.loads(path.read_text(encoding="utf-8"))
    assert (
        document["format"] == "anonnet-studio-project"
        and document["schema_version"] == SCHEMA_VERSION
    )
    (sidecar,) = _sidecars(path)
    assert document["arrays"]["file"] == f"interview.anonproj.data/{sidecar}"
    assert sidecar == f"arrays-{document['arrays']['sha256'][:12]}.npz"
    assert path.stat().st_size < 60_000  # scalars only; ~8 kB of frames alone are in the npz
    # The sidecar is a plain npz that loads with pickling disabled.
    with np.load(sidecar_dir(path) / sidecar, allow_pickle=False) as archive:
        assert "tracks[1].boxes" in archive.files
        assert all(archive[key].dtype != object for key in archive.files)


def test_resave_replaces_the_sidecar_and_removes_the_old_one(saved: tuple[Project, Path]) -> None:
    project, path = saved
    (old,) = _sidecars(path)
    project.tracks[1].boxes[0, 0] += 1.0
    progress: list[Progress] = []
    save_project(project, path, on_progress=progress.append)
    (new,) = _sidecars(path)
    assert new != old
    assert load_project(path) == project
    assert progress[-1].done == progress[-1].total and progress[-1].fraction == 1.0
    assert [p.done for p in progress] == sorted(p.done for p in progress)


def test_crash_before_json_rename_keeps_the_old_project(
    saved: tuple[Project, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, path = saved
    old_json = path.read_bytes()
    real_replace = os.replace

    def failing_replace(src: Any, dst: Any) -> None:
        if Path(dst) == path:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(project_io.os, "replace", failing_replace)
    edited = make_demo_project()
    edited.identities[0].name = "Anchor"
    edited.tracks[3].scores[:] = 0.5
    with pytest.raises(OutputError, match="No space left"):
        save_project(edited, path)
    monkeypatch.undo()

    assert path.read_bytes() == old_json
    assert load_project(path) == project
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    # The next successful save removes the orphaned sidecar of the failed one.
    save_project(edited, path)
    assert len(_sidecars(path)) == 1
    assert load_project(path) == edited


def test_crash_while_writing_arrays_keeps_the_old_project(
    saved: tuple[Project, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, path = saved
    before = _sidecars(path)

    def failing_savez(stream: Any, **_: Any) -> None:
        stream.write(b"PK\x03\x04 half an archive")
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(project_io.np, "savez", failing_savez)
    with pytest.raises(OutputError, match="Input/output error"):
        save_project(make_demo_project(seed=3), path)
    monkeypatch.undo()
    assert _sidecars(path) == before  # the temp file was removed
    assert load_project(path) == project


def test_leftovers_of_a_killed_save_do_not_matter(saved: tuple[Project, Path]) -> None:
    project, path = saved
    orphan_sidecar = sidecar_dir(path) / "arrays-0123456789ab.npz"
    orphan_sidecar.write_bytes(b"half")
    gone = finished_process_id()
    (sidecar_dir(path) / f".anonnet-{gone}-0a1b2c3d-arrays-new.npz.partial").write_bytes(b"h")
    (path.parent / f".anonnet-{gone}-4e5f6a7b-{path.name}.partial").write_bytes(b'{"form')
    assert load_project(path) == project
    save_project(project, path)
    assert len(_sidecars(path)) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, sidecar_dir(path).name]


def test_save_errors(tmp_path: Path) -> None:
    project = make_demo_project()
    with pytest.raises(OutputError, match="Could not save the project"):
        save_project(project, tmp_path / "missing-folder" / "x.anonproj")

    broken = make_demo_project()
    broken.identities[0].track_ids.append(99)
    with pytest.raises(ValueError, match="unknown track 99"):
        save_project(broken, tmp_path / "broken.anonproj")

    not_json = make_demo_project()
    not_json.analysis["models"] = {"detector"}
    with pytest.raises(TypeError):
        save_project(not_json, tmp_path / "not-json.anonproj")
    assert list(tmp_path.iterdir()) == []  # both refused before touching the disk


def test_foreign_files_are_recognised(tmp_path: Path) -> None:
    video = fixture_video("lp_d18.mp4")
    assert "is not an AnonNET Studio project" in _load_error(video)
    other_json = tmp_path / "settings.anonproj"
    other_json.write_text('{"theme": "dark"}', encoding="utf-8")
    assert "is not an AnonNET Studio project" in _load_error(other_json)
    other_json.write_text("[1, 2, 3]", encoding="utf-8")
    assert "is not an AnonNET Studio project" in _load_error(other_json)
    assert "does not exist" in _load_error(tmp_path / "nope.anonproj")
    assert "cannot be read" in _load_error(tmp_path)


def test_truncated_or_undecodable_json(saved: tuple[Project, Path]) -> None:
    _, path = saved
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    message = _load_error(path)
    assert "damaged or incomplete" in message and str(path) in message
    path.write_bytes(b'{"format": "\xff\xfe"}')
    assert "damaged or incomplete" in _load_error(path)


def _set_steps(d: dict[str, Any]) -> None:
    d["project"]["identities"][0]["generation"]["steps"] = "35"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["project"]["identities"][1].pop("name"),
            "identities[1].name: the field is missing",
        ),
        (_set_steps, "identities[0].generation.steps: expected a whole number, got text '35'"),
        (
            lambda d: d["project"]["identities"][2].update(method="smudge"),
            "identities[2].method: expected one of 'synthetic', 'blur'",
        ),
        (
            lambda d: d["project"]["identities"][0].update(hidden="yes"),
            "identities[0].hidden: expected true or false",
        ),
        (lambda d: d["project"].update(shots=None), "shots: must not be null"),
        (
            lambda d: d["project"]["tracks"]["2"].update(colour="red"),
            "tracks[2]: unexpected field 'colour'",
        ),
        (
            lambda d: d["project"]["tracks"]["2"]["boxes"].update(shape=[5, 4]),
            "does not match its description",
        ),
        (
            lambda d: d["project"]["tracks"]["2"].update(
                boxes=d["project"]["tracks"]["1"]["boxes"]
            ),
            "boxes has 300 rows but frames has 200",
        ),
        (
            lambda d: d["project"]["identities"][0]["generation"].update(strength=3.0),
            "strength must be between 0.01 and 1",
        ),
        (
            lambda d: d["project"]["identities"][2]["track_ids"].append(1),
            "identity P3 lists track 1 of P1",
        ),
    ],
)
def test_damaged_fields_are_named_in_the_error(
    saved: tuple[Project, Path], edit: Any, expected: str
) -> None:
    _, path = saved
    _edit_json(path, edit)
    message = _load_error(path)
    assert expected in message
    assert str(path) in message


def test_versions_newer_than_supported_are_refused(saved: tuple[Project, Path]) -> None:
    _, path = saved
    _edit_json(path, lambda d: d.update(schema_version=SCHEMA_VERSION + 1))
    message = _load_error(path)
    assert "newer version of AnonNET Studio" in message and "Update AnonNET Studio" in message
    _edit_json(path, lambda d: d.update(schema_version="1"))
    assert "no valid schema_version" in _load_error(path)


def test_missing_or_mismatching_sidecar(saved: tuple[Project, Path], tmp_path: Path) -> None:
    _, path = saved
    other = tmp_path / "other.anonproj"
    save_project(make_demo_project(seed=9), other)
    (mine,) = _sidecars(path)
    (theirs,) = _sidecars(other)
    shutil.copyfile(sidecar_dir(other) / theirs, sidecar_dir(path) / mine)
    message = _load_error(path)
    assert "does not match the project" in message

    shutil.rmtree(sidecar_dir(path))
    message = _load_error(path)
    assert "is missing" in message and ".anonproj.data folder together" in message


def test_sidecar_references_cannot_leave_the_project_folder(saved: tuple[Project, Path]) -> None:
    _, path = saved
    _edit_json(path, lambda d: d["arrays"].update(file="../../etc/passwd"))
    assert "invalid data file" in _load_error(path)
    _edit_json(path, lambda d: d["arrays"].update(file="/etc/passwd"))
    assert "invalid data file" in _load_error(path)
    _edit_json(path, lambda d: d.pop("arrays"))
    assert "does not name its data file" in _load_error(path)


def test_damaged_sidecar_with_matching_hash_is_reported(saved: tuple[Project, Path]) -> None:
    _, path = saved
    (name,) = _sidecars(path)
    garbage = b"this is not a zip archive at all"
    (sidecar_dir(path) / name).write_bytes(garbage)
    import hashlib

    _edit_json(path, lambda d: d["arrays"].update(sha256=hashlib.sha256(garbage).hexdigest()))
    assert "is damaged" in _load_error(path)
