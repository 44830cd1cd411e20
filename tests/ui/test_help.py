"""Help menu: the shortcut sheet is generated from the window's real actions (F1), and
the empty window tells a newcomer what to do."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

from anonnet_studio.ui.actions import NO_PROJECT_REASON
from anonnet_studio.ui.dialogs.shortcuts_dialog import plain_text, shortcut_entries
from anonnet_studio.ui.preview.canvas import FIRST_RUN_HINT
from tests.project.factories import make_demo_project


def test_f1_opens_a_sheet_of_every_shortcut_the_window_has(qtbot, window):
    help_menu = window.menuBar().actions()[-1]
    assert plain_text(help_menu.text()) == "Help"
    assert window.actions_.shortcuts.shortcut() == QKeySequence("F1")
    window.actions_.shortcuts.trigger()
    dialog = window.shortcuts_dialog
    assert dialog is not None and dialog.isVisible()
    rows = dialog.rows()
    assert ("Playback", "Play / pause", "Space") in rows
    assert ("File", "Export video", "Ctrl+E") in rows
    assert ("Correct", "Add a face the analysis missed", "F") in rows
    assert ("Help", "Keyboard shortcuts", "F1") in rows
    redo = next(r for r in rows if r[1].startswith("Redo"))
    assert redo[2] == "Ctrl+Shift+Z, Ctrl+Y"  # every shortcut of an action
    names = [name for _group, name, _keys in rows]
    assert len(names) == len(set(names))  # each action once
    for action in window.actions():  # and none left out
        if not action.shortcut().isEmpty():
            assert plain_text(action.text()) in names


def test_the_sheet_follows_the_actions_not_a_hand_written_list(qtbot, window):
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    extra = QAction("&Blur the whole frame", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+B"))
    tools.addAction(extra)
    assert ("Tools", "Blur the whole frame", "Ctrl+Alt+B") in [
        (e.group, e.name, e.keys) for e in shortcut_entries(window)
    ]


def test_the_empty_window_says_how_to_begin(qtbot, window):
    assert window.document.project is None
    assert window.preview.canvas.message == FIRST_RUN_HINT
    window.actions_.getting_started.trigger()
    ((title, text),) = window.messenger.infos
    assert title == "Getting started" and "drop it on the window" in text


def test_disabled_menu_items_say_why_until_a_project_is_open(qtbot, window):
    for action in (window.actions_.export, window.correction_actions.add_face):
        assert not action.isEnabled()
        assert action.toolTip() == action.statusTip() == NO_PROJECT_REASON
    window.document.set_project(make_demo_project())
    for action in (window.actions_.export, window.correction_actions.add_face):
        assert action.isEnabled() and action.statusTip() == ""
        assert NO_PROJECT_REASON not in action.toolTip()
