"""The editor's dark theme: Fusion style, a dark palette, and resources/styles/editor.qss."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from anonnet_studio.core.resources import resources_dir

_PALETTE = {
    QPalette.ColorRole.Window: "#1f2228",
    QPalette.ColorRole.WindowText: "#d0d4da",
    QPalette.ColorRole.Base: "#15171b",
    QPalette.ColorRole.AlternateBase: "#23272e",
    QPalette.ColorRole.ToolTipBase: "#2a2f37",
    QPalette.ColorRole.ToolTipText: "#e9ecef",
    QPalette.ColorRole.Text: "#d0d4da",
    QPalette.ColorRole.Button: "#2f3540",
    QPalette.ColorRole.ButtonText: "#d0d4da",
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Highlight: "#4e79a7",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#74a7e0",
    QPalette.ColorRole.PlaceholderText: "#6c7380",
}


def load_style_sheet() -> str:
    """resources/styles/editor.qss (empty when the file is missing)."""
    path = resources_dir() / "styles" / "editor.qss"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in _PALETTE.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):  # fmt: skip
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#646b76"))
    return palette


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(load_style_sheet())
