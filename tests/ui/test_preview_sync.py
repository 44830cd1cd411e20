"""The preview's face boxes belong to the picture on screen, not to a playhead that ran
ahead of it while scrubbing. A scripted worker hands frames over when the test says."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.preview.frame_source import PreviewFrameSource
from anonnet_studio.ui.preview.panel import PreviewPanel
from anonnet_studio.ui.preview.playback import ElapsedClock, PlaybackController
from anonnet_studio.workers.requests import JobRequest, PreviewRequest
from anonnet_studio.workers.results import PreviewFrame


class ScriptedPreviewWorker(QObject):
    preview_ready = Signal(object)
    preview_failed = Signal(object, str)

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[PreviewRequest] = []

    def submit(self, request: JobRequest) -> object:
        assert isinstance(request, PreviewRequest)
        self.requests.append(request)
        return None

    def deliver(self, frame: int, version: int) -> None:
        picture = np.zeros((36, 64, 3), np.uint8)
        self.preview_ready.emit(PreviewFrame(frame, version, picture, picture))


def _overlay_tracks(panel: PreviewPanel) -> set[int]:
    return {o.key[1] for o in panel.canvas._overlays if o.key and o.key[0] == "track"}


def test_boxes_follow_the_picture_while_the_playhead_runs_ahead(qtbot, document):
    state = EditorState(document)
    worker = ScriptedPreviewWorker()
    source = PreviewFrameSource(worker, document)
    panel = PreviewPanel(document, state, source, PlaybackController(state, ElapsedClock()))
    qtbot.addWidget(panel)
    state.set_frame(20)  # demo project: only track 1 is on screen at frame 20
    worker.deliver(20, document.render_revision)
    assert panel.shown_frame == 20 and _overlay_tracks(panel) == {1}
    state.set_frame(320)  # dragged into track 3's shot; its picture is still on the way
    qtbot.waitUntil(lambda: any(r.frame_index == 320 for r in worker.requests))
    assert panel.shown_frame == 20
    assert _overlay_tracks(panel) == {1}  # still the boxes of the picture shown
    assert panel.edited_frame == 20  # and a box drawn now belongs to that picture
    worker.deliver(320, document.render_revision)
    assert panel.shown_frame == 320 and _overlay_tracks(panel) == {3}
