"""Our FAMS implementation against the authors' code, with the same random weights in both.

The tiny models are loaded by our real loader from the real layouts; the reference
networks are the authors' classes built from the same configs with the same state dicts
(strict). The VAE, CLIP image encoder and processor are diffusers'/transformers' own in
both, as in the authors' README. CPU, fp32; every output must agree within 1e-4, and the
last test shows the comparison fails when one constant of ours is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from anonnet_studio.core.synthetic.fams import pipeline as fams_pipeline_module
from anonnet_studio.core.synthetic.fams import referencenet as referencenet_module
from anonnet_studio.core.synthetic.fams.pipeline import FamsPipeline
from anonnet_studio.core.synthetic.fams.referencenet import (
    ReferenceNet,
    ReferenceUNet,
    self_attention_layers,
)
from tests.core.synthetic.conftest import read_frame
from tests.core.synthetic.fams.reference_code import (
    ReferenceCode,
    load_reference_code,
    reference_layer_names,
)
from tests.core.synthetic.fams.tiny_fams import EMBED_DIM, FACE_SIZE, tiny_unet_config

TOLERANCE = 1e-4
# The reference calls diffusers APIs with arguments 0.42 deprecates (its own warnings).
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
STEPS = 3
SEED = 7


@pytest.fixture(scope="module")
def reference() -> ReferenceCode:
    return load_reference_code()


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """A real face: the centre of frame 30 of lp_d18.mp4, at the tiny models' size."""
    frame = read_frame("lp_d18.mp4", 30)
    height, width = frame.shape[:2]
    side = min(height, width) // 2
    y0, x0 = (height - side) // 2, (width - side) // 2
    crop = frame[y0 : y0 + side, x0 : x0 + side]
    return cv2.resize(crop, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)


def _same_weights(cls: type[Any], unet: torch.nn.Module) -> Any:
    twin = cls(**unet.config)
    twin.load_state_dict(unet.state_dict(), strict=True)
    return twin.eval()


def _fresh_unet(unet: Any) -> Any:
    """A hook-free copy of a diffusers UNet (the wrappers hook the modules they get)."""
    from diffusers import UNet2DConditionModel

    return _same_weights(UNet2DConditionModel, unet)


@pytest.fixture(scope="module")
def reference_pipeline(reference: ReferenceCode, fams_pipeline: FamsPipeline) -> Any:
    from diffusers import DDPMScheduler

    pipe = reference.StableDiffusionReferenceNetPipeline(
        unet=_same_weights(reference.UNet2DConditionModel, fams_pipeline.unet.unet),
        referencenet=_same_weights(reference.ReferenceNetModel, fams_pipeline.referencenet.unet),
        conditioning_referencenet=_same_weights(
            reference.ReferenceNetModel, fams_pipeline.conditioning_referencenet.unet
        ),
        vae=fams_pipeline.vae,
        feature_extractor=fams_pipeline.feature_extractor,
        image_encoder=fams_pipeline.image_encoder,
        scheduler=DDPMScheduler.from_config(fams_pipeline.scheduler.config),
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _run_reference(pipe: Any, face: np.ndarray, degree: float, guidance: float) -> np.ndarray:
    image = Image.fromarray(face)
    with torch.no_grad():
        output = pipe(
            source_image=image,
            conditioning_image=image,
            num_inference_steps=STEPS,
            guidance_scale=guidance,
            # The README's generator: the global one, which the reference also draws its
            # VAE samples and DDPM noise from.
            generator=torch.manual_seed(SEED),
            anonymization_degree=degree,
            width=FACE_SIZE,
            height=FACE_SIZE,
            output_type="np",
        )
    return np.asarray(output.images, dtype=np.float32)


def _run_ours(
    pipeline: FamsPipeline, face: np.ndarray, degree: float = 1.25, guidance: float = 4.0
) -> np.ndarray:
    generator = torch.Generator().manual_seed(SEED)
    return pipeline(face, degree=degree, guidance=guidance, steps=STEPS, generator=generator)


def _max_diff(a: Any, b: Any) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())


@pytest.mark.parametrize("transformer_layers", [1, 2])
def test_referencenet_features_match_the_reference(
    reference: ReferenceCode, transformer_layers: int
) -> None:
    from diffusers import UNet2DConditionModel

    torch.manual_seed(transformer_layers)
    unet = UNet2DConditionModel(**tiny_unet_config(transformer_layers)).eval()
    theirs = _same_weights(reference.ReferenceNetModel, unet)
    ours = ReferenceNet(unet)
    latents = torch.randn(2, 4, FACE_SIZE // 8, FACE_SIZE // 8)
    embeds = torch.randn(2, 1, EMBED_DIM)
    with torch.no_grad():
        features = ours(latents, embeds)
        _, states = theirs(
            sample=latents, timestep=0, encoder_hidden_states=embeds, return_dict=False
        )
    names = reference_layer_names(unet)
    compared = 0
    for part, blocks in enumerate(states):
        for block, block_states in enumerate(blocks):
            assert len(block_states) == len(names[part][block])
            for name, state in zip(names[part][block], block_states, strict=True):
                assert features[name].shape == state.shape
                assert _max_diff(features[name], state) < TOLERANCE, name
                compared += 1
    assert compared == len(features) == len(self_attention_layers(unet))


@pytest.mark.parametrize("transformer_layers", [1, 2])
def test_one_unet_call_with_reference_features_matches(
    reference: ReferenceCode, transformer_layers: int
) -> None:
    from diffusers import UNet2DConditionModel

    torch.manual_seed(10 + transformer_layers)
    unet = UNet2DConditionModel(**tiny_unet_config(transformer_layers)).eval()
    theirs = _same_weights(reference.UNet2DConditionModel, unet)
    ours = ReferenceUNet(unet)
    names = reference_layer_names(unet)
    side = FACE_SIZE // 8
    # Random features for every ReferenceNet layer, two references' tokens side by side,
    # at each layer's token count (h * w of its block) and width.
    tokens = {"down_blocks.0": side * side, "mid_block": (side // 2) ** 2, "up_blocks.1": side**2}
    widths = {"down_blocks.0": 32, "mid_block": 64, "up_blocks.1": 32}
    features: dict[str, torch.Tensor] = {}
    nested: list[list[tuple[torch.Tensor, ...]]] = []
    for blocks in names:
        nested.append([])
        for block_names in blocks:
            block = block_names[0].split(".attentions.")[0]
            states = tuple(torch.randn(2, 2 * tokens[block], widths[block]) for _ in block_names)
            features.update(zip(block_names, states, strict=True))
            nested[-1].append(states)
    sample = torch.randn(2, 4, side, side)
    context = torch.randn(2, 2, EMBED_DIM)
    with torch.no_grad():
        mine = ours(sample, 500, context, features)
        expected = theirs(
            sample=sample,
            timestep=500,
            encoder_hidden_states=context,
            referencenet_states=nested,
            return_dict=False,
        )[0]
    assert _max_diff(mine, expected) < TOLERANCE
    # The reference features matter: without them the prediction is far off.
    with torch.no_grad():
        plain = _fresh_unet(unet)(sample, 500, encoder_hidden_states=context).sample
    assert _max_diff(plain, expected) > 100 * TOLERANCE


@pytest.mark.parametrize(
    ("degree", "guidance"),
    [(1.25, 4.0), (0.0, 4.0), (1.25, 1.0)],
    ids=["published", "degree-0", "no-guidance"],
)
def test_full_pipeline_run_matches_the_reference(
    fams_pipeline: FamsPipeline,
    reference_pipeline: Any,
    face: np.ndarray,
    degree: float,
    guidance: float,
) -> None:
    expected = _run_reference(reference_pipeline, face, degree, guidance)
    ours = _run_ours(fams_pipeline, face, degree, guidance)
    assert ours.shape == expected.shape == (1, FACE_SIZE, FACE_SIZE, 3)
    assert _max_diff(ours, expected) < TOLERANCE


def _timestep_one(monkeypatch: pytest.MonkeyPatch, pipeline: FamsPipeline) -> FamsPipeline:
    monkeypatch.setattr(referencenet_module, "REFERENCE_TIMESTEP", 1)
    return pipeline


def _own_layer_wiring(monkeypatch: pytest.MonkeyPatch, pipeline: FamsPipeline) -> FamsPipeline:
    # Each UNet layer reading the ReferenceNet layer of its own name, not the block's first.
    monkeypatch.setattr(referencenet_module, "reference_layer", lambda name: name)
    unet = ReferenceUNet(_fresh_unet(pipeline.unet.unet))
    return FamsPipeline(
        vae=pipeline.vae,
        unet=unet,
        referencenet=pipeline.referencenet,
        conditioning_referencenet=pipeline.conditioning_referencenet,
        image_encoder=pipeline.image_encoder,
        feature_extractor=pipeline.feature_extractor,
        scheduler=pipeline.scheduler,
    )


def _empty_identity_from_face(
    monkeypatch: pytest.MonkeyPatch, pipeline: FamsPipeline
) -> FamsPipeline:
    # Mixing toward the face instead of the empty identity.
    def mix(features: torch.Tensor, degree: float) -> torch.Tensor:
        empty, face = features.chunk(2)
        return torch.cat([empty, face * (1.0 - degree) + face * degree])

    monkeypatch.setattr(fams_pipeline_module, "mix_identity", mix)
    return pipeline


PERTURBATIONS: dict[str, tuple[Callable[..., FamsPipeline], dict[str, float]]] = {
    "reference-timestep-1": (_timestep_one, {}),
    "degree-1.3": (lambda _mp, pipeline: pipeline, {"degree": 1.3}),
    "guidance-4.1": (lambda _mp, pipeline: pipeline, {"guidance": 4.1}),
    "own-layer-wiring": (_own_layer_wiring, {}),
    "identity-mix": (_empty_identity_from_face, {}),
}


@pytest.mark.parametrize("perturbation", sorted(PERTURBATIONS))
def test_the_comparison_fails_when_a_constant_changes(
    fams_pipeline: FamsPipeline,
    reference_pipeline: Any,
    face: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    perturbation: str,
) -> None:
    expected = _run_reference(reference_pipeline, face, 1.25, 4.0)
    assert _max_diff(_run_ours(fams_pipeline, face), expected) < TOLERANCE
    change, arguments = PERTURBATIONS[perturbation]
    changed = change(monkeypatch, fams_pipeline)
    assert _max_diff(_run_ours(changed, face, **arguments), expected) > TOLERANCE


# Stable Diffusion 2.1's UNet, which all three FAMS networks share.
SD21_UNET = {
    "sample_size": 96,
    "layers_per_block": 2,
    "block_out_channels": (320, 640, 1280, 1280),
    "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    "cross_attention_dim": 1024,
    "attention_head_dim": (5, 10, 20, 20),
    "use_linear_projection": True,
    "upcast_attention": True,
}


def test_full_size_networks_share_one_weight_layout(reference: ReferenceCode) -> None:
    """At the published size (no weights: meta tensors), the authors' ReferenceNet and UNet
    have exactly the tensors of diffusers' UNet, so their checkpoints load into ours, and
    every layer our UNet reads from exists in the ReferenceNet."""
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        ours = UNet2DConditionModel(**SD21_UNET)
        theirs = [
            reference.ReferenceNetModel(**SD21_UNET),
            reference.UNet2DConditionModel(**SD21_UNET),
        ]
    layout = {name: tuple(t.shape) for name, t in ours.state_dict().items()}
    for network in theirs:
        assert {name: tuple(t.shape) for name, t in network.state_dict().items()} == layout
    layers = self_attention_layers(ours)
    assert len(layers) == 16  # 3 down blocks x 2, the mid block, 3 up blocks x 3
    assert {referencenet_module.reference_layer(name) for name in layers} <= set(layers)
