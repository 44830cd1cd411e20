"""The timeline's audio lane: select a range by dragging, mute or bleep it from the menu,
undo and redo, save and reopen; bad ranges are clamped or refused."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QPoint, Qt

from anonnet_studio.core.voice.settings import MuteKind, MuteRange
from anonnet_studio.project.io import load_project
from anonnet_studio.ui.timeline.audio_lane import AudioLaneItem, MuteRangeItem
from anonnet_studio.ui.timeline.panel import TimelinePanel

FPS = 30000 / 1001  # the demo project's source


def _panel(qtbot, document, state) -> TimelinePanel:
    panel = TimelinePanel(document, state)
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _lane_point(panel: TimelinePanel, frame: int) -> QPoint:
    lane = next(lane for lane in panel.view.timeline.lanes if lane.kind == "audio")
    return panel.view.mapFromScene(frame + 0.5, lane.top + lane.height / 2)


def _drag(qtbot, panel: TimelinePanel, first: int, last: int) -> None:
    viewport = panel.view.viewport()
    start, end = _lane_point(panel, first), _lane_point(panel, last)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, pos=(start + end) / 2)
    qtbot.mouseMove(viewport, pos=end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)


def _action(panel: TimelinePanel, name: str, kind: str = "audio", index: int = 0):
    menu = panel.view.audio_menu(kind, index)
    return next(a for a in menu.actions() if a.objectName() == name)


def _ranges(panel: TimelinePanel) -> list[MuteRange]:
    items = [i for i in panel.view.timeline.items() if isinstance(i, MuteRangeItem)]
    return sorted((i.range for i in items), key=lambda r: r.start_s)


def test_drag_then_mute_selection_is_drawn_undoable_and_saved(qtbot, document, state, tmp_path):
    panel = _panel(qtbot, document, state)
    assert [i for i in panel.view.timeline.items() if isinstance(i, AudioLaneItem)]
    assert not _action(panel, "mute-selection").isEnabled()  # nothing selected yet
    _drag(qtbot, panel, 320, 379)
    first, end = panel.view.timeline.audio.selection
    assert abs(first - 320) <= 2 and abs(end - 379) <= 2  # a pixel is about a frame here
    _action(panel, "mute-selection").trigger()
    (muted,) = document.project.voice.mute_ranges
    assert muted.kind is MuteKind.MUTE
    assert muted.start_s == pytest.approx(first / FPS) and muted.end_s == pytest.approx(end / FPS)
    assert _ranges(panel) == [muted] and panel.view.timeline.audio.selection is None

    panel.view.timeline.audio.set_selection(30, 60)
    _action(panel, "bleep-selection").trigger()
    bleep = MuteRange(30 / FPS, 60 / FPS, MuteKind.BLEEP)
    assert _ranges(panel) == [bleep, muted]

    stack = document.undo_stack
    stack.undo()
    assert _ranges(panel) == [muted] and document.project.voice.mute_ranges == (muted,)
    stack.undo()
    assert _ranges(panel) == [] and document.project.voice.mute_ranges == ()
    stack.redo()
    stack.redo()
    assert _ranges(panel) == [bleep, muted]

    path = tmp_path / "voice.anonproj"
    document.save(path)
    reopened = load_project(path)
    assert reopened.voice.mute_ranges == (bleep, muted)
    document.set_project(reopened, path)
    assert _ranges(panel) == [bleep, muted]

    _action(panel, "remove-mute", "mute", 0).trigger()
    assert _ranges(panel) == [muted]
    document.undo_stack.undo()
    assert _ranges(panel) == [bleep, muted]


def test_a_click_on_the_audio_lane_seeks_and_clears_the_selection(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    panel.view.timeline.audio.set_selection(10, 20)
    point = _lane_point(panel, 450)
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert abs(state.frame - 450) <= 2 and panel.view.timeline.audio.selection is None


def test_a_range_past_the_end_is_clamped_and_a_video_without_audio_refuses(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    rejected: list[str] = []
    document.edit_rejected.connect(rejected.append)
    panel.view.timeline.audio.set_selection(880, 2000)  # beyond the 900 frames
    _action(panel, "mute-selection").trigger()
    (item,) = document.project.voice.mute_ranges
    assert item.end_s == pytest.approx(900 / FPS)

    project = document.project
    info = {**project.source.media_info, "audio": []}
    project.source = dataclasses.replace(project.source, media_info=info)
    panel.rebuild()
    panel.view.timeline.audio.set_selection(10, 20)
    assert not _action(panel, "mute-selection").isEnabled()
    lane = next(i for i in panel.view.timeline.items() if isinstance(i, AudioLaneItem))
    assert "no audio" in lane.toolTip()
    # Even if pushed directly, the command refuses with a clear reason.
    from anonnet_studio.project.commands import AddMuteRange

    assert not document.push_built(lambda: AddMuteRange(1.0, 2.0, events=document.events))
    assert rejected and "no audio stream" in rejected[-1]
