"""Timeline: items mirror the document, selection speaks in domain ids, zoom is x-only."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from anonnet_studio.ui.timeline.items import LeakMarkerItem, ShotItem, SpanItem
from anonnet_studio.ui.timeline.panel import TimelinePanel
from anonnet_studio.ui.timeline.scene import SHOT_TOP, frame_runs
from tests.project.factories import make_demo_project


def _panel(qtbot, document, state) -> TimelinePanel:
    panel = TimelinePanel(document, state)
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _items(panel, kind):
    return [i for i in panel.view.timeline.items() if isinstance(i, kind)]


def test_one_block_per_shot_one_span_per_track_and_red_leaks(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    project = document.project
    shots = sorted(_items(panel, ShotItem), key=lambda i: i.index)
    assert [(s.rect().left(), s.rect().right()) for s in shots] == [
        (shot.start_frame, shot.end_frame) for shot in project.shots
    ]
    spans = {span.track_id: span for span in _items(panel, SpanItem)}
    assert set(spans) == set(project.tracks)
    for track_id, span in spans.items():
        track = project.tracks[track_id]
        assert span.identity_id == track.identity_id
        assert (span.rect().left(), span.rect().right()) == (track.start_frame, track.end_frame)
    lanes = [lane.identity_id for lane in panel.view.timeline.lanes if lane.kind != "audio"]
    assert lanes == [i.id for i in project.identities]
    # leak frames 17, 18 and 600 make two red runs
    leaks = sorted((m.rect().left(), m.rect().right()) for m in _items(panel, LeakMarkerItem))
    assert leaks == [(17, 19), (600, 601)]


def test_frame_runs_groups_consecutive_frames():
    assert frame_runs([5, 1, 2, 3, 9, 10]) == [(1, 3), (5, 5), (9, 10)]
    assert frame_runs([]) == []


def test_keeping_a_person_rebuilds_their_lane_as_kept(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    assert document.set_field("P2", "hidden", False)
    spans = [s for s in _items(panel, SpanItem) if s.identity_id == "P2"]
    assert spans and all(s.kept for s in spans)
    lane = next(lane for lane in panel.view.timeline.lanes if lane.identity_id == "P2")
    assert not lane.hidden
    document.undo_stack.undo()
    lane = next(lane for lane in panel.view.timeline.lanes if lane.identity_id == "P2")
    assert lane.hidden and lane.method == "blur"


def test_selecting_a_span_selects_its_track_and_person(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    span = next(s for s in _items(panel, SpanItem) if s.track_id == 3)
    with qtbot.waitSignal(state.track_selected) as blocker:
        span.setSelected(True)
    assert blocker.args == [3]
    assert state.identity_id == document.project.tracks[3].identity_id


def test_selecting_a_shot_emits_its_index(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    shot = next(s for s in _items(panel, ShotItem) if s.index == 1)
    with qtbot.waitSignal(state.shot_selected) as blocker:
        shot.setSelected(True)
    assert blocker.args == [1]


def test_clicking_the_ruler_seeks_to_the_frame_under_the_mouse(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    view = panel.view
    target = view.mapFromScene(QPointF(450.5, 5))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert abs(state.frame - 450) <= 1
    assert view.timeline.playhead is not None
    assert abs(view.timeline.playhead.x() - (state.frame + 0.5)) < 1e-6


def test_ctrl_wheel_zooms_only_the_x_axis(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    view = panel.view
    before = view.transform()
    lane_top = view.mapFromScene(QPointF(0, SHOT_TOP)).y()
    pos = QPointF(view.viewport().width() / 2, 60)
    event = QWheelEvent(
        pos,
        view.viewport().mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.wheelEvent(event)
    after = view.transform()
    assert after.m11() > before.m11() * 1.4  # two wheel steps of 1.25
    assert after.m22() == before.m22() == 1.0
    assert view.mapFromScene(QPointF(0, SHOT_TOP)).y() == lane_top
    view.fit_all()
    assert view.transform().m11() == before.m11()


def test_zoom_out_is_limited_and_fit_shows_the_whole_video(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    view = panel.view
    view.zoom_by(1e-6)
    frames = document.project.shots[-1].end_frame
    assert view.mapFromScene(QPointF(frames, 0)).x() <= view.viewport().width()
    view.zoom_by(1e6)
    assert view.pixels_per_frame == 48.0


def test_double_clicking_a_span_jumps_to_its_first_frame(qtbot, document, state):
    panel = _panel(qtbot, document, state)
    view = panel.view
    view.zoom_by(4.0)  # a few pixels per frame, so one frame off is visible
    track = document.project.tracks[3]
    span = next(s for s in _items(panel, SpanItem) if s.track_id == 3)
    middle = span.rect().center()
    view.centerOn(middle)
    pos = view.mapFromScene(middle)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert state.frame == track.start_frame


def test_selecting_a_person_scrolls_their_lane_into_view(qtbot, state, document):
    document.set_project(make_demo_project(tracks=tuple((n, 0, 0, 200) for n in range(1, 9))))
    panel = _panel(qtbot, document, state)
    panel.resize(900, 200)  # room for two or three lanes
    qtbot.waitUntil(lambda: panel.view.viewport().height() < 200)
    view, last = panel.view, document.project.identities[-1].id
    assert not view.lane_is_visible(last)
    state.select_identity(last)
    assert view.lane_is_visible(last)
    first = document.project.identities[0].id
    state.select_identity(first)
    assert view.lane_is_visible(first)
