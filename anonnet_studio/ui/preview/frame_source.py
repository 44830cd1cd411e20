"""`PreviewFrameSource`: asks the worker for preview frames, debounced, and caches them.

The original frame depends only on its index; the anonymized one also on the document's
render revision. Both caches are LRU with a byte budget, so scrubbing back over frames
already seen is instant and memory stays bounded.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from anonnet_studio.core.anonymize.plan import RenderPlan
from anonnet_studio.project.render_plan import render_plan_from_project
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.images import qimage_from_rgb
from anonnet_studio.workers.requests import JobRequest, PreviewRequest, snapshot_plan
from anonnet_studio.workers.results import JobInfo, PreviewFrame

DEBOUNCE_MS = 12  # coalesces a burst of scrub events into one request
DEFAULT_CACHE_BYTES = 192 * 1024 * 1024
DISPLAY_MAX_SIDE = 1280  # preview frames are shrunk to this before they cross threads


class PreviewWorker(Protocol):
    """The part of `ComputeWorker` the preview needs (its signals are connected by name)."""

    def submit(self, request: JobRequest) -> JobInfo: ...


class ImageCache:
    """LRU of QImages bounded by their total size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[Hashable, QImage] = OrderedDict()
        self._bytes = 0

    def get(self, key: Hashable) -> QImage | None:
        image = self._items.get(key)
        if image is not None:
            self._items.move_to_end(key)
        return image

    def put(self, key: Hashable, image: QImage) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= old.sizeInBytes()
        self._items[key] = image
        self._bytes += image.sizeInBytes()
        while self._bytes > self._max_bytes and len(self._items) > 1:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= evicted.sizeInBytes()

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class PreviewImages:
    frame_index: int
    original: QImage | None
    anonymized: QImage | None
    anonymized_is_stale: bool  # from an older revision; the fresh one is being rendered


class PreviewFrameSource(QObject):
    frame_ready = Signal(int)  # frame index whose images (or some of them) just arrived
    failed = Signal(str)

    def __init__(
        self,
        worker: PreviewWorker,
        document: ProjectDocument,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        max_side: int = DISPLAY_MAX_SIDE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._document = document
        self._max_side = max_side
        self._originals = ImageCache(cache_bytes // 2)
        self._anonymized = ImageCache(cache_bytes // 2)
        self._last_anonymized: tuple[int, QImage] | None = None  # (frame, image)
        self._plan: RenderPlan | None = None
        self._plan_revision = -1
        self._wanted: int | None = None
        self._fallback_video: Path | None = None  # shown while no project is open
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._submit_wanted)
        worker.preview_ready.connect(self._on_preview_ready)  # type: ignore[attr-defined]
        worker.preview_failed.connect(self._on_preview_failed)  # type: ignore[attr-defined]
        document.project_replaced.connect(self._on_project_replaced)
        self.requests_sent = 0

    # -- API ------------------------------------------------------------------------------

    def images(self, frame_index: int) -> PreviewImages:
        """What is cached for the frame right now (the freshest anonymized image we have)."""
        revision = self._document.render_revision
        original = self._originals.get(frame_index)
        anonymized = self._anonymized.get((frame_index, revision))
        stale = False
        if anonymized is None and self._last_anonymized is not None:
            last_frame, last_image = self._last_anonymized
            if last_frame == frame_index:
                anonymized, stale = last_image, True
        return PreviewImages(frame_index, original, anonymized, stale)

    def request(self, frame_index: int) -> bool:
        """Make sure the frame is (or will be) available; True when it already is."""
        revision = self._document.render_revision
        if (
            self._originals.get(frame_index) is not None
            and self._anonymized.get((frame_index, revision)) is not None
        ):
            self._wanted = None
            return True
        self._wanted = frame_index
        if not self._timer.isActive():
            self._timer.start()
        return False

    def show_video_without_project(self, path: Path | None) -> None:
        """Serve original frames of `path` while no project is open (a video being
        analysed), and ask for its first frame at once: queued ahead of the analysis job,
        it is drawn before the analysis starts. None stops it."""
        self.invalidate()
        self._fallback_video = path
        if path is not None and self._document.project is None:
            self._wanted = 0
            self._timer.stop()
            self._submit_wanted()

    @property
    def video_without_project(self) -> Path | None:
        return self._fallback_video

    def invalidate(self) -> None:
        """Forget cached frames (the source video changed)."""
        self._originals.clear()
        self._anonymized.clear()
        self._last_anonymized = None

    # -- internals ------------------------------------------------------------------------

    def _current_plan(self) -> RenderPlan | None:
        project = self._document.project
        if project is None:
            return None
        if self._plan_revision != self._document.render_revision:
            self._plan = snapshot_plan(render_plan_from_project(project, leak_check=False))
            self._plan_revision = self._document.render_revision
        return self._plan

    def _submit_wanted(self) -> None:
        project = self._document.project
        video = Path(project.source.path) if project is not None else self._fallback_video
        if self._wanted is None or video is None:
            return
        self._worker.submit(
            PreviewRequest(
                video_path=video,
                frame_index=self._wanted,
                plan=self._current_plan(),
                plan_version=self._document.render_revision,
                max_side=self._max_side,
                # No proxy while a video is shown before its analysis made a project.
                source_hash=project.source.sha256 if project is not None else None,
            )
        )
        self.requests_sent += 1

    def _on_preview_ready(self, frame: PreviewFrame) -> None:
        self._originals.put(frame.frame_index, qimage_from_rgb(frame.original))
        if frame.anonymized is not None:
            image = qimage_from_rgb(frame.anonymized)
            self._anonymized.put((frame.frame_index, frame.plan_version), image)
            self._last_anonymized = (frame.frame_index, image)
        self.frame_ready.emit(frame.frame_index)
        if self._wanted == frame.frame_index:
            if frame.plan_version == self._document.render_revision:
                self._wanted = None
            else:  # edited while it rendered: render again with the new plan
                self._timer.start()

    def _on_preview_failed(self, job: JobInfo, message: str) -> None:
        self._wanted = None
        self.failed.emit(message)

    def _on_project_replaced(self) -> None:
        self.invalidate()
        self._fallback_video = None
        self._plan = None
        self._plan_revision = -1
        self._wanted = None
