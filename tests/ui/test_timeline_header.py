"""Lane header column: the leak label appears only when an export flagged leaks."""

from __future__ import annotations

from PySide6.QtGui import QColor

from anonnet_studio.ui.timeline.panel import TimelinePanel
from anonnet_studio.ui.timeline.scene import LEAK_HEIGHT, RULER_HEIGHT


def _panel(qtbot, document, state) -> TimelinePanel:
    panel = TimelinePanel(document, state)
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _red_pixels_in_leak_row(panel: TimelinePanel) -> int:
    header = panel.view.header
    image = header.grab().toImage()
    top = header.mapFromGlobal(
        panel.view.viewport().mapToGlobal(panel.view.mapFromScene(0, RULER_HEIGHT))
    ).y()
    count = 0
    for y in range(max(0, top - 2), min(image.height(), top + int(LEAK_HEIGHT) + 3)):
        for x in range(image.width()):
            colour = QColor(image.pixel(x, y))
            if colour.red() > 150 and colour.green() < 110 and colour.blue() < 110:
                count += 1
    return count


def test_leak_label_only_after_an_export_found_leaks(qtbot, document, state):
    document.set_leak_frames([])  # a fresh analysis, or an export with 0 leaks
    panel = _panel(qtbot, document, state)
    assert not panel.view.header.shows_leak_label
    assert _red_pixels_in_leak_row(panel) == 0
    document.set_leak_frames([17, 18])  # an export's leak check flagged two frames
    assert panel.view.header.shows_leak_label
    assert _red_pixels_in_leak_row(panel) > 0
    document.set_leak_frames([])
    assert not panel.view.header.shows_leak_label
