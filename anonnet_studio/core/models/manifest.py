"""Model manifests: which model files exist, where they come from, and how to check them.

Every `resources/models/*.json` file declares models in one schema; `load_manifest_dir`
merges them into one `Manifest` (a name may appear only once across all files). Parsing
(`manifest_parse.py`) is strict so that a typo in a manifest fails loudly at start-up, not
halfway through a multi-gigabyte download.

Trust is explicit in the schema: a downloaded file either pins a `sha256` and says where
that hash was published (`sha256_evidence`), or says why no public hash exists
(`no_public_hash`); a Hub source pins a commit (or says why it cannot, `unpinned`). A file
may list several `sources` (mirrors), tried in order, each checked against the same hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Literal

from anonnet_studio.core.errors import ModelError

SCHEMA_VERSION = 1
ModelKind = Literal["embedded", "downloaded"]


class ManifestError(ModelError):
    """A model manifest is malformed (a packaging bug, not something the user did)."""


@dataclass(frozen=True, slots=True)
class PackageSource:
    """Files that ship inside an installed Python package, under `path` in that package."""

    package: str
    path: str = ""


@dataclass(frozen=True, slots=True)
class HubSource:
    """Files in a Hugging Face Hub repository at a pinned revision (a 40-hex commit id).

    `path` is the file's path inside the repository when it differs from the model file's
    own path (a mirror that stores it elsewhere). `unpinned` says why `revision` is not a
    commit, when no public record of one exists; `evidence` says where the revision came
    from. Neither takes part in equality: they document the pin, they do not change it.
    """

    repo: str
    revision: str
    repo_type: str = "model"
    path: str | None = None
    unpinned: str = field(default="", compare=False)
    evidence: str = field(default="", compare=False)

    def path_for(self, model_file: ModelFile) -> str:
        return self.path or model_file.path


@dataclass(frozen=True, slots=True)
class UrlSource:
    """One file fetched over plain HTTPS (a versioned URL, e.g. a release asset)."""

    url: str
    evidence: str = field(default="", compare=False)


ModelSource = PackageSource | HubSource | UrlSource


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One file of a model; `path` is relative to the model folder (POSIX separators)."""

    path: str
    size: int | None
    sha256: str | None  # None: no public hash (see `no_public_hash`)
    sources: tuple[ModelSource, ...] = ()  # empty: the model's own sources
    sha256_evidence: str = field(default="", compare=False)
    no_public_hash: str = field(default="", compare=False)  # why sha256 is None

    @property
    def source(self) -> ModelSource | None:
        """The first of the file's own sources, if it has any."""
        return self.sources[0] if self.sources else None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model as declared in a manifest."""

    name: str
    purpose: str
    kind: ModelKind
    licence: str
    revision: str
    files: tuple[ModelFile, ...]
    sources: tuple[ModelSource, ...] = ()
    notes: str = ""
    manifest_path: Path | None = None
    # True when the licence forbids commercial use (shown before a download).
    non_commercial: bool = False
    # Model-level keys this schema does not define (e.g. "config", "layout"), kept read-only
    # for the loaders that use them.
    extra: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, hash=False
    )

    @property
    def source(self) -> ModelSource | None:
        """The model's first (preferred) source."""
        return self.sources[0] if self.sources else None

    def sources_of(self, model_file: ModelFile) -> tuple[ModelSource, ...]:
        """The sources a file is fetched from, in the order they are tried."""
        sources = model_file.sources or self.sources
        assert sources, "parse_manifest guarantees every file has a source"
        return sources

    def source_of(self, model_file: ModelFile) -> ModelSource:
        """The preferred source of a file (its own first, else the model's first)."""
        return self.sources_of(model_file)[0]

    @property
    def total_size(self) -> int | None:
        """Sum of the file sizes, or None when any size is unknown."""
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    @property
    def unpinned_reason(self) -> str:
        """Why a source of this model is not pinned to a commit ("" when all are)."""
        for model_file in self.files:
            for source in self.sources_of(model_file):
                if isinstance(source, HubSource) and source.unpinned:
                    return source.unpinned
        return ""

    def find_file(self, relpath: str) -> ModelFile | None:
        wanted = PurePosixPath(relpath).as_posix()
        return next((f for f in self.files if f.path == wanted), None)


@dataclass(frozen=True, slots=True)
class Manifest:
    """All declared models, by name, in declaration order."""

    models: tuple[ModelSpec, ...]

    def __post_init__(self) -> None:
        seen: dict[str, ModelSpec] = {}
        for spec in self.models:
            if spec.name in seen:
                first = seen[spec.name].manifest_path or "an earlier manifest"
                second = spec.manifest_path or "a later one"
                raise ManifestError(
                    f"Model '{spec.name}' is declared twice (in {first} and in {second})."
                )
            seen[spec.name] = spec

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)

    def __contains__(self, name: object) -> bool:
        return any(spec.name == name for spec in self.models)

    def get(self, name: str) -> ModelSpec:
        """The spec called `name`; raises `ModelError` listing the known names otherwise."""
        for spec in self.models:
            if spec.name == name:
                return spec
        known = ", ".join(spec.name for spec in self.models) or "none"
        raise ModelError(f"Unknown model '{name}'. Known models: {known}.")

    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.models)

    @staticmethod
    def merge(manifests: Iterable[Manifest]) -> Manifest:
        """One manifest holding every model; raises `ManifestError` on a duplicate name."""
        return Manifest(tuple(spec for manifest in manifests for spec in manifest.models))


def load_manifest_file(path: Path) -> Manifest:
    """Parse one manifest JSON file."""
    # Imported here: the parser imports this module for the dataclasses.
    from anonnet_studio.core.models.manifest_parse import load_manifest_file as load

    return load(path)


def load_manifest_dir(folder: Path) -> Manifest:
    """Merge every `*.json` manifest in `folder` (sorted by file name for stable order)."""
    if not folder.is_dir():
        raise ManifestError(f"The model manifest folder {folder} does not exist.")
    return Manifest.merge(load_manifest_file(path) for path in sorted(folder.glob("*.json")))


def parse_manifest(document: object, *, origin: Path | None = None) -> Manifest:
    """Build a `Manifest` from decoded JSON; every problem names the file and the model."""
    from anonnet_studio.core.models.manifest_parse import parse_manifest as parse

    return parse(document, origin=origin)
