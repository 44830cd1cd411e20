"""Playback: a clock (the audio device's, when QtMultimedia is installed) drives the
playhead; frames come from our frame-accurate reader through the preview source.

With QtMultimedia, `QMediaPlayer` + `QAudioOutput` play the source's audio and their
position is the clock, so picture follows sound. Without it (PySide6-Essentials only)
playback is silent and timed by a monotonic `QElapsedTimer`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, QUrl, Signal

from anonnet_studio.ui.editor_state import EditorState

_log = logging.getLogger(__name__)

SPEEDS = (1.0, 2.0, 4.0)


class PlaybackClock(Protocol):
    has_audio: bool

    def start(self, position_s: float, rate: float) -> None: ...

    def stop(self) -> None: ...

    def position_s(self) -> float: ...

    def set_source(self, path: Path | None) -> None: ...


class ElapsedClock:
    """Silent clock: position advances with wall time times the rate."""

    has_audio = False

    def __init__(self) -> None:
        self._timer = QElapsedTimer()
        self._origin = 0.0
        self._rate = 1.0

    def start(self, position_s: float, rate: float) -> None:
        self._origin, self._rate = position_s, rate
        self._timer.restart()

    def stop(self) -> None:
        self._timer.invalidate()

    def position_s(self) -> float:
        if not self._timer.isValid():
            return self._origin
        return self._origin + self._timer.elapsed() / 1000.0 * self._rate

    def set_source(self, path: Path | None) -> None:
        """Nothing to load: this clock has no sound."""


class AudioClock:
    """The source's audio through QtMultimedia; its playback position is the clock.
    Reverse play is silent and falls back to the elapsed clock."""

    def __init__(self, parent: QObject) -> None:
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

        self._player = QMediaPlayer(parent)
        self._output = QAudioOutput(parent)
        self._player.setAudioOutput(self._output)
        self._fallback = ElapsedClock()
        self._reverse = False
        self.has_audio = True

    def set_source(self, path: Path | None) -> None:
        self._player.setSource(QUrl.fromLocalFile(str(path)) if path else QUrl())

    def start(self, position_s: float, rate: float) -> None:
        self._reverse = rate < 0
        if self._reverse:
            self._player.pause()
            self._fallback.start(position_s, rate)
            return
        self._player.setPosition(int(position_s * 1000))
        self._player.setPlaybackRate(rate)
        self._player.play()
        self._fallback.start(position_s, rate)

    def stop(self) -> None:
        self._player.pause()
        self._fallback.stop()

    def position_s(self) -> float:
        if self._reverse or self._player.position() <= 0:
            return self._fallback.position_s()
        return self._player.position() / 1000.0


def make_clock(parent: QObject) -> PlaybackClock:
    """The audio clock when QtMultimedia is available, else the silent one."""
    try:
        return AudioClock(parent)
    except ImportError:
        _log.info("QtMultimedia is not installed; playback is silent")
        return ElapsedClock()


class PlaybackController(QObject):
    """Space, J/K/L and the transport buttons end up here."""

    playing_changed = Signal(bool)
    rate_changed = Signal(float)

    def __init__(
        self, state: EditorState, clock: PlaybackClock, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._state = state
        self._clock = clock
        self._rate = 0.0  # 0 = paused
        self._start_frame = 0
        self._ticker = QTimer(self)
        self._ticker.setTimerType(Qt.TimerType.PreciseTimer)
        self._ticker.setInterval(8)
        self._ticker.timeout.connect(self._tick)
        self._moving_playhead = False
        state.frame_changed.connect(self._on_frame_changed)

    @property
    def is_playing(self) -> bool:
        return self._rate != 0.0

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def has_audio(self) -> bool:
        return self._clock.has_audio

    def set_source(self, path: Path | None) -> None:
        self.pause()
        self._clock.set_source(path)

    def toggle(self) -> None:
        """Space: play forward at normal speed, or pause."""
        if self.is_playing:
            self.pause()
        else:
            self.play(1.0)

    def play(self, rate: float = 1.0) -> None:
        if self._state.frame_count <= 0 or rate == 0:
            return
        if rate > 0 and self._state.frame >= self._state.frame_count - 1:
            self._state.set_frame(0)  # at the end: play from the start again
        self._start_frame = self._state.frame
        self._clock.start(self._start_frame / self._state.fps, rate)
        was_playing = self.is_playing
        self._rate = rate
        self._ticker.start()
        if not was_playing:
            self.playing_changed.emit(True)
        self.rate_changed.emit(rate)

    def pause(self) -> None:
        """K: stop where we are."""
        if not self.is_playing:
            return
        self._ticker.stop()
        self._clock.stop()
        self._rate = 0.0
        self.playing_changed.emit(False)
        self.rate_changed.emit(0.0)

    def forward(self) -> None:
        """L: play forward; pressed again while playing forward, go faster."""
        self.play(_next_speed(self._rate) if self._rate > 0 else 1.0)

    def reverse(self) -> None:
        """J: play backward; pressed again, faster backward."""
        self.play(-_next_speed(-self._rate) if self._rate < 0 else -1.0)

    def _tick(self) -> None:
        position = self._clock.position_s()
        frame = int(position * self._state.fps + 1e-6)
        last = self._state.frame_count - 1
        self._moving_playhead = True
        try:
            self._state.set_frame(frame)
        finally:
            self._moving_playhead = False
        if (self._rate > 0 and frame >= last) or (self._rate < 0 and frame <= 0):
            self.pause()

    def _on_frame_changed(self, frame: int) -> None:
        # A seek by the user while playing restarts the clock from the new position.
        if self.is_playing and not self._moving_playhead:
            self._start_frame = frame
            self._clock.start(frame / self._state.fps, self._rate)


def _next_speed(current: float) -> float:
    for speed in SPEEDS:
        if speed > current + 1e-9:
            return speed
    return SPEEDS[-1]
