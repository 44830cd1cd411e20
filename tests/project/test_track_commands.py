"""Hand corrections of face tracks as undoable commands on a project."""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest

from anonnet_studio.core.correction.geometry import BoxError
from anonnet_studio.project.commands import (
    AddManualTrack,
    ApplyPropagation,
    AssignTrack,
    CommandStack,
    DeleteTrack,
    DeleteTrackFrames,
    ProjectEditError,
    SetTrackBox,
    SetTrackKept,
    TrimTrack,
)
from anonnet_studio.project.events import (
    IdentitiesChanged,
    ProjectEvents,
    TracksChanged,
)
from anonnet_studio.project.render_plan import render_plan_from_project
from anonnet_studio.project.validation import project_problems
from tests.project.factories import make_demo_project


@pytest.fixture
def stack() -> CommandStack:
    return CommandStack(make_demo_project())


def _round_trip(stack: CommandStack, command) -> None:
    """Apply, undo and redo `command`, checking the project matches exactly each time."""
    before = copy.deepcopy(stack.project)
    stack.push(command)
    after = copy.deepcopy(stack.project)
    assert after != before
    assert project_problems(stack.project) == []
    stack.undo()
    assert stack.project == before
    stack.redo()
    assert stack.project == after


def test_a_missed_face_becomes_a_one_frame_manual_track_of_a_new_hidden_person(stack):
    events = ProjectEvents()
    seen = []
    events.subscribe(seen.append)
    command = AddManualTrack(320, (100, 120, 180, 220), rng=random.Random(1), events=events)
    _round_trip(stack, command)
    project = stack.project
    track = project.tracks[command.track_id]
    assert command.track_id == 5 and track.manual and track.shot_index == 1
    assert track.frames.tolist() == [320] and track.corrected_frames == [320]
    assert track.boxes[0].tolist() == [100, 120, 180, 220]
    person = project.identity(command.new_identity_id)
    assert person.id == "P4" and person.hidden and person.track_ids == [5]
    assert not np.any(person.embedding), "no embedding until propagation has seen the face"
    assert TracksChanged(frozenset({5})) in seen and IdentitiesChanged() in seen
    plan = render_plan_from_project(project)
    planned = {p.identity_id: p for p in plan.people}
    assert planned["P4"].method.hides and len(planned["P4"].tracks) == 1


def test_a_manual_face_can_go_to_an_existing_person_and_bad_boxes_are_refused(stack):
    command = AddManualTrack(10, (1200, 600, 1400, 900), rng=random.Random(1), identity_id="P2")
    stack.push(command)
    track = stack.project.tracks[command.track_id]
    assert track.boxes[0].tolist() == [1200, 600, 1280, 720], "clipped to the 1280x720 frame"
    assert stack.project.identity("P2").track_ids[-1] == track.id
    before = copy.deepcopy(stack.project)
    with pytest.raises(BoxError, match="too small"):
        stack.push(AddManualTrack(10, (50, 50, 50, 90), rng=random.Random(1)))
    with pytest.raises(BoxError, match="outside"):
        stack.push(AddManualTrack(10, (2000, 50, 2100, 90), rng=random.Random(1)))
    assert stack.project == before and len(stack) == 1


def test_propagated_rows_replace_the_seed_span_but_never_hand_corrected_rows(stack):
    add = AddManualTrack(400, (100, 100, 200, 220), rng=random.Random(1))
    stack.push(add)
    frames = np.arange(380, 431, dtype=np.int32)
    boxes = np.tile(np.array([110, 105, 210, 225], np.float32), (len(frames), 1))
    landmarks = np.zeros((len(frames), 5, 2), np.float32) + 150
    scores = np.full(len(frames), 0.9, np.float32)
    embedding = np.ones(128, np.float32) / np.sqrt(128)
    _round_trip(stack, ApplyPropagation(add.track_id, frames, boxes, landmarks, scores, embedding))
    track = stack.project.tracks[add.track_id]
    assert track.frames.tolist() == list(range(380, 431))
    assert track.boxes[20].tolist() == [100, 100, 200, 220], "the drawn seed box is kept"
    assert track.boxes[0].tolist() == [110, 105, 210, 225]
    np.testing.assert_allclose(stack.project.identity("P4").embedding, embedding, atol=1e-6)
    outside = np.arange(290, 310, dtype=np.int32)  # shot 0 ends at 300
    with pytest.raises(ProjectEditError, match="outside the face's shot"):
        stack.push(
            ApplyPropagation(
                add.track_id, outside, boxes[:20], landmarks[:20], scores[:20], embedding
            )
        )


def test_a_corrected_box_becomes_a_keyframe_and_the_frames_between_follow(stack):
    track = stack.project.tracks[3]  # P3, frames 310..539
    old = track.boxes.copy()
    new_box = old[100] + np.array([30, 0, 30, 0], np.float32)
    _round_trip(stack, SetTrackBox(3, 410, new_box))
    fixed = stack.project.tracks[3]
    assert fixed.corrected_frames == [410]
    assert fixed.boxes[100].tolist() == pytest.approx(new_box.tolist())
    shift = fixed.boxes[:, 0] - old[:, 0]
    assert 14 < shift[50] < 16 and 0 < shift[0] < 1 and 0 < shift[-1] < 1
    np.testing.assert_allclose(
        fixed.landmarks5[50] - track.landmarks5[50], [[shift[50], 0]] * 5, atol=1e-3
    )
    assert fixed.keyframe is not None and not np.allclose(
        fixed.keyframe.landmarks68, track.keyframe.landmarks68
    ), "the frontal keyframe's 68 landmarks move with their box"
    # A second keyframe: the first one stays exactly where the user put it.
    stack.push(SetTrackBox(3, 500, old[190] - 10))
    again = stack.project.tracks[3]
    assert again.corrected_frames == [410, 500]
    assert again.boxes[100].tolist() == pytest.approx(new_box.tolist())
    np.testing.assert_array_equal(again.boxes[:101], fixed.boxes[:101])


def test_box_corrections_outside_the_track_or_empty_are_refused(stack):
    with pytest.raises(ProjectEditError, match="outside it"):
        stack.push(SetTrackBox(3, 100, (0, 0, 50, 50)))
    with pytest.raises(BoxError):
        stack.push(SetTrackBox(3, 400, (10, 10, 10, 10)))
    assert len(stack) == 0


def test_trimming_keeps_only_the_chosen_frames(stack):
    _round_trip(stack, TrimTrack(3, 350, 400))
    track = stack.project.tracks[3]
    assert (track.start_frame, track.end_frame) == (350, 400)
    assert track.keyframe is None, "the frontal keyframe (frame 425) was trimmed away"
    assert track.landmarks68_frames is None
    with pytest.raises(ProjectEditError, match="delete the face instead"):
        stack.push(TrimTrack(3, 600, 700))


def test_deleting_frames_from_the_middle_splits_the_track(stack):
    command = DeleteTrackFrames(3, 400, 449)
    _round_trip(stack, command)
    project = stack.project
    first, second = project.tracks[3], project.tracks[command.split_track_id]
    assert (first.start_frame, first.end_frame) == (310, 400)
    assert (second.start_frame, second.end_frame) == (450, 540)
    assert project.identity("P3").track_ids == [3, command.split_track_id]
    assert not any(regions for regions in _frames_redacted(project, range(400, 450 - 3)))
    stack.push(DeleteTrackFrames(3, 390, 399))  # at an end: a trim, no new track
    assert project.tracks[3].end_frame == 390 and len(project.tracks) == 5
    with pytest.raises(ProjectEditError, match="every frame"):
        stack.push(DeleteTrackFrames(3, 0, 10_000))


def _frames_redacted(project, frames):
    from anonnet_studio.core.anonymize.plan import regions_at

    plan = render_plan_from_project(project)
    # Padding covers 3 frames next to each part; beyond it nothing is redacted.
    return [[r for r in regions_at(plan, f) if r.identity_id == "P3"] for f in frames[3:]]


def test_deleting_a_false_face_removes_it_and_a_person_left_without_faces(stack):
    project = stack.project
    _round_trip(stack, DeleteTrack(2))
    assert 2 not in project.tracks and not project.has_identity("P2")
    (removed,) = project.removed_faces
    assert (removed.track_id, removed.identity_id, removed.first_frame) == (2, "P2", 40)
    stack.undo()
    assert project.identity_index("P2") == 1, "undo puts the person back in place"
    stack.redo()
    new = AddManualTrack(100, (10, 10, 90, 90), rng=random.Random(2))
    stack.push(new)
    assert new.track_id == 5 and new.new_identity_id == "P4", "no id of a deleted face reused"
    stack.push(DeleteTrack(1))  # P1 keeps its other track
    assert project.identity("P1").track_ids == [4]


def test_a_kept_face_is_left_visible_while_its_person_stays_hidden(stack):
    _round_trip(stack, SetTrackKept(2, True))
    plan = render_plan_from_project(stack.project)
    planned = {p.identity_id: p for p in plan.people}
    assert planned["P2"].method.hides and planned["P2"].tracks == []
    assert not planned["P2/kept"].method.hides and len(planned["P2/kept"].tracks) == 1
    with pytest.raises(ProjectEditError):
        SetTrackKept(2, "yes")  # type: ignore[arg-type]


def test_a_track_moves_to_another_person_or_to_a_new_one(stack):
    project = stack.project
    command = AssignTrack(2, "P3", rng=random.Random(4))
    _round_trip(stack, command)
    assert project.tracks[2].identity_id == "P3" and not project.has_identity("P2")
    assert project.identity("P3").track_ids == [2, 3]
    stack.undo()
    split = AssignTrack(4, None, rng=random.Random(4))
    _round_trip(stack, split)
    assert project.tracks[4].identity_id == split.target_id == "P4"
    assert project.identity("P1").track_ids == [1]
    with pytest.raises(ProjectEditError, match="already belongs"):
        stack.push(AssignTrack(1, "P1", rng=random.Random(4)))
