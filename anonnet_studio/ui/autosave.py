"""Autosave to a recovery folder, and crash recovery on the next start.

Recovery copies live in the app data folder, never next to or over the user's file. Each
editor session holds a `QLockFile` on its recovery slot; a slot whose lock can be taken
belongs to a session that is gone (a crash), and is offered for restore. Slots are deleted
when the project is saved, closed or discarded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QTimer, Signal

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.project.io import load_project, save_project
from anonnet_studio.project.schema import Project
from anonnet_studio.ui.document import ProjectDocument

_log = logging.getLogger(__name__)
_INFO = "recovery.json"
_PROJECT = "recovery.anonproj"
_LOCK = "session.lock"


@dataclass(frozen=True, slots=True)
class RecoveryEntry:
    folder: Path
    project_path: Path | None  # the user's file, or None for a never-saved analysis
    source_path: str
    saved_at: float  # seconds since the epoch

    @property
    def title(self) -> str:
        name = self.project_path.name if self.project_path else Path(self.source_path).name
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        return f"{name} (autosaved {when})"

    def load(self) -> Project:
        return load_project(self.folder / _PROJECT)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class AutosaveManager(QObject):
    autosaved = Signal(object)  # Path of the recovery file
    failed = Signal(str)

    def __init__(
        self,
        document: ProjectDocument,
        recovery_root: Path,
        interval_s: int = 60,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._root = Path(recovery_root)
        self._slot: Path | None = None
        self._lock: QLockFile | None = None
        self._saved_revision = -1
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.autosave_now)
        self.set_interval(interval_s)
        document.project_replaced.connect(self._on_project_replaced)
        document.modified_changed.connect(self._on_modified_changed)

    def set_interval(self, seconds: int) -> None:
        self._timer.start(max(1, int(seconds)) * 1000)

    def autosave_now(self) -> Path | None:
        """Write the recovery copy if the document changed since the last one."""
        project = self._document.project
        if project is None or not self._document.is_modified():
            return None
        if self._document.revision == self._saved_revision:
            return None
        slot = self._ensure_slot()
        try:
            save_project(project, slot / _PROJECT)
            info = {
                "project_path": str(self._document.path) if self._document.path else None,
                "source_path": project.source.path,
                "saved_at": time.time(),
                "pid": os.getpid(),
            }
            (slot / _INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")
        except (AnonNetError, OSError) as exc:
            message = exc.user_message() if isinstance(exc, AnonNetError) else str(exc)
            self.failed.emit(f"Autosave failed: {message}")
            return None
        self._saved_revision = self._document.revision
        self.autosaved.emit(slot / _PROJECT)
        return slot / _PROJECT

    def discard(self) -> None:
        """Forget the recovery copy (the project was saved, closed or discarded)."""
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        if self._slot is not None:
            shutil.rmtree(self._slot, ignore_errors=True)
            self._slot = None
        self._saved_revision = -1

    def pending_recoveries(self) -> list[RecoveryEntry]:
        """Recovery copies left by sessions that ended without saving (newest first)."""
        entries: list[RecoveryEntry] = []
        if not self._root.is_dir():
            return entries
        for folder in sorted(self._root.iterdir()):
            if not folder.is_dir() or folder == self._slot:
                continue
            lock = QLockFile(str(folder / _LOCK))
            lock.setStaleLockTime(0)  # a lock survives only while its process lives
            if not lock.tryLock(0):
                continue  # another editor is running with it
            lock.unlock()
            entry = _read_entry(folder)
            if entry is None:
                shutil.rmtree(folder, ignore_errors=True)  # an incomplete slot
            else:
                entries.append(entry)
        return sorted(entries, key=lambda e: e.saved_at, reverse=True)

    def _ensure_slot(self) -> Path:
        if self._slot is None:
            key = hashlib.sha1(f"{os.getpid()}-{time.time_ns()}".encode()).hexdigest()[:12]
            self._slot = self._root / f"session-{key}"
            self._slot.mkdir(parents=True, exist_ok=True)
            self._lock = QLockFile(str(self._slot / _LOCK))
            self._lock.setStaleLockTime(0)
            if not self._lock.tryLock(0):
                _log.warning("could not lock recovery slot %s", self._slot)
        return self._slot

    def _on_project_replaced(self) -> None:
        self.discard()

    def _on_modified_changed(self, modified: bool) -> None:
        if not modified:
            self.discard()  # saved: the user's file is the newest copy


def _read_entry(folder: Path) -> RecoveryEntry | None:
    try:
        info = json.loads((folder / _INFO).read_text(encoding="utf-8"))
        if not (folder / _PROJECT).is_file():
            return None
        project_path = info.get("project_path")
        return RecoveryEntry(
            folder=folder,
            project_path=Path(project_path) if project_path else None,
            source_path=str(info.get("source_path", "")),
            saved_at=float(info.get("saved_at", 0.0)),
        )
    except (OSError, ValueError, TypeError):
        return None
