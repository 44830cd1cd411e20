"""Change notifications for views of a project, without Qt.

Commands publish an event after every redo and undo; the editor subscribes and refreshes
the affected widgets (a Qt adapter can re-emit them as signals on the GUI thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IdentityChanged:
    """Fields of one identity changed, e.g. {"hidden"} or {"generation.seed"}."""

    identity_id: str
    fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class IdentitiesChanged:
    """Identities were added, removed or reordered, or tracks moved between identities."""


@dataclass(frozen=True, slots=True)
class TracksChanged:
    """Tracks were added, removed, trimmed or had boxes corrected (ids of those tracks)."""

    track_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class RegionsChanged:
    """Regions that are not faces were added, removed or changed."""


@dataclass(frozen=True, slots=True)
class ReviewChanged:
    """Review items were marked reviewed or not reviewed."""


@dataclass(frozen=True, slots=True)
class VoiceChanged:
    """The voice settings (disguise, mute and bleep ranges) changed."""


_log = logging.getLogger(__name__)

ProjectEvent = (
    IdentityChanged
    | IdentitiesChanged
    | TracksChanged
    | RegionsChanged
    | ReviewChanged
    | VoiceChanged
)
ProjectListener = Callable[[ProjectEvent], None]


class ProjectEvents:
    """A minimal observer: listeners are called synchronously, in subscription order."""

    def __init__(self) -> None:
        self._listeners: list[ProjectListener] = []

    def subscribe(self, listener: ProjectListener) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: ProjectListener) -> None:
        """Remove a listener; unknown listeners are ignored (views may unsubscribe twice)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(self, event: ProjectEvent) -> None:
        """Call every listener. A failing listener is logged, not raised: events are sent at
        the end of a command's redo/undo, and an exception there would leave an applied
        change that the undo stack never recorded."""
        # Iterate over a copy so that a listener may unsubscribe itself while being called.
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("project event listener %r failed on %r", listener, event)
