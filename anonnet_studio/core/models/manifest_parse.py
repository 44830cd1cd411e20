"""Strict parsing of the model manifest JSON into the dataclasses of `manifest.py`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from anonnet_studio.core.models.manifest import (
    SCHEMA_VERSION,
    HubSource,
    Manifest,
    ManifestError,
    ModelFile,
    ModelKind,
    ModelSource,
    ModelSpec,
    PackageSource,
    UrlSource,
)

_KINDS: tuple[ModelKind, ...] = ("embedded", "downloaded")
# Names become folder names on every OS, so keep them to a portable alphabet.
_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
COMMIT_PATTERN = re.compile(r"^[0-9a-f]{40}$")


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
    sources = _parse_sources(fields, label, file_level=False)
    raw_files = fields.raw("files")
    if not isinstance(raw_files, list) or not raw_files:
        raise ManifestError(f"{label}: 'files' must be a non-empty list.")
    files = tuple(_parse_file(raw, f"{label}, files[{i}]") for i, raw in enumerate(raw_files))
    paths = [f.path for f in files]
    if len(set(paths)) != len(paths):
        raise ManifestError(f"{label}: a file path is listed twice.")
    if kind == "embedded" and (
        len(sources) != 1
        or not isinstance(sources[0], PackageSource)
        or any(f.sources for f in files)
    ):
        # resolve() returns one folder, so all files must sit in one package folder.
        raise ManifestError(f"{label}: an embedded model needs one model-level package source.")
    for model_file in files:
        _check_file_sources(model_file, model_file.sources or sources, kind, label)
    if any(isinstance(source, UrlSource) for source in sources) and len(files) > 1:
        raise ManifestError(
            f"{label}: a model-level 'url' source fits one file; give each file its own."
        )
    non_commercial = fields.raw("non_commercial", default=False)
    if not isinstance(non_commercial, bool):
        raise ManifestError(f"{label}: non_commercial must be true or false.")
    return ModelSpec(
        name=name,
        purpose=fields.text("purpose"),
        kind=kind,  # type: ignore[arg-type]  # checked against _KINDS above
        licence=fields.text("licence"),
        revision=fields.text("revision"),
        files=files,
        sources=sources,
        notes=fields.text("notes", default="") or fields.text("note", default=""),
        manifest_path=origin,
        non_commercial=non_commercial,
        extra=MappingProxyType(fields.unused()),
    )


def _check_file_sources(
    model_file: ModelFile, sources: tuple[ModelSource, ...], kind: str, label: str
) -> None:
    if not sources:
        raise ManifestError(f"{label}: file '{model_file.path}' has no source.")
    if kind == "downloaded" and any(isinstance(s, PackageSource) for s in sources):
        raise ManifestError(f"{label}: a downloaded model cannot use a package source.")
    if len(sources) > 1 and model_file.sha256 is None:
        # Mirrors are only safe when every one is checked against the same published hash.
        raise ManifestError(
            f"{label}: file '{model_file.path}' lists several sources but no sha256; "
            "a mirror needs a pinned hash to be checked against."
        )


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
    evidence = fields.text("sha256_evidence", default="")
    no_public_hash = fields.text("no_public_hash", default="")
    if sha256 is not None and no_public_hash:
        raise ManifestError(f"{label}: a file with a sha256 cannot also be 'no_public_hash'.")
    if sha256 is None and evidence:
        raise ManifestError(f"{label}: 'sha256_evidence' without a sha256.")
    sources = _parse_sources(fields, label, file_level=True)
    fields.reject_unknown()
    return ModelFile(
        path=pure.as_posix(),
        size=size,
        sha256=sha256,
        sources=sources,
        sha256_evidence=evidence,
        no_public_hash=no_public_hash,
    )


def _parse_sources(fields: _Fields, label: str, *, file_level: bool) -> tuple[ModelSource, ...]:
    """`source` (one object) or `sources` (a list tried in order), but not both."""
    if "source" in fields and "sources" in fields:
        raise ManifestError(f"{label}: give 'source' or 'sources', not both.")
    if "source" in fields:
        return (_parse_source(fields.raw("source"), label, file_level=file_level),)
    if "sources" not in fields:
        return ()
    raw = fields.raw("sources")
    if not isinstance(raw, list) or not raw:
        raise ManifestError(f"{label}: 'sources' must be a non-empty list.")
    sources = tuple(
        _parse_source(item, f"{label}, sources[{i}]", file_level=file_level)
        for i, item in enumerate(raw)
    )
    if len(set(sources)) != len(sources):
        raise ManifestError(f"{label}: a source is listed twice.")
    return sources


def _parse_source(raw: object, label: str, *, file_level: bool) -> ModelSource:
    fields = _Fields(raw, f"{label}, source")
    kind = fields.text("type")
    source: ModelSource
    if kind == "package":
        source = PackageSource(package=fields.text("package"), path=fields.text("path", default=""))
    elif kind == "huggingface":
        source = _parse_hub_source(fields, label, file_level=file_level)
    elif kind == "url":
        url = fields.text("url")
        if not url.startswith(("https://", "http://")):
            raise ManifestError(f"{label}, source: url must start with https:// or http://.")
        source = UrlSource(url=url, evidence=fields.text("evidence", default=""))
    else:
        raise ManifestError(
            f"{label}, source: type must be 'package', 'huggingface' or 'url', not {kind!r}."
        )
    fields.reject_unknown()
    return source


def _parse_hub_source(fields: _Fields, label: str, *, file_level: bool) -> HubSource:
    repo = fields.text("repo")
    if repo.count("/") != 1:
        raise ManifestError(f"{label}, source: repo must look like 'owner/name'.")
    revision = fields.text("revision")
    unpinned = fields.text("unpinned", default="")
    if not COMMIT_PATTERN.match(revision) and not unpinned:
        raise ManifestError(
            f"{label}, source: revision {revision!r} is not a 40-hex commit id; pin one, or "
            "say in 'unpinned' why no commit can be pinned."
        )
    path = fields.text("path", default="") or None
    if path is not None and not file_level:
        raise ManifestError(f"{label}, source: 'path' is only allowed in a file's own source.")
    return HubSource(
        repo=repo,
        revision=revision,
        repo_type=fields.text("repo_type", default="model"),
        path=path,
        unpinned=unpinned,
        evidence=fields.text("evidence", default=""),
    )


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
        self._used.update(("source", "sources"))
        return {key: value for key, value in self._raw.items() if key not in self._used}

    def reject_unknown(self) -> None:
        unknown = sorted(set(self._raw) - self._used)
        if unknown:
            raise ManifestError(f"{self._label}: unknown field(s) {', '.join(unknown)}.")
