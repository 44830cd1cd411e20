"""Undoable commands: every redo/undo pair restores the exact previous document."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from anonnet_studio.project.codec import encode_project
from anonnet_studio.project.commands import (
    Command,
    CommandStack,
    MergeIdentities,
    ProjectEditError,
    RenameIdentity,
    SetAttributeOverride,
    SetIdentityField,
    SetPromptOverride,
    SplitTrack,
)
from anonnet_studio.project.events import IdentitiesChanged, IdentityChanged, ProjectEvents
from anonnet_studio.project.schema import SEED_RANGE, Method, Project
from tests.project.factories import make_demo_project

Snapshot = tuple[str, dict[str, tuple[str, tuple[int, ...], bytes]]]


def snapshot(project: Project) -> Snapshot:
    """Every field of the document, as JSON text plus raw array bytes (independent of ==)."""
    data, arrays = encode_project(project)
    return json.dumps(data, sort_keys=True), {
        key: (array.dtype.str, array.shape, array.tobytes()) for key, array in arrays.items()
    }


COMMANDS: dict[str, Callable[[], Command]] = {
    "hide": lambda: SetIdentityField("P2", "hidden", False),
    "method": lambda: SetIdentityField("P1", "method", "pixelate"),
    "name": lambda: SetIdentityField("P1", "name", "  Anchor "),
    "attention": lambda: SetIdentityField("P3", "needs_attention", True),
    "color": lambda: SetIdentityField("P2", "color", "#A0B1C2"),
    "attempt": lambda: SetIdentityField("P1", "selected_attempt", None),
    "seed": lambda: SetIdentityField("P1", "generation.seed", 4242),
    "strength": lambda: SetIdentityField("P1", "generation.strength", 0.8),
    "steps": lambda: SetIdentityField("P3", "generation.steps", 50),
    "guidance": lambda: SetIdentityField("P1", "generation.guidance", 9.5),
    "scales": lambda: SetIdentityField("P1", "generation.control_scales", [1.0, 0.5, 0.2]),
    "max_side": lambda: SetIdentityField("P1", "generation.max_side", 768),
    "mask_mode": lambda: SetIdentityField("P2", "generation.mask_mode", "head"),
    "backend": lambda: SetIdentityField("P2", "generation.backend", "fams"),
    "margin": lambda: SetIdentityField("P2", "generation.mask_margin", 0.3),
    "negative": lambda: SetIdentityField("P1", "generation.negative_prompt", "cartoon"),
    "prompt_field": lambda: SetIdentityField("P1", "generation.prompt_override", "a portrait"),
    "gender": lambda: SetAttributeOverride("P1", "gender", "woman"),
    "expression_reset": lambda: SetAttributeOverride("P2", "expression", None),
    "prompt": lambda: SetPromptOverride("P3", "A photorealistic portrait of a senior man"),
    "rename": lambda: RenameIdentity("P3", "Guest"),
    "merge": lambda: MergeIdentities("P1", "P2"),
    "merge_recurring": lambda: MergeIdentities("P3", "P1"),
    "split": lambda: SplitTrack(4, rng=random.Random(1)),
    "split_first": lambda: SplitTrack(1, rng=random.Random(2)),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_redo_then_undo_restores_the_exact_document(name: str) -> None:
    project = make_demo_project()
    command = COMMANDS[name]()
    before = snapshot(project)
    command.redo(project)
    after = snapshot(project)
    assert after != before, "the command changed nothing"
    assert command.text
    command.undo(project)
    assert snapshot(project) == before
    command.redo(project)  # redo after undo reapplies exactly the same change
    assert snapshot(project) == after
    command.undo(project)
    assert snapshot(project) == before


def test_set_identity_field_applies_coerced_values() -> None:
    project = make_demo_project()
    SetIdentityField("P1", "method", "pixelate").redo(project)
    SetIdentityField("P1", "name", "  Anchor ").redo(project)
    SetIdentityField("P1", "generation.control_scales", [1, 0.5, 0]).redo(project)
    SetIdentityField("P1", "generation.steps", np.int64(50)).redo(project)
    person = project.identity("P1")
    assert person.method is Method.PIXELATE and person.name == "Anchor"
    assert person.generation.control_scales == (1.0, 0.5, 0.0)
    assert type(person.generation.steps) is int and person.generation.steps == 50


def test_backend_choice_is_one_undo_step_and_unknown_backends_are_refused() -> None:
    project = make_demo_project()
    command = SetIdentityField("P1", "generation.backend", "fams")
    command.redo(project)
    assert project.identity("P1").generation.effective_backend == "fams"
    assert command.text == "Generate the face of Person 1 with fams"
    command.undo(project)
    assert project.identity("P1").generation.backend is None
    with pytest.raises(ProjectEditError, match="backend must be one of anonnet, fams"):
        SetIdentityField("P1", "generation.backend", "sd3")


def test_prompt_override_none_resets_to_automatic() -> None:
    project = make_demo_project()
    SetPromptOverride("P1", "custom prompt").redo(project)
    assert project.identity("P1").generation.prompt_override == "custom prompt"
    reset = SetPromptOverride("P1", None)
    reset.redo(project)
    assert project.identity("P1").generation.prompt_override is None
    reset.undo(project)
    assert project.identity("P1").generation.prompt_override == "custom prompt"
    SetPromptOverride("P1", "   ").redo(project)  # a blank text box also means "automatic"
    assert project.identity("P1").generation.prompt_override is None


def test_attribute_override_changes_the_effective_value_only() -> None:
    project = make_demo_project()
    command = SetAttributeOverride("P1", "gender", " man ")
    command.redo(project)
    gender = project.identity("P1").attributes.gender
    assert (gender.detected, gender.override, gender.effective) == ("woman", "man", "man")
    command.undo(project)
    assert (gender.override, gender.effective) == (None, "woman")


def test_merge_moves_tracks_keeps_target_settings_and_undo_restores_the_source() -> None:
    project = make_demo_project()
    target, source = project.identity("P1"), project.identity("P2")
    seed, name = target.generation.seed, target.name
    command = MergeIdentities("P1", "P2")
    command.redo(project)
    assert [i.id for i in project.identities] == ["P1", "P3"]
    assert target.track_ids == [1, 2, 4]  # in timeline order
    assert project.tracks[2].identity_id == "P1"
    assert (target.generation.seed, target.name, target.method) == (seed, name, Method.SYNTHETIC)
    mean = np.mean([project.tracks[t].embedding for t in (1, 2, 4)], axis=0, dtype=np.float64)
    np.testing.assert_allclose(target.embedding, mean / np.linalg.norm(mean), rtol=1e-6)
    assert [i.id for i in project.identities_in_shot(0)] == ["P1"]
    assert "Person 2" in command.text and "Person 1" in command.text
    command.undo(project)
    assert project.identities[1] is source  # the very same object, back in its place
    assert target.track_ids == [1, 4] and project.tracks[2].identity_id == "P2"


def test_split_creates_a_new_identity_with_a_random_seed_and_undo_removes_it() -> None:
    project = make_demo_project()
    expected_seed = random.Random(1).randint(*SEED_RANGE)
    command = SplitTrack(4, rng=random.Random(1))
    command.redo(project)
    assert command.new_identity_id == "P4"
    assert [i.id for i in project.identities] == ["P1", "P4", "P2", "P3"]
    new = project.identity("P4")
    assert new.generation.seed == expected_seed and new.track_ids == [4]
    assert new.hidden and new.needs_attention and new.method is Method.SYNTHETIC
    assert new.name == "Person 4" and new.color != project.identity("P1").color
    assert project.tracks[4].identity_id == "P4"
    assert project.identity("P1").track_ids == [1]
    np.testing.assert_allclose(
        project.identity("P1").embedding, project.tracks[1].embedding, rtol=1e-6
    )
    command.undo(project)
    assert [i.id for i in project.identities] == ["P1", "P2", "P3"]
    command.redo(project)
    assert project.identity("P4").generation.seed == expected_seed  # not re-drawn


def test_ids_of_merged_away_people_are_never_reused() -> None:
    project = make_demo_project()
    merge = MergeIdentities("P1", "P3")
    merge.redo(project)
    split = SplitTrack(4, rng=random.Random(0))
    split.redo(project)
    assert split.new_identity_id == "P4"  # not "P3", whose images and reports may linger
    split.undo(project)
    merge.undo(project)
    assert project.last_identity_number == 0 and project.next_identity_number() == 4


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SetIdentityField("P1", "id", "P7"), "cannot be edited"),
        (lambda: SetIdentityField("P1", "hidden", "no"), "true or false"),
        (lambda: SetIdentityField("P1", "method", "smudge"), "Unknown method 'smudge'"),
        (lambda: SetIdentityField("P1", "name", "   "), "cannot be empty"),
        (lambda: SetIdentityField("P1", "color", "red"), "#4e79a7"),
        (lambda: SetIdentityField("P1", "generation.steps", 0), "between 1 and 150"),
        (lambda: SetIdentityField("P1", "generation.mask_mode", "body"), "face, head"),
        (lambda: SetIdentityField("P1", "selected_attempt", -1), "0 or more"),
        (lambda: SetAttributeOverride("P1", "hair", "red"), "Unknown attribute 'hair'"),
        (lambda: SetPromptOverride("P1", 3), "must be text"),  # type: ignore[arg-type]
        (lambda: RenameIdentity("P1", ""), "cannot be empty"),
        (lambda: MergeIdentities("P1", "P1"), "with themselves"),
    ],
)
def test_invalid_values_are_refused_when_the_command_is_built(
    make: Callable[[], Any], message: str
) -> None:
    with pytest.raises(ProjectEditError, match=message):
        make()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (SetIdentityField("P9", "hidden", False), "no person with id 'P9'"),
        (SetIdentityField("P1", "selected_attempt", 3), "no attempt number 4"),
        (SetAttributeOverride("P9", "gender", "man"), "no person with id 'P9'"),
        (MergeIdentities("P1", "P9"), "no person with id 'P9'"),
        (MergeIdentities("P9", "P1"), "no person with id 'P9'"),
        (SplitTrack(3, rng=random.Random(0)), "only track of Person 3"),
        (SplitTrack(99, rng=random.Random(0)), "no track 99"),
    ],
)
def test_a_failing_redo_changes_nothing(command: Command, message: str) -> None:
    project = make_demo_project()
    before = snapshot(project)
    with pytest.raises(ProjectEditError, match=message):
        command.redo(project)
    assert snapshot(project) == before


def test_commands_publish_events_on_redo_and_undo() -> None:
    project = make_demo_project()
    events = ProjectEvents()
    received: list[object] = []
    events.subscribe(received.append)
    events.subscribe(received.append)  # subscribing twice does not deliver twice

    command = SetIdentityField("P2", "hidden", False, events=events)
    command.redo(project)
    command.undo(project)
    changed = IdentityChanged("P2", frozenset({"hidden"}))
    assert received == [changed, changed]

    received.clear()
    merge = MergeIdentities("P1", "P2", events=events)
    merge.redo(project)
    assert IdentitiesChanged() in received
    assert IdentityChanged("P1", frozenset({"track_ids", "embedding"})) in received

    received.clear()
    SetAttributeOverride("P1", "race", "black", events=events).redo(project)
    assert received == [IdentityChanged("P1", frozenset({"attributes.race.override"}))]

    events.unsubscribe(received.append)
    events.unsubscribe(received.append)  # a second unsubscribe is harmless
    SetIdentityField("P1", "hidden", False, events=events).redo(project)
    assert len(received) == 1


def test_a_listener_may_unsubscribe_while_being_notified() -> None:
    events = ProjectEvents()
    calls: list[str] = []

    def once(event: object) -> None:
        calls.append("once")
        events.unsubscribe(once)

    events.subscribe(once)
    events.subscribe(lambda event: calls.append("always"))
    events.publish(IdentitiesChanged())
    events.publish(IdentitiesChanged())
    assert calls == ["once", "always", "always"]


def test_a_failing_listener_is_logged_and_does_not_break_the_undo_history(
    caplog: pytest.LogCaptureFixture,
) -> None:
    project = make_demo_project()
    events = ProjectEvents()
    received: list[object] = []

    def broken_view(event: object) -> None:
        raise RuntimeError("view bug")

    events.subscribe(broken_view)
    events.subscribe(received.append)
    stack = CommandStack(project)
    with caplog.at_level(logging.ERROR, logger="anonnet_studio.project.events"):
        stack.push(SetIdentityField("P1", "hidden", False, events=events))
    assert "view bug" in caplog.text
    assert len(received) == 1  # later listeners still hear about the change
    assert stack.can_undo()
    stack.undo()
    assert project.identity("P1").hidden


def test_merging_two_people_without_tracks_keeps_the_target_embedding() -> None:
    project = make_demo_project()
    for identity in project.identities[1:]:
        for track_id in identity.track_ids:
            del project.tracks[track_id]
        identity.track_ids = []
    embedding = project.identity("P2").embedding.copy()
    before = snapshot(project)
    merge = MergeIdentities("P2", "P3")
    merge.redo(project)
    np.testing.assert_array_equal(project.identity("P2").embedding, embedding)
    assert [i.id for i in project.identities] == ["P1", "P2"]
    merge.undo(project)
    assert snapshot(project) == before
