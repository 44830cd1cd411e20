"""Finding a batch's inputs and planning its mirrored output tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonnet_studio.core.batch.inputs import VIDEO_SUFFIXES, discover_inputs, plan_jobs
from anonnet_studio.core.errors import MediaNotFoundError


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_folders_are_searched_recursively_for_videos_only(tmp_path: Path) -> None:
    a = _touch(tmp_path / "in" / "a.mp4")
    b = _touch(tmp_path / "in" / "deep" / "er" / "b.MOV")
    _touch(tmp_path / "in" / "notes.txt")
    _touch(tmp_path / "in" / ".anonnet-1-00000000-a.mp4.partial")
    _touch(tmp_path / "in" / ".hidden" / "c.mp4")
    _touch(tmp_path / "in" / "p.anonproj.data" / "d.mp4")
    found = discover_inputs([tmp_path / "in"], suffixes=VIDEO_SUFFIXES)
    assert found == [a.resolve(), b.resolve()]


def test_the_output_folder_inside_an_input_folder_is_not_an_input(tmp_path: Path) -> None:
    a = _touch(tmp_path / "a.mp4")
    _touch(tmp_path / "out" / "a.anonymized.mp4")
    assert discover_inputs([tmp_path], suffixes=VIDEO_SUFFIXES, exclude=tmp_path / "out") == [
        a.resolve()
    ]


def test_a_list_file_names_files_and_folders_relative_to_itself(tmp_path: Path) -> None:
    a = _touch(tmp_path / "clips" / "a.mp4")
    b = _touch(tmp_path / "more" / "b.mkv")
    odd = _touch(tmp_path / "odd.bin")  # named explicitly: taken whatever its suffix
    listing = tmp_path / "todo.txt"
    listing.write_text(f"# clips\nclips/a.mp4\n\n{tmp_path / 'more'}\nodd.bin\nclips/a.mp4\n")
    found = discover_inputs([listing], suffixes=VIDEO_SUFFIXES)
    assert found == [a.resolve(), b.resolve(), odd.resolve()]


def test_a_missing_input_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFoundError):
        discover_inputs([tmp_path / "nope.mp4"], suffixes=VIDEO_SUFFIXES)


def test_outputs_mirror_the_folders_below_the_common_root(tmp_path: Path) -> None:
    sources = [
        tmp_path / "in" / "day1" / "clip.mp4",
        tmp_path / "in" / "day2" / "clip.mp4",
        tmp_path / "in" / "day2" / "clip.avi",
    ]
    jobs = plan_jobs(sources, tmp_path / "out")
    assert [j.key for j in jobs] == ["day1/clip", "day2/clip", "day2/clip_avi"]
    assert jobs[0].video == tmp_path / "out" / "day1" / "clip.anonymized.mp4"
    assert jobs[2].video.name == "clip_avi.anonymized.mp4"  # AVI is written as MP4
    assert jobs[1].report == tmp_path / "out" / "day2" / "clip.anonymized.report.json"
    names = {p for j in jobs for p in (*j.outputs(), j.done_record)}
    assert len(names) == 3 * 5  # no two jobs share an output
