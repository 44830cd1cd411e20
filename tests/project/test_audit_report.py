"""The audit report as shared outside the newsroom: no folder, user or host name in it by
default (full paths only when asked), a plain summary that says what the checks found,
timecodes, and the synthetic-face details only for synthetic people."""

from __future__ import annotations

import getpass
import json
import re
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from anonnet_studio.core.anonymize.leakcheck import LeakRecord, ResidualStats
from anonnet_studio.core.anonymize.plan import RenderPlan
from anonnet_studio.core.anonymize.renderer import RenderResult
from anonnet_studio.project.audit import build_report, render_html, write_report
from anonnet_studio.project.prompting import effective_prompt
from anonnet_studio.project.render_plan import render_plan_from_project
from anonnet_studio.project.report_privacy import scrub_text
from anonnet_studio.project.schema import Method, Project
from tests.project.factories import demo_source, make_demo_project


def _project(tmp_path: Path) -> Project:
    """The demo project, its source in a telling folder with a space in its name."""
    source = tmp_path / "Sources" / "Minister Leak" / "interview.mp4"
    media = {**demo_source().media_info, "path": str(source)}
    project = make_demo_project(source=replace(demo_source(), path=str(source), media_info=media))
    first, second, third = project.identities
    first.method, second.method = Method.SYNTHETIC, Method.PIXELATE
    third.hidden = False
    return project


def _plan(project: Project) -> RenderPlan:
    """The synthetic stage has no face for P1 (as without its weights): blurred."""
    return render_plan_from_project(project, synthetic_ids=set())


def _result(
    tmp_path: Path, *, leaks: list[LeakRecord] | None = None, min_distance: float = 0.9
) -> RenderResult:
    stats = {
        pid: ResidualStats(pid, "sface", 0.54, 10, 4, min_distance, min_distance + 0.1)
        for pid in ("P1", "P2")
    }
    # Free text that quotes paths, as an error message from a model loader would.
    note = f"weights not found in {Path.home()}/.cache/anonnet and {tmp_path}/models/sd.bin"
    return RenderResult(
        dest=tmp_path / "Exports" / "out.mp4",
        frames_written=900,
        leaks=leaks or [],
        residual=stats,
        method_fallbacks={"P1": note},
    )


def _written(report: dict, tmp_path: Path) -> str:
    (tmp_path / "Exports").mkdir(exist_ok=True)
    json_path, html_path = write_report(report, tmp_path / "Exports" / "report.json")
    return json_path.read_text() + html_path.read_text()


def _components(path: Path) -> list[str]:
    return [part for part in path.parts if part not in ("/", "")]


def test_by_default_the_report_names_files_but_no_folder_user_or_host(tmp_path: Path) -> None:
    (tmp_path / "Exports").mkdir()
    project = _project(tmp_path)
    report = build_report(project, _plan(project), _result(tmp_path))
    text = _written(report, tmp_path)
    assert "interview.mp4" in text and "out.mp4" in text
    for part in [*_components(tmp_path), "Sources", "Minister Leak", "Exports", ".cache"]:
        assert part not in text, part
    for private in (str(Path.home()), getpass.getuser()):
        assert not re.search(rf"(?<![\w-]){re.escape(private)}(?![\w-])", text), private
    assert report["full_paths"] is False and "path" not in report["source"]["media"]


def test_report_paths_opt_in_names_the_full_paths_in_json_and_html(tmp_path: Path) -> None:
    (tmp_path / "Exports").mkdir()
    project = _project(tmp_path)
    report = build_report(project, _plan(project), _result(tmp_path), full_paths=True)
    json_path, html_path = write_report(report, tmp_path / "Exports" / "report.json")
    source, output = str(Path(project.source.path)), str(tmp_path / "Exports" / "out.mp4")
    for text in (json_path.read_text(), html_path.read_text()):
        assert source in text and output in text


def test_the_summary_says_who_is_hidden_how_and_what_the_checks_found(tmp_path: Path) -> None:
    project = _project(tmp_path)
    plan = _plan(project)
    report = build_report(project, plan, _result(tmp_path))
    expected = (
        "3 people found; 1 hidden by blur, 1 hidden by pixelation, 1 kept visible; every "
        "exported frame was checked for faces; none could be recognised."
    )
    assert report["summary"] == expected
    assert expected[1:] in render_html(report)  # (the page starts it with a capital)

    leak = LeakRecord(12, (1.0, 2.0, 30.0, 40.0), "P1", 0.2, covered=False)
    failed = build_report(project, plan, _result(tmp_path, leaks=[leak], min_distance=0.3))
    assert failed["verdict"] == "FAIL"
    assert failed["summary"].endswith(
        "every exported frame was checked for faces; 1 face it found could NOT be covered; "
        "face recognition could still recognise Person 1 (P1), Person 2 (P2)."
    )
    unchecked = build_report(
        project, plan, replace(_result(tmp_path), leak_check=False, residual={})
    )
    assert "NOT checked for faces" in unchecked["summary"]
    assert "none could be recognised" not in unchecked["summary"]


def test_only_synthetic_people_have_attributes_prompt_and_seed(tmp_path: Path) -> None:
    project = _project(tmp_path)
    report = build_report(project, _plan(project), _result(tmp_path))
    people = {p["id"]: p for p in report["identities"]}
    assert people["P1"]["seed"] == project.identities[0].generation.seed
    assert people["P1"]["prompt"] == effective_prompt(project.identities[0])
    for pid in ("P2", "P3"):
        assert not {"seed", "prompt", "attributes", "generation"} & set(people[pid]), pid
    page = render_html(report)
    assert effective_prompt(project.identities[0]) in page
    for identity in project.identities[1:]:
        assert effective_prompt(identity) not in page
    assert page.count("<th>Seed</th>") == 1


def test_html_shows_time_ranges_as_timecodes_and_why_a_method_differs(tmp_path: Path) -> None:
    project = _project(tmp_path)
    report = build_report(project, _plan(project), _result(tmp_path))
    page = render_html(report)
    # P3 is on screen from frame 310 to 539 at 29.97 fps.
    assert "00:00:10.34–00:00:18.02" in page
    assert "weights not found in" in page and "chosen: synthetic face" in page
    # Self-contained and readable without a script; the technical part is folded away.
    assert not re.search(r"<script|<img|<link|src=|url\(|http", page)
    assert "<details><summary>Technical details</summary>" in page
    technical = page.split("<details><summary>Technical details</summary>", 1)[1]
    assert "sface" in technical and "Same-person threshold" in technical
    assert "sface" not in page.split("<details>", 1)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cannot open /home/alice/Videos/clip.mp4: gone", "cannot open clip.mp4: gone"),
        (r"C:\Users\alice\clip.mp4", "clip.mp4"),
        ("~/Videos/clip.mp4", "clip.mp4"),
        ("/home/alice", "[folder]"),
        ("alice's laptop", "[private]'s laptop"),
        ("and/or 1/2 MB/s 30000/1001", "and/or 1/2 MB/s 30000/1001"),
    ],
)
def test_free_text_keeps_file_names_only(text: str, expected: str) -> None:
    assert scrub_text(text, {"alice"}) == expected


def test_a_folder_with_spaces_goes_whole(tmp_path: Path) -> None:
    folder = tmp_path / "My Sources"
    assert scrub_text(f"read {folder}/a b.mp4", (), [str(folder)]) == "read a b.mp4"
    assert json.dumps(scrub_text(str(folder), (), [str(folder)])) == '"[folder]"'


def test_the_host_and_user_names_of_this_machine_are_scrubbed_from_free_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "newsroom-laptop-7.example.org")
    monkeypatch.setattr(getpass, "getuser", lambda: "jdoe")
    project = _project(tmp_path)
    result = _result(tmp_path)
    note = "lock held by jdoe@newsroom-laptop-7 (pid 4242)"
    report = build_report(project, _plan(project), replace(result, method_fallbacks={"P1": note}))
    text = _written(report, tmp_path)
    assert "jdoe" not in text and "newsroom-laptop" not in text
    assert "lock held by [private]@[private] (pid 4242)" in text


def test_relative_paths_as_typed_leave_the_report_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`anonymize ../clips/a.mp4 -o out/a.mp4`: the folder "out" is a plain word, and
    must not be cut out of "output" (the demo's own command crashed on that)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    project = _project(tmp_path)
    project.source = replace(project.source, path="Sources/interview.mp4")
    result = replace(_result(tmp_path), dest=Path("out") / "out.mp4")
    report = build_report(project, _plan(project), result)
    assert report["output"]["file_name"] == "out.mp4"
    json_path, html_path = write_report(report, Path("out") / "report.json")
    assert "out.mp4" in html_path.read_text()
    assert str(tmp_path) not in json_path.read_text() + html_path.read_text()
