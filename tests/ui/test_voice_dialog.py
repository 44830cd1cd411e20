"""The export dialog's voice controls: project settings, undo, preview on the worker."""

from __future__ import annotations

import dataclasses
import io
import sys
import threading
import wave

import numpy as np

from anonnet_studio.core.voice.settings import VoiceMethod
from anonnet_studio.ui.dialogs.voice_section import NO_AUDIO_REASON
from anonnet_studio.ui.voice_player import wav_bytes
from anonnet_studio.workers import handlers, voice_jobs
from anonnet_studio.workers.requests import VoicePreviewRequest
from tests.core.voice.voice_media import CLEAN_SPEECH_FIXTURE
from tests.ui.conftest import make_window
from tests.ui.fixture_projects import fixture_project

TIMEOUT_MS = 60_000


class RecordingPlayer:
    def __init__(self) -> None:
        self.played: list[tuple[np.ndarray, int]] = []

    def play(self, samples: np.ndarray, rate: int) -> None:
        self.played.append((samples, rate))


def _dialog(qtbot, worker, store, tmp_path, project):
    window = make_window(qtbot, worker, store, tmp_path / "rec")
    window.document.set_project(project)
    return window, window.show_export_dialog()


def test_method_and_strength_are_undoable_project_settings(qtbot, worker, store, tmp_path):
    window, dialog = _dialog(qtbot, worker, store, tmp_path, fixture_project(CLEAN_SPEECH_FIXTURE))
    voice = dialog.voice
    assert voice.method.currentData() == "off" and not voice.strength.isEnabled()
    voice.method.setCurrentIndex(voice.method.findData("mcadams"))
    for value in (60, 70, 90):  # one slider drag
        voice.strength.setValue(value)
    project = window.document.project
    assert project.voice.method is VoiceMethod.MCADAMS and project.voice.strength == 0.9
    assert voice.strength.isEnabled() and voice.strength_label.text() == "0.90"
    stack = window.document.undo_stack
    assert stack.count() == 2  # method, then the drag as one step
    stack.undo()
    assert project.voice.strength == 0.75 and voice.strength.value() == 75
    stack.undo()
    assert project.voice.method is VoiceMethod.OFF and voice.method.currentData() == "off"
    stack.redo()
    assert voice.method.currentData() == "mcadams"
    assert dialog.build_request().project.voice == project.voice  # what the export uses


def test_preview_disguises_on_the_worker_and_plays_the_clip(
    qtbot, worker, store, tmp_path, monkeypatch
):
    window, dialog = _dialog(qtbot, worker, store, tmp_path, fixture_project(CLEAN_SPEECH_FIXTURE))
    voice = dialog.voice
    voice.player = player = RecordingPlayer()
    voice.method.setCurrentIndex(voice.method.findData("pitch"))
    threads = []
    real = voice_jobs.preview_voice

    def spy(request, *args):
        threads.append(threading.current_thread())
        return real(request, *args)

    monkeypatch.setitem(handlers._HANDLERS, VoicePreviewRequest, spy)
    window.state.set_frame(120)  # 4.8 s into the clip
    voice.preview_button.click()
    assert not voice.preview_button.isEnabled()  # one preview at a time
    # Other jobs (thumbnails, the preview proxy) may finish first: wait for this one.
    qtbot.waitUntil(lambda: voice.preview_button.isEnabled(), timeout=TIMEOUT_MS)
    assert threads and threads[0] is not threading.main_thread()
    clip = voice.last_preview
    assert clip is not None and clip.method == "pitch"
    assert clip.start_s == 120 / window.state.fps - 2.0 and clip.samples.shape[1] == 4 * clip.rate
    assert len(player.played) == 1 and player.played[0][0] is clip.samples
    assert "Playing 4.0 s" in voice.message.text() and voice.preview_button.isEnabled()


def test_a_video_without_audio_disables_the_voice_controls(qtbot, worker, store, tmp_path):
    project = fixture_project()
    info = {**project.source.media_info, "audio": []}
    project.source = dataclasses.replace(project.source, media_info=info)
    _, dialog = _dialog(qtbot, worker, store, tmp_path, project)
    voice = dialog.voice
    for widget in (voice.method, voice.strength, voice.preview_button):
        assert not widget.isEnabled() and widget.toolTip() == NO_AUDIO_REASON
    assert voice.message.text() == NO_AUDIO_REASON


def test_without_qtmultimedia_the_preview_says_why_it_cannot_play(
    qtbot, worker, store, tmp_path, monkeypatch
):
    _, dialog = _dialog(qtbot, worker, store, tmp_path, fixture_project(CLEAN_SPEECH_FIXTURE))
    voice = dialog.voice  # its default player: QtMultimedia, imported when it plays
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # import fails
    voice.preview_button.click()
    qtbot.waitUntil(lambda: voice.preview_button.isEnabled(), timeout=TIMEOUT_MS)
    assert voice.last_preview is not None
    assert "cannot play it: Audio playback is not available" in voice.message.text()


def test_wav_bytes_hold_the_clip_as_16_bit_pcm():
    samples = np.array([[0.0, 0.5, -1.0, 2.0], [0.25, 0.0, 0.0, -0.5]], dtype=np.float32)
    with wave.open(io.BytesIO(wav_bytes(samples, 16_000))) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (2, 16_000, 4)
        frames = np.frombuffer(wav.readframes(4), dtype="<i2").reshape(4, 2).T
    expected = np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16)
    np.testing.assert_array_equal(frames, expected)
