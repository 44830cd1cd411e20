"""Editor preferences kept in QSettings: compute device, model folder, offline mode,
defaults for new people, autosave interval."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QSettings

from anonnet_studio.core.vision.selection import BACKEND_MODELS, BackendChoice
from anonnet_studio.project.schema import Method
from anonnet_studio.workers.requests import ComputeConfig

DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_RECENT = 10


@dataclass(frozen=True, slots=True)
class EditorSettings:
    device: str = "auto"
    models_dir: str = ""  # empty: the default folder
    offline: bool = False
    default_method: Method = Method.BLUR
    default_mask_margin: float = 0.15  # fraction of the face size
    autosave_interval_s: int = 60
    face_models: BackendChoice = field(default_factory=BackendChoice)
    # Scrubbing proxies are copies of the original footage (faces included): deleted when
    # the editor closes unless the user asks to keep them for faster reopening.
    keep_preview_copies: bool = False

    def compute_config(self) -> ComputeConfig:
        return ComputeConfig(
            device=self.device,
            models_dir=Path(self.models_dir) if self.models_dir else None,
            offline=self.offline,
            backends=self.face_models,
        )

    def with_changes(self, **changes: object) -> EditorSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


class SettingsStore:
    """Reads and writes `EditorSettings` and the recent-files list in one QSettings."""

    def __init__(self, qsettings: QSettings) -> None:
        self._qs = qsettings

    def load(self) -> EditorSettings:
        """The saved settings; anything missing or invalid falls back to its default."""
        default = EditorSettings()
        device = str(self._qs.value("compute/device", default.device))
        method = str(self._qs.value("defaults/method", default.default_method.value))
        return EditorSettings(
            device=device if device in DEVICES else default.device,
            models_dir=str(self._qs.value("compute/models_dir", default.models_dir) or ""),
            offline=_as_bool(self._qs.value("compute/offline", default.offline)),
            default_method=Method(method) if method in set(Method) else default.default_method,
            default_mask_margin=_as_float(
                self._qs.value("defaults/mask_margin"), default.default_mask_margin, 0.0, 2.0
            ),
            autosave_interval_s=int(
                _as_float(
                    self._qs.value("autosave/interval_s"), default.autosave_interval_s, 5, 3600
                )
            ),
            face_models=BackendChoice.from_mapping(
                {role: self._qs.value(f"face_models/{role}") for role in BACKEND_MODELS}
            ),
            keep_preview_copies=_as_bool(
                self._qs.value("preview/keep_copies", default.keep_preview_copies)
            ),
        )

    def save(self, settings: EditorSettings) -> None:
        self._qs.setValue("compute/device", settings.device)
        self._qs.setValue("compute/models_dir", settings.models_dir)
        self._qs.setValue("compute/offline", settings.offline)
        self._qs.setValue("defaults/method", settings.default_method.value)
        self._qs.setValue("defaults/mask_margin", settings.default_mask_margin)
        self._qs.setValue("autosave/interval_s", settings.autosave_interval_s)
        for role, backend in settings.face_models.as_dict().items():
            self._qs.setValue(f"face_models/{role}", backend)
        self._qs.setValue("preview/keep_copies", settings.keep_preview_copies)
        self._qs.sync()

    # -- recent files ---------------------------------------------------------------------

    def recent_files(self) -> list[Path]:
        """Most recent first; files that no longer exist are left out."""
        raw = self._qs.value("recent/files", [])
        items = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
        return [Path(p) for p in items if p and Path(p).exists()][:MAX_RECENT]

    def add_recent_file(self, path: Path) -> list[Path]:
        path = Path(path).resolve()
        paths = [path] + [p for p in self.recent_files() if p.resolve() != path]
        self._qs.setValue("recent/files", [str(p) for p in paths[:MAX_RECENT]])
        self._qs.sync()
        return paths[:MAX_RECENT]

    def clear_recent_files(self) -> None:
        self._qs.setValue("recent/files", [])
        self._qs.sync()

    # -- window state ---------------------------------------------------------------------

    def window_state(self) -> tuple[object, object]:
        return self._qs.value("window/geometry"), self._qs.value("window/state")

    def save_window_state(self, geometry: object, state: object) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)


def _as_bool(value: object) -> bool:
    # QSettings' INI backend hands booleans back as the strings "true"/"false".
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _as_float(value: object, default: float, low: float, high: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return min(high, max(low, number))
