"""How the editor tells the user things: non-blocking message boxes and questions.

The main window and controllers receive a `Messenger`, so tests can answer questions and
collect errors without a modal dialog blocking the event loop.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from anonnet_studio.core.diagnostics import CrashReport
from anonnet_studio.ui.dialogs.crash_dialog import CrashDialog


class Answer(Enum):
    YES = "yes"
    NO = "no"
    CANCEL = "cancel"


class Messenger(Protocol):
    def error(self, title: str, message: str) -> None: ...

    def info(self, title: str, message: str) -> None: ...

    def ask(self, title: str, question: str, *, allow_cancel: bool = False) -> Answer: ...

    def crash(self, report: CrashReport) -> None:
        """An unexpected error (a bug): its one line, its log, and "Copy details"."""
        ...


class DialogMessenger:
    """Real message boxes. Errors and notices are window-modal but non-blocking (`open`),
    so a job's failure never stalls the event loop; questions block, as they must."""

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent
        self.open_boxes: list[QDialog] = []

    def error(self, title: str, message: str) -> None:
        self._show(QMessageBox.Icon.Critical, title, message)

    def info(self, title: str, message: str) -> None:
        self._show(QMessageBox.Icon.Information, title, message)

    def ask(self, title: str, question: str, *, allow_cancel: bool = False) -> Answer:
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        if allow_cancel:
            buttons |= QMessageBox.StandardButton.Cancel
        reply = QMessageBox.question(self._parent, title, question, buttons)
        if reply == QMessageBox.StandardButton.Yes:
            return Answer.YES
        if reply == QMessageBox.StandardButton.No:
            return Answer.NO
        return Answer.CANCEL

    def crash(self, report: CrashReport) -> None:
        self._keep_open(CrashDialog(report, self._parent))

    def _show(self, kind: QMessageBox.Icon, title: str, message: str) -> None:
        first, _, rest = message.partition("\n")
        box = QMessageBox(kind, title, first, QMessageBox.StandardButton.Ok, self._parent)
        if rest:
            box.setInformativeText(rest)
        self._keep_open(box)

    def _keep_open(self, box: QDialog) -> None:
        box.finished.connect(lambda _r, b=box: self._forget(b))
        self.open_boxes.append(box)
        box.open()

    def _forget(self, box: QDialog) -> None:
        if box in self.open_boxes:
            self.open_boxes.remove(box)
        box.deleteLater()


class RecordingMessenger:
    """For tests and scripts: records messages and answers questions with preset replies."""

    def __init__(self, answers: list[Answer] | None = None) -> None:
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.questions: list[str] = []
        self.crashes: list[CrashReport] = []
        self._answers = list(answers or [])

    def error(self, title: str, message: str) -> None:
        self.errors.append((title, message))

    def info(self, title: str, message: str) -> None:
        self.infos.append((title, message))

    def crash(self, report: CrashReport) -> None:
        self.crashes.append(report)

    def ask(self, title: str, question: str, *, allow_cancel: bool = False) -> Answer:
        self.questions.append(question)
        return self._answers.pop(0) if self._answers else Answer.NO
