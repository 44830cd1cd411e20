"""`EditorContext`: what the composition root hands the main window (no globals)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from anonnet_studio.ui.dialogs.messages import Messenger
from anonnet_studio.ui.preview.playback import PlaybackClock
from anonnet_studio.ui.settings import SettingsStore
from anonnet_studio.workers.worker import ComputeWorker


@dataclass
class EditorContext:
    worker: ComputeWorker
    store: SettingsStore
    recovery_dir: Path
    # Built by the window itself when None (they need the window as parent).
    messenger: Messenger | None = None
    clock: PlaybackClock | None = None
    folder_opener: Callable[[Path], None] | None = None
    rng: random.Random = field(default_factory=random.Random)
