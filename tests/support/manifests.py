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
