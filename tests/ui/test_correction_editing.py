"""Hand corrections in the editor: editing boxes with the mouse, regions, the review queue,
the timeline's correction menu, export warnings, autosave and bad input."""

from __future__ import annotations

import json
from random import Random

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from anonnet_studio.project.commands import AddManualTrack, SetReviewed
from anonnet_studio.project.io import load_project
from anonnet_studio.project.review import ReviewKind
from anonnet_studio.ui.timeline.items import RegionSpanItem
from tests.media_factory import decode_rgb
from tests.ui.conftest import make_window
from tests.ui.fixture_projects import fixture_project

TIMEOUT_MS = 120_000


def _drag(canvas, start: QPoint, end: QPoint) -> None:
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 5):
        QTest.mouseMove(canvas, start + (end - start) * step / 4)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def _ready_window(qtbot, worker, store, tmp_path, **kwargs):
    window = make_window(qtbot, worker, store, tmp_path / "rec", **kwargs)
    window.resize(1280, 860)
    window.show()
    window.document.set_project(fixture_project(real_hash=True))
    qtbot.waitUntil(lambda: bool(window.preview.canvas.image_targets()), timeout=30_000)
    return window


def _go_to(qtbot, window, frame: int) -> None:
    """Move the playhead and wait for that frame's picture, as a user would before
    drawing on it (boxes belong to the picture shown)."""
    window.state.set_frame(frame)
    qtbot.waitUntil(lambda: window.preview.shown_frame == frame, timeout=30_000)


def _point(canvas, x: float, y: float) -> QPoint:
    return canvas.video_to_widget(x, y, panel=1).toPoint()


def test_dragging_a_box_makes_a_keyframe_and_undo_restores_it(qtbot, worker, store, tmp_path):
    window = _ready_window(qtbot, worker, store, tmp_path)
    project, canvas = window.document.project, window.preview.canvas
    frame = 30
    _go_to(qtbot, window, frame)
    track = project.tracks[1]  # P1 in shot 0
    old = track.box_at(frame).copy()
    centre = ((old[0] + old[2]) / 2, (old[1] + old[3]) / 2)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_point(canvas, *centre))
    assert window.state.track_id == 1, "a click on a box selects its face"
    _drag(canvas, _point(canvas, *centre), _point(canvas, centre[0] + 24, centre[1] + 12))
    moved = project.tracks[1]
    assert moved.corrected_frames == [frame]
    shift = moved.box_at(frame) - old
    assert np.allclose(shift, [24, 12, 24, 12], atol=2.0), shift
    corner = (float(moved.box_at(frame)[2]), float(moved.box_at(frame)[3]))
    _drag(canvas, _point(canvas, *corner), _point(canvas, corner[0] + 30, corner[1] + 20))
    grown = project.tracks[1].box_at(frame)
    assert grown[2] - grown[0] > moved.box_at(frame)[2] - moved.box_at(frame)[0] + 20
    assert abs(grown[0] - moved.box_at(frame)[0]) < 2, "a corner drag resizes, not moves"
    window.actions_.undo.trigger()
    window.actions_.undo.trigger()
    assert (
        np.allclose(project.tracks[1].box_at(frame), old) and not project.tracks[1].corrected_frames
    )


def test_a_zero_size_box_is_refused_with_a_message(qtbot, worker, store, tmp_path):
    window = _ready_window(qtbot, worker, store, tmp_path)
    canvas = window.preview.canvas
    _go_to(qtbot, window, 10)
    tracks_before = dict(window.document.project.tracks)
    window.correction_actions.add_face.trigger()
    _drag(canvas, _point(canvas, 20, 40), _point(canvas, 200, 40))  # a line, no height
    assert window.document.project.tracks == tracks_before
    assert any("too small" in m for _t, m in window.messenger.errors), window.messenger.errors


def test_a_name_tag_region_is_drawn_redacted_over_its_range_and_exported(
    qtbot, worker, store, tmp_path
):
    window = _ready_window(qtbot, worker, store, tmp_path)
    project, canvas = window.document.project, window.preview.canvas
    _go_to(qtbot, window, 100)
    window.correction_actions.add_region.trigger()
    _drag(canvas, _point(canvas, 40, 380), _point(canvas, 300, 450))
    (region,) = project.regions
    shot = project.shot_at(100)
    assert (region.start_frame, region.end_frame) == (shot.start_frame, shot.end_frame)
    assert window.state.region_id == region.id and window.regions.list.count() == 1
    lanes = [i for i in window.timeline.view.timeline.items() if isinstance(i, RegionSpanItem)]
    assert [span.region_id for span in lanes] == [region.id]
    # Trim it in the Regions panel to frames 100..159 and make it a solid fill.
    window.regions.start.setValue(100)
    window.regions.end.setValue(159)
    window.regions.method.setCurrentIndex(window.regions.method.findData("fill"))
    window.regions.method.activated.emit(window.regions.method.currentIndex())
    region = project.regions[0]
    assert region.start_frame == 100 and region.end_frame == 160
    assert region.method.value == "fill"

    dialog = window.show_export_dialog()
    output = tmp_path / "region.mp4"
    dialog.output.setText(str(output))
    dialog.leak_check.setChecked(False)  # this worker has no face models
    dialog.open_when_done.setChecked(False)
    with qtbot.waitSignal(dialog.export_finished, timeout=TIMEOUT_MS):
        dialog.export_button.click()
    x0, y0, x1, y1 = (int(v) for v in region.boxes[0])
    inside = (slice(y0 + 4, y1 - 4), slice(x0 + 4, x1 - 4))
    for index, (_, image) in enumerate(decode_rgb(output)):
        filled = bool(np.all(np.abs(image[inside].astype(int) - 24) <= 6))
        assert filled == (100 <= index < 160), index
    report = json.loads(dialog.outcome.report_paths[0].read_text(encoding="utf-8"))
    (entry,) = report["corrections"]["regions"]
    assert entry["frames"] == [[100, 159]] and entry["method"] == "fill"
    assert "Region redacted" in dialog.outcome.report_paths[1].read_text(encoding="utf-8")


def test_tracking_a_region_runs_on_the_worker_and_can_be_cancelled(qtbot, worker, store, tmp_path):
    window = _ready_window(qtbot, worker, store, tmp_path)
    _go_to(qtbot, window, 120)
    region_id = window.corrections.add_region(120, (150, 100, 330, 300))
    with qtbot.waitSignal(window.corrections.propagation_finished, timeout=TIMEOUT_MS):
        window.correction_actions.follow.trigger()
    region = window.document.project.region(region_id)
    assert region.tracked and len(region.frames) > 1
    notices = []
    window.corrections.notice.connect(notices.append)
    worker.job_started.connect(lambda _job: window.job_status.cancel_current())
    with qtbot.waitSignal(worker.job_cancelled, timeout=TIMEOUT_MS):
        window.corrections.track_region(region_id, 150)
    assert any("cancelled" in n for n in notices)
    assert window.document.project.region(region_id) == region, "a cancel changes nothing"


def test_the_review_queue_steps_with_n_and_marks_items_reviewed(qtbot, worker, store, tmp_path):
    window = _ready_window(qtbot, worker, store, tmp_path)
    review, project = window.review, window.document.project
    review.rebuild()
    items = review.items
    assert items and items[0].kind is ReviewKind.LEAK and items[0].risk == 1.0
    window.correction_actions.next_review.trigger()
    assert review.current_item() == items[0] and window.state.frame == items[0].frame
    window.correction_actions.next_review.trigger()
    window.correction_actions.next_review.trigger()
    assert review.current_item() == items[2] and window.state.frame == items[2].frame
    if items[2].track_id is not None:
        assert window.state.track_id == items[2].track_id
    window.correction_actions.previous_review.trigger()
    assert review.current_item() == items[1]
    window.correction_actions.mark_reviewed.trigger()
    assert project.reviewed == [items[1].key]
    review.rebuild()
    assert review.list.item(1).checkState() == Qt.CheckState.Checked
    assert f"{len(items)} items to check, 1 reviewed" in review.summary.text()
    dialog = window.show_export_dialog()
    assert dialog.review_warning.isVisibleTo(dialog)
    assert f"{len(items) - 1} of {len(items)} review items are not marked" in (
        dialog.review_warning.text()
    )
    window.actions_.undo.trigger()
    assert project.reviewed == []


def test_dragging_a_spans_ends_trims_the_track_and_undo_restores_it(qtbot, worker, store, tmp_path):
    window = _ready_window(qtbot, worker, store, tmp_path)
    project, view = window.document.project, window.timeline.view
    view.zoom_by(4.0)  # a few pixels per frame, as a user would zoom to trim
    track = project.tracks[3]  # P1 in shot 1, frames 72..215
    start, end = track.start_frame, track.end_frame

    def span():
        (item,) = [i for i in view.timeline.items_for("track", 3)]
        return item

    def at(frame: float) -> QPoint:
        return view.mapFromScene(frame, span().rect().center().y())

    def show(frame: float) -> None:
        view.centerOn(frame, span().rect().center().y())

    seen: list[int] = []
    view.seek_requested.connect(seen.append)
    show(end - 15)
    assert view.span_edge_at(at(end)) == (span(), "end")
    target = at(end - 30.6)
    _drag(view.viewport(), at(end), target)
    new_end = round(view.mapToScene(target).x())
    assert project.tracks[3].end_frame == new_end < end and project.tracks[3].start_frame == start
    assert seen and seen[-1] == new_end - 1  # the preview showed the last frame kept

    show(start + 10)
    _drag(view.viewport(), at(start), at(start + 20.4))
    assert start < project.tracks[3].start_frame <= start + 21
    # An end cannot be dragged outwards: a track only grows with boxes.
    before = (project.tracks[3].start_frame, project.tracks[3].end_frame)
    show(before[1])
    _drag(view.viewport(), at(before[1]), at(before[1] + 40))
    assert (project.tracks[3].start_frame, project.tracks[3].end_frame) == before
    window.actions_.undo.trigger()
    window.actions_.undo.trigger()
    assert (project.tracks[3].start_frame, project.tracks[3].end_frame) == (start, end)


def test_the_timeline_menu_trims_deletes_keeps_and_reassigns_faces(qtbot, worker, store, tmp_path):
    window = _ready_window(qtbot, worker, store, tmp_path)
    project, view = window.document.project, window.timeline.view
    track = project.tracks[3]  # P1 in shot 1, frames 72..215
    _go_to(qtbot, window, 100)

    def run(track_id: int, text: str) -> None:
        menu = view.track_menu(track_id)
        (action,) = [a for a in _actions(menu) if a.text().startswith(text)]
        action.trigger()

    run(3, "Trim the start")
    assert project.tracks[3].start_frame == 100 and project.tracks[3].end_frame == track.end_frame
    _go_to(qtbot, window, 200)
    run(3, "Trim the end")
    assert project.tracks[3].end_frame == 201
    window.correction_menus.ask_range = lambda low, high, first, last: (150, 159)
    run(3, "Delete frames")
    split = [t for t in project.identity("P1").track_ids if t not in (1, 3)]
    assert project.tracks[3].end_frame == 150 and project.tracks[split[0]].start_frame == 160
    run(3, "Keep this face visible")
    assert project.tracks[3].kept
    run(3, "Give this face to")  # a submenu: nothing happens by itself
    menu = view.track_menu(2)
    (new_person,) = [a for a in _actions(menu) if a.objectName() == "assign-new"]
    new_person.trigger()
    assert project.tracks[2].identity_id not in ("P2",) and not project.has_identity("P2")
    run(1, "Delete this face")
    assert 1 not in project.tracks and project.removed_faces[-1].track_id == 1
    for _ in range(6):
        window.actions_.undo.trigger()
    assert project.tracks[3] == track and project.has_identity("P2") and 1 in project.tracks


def _actions(menu):
    for action in menu.actions():
        yield action
        if action.menu() is not None:
            yield from _actions(action.menu())


def test_autosave_covers_manual_faces_regions_and_review_marks(qtbot, worker, store, tmp_path):
    window = _ready_window(qtbot, worker, store, tmp_path)
    document = window.document
    events = document.events
    document.push_built(
        lambda: AddManualTrack(80, (30, 40, 130, 160), rng=Random(1), events=events)
    )
    window.corrections.add_region(10, (10, 10, 120, 60))
    document.push_built(lambda: SetReviewed(["leak:17-18"], True, events=events))
    assert document.is_modified()
    recovery = window.autosave.autosave_now()
    assert recovery is not None
    restored = load_project(recovery)
    assert restored == document.project
    assert restored.regions and restored.reviewed == ["leak:17-18"]
    assert [t.frames.tolist() for t in restored.tracks.values() if t.manual] == [[80]]
