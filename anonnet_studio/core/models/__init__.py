"""Model manifest, local resolution, verified downloads (see `manager.ModelManager`)."""

from anonnet_studio.core.models.download_plan import (
    DownloadPlan,
    SetProgress,
    check_free_space,
    plan_downloads,
    with_remote_sizes,
)
from anonnet_studio.core.models.licences import (
    LicenceNotice,
    LicencesNotAccepted,
    confirm_licences,
    licence_text,
)
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
    "DownloadPlan",
    "FileCheck",
    "FileStatus",
    "HubSource",
    "LicenceNotice",
    "LicencesNotAccepted",
    "Manifest",
    "ManifestError",
    "ModelFile",
    "ModelLocation",
    "ModelManager",
    "ModelOrigin",
    "ModelSource",
    "ModelSpec",
    "PackageSource",
    "SetProgress",
    "UrlSource",
    "VerifyReport",
    "check_free_space",
    "confirm_licences",
    "licence_text",
    "load_manifest_dir",
    "load_manifest_file",
    "parse_manifest",
    "plan_downloads",
    "with_remote_sizes",
]
