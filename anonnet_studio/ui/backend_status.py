"""Which synthetic-face backends can run, as the worker's model check found them: what the
identity panel's backend list, the Regenerate button and "Generate for everyone" show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from anonnet_studio.core.synthetic.backends import (
    BACKEND_LABELS,
    DEFAULT_BACKEND,
    SYNTHETIC_BACKENDS,
    unavailable_reason,
)

CHECKING = "Checking which models are installed…"
SHORT_NAMES = {"anonnet": "AnonNET", "fams": "FAMS"}
MODEL_FOLDER_HINT = (
    "Or use a folder that holds them: Tools ▸ Models ▸ Use a folder…, or the model folder "
    "in Settings."
)


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """`missing` maps a backend to its models not on disk; `checking` until the worker
    has looked (then no backend counts as available)."""

    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    checking: bool = True

    def available(self, backend: str | None) -> bool:
        return not self.checking and not self.missing.get(resolve(backend))

    def reason(self, backend: str | None) -> str | None:
        """Why `backend` (None: the default) cannot generate now, with the download
        command; None when it can."""
        if self.checking:
            return CHECKING
        name = resolve(backend)
        missing = self.missing.get(name, ())
        if not missing:
            return None
        return f"Models not installed. {unavailable_reason(name, missing)}.\n{MODEL_FOLDER_HINT}"

    def unavailable(self) -> frozenset[str]:
        """The backends that cannot run (none while checking: nothing is known yet)."""
        if self.checking:
            return frozenset()
        return frozenset(b for b in SYNTHETIC_BACKENDS if self.missing.get(b))

    def any_available(self) -> bool:
        return any(self.available(b) for b in SYNTHETIC_BACKENDS)


def resolve(backend: str | None) -> str:
    """The backend that runs for a person's choice (None: the default)."""
    return backend if backend is not None else DEFAULT_BACKEND


def backend_label(backend: str | None) -> str:
    """The list entry of a person's choice: "Default (AnonNET)" for None."""
    if backend is None:
        return f"Default ({SHORT_NAMES[DEFAULT_BACKEND]})"
    return BACKEND_LABELS.get(backend, backend)
