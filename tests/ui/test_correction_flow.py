"""The acceptance test of hand correction: a person the analysis missed is re-added with one
box drawn on the preview and one propagation, and the export covers them in every frame
of their shot, as an independent detector (dlib's HOG, not the YuNet CNN that followed
the face) and a pixel comparison confirm.

The clip is a montage: d18, a hard cut, then d19. Its real analysis is run, then the d19
man's identity and track are removed from it, as if the detector had missed him.
"""

from __future__ import annotations

import json

import dlib
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from anonnet_studio.core.analysis.pipeline import analyze_video
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.factory import build_embedded_vision
from anonnet_studio.project.from_analysis import project_from_analysis
from anonnet_studio.ui.timeline.items import SpanItem
from anonnet_studio.workers.requests import ComputeConfig
from anonnet_studio.workers.results import PropagationDone
from anonnet_studio.workers.services import ComputeServices
from anonnet_studio.workers.worker import ComputeWorker
from tests.conftest import fixture_video
from tests.media_factory import decode_rgb, make_montage
from tests.ui.conftest import make_window

CLIP_FRAMES = 45  # per clip: the cut is at frame 45
TIMEOUT_MS = 240_000


@pytest.fixture
def analysing_worker(qtbot, tmp_path):
    worker = ComputeWorker(ComputeServices(ComputeConfig(models_dir=tmp_path / "m", offline=True)))
    worker.start()
    yield worker
    assert worker.shutdown(30_000)


def _missed_person_project(tmp_path):
    """The montage and its analysis with the second shot's person removed."""
    clip = tmp_path / "montage.mp4"
    make_montage(
        [fixture_video("lp_d18.mp4"), fixture_video("lp_d19.mp4")], clip,
        size=(320, 320), max_frames_per_clip=CLIP_FRAMES,
    )  # fmt: skip
    manager = ModelManager.from_environment(models_dir=tmp_path / "m", offline=True)
    vision = build_embedded_vision(manager.resolve)
    project = project_from_analysis(analyze_video(clip, vision), clip)
    assert [(s.start_frame, s.end_frame) for s in project.shots] == [(0, 45), (45, 90)]
    missed = {t.identity_id for t in project.tracks.values() if t.shot_index == 1}
    assert len(missed) == 1, "the analysis found the d19 man; the test removes him"
    (missed_id,) = missed
    for track_id in project.identity(missed_id).track_ids:
        del project.tracks[track_id]
    project.identities = [i for i in project.identities if i.id != missed_id]
    assert all(t.shot_index == 0 for t in project.tracks.values())
    return clip, project, vision


def _drag(canvas, start: QPoint, end: QPoint) -> None:
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 6):
        QTest.mouseMove(canvas, start + (end - start) * step / 5)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_a_missed_face_drawn_once_is_covered_in_every_frame_of_its_shot(
    qtbot, analysing_worker, store, tmp_path
):
    clip, project, vision = _missed_person_project(tmp_path)
    window = make_window(qtbot, analysing_worker, store, tmp_path / "rec")
    window.resize(1280, 860)
    window.show()
    window.document.set_project(project)
    canvas = window.preview.canvas

    # 1. Pause on a frame of the second shot, where the man was missed.
    seed = 70
    window.state.set_frame(seed)
    qtbot.waitUntil(lambda: window.preview.shown_frame == seed, timeout=30_000)
    (face,) = vision.detector.detect(next(_frames(clip, seed, seed + 1)))
    x0, y0, x1, y1 = (float(v) for v in face.box)
    pad_x, pad_y = 0.15 * (x1 - x0), 0.2 * (y1 - y0)  # a user draws loosely around it
    drawn = (x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y)

    # 2. The face tool (its shortcut) and one drag on the preview.
    window.correction_actions.add_face.trigger()
    assert window.preview.face_tool.isChecked()
    with qtbot.waitSignal(window.corrections.propagation_finished, timeout=TIMEOUT_MS) as done:
        _drag(
            canvas,
            canvas.video_to_widget(drawn[0], drawn[1], panel=0).toPoint(),
            canvas.video_to_widget(drawn[2], drawn[3], panel=0).toPoint(),
        )
        # The new track is on the timeline at once, before propagation has finished.
        (track_id,) = [t.id for t in window.document.project.tracks.values() if t.manual]
        spans = [i for i in window.timeline.view.timeline.items() if isinstance(i, SpanItem)]
        assert track_id in {s.track_id for s in spans}
        assert not window.preview.face_tool.isChecked(), "one box, then back to selecting"
    result = done.args[0]
    assert isinstance(result, PropagationDone) and "reached the end of the shot" in result.message
    track = window.document.project.tracks[track_id]
    person = window.document.project.identity(track.identity_id)
    assert track.frames.tolist() == list(range(45, 90)), "the whole shot, not across the cut"
    assert person.hidden and np.linalg.norm(person.embedding) > 0.99
    assert person.thumbnail is not None and person.thumbnail.shape == (96, 96, 3)
    assert window.messenger.errors == []

    # 3. Export from the editor, with the leak check.
    dialog = window.show_export_dialog()
    output = tmp_path / "out" / "corrected.mp4"
    output.parent.mkdir()
    dialog.output.setText(str(output))
    dialog.open_when_done.setChecked(False)
    with qtbot.waitSignal(dialog.export_finished, timeout=TIMEOUT_MS):
        dialog.export_button.click()
    exported = dialog.outcome
    assert exported is not None and exported.verdict == "PASS"
    # The hand-drawn track covered him: the leak check had nothing to cover in his shot.
    assert not [f for f in exported.leak_frames if f >= 45]
    report = json.loads(exported.report_paths[0].read_text(encoding="utf-8"))
    (manual,) = report["corrections"]["manual_tracks"]
    assert manual["track_id"] == track_id and manual["frames"] == [[45, 89]]
    entry = next(i for i in report["identities"] if i["id"] == person.id)
    assert entry["hidden"] and entry["residual_reidentification"]["frames_sampled"] > 0

    # 4. Independent check on every frame of the shot: dlib's HOG detector finds the man in
    # the original but nowhere near his box in the export, and the pixels there changed.
    hog = dlib.get_frontal_face_detector()
    seen_before = 0
    for index, (before, after) in enumerate(zip(_frames(clip, 45, 90), _frames(output, 45, 90),
                                                strict=True)):  # fmt: skip
        frame = 45 + index
        box = track.box_at(frame)
        seen_before += any(_overlap(r, box) > 0.3 for r in hog(before, 1))
        found = [r for r in hog(after, 1) if _overlap(r, box) > 0.1]
        assert not found, f"frame {frame}: a face is still detectable at {found}"
        centre = _central(box, 0.5)
        change = np.abs(before[centre].astype(float) - after[centre].astype(float)).mean()
        assert change > 8.0, f"frame {frame}: the face barely changed ({change:.1f})"
        corner = (slice(0, 40), slice(0, 40))  # letterbox border, far from any face
        assert np.abs(before[corner].astype(float) - after[corner].astype(float)).mean() < 3
    assert seen_before >= 0.8 * 45, f"HOG saw the man in only {seen_before} original frames"


def _frames(path, start: int, end: int):
    for index, (_, image) in enumerate(decode_rgb(path, end)):
        if index >= start:
            yield image


def _overlap(rect: dlib.rectangle, box: np.ndarray) -> float:
    """Fraction of the HOG rectangle that lies inside `box`."""
    w = max(0.0, min(rect.right(), box[2]) - max(rect.left(), box[0]))
    h = max(0.0, min(rect.bottom(), box[3]) - max(rect.top(), box[1]))
    return float(w * h) / max(1.0, float(rect.width() * rect.height()))


def _central(box: np.ndarray, fraction: float) -> tuple[slice, slice]:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * fraction / 2, (box[3] - box[1]) * fraction / 2
    return slice(int(cy - hh), int(cy + hh)), slice(int(cx - hw), int(cx + hw))
