"""Loads SD 1.5 (Realistic Vision V5.0) + three ControlNets into one diffusers
`StableDiffusionControlNetInpaintPipeline` from local folders, never from the network.

Folders come from the model manager (`manager.resolve(name) -> Path`) under the names of
`resources/models/diffusion.json`; each holds the files of one Hugging Face repository in
that repository's layout.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from anonnet_studio.core.errors import AnonNetError, ModelError, ModelUnavailableError

if TYPE_CHECKING:
    from diffusers import StableDiffusionControlNetInpaintPipeline

BASE_MODEL = "realistic-vision-v5"
VAE_MODEL = "sd-vae-ft-mse"
CONTROLNET_MODELS: tuple[str, str, str] = (
    "controlnet-inpaint",
    "controlnet-lineart",
    "controlnet-openpose",
)
ANNOTATOR_MODEL = "controlnet-annotators"
# Declared in downloaded.json (shared with other stages), optional here.
PARSER_MODEL = "bisenet-face-parsing"
PIPELINE_MODELS: tuple[str, ...] = (BASE_MODEL, VAE_MODEL, *CONTROLNET_MODELS)
REQUIRED_MODELS: tuple[str, ...] = (*PIPELINE_MODELS, ANNOTATOR_MODEL)

ModelResolver = Callable[[str], Path]

# Files whose absence means the folder is not (fully) downloaded, per model.
_EXPECTED_FILES: dict[str, tuple[str, ...]] = {
    BASE_MODEL: (
        "unet/config.json",
        "text_encoder/config.json",
        "tokenizer/vocab.json",
        "tokenizer/merges.txt",
        "scheduler/scheduler_config.json",
    ),
    VAE_MODEL: ("config.json",),
    **{name: ("config.json",) for name in CONTROLNET_MODELS},
}


def resolve_folders(resolver: ModelResolver, names: Iterable[str]) -> dict[str, Path]:
    """{name: folder} for each model name, via the model manager's resolver."""
    return {name: Path(resolver(name)) for name in names}


def load_pipeline(
    folders: Mapping[str, Path],
    device: str | torch.device,
    dtype: torch.dtype,
    *,
    cpu_offload: bool = False,
) -> StableDiffusionControlNetInpaintPipeline:
    """Build the inpainting pipeline (DPMSolver++ multistep, three ControlNets in the
    order inpaint, lineart, openpose) and move it to `device`.

    Raises `ModelUnavailableError` naming the missing model when a folder is incomplete and
    `ModelError` when weights are present but cannot be loaded.
    """
    for name in PIPELINE_MODELS:
        check_model_folder(name, folders.get(name))
    # Deferred: importing diffusers takes seconds and is only needed on the compute thread.
    from diffusers import (
        AutoencoderKL,
        ControlNetModel,
        DPMSolverMultistepScheduler,
        StableDiffusionControlNetInpaintPipeline,
        UNet2DConditionModel,
    )
    from diffusers.models import MultiControlNetModel
    from transformers import CLIPTextModel, CLIPTokenizer

    base = folders[BASE_MODEL]
    # Safetensors only: pickled weights could run code when loaded.
    weights = {
        "torch_dtype": dtype,
        "use_safetensors": True,
        "local_files_only": True,
        "low_cpu_mem_usage": _has_accelerate(),
    }
    with _load_errors_as_model_errors(BASE_MODEL):
        unet = UNet2DConditionModel.from_pretrained(base / "unet", **weights)
        text_encoder = CLIPTextModel.from_pretrained(
            base / "text_encoder", dtype=dtype, use_safetensors=True, local_files_only=True
        )
        tokenizer = CLIPTokenizer.from_pretrained(base / "tokenizer", local_files_only=True)
        scheduler_config = DPMSolverMultistepScheduler.load_config(base / "scheduler")
        # The checkpoint ships a PNDM/DEIS config; only its noise schedule is reused.
        scheduler = DPMSolverMultistepScheduler.from_config(
            scheduler_config,
            algorithm_type="dpmsolver++",
            solver_order=2,
            use_karras_sigmas=True,
        )
    with _load_errors_as_model_errors(VAE_MODEL):
        vae = AutoencoderKL.from_pretrained(folders[VAE_MODEL], **weights)
    controlnets = []
    for name in CONTROLNET_MODELS:
        with _load_errors_as_model_errors(name):
            controlnets.append(ControlNetModel.from_pretrained(folders[name], **weights))

    # Any: diffusers builds its pipeline API at run time, which type checkers cannot see.
    pipeline: Any = StableDiffusionControlNetInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        controlnet=MultiControlNetModel(controlnets),
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.set_progress_bar_config(disable=True)
    torch_device = torch.device(device)
    if cpu_offload and torch_device.type == "cuda":
        try:
            pipeline.enable_model_cpu_offload(device=torch_device)
        except ImportError as exc:
            raise ModelError(
                "Offloading models to the CPU needs the 'accelerate' package.",
                hint="Install it (pip install accelerate) or turn offloading off.",
            ) from exc
    else:
        pipeline.to(torch_device)
    if torch_device.type == "mps":
        # Attention slicing keeps peak memory in check on unified-memory Macs.
        pipeline.enable_attention_slicing()
    return pipeline


def _has_accelerate() -> bool:
    # Without accelerate diffusers cannot load weights lazily and warns once per model.
    return importlib.util.find_spec("accelerate") is not None


def check_model_folder(name: str, folder: Path | None) -> Path:
    """The folder, or `ModelUnavailableError` if it is missing or incomplete."""
    if folder is None or not Path(folder).is_dir():
        raise ModelUnavailableError(
            f"The model '{name}' is not installed"
            + (f" (no folder at {folder})." if folder is not None else "."),
            hint="Download it in the model manager, or point the manager at a folder that "
            "holds it.",
        )
    missing = [rel for rel in _EXPECTED_FILES.get(name, ()) if not (Path(folder) / rel).is_file()]
    if missing:
        raise ModelUnavailableError(
            f"The model '{name}' is incomplete: {', '.join(missing)} missing in {folder}.",
            hint="Download it again in the model manager.",
        )
    return Path(folder)


@contextmanager
def _load_errors_as_model_errors(name: str) -> Iterator[None]:
    """Turns loader exceptions (OSError, ValueError, safetensors errors, ...) into a
    `ModelError` that names the model, so the user sees which download is broken."""
    try:
        yield
    except AnonNetError:
        raise
    except Exception as exc:
        raise ModelError(
            f"The model '{name}' could not be loaded: {exc}",
            hint="The download may be damaged or from another model; download it again.",
        ) from exc
