"""The export dialog's voice row: disguise method, strength, and a preview that disguises
a few seconds around the playhead on the worker and plays them.

Method and strength are project settings (saved with it, undoable), so the section edits
them through commands and follows undo through `voice_changed`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.core.voice.settings import STRENGTH_RANGE, VoiceMethod
from anonnet_studio.project.voice_commands import SetVoiceDisguise, clip_duration_s, has_audio
from anonnet_studio.ui.document import ProjectDocument
from anonnet_studio.ui.voice_player import QtVoicePlayer, VoicePlayer
from anonnet_studio.workers.requests import VoicePreviewRequest
from anonnet_studio.workers.results import JobInfo, VoicePreviewDone
from anonnet_studio.workers.worker import ComputeWorker

_METHOD_CHOICES = (  # (method, label, what it does)
    (VoiceMethod.OFF, "Off", "Keep the original voices (the audio is copied unchanged)"),
    (VoiceMethod.MCADAMS, "McAdams", "Move the formants, keep the pitch and timing"),
    (VoiceMethod.PITCH, "Pitch (WORLD)", "Shift pitch and formants away from the speaker's"),
)
NO_AUDIO_REASON = "The video has no audio stream, so there is no voice to disguise."
_SCALE = 100  # the slider works in hundredths of the strength


def voice_summary(section: dict[str, Any]) -> list[str]:
    """Lines for the dialog's result: the voice verdict, as the CLI prints it."""
    if not section or (section.get("method") == "off" and not section.get("mute_ranges")):
        return []
    line = f"Voice: {section['method']}, {section['verdict']}"
    for track in section.get("tracks", []):
        check = track.get("speaker_check") or {}
        if check.get("speaker_similarity") is not None:
            line += (
                f"; speaker similarity {check['speaker_similarity']:.3f} "
                f"(threshold {check['same_speaker_threshold']:.3f})"
            )
    ranges = section.get("mute_ranges", [])
    if ranges:
        line += f"; {len(ranges)} muted/bleeped range(s)"
    return [line] + [f"warning: {w}" for w in section.get("warnings", [])]


class VoiceSection(QWidget):
    def __init__(
        self,
        document: ProjectDocument,
        worker: ComputeWorker,
        playhead_s: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._worker = worker
        self._playhead_s = playhead_s
        self._syncing = False
        self._job: JobInfo | None = None
        self.player: VoicePlayer = QtVoicePlayer(self)  # replaceable in tests
        self.last_preview: VoicePreviewDone | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.method = QComboBox(self)
        self.method.setObjectName("VoiceMethod")
        for value, label, tip in _METHOD_CHOICES:
            self.method.addItem(label, value.value)
            self.method.setItemData(self.method.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.strength = QSlider(Qt.Orientation.Horizontal, self)
        self.strength.setObjectName("VoiceStrength")
        low, high = STRENGTH_RANGE
        self.strength.setRange(round(low * _SCALE), round(high * _SCALE))
        self.strength.setToolTip("How strongly to disguise (0.75 passed every fixture speaker)")
        self.strength_label = QLabel(self)
        self.preview_button = QPushButton("Preview voice", self)
        self.preview_button.setToolTip("Disguise a few seconds around the playhead and play them")
        self.strength.setMinimumWidth(120)
        self.message = QLabel(self)
        self.message.setObjectName("Hint")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        layout.addWidget(self.method)
        layout.addWidget(QLabel("Strength", self))
        layout.addWidget(self.strength, 1)
        for widget in (self.strength_label, self.preview_button):
            layout.addWidget(widget)
        self.method.currentIndexChanged.connect(self._push_settings)
        self.strength.valueChanged.connect(self._push_settings)
        self.strength.sliderReleased.connect(document.seal_merging)
        self.preview_button.clicked.connect(self.preview)
        document.voice_changed.connect(self.refresh)
        worker.job_finished.connect(self._on_finished)
        worker.job_failed.connect(self._on_failed)
        self.refresh()

    def refresh(self) -> None:
        """Show the project's settings (after an edit, an undo or a redo)."""
        project = self._document.project
        audio = project is not None and has_audio(project)
        self._syncing = True
        try:
            if project is not None:
                voice = project.voice
                self.method.setCurrentIndex(self.method.findData(voice.method.value))
                self.strength.setValue(round(voice.strength * _SCALE))
                self.strength_label.setText(f"{voice.strength:.2f}")
        finally:
            self._syncing = False
        off = project is None or project.voice.method is VoiceMethod.OFF
        self.method.setEnabled(audio)
        self.strength.setEnabled(audio and not off)
        self.preview_button.setEnabled(audio and self._job is None)
        if not audio:  # the reason goes where the user points
            for widget in (self.method, self.strength, self.preview_button):
                widget.setToolTip(NO_AUDIO_REASON)
            self._say(NO_AUDIO_REASON)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def preview(self) -> None:
        """Disguise a few seconds around the playhead on the worker, then play them."""
        project = self._document.project
        if project is None or not has_audio(project) or self._job is not None:
            return
        request = VoicePreviewRequest(
            video_path=Path(project.source.path),
            settings=project.voice,
            center_s=max(0.0, self._playhead_s()),
            duration_s=clip_duration_s(project),
        )
        self.last_preview = None
        self._job = self._worker.submit(request)
        self.preview_button.setEnabled(False)
        self._say("Disguising a few seconds of the voice…")

    def _push_settings(self) -> None:
        if self._syncing or self._document.project is None:
            return
        method = str(self.method.currentData())
        strength = self.strength.value() / _SCALE
        self._document.push_built(
            lambda: SetVoiceDisguise(method, strength, events=self._document.events)
        )
        self.refresh()  # a rejected edit puts the controls back

    def _on_finished(self, job: JobInfo, result: object) -> None:
        if self._job is None or job.job_id != self._job.job_id:
            return
        self._job = None
        self.refresh()
        if not isinstance(result, VoicePreviewDone):
            return
        self.last_preview = result
        seconds = result.samples.shape[1] / result.rate
        try:
            self.player.play(result.samples, result.rate)
        except AnonNetError as exc:
            self._say(f"Disguised, but cannot play it: {exc.message}")
            return
        self._say(
            f"Playing {seconds:.1f} s from {result.start_s:.1f} s with the {result.method} voice."
        )

    def _on_failed(self, job: JobInfo, message: str) -> None:
        if self._job is not None and job.job_id == self._job.job_id:
            self._job = None
            self.refresh()
            self._say(f"Preview failed: {message}")
