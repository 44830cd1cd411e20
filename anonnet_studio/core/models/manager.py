"""`ModelManager`: finds model files locally and downloads them on request.

Resolution order for a model (the first place holding *every* file wins):
1. a folder the user chose for that model with `set_local_path` (kept in a JSON settings file);
2. the user's models folder, `user_dir/<name>/`;
3. files embedded in an installed Python package (`embedded.py`);
4. the download cache, `cache_dir/<name>/<revision>/`.

`resolve` never touches the network. `download` is the only method that does, and it
refuses in offline mode before opening any connection. `resolve` (and so `file`, and every
loader fed by them) checks each file against its known sha256 before handing the folder
out (`integrity.py`): a changed model is a `ModelIntegrityError`, never loaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from anonnet_studio.core.errors import ModelError, ModelIntegrityError, ModelUnavailableError
from anonnet_studio.core.models.downloader import DownloadSettings, ModelDownloader
from anonnet_studio.core.models.embedded import package_dir
from anonnet_studio.core.models.integrity import VerificationCache, require_intact
from anonnet_studio.core.models.location import ModelLocation, ModelOrigin
from anonnet_studio.core.models.manifest import (
    Manifest,
    ModelSpec,
    PackageSource,
    load_manifest_dir,
)
from anonnet_studio.core.models.stores import LocalPathSettings, TrustedHash, TrustedHashes
from anonnet_studio.core.models.verify import FileStatus, VerifyReport, verify_location
from anonnet_studio.core.progress import CancelToken, ProgressCallback
from anonnet_studio.core.resources import resources_dir

APP_NAME = "anonnet-studio"
DOWNLOAD_COMMAND = "anonnet-studio models download"
_TRUTHY = {"1", "true", "yes", "on"}


class ModelManager:
    """Resolves, downloads and verifies the models declared in a `Manifest`."""

    def __init__(
        self,
        manifest: Manifest,
        *,
        user_dir: Path | None,
        cache_dir: Path,
        offline: bool = False,
        http_timeout_s: float = 30.0,
        max_attempts: int = 3,
        settings_path: Path | None = None,
        hf_endpoint: str | None = None,
        retry_delay_s: float = 1.0,
    ) -> None:
        """`settings_path` holds `set_local_path` choices (default: in `cache_dir`);
        `hf_endpoint` overrides the Hugging Face Hub address (mirrors, tests);
        `retry_delay_s` is the first backoff before a failed download is retried."""
        self.manifest = manifest
        self.user_dir = user_dir
        self.cache_dir = cache_dir
        self.offline = offline
        self._local_paths = LocalPathSettings(settings_path or cache_dir / "model-locations.json")
        self._trusted = TrustedHashes(cache_dir / "trusted-sha256.json")
        self._verified = VerificationCache(cache_dir / "verified-files.json")
        self._downloader = ModelDownloader(
            DownloadSettings(
                http_timeout_s, max(1, max_attempts), hf_endpoint, max(0.0, retry_delay_s)
            ),
            self._trusted,
        )

    @classmethod
    def from_environment(
        cls,
        *,
        manifest: Manifest | None = None,
        models_dir: Path | None = None,
        offline: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ModelManager:
        """A manager with the default folders, overridable through the environment.

        user models folder: `models_dir`, else `$ANONNET_MODELS_DIR`, else
        `<platform data dir>/anonnet-studio/models`; download cache: `$ANONNET_MODELS_CACHE`,
        else `<platform data dir>/anonnet-studio/downloads` (not the OS cache folder, which
        cleaners may empty); offline: `offline`, else `$ANONNET_OFFLINE` or `$HF_HUB_OFFLINE`
        set to 1/true/yes/on.
        """
        # Imported here so that importing core stays cheap for code that never builds one.
        import platformdirs

        env = os.environ if environ is None else environ
        data_dir = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        config_dir = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
        user_dir = models_dir or _env_path(env, "ANONNET_MODELS_DIR") or data_dir / "models"
        cache_dir = _env_path(env, "ANONNET_MODELS_CACHE") or data_dir / "downloads"
        if offline is None:
            offline = any(
                env.get(key, "").strip().lower() in _TRUTHY
                for key in ("ANONNET_OFFLINE", "HF_HUB_OFFLINE")
            )
        return cls(
            manifest if manifest is not None else load_manifest_dir(resources_dir() / "models"),
            user_dir=user_dir,
            cache_dir=cache_dir,
            offline=offline,
            settings_path=config_dir / "model-locations.json",
            hf_endpoint=env.get("HF_ENDPOINT") or None,
        )

    # --- lookup ------------------------------------------------------------------------

    def specs(self) -> tuple[ModelSpec, ...]:
        """Every declared model, in manifest order."""
        return self.manifest.models

    def spec(self, name: str) -> ModelSpec:
        return self.manifest.get(name)

    def locate(self, name: str) -> ModelLocation | None:
        """Where the model would be loaded from, or None when no place has every file."""
        spec = self.manifest.get(name)
        for origin, folder in self._candidates(spec):
            if folder is not None and not _missing_files(spec, folder):
                return ModelLocation(name, folder, origin)
        return None

    def resolve(self, name: str) -> Path:
        """The folder holding the model's files (laid out as in the manifest).

        Never downloads. Raises `ModelUnavailableError` saying which files are missing and
        where to put them or which command downloads them, and `ModelIntegrityError` when
        a file differs from its known sha256 (checked on every call, hashed only when the
        file changed on disk).
        """
        spec = self.manifest.get(name)
        location = self.locate(name)
        if location is None:
            raise self._unavailable(spec)
        require_intact(spec, location, self._trusted, self._verified)
        return location.folder

    def is_available(self, name: str) -> bool:
        return self.locate(name) is not None

    def file(self, name: str, relpath: str) -> Path:
        """Path of one manifest file of the model (see `resolve`)."""
        model_file = self.manifest.get(name).find_file(relpath)
        if model_file is None:
            raise ModelError(f"'{relpath}' is not a file of model '{name}' in the manifest.")
        return self.resolve(name) / model_file.path

    def user_folder(self, name: str) -> Path | None:
        """`user_dir/<name>/`, where a user may drop a model's files by hand."""
        return self.user_dir / name if self.user_dir is not None else None

    def cache_folder(self, name: str) -> Path:
        """Where `download` puts the model: `cache_dir/<name>/<revision>/`."""
        spec = self.manifest.get(name)
        return self.cache_dir / spec.name / _folder_safe(spec.revision)

    # --- user choices --------------------------------------------------------------------

    def local_path(self, name: str) -> Path | None:
        """The folder chosen with `set_local_path`, if any."""
        self.manifest.get(name)
        return self._local_paths.get(name)

    def set_local_path(self, name: str, folder: Path | None) -> None:
        """Use `folder` (holding the model's files) for `name` from now on; None forgets it.

        The choice is saved to the settings file. Raises `ModelUnavailableError` when the
        folder lacks any of the model's files, so a wrong folder is caught at once.
        """
        spec = self.manifest.get(name)
        if folder is not None:
            folder = folder.expanduser().resolve()
            if not folder.is_dir():
                raise ModelUnavailableError(f"{folder} is not a folder.")
            missing = _missing_files(spec, folder)
            if missing:
                raise ModelUnavailableError(
                    f"{folder} does not hold model '{name}': missing {', '.join(missing)}.",
                    hint="Choose the folder that directly contains these files.",
                )
        self._local_paths.set(name, folder)

    def use_folder(
        self,
        name: str,
        folder: Path | None,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> VerifyReport | None:
        """`set_local_path`, then every file hashed where the model now resolves.

        A folder whose files contradict a known sha256 is refused (the previous choice is
        restored, `ModelIntegrityError` names the files), so a wrong or damaged copy is
        caught when it is chosen rather than when a job first loads it; so is a cancelled
        check. None forgets the choice (nothing to check)."""
        previous = self.local_path(name)
        self.set_local_path(name, folder)
        if folder is None:
            return None
        try:
            report = self.verify(name, on_progress=on_progress, cancel=cancel)
        except BaseException:
            self._local_paths.set(name, previous)
            raise
        bad = [check.path for check in report.files if check.status is FileStatus.MISMATCH]
        if bad:
            self._local_paths.set(name, previous)
            raise ModelIntegrityError(
                f"{folder} does not hold the expected files of model '{name}': "
                f"{', '.join(bad)} differ from their known sha256.",
                hint="Choose a complete, unmodified copy, or download the model.",
            )
        return report

    # --- network -------------------------------------------------------------------------

    def download(
        self,
        name: str,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Make the model available, downloading it into the cache if needed.

        Returns the folder (as `resolve` would). A model that is already available anywhere
        is not downloaded again. In offline mode this raises `ModelUnavailableError`
        without opening any connection.
        """
        spec = self.manifest.get(name)
        location = self.locate(name)
        if location is not None:
            return location.folder
        if spec.kind == "embedded":
            raise self._unavailable(spec)
        if self.offline:
            raise ModelUnavailableError(
                f"Model '{name}' is not available and offline mode is on, so it was not "
                "downloaded (no network connection was attempted).",
                hint=self._placement_hint(spec, allow_download=False)
                + " Or turn offline mode off (--offline, $ANONNET_OFFLINE, $HF_HUB_OFFLINE) "
                "and download it.",
            )
        return self._downloader.download(
            spec, self.cache_folder(name), on_progress=on_progress, cancel=cancel
        )

    def remote_size(self, name: str, relpath: str) -> int | None:
        """The size a source reports for a file the manifest gives no size for (network).

        None when offline, when no source answers, or when none announces a size.
        """
        spec = self.manifest.get(name)
        model_file = spec.find_file(relpath)
        if model_file is None or self.offline or spec.kind != "downloaded":
            return model_file.size if model_file is not None else None
        return self._downloader.remote_size(spec, model_file)

    def recorded_hash(self, name: str, relpath: str) -> TrustedHash | None:
        """The sha256 recorded on download for a file the manifest pins no hash for."""
        spec = self.manifest.get(name)
        return self._trusted.get(spec.name, spec.revision, relpath)

    def verify(
        self,
        name: str,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> VerifyReport:
        """sha256 of every file where the model resolves, compared with the known hashes."""
        spec = self.manifest.get(name)
        return verify_location(
            spec, self.locate(name), self._trusted, on_progress=on_progress, cancel=cancel
        )

    # --- internals -----------------------------------------------------------------------

    def _candidates(self, spec: ModelSpec) -> list[tuple[ModelOrigin, Path | None]]:
        candidates: list[tuple[ModelOrigin, Path | None]] = [
            (ModelOrigin.LOCAL_PATH, self._local_paths.get(spec.name)),
            (ModelOrigin.USER_DIR, self.user_folder(spec.name)),
        ]
        if isinstance(spec.source, PackageSource):
            root = package_dir(spec.source.package)
            folder = root / spec.source.path if root is not None else None
            candidates.append((ModelOrigin.EMBEDDED, folder))
        candidates.append((ModelOrigin.CACHE, self.cache_folder(spec.name)))
        return candidates

    def _unavailable(self, spec: ModelSpec) -> ModelUnavailableError:
        target = self.user_folder(spec.name) or self.cache_folder(spec.name)
        missing = _missing_files(spec, target)
        message = (
            f"Model '{spec.name}' ({spec.purpose}) is not available: missing {', '.join(missing)}."
        )
        chosen = self._local_paths.get(spec.name)
        if chosen is not None:
            lacking = _missing_files(spec, chosen)
            message += f" The folder chosen for it, {chosen}, lacks {', '.join(lacking)}."
        allow_download = spec.kind == "downloaded" and not self.offline
        return ModelUnavailableError(
            message, hint=self._placement_hint(spec, allow_download=allow_download)
        )

    def _placement_hint(self, spec: ModelSpec, *, allow_download: bool) -> str:
        target = self.user_folder(spec.name) or self.cache_folder(spec.name)
        files = ", ".join(f.path for f in spec.files)
        put = f"put {files} in {target}{os.sep}"
        if isinstance(spec.source, PackageSource):
            return (
                f"It ships inside the Python package '{spec.source.package}' "
                f"({spec.revision}); reinstall that package, or {put}."
            )
        if allow_download:
            return f"Download it with `{DOWNLOAD_COMMAND} {spec.name}`, or {put}."
        if spec.kind == "downloaded":
            return f"Copy the files from a machine that has them: {put}."
        return f"{put[0].upper()}{put[1:]}."


def _missing_files(spec: ModelSpec, folder: Path) -> list[str]:
    return [f.path for f in spec.files if not (folder / f.path).is_file()]


def _folder_safe(revision: str) -> str:
    """A revision label usable as one folder name on every OS."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", revision).strip("._") or "default"


def _env_path(env: Mapping[str, str], key: str) -> Path | None:
    value = env.get(key, "").strip()
    return Path(value).expanduser() if value else None
