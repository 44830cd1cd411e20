"""Model manifests: which model files exist, where they come from, and how to check them.

Every `resources/models/*.json` file declares models in one schema; `load_manifest_dir`
merges them into one `Manifest` (a name may appear only once across all files). Parsing
is strict so that a typo in a manifest fails loudly at start-up, not halfway through a
multi-gigabyte download.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Literal

from anonnet_studio.core.errors import ModelError

SCHEMA_VERSION = 1
ModelKind = Literal["embedded", "downloaded"]
_KINDS: tuple[ModelKind, ...] = ("embedded", "downloaded")
# Names become folder names on every OS, so keep them to a portable alphabet.
_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(ModelError):
    """A model manifest is malformed (a packaging bug, not something the user did)."""


@dataclass(frozen=True, slots=True)
class PackageSource:
    """Files that ship inside an installed Python package, under `path` in that package."""

    package: str
    path: str = ""


@dataclass(frozen=True, slots=True)
class HubSource:
    """Files in a Hugging Face Hub repository at a pinned revision."""

    repo: str
    revision: str
    repo_type: str = "model"


@dataclass(frozen=True, slots=True)
class UrlSource:
    """One file fetched over plain HTTPS."""

    url: str


ModelSource = PackageSource | HubSource | UrlSource


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One file of a model; `path` is relative to the model folder (POSIX separators)."""

    path: str
    size: int | None
    sha256: str | None  # None: not published; recorded on first download (trust on first use)
    source: ModelSource | None = None  # None: the model's own source


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model as declared in a manifest."""

    name: str
    purpose: str
    kind: ModelKind
    licence: str
    revision: str
    files: tuple[ModelFile, ...]
    source: ModelSource | None = None
    notes: str = ""
    manifest_path: Path | None = None
    # Model-level keys this schema does not define (e.g. "config", "layout"), kept read-only
    # for the loaders that use them.
    extra: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, hash=False
    )

    def source_of(self, model_file: ModelFile) -> ModelSource:
        """The source a file is fetched from (its own, else the model's)."""
        source = model_file.source or self.source
        assert source is not None, "parse_model_spec guarantees every file has a source"
        return source

    @property
    def total_size(self) -> int | None:
        """Sum of the file sizes, or None when any size is unknown."""
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

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
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"Cannot read the model manifest {path}: {exc.strerror}.") from exc
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"The model manifest {path} is not valid JSON (line {exc.lineno}: {exc.msg})."
        ) from exc
    return parse_manifest(document, origin=path)


def load_manifest_dir(folder: Path) -> Manifest:
    """Merge every `*.json` manifest in `folder` (sorted by file name for stable order)."""
    if not folder.is_dir():
        raise ManifestError(f"The model manifest folder {folder} does not exist.")
    return Manifest.merge(load_manifest_file(path) for path in sorted(folder.glob("*.json")))


def parse_manifest(document: object, *, origin: Path | None = None) -> Manifest:
    """Build a `Manifest` from decoded JSON; every problem names the file and the model."""
    where = str(origin) if origin else "the model manifest"
    if not isinstance(document, Mapping):
        raise ManifestError(f"{where}: the top level must be a JSON object.")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ManifestError(
            f"{where}: schema_version is {version!r}; this version of AnonNET Studio reads "
            f"schema_version {SCHEMA_VERSION}."
        )
    entries = document.get("models")
    if not isinstance(entries, list):
        raise ManifestError(f"{where}: 'models' must be a list.")
    specs = []
    for index, entry in enumerate(entries):
        label = f"{where}, models[{index}]"
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            label = f"{where}, model '{entry['name']}'"
        specs.append(_parse_spec(entry, label, origin))
    return Manifest(tuple(specs))


def _parse_spec(entry: object, label: str, origin: Path | None) -> ModelSpec:
    fields = _Fields(entry, label)
    name = fields.text("name")
    if not _NAME_PATTERN.match(name):
        raise ManifestError(
            f"{label}: the name must be lower-case letters, digits, '.', '_' or '-'."
        )
    kind = fields.text("kind")
    if kind not in _KINDS:
        raise ManifestError(f"{label}: kind must be one of {', '.join(_KINDS)}, not {kind!r}.")
    source = _parse_source(fields.raw("source"), label) if "source" in fields else None
    raw_files = fields.raw("files")
    if not isinstance(raw_files, list) or not raw_files:
        raise ManifestError(f"{label}: 'files' must be a non-empty list.")
    files = tuple(_parse_file(raw, f"{label}, files[{i}]") for i, raw in enumerate(raw_files))
    paths = [f.path for f in files]
    if len(set(paths)) != len(paths):
        raise ManifestError(f"{label}: a file path is listed twice.")
    if kind == "embedded" and (
        not isinstance(source, PackageSource) or any(f.source for f in files)
    ):
        # resolve() returns one folder, so all files must sit in one package folder.
        raise ManifestError(f"{label}: an embedded model needs one model-level package source.")
    for model_file in files:
        effective = model_file.source or source
        if effective is None:
            raise ManifestError(f"{label}: file '{model_file.path}' has no source.")
        if kind == "downloaded" and isinstance(effective, PackageSource):
            raise ManifestError(f"{label}: a downloaded model cannot use a package source.")
    if isinstance(source, UrlSource) and len(files) > 1:
        raise ManifestError(
            f"{label}: a model-level 'url' source fits one file; give each file its own."
        )
    spec = ModelSpec(
        name=name,
        purpose=fields.text("purpose"),
        kind=kind,  # type: ignore[arg-type]  # checked against _KINDS above
        licence=fields.text("licence"),
        revision=fields.text("revision"),
        files=files,
        source=source,
        notes=fields.text("notes", default="") or fields.text("note", default=""),
        manifest_path=origin,
        extra=MappingProxyType(fields.unused()),
    )
    return spec


def _parse_file(raw: object, label: str) -> ModelFile:
    fields = _Fields(raw, label)
    path = fields.text("path")
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path or not pure.parts:
        raise ManifestError(f"{label}: path {path!r} must be relative and stay inside the model.")
    size = fields.raw("size", default=None)
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise ManifestError(f"{label}: size must be a non-negative integer or null.")
    sha256 = fields.raw("sha256", default=None)
    if sha256 is not None and (not isinstance(sha256, str) or not _SHA256_PATTERN.match(sha256)):
        raise ManifestError(f"{label}: sha256 must be 64 lower-case hex digits or null.")
    source = _parse_source(fields.raw("source"), label) if "source" in fields else None
    fields.reject_unknown()
    return ModelFile(path=pure.as_posix(), size=size, sha256=sha256, source=source)


def _parse_source(raw: object, label: str) -> ModelSource:
    fields = _Fields(raw, f"{label}, source")
    kind = fields.text("type")
    source: ModelSource
    if kind == "package":
        source = PackageSource(package=fields.text("package"), path=fields.text("path", default=""))
    elif kind == "huggingface":
        repo = fields.text("repo")
        if repo.count("/") != 1:
            raise ManifestError(f"{label}, source: repo must look like 'owner/name'.")
        source = HubSource(
            repo=repo,
            revision=fields.text("revision"),
            repo_type=fields.text("repo_type", default="model"),
        )
    elif kind == "url":
        url = fields.text("url")
        if not url.startswith(("https://", "http://")):
            raise ManifestError(f"{label}, source: url must start with https:// or http://.")
        source = UrlSource(url=url)
    else:
        raise ManifestError(
            f"{label}, source: type must be 'package', 'huggingface' or 'url', not {kind!r}."
        )
    fields.reject_unknown()
    return source


class _Fields:
    """Reads keys from one JSON object and remembers which were used, to reject typos."""

    def __init__(self, raw: object, label: str) -> None:
        if not isinstance(raw, Mapping):
            raise ManifestError(f"{label}: expected a JSON object.")
        self._raw: Mapping[str, Any] = raw
        self._label = label
        self._used: set[str] = set()

    def __contains__(self, key: str) -> bool:
        return key in self._raw

    def raw(self, key: str, default: object = ...) -> Any:
        self._used.add(key)
        if key not in self._raw:
            if default is ...:
                raise ManifestError(f"{self._label}: '{key}' is missing.")
            return default
        return self._raw[key]

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw(key, ... if default is None else default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise ManifestError(f"{self._label}: '{key}' must be a non-empty string.")
        return value

    def unused(self) -> dict[str, Any]:
        return {key: value for key, value in self._raw.items() if key not in self._used}

    def reject_unknown(self) -> None:
        unknown = sorted(set(self._raw) - self._used)
        if unknown:
            raise ManifestError(f"{self._label}: unknown field(s) {', '.join(unknown)}.")
