"""The two networks of FAMS around diffusers' stock `UNet2DConditionModel`.

A ReferenceNet is a UNet run once, at timestep 0, on the latents of a reference face; its
features are the inputs of every self-attention layer (`...transformer_blocks.N.attn1`).
The denoising UNet then lets each of its own self-attention layers attend over
`[its own tokens, reference tokens]`: the keys and values of the attention are computed
on that concatenation, the queries on its own tokens only.

Both wrap an unchanged diffusers UNet and work through forward pre-hooks on the attention
modules, so the weights load with `UNet2DConditionModel.from_pretrained` and any
attention processor diffusers picks (SDPA, sliced, xformers) computes the attention.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import torch

if TYPE_CHECKING:
    from diffusers import UNet2DConditionModel

# The reference features describe the clean image: the ReferenceNet always sees t = 0.
REFERENCE_TIMESTEP = 0

# Self-attention layer name -> its input, (batch, tokens, channels).
ReferenceFeatures = dict[str, torch.Tensor]

_SELF_ATTENTION = re.compile(r"^(?P<block>.+\.attentions\.)(?P<index>\d+)(?P<layer>\..+\.attn1)$")


def self_attention_layers(unet: Any) -> dict[str, torch.nn.Module]:  # Any: a diffusers UNet
    """{module name: module} of every transformer self-attention layer of `unet`."""
    return {
        name: module
        for name, module in unet.named_modules()
        if _SELF_ATTENTION.match(name) and ".transformer_blocks." in name
    }


def reference_layer(name: str) -> str:
    """The ReferenceNet layer whose features the UNet layer `name` attends to.

    Every attention module of a UNet block reads the features of the *first* attention
    module of the same block in the ReferenceNet (transformer layer i reads layer i). The
    published FAMS weights were trained with this wiring, so it is kept as it is, even
    though the features of the block's other attention modules go unused.
    """
    match = _SELF_ATTENTION.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not a transformer self-attention layer")
    return f"{match['block']}0{match['layer']}"


class ReferenceNet(torch.nn.Module):
    """Extracts reference features from image latents with a UNet's weights."""

    def __init__(self, unet: UNet2DConditionModel) -> None:
        super().__init__()
        self.unet: Any = cast(Any, unet)  # diffusers' lazy modules hide its call signature
        self._captured: ReferenceFeatures | None = None
        for name, module in self_attention_layers(self.unet).items():
            module.register_forward_pre_hook(self._capture_hook(name), with_kwargs=True)

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.dtype

    def _capture_hook(self, name: str) -> Any:
        def capture(
            _module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> None:
            if self._captured is not None:
                self._captured[name] = args[0] if args else kwargs["hidden_states"]

        return capture

    def forward(self, latents: torch.Tensor, image_embeds: torch.Tensor) -> ReferenceFeatures:
        """Features of `latents` (B, C, h, w) under the cross-attention context
        `image_embeds` (B, tokens, dim)."""
        self._captured = {}
        try:
            # The UNet's own output is not used; only the attention inputs are.
            self.unet(latents, REFERENCE_TIMESTEP, encoder_hidden_states=image_embeds)
            return self._captured
        finally:
            self._captured = None


class ReferenceUNet(torch.nn.Module):
    """A denoising UNet whose self-attention layers also attend to reference features."""

    def __init__(self, unet: UNet2DConditionModel) -> None:
        super().__init__()
        self.unet: Any = cast(Any, unet)  # diffusers' lazy modules hide its call signature
        self._reference: Mapping[str, torch.Tensor] | None = None
        for name, module in self_attention_layers(self.unet).items():
            module.register_forward_pre_hook(
                self._attend_hook(reference_layer(name)), with_kwargs=True
            )

    @property
    def config(self) -> Any:
        return self.unet.config

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.dtype

    def _attend_hook(self, source: str) -> Any:
        def attend(
            _module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> tuple[tuple[Any, ...], dict[str, Any]]:
            if self._reference is None:
                raise RuntimeError("ReferenceUNet layers were called outside forward()")
            hidden = args[0] if args else kwargs["hidden_states"]
            reference = self._reference[source].to(hidden.dtype)
            kwargs = {**kwargs, "encoder_hidden_states": torch.cat([hidden, reference], dim=1)}
            return args, kwargs

        return attend

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor,
        reference: Mapping[str, torch.Tensor],
    ) -> torch.Tensor:
        """The UNet's prediction for `sample`; `reference` maps ReferenceNet layer names
        to features with the same batch size as `sample`."""
        self._reference = reference
        try:
            output = self.unet(sample, timestep, encoder_hidden_states=encoder_hidden_states)
            return output.sample
        finally:
            self._reference = None


def concat_features(first: ReferenceFeatures, second: ReferenceFeatures) -> ReferenceFeatures:
    """Per layer, the tokens of `first` followed by those of `second` (the UNet attends to
    both references at once)."""
    return {name: torch.cat([first[name], second[name]], dim=1) for name in first}
