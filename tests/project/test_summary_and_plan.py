"""Project -> summary JSON, render plan and audit report (no rendering here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from anonnet_studio.core.anonymize.leakcheck import LeakChecker, LeakRecord, ResidualStats
from anonnet_studio.core.anonymize.plan import RedactionMethod, RenderPlan
from anonnet_studio.core.anonymize.renderer import RenderResult
from anonnet_studio.core.vision.types import FaceDetection
from anonnet_studio.project.audit import build_report, render_html, write_report
from anonnet_studio.project.prompting import auto_prompt, effective_prompt
from anonnet_studio.project.render_plan import effective_method, render_plan_from_project
from anonnet_studio.project.schema import Method
from anonnet_studio.project.summary import project_summary
from tests.project.factories import make_demo_project


def test_summary_lists_scenes_and_people_with_shots_and_prompts() -> None:
    project = make_demo_project()
    summary = project_summary(project)
    assert summary["scenes"] == [
        {"start_frame": s.start_frame, "end_frame": s.end_frame} for s in project.shots
    ]
    person = next(p for p in summary["identities"] if p["id"] == "P1")
    assert person["scenes"] == sorted({t.shot_index for t in project.tracks_of("P1")})
    assert person["frames"] == len(project.frames_of("P1"))
    assert person["prompt"].startswith("A photorealistic portrait of a")
    json.dumps(summary)  # JSON-ready


def test_prompt_override_wins_and_reset_returns_to_auto() -> None:
    identity = make_demo_project().identities[0]
    identity.generation = identity.generation.with_overrides(
        prompt_override="A photorealistic portrait of a child"
    )
    assert effective_prompt(identity) == "A photorealistic portrait of a child"
    identity.generation = identity.generation.with_overrides(prompt_override=None)
    assert effective_prompt(identity) == auto_prompt(identity)


def test_render_plan_maps_methods_and_keeps() -> None:
    project = make_demo_project()
    first, second = project.identities[0], project.identities[1]
    first.method, first.hidden = Method.PIXELATE, True
    second.hidden = False
    plan = render_plan_from_project(project, side_by_side=True)
    by_id = {p.identity_id: p for p in plan.people}
    assert by_id[first.id].method is RedactionMethod.PIXELATE
    assert by_id[second.id].method is RedactionMethod.KEEP
    assert plan.side_by_side
    assert sum(len(t.frames) for t in by_id[first.id].tracks) == sum(
        len(t.frames) for t in project.tracks_of(first.id)
    )


def test_synthetic_person_needing_attention_is_redacted() -> None:
    identity = make_demo_project().identities[0]
    identity.method, identity.needs_attention = Method.SYNTHETIC, True
    assert effective_method(identity) is RedactionMethod.BLUR


def _result(tmp_path: Path, leaks: list[LeakRecord], min_distance: float) -> RenderResult:
    stats = ResidualStats("P1", "sface", 0.6, 10, 4, min_distance, min_distance + 0.1)
    return RenderResult(
        dest=tmp_path / "out.mp4", frames_written=900, leaks=leaks, residual={"P1": stats}
    )


def test_report_passes_without_residual_match_and_contains_no_images(tmp_path: Path) -> None:
    project = make_demo_project()
    plan = render_plan_from_project(project)
    leak = LeakRecord(12, (1.0, 2.0, 30.0, 40.0), "P1", 0.2)
    report = build_report(project, plan, _result(tmp_path, [leak], 0.9))
    assert report["verdict"] == "PASS"
    assert report["checks"]["leaks_found_and_covered"] == 1
    assert report["leak_frames"] == [12]
    json_path, html_path = write_report(report, tmp_path / "report.json")
    text = json_path.read_text() + html_path.read_text()
    assert "<img" not in text and "base64" not in text and "http" not in text
    assert json.loads(json_path.read_text())["source"]["sha256"] == project.source.sha256


def test_report_fails_when_a_hidden_person_is_still_recognisable(tmp_path: Path) -> None:
    project = make_demo_project()
    report = build_report(project, render_plan_from_project(project), _result(tmp_path, [], 0.3))
    assert report["verdict"] == "FAIL"
    assert report["checks"]["identities_still_recognisable"] == ["P1"]
    assert "FAIL" in render_html(report)
    assert np.isfinite(report["identities"][0]["residual_reidentification"]["min_distance"])


def test_report_fails_and_counts_a_leak_that_could_not_be_covered(tmp_path: Path) -> None:
    project = make_demo_project()
    plan = render_plan_from_project(project)
    covered = LeakRecord(12, (1.0, 2.0, 30.0, 40.0), "P1", 0.2)
    uncovered = LeakRecord(13, (1.0, 2.0, 30.0, 40.0), "P1", 0.2, covered=False)
    report = build_report(project, plan, _result(tmp_path, [covered, uncovered], 0.9))
    assert report["checks"]["leaks_uncovered"] == 1
    assert report["checks"]["leaks_found_and_covered"] == 1
    assert report["verdict"] == "FAIL"


class _AlwaysThere:
    """A detector that finds the same face whatever was painted over it."""

    name = "always"

    def detect(self, image: np.ndarray) -> list[FaceDetection]:
        five = np.array([[20, 20], [40, 20], [30, 30], [22, 40], [38, 40]], np.float32)
        return [FaceDetection(np.array([10, 10, 50, 50], np.float32), five, 0.99)]


def test_a_face_found_again_after_the_fill_is_recorded_as_uncovered() -> None:
    plan = RenderPlan(people=[], hide_everyone_else=True, leak_check=True)
    checker = LeakChecker(_AlwaysThere(), None, plan)  # type: ignore[arg-type]  # no one to embed
    (leak,) = checker.check(np.full((64, 64, 3), 128, np.uint8), 0, [])
    assert leak.matched_identity is None and not leak.covered
