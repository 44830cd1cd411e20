"""What the editor shows for a bug: one line, where the log is, and "Copy details".

An unexpected error in a worker job or in a Qt slot never ends the editor and never shows
a raw traceback: `CrashDialog` gives the one-line summary and the crash log's path, and
copies the traceback (the log's text) for a bug report. `install_crash_hook` routes
exceptions that reach `sys.excepthook` (Qt slots, event handlers) here.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.core.diagnostics import CrashReport, record_crash

_log = logging.getLogger(__name__)

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


class CrashDialog(QDialog):
    """Non-blocking (`open()`), so a crash report never stalls the event loop."""

    def __init__(self, report: CrashReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Something went wrong")
        self.report = report
        self.summary = QLabel(report.summary)
        self.summary.setWordWrap(True)
        where = (
            f"The details are in {report.log_path}." if report.log_path
            else "No log file could be written; copy the details instead."
        )  # fmt: skip
        self.where = QLabel(
            f"{where} Your project and the source video are not affected; an export or "
            "analysis that failed left no file."
        )
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy details")
        self.copy_button.clicked.connect(self.copy_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.where)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        """The traceback to the clipboard (the button stays; the dialog stays open)."""
        QGuiApplication.clipboard().setText(self.report.details)
        self.copy_button.setText("Copied")


def install_crash_hook(
    show: Callable[[CrashReport], None], action: str = "The editor"
) -> Callable[[], None]:
    """Route uncaught exceptions (Qt slots, event handlers) to a crash log and `show`.
    Returns a function that puts the previous hook back."""
    previous: ExceptHook = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt | SystemExit):
            previous(kind, exc, tb)
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        report = record_crash(exc, action)
        _log.error("%s", report.one_line())
        try:
            show(report)
        except Exception:  # showing must not recurse into this hook
            previous(kind, exc, tb)

    sys.excepthook = hook

    def restore() -> None:
        sys.excepthook = previous

    return restore
