"""Tiny randomly initialised stand-ins for the downloaded synthetic-face models.

Each is saved in the on-disk layout of the real Hugging Face repository (folder named
`owner--repo`, files at the manifest's paths), so the real loading code reads them. The
architectures match the real ones where the loader depends on it: a 4-channel UNet (the
Realistic Vision diffusers UNet is not an inpainting UNet), a VAE that downsamples by 8,
controlnet_aux's exact annotator networks and file names, and a BiSeNet-shaped ONNX model.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from anonnet_studio.core.resources import resources_dir

MANIFESTS = (
    resources_dir() / "models" / "diffusion.json",
    resources_dir() / "models" / "downloaded.json",
)
DIFFUSION_NAMES = tuple(
    m["name"] for m in json.loads(MANIFESTS[0].read_text(encoding="utf-8"))["models"]
)
PARSER_NAME = "bisenet-face-parsing"

# Scheduler config of an SD 1.5 checkpoint (the real one names PNDM; only the noise
# schedule is reused by the loader).
SD15_SCHEDULER_CONFIG = {
    "_class_name": "PNDMScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}


def manifest_folders(root: Path) -> dict[str, Path]:
    """{manifest name: root / 'owner--repo'} for the diffusion models and the parser."""
    models = []
    for manifest in MANIFESTS:
        models += json.loads(manifest.read_text(encoding="utf-8"))["models"]
    wanted = [m for m in models if m["name"] in (*DIFFUSION_NAMES, PARSER_NAME)]
    # A model with mirrors lists its sources per file; the first one names the folder.
    sources = {m["name"]: m.get("source") or m["files"][0]["sources"][0] for m in wanted}
    return {name: root / source["repo"].replace("/", "--") for name, source in sources.items()}


def build_tiny_models(root: Path, seed: int = 0) -> dict[str, Path]:
    """Write every tiny model under `root`; returns the manifest-name -> folder map."""
    torch.manual_seed(seed)
    folders = manifest_folders(root)
    _save_base_model(folders["realistic-vision-v5"])
    _save_vae(folders["sd-vae-ft-mse"])
    for name in ("controlnet-inpaint", "controlnet-lineart", "controlnet-openpose"):
        _save_controlnet(folders[name])
    _save_annotators(folders["controlnet-annotators"])
    _save_bisenet(folders["bisenet-face-parsing"] / "79999_iter.pth")
    return folders


def install_tiny_models(models_dir: Path, seed: int = 0) -> dict[str, Path]:
    """Every tiny model in a user's models folder (`<models_dir>/<manifest name>/`), where
    `ModelManager` looks for models a user copied by hand; returns name -> folder."""
    staging = models_dir / ".staging"
    installed = {}
    for name, folder in build_tiny_models(staging, seed).items():
        installed[name] = models_dir / name
        folder.rename(installed[name])
    staging.rmdir()
    return installed


def _tiny_unet() -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
    )


def _save_base_model(folder: Path) -> None:
    from transformers import CLIPTextConfig, CLIPTextModel

    _tiny_unet().save_pretrained(folder / "unet")
    vocab = _write_tokenizer(folder / "tokenizer")
    config = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=32,
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    CLIPTextModel(config).save_pretrained(folder / "text_encoder")
    (folder / "scheduler").mkdir(parents=True, exist_ok=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(SD15_SCHEDULER_CONFIG))


def _write_tokenizer(folder: Path) -> dict[str, int]:
    """A byte-level CLIP BPE vocabulary with a handful of merges, written as the real
    repository has it (vocab.json, merges.txt, tokenizer_config.json, special tokens)."""
    folder.mkdir(parents=True, exist_ok=True)
    chars = _bytes_to_unicode()
    vocab: dict[str, int] = {}
    for token in chars + [c + "</w>" for c in chars]:
        vocab[token] = len(vocab)
    merges = [("p", "h"), ("ph", "o"), ("pho", "t"), ("phot", "o</w>"), ("m", "a"), ("ma", "n</w>")]
    for left, right in merges:
        vocab[left + right] = len(vocab)
    for special in ("<|startoftext|>", "<|endoftext|>"):
        vocab[special] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    merge_lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    (folder / "merges.txt").write_text("\n".join(merge_lines) + "\n", encoding="utf-8")
    specials = {
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
    }
    config = {
        **specials,
        "add_prefix_space": False,
        "do_lower_case": True,
        "errors": "replace",
        "model_max_length": 77,
        "tokenizer_class": "CLIPTokenizer",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps(specials), encoding="utf-8")
    return vocab


def _bytes_to_unicode() -> list[str]:
    # CLIP's byte -> printable-character table (GPT-2 byte-level BPE), in vocabulary order.
    byte_values = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    codes = byte_values[:]
    extra = 0
    for b in range(256):
        if b not in byte_values:
            byte_values.append(b)
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


def _save_vae(folder: Path) -> None:
    from diffusers import AutoencoderKL

    AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 16, 16, 16),  # 4 levels: latents 8x smaller, like SD
        latent_channels=4,
        norm_num_groups=8,
        layers_per_block=1,
        sample_size=128,
    ).save_pretrained(folder)


def _save_controlnet(folder: Path) -> None:
    from diffusers import ControlNetModel

    controlnet = ControlNetModel.from_unet(
        _tiny_unet(), conditioning_embedding_out_channels=(8, 16, 16, 32)
    )
    # from_unet zero-initialises the output convolutions; random values make each control
    # image actually reach the UNet, as trained weights do.
    with torch.no_grad():
        for param in controlnet.parameters():
            if not param.abs().sum():
                param.normal_(0.0, 0.02)
    controlnet.save_pretrained(folder)


def _save_annotators(folder: Path) -> None:
    """controlnet_aux's real networks with random weights, under the real file names.

    The OpenPose networks have about 130 M parameters, so their random weights are views
    into one small random buffer: the files stay a few hundred kB instead of 500 MB.
    """
    with warnings.catch_warnings():  # controlnet_aux's __init__ warns about timm et al.
        warnings.simplefilter("ignore")
        from controlnet_aux.lineart import Generator
        from controlnet_aux.open_pose.face import FaceNet
        from controlnet_aux.open_pose.model import bodypose_model, handpose_model

    folder.mkdir(parents=True, exist_ok=True)
    buffer = torch.randn(1 << 16) * 0.01
    for name in ("sk_model.pth", "sk_model2.pth"):
        torch.save(_compact_random(Generator(3, 1, 3).state_dict(), buffer), folder / name)
    for name, net in (
        ("body_pose_model.pth", bodypose_model),
        ("hand_pose_model.pth", handpose_model),
    ):
        weights = _compact_random(net().state_dict(), buffer)
        # OpenPose checkpoints name their tensors without the block prefix
        # (controlnet_aux.open_pose.util.transfer adds it back).
        torch.save({key.split(".", 1)[1]: value for key, value in weights.items()}, folder / name)
    torch.save(_compact_random(FaceNet().state_dict(), buffer), folder / "facenet.pth")


def _compact_random(
    state: dict[str, torch.Tensor], buffer: torch.Tensor
) -> dict[str, torch.Tensor]:
    out = {}
    for key, tensor in state.items():
        if not tensor.is_floating_point():
            out[key] = tensor.clone()
            continue
        # Small, pairwise-different strides give every element a pseudo-random value.
        strides = [1]
        for prime in (3, 7, 13, 29)[: tensor.dim() - 1]:
            strides.insert(0, prime)
        out[key] = buffer.as_strided(tuple(tensor.shape), tuple(strides))
    return out


def _save_bisenet(path: Path) -> None:
    """The real BiSeNet architecture with random weights, as a plain state dict."""
    from anonnet_studio.core.synthetic.bisenet import BiSeNet

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(_compact_random(BiSeNet().state_dict(), torch.randn(1 << 16) * 0.05), path)
