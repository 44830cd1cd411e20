"""Loads the FAMS models from local folders (never the network) into a `FamsPipeline`.

Folders come from the model manager under the names of `resources/models/fams.json`;
each holds the files of one Hugging Face repository in that repository's layout:

- `face-anon-simple`: `unet/`, `referencenet/`, `conditioning_referencenet/` (diffusers
  UNets; the ReferenceNets' configs name the authors' class, the weights are a plain UNet's);
- `stable-diffusion-2-1`: `vae/` and `scheduler/` of Stable Diffusion 2.1;
- `clip-vit-large-patch14`: the CLIP checkpoint, of which the vision tower embeds faces.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import torch

from anonnet_studio.core.errors import AnonNetError, ModelError, ModelUnavailableError
from anonnet_studio.core.synthetic.fams.pipeline import FamsPipeline
from anonnet_studio.core.synthetic.fams.referencenet import ReferenceNet, ReferenceUNet

FACE_MODEL = "face-anon-simple"
BASE_MODEL = "stable-diffusion-2-1"
IMAGE_ENCODER_MODEL = "clip-vit-large-patch14"
FAMS_MODELS: tuple[str, ...] = (FACE_MODEL, BASE_MODEL, IMAGE_ENCODER_MODEL)

UNET_FOLDER = "unet"
REFERENCENET_FOLDER = "referencenet"
CONDITIONING_REFERENCENET_FOLDER = "conditioning_referencenet"

# Files whose absence means a folder is not (fully) downloaded.
_EXPECTED_FILES: dict[str, tuple[str, ...]] = {
    FACE_MODEL: tuple(
        f"{folder}/config.json"
        for folder in (UNET_FOLDER, REFERENCENET_FOLDER, CONDITIONING_REFERENCENET_FOLDER)
    ),
    BASE_MODEL: ("vae/config.json", "scheduler/scheduler_config.json"),
    IMAGE_ENCODER_MODEL: ("config.json", "preprocessor_config.json"),
}


def load_fams_pipeline(
    folders: Mapping[str, Path], device: str | torch.device, dtype: torch.dtype
) -> FamsPipeline:
    """The FAMS pipeline on `device` in `dtype`, with the published DDPM sampler.

    Raises `ModelUnavailableError` naming the model whose folder is missing or incomplete
    and `ModelError` when files are present but cannot be loaded.
    """
    for name in FAMS_MODELS:
        check_fams_folder(name, folders.get(name))
    # Deferred: importing diffusers takes seconds and only the compute thread needs it.
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPImageProcessor, CLIPVisionModel

    # Safetensors only: pickled weights could run code when loaded.
    weights = {
        "torch_dtype": dtype,
        "use_safetensors": True,
        "local_files_only": True,
        "low_cpu_mem_usage": importlib.util.find_spec("accelerate") is not None,
    }
    face = Path(folders[FACE_MODEL])
    with _model_errors(FACE_MODEL):
        unet = UNet2DConditionModel.from_pretrained(face / UNET_FOLDER, **weights)
        referencenet = UNet2DConditionModel.from_pretrained(face / REFERENCENET_FOLDER, **weights)
        conditioning = UNet2DConditionModel.from_pretrained(
            face / CONDITIONING_REFERENCENET_FOLDER, **weights
        )
    base = Path(folders[BASE_MODEL])
    with _model_errors(BASE_MODEL):
        vae = AutoencoderKL.from_pretrained(base / "vae", **weights)
        # The checkpoint names DDIM; the published sampler reads its noise schedule (and
        # v-prediction) into DDPM, as the authors' inference does.
        scheduler = DDPMScheduler.from_config(DDPMScheduler.load_config(base / "scheduler"))
    clip = Path(folders[IMAGE_ENCODER_MODEL])
    with _model_errors(IMAGE_ENCODER_MODEL), _quiet_transformers():
        image_encoder = CLIPVisionModel.from_pretrained(
            clip, dtype=dtype, use_safetensors=True, local_files_only=True
        )
        feature_extractor = CLIPImageProcessor.from_pretrained(clip, local_files_only=True)
    pipeline = FamsPipeline(
        vae=vae,
        unet=ReferenceUNet(unet),
        referencenet=ReferenceNet(referencenet),
        conditioning_referencenet=ReferenceNet(conditioning),
        image_encoder=image_encoder,
        feature_extractor=feature_extractor,
        scheduler=scheduler,
    )
    return pipeline.to(device)


def check_fams_folder(name: str, folder: Path | None) -> Path:
    """The folder, or `ModelUnavailableError` if it is missing or incomplete."""
    hint = "Download it with 'anonnet-studio models download " + name + "'."
    if folder is None or not Path(folder).is_dir():
        where = f" (no folder at {folder})." if folder is not None else "."
        raise ModelUnavailableError(f"The model '{name}' is not installed{where}", hint=hint)
    missing = [rel for rel in _EXPECTED_FILES.get(name, ()) if not (Path(folder) / rel).is_file()]
    if missing:
        raise ModelUnavailableError(
            f"The model '{name}' is incomplete: {', '.join(missing)} missing in {folder}.",
            hint=hint,
        )
    return Path(folder)


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """The CLIP checkpoint holds a text tower the vision model does not load; transformers
    lists each of its tensors as a warning, which says nothing to a user."""
    from transformers.utils import logging as transformers_logging

    previous = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(previous)


@contextmanager
def _model_errors(name: str) -> Iterator[None]:
    """Loader exceptions (OSError, ValueError, safetensors errors...) become a
    `ModelError` naming the model, so the user sees which download is broken."""
    try:
        yield
    except AnonNetError:
        raise
    except Exception as exc:
        raise ModelError(
            f"The model '{name}' could not be loaded: {exc}",
            hint="The download may be damaged or from another model; download it again.",
        ) from exc
