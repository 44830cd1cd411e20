"""What the compute thread owns: the model manager, loaded models and open video readers.

Every loader runs lazily on first use, and the worker only calls these methods from its
own thread, so models are never loaded on the GUI thread. Nothing here is global: the
composition root builds one `ComputeServices` and hands it to the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anonnet_studio.core.media.proxy import ProxyBuilder
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.selection import BackendChoice
from anonnet_studio.workers.requests import ComputeConfig

if TYPE_CHECKING:
    from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator
    from anonnet_studio.core.synthetic.verify import EmbeddingVerifier
    from anonnet_studio.core.vision.factory import VisionModels
    from anonnet_studio.core.voice.speaker_encoder import SpeakerEncoder

ManagerFactory = Callable[[ComputeConfig], ModelManager]
# (model manager, backend choice, device preference) -> loaded face models
VisionLoader = Callable[[ModelManager, BackendChoice, str], "VisionModels"]


def default_manager_factory(config: ComputeConfig) -> ModelManager:
    """The model manager for the user's settings (folders from the environment)."""
    return ModelManager.from_environment(models_dir=config.models_dir, offline=config.offline)


def default_vision_loader(
    manager: ModelManager, choice: BackendChoice, device: str
) -> VisionModels:
    from anonnet_studio.app.runtime import load_vision_models

    return load_vision_models(manager, choice, device)


class ComputeServices:
    """Lazily built resources of the compute thread; `configure` drops them all."""

    def __init__(
        self,
        config: ComputeConfig,
        *,
        manager_factory: ManagerFactory = default_manager_factory,
        vision_loader: VisionLoader = default_vision_loader,
        proxies: ProxyBuilder | None = None,
    ) -> None:
        """`proxies` builds the preview's scrubbing proxies (none: it reads the source)."""
        self._config = config
        self._manager_factory = manager_factory
        self._vision_loader = vision_loader
        self._manager: ModelManager | None = None
        self._vision: dict[BackendChoice, VisionModels] = {}
        self._generator: SyntheticFaceGenerator | None = None
        self._verifiers: dict[str | None, EmbeddingVerifier] = {}
        self._speaker_encoder: SpeakerEncoder | None = None
        self._reader: VideoReader | None = None
        self._reader_path: Path | None = None
        self._proxies = proxies
        self._proxy_reader: VideoReader | None = None
        self._proxy_path: Path | None = None

    @property
    def config(self) -> ComputeConfig:
        return self._config

    def configure(self, config: ComputeConfig) -> None:
        """Use new settings; models load again on next use (a device change needs it)."""
        self._config = config
        self._manager = None
        self.drop_loaded_models()

    def drop_loaded_models(self) -> None:
        """Load every model again on next use (a model's folder changed)."""
        self._vision = {}
        self._generator = None
        self._verifiers = {}
        self._speaker_encoder = None

    def manager(self) -> ModelManager:
        if self._manager is None:
            self._manager = self._manager_factory(self._config)
        return self._manager

    def vision(self, choice: BackendChoice | None = None) -> VisionModels:
        """The face models for `choice` (default: the settings' choice). An export passes
        the choice pinned to its project's embedder, which may load a second set."""
        choice = choice or self._config.backends
        if choice not in self._vision:
            self._vision[choice] = self._vision_loader(self.manager(), choice, self._config.device)
        return self._vision[choice]

    def generator(self) -> SyntheticFaceGenerator:
        """The diffusion pipeline on the chosen device, loaded once and shared by
        Regenerate and every export; raises ModelUnavailableError naming a missing model."""
        if self._generator is None:
            # torch/diffusers are imported only when someone generates a face.
            from anonnet_studio.app.synthetic import compute_device
            from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator

            device = compute_device(self._config.device)
            self._generator = SyntheticFaceGenerator.load(self.manager().resolve, device)
        return self._generator

    def verifier(self, leak_check_embedder: str | None) -> EmbeddingVerifier:
        """The anonymity check for a project whose leak check uses `leak_check_embedder`
        (it embeds with another network; see `app.synthetic.anonymity_verifier`)."""
        if leak_check_embedder not in self._verifiers:
            from anonnet_studio.app.synthetic import anonymity_verifier

            self._verifiers[leak_check_embedder] = anonymity_verifier(
                self.manager(), self.vision().detector, leak_check_embedder
            )
        return self._verifiers[leak_check_embedder]

    def speaker_encoder(self) -> SpeakerEncoder:
        """The embedded GE2E voice encoder that checks a disguise (never downloads)."""
        if self._speaker_encoder is None:
            from anonnet_studio.core.voice.speaker_encoder import MODEL_NAME, load_speaker_encoder

            self._speaker_encoder = load_speaker_encoder(self.manager().resolve(MODEL_NAME))
        return self._speaker_encoder

    def reader(self, path: Path) -> VideoReader:
        """A reader kept open between preview frames, so stepping stays cheap."""
        path = Path(path)
        if self._reader is None or self._reader_path != path:
            self.close_reader()
            self._reader = VideoReader(path)
            self._reader_path = path
        return self._reader

    def preview_reader(self, path: Path, source_hash: str | None) -> VideoReader | None:
        """The source's short-GOP proxy for display, once built; until then None (the
        build starts in the background on the first call). Only the preview reads it:
        exports, analysis and generation read the source through `reader`."""
        if self._proxies is None or not source_hash:
            return None
        proxy = self._proxies.ready(source_hash)
        if proxy is None:
            self._proxies.start(Path(path), source_hash)
            return None
        if self._proxy_reader is None or self._proxy_path != proxy:
            self._close_proxy_reader()
            reader = VideoReader(proxy)
            if reader.frame_count != self.reader(path).frame_count:
                reader.close()  # not a frame-for-frame copy: never show wrong frames
                return None
            self._proxy_reader, self._proxy_path = reader, proxy
        return self._proxy_reader

    def _close_proxy_reader(self) -> None:
        if self._proxy_reader is not None:
            self._proxy_reader.close()
        self._proxy_reader, self._proxy_path = None, None

    def close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._reader = None
        self._reader_path = None
        self._close_proxy_reader()

    def close(self) -> None:
        """Release everything (called on the worker thread as it stops)."""
        if self._proxies is not None:
            self._proxies.stop()
        self.close_reader()
        self._vision = {}
        self._generator = None
        self._verifiers = {}
        self._speaker_encoder = None

    def describe(self) -> dict[str, Any]:
        return {
            "device": self._config.device,
            "offline": self._config.offline,
            "models_dir": str(self._config.models_dir) if self._config.models_dir else None,
            "face_models": self._config.backends.as_dict(),
        }
