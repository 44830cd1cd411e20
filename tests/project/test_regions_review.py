"""Regions that are not faces, and the review queue (contents, order, reviewed marks)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from anonnet_studio.core.anonymize.areas import areas_at
from anonnet_studio.core.anonymize.plan import RedactionMethod
from anonnet_studio.project.commands import (
    AddRegion,
    ApplyRegionTracking,
    CommandStack,
    ProjectEditError,
    RemoveRegion,
    SetRegionBox,
    SetRegionField,
    SetRegionRange,
    SetReviewed,
)
from anonnet_studio.project.render_plan import render_plan_from_project
from anonnet_studio.project.review import ReviewKind, review_counts, review_queue
from tests.project.factories import make_demo_project


@pytest.fixture
def stack() -> CommandStack:
    return CommandStack(make_demo_project())


def _undoable(stack: CommandStack, command) -> None:
    before = copy.deepcopy(stack.project)
    stack.push(command)
    after = copy.deepcopy(stack.project)
    assert after != before
    stack.undo()
    assert stack.project == before
    stack.redo()
    assert stack.project == after


def test_a_static_name_tag_region_is_redacted_over_its_range_only(stack):
    command = AddRegion((900, 600, 1300, 680), 100, 250, name="Name tag", method="pixelate")
    _undoable(stack, command)
    (region,) = stack.project.regions
    assert region.id == command.region_id == 1
    assert region.boxes.tolist() == [[900, 600, 1280, 680]], "clipped to the frame"
    plan = render_plan_from_project(stack.project)
    (area,) = plan.areas
    assert area.method is RedactionMethod.PIXELATE and area.shape == "rectangle"
    assert areas_at(plan, 99) == [] and areas_at(plan, 250) == []
    assert [a.name for a, _ in areas_at(plan, 100)] == ["Name tag"]
    assert areas_at(plan, 249)[0][1].tolist() == [900, 600, 1280, 680]


def test_region_fields_range_and_removal_are_undoable_and_checked(stack):
    stack.push(AddRegion((10, 10, 200, 60), 0, 50))
    _undoable(stack, SetRegionField(1, "method", "fill"))
    _undoable(stack, SetRegionField(1, "shape", "ellipse"))
    _undoable(stack, SetRegionField(1, "name", "  Caption "))
    region = stack.project.regions[0]
    assert (region.method.value, region.shape.value, region.name) == ("fill", "ellipse", "Caption")
    assert render_plan_from_project(stack.project).areas[0].method is RedactionMethod.MASK
    _undoable(stack, SetRegionRange(1, 20, 900))
    assert (stack.project.regions[0].start_frame, stack.project.regions[0].end_frame) == (20, 900)
    with pytest.raises(ProjectEditError, match="900 frames"):
        stack.push(SetRegionRange(1, 20, 901))
    with pytest.raises(ProjectEditError, match="at least one frame"):
        stack.push(SetRegionRange(1, 30, 30))
    with pytest.raises(ProjectEditError, match="Unknown method"):
        SetRegionField(1, "method", "synthetic")
    with pytest.raises(ProjectEditError, match="cannot be empty"):
        SetRegionField(1, "name", "  ")
    _undoable(stack, RemoveRegion(1))
    assert stack.project.regions == []
    with pytest.raises(ProjectEditError, match="no region 1"):
        stack.push(RemoveRegion(1))


def test_a_tracked_region_gets_keyframes_like_a_face(stack):
    stack.push(AddRegion((100, 100, 300, 150), 0, 100, name="Screen"))
    _undoable(stack, SetRegionBox(1, 40, (110, 100, 310, 150)))  # static: moves as a whole
    assert stack.project.regions[0].box_at(99).tolist() == [110, 100, 310, 150]
    frames = np.arange(10, 61, dtype=np.int32)
    boxes = np.stack([100 + frames, np.full(51, 100), 300 + frames, np.full(51, 150)], 1)
    _undoable(stack, ApplyRegionTracking(1, frames, boxes))
    region = stack.project.regions[0]
    assert region.tracked and region.box_at(30).tolist() == [130, 100, 330, 150]
    assert region.box_at(5).tolist() == [110, 100, 310, 150], "untracked frames keep their box"
    _undoable(stack, SetRegionBox(1, 30, (130, 80, 330, 130)))
    region = stack.project.regions[0]
    assert region.corrected_frames == [30] and region.box_at(30).tolist() == [130, 80, 330, 130]
    # The change fades out towards the region's first and last rows (no other keyframes).
    assert 95 < region.box_at(5)[1] < 97 and region.box_at(5)[0] == 110
    assert 80 < region.box_at(45)[1] < 100 and region.box_at(99)[1] > 99


def test_the_review_queue_lists_the_known_gaps_riskiest_first(stack):
    project = stack.project
    project.leak_frames = [17, 18, 600]
    queue = review_queue(project)
    assert [i.risk for i in queue] == sorted((i.risk for i in queue), reverse=True)
    top = queue[:2]
    assert [(i.kind, i.frame, i.last_frame) for i in top] == [
        (ReviewKind.LEAK, 17, 18),
        (ReviewKind.LEAK, 600, 600),
    ]
    # make_demo_project bridges a 4-frame detector miss a third into every track.
    gaps = [i for i in queue if i.kind is ReviewKind.GAP]
    track = project.tracks[3]
    expected = int(track.frames[len(track) // 3])
    assert (expected, expected + 3) in {(g.frame, g.last_frame) for g in gaps}
    assert {g.track_id for g in gaps} == {1, 2, 3, 4}
    assert all(g.identity_id == project.tracks[g.track_id].identity_id for g in gaps)
    # A hole between two tracks of one person in one shot outranks every gap of 4 frames.
    from anonnet_studio.project.commands import DeleteTrackFrames

    stack.push(DeleteTrackFrames(3, 400, 449))
    queue = review_queue(project)
    missing = [i for i in queue if i.kind is ReviewKind.MISSING]
    assert [(i.frame, i.last_frame) for i in missing] == [(400, 449)]
    assert queue.index(missing[0]) == 2, "right after the two leaks"
    ends = {(i.kind, i.frame) for i in queue if i.track_id == 3}
    assert (ReviewKind.TRACK_END, 399) in ends and (ReviewKind.TRACK_START, 310) in ends


def test_frames_between_detector_passes_are_not_misses(stack):
    # The analysis detects on every 2nd frame and interpolates the others: listing each
    # of those made 1000 "gap" items on a 60-s montage, burying the real ones.
    project = stack.project
    project.analysis["settings"] = {"detection_stride": 2}
    track = project.tracks[3]
    first = int(track.frames[0])
    track.interpolated[:] = track.frames % 2 == 1  # every odd frame guessed, by design
    real = slice(41, 46)  # a detector pass found nothing on frames 42 and 44
    track.interpolated[real] = True
    gaps = [i for i in review_queue(project) if i.kind is ReviewKind.GAP and i.track_id == 3]
    assert [(g.frame, g.last_frame) for g in gaps] == [(first + 41, first + 45)]
    # Without the stride (an older project), every guessed frame counts, as before.
    del project.analysis["settings"]
    gaps = [i for i in review_queue(project) if i.kind is ReviewKind.GAP and i.track_id == 3]
    assert len(gaps) > 10
    # A hand-made track was followed on every frame: a guessed box there is a miss.
    project.analysis["settings"] = {"detection_stride": 2}
    track.manual = True
    gaps = [i for i in review_queue(project) if i.kind is ReviewKind.GAP and i.track_id == 3]
    assert len(gaps) > 10


def test_kept_people_rank_lower_and_reviewed_marks_are_counted(stack):
    project = stack.project
    risk_before = {i.key: i.risk for i in review_queue(project)}
    project.identity("P2").hidden = False
    after = {i.key: i for i in review_queue(project)}
    p2 = [k for k, i in after.items() if i.identity_id == "P2"]
    assert p2 and all(after[k].risk < risk_before[k] for k in p2)
    counts = review_counts(project)
    assert counts["reviewed"] == 0 and counts["unreviewed"] == counts["items"] > 0
    first_two = [i.key for i in review_queue(project)[:2]]
    _undoable(stack, SetReviewed(first_two, True))
    assert review_counts(project)["reviewed"] == 2
    stack.push(SetReviewed(first_two[:1], False))
    assert project.reviewed == first_two[1:]
    with pytest.raises(ProjectEditError):
        SetReviewed([], True)
