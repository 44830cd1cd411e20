"""The keyboard-shortcut sheet (Help ▸ Keyboard shortcuts, F1), generated from the main
window's real QActions, so it lists what the keys do today and never goes stale."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

OTHER_GROUP = "Other"


@dataclass(frozen=True, slots=True)
class ShortcutEntry:
    group: str  # the menu the action sits in
    name: str  # its text, without mnemonics
    keys: str  # every shortcut, in the platform's notation


def plain_text(text: str) -> str:
    """Menu text as a person reads it: no '&' mnemonics, no trailing ellipsis."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _keys(action: QAction) -> str:
    native = QKeySequence.SequenceFormat.NativeText
    return ", ".join(s.toString(native) for s in action.shortcuts() if not s.isEmpty())


def shortcut_entries(window: QMainWindow) -> list[ShortcutEntry]:
    """Every action with a shortcut, in menu order, grouped by top-level menu; actions the
    window has but no menu shows come last."""
    entries: list[ShortcutEntry] = []
    seen: set[int] = set()

    def collect(menu: QMenu, group: str) -> None:
        for action in menu.actions():
            submenu = action.menu()
            if isinstance(submenu, QMenu):
                collect(submenu, group)
                continue
            seen.add(id(action))
            keys = _keys(action)
            if keys and not action.isSeparator():
                entries.append(ShortcutEntry(group, plain_text(action.text()), keys))

    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            collect(menu, plain_text(top.text()))
    for action in window.actions():
        keys = _keys(action)
        if id(action) not in seen and keys:
            entries.append(ShortcutEntry(OTHER_GROUP, plain_text(action.text()), keys))
    return entries


class ShortcutsDialog(QDialog):
    def __init__(self, entries: list[ShortcutEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 640)
        layout = QVBoxLayout(self)
        hint = QLabel(
            "Single keys (J/K/L, arrows, F, R…) work wherever the focus is, except while "
            "typing in a text field."
        )
        hint.setWordWrap(True)
        hint.setObjectName("Hint")
        layout.addWidget(hint)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("ShortcutTree")
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setRootIsDecorated(False)
        groups: dict[str, QTreeWidgetItem] = {}
        for entry in entries:
            group = groups.get(entry.group)
            if group is None:
                group = QTreeWidgetItem(self.tree, [entry.group])
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                groups[entry.group] = group
            QTreeWidgetItem(group, [entry.name, entry.keys])
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        layout.addWidget(self.tree, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, action, keys) as shown."""
        shown = []
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            if group is None:
                continue
            for c in range(group.childCount()):
                child = group.child(c)
                if child is not None:
                    shown.append((group.text(0), child.text(0), child.text(1)))
        return shown
