"""Undoable edits of the voice settings: disguise, mute and bleep ranges."""

from __future__ import annotations

import dataclasses

import pytest

from anonnet_studio.core.voice.settings import MuteKind, MuteRange, VoiceMethod, VoiceSettings
from anonnet_studio.project.commands import (
    AddMuteRange,
    CommandStack,
    ProjectEditError,
    RemoveMuteRange,
    SetVoiceDisguise,
)
from anonnet_studio.project.events import ProjectEvents, VoiceChanged
from anonnet_studio.project.schema import Project
from tests.project.factories import make_demo_project

DURATION = 900 / (30000 / 1001)  # the demo source: 900 frames at 29.97 fps (30.03 s)


def _stack() -> CommandStack:
    return CommandStack(make_demo_project())


def _without_audio() -> Project:
    project = make_demo_project()
    info = {**project.source.media_info, "audio": []}
    project.source = dataclasses.replace(project.source, media_info=info)
    return project


def test_ranges_are_added_sorted_removed_and_undone_exactly() -> None:
    stack = _stack()
    events = ProjectEvents()
    seen: list[object] = []
    events.subscribe(seen.append)
    stack.push(AddMuteRange(5.0, 6.0, events=events))
    stack.push(AddMuteRange(1.0, 1.5, "bleep", events=events))
    voice = stack.project.voice
    assert voice.mute_ranges == (MuteRange(1.0, 1.5, MuteKind.BLEEP), MuteRange(5.0, 6.0))
    stack.push(RemoveMuteRange(MuteRange(5.0, 6.0), events=events))
    assert stack.project.voice.mute_ranges == (MuteRange(1.0, 1.5, MuteKind.BLEEP),)
    stack.undo()
    assert stack.project.voice == voice
    stack.undo()
    stack.undo()
    assert stack.project.voice == VoiceSettings()
    stack.redo()
    assert stack.project.voice.mute_ranges == (MuteRange(5.0, 6.0),)
    assert seen and all(isinstance(e, VoiceChanged) for e in seen)


def test_a_range_past_the_end_is_cut_and_one_after_it_is_refused() -> None:
    stack = _stack()
    stack.push(AddMuteRange(29.0, 45.0))
    (item,) = stack.project.voice.mute_ranges
    assert item.start_s == 29.0 and item.end_s == pytest.approx(DURATION)
    with pytest.raises(ProjectEditError, match="starts after the end of the clip"):
        stack.push(AddMuteRange(31.0, 32.0))
    with pytest.raises(ProjectEditError, match="end after it starts"):
        AddMuteRange(3.0, 2.0)
    assert len(stack.project.voice.mute_ranges) == 1 and len(stack) == 1


def test_disguise_changes_merge_and_keep_the_ranges() -> None:
    stack = _stack()
    stack.push(AddMuteRange(1.0, 2.0))
    stack.push(SetVoiceDisguise("mcadams", 0.75))
    stack.push(SetVoiceDisguise("mcadams", 0.6))
    stack.push(SetVoiceDisguise("mcadams", 0.9))
    assert len(stack) == 3, "the method is one undo step, a strength drag another"
    assert stack.project.voice == VoiceSettings(VoiceMethod.MCADAMS, 0.9, (MuteRange(1, 2),))
    stack.undo()
    assert stack.project.voice == VoiceSettings(VoiceMethod.MCADAMS, 0.75, (MuteRange(1, 2),))
    stack.undo()
    assert stack.project.voice == VoiceSettings(mute_ranges=(MuteRange(1, 2),))
    with pytest.raises(ProjectEditError, match="strength must be within"):
        SetVoiceDisguise("pitch", 3.0)
    with pytest.raises(ProjectEditError, match="Unknown voice method"):
        SetVoiceDisguise("robot", 0.5)


def test_a_video_without_audio_refuses_a_disguise_and_mute_ranges() -> None:
    stack = CommandStack(_without_audio())
    with pytest.raises(ProjectEditError, match="no audio stream"):
        stack.push(SetVoiceDisguise("mcadams", 0.75))
    with pytest.raises(ProjectEditError, match="no audio stream"):
        stack.push(AddMuteRange(1.0, 2.0))
    stack.push(SetVoiceDisguise("off", 0.75))  # turning it off is always allowed
    assert stack.project.voice == VoiceSettings()
