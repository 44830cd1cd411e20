"""Typed errors with messages meant for the person using the tool.

Every error the CLI or GUI can show derives from `AnonNetError`; its `str()` is a complete,
human-readable sentence, and `hint` (optional) says what to do about it.
"""

from __future__ import annotations


class AnonNetError(Exception):
    """Base class for every expected failure (bad input, missing model, unwritable output)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_message(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message

    def one_line(self) -> str:
        """The message and hint on one line (for a terminal or a log)."""
        return " ".join(line.strip() for line in self.user_message().splitlines() if line.strip())


class OperationCancelled(AnonNetError):
    """The user cancelled a long-running operation; nothing half-written is left behind."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)


# --- input media -------------------------------------------------------------------------


class MediaError(AnonNetError):
    """A problem with an input media file."""


class MediaNotFoundError(MediaError):
    pass


class MediaUnreadableError(MediaError):
    """The path exists but cannot be read (permissions, a directory, ...)."""


class CorruptMediaError(MediaError):
    """The container or stream data is damaged or truncated."""


class NoVideoStreamError(MediaError):
    pass


class UnsupportedCodecError(MediaError):
    pass


class EmptyVideoError(MediaError):
    """The video stream decodes to zero frames."""


# --- output ------------------------------------------------------------------------------


class OutputError(AnonNetError):
    """The destination cannot be written (missing folder, permissions, disk full)."""


# --- models ------------------------------------------------------------------------------


class ModelError(AnonNetError):
    """A model is missing, corrupt, or cannot be loaded."""


class ModelUnavailableError(ModelError):
    """A model is not present locally and cannot (or may not) be downloaded."""


class ModelIntegrityError(ModelError):
    """A model file does not match the sha256 in the manifest."""


# --- project documents -------------------------------------------------------------------


class ProjectFileError(AnonNetError):
    """A project file is corrupt, foreign, or from an unknown future version."""
