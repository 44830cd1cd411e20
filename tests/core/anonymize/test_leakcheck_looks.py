"""The leak check is not blind where the analysis detector is: a second look (another
detector) finds and covers what the first misses, the check counts as seeing when any of
its looks sees, and the report says which detector covered what without failing the
export for faces that were covered before encoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from anonnet_studio.core.anonymize.leakcheck import LeakChecker, primary_look
from anonnet_studio.core.anonymize.looks import Look, resized, run_look, tiles
from anonnet_studio.core.anonymize.plan import regions_at
from anonnet_studio.core.anonymize.renderer import RenderResult
from anonnet_studio.core.anonymize.sight import CheckerSight
from anonnet_studio.project.audit import build_report
from anonnet_studio.project.render_plan import render_plan_from_project
from tests.core.anonymize.doubles import (
    GRADIENT_BOX,
    KEPT_BOX,
    NOISE_BOX,
    SIZE,
    BlindDetector,
    ContrastDetector,
    UnusedEmbedder,
    kept_plan,
    three_faces,
)
from tests.project.factories import make_demo_project

ALL = [KEPT_BOX, NOISE_BOX, GRADIENT_BOX]


def _second() -> Look:
    return Look("second-double", ContrastDetector(ALL, name="second-double"), 0)


def test_faces_the_first_detector_misses_are_covered_by_the_second_look() -> None:
    plan = kept_plan()
    checker = LeakChecker(BlindDetector(), UnusedEmbedder(), plan, [_second()])
    frame = three_faces()

    leaks = checker.check(frame, 0, regions_at(plan, 0))

    # The two strangers (outside the kept region) are leaks whatever their identity; the
    # kept person is not.
    assert sorted(leak.box[0] for leak in leaks) == [NOISE_BOX[0], GRADIENT_BOX[0]]
    assert {leak.detector for leak in leaks} == {"second-double"}
    assert all(leak.covered for leak in leaks)
    assert [d.box[0] for d in ContrastDetector(ALL).detect(frame)] == [KEPT_BOX[0]]


def test_without_the_second_look_the_blind_check_finds_nothing() -> None:
    """The counterpart: the first look alone misses everything (what the old check did)."""
    plan = kept_plan()
    frame = three_faces()
    assert LeakChecker(BlindDetector(), UnusedEmbedder(), plan).check(frame, 0, []) == []
    assert np.array_equal(frame, three_faces())


def test_the_check_sees_when_any_of_its_looks_sees() -> None:
    plan = kept_plan()
    regions = regions_at(plan, 0)
    blind_only = CheckerSight([primary_look(BlindDetector(), plan)], plan)
    both = CheckerSight([primary_look(BlindDetector(), plan), _second()], plan)
    for sight in (blind_only, both):
        sight.probe(three_faces(), 0, regions)
    assert blind_only.stats().blind
    assert not both.stats().blind
    assert both.stats().seen_by == {"second-double": 1}


def test_faces_covered_by_the_second_look_pass_the_audit_and_are_counted(
    tmp_path: Path,
) -> None:
    """What was found and covered is not in the exported file: the verdict is PASS, and
    the report says how many faces each detector had to cover."""
    plan = kept_plan()
    checker = LeakChecker(BlindDetector(), UnusedEmbedder(), plan, [_second()])
    leaks = checker.check(three_faces(), 0, regions_at(plan, 0))
    sight = CheckerSight(checker.looks, plan)
    sight.probe(three_faces(), 0, regions_at(plan, 0))
    result = RenderResult(
        dest=tmp_path / "out.mp4",
        frames_written=1,
        leaks=leaks,
        residual={},
        checker_sight=sight.stats(),
        leak_check_looks=[look.label for look in checker.looks],
    )
    project = make_demo_project()
    report = build_report(project, render_plan_from_project(project), result)
    assert report["verdict"] == "PASS"
    assert report["checks"]["leak_check_saw_the_tracked_faces"] is True
    assert report["checks"]["leaks_covered_by_detector"] == {"second-double": 2}
    assert report["checks"]["leak_check_detectors"] == ["blind-double", "second-double"]


def test_small_frames_are_enlarged_and_tiles_cover_every_pixel() -> None:
    frame = np.zeros((360, 640, 3), np.uint8)
    enlarged, scale = resized(frame, 1920, max_upscale=2.0)
    assert enlarged.shape[:2] == (720, 1280) and scale == 0.5
    seen = np.zeros((720, 1280), bool)
    for top, left, crop in tiles(enlarged, 400):
        assert crop.shape[:2] == (400, 400)
        seen[top : top + 400, left : left + 400] = True
    assert seen.all()


def test_a_tiled_look_reports_faces_in_full_frame_pixels() -> None:
    """The double sees a face at the top-left corner of the image it is given; the one
    tile that starts on the face (top 150, left 225) reports it in frame pixels."""
    look = Look("tiled", ContrastDetector([(0, 0)]), 0, tile=100)
    frame = np.zeros((300, 400, 3), np.uint8)
    x, y = GRADIENT_BOX
    frame[150 : 150 + SIZE, 225 : 225 + SIZE] = three_faces()[y : y + SIZE, x : x + SIZE]
    seen = run_look(look, frame)
    boxes = [[float(v) for v in d.box * seen.scale] for d in seen.detections]
    assert [225.0, 150.0, 225.0 + SIZE, 150.0 + SIZE] in boxes
