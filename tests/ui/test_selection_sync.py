"""Picking a person anywhere (a face box in the preview) selects them everywhere."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from anonnet_studio.ui.identity.gallery import IDENTITY_ID_ROLE
from tests.ui.conftest import make_window
from tests.ui.fixture_projects import fixture_project


def test_clicking_a_face_box_selects_that_person_everywhere(qtbot, worker, store, tmp_path):
    window = make_window(qtbot, worker, store, tmp_path / "rec")
    window.resize(1280, 860)
    window.show()
    window.document.set_project(fixture_project())
    project, canvas = window.document.project, window.preview.canvas
    window.state.select_identity("P1")
    frame = 100  # the second shot: P2 (track 2) and P1 (track 3) are both on screen
    window.state.set_frame(frame)
    qtbot.waitUntil(lambda: window.preview.shown_frame == frame, timeout=30_000)
    box = project.tracks[2].box_at(frame)
    assert box is not None
    centre = canvas.video_to_widget((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, panel=0)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=centre.toPoint())
    assert window.state.identity_id == "P2" and window.state.track_id == 2
    assert window.identities.gallery.currentIndex().data(IDENTITY_ID_ROLE) == "P2"
    assert window.identities.editor.identity_id == "P2"
    assert window.timeline.view.header.selected_id == "P2"
