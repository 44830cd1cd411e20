"""The FAMS sampler: an aligned face in, the same face with another identity out.

Two ReferenceNets read the face. The *conditioning* one supplies what must stay (pose,
expression, gaze, lighting, background); the *identity* one supplies who the face is.
Classifier-free guidance runs two branches:

- the unconditional branch sees an empty identity: the identity ReferenceNet run on
  all-zero latents with all-zero image embeddings;
- the conditional branch sees the face's identity pushed past that empty identity by the
  anonymization degree d: embeddings scaled by (1 - d) and features
  `(1 - d) * face + d * empty`.

d = 0 keeps the identity (a plain reconstruction), d = 1 removes it, and d > 1 (the
published 1.25) moves away from it. Both branches share the conditioning features, and
the noise prediction is `(1 - g) * unconditional + g * conditional` for guidance g > 1.

Every random draw (the two VAE posterior samples, the initial noise, the DDPM noise of
each step) comes from the one `torch.Generator` passed in, in that order, so a seed gives
the same face on every run and device.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from anonnet_studio.core.synthetic.fams.referencenet import (
    ReferenceFeatures,
    ReferenceNet,
    ReferenceUNet,
    concat_features,
)

if TYPE_CHECKING:
    from diffusers import AutoencoderKL, DDPMScheduler
    from transformers import CLIPImageProcessor, CLIPVisionModel

# diffusers' callback_on_step_end: (pipeline, step index, timestep, tensors) -> updates.
StepCallback = Callable[[Any, int, Any, dict[str, torch.Tensor]], dict[str, torch.Tensor]]


@dataclass(frozen=True, slots=True)
class FaceReference:
    """What the ReferenceNets read from a batch of faces (built once per generation)."""

    identity_latents: torch.Tensor  # (B, C, h, w), for the identity ReferenceNet
    conditioning_latents: torch.Tensor  # (B, C, h, w), for the conditioning ReferenceNet
    image_embeds: torch.Tensor  # (B, 1, dim), CLIP image embedding of each face


class FamsPipeline:
    """Runs FAMS on faces already aligned and sized for the model (512 px for the
    published weights). Create it with `loading.load_fams_pipeline`."""

    def __init__(
        self,
        *,
        vae: AutoencoderKL,
        unet: ReferenceUNet,
        referencenet: ReferenceNet,
        conditioning_referencenet: ReferenceNet,
        image_encoder: CLIPVisionModel,
        feature_extractor: CLIPImageProcessor,
        scheduler: DDPMScheduler,
    ) -> None:
        # Any: diffusers builds its model and scheduler API at run time (lazy modules,
        # config-registered attributes), which type checkers cannot see.
        self.vae: Any = cast(Any, vae)
        self.unet = unet
        self.referencenet = referencenet
        self.conditioning_referencenet = conditioning_referencenet
        self.image_encoder = image_encoder
        self.feature_extractor = feature_extractor
        self.scheduler: Any = cast(Any, scheduler)
        self.vae_scale_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)

    def modules(self) -> tuple[Any, ...]:
        return (
            self.vae,
            self.unet,
            self.referencenet,
            self.conditioning_referencenet,
            self.image_encoder,
        )

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> FamsPipeline:
        for module in self.modules():
            # diffusers warns about any dtype argument, even None.
            module.to(device) if dtype is None else module.to(device, dtype)
            module.eval()
        return self

    @property
    def device(self) -> torch.device:
        return next(self.unet.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.dtype

    @torch.inference_mode()
    def __call__(
        self,
        faces: np.ndarray,
        *,
        degree: float = 1.25,
        guidance: float = 4.0,
        steps: int = 25,
        generator: torch.Generator | None = None,
        callback_on_step_end: StepCallback | None = None,
        callback_on_step_end_tensor_inputs: Sequence[str] = ("latents",),
    ) -> np.ndarray:
        """Anonymized faces, float32 RGB in [0, 1], (B, H, W, 3).

        `faces` is uint8 RGB, (H, W, 3) or (B, H, W, 3), H and W multiples of the VAE's
        downsampling factor. `callback_on_step_end` is called after every denoising step
        as in diffusers; raising there stops the run before the next UNet call.
        """
        if steps < 1:
            raise ValueError("steps must be at least 1")
        if degree < 0:
            raise ValueError("the anonymization degree must be >= 0")
        pixels = self._pixels(faces)
        reference = self.encode_faces(pixels, generator)
        guided = guidance > 1.0 and self.unet.config.time_cond_proj_dim is None
        two_branches = guided or degree > 0
        context, features = self.reference_context(reference, degree, two_branches)

        self.scheduler.set_timesteps(steps, device=self.device)
        latents = self.initial_latents(pixels, generator)
        for index, timestep in enumerate(self.scheduler.timesteps):
            model_input = torch.cat([latents] * 2) if two_branches else latents
            model_input = self.scheduler.scale_model_input(model_input, timestep)
            noise = self.unet(model_input, timestep, context, features)
            if two_branches:
                unconditional, conditional = noise.chunk(2)
                noise = (
                    (1 - guidance) * unconditional + guidance * conditional
                    if guided
                    else conditional
                )
            latents = self.scheduler.step(
                noise, timestep, latents, generator=generator, return_dict=False
            )[0]
            if callback_on_step_end is not None:
                tensors = {"latents": latents}
                wanted = {k: tensors[k] for k in callback_on_step_end_tensor_inputs}
                updates = callback_on_step_end(self, index, timestep, wanted)
                latents = updates.get("latents", latents) if updates else latents
        return self.decode(latents)

    def _pixels(self, faces: np.ndarray) -> torch.Tensor:
        array = np.asarray(faces)
        if array.ndim == 3:
            array = array[None]
        if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8:
            raise ValueError("faces must be uint8 RGB, (H, W, 3) or (B, H, W, 3)")
        if array.shape[1] % self.vae_scale_factor or array.shape[2] % self.vae_scale_factor:
            raise ValueError(f"face sides must be multiples of {self.vae_scale_factor}")
        tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(0, 3, 1, 2)
        return tensor.to(torch.float32) / 255.0  # (B, 3, H, W) in [0, 1], on the CPU

    def encode_faces(
        self, pixels: torch.Tensor, generator: torch.Generator | None
    ) -> FaceReference:
        """Two VAE posterior samples and the CLIP image embedding of each face."""
        features = self.feature_extractor(
            images=pixels, do_rescale=False, return_tensors="pt"
        ).pixel_values
        encoder_dtype = self.image_encoder.dtype
        embeds = self.image_encoder(features.to(self.device, encoder_dtype)).pooler_output
        normalized = (pixels * 2.0 - 1.0).to(self.device, self.vae.dtype)
        posterior = self.vae.encode(normalized).latent_dist
        scale = self.vae.config.scaling_factor
        # Two draws, identity first: the published sampler encodes the face once for
        # each ReferenceNet, and the seed's noise stream depends on that order.
        identity = posterior.sample(generator=generator) * scale
        conditioning = posterior.sample(generator=generator) * scale
        return FaceReference(identity, conditioning, embeds.unsqueeze(1))

    def reference_context(
        self, reference: FaceReference, degree: float, two_branches: bool
    ) -> tuple[torch.Tensor, ReferenceFeatures]:
        """(cross-attention context, reference features) for the UNet: identity and
        conditioning tokens side by side, unconditional branch first."""
        embeds = reference.image_embeds.to(self.referencenet.dtype)
        identity_latents = reference.identity_latents.to(self.referencenet.dtype)
        if two_branches:
            identity_embeds = torch.cat([torch.zeros_like(embeds), embeds * (1.0 - degree)])
            identity_latents = torch.cat([torch.zeros_like(identity_latents), identity_latents])
        else:
            identity_embeds = embeds
        identity = self.referencenet(identity_latents, identity_embeds)
        if two_branches:
            identity = {name: mix_identity(features, degree) for name, features in identity.items()}
        conditioning = self.conditioning_referencenet(
            reference.conditioning_latents.to(self.conditioning_referencenet.dtype), embeds
        )
        conditioning_embeds = embeds
        if two_branches:
            # Both branches see the same face, so its features are computed once.
            conditioning = {name: torch.cat([f, f]) for name, f in conditioning.items()}
            conditioning_embeds = torch.cat([embeds, embeds])
        context = torch.cat([identity_embeds, conditioning_embeds], dim=1)
        return context, concat_features(identity, conditioning)

    def initial_latents(
        self, pixels: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        from diffusers.utils.torch_utils import randn_tensor

        batch, _, height, width = pixels.shape
        shape = (
            batch,
            self.unet.config.in_channels,
            height // self.vae_scale_factor,
            width // self.vae_scale_factor,
        )
        noise = randn_tensor(
            shape, generator=generator, device=self.device, dtype=self.image_encoder.dtype
        )
        return noise * self.scheduler.init_noise_sigma

    def decode(self, latents: torch.Tensor) -> np.ndarray:
        image = self.vae.decode(latents.to(self.vae.dtype) / self.vae.config.scaling_factor).sample
        image = (image.float() / 2.0 + 0.5).clamp(0.0, 1.0)
        return image.permute(0, 2, 3, 1).cpu().numpy()


def mix_identity(features: torch.Tensor, degree: float) -> torch.Tensor:
    """Identity features of the two guidance branches, (empty, face): the face's half
    becomes `(1 - d) * face + d * empty`."""
    empty, face = features.chunk(2)
    return torch.cat([empty, face * (1.0 - degree) + empty * degree])
