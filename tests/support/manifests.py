"""Manifests that publish the hashes of the tiny random-weight models the tests write.

The shipped manifest publishes the sha256 of the real weights, and the model manager
refuses any file that differs, so a tiny stand-in (written in the real layout at the
manifest's path) is only loadable under a manifest that publishes *its* hash, just as a
real file is only loadable under the real one.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path

from pytest import MonkeyPatch

from anonnet_studio.core.models.manifest import Manifest, load_manifest_dir
from anonnet_studio.core.resources import resources_dir


def manifest_publishing(folders: Mapping[str, Path], base: Manifest | None = None) -> Manifest:
    """`base` (default: the shipped manifest) with each file of the models in `folders`
    declared with the sha256 and size of the file found there."""
    base = base if base is not None else load_manifest_dir(resources_dir() / "models")
    specs = []
    for spec in base.models:
        folder = folders.get(spec.name)
        if folder is not None:
            files = tuple(
                dataclasses.replace(
                    f,
                    sha256=hashlib.sha256((folder / f.path).read_bytes()).hexdigest(),
                    size=(folder / f.path).stat().st_size,
                )
                for f in spec.files
            )
            spec = dataclasses.replace(spec, files=files)
        specs.append(spec)
    return Manifest(tuple(specs))


def manifest_publishing_installed(models_dir: Path, base: Manifest | None = None) -> Manifest:
    """`base` publishing the hashes of every model wholly present in `models_dir`
    (`<models_dir>/<name>/<file path>`, the user models folder layout) at this moment."""
    base = base if base is not None else load_manifest_dir(resources_dir() / "models")
    present = {
        spec.name: models_dir / spec.name
        for spec in base.models
        if spec.files and all((models_dir / spec.name / f.path).is_file() for f in spec.files)
    }
    return manifest_publishing(present, base)


def publish_installed_models(monkeypatch: MonkeyPatch, models_dir: Path) -> None:
    """Every manager built from the environment from now on (the CLI's, the editor's)
    reads a manifest that publishes the hashes of the models in `models_dir` as they are
    when it is built, so tiny stand-ins installed there load and anything else is checked
    against the shipped hashes as usual."""
    from anonnet_studio.core.models import manager as manager_module

    shipped = manager_module.load_manifest_dir

    def publishing_loader(folder: Path) -> Manifest:
        return manifest_publishing_installed(models_dir, shipped(folder))

    monkeypatch.setattr(manager_module, "load_manifest_dir", publishing_loader)


def use_user_models(monkeypatch: MonkeyPatch, folder: Path, private: Path) -> None:
    """Every manager built from the environment (the CLI's) finds the models in the user
    models folder `folder`, loads the tiny stand-ins there (their hashes published), and
    keeps its cache and settings under `private`."""
    monkeypatch.setenv("ANONNET_MODELS_DIR", str(folder))
    publish_installed_models(monkeypatch, folder)  # tiny weights differ from the real hashes
    monkeypatch.setenv("ANONNET_MODELS_CACHE", str(private / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(private / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(private / "data"))
