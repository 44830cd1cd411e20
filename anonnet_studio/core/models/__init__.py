"""Model manifest, local resolution, verified downloads (see `manager.ModelManager`)."""

from anonnet_studio.core.models.location import ModelLocation, ModelOrigin
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.models.manifest import (
    HubSource,
    Manifest,
    ManifestError,
    ModelFile,
    ModelSource,
    ModelSpec,
    PackageSource,
    UrlSource,
    load_manifest_dir,
    load_manifest_file,
    parse_manifest,
)
from anonnet_studio.core.models.verify import FileCheck, FileStatus, VerifyReport

__all__ = [
    "FileCheck",
    "FileStatus",
    "HubSource",
    "Manifest",
    "ManifestError",
    "ModelFile",
    "ModelLocation",
    "ModelManager",
    "ModelOrigin",
    "ModelSource",
    "ModelSpec",
    "PackageSource",
    "UrlSource",
    "VerifyReport",
    "load_manifest_dir",
    "load_manifest_file",
    "parse_manifest",
]
