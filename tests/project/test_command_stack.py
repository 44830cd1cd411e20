"""CommandStack: undo/redo bookkeeping, clean state, slider-drag merging, limits."""

from __future__ import annotations

import random

import pytest

from anonnet_studio.project.commands import (
    CommandStack,
    MergeIdentities,
    ProjectEditError,
    SetIdentityField,
    SplitTrack,
)
from tests.project.factories import make_demo_project
from tests.project.test_commands import snapshot


def test_push_undo_redo_through_a_mixed_history() -> None:
    project = make_demo_project()
    stack = CommandStack(project)
    assert not stack.can_undo() and not stack.can_redo() and stack.is_clean()
    states = [snapshot(project)]
    for command in (
        SetIdentityField("P2", "hidden", False),
        MergeIdentities("P1", "P3"),
        SplitTrack(4, rng=random.Random(3)),
        SetIdentityField("P4", "generation.seed", 1111),
    ):
        stack.push(command)
        states.append(snapshot(project))
    assert len(stack) == 4 and stack.index == 4
    assert stack.undo_text() == "Change seed of Person 4" and stack.redo_text() is None
    for expected in reversed(states[:-1]):
        stack.undo()
        assert snapshot(project) == expected
    assert not stack.can_undo() and stack.redo_text() == "Show Person 2"
    for expected in states[1:]:
        stack.redo()
        assert snapshot(project) == expected
    with pytest.raises(ProjectEditError, match="nothing to redo"):
        stack.redo()


def test_nothing_to_undo_is_a_readable_error() -> None:
    with pytest.raises(ProjectEditError, match="nothing to undo"):
        CommandStack(make_demo_project()).undo()


def test_pushing_after_undo_discards_the_redo_branch() -> None:
    stack = CommandStack(make_demo_project())
    stack.push(SetIdentityField("P1", "name", "A"))
    stack.push(SetIdentityField("P1", "name", "B"))
    stack.undo()
    stack.push(SetIdentityField("P1", "name", "C"))
    assert len(stack) == 2 and not stack.can_redo()
    assert stack.project.identity("P1").name == "C"


def test_clean_state_follows_the_saved_position() -> None:
    stack = CommandStack(make_demo_project())
    stack.push(SetIdentityField("P1", "hidden", False))
    assert not stack.is_clean()
    stack.set_clean()  # saved here
    stack.push(SetIdentityField("P2", "hidden", False))
    assert not stack.is_clean()
    stack.undo()
    assert stack.is_clean()
    stack.undo()
    assert not stack.is_clean()
    stack.push(SetIdentityField("P3", "hidden", False))  # discards the saved branch
    assert not stack.is_clean()
    stack.undo()
    assert not stack.is_clean()  # back at the start, which was never saved


def test_slider_drags_merge_into_one_undo_step() -> None:
    project = make_demo_project()
    stack = CommandStack(project)
    for value in (0.9, 0.8, 0.65):
        stack.push(SetIdentityField("P1", "generation.strength", value))
    assert len(stack) == 1
    assert project.identity("P1").generation.strength == 0.65
    stack.undo()
    assert project.identity("P1").generation.strength == 1.0
    stack.redo()
    assert project.identity("P1").generation.strength == 0.65


def test_merging_stops_at_other_fields_other_people_toggles_and_the_save_point() -> None:
    project = make_demo_project()
    stack = CommandStack(project)
    stack.push(SetIdentityField("P1", "generation.guidance", 9.0))
    stack.push(SetIdentityField("P2", "generation.guidance", 9.0))  # another person
    stack.push(SetIdentityField("P2", "generation.steps", 40))  # another field
    stack.push(SetIdentityField("P2", "hidden", False))
    stack.push(SetIdentityField("P2", "hidden", True))  # toggles are never merged
    assert len(stack) == 5
    stack.push(SetIdentityField("P2", "generation.mask_margin", 0.2))
    stack.set_clean()
    stack.push(SetIdentityField("P2", "generation.mask_margin", 0.25))
    assert len(stack) == 7  # merging would make the saved state unreachable by undo
    stack.undo()
    assert stack.is_clean() and project.identity("P2").generation.mask_margin == 0.2


def test_a_failing_push_leaves_stack_and_project_unchanged() -> None:
    project = make_demo_project()
    stack = CommandStack(project)
    stack.push(SetIdentityField("P1", "name", "A"))
    before = snapshot(project)
    with pytest.raises(ProjectEditError):
        stack.push(SetIdentityField("P9", "name", "B"))
    assert len(stack) == 1 and stack.undo_text() == "Change name of Person 1"
    assert snapshot(project) == before


def test_limit_drops_the_oldest_commands() -> None:
    project = make_demo_project()
    stack = CommandStack(project, limit=2)
    stack.set_clean()
    for name in ("A", "B", "C"):
        stack.push(SetIdentityField("P1", "name", name))
    assert len(stack) == 2
    stack.undo()
    stack.undo()
    assert project.identity("P1").name == "A" and not stack.can_undo()
    assert not stack.is_clean()  # the clean state fell off the bottom
    with pytest.raises(ValueError):
        CommandStack(project, limit=0)
