"""Preview: frames from the worker, debounced and cached; view modes; playback clock."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.editor_state import EditorState
from anonnet_studio.ui.images import qimage_from_rgb
from anonnet_studio.ui.preview.canvas import ComparisonCanvas, FaceOverlay, ViewMode
from anonnet_studio.ui.preview.frame_source import ImageCache, PreviewFrameSource
from anonnet_studio.ui.preview.panel import PreviewPanel
from anonnet_studio.ui.preview.playback import ElapsedClock, PlaybackController
from tests.ui.fixture_projects import fixture_project

TIMEOUT_MS = 30_000


def _to_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3)


def test_qimage_conversion_keeps_every_pixel():
    rgb = np.random.default_rng(0).integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    image = qimage_from_rgb(rgb[:, ::1])
    assert (image.width(), image.height()) == (53, 37)
    assert np.array_equal(_to_array(image), rgb)


def test_image_cache_evicts_least_recently_used_within_its_budget():
    one = QImage(100, 100, QImage.Format.Format_RGB888)
    cache = ImageCache(max_bytes=one.sizeInBytes() * 2)
    cache.put(1, one)
    cache.put(2, QImage(one))
    assert cache.get(1) is not None  # 1 is now the most recent
    cache.put(3, QImage(one))
    assert cache.get(2) is None and cache.get(1) is not None and len(cache) == 2


def _source(qtbot, worker):
    document = ProjectDocument()
    document.set_project(fixture_project())
    return document, PreviewFrameSource(worker, document)


def test_scrubbing_is_debounced_and_frames_come_from_the_cache_afterwards(qtbot, worker):
    _document, source = _source(qtbot, worker)
    with qtbot.waitSignal(source.frame_ready, timeout=TIMEOUT_MS) as blocker:
        for frame in range(10, 20):  # a burst of scrub positions within one debounce
            source.request(frame)
    assert blocker.args == [19]
    assert source.requests_sent == 1
    images = source.images(19)
    assert images.original is not None and images.anonymized is not None
    assert not images.anonymized_is_stale
    assert source.request(19) is True  # cached: nothing is sent
    assert source.requests_sent == 1


def test_an_edit_rerenders_and_meanwhile_shows_the_previous_picture(qtbot, worker):
    document, source = _source(qtbot, worker)
    with qtbot.waitSignal(source.frame_ready, timeout=TIMEOUT_MS):
        source.request(40)
    blurred = source.images(40).anonymized
    document.set_field("P1", "method", "mask")
    interim = source.images(40)
    assert interim.anonymized is blurred and interim.anonymized_is_stale
    with qtbot.waitSignal(source.frame_ready, timeout=TIMEOUT_MS):
        source.request(40)
    fresh = source.images(40)
    assert not fresh.anonymized_is_stale
    assert not np.array_equal(_to_array(fresh.anonymized), _to_array(blurred))
    assert np.array_equal(_to_array(fresh.original), _to_array(interim.original))


def _canvas_with(qtbot, mode: ViewMode) -> ComparisonCanvas:
    canvas = ComparisonCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 200)
    black = np.zeros((100, 100, 3), np.uint8)
    white = np.full((100, 100, 3), 255, np.uint8)
    canvas.set_images(qimage_from_rgb(black), qimage_from_rgb(white))
    canvas.set_overlay_visibility(boxes=False, labels=False)
    canvas.set_mode(mode)
    return canvas


def _mean_brightness(canvas: ComparisonCanvas, x: int) -> float:
    return float(_to_array(canvas.grab().toImage())[100, x].mean())


def test_view_modes_show_the_right_picture_where_expected(qtbot):
    side = _canvas_with(qtbot, ViewMode.SIDE_BY_SIDE)
    assert _mean_brightness(side, 100) < 30 and _mean_brightness(side, 300) > 220
    single = _canvas_with(qtbot, ViewMode.SINGLE)
    assert _mean_brightness(single, 200) > 220  # the anonymized picture by default
    single.set_single_shows_original(True)
    assert _mean_brightness(single, 200) < 30
    overlay = _canvas_with(qtbot, ViewMode.OVERLAY)
    overlay.set_overlay_opacity(0.5)
    assert 100 < _mean_brightness(overlay, 200) < 160
    wipe = _canvas_with(qtbot, ViewMode.WIPE)
    wipe.set_wipe(0.5)  # the picture spans x 100..300: original left, anonymized right
    assert _mean_brightness(wipe, 150) < 30 and _mean_brightness(wipe, 250) > 220
    wipe.set_wipe(0.9)
    assert _mean_brightness(wipe, 250) < 30


def test_face_boxes_are_drawn_where_the_face_is(qtbot):
    canvas = _canvas_with(qtbot, ViewMode.SINGLE)
    canvas.set_single_shows_original(True)  # black picture: the box stands out
    canvas.set_overlays(
        [FaceOverlay((20, 20, 80, 80), "Person 1", "#ff0000", True)], QSize(100, 100)
    )
    canvas.set_overlay_visibility(boxes=True, labels=False)
    pixels = _to_array(canvas.grab().toImage())
    # the picture is 200x200 at x 100..300: the box's left edge is at x = 100 + 40
    assert pixels[100, 140, 0] > 200 and pixels[100, 140, 1] < 60
    canvas.set_overlay_visibility(boxes=False, labels=False)
    assert _to_array(canvas.grab().toImage())[100, 140].max() < 30


def test_playback_advances_the_playhead_and_jkl_shuttle(qtbot, document):
    state = EditorState(document)
    playback = PlaybackController(state, ElapsedClock())
    playback.play(4.0)
    qtbot.waitUntil(lambda: state.frame > 10, timeout=5_000)
    playback.pause()
    stopped_at = state.frame
    qtbot.wait(50)
    assert state.frame == stopped_at and not playback.is_playing
    playback.forward()
    assert playback.rate == 1.0
    playback.forward()
    assert playback.rate == 2.0
    playback.reverse()
    assert playback.rate == -1.0
    qtbot.waitUntil(lambda: state.frame < stopped_at, timeout=5_000)
    playback.toggle()
    assert not playback.is_playing


def test_panel_shows_the_frame_of_the_playhead(qtbot, worker):
    document = ProjectDocument()
    state = EditorState(document)
    source = PreviewFrameSource(worker, document)
    panel = PreviewPanel(document, state, source, PlaybackController(state, ElapsedClock()))
    qtbot.addWidget(panel)
    panel.resize(800, 400)
    document.set_project(fixture_project())
    with qtbot.waitSignal(source.frame_ready, timeout=TIMEOUT_MS):
        state.set_frame(120)
    assert panel.slider.value() == 120
    assert "frame 121 / 216" in panel.timecode.text()
    assert panel.canvas._original is not None and panel.canvas._anonymized is not None
    assert sorted(o.label for o in panel.canvas._overlays) == ["Person 1", "Person 2"]
