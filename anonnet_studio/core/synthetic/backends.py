"""The synthetic-face backends by name: what each is called, which models it needs, and
why it cannot run while some are missing. Light to import (torch loads only when the
model lists are read, from the modules that load those models)."""

from __future__ import annotations

from collections.abc import Callable

from anonnet_studio.core.errors import AnonNetError
from anonnet_studio.core.synthetic.settings import (
    DEFAULT_BACKEND,
    SYNTHETIC_BACKENDS,
    SyntheticBackend,
)

__all__ = [
    "BACKEND_LABELS",
    "DEFAULT_BACKEND",
    "SYNTHETIC_BACKENDS",
    "SyntheticBackend",
    "backend_models",
    "missing_models",
    "unavailable_reason",
]

BACKEND_LABELS: dict[str, str] = {
    "anonnet": "AnonNET (SD 1.5 + ControlNets)",
    "fams": "FAMS (SD 2.1 + ReferenceNet)",
}


def backend_models(backend: str) -> tuple[str, ...]:
    """The model-manager names the backend cannot generate without."""
    if backend == "fams":
        from anonnet_studio.core.synthetic.fams.loading import FAMS_MODELS

        return FAMS_MODELS
    if backend == "anonnet":
        from anonnet_studio.core.synthetic.pipeline import REQUIRED_MODELS

        return REQUIRED_MODELS
    raise ValueError(f"unknown synthetic backend {backend!r}")


def missing_models(is_available: Callable[[str], bool], backend: str) -> tuple[str, ...]:
    """The backend's models that `is_available` (e.g. `ModelManager.is_available`) does
    not find; a name the manifest does not know counts as missing."""
    missing = []
    for name in backend_models(backend):
        try:
            available = is_available(name)
        except (AnonNetError, KeyError):  # not in the manifest: certainly not installed
            available = False
        if not available:
            missing.append(name)
    return tuple(missing)


def unavailable_reason(backend: str, missing: tuple[str, ...]) -> str:
    """Why the backend is off, with the command that fixes it."""
    from anonnet_studio.core.models.manager import DOWNLOAD_COMMAND

    label = BACKEND_LABELS.get(backend, backend)
    return (
        f"{label}: model weights not downloaded ({', '.join(missing)}); run "
        f"`{DOWNLOAD_COMMAND} {' '.join(missing)}`"
    )
