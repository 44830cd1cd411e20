"""Playing a short disguised clip (the export dialog's voice preview) through QtMultimedia.

QtMultimedia is imported on first use: on a machine without its audio libraries the
editor still starts, and the preview says why it cannot play.
"""

from __future__ import annotations

import io
import wave
from typing import Protocol

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QUrl

from anonnet_studio.core.errors import AnonNetError


class VoicePlayer(Protocol):
    def play(self, samples: np.ndarray, rate: int) -> None:
        """Start playing float32 (channels, n) samples at `rate` Hz; raises AnonNetError."""
        ...


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """16-bit PCM WAV of float (channels, n) samples in [-1, 1]."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(int(samples.shape[0]))
        wav.setsampwidth(2)
        wav.setframerate(int(rate))
        wav.writeframes(np.ascontiguousarray(pcm.T).tobytes())
    return out.getvalue()


class QtVoicePlayer:
    """Plays from memory: the clip is never written to disk."""

    def __init__(self, parent: QObject) -> None:
        self._parent = parent
        self._player: QObject | None = None
        self._buffer: QBuffer | None = None

    def play(self, samples: np.ndarray, rate: int) -> None:
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
        except ImportError as exc:  # e.g. libpulse missing
            raise AnonNetError(f"Audio playback is not available on this system ({exc}).") from exc
        if self._player is None:
            created = QMediaPlayer(self._parent)
            created.setAudioOutput(QAudioOutput(created))
            self._player = created
        player = self._player
        assert isinstance(player, QMediaPlayer)
        player.stop()
        buffer = QBuffer(self._parent)
        buffer.setData(QByteArray(wav_bytes(samples, rate)))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        player.setSourceDevice(buffer, QUrl("voice-preview.wav"))
        if self._buffer is not None:
            self._buffer.deleteLater()
        self._buffer = buffer
        player.play()
