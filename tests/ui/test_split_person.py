"""A person made by a split gets a thumbnail from the video and says why it needs
attention; a split person can be marked checked, a failed synthetic face cannot."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt

from anonnet_studio.project.attention import (
    SPLIT_REASON,
    SYNTHETIC_REASON,
    attention_reason,
    can_mark_checked,
)
from tests.project.factories import make_demo_project
from tests.ui.conftest import make_window
from tests.ui.fixture_projects import fixture_project


def test_a_split_person_gets_a_thumbnail_and_a_reason(qtbot, worker, store, tmp_path):
    window = make_window(qtbot, worker, store, tmp_path / "rec")
    window.document.set_project(fixture_project())
    project = window.document.project
    new_id = window.identities.split_track(3)  # P1's second track becomes a new person
    assert new_id is not None and project.identity(new_id).thumbnail is None
    qtbot.waitUntil(lambda: project.identity(new_id).thumbnail is not None, timeout=30_000)
    thumbnail = project.identity(new_id).thumbnail
    assert thumbnail.ndim == 3 and thumbnail.shape[2] == 3 and thumbnail.std() > 5  # a face
    editor = window.identities.editor
    assert editor.identity_id == new_id
    assert editor.attention.isVisibleTo(editor) and SPLIT_REASON in editor.attention.text()
    assert editor.thumbnail.pixmap() is not None and not editor.thumbnail.pixmap().isNull()
    row = window.identities.model.row_of(new_id)
    tooltip = window.identities.model.index(row).data(Qt.ItemDataRole.ToolTipRole)
    assert SPLIT_REASON in tooltip
    lane = next(x for x in window.timeline.view.timeline.lanes if x.identity_id == new_id)
    assert SPLIT_REASON in window.timeline.view.header.lane_tooltip(lane)
    assert editor.mark_checked.isVisibleTo(editor)
    editor.mark_checked.click()
    assert not project.identity(new_id).needs_attention
    assert not editor.attention.isVisibleTo(editor)
    window.actions_.undo.trigger()
    assert project.identity(new_id).needs_attention


def test_a_failed_synthetic_face_gives_its_own_reason_and_cannot_be_cleared():
    identity = make_demo_project().identity("P1")  # synthetic, with one attempt
    identity.attempts[0] = dataclasses.replace(identity.attempts[0], passed=False)
    identity.needs_attention = True
    assert attention_reason(identity) == SYNTHETIC_REASON and not can_mark_checked(identity)
    identity.attempts[0] = dataclasses.replace(identity.attempts[0], passed=True)
    assert attention_reason(identity) == SPLIT_REASON and can_mark_checked(identity)
    identity.needs_attention = False
    assert attention_reason(identity) == "" and not can_mark_checked(identity)


def test_a_thumbnail_that_cannot_be_made_is_no_error_dialog(qtbot, worker, store, tmp_path):
    window = make_window(qtbot, worker, store, tmp_path / "rec")
    window.document.set_project(make_demo_project())  # its video does not exist
    new_id = window.identities.split_track(4)  # P1's last track
    assert new_id is not None
    qtbot.waitUntil(lambda: "thumbnail" in window.statusBar().currentMessage(), timeout=30_000)
    assert window.messenger.errors == []
    assert window.document.project.identity(new_id).thumbnail is None
