"""Menus, toolbar and keyboard shortcuts of the main window, as named QActions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QToolButton

from anonnet_studio.ui.icons import icon

NO_PROJECT_REASON = "Open a video or a project first (File ▸ Open, or drop a video here)."


def set_enabled_with_reason(action: QAction, enabled: bool, reason: str) -> None:
    """Enable or disable `action`; a disabled one says why as its tooltip and status tip
    (an enabled one goes back to its own text)."""
    action.setEnabled(enabled)
    action.setToolTip("" if enabled else reason)
    action.setStatusTip("" if enabled else reason)


class EditorActions:
    """Builds every action once; the main window connects their `triggered` signals."""

    def __init__(self, window: QMainWindow, undo_stack: QUndoStack) -> None:
        self._window = window
        add = self._action
        # File
        self.open = add("&Open video or project…", QKeySequence.StandardKey.Open, "open")
        self.save = add("&Save project", QKeySequence.StandardKey.Save, "save")
        self.save_as = add("Save project &as…", "Ctrl+Shift+S", "save-as")
        self.export = add("&Export video…", "Ctrl+E", "export")
        self.batch_export = add("&Batch export…")
        self.close_project = add("&Close project", "Ctrl+W")
        self.quit = add("&Quit", QKeySequence.StandardKey.Quit, "quit")
        self.recent_menu = QMenu("Open &recent", window)
        # Edit
        self.undo = undo_stack.createUndoAction(window, "&Undo")
        self.undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo.setIcon(icon("undo"))
        self.redo = undo_stack.createRedoAction(window, "&Redo")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo.setIcon(icon("redo"))
        self.settings = add("&Settings…", "Ctrl+,", "settings")
        # Tools
        self.generate_all = add(
            "&Generate synthetic faces for everyone", "Ctrl+Shift+G", "regenerate"
        )
        self.models = add("&Models…")
        self.models.setStatusTip("Which models are installed; download the missing ones")
        self._project_open = False
        self._generation_available = False
        self._generation_reason = ""
        # View
        self.zoom_fit = add("&Fit timeline", "Ctrl+0", "zoom-fit")
        self.zoom_in = add("Zoom timeline &in", "Ctrl+=")
        self.zoom_out = add("Zoom timeline &out", "Ctrl+-")
        # Playback (single keys, as in every editor: J/K/L shuttle, space, arrows)
        self.play_pause = add("&Play / pause", "Space", "play")
        self.reverse = add("Play &backward (J)", "J")
        self.pause = add("Pa&use (K)", "K")
        self.forward = add("Play &forward / faster (L)", "L")
        self.previous_frame = add("P&revious frame", "Left", "step-back")
        self.next_frame = add("&Next frame", "Right", "step-forward")
        self.back_ten = add("Back 10 frames", "Shift+Left")
        self.forward_ten = add("Forward 10 frames", "Shift+Right")
        self.first_frame = add("&First frame", "Home", "to-start")
        self.last_frame = add("&Last frame", "End", "to-end")
        self.cancel_job = add("&Cancel running job", "Ctrl+.", "cancel")
        # Help
        self.shortcuts = add("&Keyboard shortcuts", "F1")
        self.getting_started = add("&Getting started")
        self.project_actions = (self.save, self.save_as, self.export, self.close_project)

    def build_menus(self) -> None:
        bar = self._window.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.setToolTipsVisible(True)  # disabled actions explain why
        file_menu.addAction(self.open)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        for action in (self.save, self.save_as, self.export, self.batch_export):
            file_menu.addAction(action)
        file_menu.addAction(self.close_project)
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo)
        edit_menu.addAction(self.redo)
        edit_menu.addSeparator()
        edit_menu.addAction(self.settings)
        tools_menu = bar.addMenu("&Tools")
        tools_menu.setToolTipsVisible(True)  # the disabled action explains why
        tools_menu.addAction(self.generate_all)
        tools_menu.addSeparator()
        tools_menu.addAction(self.models)
        view_menu = bar.addMenu("&View")
        for action in (self.zoom_fit, self.zoom_in, self.zoom_out):
            view_menu.addAction(action)
        play_menu = bar.addMenu("&Playback")
        playback: tuple[QAction | None, ...] = (
            self.play_pause, self.reverse, self.pause, self.forward, None,
            self.previous_frame, self.next_frame, self.back_ten, self.forward_ten, None,
            self.first_frame, self.last_frame, None, self.cancel_job,
        )  # fmt: skip
        for item in playback:
            if item is None:
                play_menu.addSeparator()
            else:
                play_menu.addAction(item)

    def build_help_menu(self) -> None:
        """Built last, after the other parts of the editor added their menus."""
        help_menu = self._window.menuBar().addMenu("&Help")
        help_menu.addAction(self.shortcuts)
        help_menu.addAction(self.getting_started)

    def build_toolbar(self) -> QToolBar:
        toolbar = QToolBar("Main", self._window)
        toolbar.setObjectName("MainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.open, self.save, None, self.undo, self.redo, None, self.export):
            if action is None:
                toolbar.addSeparator()
                continue
            toolbar.addAction(action)
            if action in (self.undo, self.redo):  # their text names the edit: too long here
                button = toolbar.widgetForAction(action)
                if isinstance(button, QToolButton):
                    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        toolbar.addSeparator()
        toolbar.addAction(self.settings)
        return toolbar

    def set_recent_files(self, paths: list[Path], open_path: Callable[[Path], object]) -> None:
        self.recent_menu.clear()
        for number, path in enumerate(paths, start=1):
            action = self.recent_menu.addAction(f"&{number} {path.name}")
            action.setToolTip(str(path))
            action.setData(str(path))
            action.triggered.connect(lambda _c=False, p=path: open_path(p))
        self.recent_menu.setEnabled(bool(paths))

    def set_project_open(self, is_open: bool) -> None:
        for action in self.project_actions:
            set_enabled_with_reason(action, is_open, NO_PROJECT_REASON)
        self._project_open = is_open
        self._update_generate_all()

    def set_generation_available(self, available: bool, reason: str) -> None:
        """Follow the generator's model check (the same one the Regenerate button uses)."""
        self._generation_available = available
        self._generation_reason = reason
        self._update_generate_all()

    def _update_generate_all(self) -> None:
        """Enabled or not, the action says why in its tooltip and in the status bar."""
        available = self._generation_available
        self.generate_all.setEnabled(self._project_open and available)
        if not available:
            reason = self._generation_reason + " (Tools ▸ Models…)"
        elif not self._project_open:
            reason = "Open a video or a project first."
        else:
            reason = (
                "Generate a new synthetic face for every anonymized person using the "
                "synthetic method"
            )
        self.generate_all.setToolTip(reason)
        self.generate_all.setStatusTip(reason)

    def _action(self, text: str, shortcut: object = None, icon_name: str | None = None) -> QAction:
        action = QAction(text, self._window)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))  # type: ignore[call-overload]
        # Window-wide, so J/K/L and the arrows work whichever panel has focus; text fields
        # still receive their own keys (they claim them through ShortcutOverride).
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._window.addAction(action)
        return action
