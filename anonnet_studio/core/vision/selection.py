"""Which face-model backend serves each role: the user's choice, or "auto".

Every role has an embedded backend that ships inside installed packages (works offline,
fast on a CPU) and may have higher-accuracy downloaded ones. "auto" takes a downloaded
backend only when its weights are present and, for the per-frame roles, only on a GPU:
RetinaFace, VGG-Face and FAN cost 0.3-0.6 s per call on a 2-core CPU, 8-150x the
embedded models (scripts/bench_backends.py), which would turn a faster-than-playback
analysis into a slower-than-real-time one. ArcFace is cheaper (~1.4x SFace) but its
threshold is DeepFace's, not calibrated on our crops, so on a CPU "auto" keeps the
calibrated SFace. The race classifier runs a few times per person, so "auto" uses it on
any device. An explicit
choice is always honoured (and fails with a clear message when its weights are missing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace

AUTO = "auto"

# Role -> backend key -> manifest model name (None: embedded, always present).
BACKEND_MODELS: dict[str, dict[str, str | None]] = {
    "detector": {"yunet": None, "retinaface": "deepface-retinaface"},
    "embedder": {
        "sface": None,
        "dlib": None,
        "arcface": "deepface-arcface",
        "vgg-face": "deepface-vgg-face",
    },
    "landmarks": {"dlib": None, "fan": "face-alignment-2dfan4"},
    "race": {"off": None, "deepface": "deepface-race"},
}
EMBEDDED_DEFAULT = {"detector": "yunet", "embedder": "sface", "landmarks": "dlib", "race": "off"}
# What "auto" tries first, in order, before the embedded default.
_AUTO_PREFERENCE = {
    "detector": ("retinaface",),
    "embedder": ("arcface", "vgg-face"),
    "landmarks": ("fan",),
    "race": ("deepface",),
}
_AUTO_NEEDS_GPU = {"detector": True, "embedder": True, "landmarks": True, "race": False}

ROLE_LABELS = {
    "detector": "Face detector",
    "embedder": "Identity embedder",
    "landmarks": "68-point landmarks",
    "race": "Race classifier",
}
BACKEND_LABELS = {
    "yunet": "YuNet (embedded)",
    "retinaface": "RetinaFace (download)",
    "sface": "SFace (embedded)",
    "dlib": "dlib ResNet (embedded)",
    "arcface": "ArcFace (download)",
    "vgg-face": "VGG-Face (download)",
    "fan": "face-alignment 2D-FAN (download)",
    "deepface": "DeepFace race (download)",
    "off": "Off (set race by hand)",
}


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """The user's choice per role: a backend key from `BACKEND_MODELS`, or "auto"."""

    detector: str = AUTO
    embedder: str = AUTO
    landmarks: str = AUTO
    race: str = AUTO

    def __post_init__(self) -> None:
        for role, value in asdict(self).items():
            allowed = (AUTO, *BACKEND_MODELS[role])
            if value not in allowed:
                raise ValueError(
                    f"unknown {ROLE_LABELS[role].lower()} {value!r}; choose one of "
                    + ", ".join(allowed)
                )

    @classmethod
    def embedded(cls) -> BackendChoice:
        """Only the models that ship inside installed packages (no downloads, no torch)."""
        return cls(**EMBEDDED_DEFAULT)

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> BackendChoice:
        """From settings or a project file: unknown roles are ignored, bad values -> auto."""
        choice = cls()
        for role in BACKEND_MODELS:
            value = str(values.get(role, AUTO))
            if value in (AUTO, *BACKEND_MODELS[role]):
                choice = replace(choice, **{role: value})
        return choice

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def with_role(self, role: str, backend: str) -> BackendChoice:
        return replace(self, **{role: backend})


def resolve_backends(
    choice: BackendChoice,
    is_available: Callable[[str], bool],
    accelerated: Callable[[], bool],
) -> dict[str, str]:
    """Role -> concrete backend key. `accelerated()` is asked only when it matters (it
    imports torch), i.e. when "auto" meets a downloaded model whose weights are present."""
    resolved: dict[str, str] = {}
    gpu: bool | None = None
    for role, value in choice.as_dict().items():
        if value != AUTO:
            resolved[role] = value
            continue
        resolved[role] = EMBEDDED_DEFAULT[role]
        for candidate in _AUTO_PREFERENCE[role]:
            model = BACKEND_MODELS[role][candidate]
            if model is None or not is_available(model):
                continue
            if _AUTO_NEEDS_GPU[role]:
                gpu = accelerated() if gpu is None else gpu
                if not gpu:
                    continue
            resolved[role] = candidate
            break
    return resolved
